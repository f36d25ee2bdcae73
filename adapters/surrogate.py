"""Predict the score of an architecture from its values map, without evaluating it.

DeepArchitect's roadmap asks for surrogate functions that predict performance
without training. Its `HashingSurrogate` hashed counter-based names such as
`M.Conv2D-3` with Python's `hash()`, which is salted per process, so features
saved in one run meant nothing in the next. Here a feature is keyed by a
stable path name: `path` holds a numeric value, `path=token` is the one-hot
indicator of a categorical choice, and a hyperparameter that is not live in
an architecture (an optional that is off) is simply absent: its indicators
are 0 and its numeric value is a fill value below every observed one, which a
tree separates in one split. Counts such as `count(op=nor_conv_3x3)` pool one
property across paths (the bag of operations of a cell), so what is learnt
about an operation at one position carries over to the others.

`SurrogateModel.train(history)` trains a regressor (a random forest by default) on
`(values map, score)` pairs; `da_bridge.study.surrogate.fit(study)` trains one on a
study and reports its held-out error. scikit-learn is
imported only when a model is trained.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from da_bridge._imports import require
from da_bridge.errors import OptionError

Values = Mapping[str, Any]
History = Sequence[tuple[Values, float]]

ESTIMATORS = ("rf", "et")


class Featurizer:
    """Turns values maps (plain or JSON form) into rows of features keyed by path.

    Args:
        counts: Also count each categorical value per property name across
            paths: `count(op=conv)` is how many `*.op` choices picked `conv`,
            the bag of operations of a cell, which a model can share across
            positions.

    Example:
        >>> f = Featurizer(counts=False).fit([{"act": "relu", "units": 64}, {"act": "tanh"}])
        >>> f.names
        ['act=relu', 'units', 'act=tanh']
        >>> f.transform([{"act": "tanh"}]).tolist()
        [[0.0, 63.0, 1.0]]
        >>> Featurizer().fit([{"a.op": "conv", "b.op": "conv"}]).names
        ['a.op=conv', 'b.op=conv', 'count(op=conv)']
    """

    def __init__(self, *, counts: bool = True) -> None:
        self.counts = counts
        self.columns: dict[str, int] = {}
        self.fill: dict[int, float] = {}

    @property
    def names(self) -> list[str]:
        """The feature names, in column order."""
        return list(self.columns)

    def fit(self, maps: Iterable[Values]) -> Featurizer:
        """Learn the columns and the fill value of every numeric column."""
        lowest: dict[int, tuple[float, float]] = {}
        for values in maps:
            for name, x in self._features(values):
                col = self.columns.setdefault(name, len(self.columns))
                if x is not None and not name.startswith("count("):  # absent count is 0
                    low, high = lowest.get(col, (x, x))
                    lowest[col] = (min(low, x), max(high, x))
        self.fill = {col: low - (high - low) - 1.0 for col, (low, high) in lowest.items()}
        return self

    def transform(self, maps: Iterable[Values]) -> np.ndarray:
        """One row per values map; features never seen in `fit` are ignored."""
        maps = list(maps)
        X = np.zeros((len(maps), len(self.columns)))
        for col, fill in self.fill.items():
            X[:, col] = fill
        for row, values in enumerate(maps):
            for name, x in self._features(values):
                at = self.columns.get(name)
                if at is not None:
                    X[row, at] = 1.0 if x is None else x
        return X

    def _features(self, values: Values) -> list[tuple[str, float | None]]:
        features = list(_features(values))
        if self.counts:
            bag: dict[str, float] = {}
            for name, x in features:
                if x is None:
                    path, token = name.split("=", 1)
                    key = f"count({path.rsplit('.', 1)[-1].rsplit('/', 1)[-1]}={token})"
                    bag[key] = bag.get(key, 0.0) + 1.0
            features.extend(bag.items())
        return features


class QuantileTarget:
    """A monotone map from scores to the normal scores of their ranks, and back.

    Example:
        >>> target = QuantileTarget(np.array([1.0, 2.0, 3.0, 100.0]))
        >>> target.forward(np.array([2.0, 100.0])).round(2).tolist()
        [-0.32, 1.15]
        >>> target.inverse(target.forward(np.array([2.0, 50.0]))).tolist()
        [2.0, 50.0]
    """

    def __init__(self, scores: np.ndarray) -> None:
        from statistics import NormalDist

        self.scores = np.unique(np.asarray(scores, dtype=float))
        n = len(self.scores)
        self.normal = np.array([NormalDist().inv_cdf((i + 0.5) / n) for i in range(n)])

    def forward(self, scores: np.ndarray) -> np.ndarray:
        if len(self.scores) == 1:
            return np.zeros(len(scores))
        return np.interp(scores, self.scores, self.normal)

    def inverse(self, normal: np.ndarray) -> np.ndarray:
        if len(self.scores) == 1:
            return np.full(len(normal), self.scores[0])
        return np.interp(normal, self.normal, self.scores)


@dataclass(frozen=True)
class Report:
    """How well a surrogate predicted held-out trials.

    Attributes:
        n_train: Trials it was trained on for the report.
        n_test: Held-out trials it was scored on.
        mae: Mean absolute error of its predictions.
        r2: Coefficient of determination (1 is perfect, 0 is the mean predictor).
        spearman: Rank correlation between predictions and scores.
        baseline_mae: Mean absolute error of predicting the training mean.

    Example:
        >>> report = Report(n_train=30, n_test=10, mae=0.5, r2=0.4, spearman=0.7,
        ...                 baseline_mae=0.9)
        >>> report.beats_baseline
        True
    """

    n_train: int
    n_test: int
    mae: float
    r2: float
    spearman: float
    baseline_mae: float

    @property
    def beats_baseline(self) -> bool:
        """True when the surrogate's error is below the mean predictor's."""
        return self.mae < self.baseline_mae

    def __str__(self) -> str:
        return (f"held-out MAE {self.mae:.4g} (mean predictor {self.baseline_mae:.4g}), "
                f"R2 {self.r2:.3f}, Spearman {self.spearman:.3f} "
                f"on {self.n_test} trials (trained on {self.n_train})")


class SurrogateModel:
    """A regressor from values maps to scores.

    Attributes:
        featurizer: The path-keyed features it reads.
        estimator: The fitted scikit-learn regressor.
        n_trials: The trials it was trained on.
        report: The held-out error report (`fit` sets it; None from `train`).

    Example:
        >>> history = [({"op": op, "width": w}, w / 10 + (op == "conv"))
        ...            for op in ("conv", "pool") for w in range(1, 9)]
        >>> model = SurrogateModel.train(history, seed=0)
        >>> model.predict({"op": "conv", "width": 8}) > model.predict({"op": "pool", "width": 1})
        True
    """

    def __init__(self, featurizer: Featurizer, estimator: Any, n_trials: int,
                 target: QuantileTarget | None = None) -> None:
        self.featurizer, self.estimator, self.n_trials = featurizer, estimator, n_trials
        self.target = target
        self.report: Report | None = None

    def __repr__(self) -> str:
        return f"SurrogateModel({type(self.estimator).__name__}, n_trials={self.n_trials})"

    @classmethod
    def train(cls, history: History, *, estimator: str | Any = "rf", seed: int | None = None,
              quantile_target: bool = True) -> SurrogateModel:
        """Fit on `(values map, score)` pairs, all of them (no held-out report).

        With `quantile_target`, the regressor learns the normal scores of the
        scores' ranks (`QuantileTarget`) and predictions are mapped back:
        architecture scores are heavy-tailed (a cell without a path from input
        to output scores at chance), and a few such outliers would otherwise
        dominate a squared-error fit.
        """
        maps, y = _split_history(history)
        featurizer = Featurizer().fit(maps)
        target = QuantileTarget(y) if quantile_target else None
        model = make_estimator(estimator, seed)
        model.fit(featurizer.transform(maps), y if target is None else target.forward(y))
        return cls(featurizer, model, len(maps), target)

    def predict(self, values: Values, *, return_std: bool = False) -> Any:
        """The predicted score of one values map (with its ensemble spread)."""
        mean, std = self.predict_many([values])
        return (float(mean[0]), float(std[0])) if return_std else float(mean[0])

    def predict_many(self, maps: Sequence[Values]) -> tuple[np.ndarray, np.ndarray]:
        """Predicted scores and their spread across the ensemble's members (zeros if none)."""
        X = self.featurizer.transform(maps)
        if not len(X):
            return np.zeros(0), np.zeros(0)
        back = (lambda z: z) if self.target is None else self.target.inverse
        members = getattr(self.estimator, "estimators_", None)
        if not isinstance(members, list) or not all(hasattr(m, "predict") for m in members):
            return back(np.asarray(self.estimator.predict(X), dtype=float)), np.zeros(len(X))
        each = np.stack([_member_predict(m, X) for m in members])
        mean = back(np.asarray(self.estimator.predict(X), dtype=float)) if \
            not _averages(self.estimator) else back(each.mean(axis=0))
        return mean, back(each).std(axis=0)


def _averages(estimator: Any) -> bool:
    """True when the ensemble's prediction is the mean of its members' (forests)."""
    from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

    return isinstance(estimator, (RandomForestRegressor, ExtraTreesRegressor))


def _member_predict(member: Any, X: np.ndarray) -> np.ndarray:
    """One member's predictions; a fitted tree is asked directly (sklearn's input checks
    cost more than the prediction on a few hundred rows)."""
    if hasattr(member, "tree_"):
        return member.tree_.predict(np.ascontiguousarray(X, dtype=np.float32))[:, 0]
    return np.asarray(member.predict(X), dtype=float)


def make_estimator(estimator: str | Any, seed: int | None, *, n_estimators: int = 100) -> Any:
    """A fresh scikit-learn regressor: "rf", "et" (of `n_estimators` trees) or a clone.

    Example:
        >>> type(make_estimator("et", 0)).__name__
        'ExtraTreesRegressor'
    """
    require("sklearn", "sklearn")
    from sklearn.base import clone
    from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

    if estimator == "rf":
        return RandomForestRegressor(n_estimators=n_estimators, max_features=0.5,
                                     random_state=seed)
    if estimator == "et":
        return ExtraTreesRegressor(n_estimators=n_estimators, bootstrap=True, random_state=seed)
    if isinstance(estimator, str) or not hasattr(estimator, "fit"):
        raise OptionError(f"estimator must be one of {list(ESTIMATORS)} or a scikit-learn "
                         f"regressor; got {estimator!r}")
    return clone(estimator)


def _features(values: Values) -> Iterable[tuple[str, float | None]]:
    """`(name, numeric value)` for numbers, `(path=token, None)` for categorical choices."""
    for path, value in values.items():
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            if math.isfinite(value):
                yield path, float(value)
        else:
            yield f"{path}={_token(value)}", None


def _token(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and "index" in value:
        return f"#{value['index']}"
    try:
        return json.dumps(value, sort_keys=True)
    except TypeError:
        return repr(value)


def _split_history(history: History) -> tuple[list[Values], np.ndarray]:
    maps = [values for values, _ in history]
    if not maps:
        raise OptionError("a surrogate needs at least one finished trial with a score")
    return maps, np.array([score for _, score in history], dtype=float)
