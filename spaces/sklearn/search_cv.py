"""`ArchitectureSearchCV`: architecture search as a scikit-learn estimator."""

from __future__ import annotations

import contextlib
import copy
import numbers
import time
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from da_bridge._imports import require
from da_bridge.errors import DomainError, OptionError, OptionTypeError, SearchFailedError
from da_bridge.space import SearchSpace
from da_bridge.study.runner import search

from ._results import cv_results, failure_reasons
from .builtin import starting_points
from .compile import to_pipeline
from .objective import cross_val_objective, failure_hint, quiet_fits

base = require("sklearn.base", "sklearn")
if TYPE_CHECKING:
    from sklearn.base import BaseEstimator, MetaEstimatorMixin
else:
    BaseEstimator, MetaEstimatorMixin = base.BaseEstimator, base.MetaEstimatorMixin
_available_if = require("sklearn.utils.metaestimators", "sklearn").available_if


def _best_has(attr: str) -> Any:
    """Delegate `attr` to the refit best pipeline (before fit: to a sample pipeline)."""
    def check(self: ArchitectureSearchCV) -> bool:
        if hasattr(self, "best_estimator_"):
            getattr(self.best_estimator_, attr)
            return True
        if hasattr(self, "study_"):
            raise AttributeError(f"{attr} needs the best pipeline refit on the whole data; this "
                                 f"{type(self).__name__} was fitted with refit=False")
        probe = _probe(self.space)
        return probe is None or hasattr(probe, attr)

    return check


class ArchitectureSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Search a pipeline space by cross-validation, then refit the best pipeline.

    A new study of a built-in space starts with four strong default pipelines
    (`starting_points`), then searches. Every searcher of `da_bridge.search` works
    ("auto", "optuna", "smbo", "random", "hyperopt", "skopt", or a `Searcher`
    object); every trial is recorded in an Optuna study (`study_`).
    A pipeline that fails to fit fails its trial only; a `FitFailedWarning`
    counts the failures at the end.

    Args:
        space: A pipeline search space (see `classification_space`).
        searcher: The search algorithm; "auto" as in `da_bridge.search`.
        n_trials: Trials to run (with a stored `study_name`: trials the study
            should hold, so a second fit resumes). None: until `timeout`.
        cv: Folds, splitter or iterable of splits; None means 5 folds
            (stratified for classifiers). The same folds serve every trial.
        scoring: A scorer name or callable; None uses the pipeline's `score`.
        n_jobs: Folds fitted in parallel (joblib processes); `da-bridge search
            sklearn` uses min(folds, CPUs), which pays on larger data and an idle
            machine.
        timeout: The search's time budget in seconds: no trial starts after it,
            and once a trial has completed, a trial still running at its end is
            stopped (its process is killed) and pruned; the refit comes on top.
        trial_timeout: Seconds one pipeline's cross-validation may take; a
            slower one is stopped (its process is killed), its trial fails with
            `TrialTimeoutError`, and the search goes on.
        storage: Where trials go: ":memory:" (default, nothing written),
            None for `./da_runs/<study>.journal`, or any Optuna storage URL.
        study_name: The study to create or resume; None makes a fresh name.
        refit: Refit the best pipeline on all of `X` (needed by `predict`).
        random_state: Seeds the searcher and every `random_state` of the pipelines.
        verbose: 0 is silent, 1 shows a progress bar, 2 also logs every trial.

    Attributes:
        best_estimator_: The best pipeline, refit on all the data.
        best_params_: The best architecture's values map `{path: value}`.
        best_score_: Its mean cross-validated score.
        best_index_: Its row in `cv_results_`.
        cv_results_: One row per trial, as a dict of columns (`pandas.DataFrame(...)`):
            `params`, `param_<path>` (masked where the path is not live),
            `split<i>_test_score`, `mean_test_score`, `std_test_score`,
            `rank_test_score`, fit and score times, `state`, `trial_number`.
        study_: The Optuna study holding every trial.
        n_trials_: Trials in the study.
        n_splits_: Cross-validation folds.
        refit_time_: Seconds spent refitting the best pipeline.
        scorer_: The scorer used by `score`.

    Example:
        >>> from sklearn.datasets import load_iris
        >>> from da_bridge.spaces.sklearn import ArchitectureSearchCV, classification_space
        >>> X, y = load_iris(return_X_y=True)
        >>> search = ArchitectureSearchCV(classification_space(models=["logreg", "knn"]),
        ...                               n_trials=4, cv=3, random_state=0).fit(X, y)
        >>> search.best_score_ > 0.9
        True
        >>> search.best_params_["model.choice"] in ("logreg", "knn")
        True
        >>> search.predict(X[:2]).tolist()
        [0, 0]
    """

    def __init__(self, space: SearchSpace, searcher: Any = "auto", *, n_trials: int | None = 20,
                 cv: Any = None, scoring: Any = None, n_jobs: int | None = None,
                 timeout: float | None = None, trial_timeout: float | None = None,
                 storage: Any = ":memory:", study_name: str | None = None, refit: bool = True,
                 random_state: Any = None, verbose: int = 0) -> None:
        self.space = space
        self.searcher = searcher
        self.n_trials = n_trials
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.timeout = timeout
        self.trial_timeout = trial_timeout
        self.storage = storage
        self.study_name = study_name
        self.refit = refit
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        probe = _probe(self.space)
        if probe is None:
            return tags
        utils = require("sklearn.utils", "sklearn")
        inner = utils.get_tags(probe)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = copy.deepcopy(inner.classifier_tags)
        tags.regressor_tags = copy.deepcopy(inner.regressor_tags)
        tags.target_tags.required = inner.target_tags.required
        tags.input_tags.pairwise = inner.input_tags.pairwise
        # a TabularEncoder first takes text columns: scikit-learn's checks then expect no
        # TypeError on strings in X
        first = probe.steps[0][1]
        if hasattr(first, "__sklearn_tags__"):
            tags.input_tags.string = utils.get_tags(first).input_tags.string
        return tags

    def fit(self, X: Any, y: Any = None, *, groups: Any = None,
            **params: Any) -> ArchitectureSearchCV:
        """Search the space on `(X, y)`, then refit the best pipeline if `refit`.

        Args:
            X: Features.
            y: Targets.
            groups: Group labels for group-aware splitters.
            **params: Fit parameters for the pipelines, routed as in `cross_validate`.

        Raises:
            ValueError: bad parameters or data. When every trial fails, or most
                of them (the search stops early), the first trial's own error,
                with a note grouping the errors and naming the fix.
        """
        self._check_params()
        X, y, groups = self._check_data(X, y, groups)
        seed = _seed(self.random_state)
        objective = cross_val_objective(X, y, cv=self.cv, scoring=self.scoring,
                                        classifier=base.is_classifier(self), n_jobs=self.n_jobs,
                                        random_state=seed, groups=groups, params=params)
        # the objective bounds each trial: by trial_timeout, and the last by what is left of
        # timeout (a search's timeout alone only stops new trials)
        objective.limit_time(timeout=self.timeout, trial_timeout=self.trial_timeout)
        result = self._search(objective, seed)
        self._record(result, len(objective.splits), objective.first_error)
        best = self.space.replay(self.best_params_)
        self.scorer_ = require("sklearn.metrics", "sklearn").check_scoring(
            to_pipeline(best), scoring=self.scoring)
        if self.refit:
            self._refit(objective.pipeline(best), X, y, params)
        self.n_features_in_ = getattr(getattr(self, "best_estimator_", None), "n_features_in_",
                                      None) or _num_features(X)
        return self

    def _check_data(self, X: Any, y: Any, groups: Any) -> tuple[Any, Any, Any]:
        utils = require("sklearn.utils", "sklearn")
        if y is None and (base.is_classifier(self) or base.is_regressor(self)):
            raise OptionError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None")
        X, y, groups = utils.indexable(X, y, groups)
        if base.is_classifier(self):
            require("sklearn.utils.multiclass", "sklearn").check_classification_targets(y)
        elif base.is_regressor(self) and getattr(getattr(y, "dtype", None), "kind", "") == "O":
            # as regressors do; SelectKBest's f_regression cannot read object targets
            y = utils.check_array(y, ensure_2d=False, dtype="numeric", ensure_all_finite=False)
        return X, y, groups

    def _refit(self, pipeline: Any, X: Any, y: Any, params: dict[str, Any]) -> None:
        started = time.perf_counter()
        with quiet_fits():
            self.best_estimator_ = pipeline.fit(X, y, **params)
        self.refit_time_ = time.perf_counter() - started
        if hasattr(self.best_estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.best_estimator_.feature_names_in_

    def _search(self, objective: Any, seed: int | None) -> Any:
        with _optuna_logging(self.verbose):
            try:
                return search(self.space, objective, self.searcher, n_trials=None,
                              max_trials=self.n_trials, timeout=self.timeout,
                              direction="maximize", storage=self.storage,
                              study_name=self.study_name, seed=seed,
                              show_progress=self.verbose > 0, trial_timeout=None,
                              failure_hint=failure_hint, initial=starting_points(self.space))
            except SearchFailedError as exc:
                if objective.first_error is None:
                    raise
                # the pipeline's own error, as a plain estimator would raise it; the note
                # says how many trials failed alike and what fixes it
                objective.first_error.add_note(str(exc))
                raise objective.first_error from None

    def _record(self, result: Any, n_splits: int, first_error: Exception | None) -> None:
        # enqueued starting points the budget left unrun stay WAITING in the study
        trials = sorted((t for t in result.trials if t.state.name != "WAITING"),
                        key=lambda t: t.number)
        self.study_, self.n_trials_, self.n_splits_ = result.study, len(trials), n_splits
        self.cv_results_ = cv_results(trials, n_splits)
        failed = failure_reasons(trials)
        if not any(t.state.name == "COMPLETE" for t in trials):
            _all_failed(len(trials), failed, first_error)
        if failed:
            exceptions = require("sklearn.exceptions", "sklearn")
            warnings.warn(f"{len(failed)} of {len(trials)} trials failed; the first error: "
                          f"{failed[0]}", exceptions.FitFailedWarning, stacklevel=3)
        numbers_ = self.cv_results_["trial_number"].tolist()
        self.best_index_ = numbers_.index(result.best_trial.number)
        self.best_score_ = float(result.best_score)
        self.best_params_ = dict(self.space.replay(result.best_values).values)

    def _check_params(self) -> None:
        name = type(self).__name__
        if not isinstance(self.space, SearchSpace):
            raise OptionTypeError(f"{name}.space must be a SearchSpace; got {self.space!r}")
        if self.n_trials is not None and (not _is_int(self.n_trials) or self.n_trials < 1):
            raise DomainError(f"{name}.n_trials", self.n_trials, "an int >= 1, or None")
        if self.timeout is not None and (not isinstance(self.timeout, numbers.Real)
                                         or isinstance(self.timeout, bool) or self.timeout <= 0):
            raise DomainError(f"{name}.timeout", self.timeout, "seconds > 0, or None")
        if self.trial_timeout is not None and (
                not isinstance(self.trial_timeout, numbers.Real)
                or isinstance(self.trial_timeout, bool) or self.trial_timeout <= 0):
            raise DomainError(f"{name}.trial_timeout", self.trial_timeout,
                              "seconds > 0, or None")
        if self.n_trials is None and self.timeout is None:
            raise DomainError(f"{name}.n_trials", None, "an int >= 1 when timeout is None")
        if isinstance(self.scoring, (list, tuple, set, dict)):
            raise DomainError(f"{name}.scoring", self.scoring,
                              "one scorer name or callable (multi-metric is not supported)")
        if not _is_int(self.verbose) or self.verbose < 0:
            raise DomainError(f"{name}.verbose", self.verbose, "an int >= 0")

    def score(self, X: Any, y: Any = None, **params: Any) -> float:
        """The score of the best pipeline on `(X, y)`, by `scoring` (or the pipeline's `score`)."""
        _best_has("score")(self)
        require("sklearn.utils.validation", "sklearn").check_is_fitted(self)
        return float(self.scorer_(self.best_estimator_, X, y, **params))

    @_available_if(_best_has("predict"))
    def predict(self, X: Any) -> Any:
        """Predict with the best pipeline."""
        return self._best().predict(X)

    @_available_if(_best_has("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        """Class probabilities from the best pipeline."""
        return self._best().predict_proba(X)

    @_available_if(_best_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        """Log class probabilities from the best pipeline."""
        return self._best().predict_log_proba(X)

    @_available_if(_best_has("decision_function"))
    def decision_function(self, X: Any) -> Any:
        """Decision function of the best pipeline."""
        return self._best().decision_function(X)

    @_available_if(_best_has("transform"))
    def transform(self, X: Any) -> Any:
        """Transform with the best pipeline."""
        return self._best().transform(X)

    @property
    def classes_(self) -> Any:
        """The class labels of the best pipeline."""
        _best_has("classes_")(self)
        return self.best_estimator_.classes_

    def _best(self) -> Any:
        require("sklearn.utils.validation", "sklearn").check_is_fitted(self)
        return self.best_estimator_


def _all_failed(n_trials: int, failed: list[str], first_error: Exception | None) -> None:
    """Raise the first trial's own exception, as a plain estimator would (bad data usually
    fails every pipeline alike); a note says that every trial failed."""
    note = f"all {n_trials} trials of the search failed; this is the first trial's error"
    if first_error is not None:
        first_error.add_note(note)
        raise first_error
    raise OptionError(f"{note}: {failed[0] if failed else 'no trial ran'}")


def _probe(space: Any) -> Any:
    """A sample pipeline of the space, to read its kind and methods before fitting."""
    if not isinstance(space, SearchSpace):
        return None
    try:
        return to_pipeline(space.sample(0))
    except Exception:  # a space that does not compile is reported by fit, not by tags
        return None


def _seed(random_state: Any) -> int | None:
    if random_state is None:
        return None
    if _is_int(random_state):
        return int(random_state)
    utils = require("sklearn.utils", "sklearn")
    return int(utils.check_random_state(random_state).randint(2**31 - 1))


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _num_features(X: Any) -> int:
    return int(X.shape[1]) if hasattr(X, "shape") else len(X[0])


@contextlib.contextmanager
def _optuna_logging(verbose: int) -> Iterator[None]:
    """Optuna logs each trial at INFO and each failure at WARNING; show them only if asked."""
    optuna = require("optuna", "optuna")
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO if verbose >= 2 else optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)
