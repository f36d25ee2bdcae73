"""Image-augmentation operations on numpy batches, AutoAugment style.

Every op has the signature ``op(images, magnitude, rng=None, *, value_range=None)``
and works on a batch ``(N, H, W, C)`` of any size (8x8 grayscale digits, 32x32 RGB, ...).

Conventions shared by all ops (and mirrored by ``keras_layers``):

* **Value range.** Pixels live in ``value_range=(low, high)``. When it is not given it
  is inferred from the dtype: ``uint8`` -> ``(0, 255)``, floating dtypes -> ``(0, 1)``;
  any other dtype needs an explicit range (sklearn digits, float in [0, 16], need
  ``value_range=(0, 16)``). Images are mapped to [0, 1] in float32, transformed,
  clipped, mapped back and cast to the input dtype (integers are rounded half to even);
  input pixels outside the range are clipped to it. float64 images are computed in
  float32 too. equalize and posterize work on 256 levels of the range.
* **Magnitude.** A float in [0, 1] (AutoAugment's levels 0..10 divided by 10), mapped
  to each op's own range (see ``OPS[name].magnitude_range``). Ops without a magnitude
  (flip, equalize, autocontrast, identity) ignore it. Every op with a magnitude is the
  identity at magnitude 0 (up to float32 rounding for float images).
* **Randomness.** Geometric ops, brightness and contrast pick a random sign per image
  (as AutoAugment does); gaussian_noise draws a noise field and cutout a centre per
  image. The draws come from ``np.random.default_rng(rng)`` (an int seed or a
  ``np.random.Generator``), so outputs are deterministic given a seed.
  ``sample_params`` makes the draws and ``apply_transform`` applies an op given them.
* **Geometry.** ``scipy.ndimage.affine_transform`` with ``order=1`` (bilinear) about
  the image centre, ``mode="grid-constant"`` and ``cval`` = the range minimum: outside
  pixels are black and bilinear interpolation blends edge pixels with black, which is
  exactly TensorFlow's ``fill_mode="constant"`` (scipy's plain ``"constant"`` does not
  interpolate across the border).

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
MAX_ENHANCE = 0.9
MAX_POSTERIZE_DROP = 4
MAX_NOISE_STD = 0.1
MAX_CUTOUT = 0.5
GEOMETRIC_FILL = 0.0
CUTOUT_FILL = 0.5
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


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
    """

    name: str
    fn: Callable[..., np.ndarray]
    has_magnitude: bool
    magnitude_range: str
    kernel: Kernel
    draws: tuple[str, ...] = ()


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


def cutout_size(magnitude: float, height: int, width: int) -> int:
    """Side in pixels of the cutout square: ``round(0.5 * magnitude * min(H, W))``.

    Example:
        >>> cutout_size(1.0, 32, 32), cutout_size(0.0, 8, 8)
        (16, 0)
    """
    return _round_half_up(MAX_CUTOUT * magnitude * min(height, width))


def _linear_parts(name: str, m: float, h: int, w: int) -> tuple[np.ndarray, ...]:
    """(A0, A1, t0, t1) of the output->input map ``A @ (p - c) + c + t``, A = A0 + s A1."""
    eye, zero, no_shift = np.eye(2), np.zeros((2, 2)), np.zeros(2)
    if name == "rotate":
        theta = math.radians(MAX_ROTATE_DEGREES * m)
        cos, sin = math.cos(theta), math.sin(theta)
        return cos * eye, np.array([[0.0, sin], [-sin, 0.0]]), no_shift, no_shift
    if name == "shear_x":
        return eye, np.array([[0.0, 0.0], [MAX_SHEAR * m, 0.0]]), no_shift, no_shift
    if name == "shear_y":
        return eye, np.array([[0.0, MAX_SHEAR * m], [0.0, 0.0]]), no_shift, no_shift
    if name == "translate_x":
        return eye, zero, no_shift, np.array([0.0, -MAX_TRANSLATE * m * w])
    if name == "translate_y":
        return eye, zero, no_shift, np.array([-MAX_TRANSLATE * m * h, 0.0])
    if name == "zoom":
        grow, shrink = 1.0 / (1.0 + MAX_ZOOM * m), 1.0 / (1.0 - MAX_ZOOM * m)
        return (grow + shrink) / 2 * eye, (grow - shrink) / 2 * eye, no_shift, no_shift
    raise DomainError("geometric op", name, ", ".join(GEOMETRIC_OPS))


def affine_coefficients(
    name: str, magnitude: float, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients ``(base, delta)`` of a geometric op's output->input pixel map.

    For an image whose random sign is ``s`` (+1 or -1) the map is
    ``[row_in, col_in] = A @ [row, col] + o`` with
    ``[A00, A01, A10, A11, o0, o1] = base + s * delta``, pixel centres at integer
    indices, about the centre ``((H - 1) / 2, (W - 1) / 2)``. With ``s = +1``, rotate
    turns the content counter-clockwise, translate moves it right/down, zoom magnifies.

    Example:
        >>> base, delta = affine_coefficients("translate_x", 0.5, 8, 10)
        >>> base.tolist(), delta.tolist()
        ([1.0, 0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, -1.5])
    """
    a0, a1, t0, t1 = _linear_parts(name, magnitude, height, width)
    centre = np.array([(height - 1) / 2, (width - 1) / 2])
    base = np.concatenate([a0.ravel(), centre + t0 - a0 @ centre])
    delta = np.concatenate([a1.ravel(), t1 - a1 @ centre])
    return base, delta


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
        base, delta = affine_coefficients(name, m, x.shape[1], x.shape[2])
        coefs = base + params["sign"].astype(np.float64)[:, None] * delta
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
    return x[:, :, ::-1, :]


def _factors(m: float, params: Params) -> np.ndarray:
    return np.float32(1.0) + params["sign"].astype(np.float32) * np.float32(MAX_ENHANCE * m)


def _brightness_kernel(x: np.ndarray, m: float, params: Params) -> np.ndarray:
    return x * _factors(m, params)[:, None, None, None]


def _grey_mean(x: np.ndarray) -> np.ndarray:
    """Mean luminance per image, shape (N, 1, 1, 1); plain channel mean unless C == 3."""
    if x.shape[-1] == 3:
        x = np.tensordot(x, np.asarray(LUMA_WEIGHTS, dtype=np.float32), axes=([3], [0]))
    return x.reshape(x.shape[0], -1).mean(axis=1).astype(np.float32)[:, None, None, None]


def _contrast_kernel(x: np.ndarray, m: float, params: Params) -> np.ndarray:
    mean = _grey_mean(x)
    return mean + _factors(m, params)[:, None, None, None] * (x - mean)


def _solarize_kernel(x: np.ndarray, m: float, params: Params) -> np.ndarray:
    return np.where(x > np.float32(1.0 - m), np.float32(1.0) - x, x)


def _posterize_kernel(x: np.ndarray, m: float, params: Params) -> np.ndarray:
    bits = posterize_bits(m)
    if bits >= 8:
        return x
    step = 2 ** (8 - bits)
    return ((_levels(x) // step) * step).astype(np.float32) / np.float32(255.0)


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
    n, h, w, _ = x.shape
    size = cutout_size(m, h, w)
    top = params["center"][:, 0, None] - size // 2
    left = params["center"][:, 1, None] - size // 2
    rows, cols = np.arange(h)[None, :], np.arange(w)[None, :]
    in_rows = (rows >= top) & (rows < top + size)
    in_cols = (cols >= left) & (cols < left + size)
    mask = in_rows[:, :, None, None] & in_cols[:, None, :, None]
    return np.where(mask, np.float32(CUTOUT_FILL), x)


# ----------------------------------------------------------------------------- random draws


def _draw_signs(gen: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return np.where(gen.random(shape[0]) < 0.5, -1.0, 1.0).astype(np.float32)


def _draw_noise(gen: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return gen.standard_normal(shape, dtype=np.float32)


def _draw_centers(gen: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    rows = gen.integers(0, shape[1], size=shape[0])
    cols = gen.integers(0, shape[2], size=shape[0])
    return np.stack([rows, cols], axis=1)


_DRAWERS = {"sign": _draw_signs, "noise": _draw_noise, "center": _draw_centers}


def sample_params(name: str, shape: Sequence[int], rng: Seed = None) -> dict[str, np.ndarray]:
    """Draw the per-image random numbers op ``name`` needs for a batch of ``shape``.

    Draws: ``sign`` float32 (N,) of +-1 (geometric ops, brightness, contrast),
    ``noise`` float32 standard normal (N, H, W, C) (gaussian_noise), ``center`` int
    (N, 2) row/column of the cutout square's centre (cutout). Other ops draw nothing.

    Example:
        >>> sorted(sample_params("cutout", (2, 8, 8, 1), rng=0))
        ['center']
        >>> sample_params("rotate", (3, 8, 8, 1), rng=0)["sign"].tolist()
        [1.0, -1.0, -1.0]
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
        >>> params = {"sign": np.array([1.0, -1.0], dtype=np.float32)}
        >>> apply_transform("brightness", x, 0.5, params)[:, 0, 0, 0].tolist()
        [145, 55]
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
    op: Callable[..., np.ndarray]  # two signatures: the magnitude required or optional
    if has_magnitude:
        def op(images: np.ndarray, magnitude: float, rng: Seed = None, *,
               value_range: ValueRange | None = None) -> np.ndarray:
            return apply_op(name, images, magnitude, rng, value_range=value_range)
    else:  # the magnitude is optional and ignored
        def op(images: np.ndarray, magnitude: float = 0.0, rng: Seed = None, *,
               value_range: ValueRange | None = None) -> np.ndarray:
            return apply_op(name, images, magnitude, rng, value_range=value_range)
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
    """Rotate by ``30 * magnitude`` degrees about the centre, random direction per image.

    Example:
        >>> x = np.random.default_rng(0).random((2, 8, 8, 1))
        >>> np.allclose(rotate(x, 0.0, rng=1), x), rotate(x, 1.0, rng=1).shape
        (True, (2, 8, 8, 1))
    """,
)

shear_x = _public_op(
    "shear_x",
    """Shear horizontally by ``0.3 * magnitude`` (random sign) about the centre.

    Example:
        >>> x = np.full((1, 5, 5, 1), 200, dtype=np.uint8)
        >>> shear_x(x, 1.0, rng=0)[0, [0, -1], :, 0].tolist()  # top row moves right
        [[80, 200, 200, 200, 200], [200, 200, 200, 200, 80]]
    """,
)

shear_y = _public_op(
    "shear_y",
    """Shear vertically by ``0.3 * magnitude`` (random sign) about the centre.

    Example:
        >>> x = np.full((1, 5, 5, 1), 200, dtype=np.uint8)
        >>> shear_y(x, 1.0, rng=0)[0, [0, -1], :, 0].tolist()  # left column moves down
        [[80, 140, 200, 200, 200], [200, 200, 200, 140, 80]]
    """,
)

translate_x = _public_op(
    "translate_x",
    """Shift left or right by ``0.3 * magnitude * W`` pixels (random sign).

    Example:
        >>> translate_x(_ROW, 1 / 1.2, rng=0).ravel().tolist()  # 1 pixel to the right
        [0, 0, 64, 128]
    """,
)

translate_y = _public_op(
    "translate_y",
    """Shift up or down by ``0.3 * magnitude * H`` pixels (random sign).

    Example:
        >>> col = _ROW.transpose(0, 2, 1, 3)
        >>> translate_y(col, 1 / 1.2, rng=0).ravel().tolist()  # 1 pixel down
        [0, 0, 64, 128]
    """,
)

zoom = _public_op(
    "zoom",
    """Scale about the centre by ``1 +- 0.5 * magnitude`` (> 1 zooms in; random sign).

    Example:
        >>> x = np.full((1, 8, 8, 1), 9.0)
        >>> float(zoom(x, 1.0, rng=2, value_range=(0, 16))[0, 0, 0, 0])  # zoomed out
        0.0
    """,
)

flip = _public_op(
    "flip",
    """Mirror left-right (every image; use a probability gate for randomness).

    Example:
        >>> flip(_ROW).ravel().tolist()
        [255, 128, 64, 0]
    """,
    has_magnitude=False,
)

brightness = _public_op(
    "brightness",
    """Multiply pixels by ``1 +- 0.9 * magnitude`` (random sign per image).

    Example:
        >>> brightness(_ROW, 0.5, rng=0).ravel().tolist()  # factor 1.45
        [0, 93, 186, 255]
    """,
)

contrast = _public_op(
    "contrast",
    """Blend with the mean luminance by ``1 +- 0.9 * magnitude`` (PIL's Contrast).

    Example:
        >>> contrast(_ROW, 0.5, rng=2).ravel().tolist()  # factor 0.55 around 111.75
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
    """Equalize each channel's 256-level histogram (see ``equalize_lut``).

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
    """Fill a square of side ``round(0.5 * magnitude * min(H, W))`` with mid-range grey.

    The centre is uniform over the image; the square is cropped at the borders.

    Example:
        >>> x = np.zeros((1, 8, 8, 1), dtype=np.uint8)
        >>> int((cutout(x, 1.0, rng=0) == 128).sum())  # 4x4 square, cropped at borders
        16
    """,
)


def _spec(
    name: str,
    fn: Callable[..., np.ndarray],
    kernel: Kernel,
    magnitude_range: str | None = None,
    draws: tuple[str, ...] = (),
) -> OpSpec:
    return OpSpec(name, fn, magnitude_range is not None, magnitude_range or "none", kernel, draws)


GEOMETRIC_OPS = ("rotate", "shear_x", "shear_y", "translate_x", "translate_y", "zoom")

OPS: dict[str, OpSpec] = {
    spec.name: spec
    for spec in (
        _spec("identity", identity, _identity_kernel),
        _spec("rotate", rotate, _geometric_kernel("rotate"), "+-30*m degrees", ("sign",)),
        _spec("shear_x", shear_x, _geometric_kernel("shear_x"), "+-0.3*m shear", ("sign",)),
        _spec("shear_y", shear_y, _geometric_kernel("shear_y"), "+-0.3*m shear", ("sign",)),
        _spec(
            "translate_x",
            translate_x,
            _geometric_kernel("translate_x"),
            "+-0.3*m of the width",
            ("sign",),
        ),
        _spec(
            "translate_y",
            translate_y,
            _geometric_kernel("translate_y"),
            "+-0.3*m of the height",
            ("sign",),
        ),
        _spec("zoom", zoom, _geometric_kernel("zoom"), "scale 1+-0.5*m", ("sign",)),
        _spec("flip", flip, _flip_kernel),
        _spec("brightness", brightness, _brightness_kernel, "factor 1+-0.9*m", ("sign",)),
        _spec("contrast", contrast, _contrast_kernel, "factor 1+-0.9*m", ("sign",)),
        _spec("solarize", solarize, _solarize_kernel, "invert above 1-m of the range"),
        _spec("posterize", posterize, _posterize_kernel, "8-round(4*m) bits (8 -> 4)"),
        _spec("equalize", equalize, _equalize_kernel),
        _spec("autocontrast", autocontrast, _autocontrast_kernel),
        _spec(
            "gaussian_noise",
            gaussian_noise,
            _noise_kernel,
            "std 0.1*m of the range",
            ("noise",),
        ),
        _spec("cutout", cutout, _cutout_kernel, "square side 0.5*m*min(H, W)", ("center",)),
    )
}
