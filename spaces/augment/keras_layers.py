"""Keras 3 layers for the augmentation ops of ``ops`` (TensorFlow backend).

Keras is imported lazily: importing this module (or ``ops``) does not import Keras;
``make_layer``, ``AugmentLayer`` and ``RandomApply`` do, on first use.

**Same behaviour as numpy.** An op is split into random draws and a deterministic
transform, in both implementations: ``ops.sample_params`` / ``AugmentLayer.sample_params``
draw the per-image numbers (``sign`` +-1 for geometric ops, brightness and contrast,
a standard-normal ``noise`` field for gaussian_noise, a ``center`` for cutout) and
``ops.apply_transform`` / ``AugmentLayer.apply_transform`` apply the op given them.
Given the *same draws*, the two transforms agree: bit for bit for identity, flip,
solarize, posterize, equalize and cutout (integer levels and selections); and within
1 intensity level for uint8 images or 1e-3 of the value range for float images for
the others. brightness, autocontrast and gaussian_noise run the same float32
operations in the same order (identical in practice); the geometric ops use the same
affine matrix, bilinear interpolation and constant fill but scipy computes in float64
and TensorFlow in float32; contrast sums the mean luminance in a different order.
The draws themselves come from different generators (numpy's ``Generator`` vs Keras'
``SeedGenerator``): the same integer seed does *not* give the same signs or noise in
both, only the same distribution.

**Training vs inference.** Like Keras' own random preprocessing layers, the layers
augment when called with ``training=True`` (the default of ``call``, so they augment in
``dataset.map(layer)`` and in ``model.fit``) and return their input unchanged when
``training=False`` (``model.predict``, ``model.evaluate``). ``apply_at_inference=True``
makes them augment regardless, e.g. in tests.

Inputs are batches ``(N, H, W, C)`` or single images ``(H, W, C)`` with static ``H``,
``W`` and ``C``; the output keeps the dtype and value range of the input.

Example:
    >>> import numpy as np
    >>> layer = make_layer("solarize", 0.6)
    >>> x = np.array([[[[0], [64], [128], [255]]]], dtype=np.uint8)
    >>> np.asarray(layer(x)).ravel().tolist()
    [0, 64, 127, 0]
    >>> np.asarray(layer(x, training=False)).ravel().tolist()
    [0, 64, 128, 255]
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from da_bridge._imports import require
from da_bridge.errors import OptionError

from . import ops as np_ops

Tensor = Any
Params = Mapping[str, Tensor]
_CLASS_NAMES = ("AugmentLayer", "RandomApply")


def _keras() -> ModuleType:
    return require("keras", "keras")


def _k() -> ModuleType:
    return _keras().ops


# ----------------------------------------------------------------------------- kernels
# Each kernel mirrors the numpy kernel of the same op, on float32 images in [0, 1].


def _tf_vector(coef: np.ndarray) -> np.ndarray:
    """``ops.affine_coefficients`` ([A00, A01, A10, A11, o0, o1] in row/col order) as
    TensorFlow's projective vector ``[a0, a1, a2, b0, b1, b2, 0, 0]`` in x/y order."""
    a00, a01, a10, a11, o0, o1 = coef
    return np.array([a11, a10, o1, a01, a00, o0, 0.0, 0.0], dtype=np.float32)


def _geometric_kernel(name: str) -> Callable[[Tensor, float, Params], Tensor]:
    def kernel(x: Tensor, m: float, params: Params) -> Tensor:
        k = _k()
        base, delta = np_ops.affine_coefficients(name, m, x.shape[1], x.shape[2])
        sign = k.cast(params["sign"], "float32")[:, None]
        transform = _tf_vector(base)[None, :] + sign * _tf_vector(delta)[None, :]
        return k.image.affine_transform(
            x,
            transform,
            interpolation="bilinear",
            fill_mode="constant",
            fill_value=np_ops.GEOMETRIC_FILL,
            data_format="channels_last",
        )

    return kernel


def _factors(m: float, params: Params) -> Tensor:
    sign = _k().cast(params["sign"], "float32")
    return _k().reshape(1.0 + sign * np.float32(np_ops.MAX_ENHANCE * m), (-1, 1, 1, 1))


def _brightness_kernel(x: Tensor, m: float, params: Params) -> Tensor:
    return x * _factors(m, params)


def _contrast_kernel(x: Tensor, m: float, params: Params) -> Tensor:
    k = _k()
    grey = x
    if x.shape[-1] == 3:
        grey = k.sum(x * np.asarray(np_ops.LUMA_WEIGHTS, dtype=np.float32), axis=-1)
    mean = k.reshape(k.mean(k.reshape(grey, (k.shape(x)[0], -1)), axis=1), (-1, 1, 1, 1))
    return mean + _factors(m, params) * (x - mean)


def _solarize_kernel(x: Tensor, m: float, params: Params) -> Tensor:
    return _k().where(x > np.float32(1.0 - m), 1.0 - x, x)


def _levels(x: Tensor) -> Tensor:
    k = _k()
    return k.cast(k.clip(k.floor(x * 256.0), 0.0, 255.0), "int32")


def _posterize_kernel(x: Tensor, m: float, params: Params) -> Tensor:
    bits = np_ops.posterize_bits(m)
    if bits >= 8:
        return x
    step = 2 ** (8 - bits)
    return _k().cast((_levels(x) // step) * step, "float32") / np.float32(255.0)


def _equalize_kernel(x: Tensor, m: float, params: Params) -> Tensor:
    k = _k()
    h, w, c = x.shape[1:]
    planes = k.reshape(k.transpose(x, (0, 3, 1, 2)), (-1, h * w))  # (N*C, H*W)
    levels = _levels(planes)
    cdf = k.cumsum(k.bincount(levels, minlength=256), axis=1)
    cdf_min = k.take_along_axis(cdf, k.min(levels, axis=1, keepdims=True), axis=1)
    denom = cdf[:, -1:] - cdf_min
    lut = k.clip((((cdf - cdf_min) * 255) + denom // 2) // k.maximum(denom, 1), 0, 255)
    equalized = k.cast(k.take_along_axis(lut, levels, axis=1), "float32") / np.float32(255.0)
    out = k.where(denom > 0, equalized, planes)
    return k.transpose(k.reshape(out, (-1, c, h, w)), (0, 2, 3, 1))


def _autocontrast_kernel(x: Tensor, m: float, params: Params) -> Tensor:
    k = _k()
    low = k.min(x, axis=(1, 2), keepdims=True)
    spread = k.max(x, axis=(1, 2), keepdims=True) - low
    stretched = (x - low) / k.where(spread > 0, spread, 1.0)
    return k.where(spread > 0, stretched, x)


def _noise_kernel(x: Tensor, m: float, params: Params) -> Tensor:
    noise = _k().cast(params["noise"], "float32")
    return x + noise * np.float32(np_ops.MAX_NOISE_STD * m)


def _cutout_kernel(x: Tensor, m: float, params: Params) -> Tensor:
    k = _k()
    h, w = x.shape[1], x.shape[2]
    size = np_ops.cutout_size(m, h, w)
    center = k.cast(params["center"], "int32")
    top, left = center[:, 0:1] - size // 2, center[:, 1:2] - size // 2
    rows, cols = k.arange(h, dtype="int32")[None, :], k.arange(w, dtype="int32")[None, :]
    in_rows = (rows >= top) & (rows < top + size)
    in_cols = (cols >= left) & (cols < left + size)
    mask = in_rows[:, :, None, None] & in_cols[:, None, :, None]
    return k.where(mask, np.float32(np_ops.CUTOUT_FILL), x)


_KERNELS: dict[str, Callable[[Tensor, float, Params], Tensor]] = {
    "identity": lambda x, m, params: x,
    **{name: _geometric_kernel(name) for name in np_ops.GEOMETRIC_OPS},
    "flip": lambda x, m, params: _k().flip(x, axis=2),
    "brightness": _brightness_kernel,
    "contrast": _contrast_kernel,
    "solarize": _solarize_kernel,
    "posterize": _posterize_kernel,
    "equalize": _equalize_kernel,
    "autocontrast": _autocontrast_kernel,
    "gaussian_noise": _noise_kernel,
    "cutout": _cutout_kernel,
}


# ----------------------------------------------------------------------------- helpers


def _normalize(images: Tensor, low: float, high: float) -> Tensor:
    return (_k().cast(images, "float32") - np.float32(low)) / np.float32(high - low)


def _denormalize(x: Tensor, dtype: str, low: float, high: float) -> Tensor:
    k = _k()
    out = k.clip(x, 0.0, 1.0) * np.float32(high - low) + np.float32(low)
    out = k.clip(out, np.float32(low), np.float32(high))
    if np.issubdtype(np.dtype(dtype), np.integer):
        out = k.round(out)
    return k.cast(out, dtype)


def _with_batch(fn: Callable[[Tensor], Tensor], images: Tensor) -> Tensor:
    """Apply ``fn`` (batch -> batch) to a batch or to a single image."""
    k = _k()
    if len(images.shape) == 3:
        return k.squeeze(fn(k.expand_dims(images, 0)), 0)
    if len(images.shape) != 4:
        raise OptionError(f"expected (N, H, W, C) or (H, W, C) images; got {images.shape}")
    return fn(images)


def _check_static(images: Tensor) -> None:
    if any(dim is None for dim in images.shape[1:]):
        raise OptionError(f"height, width and channels must be static; got {images.shape}")


def _draw(kind: str, images: Tensor, seed: Any) -> Tensor:
    """Keras counterpart of ``ops.sample_params``' draws, for a static-size batch."""
    keras, k = _keras(), _k()
    n, h, w = k.shape(images)[0], images.shape[1], images.shape[2]
    if kind == "sign":
        return k.where(keras.random.uniform((n,), seed=seed) < 0.5, -1.0, 1.0)
    if kind == "noise":
        return keras.random.normal(k.shape(images), seed=seed)
    scaled = keras.random.uniform((n, 2), seed=seed) * np.array([h, w], dtype=np.float32)
    return k.minimum(k.cast(k.floor(scaled), "int32"), np.array([h - 1, w - 1], np.int32))


@functools.cache
def _classes() -> dict[str, type]:
    """Define (once) the Keras layer classes; this is where Keras gets imported."""
    keras = _keras()
    register = keras.saving.register_keras_serializable(package="da_bridge.augment")

    layer: Any = keras.layers.Layer  # a base class from the lazily imported module

    class ShapePreserving(layer):
        """A layer whose output has its input's shape and dtype."""

        def compute_output_shape(self, input_shape: tuple) -> tuple:
            return input_shape

        def compute_output_spec(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
            return keras.KerasTensor(inputs.shape, dtype=inputs.dtype)

    @register
    class AugmentLayer(ShapePreserving):
        """One augmentation op as a Keras layer; see the module docstring.

        Args:
            op: A key of ``ops.OPS``.
            magnitude: Strength in [0, 1] (ignored by ops without a magnitude).
            value_range: ``(low, high)`` of the pixels, or None to infer it from the
                input dtype at call time (uint8 -> (0, 255), floats -> (0, 1)).
            seed: Seed of the layer's ``keras.random.SeedGenerator``.
            apply_at_inference: Augment even when ``training=False``.
        """

        def __init__(
            self,
            op: str,
            magnitude: float = 0.0,
            value_range: Sequence[float] | None = None,
            seed: int | None = None,
            apply_at_inference: bool = False,
            **kwargs: Any,
        ) -> None:
            super().__init__(autocast=False, **kwargs)
            self.spec = np_ops.get_op(op)
            self.magnitude = float(magnitude)
            if self.spec.has_magnitude and not 0.0 <= self.magnitude <= 1.0:
                raise OptionError(f"magnitude must be in [0, 1]; got {magnitude}")
            self.value_range = None if value_range is None else tuple(value_range)
            self.seed = seed
            self.seed_generator = keras.random.SeedGenerator(seed)
            self.apply_at_inference = bool(apply_at_inference)

        def sample_params(self, images: Tensor) -> dict[str, Tensor]:
            """Draw this op's per-image random numbers for a batch (N, H, W, C)."""
            return {d: _draw(d, images, self.seed_generator) for d in self.spec.draws}

        def apply_transform(self, images: Tensor, params: Params) -> Tensor:
            """Apply the op to a batch (N, H, W, C) given draws; no randomness."""
            images = keras.ops.convert_to_tensor(images)
            _check_static(images)
            dtype = keras.backend.standardize_dtype(images.dtype)
            low, high = np_ops.resolve_value_range(dtype, self.value_range)
            m = self.magnitude if self.spec.has_magnitude else 0.0
            x = _KERNELS[self.spec.name](_normalize(images, low, high), m, params)
            return _denormalize(x, dtype, low, high)

        def call(self, inputs: Tensor, training: bool = True) -> Tensor:
            if not (training or self.apply_at_inference):
                return inputs

            def augment(batch: Tensor) -> Tensor:
                _check_static(batch)
                return self.apply_transform(batch, self.sample_params(batch))

            return _with_batch(augment, inputs)

        def get_config(self) -> dict[str, Any]:
            return {
                **super().get_config(),
                "op": self.spec.name,
                "magnitude": self.magnitude,
                "value_range": self.value_range,
                "seed": self.seed,
                "apply_at_inference": self.apply_at_inference,
            }

    @register
    class RandomApply(ShapePreserving):
        """Apply ``layer`` to each image independently with ``probability``.

        Keras 3 has no such gate. Per image, ``u ~ U[0, 1)`` is drawn and the image is
        replaced by ``layer(batch, training=True)[i]`` iff ``u < probability``; so
        probability 0 is the identity and probability 1 always applies. With
        ``training=False`` the input is returned unchanged unless
        ``apply_at_inference=True``.

        Args:
            layer: A Keras layer mapping a batch to a batch of the same shape and dtype.
            probability: In [0, 1].
            seed: Seed of the gate's ``keras.random.SeedGenerator``.
            apply_at_inference: Gate and augment even when ``training=False``.
        """

        def __init__(
            self,
            layer: Any,
            probability: float = 0.5,
            seed: int | None = None,
            apply_at_inference: bool = False,
            **kwargs: Any,
        ) -> None:
            super().__init__(autocast=False, **kwargs)
            if not 0.0 <= float(probability) <= 1.0:
                raise OptionError(f"probability must be in [0, 1]; got {probability}")
            self.layer = layer
            self.probability = float(probability)
            self.seed = seed
            self.seed_generator = keras.random.SeedGenerator(seed)
            self.apply_at_inference = bool(apply_at_inference)

        def call(self, inputs: Tensor, training: bool = True) -> Tensor:
            if not (training or self.apply_at_inference):
                return inputs
            return _with_batch(self._gate, inputs)

        def _gate(self, batch: Tensor) -> Tensor:
            k = keras.ops
            u = keras.random.uniform((k.shape(batch)[0],), seed=self.seed_generator)
            keep = k.reshape(u < self.probability, (-1, 1, 1, 1))
            return k.where(keep, self.layer(batch, training=True), batch)

        def get_config(self) -> dict[str, Any]:
            return {
                **super().get_config(),
                "layer": keras.saving.serialize_keras_object(self.layer),
                "probability": self.probability,
                "seed": self.seed,
                "apply_at_inference": self.apply_at_inference,
            }

        @classmethod
        def from_config(cls, config: dict[str, Any]) -> RandomApply:
            config = dict(config)
            config["layer"] = keras.saving.deserialize_keras_object(config["layer"])
            return cls(**config)

    classes = {"AugmentLayer": AugmentLayer, "RandomApply": RandomApply}
    for name, cls in classes.items():
        cls.__qualname__ = name
    return classes


def make_layer(
    name: str,
    magnitude: float = 0.0,
    *,
    value_range: Sequence[float] | None = None,
    seed: int | None = None,
    apply_at_inference: bool = False,
) -> Any:
    """Return an ``AugmentLayer`` (a ``keras.layers.Layer``) for op ``name``.

    Args:
        name: A key of ``ops.OPS``.
        magnitude: Strength in [0, 1].
        value_range: ``(low, high)`` of the pixels; inferred from the dtype if None.
        seed: Seed for the layer's random draws.
        apply_at_inference: Augment even when called with ``training=False``.

    Raises:
        ValueError: For an unknown op (listing the known ones) or a bad magnitude.

    Example:
        >>> import numpy as np
        >>> layer = make_layer("flip", seed=0)
        >>> np.asarray(layer(np.array([[[[0.25], [0.75]]]]))).ravel().tolist()
        [0.75, 0.25]
    """
    np_ops.get_op(name)
    return _classes()["AugmentLayer"](
        name, magnitude, value_range, seed, apply_at_inference=apply_at_inference
    )


def __getattr__(name: str) -> type:
    """Give ``AugmentLayer`` and ``RandomApply`` lazily (importing Keras then)."""
    if name in _CLASS_NAMES:
        return _classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_CLASS_NAMES])
