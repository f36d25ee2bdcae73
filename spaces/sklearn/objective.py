"""The cross-validation objective shared by `ArchitectureSearchCV` and the CLI task."""

from __future__ import annotations

import contextlib
import math
import os
import time
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from da_bridge._imports import require
from da_bridge.architecture import Architecture
from da_bridge.errors import TrialTimeoutError
from da_bridge.study import ERROR_ATTR, SAME_AS_ATTR, VALUES_ATTR
from da_bridge.study.noise import record_samples
from da_bridge.study.timeouts import run_with_timeout

from .compile import to_pipeline

#: Trial user attributes: per-fold test scores, fit and score times (a failed fit's error goes
#: to the study's own `ERROR_ATTR`, which `da-bridge show` reads).
SPLIT_SCORES_ATTR = "sklearn.split_scores"
FIT_TIMES_ATTR = "sklearn.fit_times"
SCORE_TIMES_ATTR = "sklearn.score_times"

#: Trial user attribute: why a trial was stopped without a score (the time budget ran out).
STOPPED_ATTR = "sklearn.stopped"

_FIXES = (
    (("could not convert string to float", "non-numeric data", "Encoders require"),
     "text columns reach steps that need numbers: build the space without numeric_columns/"
     "categorical_columns (its TabularEncoder one-hot encodes text), or list every text column "
     "in categorical_columns=[...]"),
    (("contains NaN", "missing values"),
     "impute=True (the default) imputes missing values on every branch of the built-in spaces"),
    (("Unknown label type", "continuous"),
     "the target is numeric with many values: use regression_space() (CLI: --task regression)"),
    (("TrialTimeoutError",),
     "a larger per-trial limit (trial_timeout=, CLI --trial-timeout) or faster models "
     "(models=[...], CLI --models)"),
    (("n_splits=", "least populated class"),
     "fewer folds (cv=3, CLI --cv 3): a class has fewer rows than folds"),
)

# Warnings the built-in spaces trigger by design on some data; they say nothing about a trial.
_NOISE = (
    (r"k=\d+ is greater than n_features=\d+", UserWarning),
    (r"Features .* are constant", UserWarning),
    (r"(invalid value|divide by zero) encountered in (divide|true_divide)", RuntimeWarning),
)


def cross_val_objective(X: Any, y: Any, *, cv: Any = 5, scoring: Any = None,
                        classifier: bool = True, n_jobs: int | None = None,
                        random_state: int | None = None, groups: Any = None,
                        params: Mapping[str, Any] | None = None) -> CrossValObjective:
    """An objective for `da_bridge.search`: the mean cross-validated score of `to_pipeline(arch)`.

    The folds are drawn once, so every trial sees the same splits. A pipeline
    that fails to fit raises, which fails the trial and not the search; the
    error is kept in the trial's `da_bridge.study.ERROR_ATTR` user attribute.

    Args:
        X: Features.
        y: Targets.
        cv: Folds, a splitter or an iterable of splits (as in `cross_validate`).
        scoring: A scorer name or callable; None uses the pipeline's `score`.
        classifier: Stratify the folds when `y` is a class label.
        n_jobs: Folds fitted in parallel (joblib processes).
        random_state: Set on every `random_state` argument of the pipeline's steps
            that is None, so a trial's score is reproducible.
        groups: Group labels for group-aware splitters.
        params: Fit parameters, routed as in `cross_validate`.

    Example:
        >>> from sklearn.datasets import load_iris
        >>> from da_bridge import search
        >>> from da_bridge.spaces.sklearn import classification_space, cross_val_objective
        >>> X, y = load_iris(return_X_y=True)
        >>> objective = cross_val_objective(X, y, cv=3, random_state=0)
        >>> result = search(classification_space(models=["knn"]), objective, n_trials=3,
        ...                 direction="maximize", storage=":memory:", seed=0)
        >>> result.best_score > 0.8
        True
    """
    return CrossValObjective(X, y, cv=cv, scoring=scoring, classifier=classifier, n_jobs=n_jobs,
                             random_state=random_state, groups=groups, params=params)


class CrossValObjective:
    """`objective(arch, trial) -> mean test score`; built by `cross_val_objective`.

    Attributes:
        splits: The `(train, test)` index pairs every trial uses.
        first_error: The first exception a trial raised in this process, if any.
        trial_timeout: Seconds one trial may take (None: no limit); see `limit_time`.
        deadline: `time.monotonic()` at which the search's time budget ends (None: no
            budget); see `limit_time`.
    """

    def __init__(self, X: Any, y: Any, *, cv: Any, scoring: Any, classifier: bool,
                 n_jobs: int | None, random_state: int | None, groups: Any,
                 params: Mapping[str, Any] | None) -> None:
        model_selection = require("sklearn.model_selection", "sklearn")
        splitter = model_selection.check_cv(cv, y, classifier=classifier)
        self.splits = list(splitter.split(X, y, groups))
        self.X, self.y, self.scoring, self.n_jobs = X, y, scoring, n_jobs
        self.random_state, self.params = random_state, dict(params or {})
        self.first_error: Exception | None = None
        self.trial_timeout: float | None = None
        self.deadline: float | None = None
        self._pid = os.getpid()

    def limit_time(self, *, timeout: float | None, trial_timeout: float | None) -> None:
        """Bound every trial by `trial_timeout` and, once a trial has completed, by what is
        left of the `timeout` budget (counted from now).

        A search's `timeout` only stops new trials: without this, the trial running at the
        end of the budget overran it (a slow pipeline by half a minute). A trial with a limit
        runs in a forked process that is killed at the limit (`run_with_timeout`); one
        stopped by the budget is pruned (not failed: the pipeline did nothing wrong). The
        first trial to complete is never cut by the budget, so a search always has a model.
        """
        self.trial_timeout = trial_timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout

    def pipeline(self, arch: Architecture) -> Any:
        """The unfitted pipeline of `arch`, with the objective's random state set."""
        return seeded(to_pipeline(arch), self.random_state)

    def __call__(self, arch: Architecture, trial: Any) -> float:
        np = require("numpy", "sklearn")
        done = _evaluated_before(trial)
        if done is not None:  # the searcher proposed a pipeline the study already scored
            for attr in (SPLIT_SCORES_ATTR, FIT_TIMES_ATTR, SCORE_TIMES_ATTR, SAME_AS_ATTR):
                if attr in done.user_attrs or attr == SAME_AS_ATTR:
                    trial.set_user_attr(attr, done.user_attrs.get(attr, done.number))
            return float(done.value)
        try:
            result = self._bounded(arch, trial)
        except Exception as exc:
            if isinstance(exc, require("optuna", "optuna").TrialPruned):
                raise
            trial.set_user_attr(ERROR_ATTR, f"{type(exc).__name__}: {exc}")
            self.first_error = self.first_error or exc
            raise
        trial.set_user_attr(SPLIT_SCORES_ATTR, [float(s) for s in result["test_score"]])
        if len(result["test_score"]) > 1:  # the spread behind the score, for every report
            record_samples(trial, result["test_score"], "CV folds")
        trial.set_user_attr(FIT_TIMES_ATTR, [float(s) for s in result["fit_time"]])
        trial.set_user_attr(SCORE_TIMES_ATTR, [float(s) for s in result["score_time"]])
        return float(np.mean(result["test_score"]))

    def _bounded(self, arch: Architecture, trial: Any) -> dict[str, Any]:
        """`_cross_validate`, in a child process killed at the trial's time limit if any."""
        budget = self._left(trial)
        limit = min(x for x in (self.trial_timeout, budget, math.inf) if x is not None)
        if limit == math.inf:
            return self._cross_validate(arch)
        try:
            return run_with_timeout(lambda a: self._cross_validate(a), arch, trial,
                                    max(limit, 0.01))
        except TrialTimeoutError:
            if budget is None or budget > limit:  # its own time limit: a failed trial
                raise
            optuna = require("optuna", "optuna")
            trial.set_user_attr(STOPPED_ATTR, "the search's time budget ran out")
            raise optuna.TrialPruned("the search's time budget ran out during this trial") \
                from None

    def _left(self, trial: Any) -> float | None:
        """Seconds left of the budget, once the study has a completed trial (else None)."""
        if self.deadline is None:
            return None
        study = getattr(trial, "study", None)
        if study is None or not study.get_trials(deepcopy=False, states=_complete()):
            return None
        return self.deadline - time.monotonic()

    def _cross_validate(self, arch: Architecture) -> dict[str, Any]:
        model_selection = require("sklearn.model_selection", "sklearn")
        joblib = require("joblib", "sklearn")
        # in a child forked for a time limit, the parent's loky workers are out of reach
        # (using them hangs), and a fresh process pool per trial costs most of a second:
        # threads fit the folds there (the fits release the GIL in their compiled parts)
        forked = os.getpid() != self._pid
        backend = joblib.parallel_config(backend="threading") if forked \
            else contextlib.nullcontext()
        # folds fitted here get one BLAS/OpenMP thread, as loky gives each fold worker (the
        # forked pool's workers inherit the limit): on a busy machine, oversubscribed threads
        # make small fits ten times slower or worse
        threads = require("threadpoolctl", "sklearn").threadpool_limits(1) \
            if forked or self.n_jobs in (None, 1) else contextlib.nullcontext()
        with quiet_fits(convergence=True), backend, threads:
            return model_selection.cross_validate(
                self.pipeline(arch), self.X, self.y, cv=self.splits, scoring=self.scoring,
                n_jobs=self.n_jobs, error_score="raise", params=self.params)


def _evaluated_before(trial: Any) -> Any:
    """A finished trial of the same study with the same values map, if there is one."""
    study, values = getattr(trial, "study", None), _values(trial)
    if study is None or values is None:
        return None
    for other in study.get_trials(deepcopy=False, states=_complete()):
        if other.number != trial.number and other.user_attrs.get(VALUES_ATTR) == values:
            return other
    return None


def _values(trial: Any) -> Any:
    try:
        return trial.user_attrs.get(VALUES_ATTR)
    except Exception:  # a stand-in trial without user attributes
        return None


def _complete() -> tuple[Any, ...]:
    return (require("optuna", "optuna").trial.TrialState.COMPLETE,)


def failure_hint(errors: list[str]) -> str | None:
    """What fixes the usual reasons why most pipelines of a search fail.

    Example:
        >>> failure_hint(["ValueError: Input X contains NaN."])
        'impute=True (the default) imputes missing values on every branch of the built-in spaces'
    """
    text = " ".join(errors)
    for needles, fix in _FIXES:
        if any(needle in text for needle in needles):
            return fix
    return ("restrict the space to models that suit the data (models=[...], CLI --models), "
            "or check the data the error names")


def seeded(estimator: Any, random_state: int | None) -> Any:
    """Set every unset `random_state` of `estimator` and its nested steps to `random_state`.

    Example:
        >>> from sklearn.ensemble import RandomForestClassifier
        >>> from da_bridge.spaces.sklearn.objective import seeded
        >>> seeded(RandomForestClassifier(), 3).random_state
        3
    """
    if random_state is None:
        return estimator
    unset = {key: random_state for key, value in estimator.get_params(deep=True).items()
             if (key == "random_state" or key.endswith("__random_state")) and value is None}
    return estimator.set_params(**unset) if unset else estimator


@contextlib.contextmanager
def quiet_fits(*, convergence: bool = False) -> Iterator[None]:
    """Hide the warnings the built-in spaces cause by design (joblib workers inherit this).

    With `convergence`, also the `ConvergenceWarning`s of trials: a trial that stops
    early is just a worse trial (the refit of the best pipeline still warns).

    Example:
        >>> import warnings
        >>> from da_bridge.spaces.sklearn.objective import quiet_fits
        >>> with warnings.catch_warnings(record=True) as seen:
        ...     warnings.simplefilter("always")
        ...     with quiet_fits():
        ...         warnings.warn("k=9 is greater than n_features=4.", UserWarning)
        >>> seen
        []
    """
    exceptions = require("sklearn.exceptions", "sklearn")
    with warnings.catch_warnings():
        for message, category in _NOISE:
            warnings.filterwarnings("ignore", message=message, category=category)
        if convergence:
            warnings.filterwarnings("ignore", category=exceptions.ConvergenceWarning)
        yield
