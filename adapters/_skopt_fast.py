"""Faster stand-ins for parts of scikit-optimize that `SkoptSearcher` uses, same numbers.

Imported by `adapters.skopt` once an optimizer exists (skopt is an optional dependency).
On DeepArchitect's NASNet space (40 dimensions, 226 one-hot columns) a `tell` after the
initial points took about 1 s: 100 trees each converted and checked the 10,000 scored
candidates again, and each dimension's one-hot encoding went through scikit-learn's
`LabelBinarizer`. Here the candidates are converted once for every tree, and the one-hot
columns are read off an identity matrix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from skopt.learning import ExtraTreesRegressor, RandomForestRegressor
from skopt.space.transformers import CategoricalEncoder


def speed_up(optimizer: Any) -> None:
    """Swap the optimizer's skopt forest (same parameters, so the same random stream) and
    its one-hot encoders for the classes below."""
    estimator = optimizer.base_estimator_
    faster = {ExtraTreesRegressor: FastExtraTreesRegressor,
              RandomForestRegressor: FastRandomForestRegressor}
    if type(estimator) in faster:
        optimizer.base_estimator_ = faster[type(estimator)](**estimator.get_params())
    for dimension in optimizer.space.dimensions:
        if type(getattr(dimension, "transformer", None)) is CategoricalEncoder:
            dimension.transformer = FastCategoricalEncoder().fit(dimension.categories)


def forest_predict(forest: Any, X: Any, return_std: bool = False) -> Any:  # noqa: N803
    """skopt's `predict(X, return_std)` for a fitted forest, `X` converted once.

    The mean is scikit-learn's (the trees' predictions summed in order, then divided); the
    std is skopt's `_return_std` (E[Var(Y | tree)] + Var(E[Y | tree]), leaf variances
    floored at `min_variance`).
    """
    X = forest._validate_X_predict(X)  # noqa: N806 - float32, as every tree needs it
    mean = np.zeros(X.shape[0])
    second = np.zeros(X.shape[0])
    for tree in forest.estimators_:
        leaves = tree.apply(X, check_input=False)
        mean_tree = tree.tree_.value[leaves, 0, 0]
        mean += mean_tree
        if return_std:
            var_tree = tree.tree_.impurity[leaves]
            var_tree[var_tree < forest.min_variance] = forest.min_variance
            second += var_tree + mean_tree ** 2
    mean /= len(forest.estimators_)
    if not return_std:
        return mean
    std = second / len(forest.estimators_) - mean ** 2.0
    std[std < 0.0] = 0.0
    return mean, std ** 0.5


class FastExtraTreesRegressor(ExtraTreesRegressor):
    """skopt's `ExtraTreesRegressor`, predicting with `forest_predict`."""

    def predict(self, X: Any, return_std: bool = False) -> Any:  # noqa: N803 - sklearn's
        return forest_predict(self, X, return_std)


class FastRandomForestRegressor(RandomForestRegressor):
    """skopt's `RandomForestRegressor`, predicting with `forest_predict`."""

    def predict(self, X: Any, return_std: bool = False) -> Any:  # noqa: N803 - sklearn's
        return forest_predict(self, X, return_std)


class FastCategoricalEncoder(CategoricalEncoder):
    """skopt's one-hot encoding (one 0/1 column for two categories, else one per category),
    without `LabelBinarizer`'s checks on every call."""

    def transform(self, X: Any) -> Any:  # noqa: N803 - skopt's
        index = np.fromiter((self.mapping_[v] for v in X), dtype=int, count=len(X))
        if self.n_classes == 2:
            return index.reshape(-1, 1)
        return np.eye(self.n_classes, dtype=int)[index]
