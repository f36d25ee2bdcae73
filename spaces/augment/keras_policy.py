"""The Keras 3 layer a policy compiles to (`compile.to_keras_layer`).

Keras is imported on first use: `policy_layer` defines the layer class then.
The layer runs the program of `compile` with one `keras_layers.AugmentLayer`
per op and draws the gates and choices itself, so that
`layer.apply_transform(images, draws)` takes the same draws as
`Policy.apply(images, draws)` (see `compile` for the definition).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from da_bridge._imports import require
from da_bridge.errors import OptionError

from . import _program
from .keras_layers import make_layer

Tensor = Any


def policy_layer(program: list[dict[str, Any]], *, value_range: Sequence[float] | None = None,
                 seed: int | None = None, apply_at_inference: bool = False) -> Any:
    """A `PolicyLayer` running `program` (the JSON form of a policy's program).

    Example:
        >>> import numpy as np
        >>> layer = policy_layer([{"op": "flip", "magnitude": 0.0}])
        >>> np.asarray(layer(np.array([[[[0.25], [0.75]]]]))).ravel().tolist()
        [0.75, 0.25]
    """
    return _policy_layer_class()(program, value_range=value_range, seed=seed,
                                 apply_at_inference=apply_at_inference)


def _op_seed(seed: int | None, index: int) -> int | None:
    return None if seed is None else (int(seed) * 7919 + 1 + index) % 2**31


@functools.cache
def _policy_layer_class() -> type:
    keras = require("keras", "keras")
    layer_base: Any = keras.layers.Layer

    @keras.saving.register_keras_serializable(package="da_bridge.augment")
    class PolicyLayer(layer_base):
        """An augmentation policy as a Keras layer; see `compile.to_keras_layer`.

        Args:
            program: The JSON form of the policy's program (`Policy.to_json()`).
            value_range: `(low, high)` of the pixels, or None to infer it from the dtype.
            seed: Seeds the gate/choice draws and each op's draws.
            apply_at_inference: Augment even when `training=False`.
        """

        def __init__(self, program: list[dict[str, Any]], value_range: Any = None,
                     seed: int | None = None, apply_at_inference: bool = False,
                     **kwargs: Any) -> None:
            super().__init__(autocast=False, **kwargs)
            self.program_json = list(program)
            self.program = _program.from_json(self.program_json)
            self.value_range = None if value_range is None else tuple(value_range)
            self.seed, self.apply_at_inference = seed, bool(apply_at_inference)
            self.seed_generator = keras.random.SeedGenerator(seed)
            steps = _program.walk(self.program)
            self.op_layers = [
                make_layer(s.op, s.magnitude, value_range=self.value_range,
                           seed=_op_seed(seed, s.index), apply_at_inference=True)
                for s in steps if isinstance(s, _program.OpStep)]
            ops = [s.index for s in steps if isinstance(s, _program.OpStep)]
            self._layer_of = {index: i for i, index in enumerate(ops)}
            self._steps = steps

        def build(self, input_shape: Any) -> None:
            for layer in self.op_layers:
                if not layer.built:
                    layer.build(input_shape)
            self.built = True

        def sample_draws(self, images: Tensor) -> list[dict[str, Tensor]]:
            """The draws of one run on a batch `(N, H, W, C)`, one dict per step in preorder."""
            n = keras.ops.shape(images)[0]
            draws = []
            for step in self._steps:
                if isinstance(step, _program.OpStep):
                    draws.append(self._op_layer(step).sample_params(images))
                else:
                    draws.append({"u": keras.random.uniform((n,), seed=self.seed_generator)})
            return draws

        def apply_transform(self, images: Tensor, draws: Sequence[dict[str, Any]]) -> Tensor:
            """Augment a batch `(N, H, W, C)` with given draws; deterministic."""
            return self._run(self.program, keras.ops.convert_to_tensor(images), draws)

        def call(self, inputs: Tensor, training: bool = True) -> Tensor:
            if not (training or self.apply_at_inference):
                return inputs
            k = keras.ops
            single = len(inputs.shape) == 3
            batch = k.expand_dims(inputs, 0) if single else inputs
            if len(batch.shape) != 4:
                raise OptionError(f"expected (N, H, W, C) or (H, W, C) images; got {inputs.shape}")
            out = self.apply_transform(batch, self.sample_draws(batch))
            return k.squeeze(out, 0) if single else out

        def _op_layer(self, step: _program.OpStep) -> Any:
            return self.op_layers[self._layer_of[step.index]]

        def _run(self, steps: Sequence[_program.Step], x: Tensor, draws: Any) -> Tensor:
            k = keras.ops
            for step in steps:
                if isinstance(step, _program.OpStep):
                    x = self._op_layer(step).apply_transform(x, draws[step.index])
                    continue
                u = k.cast(draws[step.index]["u"], "float32")
                bounds = _program.thresholds(step.weights)
                branch = k.sum(k.cast(u[:, None] >= bounds[None, :], "int32"), axis=1)
                out = x
                for b, sub in enumerate(step.branches):
                    if sub and step.weights[b] > 0:
                        chosen = k.reshape(branch == b, (-1, 1, 1, 1))
                        out = k.where(chosen, self._run(sub, x, draws), out)
                x = out
            return x

        def compute_output_shape(self, input_shape: tuple) -> tuple:
            return input_shape

        def compute_output_spec(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
            return keras.KerasTensor(inputs.shape, dtype=inputs.dtype)

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "program": self.program_json,
                    "value_range": self.value_range, "seed": self.seed,
                    "apply_at_inference": self.apply_at_inference}

    PolicyLayer.__qualname__ = "PolicyLayer"
    return PolicyLayer


def __getattr__(name: str) -> type:
    """Give `PolicyLayer` lazily (importing Keras then)."""
    if name == "PolicyLayer":
        return _policy_layer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
