"""Small image datasets as Keras-ready arrays."""

from __future__ import annotations

import numpy as np

from da_bridge._imports import require
from da_bridge.errors import OptionError

Arrays = tuple[np.ndarray, np.ndarray]

#: Datasets `load_dataset` knows.
DATASETS = ("digits",)


def load_dataset(name: str, *, test_size: float = 0.25, seed: int = 0) -> tuple[Arrays, Arrays]:
    """A dataset as `(x_train, y_train), (x_test, y_test)`, split stratified by class.

    Images are float32 in [0, 1], shaped `(n, height, width, channels)`;
    labels are int class indices.

    Args:
        name: One of `DATASETS`: "digits" is scikit-learn's 1,797 8x8 digits.
        test_size: The held-out fraction.
        seed: Seeds the split.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_dataset("digits")
        >>> x_train.shape, x_test.shape, int(y_train.max())
        ((1347, 8, 8, 1), (450, 8, 8, 1), 9)
    """
    if name not in DATASETS:
        raise OptionError(f"unknown dataset {name!r}; choose one of {list(DATASETS)}")
    if not 0 < test_size < 1:
        raise OptionError(f"test_size must be in (0, 1); got {test_size!r}")
    datasets = require("sklearn.datasets", "sklearn")
    model_selection = require("sklearn.model_selection", "sklearn")
    digits = datasets.load_digits()
    x = (digits.images / 16.0).astype("float32")[..., np.newaxis]
    y = digits.target.astype("int64")
    x_train, x_test, y_train, y_test = model_selection.train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=y)
    return (x_train, y_train), (x_test, y_test)
