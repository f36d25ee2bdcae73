"""Score augmentation policies: train on augmented copies of a small labelled set, validate
on untouched images.

`load_data` gives an `AugmentData` (sklearn's digits, or your own `.npz` with `x`
and `y`) split into a small training set, a validation set the search scores
on, and a test set kept for an honest final report. An evaluator maps an
architecture (or a compiled `Policy`, or None for no augmentation) to the
validation accuracy of a fixed model trained on the training images plus
`copies` augmented copies of them:

* `SklearnEvaluator`: a scikit-learn classifier on raw pixels (default an RBF
  `SVC`, which is sensitive to small shifts and trains in a fraction of a second);
* `CNNEvaluator`: a fixed small Keras CNN.

Both are deterministic for a seed: the same seed, data and policy give the
same score.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from da_bridge._imports import require
from da_bridge.architecture import Architecture
from da_bridge.errors import DomainError

from .compile import Policy, to_policy
from .keras_policy import policy_layer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AugmentData:
    """Images `(N, H, W, C)` and integer labels, split three ways.

    Attributes:
        x_train: The small training set the policy augments.
        y_train: Its labels.
        x_valid: Untouched images the search scores on.
        y_valid: Their labels.
        x_test: Untouched images for a final, unbiased score (may be empty).
        y_test: Their labels.
        value_range: `(low, high)` of the pixels (digits: (0, 16)).

    Example:
        >>> data = load_data(train_size=100, valid_size=100)
        >>> data.n_classes, data.y_train[:5].tolist()
        (10, [7, 2, 8, 7, 4])
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    value_range: tuple[float, float]

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_valid.max()) + 1)


def load_data(dataset: str = "digits", *, train_size: int = 300, valid_size: int = 500,
              seed: int = 0, value_range: Sequence[float] | None = None) -> AugmentData:
    """Load and split `dataset`: "digits" (sklearn's 8x8 digits) or a path to an `.npz`.

    The `.npz` holds `x` (`(N, H, W)` or `(N, H, W, C)`, uint8 or float) and `y`
    (labels of any type; they are encoded as 0..k-1). The split is stratified
    when every class has at least 2 images; the test set is what is left.

    Args:
        dataset: "digits" or a path to an `.npz` file.
        train_size: Images in the training set.
        valid_size: Images in the validation set.
        seed: Seeds the split.
        value_range: `(low, high)` of the pixels; None infers it: (0, 16) for the
            digits, (0, 255) for uint8, (0, 1) for floats up to 1, else
            `(floor(min), ceil(max))`.

    Example:
        >>> data = load_data("digits", train_size=100, valid_size=200, seed=0)
        >>> data.x_train.shape, data.x_valid.shape, data.x_test.shape, data.value_range
        ((100, 8, 8, 1), (200, 8, 8, 1), (1497, 8, 8, 1), (0.0, 16.0))
    """
    if dataset == "digits":
        digits = require("sklearn.datasets", "sklearn").load_digits()
        x, y, default_range = digits.images[..., None], digits.target, (0.0, 16.0)
    else:
        x, y = _read_npz(dataset)
        default_range = None
    vr = value_range if value_range is not None else default_range or _infer_range(x)
    return _split(x, y, train_size, valid_size, seed, (float(vr[0]), float(vr[1])))


class SklearnEvaluator:
    """Validation accuracy of a scikit-learn classifier trained on augmented copies.

    Args:
        data: The split data (`load_data`).
        estimator: An unfitted classifier taking flattened pixels; cloned for every
            evaluation and given `random_state=seed` if it has one. Default: `SVC()`.
        copies: Augmented copies of the training set added to the originals.
        seed: Seeds the augmentation draws and the classifier.

    Example:
        >>> from da_bridge.spaces.augment import SklearnEvaluator, randaugment_space
        >>> data = load_data(train_size=100, valid_size=200)
        >>> evaluator = SklearnEvaluator(data, copies=1, seed=0)
        >>> baseline = evaluator(None)
        >>> arch = randaugment_space().replay({"n": 1, "magnitude": 0.2})
        >>> evaluator(arch) == evaluator(arch) and 0 < baseline <= 1
        True
    """

    def __init__(self, data: AugmentData, *, estimator: Any = None, copies: int = 4,
                 seed: int = 0) -> None:
        self.data, self.estimator = data, estimator
        self.copies, self.seed = _check_copies(copies), seed

    def __call__(self, arch: Architecture | Policy | None) -> float:
        """The validation accuracy with policy `arch` (None: no augmentation)."""
        return self.score(arch, on="valid")

    def score(self, arch: Architecture | Policy | None, *, on: str = "valid") -> float:
        """Accuracy on the "valid" or "test" images."""
        x_eval, y_eval = _eval_split(self.data, on)
        x, y = augmented_training_set(self.data, arch, copies=self.copies, seed=self.seed)
        model = self._model().fit(_flat(x), y)
        return float(np.mean(model.predict(_flat(x_eval)) == y_eval))

    def _model(self) -> Any:
        base = require("sklearn.base", "sklearn")
        if self.estimator is None:
            return require("sklearn.svm", "sklearn").SVC()
        model = base.clone(self.estimator)
        if "random_state" in model.get_params():
            model.set_params(random_state=self.seed)
        return model


class CNNEvaluator:
    """Validation accuracy of a fixed small Keras CNN trained on augmented copies.

    The network: two 3x3 convolutions (32 filters), 2x2 max-pooling, a 3x3
    convolution (64), global average pooling, dropout 0.25 and a softmax; Adam,
    `epochs` epochs of batches of 32. Each evaluation starts with
    `keras.utils.set_random_seed(seed)` (which also seeds Python's and numpy's
    global generators), so on CPU a seed gives the same score; on GPUs, call
    `tf.config.experimental.enable_op_determinism()` as well.

    Args:
        data: The split data (`load_data`).
        copies: Augmented copies of the training set added to the originals.
        epochs: Training epochs.
        online: Instead of fixed copies, put `to_keras_layer(arch)` in front of the
            network so every epoch sees fresh augmentations (`copies` is then unused).
        seed: Seeds the augmentation, the weights and the batches.

    Example:
        >>> data = load_data(train_size=30, valid_size=30)
        >>> evaluator = CNNEvaluator(data, copies=0, epochs=1, seed=0)
        >>> 0 <= evaluator(None) <= 1
        True
    """

    def __init__(self, data: AugmentData, *, copies: int = 4, epochs: int = 30,
                 online: bool = False, seed: int = 0) -> None:
        self.data, self.copies = data, _check_copies(copies)
        self.epochs, self.online, self.seed = epochs, bool(online), seed

    def __call__(self, arch: Architecture | Policy | None) -> float:
        """The validation accuracy with policy `arch` (None: no augmentation)."""
        return self.score(arch, on="valid")

    def score(self, arch: Architecture | Policy | None, *, on: str = "valid") -> float:
        """Accuracy on the "valid" or "test" images."""
        x_eval, y_eval = _eval_split(self.data, on)
        keras = _seeded_keras(self.seed)
        if self.online:
            x, y = self.data.x_train, self.data.y_train
            front = None if arch is None else self._layer(arch)
        else:
            x, y = augmented_training_set(self.data, arch, copies=self.copies, seed=self.seed)
            front = None
        model = _small_cnn(keras, x.shape[1:], self.data, front)
        model.fit(x.astype("float32"), y, epochs=self.epochs, batch_size=32, verbose=0,
                  shuffle=True)
        predicted = model.predict(x_eval.astype("float32"), verbose=0).argmax(axis=1)
        return float(np.mean(predicted == y_eval))

    def _layer(self, arch: Architecture | Policy) -> Any:
        policy = arch if isinstance(arch, Policy) else to_policy(arch)
        return policy_layer(policy.to_json(), value_range=self.data.value_range, seed=self.seed)


def augmented_training_set(data: AugmentData, arch: Architecture | Policy | None, *,
                           copies: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The training images followed by `copies` augmented copies, and their labels.

    The policy runs in the data's value range (whatever `value_range` it was compiled with).

    Example:
        >>> data = load_data(train_size=50, valid_size=50)
        >>> x, y = augmented_training_set(data, None, copies=2)
        >>> x.shape, y.shape
        ((50, 8, 8, 1), (50,))
    """
    if arch is None or copies == 0:
        return data.x_train, data.y_train
    policy = arch if isinstance(arch, Policy) else to_policy(arch)
    policy = Policy(policy.program, value_range=data.value_range)
    rng = np.random.default_rng(seed)
    x = [data.x_train] + [policy(data.x_train, rng) for _ in range(copies)]
    return np.concatenate(x), np.tile(data.y_train, copies + 1)


# ----------------------------------------------------------------------------- internals


def _read_npz(path: str) -> tuple[np.ndarray, np.ndarray]:
    if not os.path.exists(path):
        raise DomainError("dataset", path, "'digits' or an existing .npz file with x and y")
    with np.load(path, allow_pickle=False) as archive:
        missing = sorted({"x", "y"} - set(archive.files))
        if missing:
            raise DomainError("dataset", path, f"an .npz with arrays x and y (missing {missing})")
        x, y = archive["x"], archive["y"]
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or len(x) != len(y):
        raise DomainError("dataset", path, f"x of shape (N, H, W[, C]) and N labels; got x "
                                           f"{x.shape} and y {y.shape}")
    return x, y


def _infer_range(x: np.ndarray) -> tuple[float, float]:
    if x.dtype == np.uint8:
        return 0.0, 255.0
    low, high = float(np.floor(x.min())), float(np.ceil(x.max()))
    if low >= 0 and high <= 1:
        return 0.0, 1.0
    return low, max(high, low + 1)


def _split(x: np.ndarray, y: np.ndarray, train_size: int, valid_size: int, seed: int,
           value_range: tuple[float, float]) -> AugmentData:
    model_selection = require("sklearn.model_selection", "sklearn")
    _, y = np.unique(y, return_inverse=True)
    if train_size < 1 or valid_size < 1 or train_size + valid_size > len(y):
        raise DomainError("train_size + valid_size", (train_size, valid_size),
                          f"positive sizes with a sum of at most {len(y)} images")
    stratify = y if np.bincount(y).min() >= 2 else None
    x_train, x_rest, y_train, y_rest = model_selection.train_test_split(
        x, y, train_size=train_size, stratify=stratify, random_state=seed)
    if valid_size == len(y_rest):
        return AugmentData(x_train, y_train, x_rest, y_rest, x_rest[:0], y_rest[:0], value_range)
    stratify = y_rest if np.bincount(y_rest).min() >= 2 else None
    x_valid, x_test, y_valid, y_test = model_selection.train_test_split(
        x_rest, y_rest, train_size=valid_size, stratify=stratify, random_state=seed)
    return AugmentData(x_train, y_train, x_valid, y_valid, x_test, y_test, value_range)


def _eval_split(data: AugmentData, on: str) -> tuple[np.ndarray, np.ndarray]:
    if on == "valid":
        return data.x_valid, data.y_valid
    if on == "test" and len(data.y_test):
        return data.x_test, data.y_test
    raise DomainError("on", on, "'valid', or 'test' when the data has a test split")


def _check_copies(copies: Any) -> int:
    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 0:
        raise DomainError("copies", copies, "an integer >= 0")
    return copies


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1).astype(np.float64)


def _seeded_keras(seed: int) -> Any:
    keras = require("keras", "keras")
    keras.utils.set_random_seed(seed)
    return keras


def _small_cnn(keras: Any, shape: tuple[int, ...], data: AugmentData, front: Any) -> Any:
    layers = keras.layers
    low, high = data.value_range
    stack = [keras.Input(shape)] + ([front] if front is not None else []) + [
        layers.Rescaling(1.0 / (high - low), offset=-low / (high - low)),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dropout(0.25),
        layers.Dense(data.n_classes, activation="softmax"),
    ]
    model = keras.Sequential(stack)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model
