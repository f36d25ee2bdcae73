"""Keras layer modules: single- and multi-input layers, sub-network functions, merges."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads

import keras  # noqa: E402

from da_bridge import (  # noqa: E402
    Discrete,
    SearchSpace,
    SpaceError,
    siso_residual,
    siso_sequential,
    siso_split_combine,
)
from da_bridge.spaces.keras import (  # noqa: E402
    keras_function_module,
    keras_merge,
    keras_module,
    to_keras_model,
)
from da_bridge.spaces.keras.modules import snake_case  # noqa: E402

layers = keras.layers


def _model(build_fn, input_shape, values=None):
    keras.backend.clear_session(free_memory=False)
    space = SearchSpace(build_fn)
    arch = space.replay(values or {}) if values is not None else space.sample(0)
    return to_keras_model(arch, input_shape)


def test_layer_class_with_hyperparameters_builds_that_layer():
    def build():
        return keras_module(layers.Conv2D, {"filters": Discrete([4, 8]), "kernel_size": 3,
                                            "padding": "same"})

    model = _model(build, (8, 8, 1), {"conv2d.filters": 8})
    conv = model.layers[1]
    assert isinstance(conv, layers.Conv2D)
    assert (conv.filters, conv.kernel_size, conv.padding) == (8, (3, 3), "same")


def test_layer_by_name_is_looked_up_in_keras_layers():
    model = _model(lambda: keras_module("Dense", {"units": Discrete([3])}), (5,),
                   {"dense.units": 3})
    assert model.output_shape == (None, 3)


def test_callable_returning_a_layer_and_explicit_name():
    def conv(filters, stride):
        return layers.Conv2D(filters, 3, strides=stride, padding="same")

    def build():
        return keras_module(conv, {"filters": Discrete([2, 6]), "stride": 2}, name="Conv2D")

    space = SearchSpace(build)
    assert space.unfold().next().name == "Conv2D.filters"
    model = to_keras_model(space.replay({"Conv2D.filters": 6}), (8, 8, 3))
    assert model.output_shape == (None, 4, 4, 6)


def test_default_names_are_snake_case_and_lambdas_are_layer():
    assert snake_case("DepthwiseConv2D") == "depthwise_conv2d"
    assert snake_case("GlobalAveragePooling2D") == "global_average_pooling2d"
    space = SearchSpace(lambda: keras_module(lambda units: layers.Dense(units),
                                             {"units": Discrete([1, 2])}))
    assert space.unfold().next().name == "layer.units"


def test_multi_input_layer_gets_tensors_in_port_order():
    def build():
        a_in, a_out = keras_module("Dense", {"units": 2}, name="a")
        b_in, b_out = keras_module("Dense", {"units": 3}, name="b")
        c_in, c_out = keras_module("Concatenate", {"axis": -1}, inputs=("left", "right"))
        c_in["left"].connect(a_out["out"])
        c_in["right"].connect(b_out["out"])
        return {"x": a_in["in"], "y": b_in["in"]}, c_out

    model = _model(build, {"x": (4,), "y": (5,)}, {})
    assert model.output_shape == (None, 5)
    names = [t.name for t in model.inputs]
    assert names == ["x", "y"]
    out = model({"x": np.ones((1, 4)), "y": np.ones((1, 5))})
    assert out.shape == (1, 5)


def test_function_module_builds_a_sub_network_with_several_outputs():
    def split(x, units):
        hidden = layers.Dense(units, activation="relu")(x)
        return {"logits": layers.Dense(3)(hidden), "hidden": hidden}

    def build():
        return keras_function_module(split, {"units": Discrete([4, 8])},
                                     outputs=("logits", "hidden"))

    model = _model(build, (6,), {"split.units": 8})
    out = model(np.ones((2, 6)))
    assert sorted(out) == ["hidden", "logits"]
    assert (out["hidden"].shape, out["logits"].shape) == ((2, 8), (2, 3))
    assert model.count_params() == 6 * 8 + 8 + 8 * 3 + 3


@pytest.mark.parametrize(("mode", "shape"), [("add", (None, 4, 4, 3)),
                                             ("concatenate", (None, 4, 4, 6))])
def test_merge_is_a_combine_fn_for_residual_blocks(mode, shape):
    def build():
        conv = lambda: keras_module("Conv2D", {"filters": 3, "kernel_size": 3,  # noqa: E731
                                               "padding": "same"})
        return siso_residual(conv, lambda: keras_module("Identity"),
                             lambda: keras_merge(Discrete(["add", "concatenate"])))

    space = SearchSpace(build)
    assert space.count() == 2
    arch = space.replay({"residual/merge.mode": mode})
    assert to_keras_model(arch, (4, 4, 3)).output_shape == shape


def test_merge_combines_split_branches():
    def build():
        branch = lambda: keras_module("Dense", {"units": Discrete([2, 3])})  # noqa: E731
        return siso_split_combine(branch, lambda n: keras_merge("concatenate", n), 2)

    space = SearchSpace(build)
    arch = space.replay({"split_combine/0/dense.units": 2, "split_combine/1/dense.units": 3})
    assert to_keras_model(arch, (5,)).output_shape == (None, 5)


def test_a_layer_that_rejects_its_input_names_the_module_path():
    def build():
        return siso_sequential([keras_module("Dense", {"units": 2}, name="hidden"),
                                keras_module("Add", name="bad_merge")])

    with pytest.raises(SpaceError, match=r"'bad_merge'.*"):
        _model(build, (3,), {})


def test_unknown_layer_name_fails_when_the_model_is_built():
    space = SearchSpace(lambda: keras_module("NoSuchLayer"))
    arch = space.replay({})
    with pytest.raises(SpaceError, match=r"no_such_layer.*NoSuchLayer"):
        to_keras_model(arch, (3,))


@pytest.mark.parametrize("bad", [42, "not a name", None])
def test_bad_layer_fn_is_rejected_when_the_space_is_built(bad):
    with pytest.raises(SpaceError, match="keras"):
        SearchSpace(lambda: keras_module(bad)).unfold()


@pytest.mark.parametrize("mode", ["sum", Discrete(["add", "dot"])])
def test_unknown_merge_modes_are_rejected(mode):
    with pytest.raises(SpaceError, match="concatenate"):
        SearchSpace(lambda: keras_merge(mode)).unfold()


def test_function_module_with_wrong_outputs_names_the_module():
    def build():
        return keras_function_module(lambda x: x, name="pair", outputs=("a", "b"))

    with pytest.raises(SpaceError, match="'pair'.*2 tensors"):
        _model(build, (3,), {})


def test_defining_and_searching_keras_spaces_does_not_import_keras():
    code = (
        "import sys\n"
        "import da_bridge\n"
        "assert 'keras' not in sys.modules\n"
        "from da_bridge.spaces.keras import mobile_net, small_cnn\n"
        "for space in (mobile_net(), small_cnn()):\n"
        "    space.count(); space.sample(0).to_json()\n"
        "import da_bridge.spaces.keras.task\n"
        "heavy = {'keras', 'tensorflow', 'optuna_integration'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
