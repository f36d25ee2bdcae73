"""Score augmentation policies: train on augmented copies of a small labelled set, validate
on untouched images.

`data.load_data` gives an `AugmentData` (sklearn's digits, crops of its sample
photographs, your own folder of images or `.npz`) split into a small training
set, a validation set the search scores on, and a test set kept for an honest
final report. An evaluator maps an
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
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from da_bridge._imports import require
from da_bridge.architecture import Architecture
from da_bridge.errors import DomainError

from .compile import Policy, to_policy
from .data import AugmentData

logger = logging.getLogger(__name__)

#: What an evaluator scores: a policy (architecture or `Policy`), any augmenter
#: `augmenter(images, rng) -> images` (see `baselines`), or None for no augmentation.
Augmenter = Architecture | Policy | Callable[..., np.ndarray] | None


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
        >>> from da_bridge.spaces.augment import load_data
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

    def __call__(self, arch: Augmenter) -> float:
        """The validation accuracy with policy `arch` (None: no augmentation)."""
        return self.score(arch, on="valid")

    def score(self, arch: Augmenter, *, on: str = "valid") -> float:
        """Accuracy on the "valid" or "test" images."""
        return self.scores(arch, on=(on,))[on]

    def scores(self, arch: Augmenter, *, on: Sequence[str] = ("valid", "test")) -> dict:
        """`{split: accuracy}` for each split of `on`, from one trained model."""
        splits = {name: _eval_split(self.data, name) for name in on}
        x, y = augmented_training_set(self.data, arch, copies=self.copies, seed=self.seed)
        model = self._model().fit(_flat(x), y)
        return {name: float(np.mean(model.predict(_flat(xe)) == ye))
                for name, (xe, ye) in splits.items()}

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
        >>> from da_bridge.spaces.augment import load_data
        >>> data = load_data(train_size=30, valid_size=30)
        >>> evaluator = CNNEvaluator(data, copies=0, epochs=1, seed=0)
        >>> 0 <= evaluator(None) <= 1
        True
    """

    def __init__(self, data: AugmentData, *, copies: int = 4, epochs: int = 30,
                 online: bool = False, seed: int = 0) -> None:
        self.data, self.copies = data, _check_copies(copies)
        self.epochs, self.online, self.seed = epochs, bool(online), seed

    def __call__(self, arch: Augmenter) -> float:
        """The validation accuracy with policy `arch` (None: no augmentation)."""
        return self.score(arch, on="valid")

    def score(self, arch: Augmenter, *, on: str = "valid") -> float:
        """Accuracy on the "valid" or "test" images."""
        return self.scores(arch, on=(on,))[on]

    def scores(self, arch: Augmenter, *, on: Sequence[str] = ("valid", "test")) -> dict:
        """`{split: accuracy}` for each split of `on`, from one trained model."""
        splits = {name: _eval_split(self.data, name) for name in on}
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
        return {name: float(np.mean(model.predict(xe.astype("float32"), verbose=0)
                                     .argmax(axis=1) == ye))
                for name, (xe, ye) in splits.items()}

    def _layer(self, arch: Any) -> Any:
        from .layers import PolicyLayer

        if hasattr(arch, "make_layer"):  # a Keras baseline (`baselines.KerasAugmenter`)
            return arch.make_layer(self.seed)
        policy = arch if isinstance(arch, Policy) else to_policy(arch)
        return PolicyLayer(policy.to_json(), value_range=self.data.value_range, seed=self.seed)


def augmented_training_set(data: AugmentData, arch: Augmenter, *,
                           copies: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The training images followed by `copies` augmented copies, and their labels.

    `arch` is a policy (an architecture or a `Policy`, run in the data's value range
    whatever `value_range` it was compiled with), any augmenter
    `augmenter(images, rng) -> images` (e.g. a `baselines` entry), or None. The
    augmenter runs once, on `copies` copies of the training images.

    Example:
        >>> from da_bridge.spaces.augment import load_data
        >>> data = load_data(train_size=50, valid_size=50)
        >>> x, y = augmented_training_set(data, None, copies=2)
        >>> x.shape, y.shape
        ((50, 8, 8, 1), (50,))
    """
    if arch is None or copies == 0:
        return data.x_train, data.y_train
    if isinstance(arch, (Policy, Architecture)):
        policy = arch if isinstance(arch, Policy) else to_policy(arch)
        augment: Any = Policy(policy.program, value_range=data.value_range)
    else:
        augment = arch
    copied = augment(np.concatenate([data.x_train] * copies), np.random.default_rng(seed))
    return np.concatenate([data.x_train, copied]), np.tile(data.y_train, copies + 1)


# ----------------------------------------------------------------------------- internals


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
