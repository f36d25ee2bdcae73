"""Keras layers and sub-networks as search-space modules.

A Keras module is a basic module whose forward function builds a fresh Keras
layer from its property values and calls it on its input tensors. Layers are
made when a model is built, never when the space is defined, so defining,
unfolding, counting and searching a space does not import Keras; layers given
by name (`"Conv2D"`) are looked up in `keras.layers` only then.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from da_bridge._imports import require
from da_bridge.errors import SpaceError
from da_bridge.hyperparameters import Discrete, Hyperparameter
from da_bridge.modules import Fragment, basic

#: A Keras layer class, any callable returning a layer, or the name of a class in `keras.layers`.
LayerFn = Callable[..., Any] | str

#: Merge modes of `keras_merge` and the `keras.layers` class each one builds.
MERGES = {
    "add": "Add",
    "average": "Average",
    "concatenate": "Concatenate",
    "maximum": "Maximum",
    "minimum": "Minimum",
    "multiply": "Multiply",
    "subtract": "Subtract",
}


def keras_module(layer_fn: LayerFn, hyperparameters: Mapping[str, Any] | None = None, *,
                 name: str | None = None, inputs: Sequence[str] = ("in",)) -> Fragment:
    """A module that applies one Keras layer built from its property values.

    Args:
        layer_fn: A Keras layer class (`layers.Conv2D`), any callable returning a
            layer, or the name of a class in `keras.layers` (`"Conv2D"`), looked
            up only when a model is built.
        hyperparameters: `{keyword argument: Hyperparameter or fixed value}`; the
            layer is `layer_fn(**values)`.
        name: The module's name; by default the layer's name in snake case
            (`Conv2D` gives `conv2d`).
        inputs: Input port names. With one input the layer is called on its
            tensor; with several, on the list of tensors in this order (what
            `layers.Concatenate` or `layers.Add` expect). The output is `out`.

    Example:
        >>> from da_bridge import Discrete, SearchSpace
        >>> space = SearchSpace(lambda: keras_module(
        ...     "Conv2D", {"filters": Discrete([16, 32]), "kernel_size": 3, "padding": "same"}))
        >>> space.unfold().next().name
        'conv2d.filters'
    """
    _check_layer_fn(layer_fn)
    label = name or _default_name(layer_fn)
    where: dict[str, str] = {}

    def compile_fn(values: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        make = resolve_layer(layer_fn)
        ports = _names(inputs)

        def forward(tensors: dict[str, Any]) -> dict[str, Any]:
            args = tensors[ports[0]] if len(ports) == 1 else [tensors[p] for p in ports]
            return {"out": _apply(where["path"], lambda: make(**values)(args))}

        return forward

    fragment = basic(label, compile_fn, hyperparameters or {}, inputs=inputs)
    where["path"] = _module_path(fragment)
    return fragment


def keras_function_module(fn: Callable[..., Any],
                          hyperparameters: Mapping[str, Any] | None = None, *,
                          name: str | None = None, inputs: Sequence[str] = ("in",),
                          outputs: Sequence[str] = ("out",)) -> Fragment:
    """A module for a whole sub-network written as a function of Keras tensors.

    `fn(*tensors, **values)` gets the input tensors in the order of `inputs` and
    the property values as keyword arguments. It returns a tensor when there
    is one output, else a dict `{output name: tensor}` (or a sequence in the
    order of `outputs`). Each model build calls it once, so it makes fresh layers.

    Args:
        fn: Builds the sub-network.
        hyperparameters: `{keyword argument: Hyperparameter or fixed value}`.
        name: The module's name; by default `fn.__name__`.
        inputs: Input port names.
        outputs: Output port names.

    Example:
        >>> from da_bridge import Discrete, SearchSpace
        >>> def head(x, units):
        ...     from keras import layers
        ...     return layers.Dense(units, activation="softmax")(layers.Flatten()(x))
        >>> space = SearchSpace(lambda: keras_function_module(head, {"units": Discrete([10])}))
        >>> space.replay({"head.units": 10}).values
        {'head.units': 10}
    """
    if not callable(fn):
        raise SpaceError(f"keras_function_module needs a callable; got {fn!r}")
    label = name or _default_name(fn)
    where: dict[str, str] = {}
    in_ports, out_ports = _names(inputs), _names(outputs)

    def compile_fn(values: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def forward(tensors: dict[str, Any]) -> dict[str, Any]:
            result = _apply(where["path"], lambda: fn(*(tensors[p] for p in in_ports), **values))
            return _as_outputs(where["path"], result, out_ports)

        return forward

    fragment = basic(label, compile_fn, hyperparameters or {}, inputs=in_ports, outputs=out_ports)
    where["path"] = _module_path(fragment)
    return fragment


def keras_merge(mode: str | Hyperparameter = "concatenate", n: int = 2, *,
                name: str = "merge", inputs: Sequence[str] | None = None) -> Fragment:
    """A module that merges several tensors with a Keras merge layer.

    Its inputs are `in0 .. in{n-1}` by default, so it is a ready `combine_fn`
    for `siso_residual` (`lambda: keras_merge("add")`) and
    `siso_split_combine` (`lambda n: keras_merge("concatenate", n)`).

    Args:
        mode: One of `MERGES` ("add", "concatenate", ...), or a `Discrete` over them.
        n: The number of inputs.
        name: The module's name.
        inputs: Input port names instead of `in0 .. in{n-1}`.

    Example:
        >>> from da_bridge import Discrete, SearchSpace
        >>> space = SearchSpace(lambda: keras_merge(Discrete(["add", "concatenate"])))
        >>> space.unfold().next().name, space.count()
        ('merge.mode', 2)
    """
    _check_merge_mode(mode)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SpaceError(f"keras_merge({name!r}) needs n >= 1 inputs; got {n!r}")
    ports = _names(inputs) if inputs is not None else [f"in{i}" for i in range(n)]
    return keras_function_module(_merge, {"mode": mode}, name=name, inputs=ports)


def resolve_layer(layer_fn: LayerFn) -> Callable[..., Any]:
    """The callable a `LayerFn` stands for; a name is looked up in `keras.layers`.

    Example:
        >>> resolve_layer(print) is print
        True
    """
    if not isinstance(layer_fn, str):
        return layer_fn
    layers = require("keras", "keras").layers
    found = getattr(layers, layer_fn, None)
    if found is None:
        raise SpaceError(f"keras.layers has no {layer_fn!r}")
    return found


def snake_case(name: str) -> str:
    """`DepthwiseConv2D` -> `depthwise_conv2d`, the way Keras names its layers.

    Example:
        >>> snake_case("DepthwiseConv2D"), snake_case("BatchNormalization")
        ('depthwise_conv2d', 'batch_normalization')
    """
    text = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", text).lower()


def _merge(*tensors: Any, mode: str) -> Any:
    if len(tensors) == 1:
        return tensors[0]
    return getattr(require("keras", "keras").layers, MERGES[mode])()(list(tensors))


def _apply(path: str, build: Callable[[], Any]) -> Any:
    """Run a layer or sub-network; name the module when Keras rejects it."""
    try:
        return build()
    except SpaceError:
        raise
    except Exception as exc:
        raise SpaceError(f"module {path!r}: {type(exc).__name__}: {exc}") from exc


def _as_outputs(path: str, result: Any, outputs: list[str]) -> dict[str, Any]:
    if isinstance(result, Mapping):
        missing = sorted(set(outputs) - set(result))
        if missing:
            raise SpaceError(f"module {path!r} returned no tensors for outputs {missing}")
        return {name: result[name] for name in outputs}
    if len(outputs) == 1:
        return {outputs[0]: result}
    if isinstance(result, Sequence) and len(result) == len(outputs):
        return dict(zip(outputs, result))
    raise SpaceError(f"module {path!r} must return {len(outputs)} tensors for "
                     f"outputs {outputs}; got {type(result).__name__}")


def _check_layer_fn(layer_fn: Any) -> None:
    if isinstance(layer_fn, str):
        if not layer_fn.isidentifier():
            raise SpaceError(f"{layer_fn!r} is not the name of a keras.layers class")
    elif not callable(layer_fn):
        raise SpaceError(f"keras_module needs a layer class, a callable or a keras.layers "
                         f"name; got {layer_fn!r}")


def _check_merge_mode(mode: Any) -> None:
    if isinstance(mode, Hyperparameter):
        modes = list(mode.values) if isinstance(mode, Discrete) else None
    else:
        modes = [mode]
    if modes is None or any(m not in MERGES for m in modes):
        raise SpaceError(f"keras_merge mode must be one of {sorted(MERGES)} or a Discrete "
                         f"over them; got {mode!r}")


def _default_name(fn: Any) -> str:
    text = fn if isinstance(fn, str) else getattr(fn, "__name__", "")
    return snake_case(text) if text.isidentifier() else "layer"


def _names(ports: Sequence[str]) -> list[str]:
    return [ports] if isinstance(ports, str) else list(ports)


def _module_path(fragment: Fragment) -> str:
    _, outputs = fragment
    return next(iter(outputs.values())).module.path
