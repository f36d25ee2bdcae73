"""Datasets for the `sklearn` task: scikit-learn's toy sets, or any CSV file."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from da_bridge._imports import require
from da_bridge.errors import DatasetError

logger = logging.getLogger(__name__)

#: Built-in datasets: loader name in `sklearn.datasets` and the kind of task.
DATASETS = {
    "digits": ("load_digits", "classification"),
    "iris": ("load_iris", "classification"),
    "wine": ("load_wine", "classification"),
    "breast_cancer": ("load_breast_cancer", "classification"),
    "diabetes": ("load_diabetes", "regression"),
}
TASKS = ("classification", "regression")
#: A numeric target with at most this many distinct integer values counts as class labels.
MAX_CLASSES = 20


@dataclass
class Dataset:
    """Features, target and what the search needs to know about them.

    Attributes:
        name: The dataset name or the CSV path.
        X: Features: an array, or a DataFrame for CSV files.
        y: Targets.
        task: "classification" or "regression".
        numeric_columns: CSV columns to impute and scale (None for arrays).
        categorical_columns: CSV columns to one-hot encode (None for arrays).
        missing: True if some feature value is missing.

    Example:
        >>> from da_bridge.spaces.sklearn import load_dataset
        >>> load_dataset("wine").n_features
        13
    """

    name: str
    X: Any
    y: Any
    task: str
    numeric_columns: list[str] | None = None
    categorical_columns: list[str] | None = None
    missing: bool = False

    @property
    def n_features(self) -> int:
        """The number of feature columns."""
        return int(self.X.shape[1])


def load_dataset(name: str) -> Dataset:
    """One of scikit-learn's toy datasets (`DATASETS`).

    Example:
        >>> from da_bridge.spaces.sklearn import load_dataset
        >>> data = load_dataset("iris")
        >>> data.task, data.X.shape
        ('classification', (150, 4))
    """
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)} "
                           "or a CSV file")
    loader, task = DATASETS[name]
    X, y = getattr(require("sklearn.datasets", "sklearn"), loader)(return_X_y=True)
    return Dataset(name, X, y, task)


def load_csv(path: str | os.PathLike, target: str, *, task: str | None = None) -> Dataset:
    """A CSV file with a header row; `target` is the column to predict.

    Numeric columns are imputed and scaled, the others one-hot encoded; rows
    without a target are dropped. The task is classification when the target
    is not numeric or has at most `MAX_CLASSES` distinct integer values,
    unless `task` says otherwise.

    Raises:
        DatasetError: the file cannot be read, `target` is not a column (the
            message lists the columns), or nothing is left to learn from.

    Example:
        >>> import pathlib, tempfile
        >>> from da_bridge.spaces.sklearn import load_csv
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "pets.csv"
        >>> _ = path.write_text("legs,color,kind\\n4,brown,dog\\n2,,bird\\n4,black,cat\\n")
        >>> data = load_csv(path, "kind")
        >>> data.task, data.numeric_columns, data.categorical_columns, data.missing
        ('classification', ['legs'], ['color'], True)
        >>> load_csv(path, "species")
        Traceback (most recent call last):
        ...
        da_bridge.errors.DatasetError: --target 'species' is not a column of ...
    """
    frame = _read_csv(path)
    columns = [str(c) for c in frame.columns]
    if target not in frame.columns:
        raise DatasetError(f"--target {target!r} is not a column of {os.fspath(path)!r}; "
                           f"columns: {columns}")
    frame = _drop_missing_targets(frame, target)
    X, y = frame.drop(columns=[target]), frame[target]
    if X.shape[1] == 0:
        raise DatasetError(f"{os.fspath(path)!r} has no feature columns besides {target!r}")
    numeric = [c for c in X.columns if _is_numeric(X[c])]
    categorical = [c for c in X.columns if c not in numeric]
    X = X.astype({c: object for c in categorical})  # one dtype for every text column
    kind = _task(y, task, target)
    if kind == "classification" and y.nunique() < 2:
        raise DatasetError(f"--target {target!r} of {os.fspath(path)!r} has one class "
                           f"(every row is {y.iloc[0]}); a classifier needs at least two")
    return Dataset(os.fspath(path), X, y.to_numpy(), kind, numeric, categorical,
                   bool(X.isna().to_numpy().any()))


def _read_csv(path: str | os.PathLike) -> Any:
    pandas = require("pandas", "sklearn")
    try:
        frame = pandas.read_csv(path)
    except FileNotFoundError:
        raise DatasetError(f"CSV file {os.fspath(path)!r} does not exist") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatasetError(f"cannot read CSV file {os.fspath(path)!r}: {reason}") from None
    if frame.empty:
        raise DatasetError(f"CSV file {os.fspath(path)!r} has no rows")
    return frame


def _drop_missing_targets(frame: Any, target: str) -> Any:
    missing = frame[target].isna()
    if missing.all():
        raise DatasetError(f"--target {target!r} has no values")
    if missing.any():
        logger.warning("dropping %d rows without a value for %r", int(missing.sum()), target)
    return frame[~missing].reset_index(drop=True)


def _task(y: Any, task: str | None, target: str) -> str:
    if task is not None:
        if task not in TASKS:
            raise DatasetError(f"task must be one of {list(TASKS)}; got {task!r}")
        if task == "regression" and not _is_numeric(y):
            raise DatasetError(f"--target {target!r} is not numeric; it cannot be regressed")
        return task
    if not _is_numeric(y) or y.dtype == bool:
        return "classification"
    np = require("numpy", "sklearn")
    values = y.to_numpy(dtype=float)
    integral = bool(np.all(values == np.round(values)))
    return "classification" if integral and y.nunique() <= MAX_CLASSES else "regression"


def _is_numeric(column: Any) -> bool:
    pandas = require("pandas", "sklearn")
    return bool(pandas.api.types.is_numeric_dtype(column))
