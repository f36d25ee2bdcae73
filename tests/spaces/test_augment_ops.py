"""Tests of the numpy augmentation ops (``ops``); their Keras layers: test_augment_layers.py."""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import os
import subprocess
import sys
from types import ModuleType

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _import(module: str) -> ModuleType:
    """The installed package if there is one, else the checkout's ``spaces`` folder."""
    try:
        return importlib.import_module(f"da_bridge.spaces.augment.{module}")
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("da_bridge.spaces"):
            raise
        return importlib.import_module(f"spaces.augment.{module}")


ops = _import("ops")

ALL_OPS = sorted(ops.OPS)
NO_MAGNITUDE = {"flip", "equalize", "autocontrast", "identity"}
RANDOM_OPS = [name for name in ALL_OPS if ops.OPS[name].draws]
DETERMINISTIC_OPS = [name for name in ALL_OPS if not ops.OPS[name].draws]
IDENTITY_AT_ZERO = sorted(set(ALL_OPS) - NO_MAGNITUDE | {"identity"})


def _batch(kind: str, n: int = 4, seed: int = 0) -> tuple[np.ndarray, tuple[float, float]]:
    rng = np.random.default_rng(seed)
    if kind == "uint8_rgb":
        return rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), (0.0, 255.0)
    if kind == "uint8_gray":
        return rng.integers(0, 256, (n, 8, 8, 1), dtype=np.uint8), (0.0, 255.0)
    if kind == "digits":  # like sklearn digits: float in [0, 16]
        return (rng.integers(0, 17, (n, 8, 8, 1)) * 1.0).astype(np.float32), (0.0, 16.0)
    return rng.random((n, 32, 32, 3)), (0.0, 1.0)  # float64 in the default range


BATCHES = ["uint8_rgb", "uint8_gray", "digits", "float64_rgb"]


def _explicit_range(kind: str, value_range: tuple[float, float]) -> tuple[float, float] | None:
    return value_range if kind == "digits" else None


# ----------------------------------------------------------------------------- registry


def test_registry_lists_every_op_with_its_magnitude_flag():
    expected = {
        "identity", "rotate", "shear_x", "shear_y", "translate_x", "translate_y", "zoom",
        "flip", "brightness", "contrast", "solarize", "posterize", "equalize",
        "autocontrast", "gaussian_noise", "cutout",
    }  # fmt: skip
    assert set(ops.OPS) == expected
    for name, spec in ops.OPS.items():
        assert spec.name == name
        assert spec.has_magnitude == (name not in NO_MAGNITUDE)
        assert spec.fn is getattr(ops, name)
        assert (spec.magnitude_range == "none") == (name in NO_MAGNITUDE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ops.OPS["rotate"].has_magnitude = False


def test_unknown_op_is_a_value_error_naming_it_and_the_known_ops():
    x, _ = _batch("uint8_gray")
    with pytest.raises(ValueError, match="no_such_op") as info:
        ops.apply_op("no_such_op", x, 0.5, 0)
    assert "rotate" in str(info.value) and "equalize" in str(info.value)


@pytest.mark.parametrize("magnitude", [-0.1, 1.5])
def test_magnitude_outside_unit_interval_is_rejected(magnitude):
    x, _ = _batch("uint8_gray")
    with pytest.raises(ValueError, match="magnitude"):
        ops.rotate(x, magnitude, rng=0)
    ops.flip(x, magnitude)  # ops without a magnitude ignore it


def test_bad_shapes_and_value_ranges_are_rejected():
    x, _ = _batch("uint8_gray")
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        ops.rotate(x[0], 0.5, rng=0)
    with pytest.raises(ValueError, match="value_range"):
        ops.rotate(x.astype(np.int32), 0.5, rng=0)
    with pytest.raises(ValueError, match="high > low"):
        ops.rotate(x, 0.5, rng=0, value_range=(1, 1))
    assert ops.rotate(x.astype(np.int32), 0.5, rng=0, value_range=(0, 255)).dtype == np.int32


def test_value_range_defaults():
    assert ops.resolve_value_range(np.uint8) == (0.0, 255.0)
    assert ops.resolve_value_range(np.float32) == (0.0, 1.0)
    assert ops.resolve_value_range(np.float64, (0, 16)) == (0.0, 16.0)


def test_importing_the_modules_does_not_import_keras():
    code = (
        f"import sys, {ops.__name__}; "
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.getcwd())


def test_doctests_of_ops_run():
    result = doctest.testmod(ops, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 20 and result.failed == 0


# ----------------------------------------------------------------------------- numpy ops


@pytest.mark.parametrize("kind", BATCHES)
@pytest.mark.parametrize("name", ALL_OPS)
def test_shape_dtype_and_range_are_kept(name, kind):
    x, (low, high) = _batch(kind)
    for magnitude in (0.5, 1.0):
        out = ops.apply_op(name, x, magnitude, 0, value_range=_explicit_range(kind, (low, high)))
        assert out.shape == x.shape and out.dtype == x.dtype
        assert out.min() >= low and out.max() <= high
        assert out is not x


@pytest.mark.parametrize("kind", BATCHES)
@pytest.mark.parametrize("name", IDENTITY_AT_ZERO)
def test_magnitude_zero_is_the_identity(name, kind):
    x, value_range = _batch(kind)
    out = ops.apply_op(name, x, 0.0, 3, value_range=_explicit_range(kind, value_range))
    if x.dtype == np.uint8:
        np.testing.assert_array_equal(out, x)
    else:
        np.testing.assert_allclose(out, x, atol=1e-6 * value_range[1], rtol=0)


@pytest.mark.parametrize("name", RANDOM_OPS)
def test_random_ops_are_deterministic_given_a_seed(name):
    x, _ = _batch("uint8_gray", n=8)
    same = ops.apply_op(name, x, 0.8, 7), ops.apply_op(name, x, 0.8, 7)
    np.testing.assert_array_equal(*same)
    generator_seeded = ops.apply_op(name, x, 0.8, np.random.default_rng(7))
    np.testing.assert_array_equal(same[0], generator_seeded)
    assert not np.array_equal(same[0], ops.apply_op(name, x, 0.8, 8))
    assert not np.array_equal(same[0], x)


@pytest.mark.parametrize("name", DETERMINISTIC_OPS)
def test_other_ops_ignore_the_seed(name):
    x, _ = _batch("uint8_rgb")
    np.testing.assert_array_equal(ops.apply_op(name, x, 0.8, 1), ops.apply_op(name, x, 0.8, 2))


@pytest.mark.parametrize("name", ALL_OPS)
def test_op_equals_transform_of_its_own_draws(name):
    x, _ = _batch("uint8_rgb")
    params = ops.sample_params(name, x.shape, 5)
    assert set(params) == set(ops.OPS[name].draws)
    np.testing.assert_array_equal(
        ops.OPS[name].fn(x, 0.6, 5), ops.apply_transform(name, x, 0.6, params)
    )


def test_levels_are_per_image_and_uniform_on_both_sides():
    levels = ops.sample_params("rotate", (4000, 8, 8, 1), 0)["level"]
    assert -1 <= levels.min() < -0.99 and 0.99 < levels.max() < 1
    assert abs(levels.mean()) < 0.05 and abs(np.mean(np.abs(levels)) - 0.5) < 0.02
    flips = ops.sample_params("flip", (4000, 8, 8, 1), 0)["flip"]
    assert abs(flips.mean() - 0.5) < 0.03


def test_translate_shifts_by_whole_pixels_in_both_directions():
    x = np.arange(1, 11, dtype=np.uint8).reshape(1, 1, 10, 1) * 20
    m = 1 / 3  # 0.3 * m * 10 = 1 pixel at level 1
    right = ops.apply_transform("translate_x", x, m, {"level": np.array([1.0])})
    left = ops.apply_transform("translate_x", x, m, {"level": np.array([-1.0])})
    assert right.ravel().tolist() == [0, *x.ravel()[:-1].tolist()]
    assert left.ravel().tolist() == [*x.ravel()[1:].tolist(), 0]


def test_rotate_by_the_maximum_angle_moves_a_pixel_on_a_circle():
    x = np.zeros((2, 33, 33, 1))
    x[:, 16, 26] = 1.0  # 10 pixels right of the centre
    out = ops.apply_transform("rotate", x, 1.0, {"level": np.array([1.0, -1.0])})
    for image, row in zip(out[..., 0], (16 - 5, 16 + 5), strict=True):  # sin 30 deg = 0.5
        peak = np.unravel_index(np.argmax(image), image.shape)
        assert peak[0] == row and abs(peak[1] - (16 + 10 * np.cos(np.pi / 6))) <= 1


def test_zoom_magnifies_or_shrinks_by_the_level():
    x = np.zeros((2, 9, 9, 1))
    x[:, 3:6, 3:6] = 1.0
    out = ops.apply_transform("zoom", x, 1.0, {"level": np.array([-1.0, 1.0])})
    assert out[0].sum() > x[0].sum() > out[1].sum()


def test_photometric_ops_on_a_ramp():
    ramp = np.arange(0, 256, 5, dtype=np.uint8).reshape(1, 1, -1, 1)
    flipped = ops.apply_transform("flip", ramp, 0.0, {"flip": np.array([True])})
    assert flipped.ravel().tolist() == ramp.ravel()[::-1].tolist()
    solarized = ops.solarize(ramp, 1.0).ravel()
    np.testing.assert_array_equal(solarized[1:], 255 - ramp.ravel()[1:])
    assert np.all(ops.posterize(ramp, 1.0) % 16 == 0)  # 4 bits kept
    assert np.all(ops.posterize(ramp, 0.5) % 4 == 0)  # 6 bits kept
    stretched = ops.autocontrast(ramp // 2 + 50)
    assert stretched.min() == 0 and stretched.max() == 255
    equalized = ops.equalize(np.repeat(ramp // 4, 3, axis=1))
    assert equalized.min() == 0 and equalized.max() == 255
    brighter = ops.apply_transform("brightness", ramp, 1.0, {"level": np.array([1.0])})
    darker = ops.apply_transform("brightness", ramp, 1.0, {"level": np.array([-1.0])})
    assert np.all(brighter >= ramp) and np.all(darker <= ramp)
    assert abs(int(brighter[0, 0, 10, 0]) - (50 + 128)) <= 1  # + half the range
    flatter = ops.apply_transform("contrast", ramp, 1.0, {"level": np.array([-1.0])})
    assert np.ptp(flatter) < 0.15 * np.ptp(ramp)


def test_flat_images_survive_equalize_and_autocontrast():
    flat = np.full((2, 8, 8, 1), 7.0, dtype=np.float32)
    for name in ("equalize", "autocontrast"):
        np.testing.assert_array_equal(ops.apply_op(name, flat, 0, value_range=(0, 16)), flat)


def test_cutout_fills_a_rectangle_of_the_documented_size_inside_the_image():
    x = np.zeros((1, 32, 16, 3), dtype=np.uint8)
    for corner in ([0.0, 0.0], [0.5, 0.5], [0.999, 0.999]):
        out = ops.apply_transform("cutout", x, 0.5, {"corner": np.array([corner])})
        grey = out[0, ..., 0] == 128
        rows, cols = np.nonzero(grey)
        assert grey.sum() == 8 * 4  # a quarter of the height and of the width
        assert np.ptp(rows) == 7 and np.ptp(cols) == 3


def test_gaussian_noise_has_the_documented_std():
    x = np.full((16, 32, 32, 1), 8.0, dtype=np.float32)
    noise = ops.gaussian_noise(x, 1.0, rng=0, value_range=(0, 16)) - x
    assert abs(noise.std() - 0.1 * 16) < 0.05
