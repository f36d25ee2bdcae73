"""The Keras layers of the augmentation ops and policies (`layers`), on every Keras backend.

Keras' layers and numpy draw different random numbers, so the layers are held to the
numpy ops' *distribution*: per-image statistics of many augmented images (mean, spread,
left-right and top-bottom balance) must pass a two-sample Kolmogorov-Smirnov test against
the numpy op's, and deterministic ops must agree pixel for pixel (to one level). Keras
picks its backend at import, so each backend runs in its own process (KERAS_BACKEND).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from da_bridge.spaces.augment import Policy, autoaugment_space, program, randaugment_space
from da_bridge.spaces.augment._program import to_json
from da_bridge.spaces.augment.ops import OPS, apply_op

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MAGNITUDE = 0.7
DETERMINISTIC = {"identity", "solarize", "posterize", "equalize", "autocontrast"}
# tensorflow and jax are CI's (the `keras` and `test` extras); torch only where installed
BACKENDS = ["tensorflow", "jax"] + (["torch"] if importlib.util.find_spec("torch") else [])


def _inputs() -> dict[str, tuple[np.ndarray, tuple[float, float]]]:
    """Structured images, each 25 times: digits (float, range 0..16) and smooth RGB uint8."""
    from sklearn.datasets import load_digits

    digits = load_digits().images[:16, :, :, None].astype(np.float32)
    rows, cols = np.mgrid[0:12, 0:10]
    rng = np.random.default_rng(0)
    rgb = np.stack([np.stack([128 + 100 * np.sin(rows / rng.uniform(2, 6) + rng.uniform(0, 6))
                              * np.cos(cols / rng.uniform(2, 6)) for _ in range(3)], axis=-1)
                    for _ in range(16)])
    return {"digits": (np.tile(digits, (25, 1, 1, 1)), (0.0, 16.0)),
            "rgb": (np.tile(rgb.astype(np.uint8), (25, 1, 1, 1)), (0.0, 255.0))}


def _programs() -> dict[str, list]:
    out = {f"op:{name}": [{"op": name, "magnitude": MAGNITUDE}] for name in OPS}
    for seed in (0, 1):
        out[f"autoaugment:{seed}"] = to_json(program(autoaugment_space(3, 2).sample(seed)))
    out["randaugment"] = to_json(program(randaugment_space().replay({"n": 2, "magnitude": 0.5})))
    return out


BACKEND_SCRIPT = r"""
import json, sys
import numpy as np
import keras
from da_bridge.spaces.augment.layers import PolicyLayer

folder = sys.argv[1]
programs = json.load(open(folder + "/programs.json"))
inputs = np.load(folder + "/inputs.npz")
ranges = json.load(open(folder + "/ranges.json"))
out = {}
for kind in ranges:
    x = inputs[kind]
    for key, program in programs.items():
        layer = PolicyLayer(program, value_range=ranges[kind], seed=11)
        out[kind + "|" + key] = keras.ops.convert_to_numpy(layer(x))
# the layer inside a model: fit, then predict passes images through
x, y = inputs["digits"][:64].astype("float32"), np.arange(64) % 3
layer = PolicyLayer(programs["autoaugment:0"], value_range=ranges["digits"], seed=0)
model = keras.Sequential([keras.Input(x.shape[1:]), layer, keras.layers.Flatten(),
                          keras.layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x, y, epochs=1, batch_size=32, verbose=0)
plain = keras.Sequential([keras.Input(x.shape[1:]), keras.layers.Flatten(), model.layers[-1]])
out["predict_passes_through"] = np.array(
    np.allclose(model.predict(x, verbose=0), plain.predict(x, verbose=0), atol=1e-6))
out["backend"] = np.array(keras.backend.backend())
np.savez(folder + "/outputs.npz", **out)
"""


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("augment_backends")
    inputs, programs = _inputs(), _programs()
    np.savez(folder / "inputs.npz", **{kind: x for kind, (x, _) in inputs.items()})
    (folder / "ranges.json").write_text(json.dumps({k: r for k, (_, r) in inputs.items()}))
    (folder / "programs.json").write_text(json.dumps(programs))
    return folder, inputs, programs


def _run_backend(folder, backend: str) -> dict[str, np.ndarray]:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", BACKEND_SCRIPT, str(folder)], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(folder / "outputs.npz") as archive:
        return {key: archive[key] for key in archive.files}


def _features(images: np.ndarray) -> np.ndarray:
    """Per-image mean, std, left-minus-right and top-minus-bottom means: (4, N)."""
    x = images.astype(np.float64)
    h, w = x.shape[1] // 2, x.shape[2] // 2
    return np.stack([x.mean(axis=(1, 2, 3)), x.std(axis=(1, 2, 3)),
                     x[:, :, :w].mean(axis=(1, 2, 3)) - x[:, :, -w:].mean(axis=(1, 2, 3)),
                     x[:, :h].mean(axis=(1, 2, 3)) - x[:, -h:].mean(axis=(1, 2, 3))])


def _numpy_result(key: str, steps: list, x: np.ndarray, value_range) -> np.ndarray:
    if key.startswith("op:"):
        return apply_op(key[3:], x, MAGNITUDE, 5, value_range=value_range)
    return Policy(steps, value_range=value_range)(x, 5)


def check_matches_numpy(outputs: dict[str, np.ndarray], inputs, programs) -> None:
    """Shape, dtype and range kept; same distribution as numpy; deterministic ops equal."""
    for kind, (x, (low, high)) in inputs.items():
        for key, steps in programs.items():
            got = outputs[f"{kind}|{key}"]
            assert got.shape == x.shape and got.dtype == x.dtype, key
            assert low <= got.min() and got.max() <= high, key
            expected = _numpy_result(key, steps, x, (low, high))
            if key.startswith("op:") and key[3:] in DETERMINISTIC:
                diff = np.abs(got.astype(np.float64) - expected)
                assert diff.max() <= (high - low) / 255 + 1e-6, (kind, key)
                continue
            for i, (a, b) in enumerate(zip(_features(got), _features(expected), strict=True)):
                p = stats.ks_2samp(a, b, method="asymp").pvalue
                assert p > 1e-3, f"{kind} {key}: feature {i} differs (KS p={p:.2g})"
            if key != "op:identity":
                assert not np.array_equal(got, x), (kind, key)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_every_op_and_sampled_policies_match_numpy_on_each_backend(case, backend):
    folder, inputs, programs = case
    outputs = _run_backend(folder, backend)
    assert str(outputs["backend"]) == backend
    check_matches_numpy(outputs, inputs, programs)
    assert bool(outputs["predict_passes_through"])


# ----------------------------------------------------------------------------- in process (TF)


@pytest.fixture(scope="module")
def layers():
    from da_bridge.spaces.augment import layers

    return layers


def test_every_op_matches_numpy_in_this_process(layers, case):
    _, inputs, programs = case
    outputs = {}
    for kind, (x, value_range) in inputs.items():
        for key in [k for k in programs if k.startswith("op:")]:
            layer = layers.PolicyLayer(programs[key], value_range=value_range, seed=3)
            outputs[f"{kind}|{key}"] = np.asarray(layer(x))
    ops_only = {k: v for k, v in programs.items() if k.startswith("op:")}
    check_matches_numpy(outputs, inputs, ops_only)


def test_ops_compile_to_keras_own_layers_where_keras_has_one(layers):
    names = {name: type(layers.op_layer(name, 0.5)).__name__ for name in OPS}
    assert names == {name: spec.keras.split(" ")[0] for name, spec in OPS.items()}
    hand_written = sorted(n for n, c in names.items() if type(layers.op_layer(n, 0.5)).__module__
                          == layers.__name__)
    assert hand_written == ["equalize", "solarize"]
    assert all(type(layers.op_layer(name, 0.0)).__name__ == "Identity"
               for name, spec in OPS.items() if spec.identity_at_zero)


def test_policy_layer_passes_through_at_inference_unless_forced(layers):
    x = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    program = [{"op": "solarize", "magnitude": 1.0}]
    assert np.array_equal(np.asarray(layers.PolicyLayer(program)(x, training=False)), x)
    forced = layers.PolicyLayer(program, apply_at_inference=True)
    assert not np.array_equal(np.asarray(forced(x, training=False)), x)
    assert np.asarray(layers.PolicyLayer(program)(x[0])).shape == x[0].shape


def test_policy_layer_follows_its_seed_and_round_trips_its_config(layers):
    x = np.tile(np.linspace(0, 16, 64, dtype=np.float32).reshape(1, 8, 8, 1), (16, 1, 1, 1))
    program = to_json(program_of_seed(3))
    first, second = (layers.PolicyLayer(program, value_range=(0, 16), seed=4) for _ in range(2))
    a = np.asarray(first(x))
    assert np.array_equal(a, np.asarray(second(x)))
    again = layers.PolicyLayer.from_config(first.get_config())
    assert again.get_config()["program"] == program
    assert np.array_equal(np.asarray(again(x)), a)


def program_of_seed(seed: int):
    return program(autoaugment_space(3, 2).sample(seed))


def test_policy_layer_in_a_tf_data_pipeline(layers):
    import tensorflow as tf

    x = np.random.default_rng(0).random((20, 8, 8, 1)).astype(np.float32) * 16
    layer = layers.PolicyLayer(to_json(program_of_seed(1)), value_range=(0, 16), seed=0)
    dataset = tf.data.Dataset.from_tensor_slices((x, np.arange(20))).batch(8)
    out = np.concatenate([np.asarray(b) for b, _ in dataset.map(lambda b, y: (layer(b), y))])
    assert out.shape == x.shape and 0 <= out.min() and out.max() <= 16


def test_saved_model_reloads_the_layer(layers, tmp_path):
    import keras

    layer = layers.PolicyLayer(to_json(program_of_seed(2)), value_range=(0, 16), seed=0)
    model = keras.Sequential([keras.Input((8, 8, 1)), layer, keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.layers[0].get_config()["program"] == layer.get_config()["program"]
