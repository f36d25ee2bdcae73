"""Tests of the augmentation ops: numpy (``ops``) and Keras 3 (``keras_layers``)."""

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
keras_layers = _import("keras_layers")  # does not import keras

ALL_OPS = sorted(ops.OPS)
NO_MAGNITUDE = {"flip", "equalize", "autocontrast", "identity"}
RANDOM_OPS = [name for name in ALL_OPS if ops.OPS[name].draws]
DETERMINISTIC_OPS = [name for name in ALL_OPS if not ops.OPS[name].draws]
IDENTITY_AT_ZERO = sorted(set(ALL_OPS) - NO_MAGNITUDE | {"identity"})
# Ops computed on 8-bit levels or by selection only: numpy and Keras must agree exactly.
EXACT_OPS = {"identity", "flip", "solarize", "posterize", "equalize", "cutout"}


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
        f"import sys, {ops.__name__}, {keras_layers.__name__}; "
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


def test_signs_are_per_image_and_both_occur():
    signs = ops.sample_params("rotate", (64, 8, 8, 1), 0)["sign"]
    assert set(signs.tolist()) == {-1.0, 1.0}


def test_translate_shifts_by_whole_pixels_in_both_directions():
    x = np.arange(1, 11, dtype=np.uint8).reshape(1, 1, 10, 1) * 20
    m = 1 / 3  # 0.3 * m * 10 = 1 pixel
    right = ops.apply_transform("translate_x", x, m, {"sign": np.array([1.0])})
    left = ops.apply_transform("translate_x", x, m, {"sign": np.array([-1.0])})
    assert right.ravel().tolist() == [0, *x.ravel()[:-1].tolist()]
    assert left.ravel().tolist() == [*x.ravel()[1:].tolist(), 0]


def test_rotate_by_the_maximum_angle_moves_a_pixel_on_a_circle():
    x = np.zeros((2, 33, 33, 1))
    x[:, 16, 26] = 1.0  # 10 pixels right of the centre
    out = ops.apply_transform("rotate", x, 1.0, {"sign": np.array([1.0, -1.0])})
    for image, row in zip(out[..., 0], (16 - 5, 16 + 5), strict=True):  # sin 30 deg = 0.5
        peak = np.unravel_index(np.argmax(image), image.shape)
        assert peak[0] == row and abs(peak[1] - (16 + 10 * np.cos(np.pi / 6))) <= 1


def test_zoom_magnifies_or_shrinks_by_the_sign():
    x = np.zeros((2, 9, 9, 1))
    x[:, 3:6, 3:6] = 1.0
    out = ops.apply_transform("zoom", x, 1.0, {"sign": np.array([1.0, -1.0])})
    assert out[0].sum() > x[0].sum() > out[1].sum()


def test_photometric_ops_on_a_ramp():
    ramp = np.arange(0, 256, 5, dtype=np.uint8).reshape(1, 1, -1, 1)
    assert ops.flip(ramp).ravel().tolist() == ramp.ravel()[::-1].tolist()
    solarized = ops.solarize(ramp, 1.0).ravel()
    np.testing.assert_array_equal(solarized[1:], 255 - ramp.ravel()[1:])
    assert np.all(ops.posterize(ramp, 1.0) % 16 == 0)  # 4 bits kept
    assert np.all(ops.posterize(ramp, 0.5) % 4 == 0)  # 6 bits kept
    stretched = ops.autocontrast(ramp // 2 + 50)
    assert stretched.min() == 0 and stretched.max() == 255
    equalized = ops.equalize(np.repeat(ramp // 4, 3, axis=1))
    assert equalized.min() == 0 and equalized.max() == 255
    brighter = ops.apply_transform("brightness", ramp, 1.0, {"sign": np.array([1.0])})
    darker = ops.apply_transform("brightness", ramp, 1.0, {"sign": np.array([-1.0])})
    assert np.all(brighter >= ramp) and np.all(darker <= ramp)
    flatter = ops.apply_transform("contrast", ramp, 1.0, {"sign": np.array([-1.0])})
    assert np.ptp(flatter) < 0.15 * np.ptp(ramp)


def test_flat_images_survive_equalize_and_autocontrast():
    flat = np.full((2, 8, 8, 1), 7.0, dtype=np.float32)
    for name in ("equalize", "autocontrast"):
        np.testing.assert_array_equal(ops.apply_op(name, flat, 0, value_range=(0, 16)), flat)


def test_cutout_fills_a_square_of_the_documented_size():
    x = np.zeros((1, 32, 32, 3), dtype=np.uint8)
    out = ops.apply_transform("cutout", x, 0.5, {"center": np.array([[16, 16]])})
    assert (out[..., 0] == 128).sum() == 8 * 8 == ops.cutout_size(0.5, 32, 32) ** 2
    corner = ops.apply_transform("cutout", x, 0.5, {"center": np.array([[0, 31]])})
    assert (corner[..., 0] == 128).sum() == 4 * 5  # rows -4..3 and columns 27..34, cropped


def test_gaussian_noise_has_the_documented_std():
    x = np.full((16, 32, 32, 1), 8.0, dtype=np.float32)
    noise = ops.gaussian_noise(x, 1.0, rng=0, value_range=(0, 16)) - x
    assert abs(noise.std() - 0.1 * 16) < 0.05


# ----------------------------------------------------------------------------- keras


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


def _tolerance(name: str, x: np.ndarray, value_range: tuple[float, float]) -> float:
    if name in EXACT_OPS:
        return 0.0
    return 1.0 if x.dtype == np.uint8 else 1e-3 * (value_range[1] - value_range[0])


@pytest.mark.parametrize("kind", ["uint8_rgb", "digits"])
@pytest.mark.parametrize("name", ALL_OPS)
def test_keras_agrees_with_numpy_given_the_same_draws(keras, name, kind):
    x, value_range = _batch(kind)
    explicit = _explicit_range(kind, value_range)
    layer = keras_layers.make_layer(name, 0.7, value_range=explicit, seed=0)
    params = ops.sample_params(name, x.shape, 11)
    expected = ops.apply_transform(name, x, 0.7, params, value_range=explicit)
    got = keras.ops.convert_to_numpy(layer.apply_transform(x, params))
    assert got.dtype == x.dtype
    diff = np.abs(got.astype(np.float64) - expected.astype(np.float64)).max()
    assert diff <= _tolerance(name, x, value_range)


@pytest.mark.parametrize("name", ALL_OPS)
def test_keras_layer_draws_and_keeps_shape_dtype_and_range(keras, name):
    x, _ = _batch("uint8_rgb", n=3)
    layer = keras_layers.make_layer(name, 1.0, seed=1)
    out = keras.ops.convert_to_numpy(layer(x))
    assert out.shape == x.shape and out.dtype == np.uint8
    draws = {k: keras.ops.convert_to_numpy(v) for k, v in layer.sample_params(x).items()}
    assert set(draws) == set(ops.OPS[name].draws)
    if "sign" in draws:
        assert set(draws["sign"].tolist()) <= {-1.0, 1.0}
    if "center" in draws:
        assert draws["center"].shape == (3, 2) and 0 <= draws["center"].min()
        assert draws["center"].max() < 32
    if "noise" in draws:
        assert draws["noise"].shape == x.shape


def test_keras_layer_on_float_digits_and_single_images(keras):
    x, _ = _batch("digits")
    layer = keras_layers.make_layer("rotate", 1.0, value_range=(0, 16), seed=0)
    out = keras.ops.convert_to_numpy(layer(x))
    assert out.dtype == np.float32 and 0 <= out.min() and out.max() <= 16
    single = keras.ops.convert_to_numpy(layer(x[0]))
    assert single.shape == x[0].shape


def test_keras_layers_are_deterministic_given_a_seed(keras):
    x, _ = _batch("uint8_gray", n=16)

    def run(seed):
        return keras.ops.convert_to_numpy(keras_layers.make_layer("rotate", 0.5, seed=seed)(x))

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))


def test_keras_layers_pass_through_at_inference_unless_forced(keras):
    x, _ = _batch("uint8_gray")
    layer = keras_layers.make_layer("flip", seed=0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)
    forced = keras_layers.make_layer("flip", apply_at_inference=True)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(forced(x, training=False)), x[:, :, ::-1]
    )


def test_keras_layer_rejects_bad_arguments(keras):
    with pytest.raises(ValueError, match="no_such_op"):
        keras_layers.make_layer("no_such_op", 0.5)
    with pytest.raises(ValueError, match="magnitude"):
        keras_layers.make_layer("rotate", 2.0)
    with pytest.raises(ValueError, match="probability"):
        keras_layers.RandomApply(keras_layers.make_layer("flip"), 1.5)


def test_random_apply_probability_zero_is_identity_and_one_applies(keras):
    x, _ = _batch("uint8_rgb")
    never = keras_layers.RandomApply(keras_layers.make_layer("solarize", 0.5), 0.0, seed=0)
    always = keras_layers.RandomApply(keras_layers.make_layer("solarize", 0.5), 1.0, seed=0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(never(x)), x)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(always(x)), ops.solarize(x, 0.5))


def test_random_apply_gates_each_image_and_respects_inference(keras):
    x, _ = _batch("uint8_gray", n=64)
    gate = keras_layers.RandomApply(keras_layers.make_layer("flip"), 0.5, seed=1)
    out = keras.ops.convert_to_numpy(gate(x))
    flipped = np.all(out == x[:, :, ::-1], axis=(1, 2, 3))
    kept = np.all(out == x, axis=(1, 2, 3))
    assert np.all(flipped | kept) and 10 < flipped.sum() < 54
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(gate(x, training=False)), x)
    forced = keras_layers.RandomApply(
        keras_layers.make_layer("flip"), 1.0, seed=1, apply_at_inference=True
    )
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(forced(x, training=False)), x[:, :, ::-1]
    )


def test_layers_in_a_tf_data_pipeline(keras, tf):
    x, _ = _batch("uint8_gray", n=10)
    solarize = keras_layers.make_layer("solarize", 0.5)
    batches = tf.data.Dataset.from_tensor_slices(x).batch(4).map(solarize)
    np.testing.assert_array_equal(
        np.concatenate(list(batches.as_numpy_iterator())), ops.solarize(x, 0.5)
    )

    rotate = keras_layers.RandomApply(keras_layers.make_layer("rotate", 0.5, seed=2), 1.0, seed=3)
    images = list(tf.data.Dataset.from_tensor_slices(x).map(rotate).as_numpy_iterator())
    for image, original in zip(images, x, strict=True):  # each one rotated one way or the other
        assert image.shape == original.shape and image.dtype == np.uint8
        candidates = [
            ops.apply_transform("rotate", original[None], 0.5, {"sign": np.array([s])})[0]
            for s in (1.0, -1.0)
        ]
        assert min(np.abs(image.astype(int) - c).max() for c in candidates) <= 1


def test_layers_inside_a_model_fit_and_predict(keras):
    x, _ = _batch("digits", n=8)
    augment = keras_layers.RandomApply(
        keras_layers.make_layer("translate_x", 0.5, value_range=(0, 16), seed=0), 1.0, seed=0
    )
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), augment, keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x / 16, np.arange(8) % 2, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    augmenter = keras.Sequential([keras.Input((8, 8, 1)), augment])
    np.testing.assert_array_equal(augmenter.predict(x, verbose=0), x)
    assert not np.array_equal(keras.ops.convert_to_numpy(augmenter(x, training=True)), x)


def test_layer_configs_round_trip(keras):
    layer = keras_layers.make_layer("cutout", 0.4, value_range=(0, 16), seed=5)
    gate = keras_layers.RandomApply(layer, 0.25, seed=6)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(gate))
    assert type(restored).__name__ == "RandomApply"
    assert restored.probability == 0.25 and restored.layer.get_config()["op"] == "cutout"
    assert restored.layer.get_config() == {**layer.get_config(), "name": restored.layer.name}


def test_doctests_of_keras_layers_run(keras):
    result = doctest.testmod(keras_layers)
    assert result.attempted >= 4 and result.failed == 0
