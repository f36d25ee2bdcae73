"""`to_keras_model`: functional models from specified architectures."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads

import keras  # noqa: E402

from da_bridge import Discrete, SearchSpace, SpaceError  # noqa: E402
from da_bridge.spaces.keras import (  # noqa: E402
    KerasSearchSpace,
    check_input_shape,
    keras_merge,
    keras_module,
    model_summary,
    small_cnn,
    to_keras_model,
)


def _two_inputs():
    a_in, a_out = keras_module("Dense", {"units": Discrete([2, 4])}, name="a")
    b_in, b_out = keras_module("Dense", {"units": 3}, name="b")
    m_in, m_out = keras_merge("concatenate")
    m_in["in0"].connect(a_out["out"])
    m_in["in1"].connect(b_out["out"])
    return {"left": a_in["in"], "right": b_in["in"]}, {"merged": m_out["out"], "b": b_out["out"]}


def test_each_call_gives_a_fresh_untrained_model():
    space = small_cnn()
    arch = space.sample(3)
    first = to_keras_model(arch, space.input_shape)
    second = to_keras_model(arch, space.input_shape)
    assert first is not second
    assert not set(map(id, first.layers)) & set(map(id, second.layers))
    assert first.count_params() == second.count_params()


def test_several_inputs_and_outputs_are_named_after_the_space_ports():
    arch = SearchSpace(_two_inputs).replay({"a.units": 4})
    model = to_keras_model(arch, {"left": (5,), "right": (6,)}, name="two")
    assert model.name == "two"
    assert [t.name for t in model.inputs] == ["left", "right"]
    out = model({"left": np.ones((2, 5)), "right": np.ones((2, 6))})
    assert (out["merged"].shape, out["b"].shape) == ((2, 7), (2, 3))


@pytest.mark.parametrize("shape", [(5,), {"left": (5,)}, {"left": (5,), "other": (6,)}])
def test_input_shapes_must_match_the_space_inputs(shape):
    arch = SearchSpace(_two_inputs).replay({"a.units": 2})
    with pytest.raises(SpaceError, match="left"):
        to_keras_model(arch, shape)


@pytest.mark.parametrize("shape", [(8, -1), "88", (8.0, 8), (True, 8)])
def test_bad_input_shapes_are_rejected(shape):
    with pytest.raises(SpaceError, match="input_shape"):
        check_input_shape(shape)


def test_none_dimensions_are_allowed():
    assert check_input_shape([None, 8, 1]) == (None, 8, 1)
    space = SearchSpace(lambda: keras_module("GlobalAveragePooling1D"))
    assert to_keras_model(space.replay({}), (None, 3)).output_shape == (None, 3)


def test_only_architectures_compile():
    with pytest.raises(SpaceError, match="Architecture"):
        to_keras_model({"blocks.n": 1}, (8, 8, 1))


def test_keras_space_records_its_input_shape_and_is_a_search_space():
    space = small_cnn((8, 8, 1), 10)
    assert isinstance(space, KerasSearchSpace) and isinstance(space, SearchSpace)
    assert space.input_shape == (8, 8, 1)
    assert repr(space) == "KerasSearchSpace('small_cnn(n_classes=10)', input_shape=(8, 8, 1))"
    arch = space.sample(1)
    assert json.loads(json.dumps(arch.to_json()))["values"] == arch.json_values()
    with pytest.raises(SpaceError, match="input_shape"):
        KerasSearchSpace(space.build_fn, (0, 8))


def test_model_summary_is_the_printed_text():
    keras.backend.clear_session(free_memory=False)
    space = small_cnn()
    model = to_keras_model(space.sample(0), space.input_shape)
    text = model_summary(model)
    assert f"Total params: {model.count_params():,}" in text
    assert "conv2d (Conv2D)" in text
