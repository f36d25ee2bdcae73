"""Specified architectures as Keras functional models."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from da_bridge._imports import require
from da_bridge.architecture import Architecture
from da_bridge.errors import SpaceError
from da_bridge.modules import Fragment
from da_bridge.space import SearchSpace

if TYPE_CHECKING:
    import keras

#: The shape of one example without the batch axis, or `{space input name: shape}`.
InputShape = Sequence[int | None] | Mapping[str, Sequence[int | None]]


class KerasSearchSpace(SearchSpace):
    """A search space of Keras models, with the input shape its models take.

    Args:
        build_fn: Returns an `(inputs, outputs)` fragment of Keras modules.
        input_shape: One example's shape without the batch axis (`(8, 8, 1)`),
            or `{space input name: shape}` for several inputs.

    Example:
        >>> from da_bridge.spaces.keras import keras_module
        >>> space = KerasSearchSpace(lambda: keras_module("Flatten"), (8, 8, 1))
        >>> space.input_shape, space.count()
        ((8, 8, 1), 1)
    """

    def __init__(self, build_fn: Callable[[], Fragment], input_shape: InputShape) -> None:
        super().__init__(build_fn)
        self.input_shape = check_input_shape(input_shape)

    def __repr__(self) -> str:
        name = getattr(self.build_fn, "__qualname__", self.build_fn)
        return f"KerasSearchSpace({name!r}, input_shape={self.input_shape!r})"


def to_keras_model(arch: Architecture, input_shape: InputShape, *, name: str | None = None,
                   dtype: str = "float32") -> keras.Model:
    """Build the Keras functional model of a specified architecture.

    Each Keras module makes fresh layers, so every call gives a new, untrained
    model. A space with one input and one output gives `Model(input, output)`;
    with several, inputs are named after the space's input names (fit them
    with a dict) and outputs come as a dict.

    Args:
        arch: A fully specified architecture of Keras modules.
        input_shape: One example's shape without the batch axis, or
            `{space input name: shape}`.
        name: The model's name.
        dtype: The inputs' dtype.

    Raises:
        SpaceError: the shapes do not match the space's inputs, or a module's
            layer rejects its input (the message names the module's path).

    Example:
        >>> from da_bridge.spaces.keras import small_cnn
        >>> space = small_cnn((8, 8, 1), 10)
        >>> model = to_keras_model(space.sample(0), space.input_shape)
        >>> model.output_shape
        (None, 10)
    """
    keras = require("keras", "keras")
    if not isinstance(arch, Architecture):
        raise SpaceError(f"to_keras_model needs an Architecture; got {type(arch).__name__}")
    shapes = _shapes_by_input(arch, check_input_shape(input_shape))
    named = len(shapes) > 1
    tensors = {port: keras.Input(shape, dtype=dtype, name=port if named else None)
               for port, shape in shapes.items()}
    outputs = arch.forward(tensors)
    model_inputs = tensors if named else next(iter(tensors.values()))
    model_outputs = outputs if len(outputs) > 1 else next(iter(outputs.values()))
    return keras.Model(model_inputs, model_outputs, **({"name": name} if name else {}))


def model_summary(model: keras.Model) -> str:
    """The text `model.summary()` prints, as a string.

    Example:
        >>> import keras
        >>> inputs = keras.Input((4,))
        >>> text = model_summary(keras.Model(inputs, keras.layers.Dense(2)(inputs)))
        >>> "Total params: 10" in text
        True
    """
    lines: list[str] = []
    model.summary(print_fn=lambda line, line_break=True: lines.append(line))
    return "\n".join(line.rstrip("\n") for line in lines)


def check_input_shape(input_shape: Any) -> tuple | dict[str, tuple]:
    """An input shape in canonical form: a tuple, or a dict of tuples.

    Example:
        >>> check_input_shape([8, 8, 1])
        (8, 8, 1)
        >>> check_input_shape((8, 0))
        Traceback (most recent call last):
        ...
        da_bridge.errors.SpaceError: input_shape must be a sequence of positive ints \
(None for any size); got (8, 0)
    """
    if isinstance(input_shape, Mapping):
        return {str(k): _check_shape(v) for k, v in input_shape.items()}
    return _check_shape(input_shape)


def _check_shape(shape: Any) -> tuple:
    ok = isinstance(shape, Sequence) and not isinstance(shape, str) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in shape)
    if not ok:
        raise SpaceError("input_shape must be a sequence of positive ints (None for any size); "
                         f"got {shape!r}")
    return tuple(shape)


def _shapes_by_input(arch: Architecture, input_shape: tuple | dict) -> dict[str, tuple]:
    names = list(arch.inputs)
    if not isinstance(input_shape, dict):
        if len(names) != 1:
            raise SpaceError(f"the architecture has inputs {names}; give input_shape as "
                             "{input name: shape}")
        return {names[0]: input_shape}
    if set(input_shape) != set(names):
        raise SpaceError(f"input_shape has shapes for {sorted(input_shape)}; "
                         f"the architecture's inputs are {sorted(names)}")
    return {name: input_shape[name] for name in names}
