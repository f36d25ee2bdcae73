"""`ArchitectureSearchCV`: a scikit-learn estimator driven by every da_bridge searcher."""

from __future__ import annotations

import pickle
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from messy import messy_frame
from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier, is_regressor
from sklearn.datasets import load_diabetes, load_digits, load_iris
from sklearn.decomposition import PCA
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from da_bridge import Discrete, SearchSpace, siso_or, siso_sequential
from da_bridge.errors import DomainError
from da_bridge.spaces.sklearn import (
    ArchitectureSearchCV,
    classification_space,
    regression_space,
    sklearn_module,
    to_pipeline,
)
from da_bridge.study.store import load_study

SEARCHERS = ["optuna", "random", "hyperopt", "skopt"]


@pytest.fixture(autouse=True)
def one_thread():
    """Small fits run fastest on one BLAS/OpenMP thread, the more so on a busy machine."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def _small_space():
    return classification_space(models=["logreg", "knn"], impute=False, n_features=4)


@pytest.mark.parametrize("searcher", SEARCHERS)
def test_every_searcher_finds_a_good_iris_pipeline(iris, searcher):
    X, y = iris
    search = ArchitectureSearchCV(_small_space(), searcher, n_trials=6, cv=3,
                                  random_state=0).fit(X, y)
    assert search.best_score_ > 0.85
    assert search.n_trials_ == 6
    assert search.cv_results_["mean_test_score"][search.best_index_] == search.best_score_
    assert search.score(X, y) > 0.85
    assert set(search.predict(X)) == {0, 1, 2}


def test_digits_with_the_full_classification_space():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]
    search = ArchitectureSearchCV(classification_space(n_features=64), n_trials=6, cv=3,
                                  random_state=1).fit(X, y)
    assert search.best_score_ > 0.85
    assert search.best_estimator_.predict(X[:5]).shape == (5,)


@pytest.mark.parametrize("make_space, regression", [(classification_space, False),
                                                    (regression_space, True)])
def test_a_messy_frame_needs_no_argument(make_space, regression):
    """Strings, booleans, an ID-like column, an empty column, 8% missing values everywhere
    and a string target: the default space takes the frame as it is."""
    X, y = messy_frame(90, regression=regression)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitFailedWarning)  # no trial may fail
        search = ArchitectureSearchCV(make_space(models=["knn", "hist_gb"]), n_trials=5, cv=3,
                                      random_state=0).fit(X, y)
    assert set(search.cv_results_["state"]) == {"COMPLETE"}
    new, _ = messy_frame(10, seed=1, regression=regression)
    predictions = search.predict(new)
    assert predictions.shape == (10,)
    if not regression:
        assert set(predictions) <= {"yes", "no"} and list(search.classes_) == ["no", "yes"]


def test_fitted_attributes_follow_sklearn(iris):
    X, y = iris
    search = ArchitectureSearchCV(_small_space(), n_trials=5, cv=3, random_state=0).fit(X, y)
    assert is_classifier(search)
    assert search.n_features_in_ == 4 and search.n_splits_ == 3
    np.testing.assert_array_equal(search.classes_, [0, 1, 2])
    arch = _small_space().replay(search.best_params_)
    assert repr(to_pipeline(arch)).split("(")[0] == "Pipeline"
    assert search.best_params_["model.choice"] in ("logreg", "knn")
    if hasattr(search, "predict_proba"):
        assert search.predict_proba(X[:3]).shape == (3, 3)
    assert search.refit_time_ >= 0 and len(search.study_.trials) == 5


def test_cv_results_read_as_a_dataframe(iris):
    X, y = iris
    search = ArchitectureSearchCV(_small_space(), n_trials=6, cv=3, random_state=0).fit(X, y)
    frame = pd.DataFrame(search.cv_results_)
    assert len(frame) == 6
    assert {"params", "mean_test_score", "std_test_score", "rank_test_score",
            "split0_test_score", "split2_test_score", "mean_fit_time", "state",
            "param_model.choice"} <= set(frame.columns)
    assert frame["rank_test_score"].min() == 1
    assert frame.loc[search.best_index_, "rank_test_score"] == 1
    knn_rows = frame["param_model.choice"] == "knn"
    assert frame.loc[~knn_rows, "param_model/knn/kneighborsclassifier.n_neighbors"].isna().all()


def test_clone_and_cross_val_score(iris):
    X, y = iris
    search = ArchitectureSearchCV(_small_space(), n_trials=3, cv=2, random_state=0)
    copy = clone(search)
    assert copy.get_params()["n_trials"] == 3 and copy.space is not search.space
    scores = cross_val_score(search, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8


def test_the_same_random_state_gives_the_same_search(iris):
    X, y = iris
    first = ArchitectureSearchCV(_small_space(), n_trials=4, cv=3, random_state=3).fit(X, y)
    second = ArchitectureSearchCV(_small_space(), n_trials=4, cv=3, random_state=3).fit(X, y)
    assert first.cv_results_["params"] == second.cv_results_["params"]
    np.testing.assert_array_equal(first.predict(X), second.predict(X))


def _pca_or_knn():
    """PCA with 10 components cannot fit 4 features: those trials fail, the search does not."""
    return SearchSpace(lambda: siso_sequential([
        siso_or({"pca": lambda: sklearn_module(PCA, {"n_components": 10}),
                 "none": lambda: siso_sequential([])}, Discrete(["pca", "none"]),
                name="features"),
        sklearn_module(__import__("sklearn.neighbors").neighbors.KNeighborsClassifier)]))


def test_a_failing_fit_fails_the_trial_not_the_search(iris):
    X, y = iris
    search = ArchitectureSearchCV(_pca_or_knn(), "random", n_trials=8, cv=3, random_state=0)
    with pytest.warns(FitFailedWarning, match="n_components=10"):
        search.fit(X, y)
    states = search.cv_results_["state"]
    assert "FAIL" in states and "COMPLETE" in states
    failed = states == "FAIL"
    assert np.isnan(search.cv_results_["mean_test_score"][failed]).all()
    assert search.cv_results_["rank_test_score"][failed].min() > (~failed).sum()
    assert search.best_params_ == {"features.choice": "none"}


def test_all_trials_failing_raises_with_the_first_error(iris):
    X, y = iris
    space = SearchSpace(lambda: sklearn_module(PCA, {"n_components": 10}))
    with pytest.raises(ValueError, match="n_components=10") as info:
        ArchitectureSearchCV(space, n_trials=2, cv=2).fit(X, y)
    assert "all 2 trials of the search failed" in info.value.__notes__[0]


def test_most_trials_failing_stops_early_and_names_the_fix():
    X, _ = messy_frame(60)
    y = np.arange(60) % 2
    # naming the columns overrides the encoder: a text column among the numeric ones
    space = classification_space(numeric_columns=["x1", "region"], categorical_columns=["flag"],
                                 models=["knn"])
    search = ArchitectureSearchCV(space, n_trials=30, cv=2, random_state=0)
    with pytest.raises(ValueError, match="could not convert string to float") as info:
        search.fit(X, y)
    note = info.value.__notes__[-1]
    assert note.startswith("10 of 10 trials failed, so the search stopped")
    assert "Fix: text columns reach steps that need numbers" in note


class _Sleeper(ClassifierMixin, BaseEstimator):
    """A classifier whose fit takes `seconds`."""

    def __init__(self, seconds=0.0):
        self.seconds = seconds

    def fit(self, X, y):
        time.sleep(self.seconds)
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_a_slow_pipeline_is_stopped_and_the_search_goes_on(iris):
    X, y = iris
    space = SearchSpace(lambda: sklearn_module(_Sleeper, {"seconds": Discrete([0.0, 60.0])}))
    search = ArchitectureSearchCV(space, "random", n_trials=4, cv=2, trial_timeout=2,
                                  random_state=3)
    with pytest.warns(FitFailedWarning, match="TrialTimeoutError"):
        search.fit(X, y)
    states = search.cv_results_["state"]
    assert "FAIL" in states and "COMPLETE" in states
    assert search.best_params_ == {"_sleeper.seconds": 0.0}


def test_the_trial_running_at_the_end_of_the_budget_is_stopped(iris):
    X, y = iris
    # seed 4 draws the fast pipeline, then the slow one (a minute), which the budget stops
    space = SearchSpace(lambda: sklearn_module(_Sleeper, {"seconds": Discrete([0.0, 60.0])}))
    search = ArchitectureSearchCV(space, "random", n_trials=None, cv=2, timeout=1.5,
                                  random_state=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitFailedWarning)  # a stopped trial is no failure
        search.fit(X, y)
    trials = sorted(search.study_.trials, key=lambda t: t.number)
    assert trials[0].state.name == "COMPLETE"
    assert trials[-1].state.name == "PRUNED"
    assert trials[-1].user_attrs["sklearn.stopped"] == "the search's time budget ran out"
    assert search.best_params_ == {"_sleeper.seconds": 0.0}


def test_a_pipeline_scored_before_is_not_fitted_again(iris):
    X, y = iris
    space = SearchSpace(lambda: sklearn_module(KNeighborsClassifier))  # one architecture
    search = ArchitectureSearchCV(space, n_trials=3, cv=3).fit(X, y)
    trials = sorted(search.study_.trials, key=lambda t: t.number)
    assert "da_bridge.same_as" not in trials[0].user_attrs
    assert [t.user_attrs["da_bridge.same_as"] for t in trials[1:]] == [0, 0]
    assert len({t.value for t in trials}) == 1
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_refit_false_keeps_the_search_but_not_the_model(iris):
    X, y = iris
    search = ArchitectureSearchCV(_small_space(), n_trials=3, cv=3, refit=False,
                                  random_state=0).fit(X, y)
    assert search.best_params_ and not hasattr(search, "best_estimator_")
    with pytest.raises(AttributeError) as info:
        search.predict(X)
    assert "refit=False" in str(info.value.__cause__)


def test_unfitted_predict_raises_not_fitted(iris):
    with pytest.raises(NotFittedError):
        ArchitectureSearchCV(_small_space()).predict(iris[0])


def test_a_stored_study_resumes_to_n_trials(iris, tmp_path, monkeypatch):
    monkeypatch.setenv("DA_BRIDGE_RUNS", str(tmp_path))
    X, y = iris
    ArchitectureSearchCV(_small_space(), n_trials=3, cv=3, storage=None, study_name="iris",
                         random_state=0).fit(X, y)
    search = ArchitectureSearchCV(_small_space(), n_trials=5, cv=3, storage=None,
                                  study_name="iris", random_state=0).fit(X, y)
    assert len(load_study("iris").trials) == 5 and search.n_trials_ == 5
    assert (tmp_path / "iris.journal").exists()


def test_the_default_storage_writes_nothing(iris, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ArchitectureSearchCV(_small_space(), n_trials=2, cv=2).fit(*iris)
    assert list(tmp_path.iterdir()) == []


def test_a_fitted_search_pickles(iris):
    X, y = iris
    search = ArchitectureSearchCV(_small_space(), n_trials=2, cv=2, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(again.predict(X), search.predict(X))


def test_regression_with_scoring():
    X, y = load_diabetes(return_X_y=True)
    search = ArchitectureSearchCV(regression_space(models=["ridge", "knn"], impute=False),
                                  n_trials=5, cv=3, scoring="neg_mean_absolute_error",
                                  random_state=0).fit(X, y)
    assert is_regressor(search)
    assert -70 < search.best_score_ < 0
    assert search.score(X, y) <= 0


@pytest.mark.parametrize("params, path", [
    ({"n_trials": 0}, "n_trials"),
    ({"n_trials": None}, "n_trials"),
    ({"timeout": -1}, "timeout"),
    ({"scoring": ["accuracy", "f1"]}, "scoring"),
    ({"verbose": -1}, "verbose"),
])
def test_bad_parameters_are_reported_by_fit(iris, params, path):
    search = ArchitectureSearchCV(_small_space(), **params)
    with pytest.raises(DomainError, match=path):
        search.fit(*iris)


def test_the_space_must_be_a_search_space(iris):
    with pytest.raises(TypeError, match="SearchSpace"):
        ArchitectureSearchCV(classification_space).fit(*iris)


# scikit-learn's estimator checks: every check that applies passes. Checks that do not apply:
# the sample-weight checks (fit takes no `sample_weight`; fit parameters are routed to the
# pipelines as in cross_validate) and the array API checks (pipelines of numpy estimators).
def _check_instances():
    # TPE's second pipeline selects features with y, which warns about a 2-d y as
    # check_supervised_y_2d wants; a pipeline without that step (Ridge takes 2-d y) does not
    return [
        ArchitectureSearchCV(classification_space(models=["logreg"], impute=False), "optuna",
                             n_trials=2, cv=2, random_state=0),
        ArchitectureSearchCV(regression_space(models=["ridge"], impute=False), "optuna",
                             n_trials=2, cv=2, random_state=0),
    ]


@parametrize_with_checks(_check_instances())
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitFailedWarning)
        check(estimator)
