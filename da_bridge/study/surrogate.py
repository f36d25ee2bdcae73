"""Surrogates trained on a study: `fit(study)` and the `(values map, score)` pairs it reads.

The model itself (`SurrogateModel`, features keyed by stable path names) lives in
`da_bridge.adapters.surrogate`, where the SMBO searcher uses it; this module adds what needs
the results store: reading finished trials and reporting held-out error.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np

from da_bridge.adapters.surrogate import History, Report, SurrogateModel
from da_bridge.errors import OptionError
from da_bridge.study._schema import VALUES_ATTR
from da_bridge.study.store import load_study

__all__ = ["fit", "training_data"]


def fit(source: Any, *, storage: Any = None, estimator: str | Any = "rf",
        test_size: float = 0.25, seed: int | None = 0, objective: int = 0) -> SurrogateModel:
    """Train a surrogate on finished trials and report its held-out error.

    The report comes from a model trained on the other trials; the returned
    model is then refit on every trial.

    Args:
        source: An Optuna study, a study name (in `storage`), a DataFrame from
            `da_bridge.load_results`, or `(values map, score)` pairs.
        storage: Where a study named by `source` lives (default: the embedded store).
        estimator: "rf" (random forest), "et" (extra trees) or a scikit-learn regressor.
        test_size: Fraction of trials held out for the report.
        seed: Seeds the split and the estimator.
        objective: Which score of a multi-objective study to predict.

    Example:
        >>> history = [({"op": op, "width": w}, w / 10 + (op == "conv"))
        ...            for op in ("conv", "pool") for w in range(1, 11)]
        >>> model = fit(history)
        >>> model.report.beats_baseline
        True
    """
    if not 0 < test_size < 1:
        raise OptionError(f"test_size must be in (0, 1); got {test_size!r}")
    history = training_data(source, storage=storage, objective=objective)
    n_test = max(1, round(test_size * len(history)))
    if len(history) - n_test < 2:
        raise OptionError(f"a surrogate needs at least {n_test + 2} finished trials with a "
                         f"score; got {len(history)}")
    shuffled = list(history)
    random.Random(seed).shuffle(shuffled)
    train, test = shuffled[n_test:], shuffled[:n_test]
    held_out = SurrogateModel.train(train, estimator=estimator, seed=seed)
    report = _report(held_out, train, test)
    model = SurrogateModel.train(history, estimator=estimator, seed=seed)
    model.report = report
    return model


def training_data(source: Any, *, storage: Any = None, objective: int = 0) -> list:
    """`(values map, score)` pairs of the finished trials of a study, DataFrame or list.

    Example:
        >>> training_data([({"a": 1}, 0.5)])
        [({'a': 1}, 0.5)]
    """
    if isinstance(source, str):
        source = load_study(source, storage)
    if hasattr(source, "get_trials"):
        return _study_history(source, objective)
    if hasattr(source, "columns") and "values" in source.columns:
        return _frame_history(source, objective)
    pairs = [(dict(v), float(s)) for v, s in source]
    return [(v, s) for v, s in pairs if math.isfinite(s)]


def _report(model: SurrogateModel, train: History, test: History) -> Report:
    maps = [values for values, _ in test]
    y = np.array([score for _, score in test], dtype=float)
    predicted, _ = model.predict_many(maps)
    baseline = float(np.mean([score for _, score in train]))
    residual = float(np.sum((y - predicted) ** 2))
    total = float(np.sum((y - y.mean()) ** 2))
    return Report(
        n_train=len(train), n_test=len(test),
        mae=float(np.mean(np.abs(y - predicted))),
        r2=1.0 - residual / total if total > 0 else 0.0,
        spearman=_spearman(predicted, y),
        baseline_mae=float(np.mean(np.abs(y - baseline))))


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2:
        return 0.0
    from scipy.stats import spearmanr

    rho = spearmanr(a, b).statistic
    return float(rho) if math.isfinite(rho) else 0.0


def _study_history(study: Any, objective: int) -> list:
    pairs = []
    for trial in study.get_trials(deepcopy=False):
        if trial.state.name != "COMPLETE" or VALUES_ATTR not in trial.user_attrs:
            continue
        pairs.append((dict(trial.user_attrs[VALUES_ATTR]), float(trial.values[objective])))
    return pairs


def _frame_history(frame: Any, objective: int) -> list:
    column = "score" if "score" in frame.columns else f"score_{objective}"
    if column not in frame.columns:
        raise OptionError(f"the DataFrame has no {column!r} column; columns: {list(frame.columns)}")
    done = frame if "state" not in frame.columns else frame[frame["state"] == "COMPLETE"]
    return [(dict(v), float(s)) for v, s in zip(done["values"], done[column])
            if s is not None and math.isfinite(s)]
