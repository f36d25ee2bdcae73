"""Built-in pipeline spaces: preprocessing, an optional feature step, and a model choice.

The layout of `classification_space()` (regression alike):

    encode:   TabularEncoder (column kinds found at fit: numbers pass, the rest one-hot)
    impute:   SimpleImputer(strategy)
    scale:    none | StandardScaler | MinMaxScaler | RobustScaler
    features: none | PCA(n_components) | SelectPercentile(percentile)
              | CappedPolynomialFeatures | FeatureUnion(PCA, SelectPercentile)
    model:    logreg | svc | knn | rf | extra_trees | hist_gb

So the spaces take any numeric array or DataFrame (strings, booleans,
categories, missing values, empty columns) as it is, and every branch fits on
missing values. Naming `numeric_columns` / `categorical_columns` replaces the
encoder with a `ColumnTransformer` over those columns.

Each model's hyperparameters appear only when it is chosen; an SVM's gamma is
scikit-learn's "scale" or searched (`model/svc/gamma.choice`). Sizes are safe on
any data: PCA keeps a fraction of the variance, SelectPercentile a fraction of
the features (SelectKBest when `n_features` is given), and polynomial features
expand at most `POLY_MAX_FEATURES` inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from da_bridge import (
    Bool,
    Discrete,
    Float,
    Int,
    SearchSpace,
    identity,
    siso_optional,
    siso_or,
    siso_sequential,
)
from da_bridge._imports import require
from da_bridge.errors import DABridgeError, DomainError
from da_bridge.modules import Fragment

from .modules import select_columns, siso_union, sklearn_module
from .transformers import POLY_MAX_FEATURES, CappedPolynomialFeatures, TabularEncoder

CLASSIFIERS = ("logreg", "svc", "knn", "rf", "extra_trees", "hist_gb")
REGRESSORS = ("ridge", "svr", "knn", "rf", "extra_trees", "hist_gb")
SCALERS = ("none", "standard", "minmax", "robust")
FEATURES = ("none", "pca", "select", "poly", "union")


@dataclass(frozen=True)
class _Options:
    kind: str
    models: tuple[str, ...]
    numeric_columns: tuple[Any, ...] | None
    categorical_columns: tuple[Any, ...] | None
    impute: bool | None
    n_features: int | None
    probability: bool = False


def classification_space(*, models: Sequence[str] | None = None,
                         numeric_columns: Sequence[Any] | None = None,
                         categorical_columns: Sequence[Any] | None = None,
                         impute: bool | None = True, n_features: int | None = None,
                         probability: bool = False) -> SearchSpace:
    """Classification pipelines: preprocessing, an optional feature step, a classifier.

    With no column options the space takes any numeric array or DataFrame as
    it is: a `TabularEncoder` finds the column kinds when the pipeline is fit
    (numeric columns are imputed and scaled, strings, booleans and categories
    one-hot encoded, empty columns dropped), so string columns, missing values
    and string targets need no argument.

    Args:
        models: A subset of `CLASSIFIERS` to choose from (default: all).
        numeric_columns: Overrides the kinds found in the data: with
            `categorical_columns`, the only columns used, through a
            `ColumnTransformer`; these are imputed and scaled.
        categorical_columns: Columns to one-hot encode (missing values and rare
            or unseen categories get their own columns).
        impute: True (default) imputes numeric columns, so every branch fits on
            missing values; False never (one step less, for data without any);
            None leaves it to the search.
        n_features: The number of input features after encoding, if known:
            SelectKBest with `k` up to it replaces SelectPercentile, and
            polynomial features are left out above `POLY_MAX_FEATURES`.
        probability: Use `SVC(probability=True)` so every model has `predict_proba`
            (SVC fits get about five times slower).

    Example:
        >>> from da_bridge.spaces.sklearn import classification_space
        >>> space = classification_space(models=["svc", "knn"])
        >>> sorted(h.name for h in space.unfold().pending())[:2]
        ['features.choice', 'impute/simpleimputer.strategy']
        >>> arch = space.sample(0)
        >>> arch.values["model.choice"] in ("svc", "knn")
        True
    """
    return SearchSpace(_Build(_options(
        "classification", models, CLASSIFIERS, numeric_columns, categorical_columns, impute,
        n_features, probability)))


def regression_space(*, models: Sequence[str] | None = None,
                     numeric_columns: Sequence[Any] | None = None,
                     categorical_columns: Sequence[Any] | None = None,
                     impute: bool | None = True, n_features: int | None = None) -> SearchSpace:
    """Regression pipelines; the options are those of `classification_space`.

    Models: `REGRESSORS` (ridge, SVR, k-NN, random forest, extra trees,
    HistGradientBoosting).

    Example:
        >>> from da_bridge.spaces.sklearn import regression_space, to_pipeline
        >>> space = regression_space(models=["ridge"], impute=False)
        >>> to_pipeline(space.replay({"scale.choice": "none", "features.choice": "none",
        ...                           "model.choice": "ridge", "model/ridge/ridge.alpha": 0.5}))
        Pipeline(steps=[('encode', TabularEncoder()), ('ridge', Ridge(alpha=0.5))])
    """
    return SearchSpace(_Build(_options(
        "regression", models, REGRESSORS, numeric_columns, categorical_columns, impute,
        n_features)))


def starting_points(space: SearchSpace) -> list[dict[str, Any]]:
    """Values maps of strong default pipelines, to evaluate before searching.

    For a built-in space: an RBF SVM and a logistic (ridge) model on standardized
    features, then histogram gradient boosting and a random forest, each with
    scikit-learn's usual settings, as far as the space's options allow. Other
    spaces get none. `ArchitectureSearchCV` and `da-bridge search sklearn` run
    them first in a new study (auto-sklearn and FLAML start from defaults too):
    on a short budget, a good first model matters more than exploration.

    Example:
        >>> from da_bridge.spaces.sklearn import classification_space, starting_points
        >>> [p["model.choice"] for p in starting_points(classification_space())]
        ['svc', 'logreg', 'hist_gb', 'rf']
        >>> [p["model.choice"] for p in starting_points(classification_space(models=["knn"]))]
        []
    """
    build = getattr(space, "build_fn", None)
    if not isinstance(build, _Build):
        return []
    o = build.options
    suffix = "classifier" if o.kind == "classification" else "regressor"
    points = []
    for model in _DEFAULT_MODELS[o.kind]:
        if model not in o.models:
            continue
        values = {"scale.choice": "none" if model in ("hist_gb", "rf") else "standard",
                  "features.choice": "none", "model.choice": model,
                  **{k.format(suffix): v for k, v in _DEFAULT_SETTINGS[model].items()}}
        if o.impute is not False:
            values["impute/simpleimputer.strategy"] = "median"
        if o.impute is None:
            values["impute.include"] = True
        if o.numeric_columns or o.categorical_columns:
            values = {(f"columns/numeric/{k}" if k.startswith(("impute", "scale")) else k): v
                      for k, v in values.items()}
        try:
            points.append(dict(space.replay(values).values))
        except DABridgeError:  # an option of the space rules this one out
            continue
    return points


# cheap ones first: on a short budget the slower defaults may not get their turn
_DEFAULT_MODELS = {"classification": ("svc", "logreg", "hist_gb", "rf"),
                   "regression": ("ridge", "svr", "hist_gb", "rf")}
_DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "svc": {"model/svc/gamma.choice": "scale", "model/svc/gamma/scale/svc.C": 10.0},
    "svr": {"model/svr/gamma.choice": "scale", "model/svr/gamma/scale/svr.C": 10.0,
            "model/svr/gamma/scale/svr.epsilon": 0.1},
    "logreg": {"model/logreg/logisticregression.C": 1.0},
    "ridge": {"model/ridge/ridge.alpha": 1.0},
    "hist_gb": {"model/hist_gb/histgradientboosting{}.learning_rate": 0.1,
                "model/hist_gb/histgradientboosting{}.max_iter": 100,
                "model/hist_gb/histgradientboosting{}.max_leaf_nodes": 31,
                "model/hist_gb/histgradientboosting{}.l2_regularization": 1e-6},
    "rf": {"model/rf/randomforest{}.n_estimators": 100,
           "model/rf/randomforest{}.max_features": 0.3,
           "model/rf/randomforest{}.min_samples_leaf": 1},
}


class _Build:
    """The build function of a built-in space: picklable, with a readable name."""

    def __init__(self, options: _Options) -> None:
        self.options = options
        self.__qualname__ = f"{options.kind}_space"

    def __call__(self) -> Fragment:
        o = self.options
        return siso_sequential([_preprocess(o), _features(o), _model(o)])


def _options(kind, models, allowed, numeric, categorical, impute, n_features,
             probability=False) -> _Options:
    models = tuple(allowed if models is None else ([models] if isinstance(models, str)
                                                   else models))
    if not models or not set(models) <= set(allowed) or len(set(models)) < len(models):
        raise DomainError("models", list(models), f"distinct names among {list(allowed)}")
    if n_features is not None and (isinstance(n_features, bool) or
                                   not isinstance(n_features, int) or n_features < 1):
        raise DomainError("n_features", n_features, "a positive integer or None")
    if impute not in (None, False, True):
        raise DomainError("impute", impute, "True, False or None")
    return _Options(kind, models, _columns(numeric, "numeric_columns"),
                    _columns(categorical, "categorical_columns"), impute, n_features,
                    bool(probability))


def _columns(columns: Any, what: str) -> tuple[Any, ...] | None:
    if columns is None:
        return None
    if isinstance(columns, (str, bytes)) or not isinstance(columns, Sequence):
        raise DomainError(what, columns, "a list of column names or indices")
    return tuple(columns)


def _preprocess(o: _Options) -> Fragment:
    if not o.numeric_columns and not o.categorical_columns:
        return siso_sequential([sklearn_module(TabularEncoder, name="encode"), _impute(o),
                                _scale()])
    preprocessing = require("sklearn.preprocessing", "sklearn")
    numeric, categorical = list(o.numeric_columns or ()), list(o.categorical_columns or ())
    branches = {}
    if numeric:
        branches["numeric"] = lambda: siso_sequential(
            [select_columns(numeric), _impute(o), _scale()])
    if categorical:
        branches["categorical"] = lambda: siso_sequential([
            select_columns(categorical),
            _text(),
            sklearn_module(preprocessing.OneHotEncoder, {
                "handle_unknown": "infrequent_if_exist", "max_categories": 20,
                "sparse_output": False})])
    return siso_union(branches, name="columns")


def _text() -> Fragment:
    """Named categorical columns as text, so mixed values and missing ones encode alike."""
    p = require("sklearn.preprocessing", "sklearn")
    return sklearn_module(p.FunctionTransformer, {"func": _as_text, "feature_names_out":
                                                  "one-to-one"}, name="astext")


def _as_text(X: Any) -> Any:
    pandas = require("pandas", "sklearn")
    frame = X if isinstance(X, pandas.DataFrame) else pandas.DataFrame(X)
    return frame.astype(object).where(frame.notna(), "<missing>").astype(str)


def _impute(o: _Options) -> Fragment:
    impute = require("sklearn.impute", "sklearn")
    # keep_empty_features: a column empty in one fold must not change the width mid-pipeline
    return siso_optional(
        lambda: sklearn_module(impute.SimpleImputer, {"strategy": Discrete(["mean", "median"]),
                                                      "keep_empty_features": True}),
        Bool() if o.impute is None else o.impute, name="impute")


def _scale() -> Fragment:
    p = require("sklearn.preprocessing", "sklearn")
    options = {"none": identity, "standard": lambda: sklearn_module(p.StandardScaler),
               "minmax": lambda: sklearn_module(p.MinMaxScaler),
               "robust": lambda: sklearn_module(p.RobustScaler)}
    return siso_or(options, Discrete(SCALERS), name="scale")


def _features(o: _Options) -> Fragment:
    decomposition = require("sklearn.decomposition", "sklearn")
    selection = require("sklearn.feature_selection", "sklearn")
    score_func = selection.f_classif if o.kind == "classification" else selection.f_regression

    def pca() -> Fragment:
        return sklearn_module(decomposition.PCA, {"n_components": Float(0.7, 0.99)})

    def select() -> Fragment:
        if o.n_features is None:  # a share of however many features the data has
            return sklearn_module(selection.SelectPercentile, {
                "score_func": score_func, "percentile": Float(10.0, 90.0)})
        max_k = o.n_features
        min_k = min(max_k, max(2, max_k // 8))  # a few of many features: rarely worth a trial
        return sklearn_module(selection.SelectKBest, {
            "score_func": score_func, "k": Int(min_k, max_k, log=True)})

    options = {"none": identity, "pca": pca, "select": select,  # the order of FEATURES
               "poly": lambda: sklearn_module(CappedPolynomialFeatures, {
                   "interaction_only": Bool()}, name="polynomialfeatures"),
               "union": lambda: siso_union({"pca": pca, "select": select})}
    if o.n_features is not None and o.n_features > POLY_MAX_FEATURES:
        del options["poly"]
    return siso_or(options, Discrete(list(options)), name="features")


def _model(o: _Options) -> Fragment:
    table = _classifiers(o) if o.kind == "classification" else _regressors()
    return siso_or({name: table[name] for name in o.models}, Discrete(list(o.models)),
                   name="model")


def _classifiers(o: _Options) -> dict[str, Any]:
    ensemble = require("sklearn.ensemble", "sklearn")
    linear = require("sklearn.linear_model", "sklearn")
    neighbors = require("sklearn.neighbors", "sklearn")
    svm = require("sklearn.svm", "sklearn")
    svc = {"probability": True} if o.probability else {}
    return {
        "logreg": lambda: sklearn_module(linear.LogisticRegression, {
            "C": Float(1e-3, 1e3, log=True), "max_iter": 1000}),
        "svc": lambda: _kernel_machine(svm.SVC, svc),
        "knn": lambda: sklearn_module(neighbors.KNeighborsClassifier, _knn()),
        "rf": lambda: sklearn_module(ensemble.RandomForestClassifier, _forest()),
        "extra_trees": lambda: sklearn_module(ensemble.ExtraTreesClassifier, _forest()),
        "hist_gb": lambda: sklearn_module(ensemble.HistGradientBoostingClassifier, _boosting()),
    }


def _regressors() -> dict[str, Any]:
    ensemble = require("sklearn.ensemble", "sklearn")
    linear = require("sklearn.linear_model", "sklearn")
    neighbors = require("sklearn.neighbors", "sklearn")
    svm = require("sklearn.svm", "sklearn")
    return {
        "ridge": lambda: sklearn_module(linear.Ridge, {"alpha": Float(1e-3, 1e3, log=True)}),
        "svr": lambda: _kernel_machine(svm.SVR, {"epsilon": Float(1e-3, 1.0, log=True)}),
        "knn": lambda: sklearn_module(neighbors.KNeighborsRegressor, _knn()),
        "rf": lambda: sklearn_module(ensemble.RandomForestRegressor, _forest()),
        "extra_trees": lambda: sklearn_module(ensemble.ExtraTreesRegressor, _forest()),
        "hist_gb": lambda: sklearn_module(ensemble.HistGradientBoostingRegressor, _boosting()),
    }


def _kernel_machine(cls: type, fixed: dict[str, Any]) -> Fragment:
    """An RBF SVM whose gamma is scikit-learn's "scale" (1 / (n_features * X.var()), right
    for any scaling) or searched on a log scale."""
    def svm(gamma: Any) -> Fragment:
        return sklearn_module(cls, {"C": Float(0.1, 1e3, log=True), "gamma": gamma, **fixed})

    return siso_or({"scale": lambda: svm("scale"),
                    "tuned": lambda: svm(Float(1e-4, 1.0, log=True))},
                   Discrete(["scale", "tuned"]), name="gamma")


def _knn() -> dict[str, Any]:
    return {"n_neighbors": Int(1, 30, log=True), "weights": Discrete(["uniform", "distance"])}


def _forest() -> dict[str, Any]:
    return {"n_estimators": Int(50, 300, log=True), "max_features": Float(0.05, 0.5, log=True),
            "min_samples_leaf": Int(1, 10, log=True)}


def _boosting() -> dict[str, Any]:
    return {"learning_rate": Float(0.03, 0.3, log=True), "max_iter": Int(30, 150, log=True),
            "max_leaf_nodes": Int(8, 64, log=True),
            "l2_regularization": Float(1e-6, 1.0, log=True)}
