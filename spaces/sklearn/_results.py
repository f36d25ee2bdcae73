"""`cv_results_` from the trials of a study: one row per trial, columns as in `GridSearchCV`."""

from __future__ import annotations

from typing import Any

from da_bridge._imports import require
from da_bridge.study import ERROR_ATTR, VALUES_ATTR

from .objective import (
    FIT_TIMES_ATTR,
    SCORE_TIMES_ATTR,
    SPLIT_SCORES_ATTR,
)


def cv_results(trials: list[Any], n_splits: int) -> dict[str, Any]:
    """A dict of equal-length columns; `pandas.DataFrame(cv_results(...))` reads it."""
    np = require("numpy", "sklearn")
    params = [dict(t.user_attrs.get(VALUES_ATTR, {})) for t in trials]
    results: dict[str, Any] = {
        "trial_number": np.array([t.number for t in trials]),
        "state": np.array([t.state.name for t in trials], dtype=object),
    }
    for key, attr in (("fit_time", FIT_TIMES_ATTR), ("score_time", SCORE_TIMES_ATTR)):
        table = _table(trials, attr, n_splits)
        results[f"mean_{key}"], results[f"std_{key}"] = _mean_std(table)
    results.update(_param_columns(params))
    results["params"] = params
    scores = _table(trials, SPLIT_SCORES_ATTR, n_splits)
    for i in range(n_splits):
        results[f"split{i}_test_score"] = scores[:, i]
    results["mean_test_score"], results["std_test_score"] = _mean_std(scores)
    results["rank_test_score"] = _rank(results["mean_test_score"])
    return results


def failure_reasons(trials: list[Any]) -> list[str]:
    """The recorded error of each failed trial, in trial order."""
    return [t.user_attrs.get(ERROR_ATTR, "the objective raised (no message recorded)")
            for t in trials if t.state.name == "FAIL"]


def _table(trials: list[Any], attr: str, n_splits: int) -> Any:
    np = require("numpy", "sklearn")
    table = np.full((len(trials), n_splits), np.nan)
    for row, trial in enumerate(trials):
        values = trial.user_attrs.get(attr)
        if values is not None and len(values) == n_splits:
            table[row] = values
    return table


def _mean_std(table: Any) -> tuple[Any, Any]:
    np = require("numpy", "sklearn")
    complete = ~np.isnan(table).any(axis=1)
    mean, std = np.full(len(table), np.nan), np.full(len(table), np.nan)
    mean[complete], std[complete] = table[complete].mean(axis=1), table[complete].std(axis=1)
    return mean, std


def _rank(scores: Any) -> Any:
    """1 for the best; ties share the lowest rank; failed trials come last."""
    np = require("numpy", "sklearn")
    valid = scores[~np.isnan(scores)]
    ranks = [int((valid > s).sum()) + 1 if not np.isnan(s) else len(valid) + 1 for s in scores]
    return np.array(ranks, dtype=np.int32)


def _param_columns(params: list[dict[str, Any]]) -> dict[str, Any]:
    """`param_<path>` columns, masked where a trial has no such hyperparameter (GridSearchCV's
    convention for parameters that are not in every candidate)."""
    np = require("numpy", "sklearn")
    paths = list(dict.fromkeys(path for values in params for path in values))
    columns = {}
    for path in paths:
        column = np.ma.MaskedArray(np.empty(len(params), dtype=object), mask=True)
        for row, values in enumerate(params):
            if path in values:
                column[row] = values[path]
        columns[f"param_{path}"] = column
    return columns
