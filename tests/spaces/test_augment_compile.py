"""Compiled policies: the numpy `Policy` and `to_keras_layer` (same program, same distribution).

The Keras layers on every backend: test_augment_layers.py."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from da_bridge import Discrete, DomainError, SearchSpace, SpaceError, siso_sequential
from da_bridge.spaces.augment import (
    Policy,
    augment_op,
    autoaugment_space,
    canonical_key,
    randaugment_space,
    random_apply,
    random_choice,
    to_keras_layer,
    to_policy,
)
from da_bridge.spaces.augment.ops import apply_transform, sample_params

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _images(kind: str, n: int = 16, seed: int = 0) -> tuple[np.ndarray, tuple | None]:
    rng = np.random.default_rng(seed)
    if kind == "uint8_rgb":
        return rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), None
    if kind == "digits":  # sklearn's digits: float in [0, 16]
        return (rng.integers(0, 17, (n, 8, 8, 1)) * 1.0).astype(np.float32), (0, 16)
    return rng.random((n, 16, 16, 3)), None  # float64 in [0, 1]


def _arch(kind: str, seed: int):
    space = autoaugment_space(3, 2) if kind == "autoaugment" else randaugment_space()
    return space.sample(seed)


def _gate(op: str, magnitude: float, probability: float) -> SearchSpace:
    return SearchSpace(lambda: random_apply(lambda: augment_op(op, magnitude), probability))


# ----------------------------------------------------------------------------- numpy policy


@pytest.mark.parametrize("kind", ["uint8_rgb", "digits", "float64_rgb"])
@pytest.mark.parametrize("space", ["autoaugment", "randaugment"])
def test_policy_keeps_shape_dtype_and_range(kind, space):
    x, value_range = _images(kind)
    for seed in range(3):
        out = to_policy(_arch(space, seed), value_range=value_range)(x, seed)
        low, high = value_range or ((0, 255) if x.dtype == np.uint8 else (0, 1))
        assert out.shape == x.shape and out.dtype == x.dtype
        assert out.min() >= low and out.max() <= high


@pytest.mark.parametrize("space", ["autoaugment", "randaugment"])
def test_policy_is_deterministic_for_a_seed(space):
    x, value_range = _images("digits", n=64)
    policy = to_policy(_arch(space, 4), value_range=value_range)
    assert np.array_equal(policy(x, 7), policy(x, 7))
    assert np.array_equal(policy(x, np.random.default_rng(7)), policy(x, 7))
    assert not np.array_equal(policy(x, 7), policy(x, 8))
    gen = np.random.default_rng(0)
    first, second = policy(x, gen), policy(x, gen)
    assert not np.array_equal(first, second)  # a generator moves on


def test_policy_equals_its_own_draws_applied():
    x, value_range = _images("uint8_rgb")
    policy = to_policy(_arch("autoaugment", 1), value_range=value_range)
    draws = policy.sample_draws(x.shape, 3)
    assert np.array_equal(policy(x, 3), policy.apply(x, draws))
    assert len(draws) == len(policy.steps())


def test_probability_zero_is_identity_and_one_always_applies():
    x, _ = _images("uint8_rgb")
    never = to_policy(_gate("solarize", 0.5, 0.0).replay({}))
    always = to_policy(_gate("solarize", 0.5, 1.0).replay({}))
    assert np.array_equal(never(x, 0), x)
    assert np.array_equal(always(x, 0), apply_transform("solarize", x, 0.5, {}))


def test_gate_applies_exactly_where_the_draw_is_below_the_probability():
    x, _ = _images("uint8_rgb", n=200)
    policy = to_policy(_gate("rotate", 0.7, 0.3).replay({}))
    draws = policy.sample_draws(x.shape, 0)
    out = policy.apply(x, draws)
    applied = draws[0]["u"] < np.float32(0.3)
    assert 30 < applied.sum() < 90
    rotated = apply_transform("rotate", x, 0.7, draws[1])
    assert np.array_equal(out[applied], rotated[applied])
    assert np.array_equal(out[~applied], x[~applied])


def test_random_choice_sends_each_image_down_one_branch():
    space = SearchSpace(lambda: random_choice([lambda: augment_op("posterize", 1.0),
                                               lambda: augment_op("solarize", 1.0),
                                               lambda: augment_op("identity")]))
    policy = to_policy(space.replay({}))
    x, _ = _images("uint8_rgb", n=600)
    draws = policy.sample_draws(x.shape, 0)
    out = policy.apply(x, draws)
    branch = np.minimum((draws[0]["u"] * 3).astype(int), 2)
    assert all(150 < (branch == b).sum() < 250 for b in range(3))
    assert np.array_equal(out[branch == 0], apply_transform("posterize", x[branch == 0], 1.0, {}))
    assert np.array_equal(out[branch == 1], apply_transform("solarize", x[branch == 1], 1.0, {}))
    assert np.array_equal(out[branch == 2], x[branch == 2])


def test_ops_in_sequence_use_their_own_draws():
    space = SearchSpace(lambda: siso_sequential([augment_op("rotate", 0.5),
                                                 augment_op("cutout", 0.5)]))
    policy = to_policy(space.replay({}))
    x, _ = _images("uint8_rgb")
    draws = policy.sample_draws(x.shape, 2)
    expected = apply_transform("rotate", x, 0.5, draws[0])
    expected = apply_transform("cutout", expected, 0.5, draws[1])
    assert np.array_equal(policy.apply(x, draws), expected)
    assert [sorted(d) for d in draws] == [sorted(sample_params("rotate", x.shape, 0)),
                                          ["corner"]]


def test_description_drops_steps_that_do_nothing_and_equivalent_policies_share_a_key():
    space = autoaugment_space(3, 2, ops=["rotate", "flip", "identity", "solarize"])
    for seed in range(20):
        arch = space.sample(seed)
        policy = to_policy(arch)
        text = policy.describe()
        assert "p=0 " not in text + " " and "(0)" not in text and "p=1 " not in text + " "
        assert "identity ->" not in text and "-> identity" not in text
        swap = {"subpolicy/0/": "subpolicy/2/", "subpolicy/2/": "subpolicy/0/"}
        reordered = {}  # the same sub-policies in another order
        for key, value in arch.values.items():
            head = key[:len("subpolicy/0/")]
            reordered[swap.get(head, head) + key[len(head):]] = value
        assert canonical_key(space.replay(reordered)) == canonical_key(arch)
    off = {k: (0.0 if k.endswith(".probability") else v) for k, v in arch.values.items()}
    assert to_policy(space.replay(off)).describe() == "identity"
    assert canonical_key(space.replay(off)) == canonical_key(Policy([]))
    assert canonical_key(space.replay(off)) != canonical_key(arch)


def test_json_round_trip_and_description():
    arch = autoaugment_space(2, 2, ops=["rotate", "flip"]).sample(2)
    policy = to_policy(arch)
    again = Policy(policy.to_json())
    x, _ = _images("uint8_rgb")
    assert np.array_equal(again(x, 0), policy(x, 0))
    assert policy.describe().startswith("one_of(")
    lines = policy.describe(multiline=True).splitlines()
    assert lines[0] == "one of these per image, uniformly:" and len(lines) == 3
    assert "p=" in lines[1]
    assert Policy([]).describe() == "identity"
    assert np.array_equal(Policy([])(x, 0), x)


@pytest.mark.parametrize("program, match", [
    ([{"op": "spin", "magnitude": 0.1}], "spin"),
    ([{"op": "rotate", "magnitude": 2}], "magnitude"),
    ([{"weights": [0.5], "branches": [[], []]}], "weights"),
    (["rotate"], "policy step"),
])
def test_bad_programs_are_rejected(program, match):
    with pytest.raises(DomainError, match=match):
        Policy(program)


def test_value_range_matters_for_digits():
    x, _ = _images("digits")
    arch = SearchSpace(lambda: augment_op("solarize", 0.5)).replay({})
    out = to_policy(arch, value_range=(0, 16))(x, 0)
    assert np.array_equal(out[x <= 8], x[x <= 8]) and np.array_equal(out[x > 8], 16 - x[x > 8])
    assert to_policy(arch)(x, 0).max() <= 1.0  # floats default to [0, 1]


def test_bad_inputs():
    policy = to_policy(randaugment_space().replay({"n": 1, "magnitude": 0.1}))
    with pytest.raises(ValueError, match="batch"):
        policy(np.zeros((8, 8)), 0)
    with pytest.raises(TypeError, match="Architecture"):
        to_policy({"n": 1})
    two_outputs = SearchSpace(lambda: ({}, {}))
    with pytest.raises(SpaceError, match="one input 'in'"):
        to_policy(two_outputs.replay({}))


def test_importing_the_domain_imports_no_framework():
    code = ("import sys, da_bridge.spaces.augment as a; a.to_policy; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'sklearn', 'optuna', 'matplotlib') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- Keras layer


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


def test_keras_layer_keeps_shape_dtype_and_range_and_follows_its_seed(keras):
    x, value_range = _images("digits", n=32)
    arch = _arch("autoaugment", 0)
    first = to_keras_layer(arch, value_range=value_range, seed=5)
    second = to_keras_layer(arch, value_range=value_range, seed=5)
    a, b = np.asarray(first(x)), np.asarray(second(x))
    assert a.shape == x.shape and a.dtype == x.dtype and 0 <= a.min() and a.max() <= 16
    assert np.array_equal(a, b)
    assert not np.array_equal(a, np.asarray(first(x)))  # the generator moves on
    assert not np.array_equal(a, x)


def test_keras_gate_and_choice_rates_match_the_policy(keras):
    space = SearchSpace(lambda: random_apply(lambda: augment_op("solarize", 1.0), Discrete([0.3])))
    arch = space.replay({"apply.probability": 0.3})
    x = np.full((4000, 2, 2, 1), 0.75, dtype=np.float32)
    keras_rate = np.mean(np.asarray(to_keras_layer(arch, seed=0)(x))[:, 0, 0, 0] < 0.5)
    numpy_rate = np.mean(to_policy(arch)(x, 0)[:, 0, 0, 0] < 0.5)
    assert abs(keras_rate - 0.3) < 0.03 and abs(numpy_rate - 0.3) < 0.03
    choice = SearchSpace(lambda: random_choice([lambda: augment_op("solarize", 1.0),
                                                lambda: augment_op("identity"),
                                                lambda: augment_op("identity")]))
    rate = np.mean(np.asarray(to_keras_layer(choice.replay({}), seed=1)(x))[:, 0, 0, 0] < 0.5)
    assert abs(rate - 1 / 3) < 0.03
