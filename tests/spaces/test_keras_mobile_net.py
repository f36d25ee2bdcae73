"""The blog's `mobile_net` space and the small CNN space, compiled to Keras."""

from __future__ import annotations

import collections
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads

import keras  # noqa: E402

from da_bridge.spaces.examples import mobile_net_space  # noqa: E402
from da_bridge.spaces.keras import mobile_net, small_cnn, to_keras_model  # noqa: E402

#: The blog's example choices (its printed summary has 19,752 parameters).
BLOG_VALUES = {
    "initial_filters": 16,
    "initial_kernel_size": 3,
    "bn_opt": True,
    "drop_opt": False,
    "block_chain.num_reductions": 2,
    "kernel_size": 3,
    "block_chain/reduction_1/repeat.n": 1,
    "filter_multiplier": 1,
    "block_chain/reduction_2/repeat.n": 1,
}


def _weights(model, trainable):
    weights = model.trainable_weights if trainable else model.non_trainable_weights
    return sum(int(np.prod(w.shape)) for w in weights)


def test_blog_example_has_exactly_19752_parameters():
    keras.backend.clear_session()
    space = mobile_net((224, 224, 3), 1000)
    model = to_keras_model(space.replay(BLOG_VALUES), space.input_shape)
    assert model.count_params() == 19_752
    assert (_weights(model, True), _weights(model, False)) == (19_464, 288)
    kinds = collections.Counter(type(layer).__name__ for layer in model.layers)
    assert {k: kinds[k] for k in ("Conv2D", "DepthwiseConv2D", "BatchNormalization", "Dense")} \
        == {"Conv2D": 5, "DepthwiseConv2D": 4, "BatchNormalization": 9, "Dense": 1}
    assert model.output_shape == (None, 1000)
    assert model.get_layer(index=-2).output.shape == (None, 16)


def test_same_names_and_count_as_the_framework_free_stand_in():
    space, stand_in = mobile_net(), mobile_net_space()
    assert space.count() == stand_in.count() == 8640
    for seed in range(40):
        arch = space.sample(seed)
        assert list(stand_in.replay(arch.values).values) == list(arch.values)


def test_dropout_rate_is_exposed_only_with_dropout():
    space = mobile_net()
    u = space.unfold({"initial_filters": 16, "initial_kernel_size": 3, "bn_opt": False})
    assert u.next().name == "drop_opt"
    u.assign(False)
    assert u.next().name == "block_chain.num_reductions"
    seen = {name for seed in range(60) for name in space.sample(seed).values}
    assert "drop_rate" in seen


def test_filter_multiplier_is_applied_after_each_reduction():
    values = {**BLOG_VALUES, "block_chain.num_reductions": 3, "filter_multiplier": 2,
              "block_chain/reduction_3/repeat.n": 1}
    keras.backend.clear_session(free_memory=False)
    model = to_keras_model(mobile_net((32, 32, 3), 10).replay(values), (32, 32, 3))
    filters = [layer.filters for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert filters == [16, 16, 16, 32, 32, 64, 64]
    assert model.get_layer(index=-2).output.shape == (None, 64)


def test_small_cnn_is_sized_for_8x8_digits():
    space = small_cnn()
    assert space.count() == 112_128
    largest = {"blocks.n": 3, "activation": "relu", "batch_norm": True, "pool.include": False,
               "hidden.include": True, "hidden/dense.units": 128, "dropout.include": False,
               **{f"blocks/{i}/conv.{k}": v for i in range(3)
                  for k, v in (("filters", 64), ("kernel_size", 5))}}
    keras.backend.clear_session(free_memory=False)
    model = to_keras_model(space.replay(largest), space.input_shape)
    assert model.output_shape == (None, 10)
    assert model.count_params() < 1_000_000


def _forward_random(space, n, seed=0):
    x = np.random.default_rng(seed).random((2, *space.input_shape), dtype="float32")
    for i in range(n):
        keras.backend.clear_session(free_memory=False)
        arch = space.sample(seed + i)
        out = np.asarray(to_keras_model(arch, space.input_shape)(x, training=False))
        assert out.shape == (2, 10), arch.values
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-4)


@pytest.mark.parametrize(("make", "n"), [(small_cnn, 8), (lambda: mobile_net((16, 16, 3), 10), 4)])
def test_random_architectures_build_and_run(make, n):
    _forward_random(make(), n)


@pytest.mark.slow
@pytest.mark.parametrize("make", [small_cnn, lambda: mobile_net((16, 16, 3), 10)])
def test_a_hundred_random_architectures_build_and_run(make):
    _forward_random(make(), 100, seed=1000)
