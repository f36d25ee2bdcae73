"""A fitted pipeline kept on disk: `save_model` / `load_model`, one line each.

The file is a joblib pickle of the fitted estimator plus what predicting on a
new table needs: the feature columns it was fitted on, the target's name, the
task and the da_bridge version. Like any pickle, load only files you trust.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from da_bridge._imports import require
from da_bridge._version import __version__
from da_bridge.errors import DatasetError

from .data import read_csv

#: The file suffix the command line uses for saved models.
SUFFIX = ".joblib"
_FORMAT = "da_bridge.sklearn.model/1"


@dataclass
class SavedModel:
    """A fitted estimator with what it needs to predict on a new table.

    Attributes:
        estimator: The fitted pipeline (or any fitted estimator, e.g. an
            `ArchitectureSearchCV`).
        columns: The feature columns it was fitted on (None for arrays).
        target: The name of the predicted column, if known.
        task: "classification" or "regression", if known.
        info: Free-form facts (scores, study name) kept with the model.
        version: The da_bridge version that saved it.
    """

    estimator: Any
    columns: list[str] | None = None
    target: str | None = None
    task: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    version: str = __version__

    def predict(self, X: Any) -> Any:
        """Predictions for `X`; a DataFrame may have extra columns (e.g. the target):
        only the fitted columns are used, in the fitted order."""
        return self.estimator.predict(self.features(X))

    def features(self, X: Any) -> Any:
        """The columns of `X` the estimator was fitted on (a `DatasetError` names missing ones)."""
        pandas = require("pandas", "sklearn")
        if self.columns is None or not isinstance(X, pandas.DataFrame):
            return X
        missing = [c for c in self.columns if c not in X.columns]
        if missing:
            raise DatasetError(f"the data lacks the model's columns {missing}; it was fitted on "
                               f"{self.columns}")
        return X[self.columns]


def save_model(estimator: Any, path: str | os.PathLike, *, columns: Any = None,
               target: str | None = None, task: str | None = None,
               info: dict[str, Any] | None = None) -> str:
    """Write a fitted estimator to `path` (joblib); returns the path written.

    Args:
        estimator: A fitted pipeline, e.g. `search.best_estimator_`, or the
            fitted `ArchitectureSearchCV` itself.
        path: The file to write (folders are created).
        columns: The feature columns; by default the estimator's
            `feature_names_in_` when it was fitted on a DataFrame.
        target: The name of the predicted column.
        task: "classification" or "regression".
        info: Facts to keep with the model.

    Example:
        >>> import pathlib, tempfile
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.neighbors import KNeighborsClassifier
        >>> from da_bridge.spaces.sklearn import load_model, save_model
        >>> X, y = load_iris(return_X_y=True)
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "iris.joblib"
        >>> _ = save_model(KNeighborsClassifier().fit(X, y), path)
        >>> load_model(path).predict(X[:3]).tolist()
        [0, 0, 0]
    """
    joblib = require("joblib", "sklearn")
    if columns is None and hasattr(estimator, "feature_names_in_"):
        columns = estimator.feature_names_in_
    saved = SavedModel(estimator, None if columns is None else [str(c) for c in columns],
                       target, task, dict(info or {}))
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    joblib.dump({"format": _FORMAT, "model": saved}, path)
    return path


def load_model(path: str | os.PathLike) -> SavedModel:
    """The `SavedModel` in a file written by `save_model` or `da-bridge search sklearn`.

    Raises:
        DatasetError: the file does not exist or is not a saved model.
    """
    joblib = require("joblib", "sklearn")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DatasetError(f"model file {path!r} does not exist")
    try:
        content = joblib.load(path)
    except Exception as exc:  # any unpickling failure means: not one of our files
        raise DatasetError(f"{path!r} is not a saved model ({type(exc).__name__}: {exc})") \
            from None
    if not isinstance(content, dict) or content.get("format") != _FORMAT:
        raise DatasetError(f"{path!r} is not a model saved by da_bridge (save_model or "
                           "da-bridge search sklearn --save)")
    return content["model"]


def predict_csv(model: SavedModel | str | os.PathLike, path: str | os.PathLike) -> Any:
    """The rows of a CSV file with the model's predictions as a last column.

    The column is named `<target>_predicted` (`prediction` if the target is
    unknown); the file may hold the target and other extra columns.

    Example:
        >>> import pathlib, tempfile
        >>> import pandas as pd
        >>> from sklearn.linear_model import LinearRegression
        >>> from da_bridge.spaces.sklearn import predict_csv, save_model
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> X = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
        >>> _ = save_model(LinearRegression().fit(X, [2.0, 4.0, 6.0]), folder / "m.joblib",
        ...                target="y")
        >>> _ = (folder / "new.csv").write_text("x\\n4\\n5\\n")
        >>> predict_csv(folder / "m.joblib", folder / "new.csv")["y_predicted"].round(3).tolist()
        [8.0, 10.0]
    """
    saved = model if isinstance(model, SavedModel) else load_model(model)
    frame = read_csv(path)
    predictions = saved.predict(frame)
    return frame.assign(**{f"{saved.target}_predicted" if saved.target else "prediction":
                           predictions})
