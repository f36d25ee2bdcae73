"""The built-in pipeline spaces compile only to pipelines that fit, on tiny data."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from messy import messy_frame
from sklearn.base import is_classifier, is_regressor
from threadpoolctl import threadpool_limits

from da_bridge.errors import DomainError
from da_bridge.spaces.sklearn import (
    CLASSIFIERS,
    REGRESSORS,
    classification_space,
    regression_space,
    to_pipeline,
)

N_SAMPLES = 200
# Ensemble sizes are domain values that cannot be invalid; shrinking them keeps 400 fits fast.
SMALL = {"n_estimators": 3, "max_iter": 3}


@pytest.fixture(autouse=True)
def one_thread():
    """Small fits run fastest on one BLAS/OpenMP thread, the more so on a busy machine."""
    with threadpool_limits(1):
        yield


def _shrunk(pipeline):
    small = {key: SMALL[key.rsplit("__", 1)[-1]] for key in pipeline.get_params(deep=True)
             if key.rsplit("__", 1)[-1] in SMALL and "__" in key}
    return pipeline.set_params(**small)


def _tiny(kind, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 5))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5) if kind == "classification" \
        else X @ rng.normal(size=5)
    return X, y


@pytest.mark.parametrize("data", ["array", pytest.param("messy frame", marks=pytest.mark.slow)])
@pytest.mark.parametrize("make_space, kind", [(classification_space, "classification"),
                                              (regression_space, "regression")])
def test_every_sampled_pipeline_fits_and_predicts(make_space, kind, data):
    """No argument about the data: strings, booleans, an empty column, missing values
    everywhere and a string target fit on every branch of the space."""
    if data == "array":
        X, y = _tiny(kind)
    else:
        X, y = messy_frame(60, regression=kind == "regression")
    space, seen = make_space(), set()
    check = is_classifier if kind == "classification" else is_regressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and k > n_features on 5 features
        for seed in range(N_SAMPLES):
            arch = space.sample(seed)
            pipeline = _shrunk(to_pipeline(arch))
            assert check(pipeline)
            predictions = pipeline.fit(X, y).predict(X[:3])
            assert predictions.shape == (3,)
            if kind == "classification":
                assert set(predictions) <= set(y)
            seen.add(arch.values["model.choice"])
            seen.add(arch.values["features.choice"])
    models = CLASSIFIERS if kind == "classification" else REGRESSORS
    assert set(models) <= seen and {"pca", "select", "poly", "union"} <= seen


def test_mixed_columns_with_missing_values_compile_to_column_transformer():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40),
                      "color": rng.choice(["red", "green", None], size=40)})
    X.loc[::7, "a"] = np.nan
    y = (X["b"] > 0).astype(int).to_numpy()
    space = classification_space(numeric_columns=["a", "b"], categorical_columns=["color"],
                                 impute=True, n_features=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(40):
            pipeline = _shrunk(to_pipeline(space.sample(seed)))
            assert type(pipeline.steps[0][1]).__name__ == "ColumnTransformer"
            assert pipeline.fit(X, y).predict(X.iloc[:2]).shape == (2,)


def test_hyperparameters_appear_only_for_the_chosen_model():
    space = classification_space(impute=False)
    for seed in range(30):
        values = space.sample(seed).values
        chosen = values["model.choice"]
        model_paths = [p for p in values if p.startswith("model/")]
        assert model_paths and all(p.startswith(f"model/{chosen}/") for p in model_paths)


def test_log_scales_and_space_size():
    u = classification_space(models=["svc"], impute=False).unfold()
    for value in ("standard", "none", "svc", "tuned"):
        u.assign(value)
    c, gamma = u.pending()
    assert (c.name, c.log, gamma.log) == ("model/svc/gamma/tuned/svc.C", True, True)
    assert classification_space().count() == math.inf


def test_svm_gamma_is_scale_or_searched():
    arch = regression_space(models=["svr"], impute=False).replay({
        "scale.choice": "standard", "features.choice": "none", "model.choice": "svr",
        "model/svr/gamma.choice": "scale", "model/svr/gamma/scale/svr.C": 3.0,
        "model/svr/gamma/scale/svr.epsilon": 0.1})
    svr = to_pipeline(arch).steps[-1][1]
    assert (svr.gamma, svr.C, svr.epsilon) == ("scale", 3.0, 0.1)


def test_n_features_bounds_k_and_drops_polynomial_features():
    space = classification_space(n_features=64, models=["knn"], impute=False)
    u = space.unfold()
    u.assign("none")
    assert "poly" not in u.next().values
    u.assign("select")
    assert (u.next().low, u.next().high) == (8, 64)


def test_the_impute_choice_follows_the_option():
    assert classification_space(impute=None).unfold().next().name == "impute.include"
    assert classification_space(impute=False).unfold().next().name == "scale.choice"
    for space in (classification_space(), classification_space(impute=True)):
        pending = [h.name for h in space.unfold().pending()]
        assert "impute/simpleimputer.strategy" in pending and "impute.include" not in pending


@pytest.mark.parametrize("kwargs, path", [
    ({"models": ["svc", "xgboost"]}, "models"),
    ({"models": []}, "models"),
    ({"n_features": 0}, "n_features"),
    ({"impute": "yes"}, "impute"),
    ({"numeric_columns": "a"}, "numeric_columns"),
])
def test_bad_options_name_the_option(kwargs, path):
    with pytest.raises(DomainError, match=path):
        classification_space(**kwargs)
