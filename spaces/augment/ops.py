"""Image-augmentation operations on numpy batches, mirroring Keras 3's preprocessing layers.

Every op has the signature ``op(images, magnitude, rng=None, *, value_range=None)``
and works on a batch ``(N, H, W, C)`` of any size (8x8 grayscale digits, 32x32 RGB, ...).
Each op is the numpy twin of the Keras layer it compiles to (``layers.op_layer``): the
same per-image random parameters, drawn from the same distribution, and the same
transform, so a policy's numpy callable and its Keras layer augment alike.

Conventions shared by all ops:

* **Value range.** Pixels live in ``value_range=(low, high)``. When it is not given it
  is inferred from the dtype: ``uint8`` -> ``(0, 255)``, floating dtypes -> ``(0, 1)``;
  any other dtype needs an explicit range (sklearn digits, float in [0, 16], need
  ``value_range=(0, 16)``). Images are mapped to [0, 1] in float32, transformed,
  clipped, mapped back and cast to the input dtype (integers are rounded half to even);
  input pixels outside the range are clipped to it. float64 images are computed in
  float32 too. posterize and equalize work on 8-bit levels of the range.
* **Magnitude.** A float in [0, 1] (AutoAugment's levels 0..10 divided by 10), mapped
  to each op's own range (see ``OPS[name].magnitude_range``). As in Keras' layers, the
  strength of a geometric op, brightness and contrast is drawn per image uniformly
  between minus and plus the magnitude's maximum (``level`` in [-1, 1] times it). Ops
  without a magnitude (flip, equalize, autocontrast, identity) ignore it. Every op with
  a magnitude is the identity at magnitude 0 (``OpSpec.identity_at_zero``).
* **Randomness.** ``sample_params`` draws the per-image numbers an op uses (``level``,
  ``flip``, ``noise``, ``corner``) from ``np.random.default_rng(rng)`` (an int seed or
  a ``np.random.Generator``) and ``apply_transform`` applies an op given them, so
  outputs are deterministic given a seed.
* **Geometry.** Keras' affine maps (rotation and zoom about the centre, shear about the
  top-left corner, as ``keras.layers.RandomShear`` does), applied with
  ``scipy.ndimage.affine_transform``, ``order=1`` (bilinear), ``mode="grid-constant"``
  and black outside (``fill_mode="constant"`` in Keras).

Example:
    >>> x = np.arange(64, dtype=np.uint8).reshape(1, 8, 8, 1)
    >>> apply_op("rotate", x, 0.5, rng=0).shape
    (1, 8, 8, 1)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from da_bridge.errors import DomainError, OptionError

Params = Mapping[str, np.ndarray]
Seed = np.random.Generator | int | None
ValueRange = Sequence[float]
Kernel = Callable[[np.ndarray, float, Params], np.ndarray]

MAX_ROTATE_DEGREES = 30.0
MAX_SHEAR = 0.3
MAX_TRANSLATE = 0.3
MAX_ZOOM = 0.5
MAX_BRIGHTNESS = 0.5
MAX_CONTRAST = 0.9
MAX_POSTERIZE_DROP = 4
MAX_NOISE_STD = 0.1
MAX_CUTOUT = 0.5
GEOMETRIC_FILL = 0.0
CUTOUT_FILL = 0.5


@dataclass(frozen=True)
class OpSpec:
    """One registered op.

    Attributes:
        name: The registry key.
        fn: The public function ``fn(images, magnitude, rng=None, *, value_range=None)``.
        has_magnitude: Whether the magnitude changes the result.
        magnitude_range: What magnitude 0..1 maps to.
        kernel: ``kernel(x, magnitude, params)`` on float32 images normalized to [0, 1].
        draws: Names of the per-image random draws the op uses (see ``sample_params``).
        keras: The Keras layer it compiles to (``layers.op_layer``).
    """

    name: str
    fn: Callable[..., np.ndarray]
    has_magnitude: bool
    magnitude_range: str
    kernel: Kernel
    draws: tuple[str, ...] = ()
    keras: str = ""

    @property
    def identity_at_zero(self) -> bool:
        """Whether magnitude 0 leaves every image unchanged (true of every op with one)."""
        return self.has_magnitude


# ----------------------------------------------------------------------------- helpers


def resolve_value_range(
    dtype: np.dtype | str, value_range: ValueRange | None = None
) -> tuple[float, float]:
    """Return ``(low, high)``: the given range, or the default for ``dtype``.

    Args:
        dtype: The images' dtype.
        value_range: An explicit ``(low, high)`` with ``high > low``, or None.

    Returns:
        ``value_range`` as floats; else ``(0, 255)`` for uint8, ``(0, 1)`` for floats.

    Raises:
        ValueError: If the range is empty or cannot be inferred from ``dtype``.

    Example:
        >>> resolve_value_range("uint8"), resolve_value_range("float32", (0, 16))
        ((0.0, 255.0), (0.0, 16.0))
    """
    if value_range is not None:
        low, high = (float(v) for v in value_range)
        if not high > low:
            raise OptionError(f"value_range must have high > low; got {value_range!r}")
        return low, high
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return 0.0, 255.0
    if np.issubdtype(dtype, np.floating):
        return 0.0, 1.0
    raise OptionError(f"cannot infer a value range for dtype {dtype}; pass value_range")


def _round_half_up(value: float) -> int:
    return int(math.floor(value + 0.5))


def posterize_bits(magnitude: float) -> int:
    """Bits kept by posterize: 8 at magnitude 0 down to 4 at magnitude 1.

    Example:
        >>> [posterize_bits(m) for m in (0.0, 0.5, 1.0)]
        [8, 6, 4]
    """
    return 8 - _round_half_up(MAX_POSTERIZE_DROP * magnitude)


def affine_coefficients(name: str, value: np.ndarray, height: int, width: int) -> np.ndarray:
    """Per-image coefficients of a geometric op's output->input pixel map (Keras' maps).

    ``value`` is the per-image strength: degrees (rotate), shear (shear_x/y), pixels
    (translate_x/y) or scale (zoom). Row ``i`` of the result is
    ``[A00, A01, A10, A11, o0, o1]`` with ``[row_in, col_in] = A @ [row, col] + o``:
    Keras' ``RandomRotation`` (counter-clockwise for a positive angle) and
    ``RandomZoom`` (a scale above 1 zooms out) about the centre ``((H-1)/2, (W-1)/2)``,
    ``RandomShear`` about the top-left corner, ``RandomTranslation`` (content moves by
    ``value`` pixels right/down).

    Example:
        >>> affine_coefficients("translate_x", np.array([1.5]), 8, 10).tolist()
        [[1.0, 0.0, 0.0, 1.0, 0.0, -1.5]]
    """
    v = np.asarray(value, dtype=np.float64)
    one, zero = np.ones_like(v), np.zeros_like(v)
    cy, cx = (height - 1) / 2, (width - 1) / 2
    if name == "rotate":
        cos, sin = np.cos(np.radians(v)), np.sin(np.radians(v))
        rows = [cos, sin, -sin, cos, cy - cos * cy - sin * cx, cx + sin * cy - cos * cx]
    elif name == "shear_x":
        rows = [one, zero, v, one, zero, zero]
    elif name == "shear_y":
        rows = [one, v, zero, one, zero, zero]
    elif name == "translate_x":
        rows = [one, zero, zero, one, zero, -v]
    elif name == "translate_y":
        rows = [one, zero, zero, one, -v, zero]
    elif name == "zoom":
        rows = [v, zero, zero, v, cy * (1 - v), cx * (1 - v)]
    else:
        raise DomainError("geometric op", name, ", ".join(GEOMETRIC_OPS))
    return np.stack(rows, axis=1)


def geometric_strength(name: str, magnitude: float, height: int, width: int) -> float:
    """The largest strength of a geometric op at ``magnitude`` (drawn in +-this, or 1 +-
    this for zoom): degrees, shear, pixels or scale change.

    Example:
        >>> geometric_strength("rotate", 0.5, 8, 8), geometric_strength("translate_x", 1, 8, 10)
        (15.0, 3.0)
    """
    per_unit = {"rotate": MAX_ROTATE_DEGREES, "shear_x": MAX_SHEAR, "shear_y": MAX_SHEAR,
                "translate_x": MAX_TRANSLATE * width, "translate_y": MAX_TRANSLATE * height,
                "zoom": MAX_ZOOM}
    return per_unit[name] * magnitude


def erase_side(magnitude: float) -> float:
    """Side of the cutout rectangle as a fraction of the height and of the width.

    Example:
        >>> erase_side(1.0), erase_side(0.4)
        (0.5, 0.2)
    """
    return MAX_CUTOUT * magnitude


def _check_images(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 4:
        raise OptionError(f"images must be a batch (N, H, W, C); got shape {images.shape}")
    return images


def _check_magnitude(magnitude: float) -> float:
    magnitude = float(magnitude)
    if not 0.0 <= magnitude <= 1.0:
        raise OptionError(f"magnitude must be in [0, 1]; got {magnitude}")
    return magnitude


def _normalize(images: np.ndarray, low: float, high: float) -> np.ndarray:
    scaled = images.astype(np.float32) - np.float32(low)
    return scaled / np.float32(high - low)


def _denormalize(x: np.ndarray, dtype: np.dtype, low: float, high: float) -> np.ndarray:
    out = np.clip(x, 0.0, 1.0).astype(np.float32) * np.float32(high - low) + np.float32(low)
    out = np.clip(out, np.float32(low), np.float32(high))
    if np.issubdtype(dtype, np.integer):
        out = np.rint(out)
    return out.astype(dtype)


def _levels(x: np.ndarray) -> np.ndarray:
    """8-bit levels of normalized pixels; exact for images that came from uint8."""
    return np.clip(np.floor(x * np.float32(256.0)), 0, 255).astype(np.int64)


# ----------------------------------------------------------------------------- kernels


def _identity_kernel(x: np.ndarray, m: float, params: Params) -> np.ndarray:
    return x


def _geometric_kernel(name: str) -> Kernel:
    def kernel(x: np.ndarray, m: float, params: Params) -> np.ndarray:
        level = params["level"].astype(np.float64)
        strength = geometric_strength(name, m, x.shape[1], x.shape[2])
        value = 1.0 + level * strength if name == "zoom" else level * strength
        coefs = affine_coefficients(name, value, x.shape[1], x.shape[2])
        return np.stack([_warp(image, coef) for image, coef in zip(x, coefs, strict=True)])

    return kernel


def _warp(image: np.ndarray, coef: np.ndarray) -> np.ndarray:
    matrix = np.eye(3)
    matrix[:2, :2] = coef[:4].reshape(2, 2)
    offset = np.array([coef[4], coef[5], 0.0])
    return ndimage.affine_transform(
        image, matrix, offset=offset, order=1, mode="grid-constant", cval=GEOMETRIC_FILL
    )


def _flip_kernel(x: np.ndarray, m: float, params: Params) -> np.ndarray:
    return np.where(params["flip"][:, None, None, None], x[:, :, ::-1, :], x)


def _brightness_kernel(x: np.ndarray, m: float, params: Params) -> np.ndarray:
    delta = params["level"].astype(np.float32) * np.float32(MAX_BRIGHTNESS * m)
    return x + delta[:, None, None, None]


def _contrast_kernel(x: np.ndarray, m: float, params: Params) -> np.ndarray:
    factor = np.float32(1.0) + params["level"].astype(np.float32) * np.float32(MAX_CONTRAST * m)
    mean = x.mean(axis=(1, 2), keepdims=True, dtype=np.float32)
    return (x - mean) * factor[:, None, None, None] + mean


def _solarize_kernel(x: np.ndarray, m: float, params: Params) -> np.ndarray:
    return np.where(x > np.float32(1.0 - m), np.float32(1.0) - x, x)


def _posterize_kernel(x: np.ndarray, m: float, params: Params) -> np.ndarray:
    shift = 8 - posterize_bits(m)
    if shift == 0:
        return x
    levels = np.clip(x * np.float32(255.0), 0, 255).astype(np.uint8)  # truncates, as Keras
    return ((levels >> shift) << shift).astype(np.float32) / np.float32(255.0)


def equalize_lut(hist: np.ndarray, bottom: int) -> np.ndarray | None:
    """OpenCV's ``equalizeHist`` table for a 256-bin histogram starting at level ``bottom``.

    ``lut[k] = round(255 * (cdf[k] - cdf[bottom]) / (total - cdf[bottom]))`` in integer
    arithmetic. Returns None for a flat image, which is left unchanged. (PIL's formula
    is not used: it leaves any image with fewer than ~256 pixels, e.g. 8x8, unchanged.)

    Example:
        >>> hist = np.zeros(256, dtype=np.int64); hist[[10, 20, 30]] = 2
        >>> equalize_lut(hist, 10)[[10, 20, 30]].tolist()
        [0, 128, 255]
    """
    cdf = np.cumsum(hist)
    denom = int(cdf[-1] - cdf[bottom])
    if denom == 0:
        return None
    return np.clip(((cdf - cdf[bottom]) * 255 + denom // 2) // denom, 0, 255)


def _equalize_kernel(x: np.ndarray, m: float, params: Params) -> np.ndarray:
    levels, out = _levels(x), x.copy()
    for i, c in np.ndindex(x.shape[0], x.shape[3]):
        plane = levels[i, :, :, c]
        lut = equalize_lut(np.bincount(plane.ravel(), minlength=256), int(plane.min()))
        if lut is not None:
            out[i, :, :, c] = lut[plane].astype(np.float32) / np.float32(255.0)
    return out


def _autocontrast_kernel(x: np.ndarray, m: float, params: Params) -> np.ndarray:
    low = x.min(axis=(1, 2), keepdims=True)
    high = x.max(axis=(1, 2), keepdims=True)
    spread = high - low
    stretched = (x - low) / np.where(spread > 0, spread, np.float32(1.0))
    return np.where(spread > 0, stretched, x)


def _noise_kernel(x: np.ndarray, m: float, params: Params) -> np.ndarray:
    return x + params["noise"].astype(np.float32) * np.float32(MAX_NOISE_STD * m)


def _cutout_kernel(x: np.ndarray, m: float, params: Params) -> np.ndarray:
    """``keras.layers.RandomErasing`` with a fixed side: the rectangle's start is uniform
    over the positions that keep it inside the image (in float pixel units)."""
    n, h, w, _ = x.shape
    side = np.float32(erase_side(m))
    corner = params["corner"].astype(np.float32)
    top = corner[:, 0, None] * (np.float32(h) - side * h)
    left = corner[:, 1, None] * (np.float32(w) - side * w)
    rows, cols = np.arange(h, dtype=np.float32)[None, :], np.arange(w, dtype=np.float32)[None, :]
    in_rows = (rows >= top) & (rows < top + side * h)
    in_cols = (cols >= left) & (cols < left + side * w)
    mask = in_rows[:, :, None, None] & in_cols[:, None, :, None]
    return np.where(mask, np.float32(CUTOUT_FILL), x)


# ----------------------------------------------------------------------------- random draws


def _draw_levels(gen: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return gen.uniform(-1.0, 1.0, shape[0]).astype(np.float32)


def _draw_flips(gen: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return gen.random(shape[0]) <= 0.5


def _draw_noise(gen: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return gen.standard_normal(shape, dtype=np.float32)


def _draw_corners(gen: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return gen.random((shape[0], 2), dtype=np.float32)


_DRAWERS = {"level": _draw_levels, "flip": _draw_flips, "noise": _draw_noise,
            "corner": _draw_corners}


def sample_params(name: str, shape: Sequence[int], rng: Seed = None) -> dict[str, np.ndarray]:
    """Draw the per-image random numbers op ``name`` needs for a batch of ``shape``.

    Draws: ``level`` float32 (N,) uniform in [-1, 1) (geometric ops, brightness,
    contrast: the strength as a fraction of the magnitude's maximum), ``flip`` bool (N,)
    true with probability 1/2, ``noise`` float32 standard normal (N, H, W, C)
    (gaussian_noise), ``corner`` float32 (N, 2) uniform in [0, 1): where the cutout
    rectangle starts, as a fraction of the free rows and columns. Other ops draw nothing.

    Example:
        >>> sorted(sample_params("cutout", (2, 8, 8, 1), rng=0))
        ['corner']
        >>> sample_params("flip", (3, 8, 8, 1), rng=0)["flip"].tolist()
        [False, True, True]
    """
    gen = np.random.default_rng(rng)
    shape = tuple(int(s) for s in shape)
    return {draw: _DRAWERS[draw](gen, shape) for draw in get_op(name).draws}


def apply_transform(
    name: str,
    images: np.ndarray,
    magnitude: float,
    params: Params,
    *,
    value_range: ValueRange | None = None,
) -> np.ndarray:
    """Apply op ``name`` with given random draws (from ``sample_params``); no randomness.

    Example:
        >>> x = np.full((2, 4, 4, 1), 100, dtype=np.uint8)
        >>> params = {"level": np.array([1.0, -1.0], dtype=np.float32)}
        >>> apply_transform("brightness", x, 0.5, params)[:, 0, 0, 0].tolist()
        [164, 36]
    """
    spec = get_op(name)
    images = _check_images(images)
    magnitude = _check_magnitude(magnitude) if spec.has_magnitude else 0.0
    low, high = resolve_value_range(images.dtype, value_range)
    x = spec.kernel(_normalize(images, low, high), magnitude, params)
    return _denormalize(x, images.dtype, low, high)


def get_op(name: str) -> OpSpec:
    """Return the registered ``OpSpec`` called ``name``.

    Raises:
        DomainError: (a ValueError) naming the unknown op and listing the known ones.

    Example:
        >>> get_op("zoom").has_magnitude, get_op("flip").has_magnitude
        (True, False)
    """
    try:
        return OPS[name]
    except (KeyError, TypeError):
        raise DomainError("augmentation op", name, "one of " + ", ".join(OPS)) from None


def apply_op(
    name: str,
    images: np.ndarray,
    magnitude: float,
    rng: Seed = None,
    *,
    value_range: ValueRange | None = None,
) -> np.ndarray:
    """Apply op ``name`` to a batch, drawing its random numbers from ``rng``.

    Args:
        name: A key of ``OPS``.
        images: Batch ``(N, H, W, C)``, uint8 or float.
        magnitude: Strength in [0, 1]; ignored by ops without a magnitude.
        rng: An int seed, a ``np.random.Generator`` or None.
        value_range: ``(low, high)`` of the pixels; inferred from the dtype if None.

    Returns:
        A new batch with the same shape, dtype and value range.

    Raises:
        ValueError: For an unknown op, a bad magnitude, shape or value range.

    Example:
        >>> x = np.zeros((1, 8, 8, 1), dtype=np.float32)
        >>> apply_op("cutout", x, 1.0, rng=0).max()
        np.float32(0.5)
    """
    images = _check_images(images)
    params = sample_params(name, images.shape, rng)
    return apply_transform(name, images, magnitude, params, value_range=value_range)


# ----------------------------------------------------------------------------- public ops

_ROW = np.array([[[[0], [64], [128], [255]]]], dtype=np.uint8)  # shape (1, 1, 4, 1)


def _public_op(name: str, doc: str, *, has_magnitude: bool = True) -> Callable[..., np.ndarray]:
    """The public function of op ``name``: ``apply_op`` with the name filled in."""
    def with_magnitude(images: np.ndarray, magnitude: float, rng: Seed = None, *,
                       value_range: ValueRange | None = None) -> np.ndarray:
        return apply_op(name, images, magnitude, rng, value_range=value_range)

    def optional_magnitude(images: np.ndarray, magnitude: float = 0.0, rng: Seed = None, *,
                           value_range: ValueRange | None = None) -> np.ndarray:
        return apply_op(name, images, magnitude, rng, value_range=value_range)  # ignored

    op = with_magnitude if has_magnitude else optional_magnitude
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


identity = _public_op(
    "identity",
    """Return a copy of the batch.

    Example:
        >>> identity(_ROW, 1.0).ravel().tolist()
        [0, 64, 128, 255]
    """,
    has_magnitude=False,
)

rotate = _public_op(
    "rotate",
    """Rotate about the centre by an angle drawn per image from +-30 * magnitude degrees.

    Example:
        >>> x = np.random.default_rng(0).random((2, 8, 8, 1))
        >>> np.allclose(rotate(x, 0.0, rng=1), x), rotate(x, 1.0, rng=1).shape
        (True, (2, 8, 8, 1))
    """,
)

shear_x = _public_op(
    "shear_x",
    """Shear horizontally about the top-left corner by a factor drawn from +-0.3 * magnitude.

    Example:
        >>> x = np.full((1, 5, 5, 1), 200, dtype=np.uint8)
        >>> out = apply_transform("shear_x", x, 1.0, {"level": np.array([1.0])})
        >>> out[0, [0, -1], :, 0].tolist()  # the bottom row moves left by 1.2 pixels
        [[200, 200, 200, 200, 200], [200, 200, 200, 160, 0]]
    """,
)

shear_y = _public_op(
    "shear_y",
    """Shear vertically about the top-left corner by a factor drawn from +-0.3 * magnitude.

    Example:
        >>> x = np.full((1, 5, 5, 1), 200, dtype=np.uint8)
        >>> out = apply_transform("shear_y", x, 1.0, {"level": np.array([1.0])})
        >>> out[0, :, -1, 0].tolist()  # the right column moves up by 1.2 pixels
        [200, 200, 200, 160, 0]
    """,
)

translate_x = _public_op(
    "translate_x",
    """Shift horizontally by a distance drawn from +-0.3 * magnitude * W pixels.

    Example:
        >>> apply_transform("translate_x", _ROW, 1 / 1.2, {"level": np.array([1.0])}).ravel()
        array([  0,   0,  64, 128], dtype=uint8)
    """,
)

translate_y = _public_op(
    "translate_y",
    """Shift vertically by a distance drawn from +-0.3 * magnitude * H pixels.

    Example:
        >>> col = _ROW.transpose(0, 2, 1, 3)
        >>> apply_transform("translate_y", col, 1 / 1.2, {"level": np.array([-1.0])}).ravel()
        array([ 64, 128, 255,   0], dtype=uint8)
    """,
)

zoom = _public_op(
    "zoom",
    """Scale about the centre by a factor drawn from 1 +- 0.5 * magnitude (> 1 zooms out).

    Example:
        >>> x = np.full((1, 8, 8, 1), 9.0)
        >>> out = apply_transform("zoom", x, 1.0, {"level": np.array([1.0])}, value_range=(0, 16))
        >>> float(out[0, 0, 0, 0])  # zoomed out: black border
        0.0
    """,
)

flip = _public_op(
    "flip",
    """Mirror left-right, each image with probability 1/2 (Keras' ``RandomFlip``).

    Example:
        >>> apply_transform("flip", _ROW, 0.0, {"flip": np.array([True])}).ravel().tolist()
        [255, 128, 64, 0]
    """,
    has_magnitude=False,
)

brightness = _public_op(
    "brightness",
    """Add a shift drawn from +-0.5 * magnitude of the range (Keras' ``RandomBrightness``).

    Example:
        >>> apply_transform("brightness", _ROW, 0.5, {"level": np.array([1.0])}).ravel().tolist()
        [64, 128, 192, 255]
    """,
)

contrast = _public_op(
    "contrast",
    """Scale each channel about its mean by a factor drawn from 1 +- 0.9 * magnitude.

    Example:
        >>> apply_transform("contrast", _ROW, 0.5, {"level": np.array([-1.0])}).ravel().tolist()
        [50, 85, 121, 191]
    """,
)

solarize = _public_op(
    "solarize",
    """Invert pixels strictly above ``1 - magnitude`` of the range.

    Example:
        >>> solarize(_ROW, 0.6).ravel().tolist()
        [0, 64, 127, 0]
    """,
)

posterize = _public_op(
    "posterize",
    """Keep ``8 - round(4 * magnitude)`` bits of each 8-bit level (8 -> 4).

    Example:
        >>> posterize(_ROW, 1.0).ravel().tolist()
        [0, 64, 128, 240]
    """,
)

equalize = _public_op(
    "equalize",
    """Equalize each image's and channel's 256-level histogram (see ``equalize_lut``).

    Example:
        >>> x = np.array([[[[10], [10], [20], [90]]]], dtype=np.uint8)
        >>> equalize(x).ravel().tolist()
        [0, 0, 128, 255]
    """,
    has_magnitude=False,
)

autocontrast = _public_op(
    "autocontrast",
    """Stretch each channel so its minimum and maximum span the range.

    Example:
        >>> autocontrast(np.array([[[[4.0], [8.0]]]]), value_range=(0, 16)).ravel().tolist()
        [0.0, 16.0]
    """,
    has_magnitude=False,
)

gaussian_noise = _public_op(
    "gaussian_noise",
    """Add gaussian noise with standard deviation ``0.1 * magnitude`` of the range.

    Example:
        >>> x = np.full((1, 8, 8, 1), 0.5, dtype=np.float32)
        >>> bool(np.all(gaussian_noise(x, 0.0, rng=0) == x))
        True
    """,
)

cutout = _public_op(
    "cutout",
    """Fill a rectangle of ``0.5 * magnitude`` of the height and of the width with grey.

    The rectangle lies inside the image, its position uniform (Keras' ``RandomErasing``
    with a fixed size and fill value).

    Example:
        >>> x = np.zeros((1, 8, 8, 1), dtype=np.uint8)
        >>> int((cutout(x, 1.0, rng=0) == 128).sum())  # 4x4 pixels
        16
    """,
)


def _spec(
    name: str,
    fn: Callable[..., np.ndarray],
    kernel: Kernel,
    keras: str,
    magnitude_range: str | None = None,
    draws: tuple[str, ...] = (),
) -> OpSpec:
    has_magnitude = magnitude_range is not None
    return OpSpec(name, fn, has_magnitude, magnitude_range or "none", kernel, draws, keras)


GEOMETRIC_OPS = ("rotate", "shear_x", "shear_y", "translate_x", "translate_y", "zoom")
_LEVEL = ("level",)

OPS: dict[str, OpSpec] = {
    spec.name: spec
    for spec in (
        _spec("identity", identity, _identity_kernel, "Identity"),
        _spec("rotate", rotate, _geometric_kernel("rotate"), "RandomRotation",
              "+-30*m degrees", _LEVEL),
        _spec("shear_x", shear_x, _geometric_kernel("shear_x"), "RandomShear",
              "+-0.3*m shear", _LEVEL),
        _spec("shear_y", shear_y, _geometric_kernel("shear_y"), "RandomShear",
              "+-0.3*m shear", _LEVEL),
        _spec("translate_x", translate_x, _geometric_kernel("translate_x"),
              "RandomTranslation", "+-0.3*m of the width", _LEVEL),
        _spec("translate_y", translate_y, _geometric_kernel("translate_y"),
              "RandomTranslation", "+-0.3*m of the height", _LEVEL),
        _spec("zoom", zoom, _geometric_kernel("zoom"), "RandomZoom", "scale 1+-0.5*m", _LEVEL),
        _spec("flip", flip, _flip_kernel, "RandomFlip", draws=("flip",)),
        _spec("brightness", brightness, _brightness_kernel, "RandomBrightness",
              "shift +-0.5*m of the range", _LEVEL),
        _spec("contrast", contrast, _contrast_kernel, "RandomContrast", "factor 1+-0.9*m",
              _LEVEL),
        _spec("solarize", solarize, _solarize_kernel, "Solarize (da_bridge)",
              "invert above 1-m of the range"),
        _spec("posterize", posterize, _posterize_kernel, "RandomPosterization",
              "8-round(4*m) bits (8 -> 4)"),
        _spec("equalize", equalize, _equalize_kernel, "Equalize (da_bridge)"),
        _spec("autocontrast", autocontrast, _autocontrast_kernel, "AutoContrast"),
        _spec("gaussian_noise", gaussian_noise, _noise_kernel, "GaussianNoise",
              "std 0.1*m of the range", ("noise",)),
        _spec("cutout", cutout, _cutout_kernel, "RandomErasing",
              "rectangle 0.5*m of H and of W", ("corner",)),
    )
}
