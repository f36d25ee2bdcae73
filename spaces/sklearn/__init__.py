"""scikit-learn pipelines as a search domain.

Wrap estimator classes as modules (`sklearn_module`), compose them with the
engine's combinators and `siso_union`, compile an architecture to a real
`Pipeline` (`to_pipeline`), and search with `ArchitectureSearchCV`, a
scikit-learn estimator. `classification_space()` and `regression_space()`
are ready-made spaces.
"""

from .builtin import (
    CLASSIFIERS,
    REGRESSORS,
    classification_space,
    regression_space,
    starting_points,
)
from .code import pipeline_code
from .compile import to_pipeline
from .data import Dataset, DatasetError, load_csv, load_dataset
from .model import SavedModel, load_model, predict_csv, save_model
from .modules import select_columns, siso_union, sklearn_module
from .objective import cross_val_objective
from .search_cv import ArchitectureSearchCV
from .transformers import CappedPolynomialFeatures, TabularEncoder

__all__ = [
    "CLASSIFIERS",
    "REGRESSORS",
    "ArchitectureSearchCV",
    "CappedPolynomialFeatures",
    "Dataset",
    "DatasetError",
    "SavedModel",
    "TabularEncoder",
    "classification_space",
    "cross_val_objective",
    "load_csv",
    "load_dataset",
    "load_model",
    "pipeline_code",
    "predict_csv",
    "regression_space",
    "save_model",
    "select_columns",
    "siso_union",
    "sklearn_module",
    "starting_points",
    "to_pipeline",
]
