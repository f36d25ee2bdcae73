"""The Keras 3 layers a policy compiles to, on any Keras backend (TensorFlow, JAX, PyTorch).

Importing this module imports Keras (`compile.to_keras_layer` does it on first use;
`import da_bridge.spaces.augment` does not). Each op of `ops` runs as Keras' own
preprocessing layer, configured so that it draws from the same distribution as the
numpy op (`op_layer`; the layer class is `ops.OPS[name].keras`):

| op | Keras layer |
|----|-------------|
| rotate | `RandomRotation(30 * m / 360)` |
| shear_x, shear_y | `RandomShear(x_factor=0.3 * m)` / `y_factor` |
| translate_x, translate_y | `RandomTranslation(width_factor=0.3 * m)` / `height_factor` |
| zoom | `RandomZoom(0.5 * m)` (same scale both ways) |
| flip | `RandomFlip("horizontal")` |
| brightness | `RandomBrightness(0.5 * m)` |
| contrast | `RandomContrast((0.9 * m, 0.9 * m))`: a factor in 1 +- 0.9 m |
| posterize | `RandomPosterization((bits, bits))` |
| autocontrast | `AutoContrast` |
| gaussian_noise | `GaussianNoise(0.1 * m)` |
| cutout | `RandomErasing(factor=(1, 1), scale=(s * s, s * s), fill_value=0.5)` |
| identity, and any op at magnitude 0 | `Identity` |

Geometric layers fill with black (`fill_mode="constant"`), bilinear. Two ops are
hand-written here with `keras.ops` only, because Keras' layer of that name does
something else:

* `Solarize`: Keras' `Solarization` draws its threshold uniformly from
  `[threshold_factor[0], 255 * threshold_factor[1]]`, so no setting gives a fixed
  threshold, nor a magnitude 0 that leaves images alone.
* `Equalize`: Keras' `Equalization` pools the histogram of a channel over the
  whole batch, so an image's result depends on the other images of its batch; the
  numpy op (and AutoAugment's) equalizes each image on its own.

`PolicyLayer` runs a policy's program: it maps the images to [0, 1], runs each op
layer, maps back to the input's dtype and range after each op (as the numpy
`Policy` does), and draws the probability gates and random choices itself with
`keras.random` (one uniform per image, as `Policy` does with numpy).

Example:
    >>> import numpy as np
    >>> layer = PolicyLayer([{"op": "solarize", "magnitude": 0.6}])
    >>> x = np.array([[[[0], [64], [128], [255]]]], dtype=np.uint8)
    >>> keras.ops.convert_to_numpy(layer(x)).ravel().tolist()
    [0, 64, 127, 0]
    >>> keras.ops.convert_to_numpy(layer(x, training=False)).ravel().tolist()
    [0, 64, 128, 255]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from da_bridge._imports import require
from da_bridge.errors import OptionError

from . import _program
from . import ops as np_ops

keras = require("keras", "keras")
_Layer: Any = keras.layers.Layer  # a base class only known at run time (for type checkers)

Tensor = Any
_PACKAGE = "da_bridge.augment"
_NORMALIZED = (0.0, 1.0)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Solarize(_Layer):
    """Invert pixels of [0, 1] images strictly above `threshold` (keras.ops only).

    Args:
        threshold: In [0, 1]; 1 leaves images unchanged.

    Example:
        >>> import numpy as np
        >>> x = np.array([[[[0.25], [0.75]]]], "float32")
        >>> keras.ops.convert_to_numpy(Solarize(0.5)(x)).ravel().tolist()
        [0.25, 0.25]
    """

    def __init__(self, threshold: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.threshold = float(threshold)

    def call(self, inputs: Tensor) -> Tensor:
        return keras.ops.where(inputs > self.threshold, 1.0 - inputs, inputs)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "threshold": self.threshold}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Equalize(_Layer):
    """Equalize each image's and channel's 256-level histogram (keras.ops only).

    The table is `ops.equalize_lut`'s (OpenCV's `equalizeHist`); images in [0, 1],
    batches `(N, H, W, C)` of static height, width and channels.

    Example:
        >>> import numpy as np
        >>> x = np.array([[[[10], [10], [20], [90]]]], "float32") / 255
        >>> (keras.ops.convert_to_numpy(Equalize()(x)) * 255).round().ravel().tolist()
        [0.0, 0.0, 128.0, 255.0]
    """

    def call(self, inputs: Tensor) -> Tensor:
        k = keras.ops
        h, w, c = inputs.shape[1:]
        planes = k.reshape(k.transpose(inputs, (0, 3, 1, 2)), (-1, h * w))  # (N*C, H*W)
        levels = k.cast(k.clip(k.floor(planes * 256.0), 0.0, 255.0), "int32")
        cdf = k.cumsum(k.bincount(levels, minlength=256), axis=1)
        cdf_min = k.take_along_axis(cdf, k.min(levels, axis=1, keepdims=True), axis=1)
        denom = cdf[:, -1:] - cdf_min
        lut = k.clip(((cdf - cdf_min) * 255 + denom // 2) // k.maximum(denom, 1), 0, 255)
        equalized = k.cast(k.take_along_axis(lut, levels, axis=1), "float32") / 255.0
        out = k.where(denom > 0, equalized, planes)
        return k.transpose(k.reshape(out, (-1, c, h, w)), (0, 2, 3, 1))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape


def op_layer(name: str, magnitude: float = 0.0, *, seed: int | None = None) -> Any:
    """The Keras layer of op `name` at `magnitude`, on images in [0, 1].

    Call it with `training=True`: Keras' random layers pass images through otherwise.

    Example:
        >>> type(op_layer("rotate", 0.5)).__name__, type(op_layer("rotate", 0.0)).__name__
        ('RandomRotation', 'Identity')
    """
    spec = np_ops.get_op(name)
    m = float(magnitude) if spec.has_magnitude else 0.0
    if name == "identity" or (spec.identity_at_zero and m == 0.0):
        return keras.layers.Identity()
    layers = keras.layers
    if name in np_ops.GEOMETRIC_OPS:
        return _geometric_layer(name, m, seed)
    if name == "flip":
        return layers.RandomFlip("horizontal", seed=seed)
    if name == "brightness":
        return layers.RandomBrightness(np_ops.MAX_BRIGHTNESS * m, _NORMALIZED, seed=seed)
    if name == "contrast":
        factor = np_ops.MAX_CONTRAST * m
        return layers.RandomContrast((factor, factor), _NORMALIZED, seed=seed)
    if name == "posterize":
        bits = np_ops.posterize_bits(m)
        return layers.RandomPosterization((bits, bits), _NORMALIZED, seed=seed)
    if name == "autocontrast":
        return layers.AutoContrast(_NORMALIZED)
    if name == "gaussian_noise":
        return layers.GaussianNoise(np_ops.MAX_NOISE_STD * m, seed=seed)
    if name == "cutout":
        area = np_ops.erase_side(m) ** 2
        return layers.RandomErasing((1.0, 1.0), scale=(area, area),
                                    fill_value=np_ops.CUTOUT_FILL, value_range=_NORMALIZED,
                                    seed=seed)
    if name == "solarize":
        return Solarize(1.0 - m)
    return Equalize()


def _geometric_layer(name: str, m: float, seed: int | None) -> Any:
    layers = keras.layers
    fill = {"fill_mode": "constant", "fill_value": np_ops.GEOMETRIC_FILL,
            "interpolation": "bilinear", "seed": seed}
    if name == "rotate":
        return layers.RandomRotation(np_ops.MAX_ROTATE_DEGREES * m / 360.0, **fill)
    if name.startswith("shear"):
        shear = np_ops.MAX_SHEAR * m
        x_factor, y_factor = (shear, 0.0) if name == "shear_x" else (0.0, shear)
        return layers.RandomShear(x_factor, y_factor, **fill)
    if name.startswith("translate"):
        shift = np_ops.MAX_TRANSLATE * m
        height, width = (0.0, shift) if name == "translate_x" else (shift, 0.0)
        return layers.RandomTranslation(height, width, **fill)
    return layers.RandomZoom(np_ops.MAX_ZOOM * m, None, **fill)


def _op_seed(seed: int | None, index: int) -> int | None:
    return None if seed is None else (int(seed) * 7919 + 1 + index) % 2**31


@keras.saving.register_keras_serializable(package=_PACKAGE)
class PolicyLayer(_Layer):
    """An augmentation policy as a Keras layer; see `compile.to_keras_layer`.

    Args:
        program: The JSON form of the policy's program (`Policy.to_json()`).
        value_range: `(low, high)` of the pixels, or None to infer it from the dtype.
        seed: Seeds the gate/choice draws and each op layer.
        apply_at_inference: Augment even when `training=False`.

    Example:
        >>> import numpy as np
        >>> layer = PolicyLayer([{"op": "flip", "magnitude": 0.0}], seed=0)
        >>> keras.ops.convert_to_numpy(layer(np.ones((4, 8, 8, 1), "float32"))).shape
        (4, 8, 8, 1)
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
        steps = [s for s in _program.walk(self.program) if isinstance(s, _program.OpStep)]
        self.op_layers = [op_layer(s.op, s.magnitude, seed=_op_seed(seed, s.index))
                          for s in steps]
        self._layer_of = {step.index: i for i, step in enumerate(steps)}

    def build(self, input_shape: Any) -> None:
        for layer in self.op_layers:
            if not layer.built:
                layer.build(input_shape)
        self.built = True

    def call(self, inputs: Tensor, training: bool = True) -> Tensor:
        if not (training or self.apply_at_inference):
            return inputs
        k = keras.ops
        single = len(inputs.shape) == 3
        batch = k.expand_dims(inputs, 0) if single else inputs
        if len(batch.shape) != 4 or any(d is None for d in batch.shape[1:]):
            raise OptionError(f"expected (N, H, W, C) or (H, W, C) images of static size; got "
                             f"{inputs.shape}")
        dtype = keras.backend.standardize_dtype(batch.dtype)
        low, high = np_ops.resolve_value_range(dtype, self.value_range)
        out = self._run(self.program, batch, dtype, (low, high))
        return k.squeeze(out, 0) if single else out

    def _run(self, steps: Sequence[_program.Step], x: Tensor, dtype: str,
             value_range: tuple[float, float]) -> Tensor:
        k = keras.ops
        for step in steps:
            if isinstance(step, _program.OpStep):
                layer = self.op_layers[self._layer_of[step.index]]
                x = _denormalize(layer(_normalize(x, value_range), training=True), dtype,
                                 value_range)
                continue
            u = keras.random.uniform((k.shape(x)[0],), seed=self.seed_generator)
            bounds = _program.thresholds(step.weights)
            branch = k.sum(k.cast(u[:, None] >= bounds[None, :], "int32"), axis=1)
            out = x
            for b, sub in enumerate(step.branches):
                if sub and step.weights[b] > 0:
                    chosen = k.reshape(branch == b, (-1, 1, 1, 1))
                    out = k.where(chosen, self._run(sub, x, dtype, value_range), out)
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


def _normalize(images: Tensor, value_range: tuple[float, float]) -> Tensor:
    low, high = value_range
    return (keras.ops.cast(images, "float32") - np.float32(low)) / np.float32(high - low)


def _denormalize(x: Tensor, dtype: str, value_range: tuple[float, float]) -> Tensor:
    k = keras.ops
    low, high = value_range
    out = k.clip(k.cast(x, "float32"), 0.0, 1.0) * np.float32(high - low) + np.float32(low)
    out = k.clip(out, np.float32(low), np.float32(high))
    if np.issubdtype(np.dtype(dtype), np.integer):
        out = k.round(out)
    return k.cast(out, dtype)
