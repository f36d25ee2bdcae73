"""Augmentation policy spaces: ops as modules, run-time choices, ready-made spaces, searches."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from da_bridge import (
    Bool,
    Discrete,
    DomainError,
    Float,
    ReplayError,
    SearchSpace,
    SpaceError,
    basic,
    search,
    siso_optional,
    siso_permutation,
    siso_repeat,
    siso_sequential,
    siso_split_combine,
)
from da_bridge.spaces.augment import (
    DEFAULT_OPS,
    MAGNITUDES,
    PROBABILITIES,
    SklearnEvaluator,
    augment_op,
    autoaugment_space,
    load_data,
    op_choice,
    pick,
    program,
    randaugment_space,
    random_apply,
    random_choice,
    to_policy,
)
from da_bridge.spaces.augment.ops import OPS

WITH_MAGNITUDE = [name for name in OPS if OPS[name].has_magnitude]
WITHOUT_MAGNITUDE = [name for name in OPS if not OPS[name].has_magnitude]


def _enumerate(space: SearchSpace) -> list[dict]:
    """Every full assignment, by depth-first unfolding (for small spaces)."""
    out = []

    def visit(prefix: dict) -> None:
        u = space.unfold()
        for path, value in prefix.items():
            u.assign_path(path, value)
        h = u.next()
        if h is None:
            out.append(prefix)
            return
        for value in h.enumerate():
            visit({**prefix, h.name: value})

    visit({})
    return out


def _magnitude_paths(values: dict) -> set[str]:
    return {path for path in values if path.endswith(".magnitude")}


# ----------------------------------------------------------------------------- ops as modules


@pytest.mark.parametrize("name", sorted(OPS))
def test_each_op_is_a_module_with_a_magnitude_iff_it_has_one(name):
    space = SearchSpace(lambda: augment_op(name))
    first = space.unfold().next()
    if name in WITH_MAGNITUDE:
        assert first.name == f"{name}.magnitude"
        assert first.values == MAGNITUDES
        assert space.count() == len(MAGNITUDES)
    else:
        assert first is None
        assert space.count() == 1


def test_magnitudes_and_probabilities_are_the_eleven_levels():
    assert MAGNITUDES == PROBABILITIES == (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
    assert DEFAULT_OPS == tuple(OPS)


def test_a_magnitude_appears_only_when_its_op_is_chosen():
    space = SearchSpace(lambda: op_choice())
    u = space.unfold()
    assert u.next().name == "op.choice"
    u.assign("rotate")
    assert u.next().name == "op/rotate/rotate.magnitude"
    u.assign(0.3)
    assert u.next() is None
    u = space.unfold()
    u.assign("flip")
    assert u.next() is None


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_sampled_autoaugment_policies_expose_the_magnitude_of_chosen_ops_only(seed):
    arch = autoaugment_space(3, 2).sample(seed)
    chosen = {path.rsplit("/", 1)[0]: op for path, op in arch.values.items()
              if path.endswith("op.choice")}
    expected = {f"{prefix}/op/{op}/{op}.magnitude" for prefix, op in chosen.items()
                if op in WITH_MAGNITUDE}
    assert _magnitude_paths(arch.values) == expected


def test_shared_magnitude_is_one_hyperparameter():
    h_magnitude = Discrete([0.2, 0.8], name="strength")
    space = SearchSpace(lambda: siso_sequential([augment_op("rotate", h_magnitude),
                                                 augment_op("zoom", h_magnitude)]))
    assert space.count() == 2
    arch = space.replay({"strength": 0.8})
    assert [s.magnitude for s in program(arch)] == [0.8, 0.8]


def test_fixed_and_continuous_magnitudes():
    fixed = SearchSpace(lambda: augment_op("rotate", 0.5))
    assert fixed.count() == 1
    assert program(fixed.replay({}))[0].magnitude == 0.5
    continuous = SearchSpace(lambda: augment_op("rotate", Float(0.0, 1.0)))
    assert continuous.count() == math.inf
    arch = continuous.replay({"rotate.magnitude": 0.25})
    assert program(arch)[0].magnitude == 0.25


# ----------------------------------------------------------------------------- run-time choices


def test_random_apply_exposes_its_probability_first():
    space = SearchSpace(lambda: random_apply(lambda: op_choice(["rotate", "flip"]),
                                             Discrete(PROBABILITIES)))
    names = list(space.sample(1).values)
    assert names[:2] == ["apply.probability", "apply/op.choice"]
    assert space.count() == 11 * 12


def test_random_apply_compiles_to_a_gate():
    space = SearchSpace(lambda: random_apply(lambda: augment_op("rotate", 0.5), 0.3))
    (gate,) = program(space.replay({}))
    assert gate.weights == pytest.approx((0.3, 0.7))
    assert [s.op for s in gate.branches[0]] == ["rotate"] and gate.branches[1] == ()


def test_random_choice_compiles_to_a_uniform_choice_named_by_key():
    space = SearchSpace(lambda: random_choice({"a": lambda: augment_op("rotate"),
                                               "b": lambda: augment_op("flip")}))
    assert space.unfold().next().name == "choice/a/rotate.magnitude"
    (choice,) = program(space.replay({"choice/a/rotate.magnitude": 0.1}))
    assert choice.weights == (0.5, 0.5)
    assert [[s.op for s in branch] for branch in choice.branches] == [["rotate"], ["flip"]]


def test_pick_combines_split_branches():
    space = SearchSpace(lambda: siso_split_combine(lambda: augment_op("zoom"), pick,
                                                   Discrete([2, 3])))
    assert space.count() == 11**2 + 11**3
    arch = space.sample(0)
    (choice,) = program(arch)
    assert len(choice.branches) == arch.values["split_combine.n"]
    with pytest.raises(DomainError, match="pick"):
        SearchSpace(lambda: pick(0)).count()


def identity_op():
    return augment_op("identity")


def test_engine_combinators_compose_with_augmentation_modules():
    def build():
        return siso_sequential([
            siso_optional(lambda: augment_op("flip"), Bool(), name="maybe_flip"),
            siso_repeat(lambda: augment_op("solarize", 0.5), Discrete([1, 2]), name="twice"),
            siso_permutation([lambda: augment_op("rotate", 0.1),
                              lambda: augment_op("zoom", 0.2)], Discrete([0, 1])),
        ])

    space = SearchSpace(build)
    assert space.count() == 2 * 2 * 2
    arch = space.replay({"maybe_flip.include": True, "twice.n": 2, "permutation.order": 1})
    assert [s.op for s in program(arch)] == ["flip", "solarize", "solarize", "zoom", "rotate"]


def test_a_module_that_is_not_an_augmentation_is_named_in_the_error():
    def build():
        constant = basic("constant", lambda v: lambda inputs: {"out": 0.5})
        return siso_sequential([constant, augment_op("rotate", 0.5)])

    with pytest.raises(SpaceError, match="rotate received float"):
        to_policy(SearchSpace(build).replay({}))


def test_forward_on_images_says_to_compile_the_policy():
    arch = SearchSpace(lambda: augment_op("rotate", 0.5)).replay({})
    with pytest.raises(SpaceError, match="rotate.*to_policy"):
        arch.forward({"in": [[0.0]]})


# ----------------------------------------------------------------------------- ready-made spaces


def test_autoaugment_count_is_the_product_of_its_slots():
    per_slot = len(PROBABILITIES) * (len(WITH_MAGNITUDE) * len(MAGNITUDES)
                                      + len(WITHOUT_MAGNITUDE))
    assert autoaugment_space(2, 2).count() == per_slot ** 4
    assert autoaugment_space(1, 1, ops=["rotate", "flip"]).count() == 11 * 12


def test_autoaugment_count_matches_enumeration():
    space = autoaugment_space(2, 1, ops=["flip", "solarize"])
    assert space.count() == (11 * 12) ** 2
    space = autoaugment_space(2, 1, ops=["flip", "equalize"])
    leaves = _enumerate(space)
    assert space.count() == len(leaves) == (11 * 2) ** 2
    assert len({tuple(sorted(v.items())) for v in leaves}) == len(leaves)


def test_autoaugment_paths_are_stable_and_readable():
    arch = autoaugment_space(2, 2, ops=["rotate"]).sample(3)
    assert list(arch.values) == [
        "subpolicy/0/step0.probability", "subpolicy/0/step0/op.choice",
        "subpolicy/0/step0/op/rotate/rotate.magnitude",
        "subpolicy/0/step1.probability", "subpolicy/0/step1/op.choice",
        "subpolicy/0/step1/op/rotate/rotate.magnitude",
        "subpolicy/1/step0.probability", "subpolicy/1/step0/op.choice",
        "subpolicy/1/step0/op/rotate/rotate.magnitude",
        "subpolicy/1/step1.probability", "subpolicy/1/step1/op.choice",
        "subpolicy/1/step1/op/rotate/rotate.magnitude",
    ]


def test_autoaugment_compiles_to_uniform_subpolicies_of_gated_ops():
    space = autoaugment_space(2, 2, ops=["rotate", "flip"])
    arch = space.sample(5)
    (choice,) = program(arch)
    assert choice.weights == (0.5, 0.5)
    for i, branch in enumerate(choice.branches):
        assert len(branch) == 2
        for j, gate in enumerate(branch):
            prefix = f"subpolicy/{i}/step{j}"
            assert gate.weights[0] == pytest.approx(arch.values[f"{prefix}.probability"])
            (op,) = gate.branches[0]
            assert op.op == arch.values[f"{prefix}/op.choice"]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_replay_reproduces_sampled_policies(seed):
    for space in (autoaugment_space(2, 2), randaugment_space()):
        arch = space.sample(seed)
        again = space.replay(arch.values)
        assert again.to_json() == arch.to_json()
        assert to_policy(again).to_json() == to_policy(arch).to_json()
        assert space.replay(arch.json_values()).values == arch.values


def test_randaugment_searches_n_and_one_global_magnitude():
    space = randaugment_space()
    assert space.count() == 3 * 11
    arch = space.replay({"n": 2, "magnitude": 0.4})
    layers = program(arch)
    assert len(layers) == 2
    for layer in layers:
        assert len(layer.branches) == len(DEFAULT_OPS)
        assert layer.weights == pytest.approx([1 / len(DEFAULT_OPS)] * len(DEFAULT_OPS))
        assert sum(not branch for branch in layer.branches) == 1  # identity does nothing
        magnitudes = {op.magnitude for branch in layer.branches for op in branch
                      if OPS[op.op].has_magnitude}
        assert magnitudes == {0.4}
    small = randaugment_space(ops=["rotate", "flip"], max_layers=2, magnitudes=[0.1, 0.5])
    assert small.count() == 2 * 2


def test_replay_errors_name_the_path_and_domain():
    space = autoaugment_space(1, 1, ops=["rotate"])
    values = dict(space.sample(0).values)
    with pytest.raises(DomainError, match=r"subpolicy/0/step0/op/rotate/rotate\.magnitude"):
        space.replay({**values, "subpolicy/0/step0/op/rotate/rotate.magnitude": 0.35})
    del values["subpolicy/0/step0/op/rotate/rotate.magnitude"]
    with pytest.raises(ReplayError, match=r"rotate\.magnitude"):
        space.replay(values)
    with pytest.raises(DomainError, match=r"'n' got 4"):
        randaugment_space().replay({"n": 4, "magnitude": 0.1})


@pytest.mark.parametrize("make, match", [
    (lambda: autoaugment_space(0, 2), "n_subpolicies"),
    (lambda: autoaugment_space(2, True), "ops_per_subpolicy"),
    (lambda: autoaugment_space(ops=["rotate", "spin"]), "spin"),
    (lambda: autoaugment_space(ops=[]), "ops"),
    (lambda: randaugment_space(max_layers=0), "max_layers"),
    (lambda: SearchSpace(lambda: augment_op("rotate", 1.5)).count(), r"rotate\.magnitude"),
    (lambda: SearchSpace(lambda: augment_op("zoom", Discrete([0.5, 2.0]))).count(), "zoom"),
    (lambda: SearchSpace(lambda: random_apply(identity_op, 1.2)).replay({}),
     r"apply\.probability"),
    (lambda: SearchSpace(lambda: random_choice([])).count(), "choice"),
])
def test_bad_arguments_raise_domain_errors(make, match):
    with pytest.raises(DomainError, match=match):
        make()


# ----------------------------------------------------------------------------- searches


@pytest.fixture(scope="module")
def evaluator():
    return SklearnEvaluator(load_data(train_size=100, valid_size=150, seed=0), copies=1, seed=0)


@pytest.mark.parametrize("searcher", ["optuna", "hyperopt"])
def test_twenty_trial_search(searcher, evaluator):
    space = autoaugment_space(2, 2)
    result = search(space, evaluator, searcher, n_trials=20, direction="maximize", seed=0,
                    storage=":memory:")
    scores = [t.value for t in result.trials]
    assert len(scores) == 20 and all(0 < s <= 1 for s in scores)
    best = result.best_architecture
    assert evaluator(best) == pytest.approx(result.best_score)
    assert len({tuple(sorted(t.params.items())) for t in result.trials}) > 10


def test_randaugment_search_with_optuna(evaluator):
    result = search(randaugment_space(), evaluator, n_trials=8, direction="maximize", seed=1,
                    storage=":memory:")
    assert set(result.best_values) == {"n", "magnitude"}
