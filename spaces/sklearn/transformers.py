"""Transformers the built-in spaces need that scikit-learn lacks.

`TabularEncoder`: any table to numbers, with column kinds read from the data at `fit`.

The first step of the built-in spaces when no columns are named: numeric
columns pass through (missing values stay missing, for the imputer that
follows), every other column (strings, categories, booleans, mixed objects)
is one-hot encoded with missing values as a category of their own, and
columns with no value at all are dropped. Because the kinds are found at
`fit`, a compiled pipeline is self-contained: it takes new data in the same
layout, as a DataFrame or an array.
"""

from __future__ import annotations

from typing import Any

from da_bridge._imports import require

base: Any = require("sklearn.base", "sklearn")  # the classes below subclass its estimators

#: Categories kept per column; rarer ones share one "infrequent" column.
MAX_CATEGORIES = 20
#: `CappedPolynomialFeatures` expands at most this many input features (degree 2 on 20 gives 230).
POLY_MAX_FEATURES = 20


class TabularEncoder(base.TransformerMixin, base.BaseEstimator):
    """Numeric columns as floats, the others one-hot encoded; kinds are found at `fit`.

    A column is numeric when its dtype is (booleans excepted) or when every
    value it has reads as a number; otherwise it is categorical. Categorical
    values are compared as text, so mixed objects (`1`, `"1"`, `True`) never
    make the encoder fail; a value unseen at `fit` encodes as the infrequent
    category (all zeros when there is none). Columns without any value are
    dropped.

    Args:
        max_categories: Categories kept per column; the rarest ones beyond it
            are merged into one (high-cardinality columns stay small).

    Attributes:
        numeric_: The numeric columns (names for DataFrames, else indices).
        categorical_: The categorical columns.
        dropped_: Columns without any value.
        n_features_in_: The number of input columns.

    Example:
        >>> import numpy as np, pandas as pd
        >>> from da_bridge.spaces.sklearn import TabularEncoder
        >>> X = pd.DataFrame({"age": [3.0, np.nan, 5.0], "color": ["red", None, "blue"],
        ...                   "empty": [np.nan] * 3})
        >>> encoder = TabularEncoder().fit(X)
        >>> encoder.numeric_, encoder.categorical_, encoder.dropped_
        (['age'], ['color'], ['empty'])
        >>> encoder.transform(X).tolist()
        [[3.0, 0.0, 0.0, 1.0], [nan, 1.0, 0.0, 0.0], [5.0, 0.0, 1.0, 0.0]]
    """

    def __init__(self, max_categories: int = MAX_CATEGORIES) -> None:
        self.max_categories = max_categories

    def fit(self, X: Any, y: Any = None) -> TabularEncoder:
        """Find each column's kind and the categories of the categorical ones."""
        labels, columns = _columns(X)
        if not labels:  # scikit-learn's own wording, which its estimator checks expect
            raise ValueError(f"0 feature(s) (shape=({len(X)}, 0)) while a minimum of 1 is "
                             "required.")
        self.n_features_in_ = len(labels)
        if _is_frame(X):
            self.feature_names_in_ = require("numpy", "sklearn").asarray(
                [str(c) for c in labels], dtype=object)
        kinds = {label: _kind(column) for label, column in zip(labels, columns)}
        self.dropped_ = [c for c in labels if kinds[c] == "empty"]
        if len(self.dropped_) == len(labels):
            raise ValueError(f"no column of X has a value ({len(labels)} columns, all "
                             "missing): there is nothing to learn from")
        self.numeric_ = [c for c in labels if kinds[c] == "numeric"]
        self.categorical_ = [c for c in labels if kinds[c] == "categorical"]
        self.encoder_ = None
        if self.categorical_:
            preprocessing = require("sklearn.preprocessing", "sklearn")
            self.encoder_ = preprocessing.OneHotEncoder(
                handle_unknown="infrequent_if_exist", max_categories=self.max_categories,
                sparse_output=False, dtype=float).fit(self._text(labels, columns))
        return self

    def transform(self, X: Any) -> Any:
        """The numeric columns as floats, then the one-hot columns."""
        require("sklearn.utils.validation", "sklearn").check_is_fitted(self, "numeric_")
        np = require("numpy", "sklearn")
        labels, columns = _columns(X)
        if len(labels) != self.n_features_in_:
            raise ValueError(f"X has {len(labels)} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input")
        by_label = dict(zip(labels, columns))
        parts = [np.column_stack([_numbers(by_label[c]) for c in self.numeric_])] \
            if self.numeric_ else []
        if self.encoder_ is not None:
            parts.append(self.encoder_.transform(self._text(labels, columns)))
        return np.hstack(parts)

    def _text(self, labels: list[Any], columns: list[Any]) -> Any:
        """The categorical columns as text; a missing value is the category "<missing>"."""
        np = require("numpy", "sklearn")
        by_label = dict(zip(labels, columns))
        return np.column_stack([_strings(by_label[c]) for c in self.categorical_])

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags


def _is_frame(X: Any) -> bool:
    pandas = require("pandas", "sklearn")
    return isinstance(X, pandas.DataFrame)


def _columns(X: Any) -> tuple[list[Any], list[Any]]:
    """Column labels (names for DataFrames, indices otherwise) and the columns as 1-d arrays."""
    np = require("numpy", "sklearn")
    if _is_frame(X):
        return list(X.columns), [X.iloc[:, i].to_numpy() for i in range(X.shape[1])]
    if hasattr(X, "toarray"):
        raise TypeError("TabularEncoder does not take sparse input; pass a dense array or a "
                        "DataFrame, or build a space with your own first steps")
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(f"Expected a 2D array (rows x columns), got shape {array.shape}. "
                         "Reshape your data with array.reshape(-1, 1) for a single feature "
                         "or array.reshape(1, -1) for a single sample.")
    return list(range(array.shape[1])), list(array.T)


def _missing(column: Any) -> Any:
    return require("pandas", "sklearn").isna(column)


def _kind(column: Any) -> str:
    """"numeric", "categorical" or "empty" (no value at all)."""
    np = require("numpy", "sklearn")
    present = column[~_missing(column)]
    if len(present) == 0:
        return "empty"
    if column.dtype.kind in "iuf":
        return "numeric"
    if column.dtype.kind != "O" or any(isinstance(v, (bool, np.bool_)) for v in present):
        return "categorical"
    try:
        present.astype(float)
    except (TypeError, ValueError):
        return "categorical"
    return "numeric"


def _numbers(column: Any) -> Any:
    np = require("numpy", "sklearn")
    if column.dtype.kind in "iuf":
        return column.astype(float)
    try:
        return np.where(_missing(column), np.nan, column).astype(float)
    except (TypeError, ValueError):  # text among the numbers of new data reads as missing
        pandas = require("pandas", "sklearn")
        return pandas.to_numeric(pandas.Series(column), errors="coerce").to_numpy(float)


def _strings(column: Any) -> Any:
    np = require("numpy", "sklearn")
    return np.where(_missing(column), "<missing>", column.astype(str)).astype(object)


class CappedPolynomialFeatures(base.TransformerMixin, base.BaseEstimator):
    """Degree-2 polynomial features when the input is narrow; the input unchanged otherwise.

    Degree 2 on 64 features makes 2,144 columns, which slows every model after
    it a hundredfold; past `max_features` input columns this step passes
    its input through, so a space can offer it without knowing the data.

    Args:
        interaction_only: Only products of distinct features (no squares).
        max_features: The widest input that is expanded.

    Example:
        >>> import numpy as np
        >>> from da_bridge.spaces.sklearn import CappedPolynomialFeatures
        >>> CappedPolynomialFeatures().fit_transform(np.ones((2, 3))).shape
        (2, 9)
        >>> CappedPolynomialFeatures(max_features=2).fit_transform(np.ones((2, 3))).shape
        (2, 3)
    """

    def __init__(self, interaction_only: bool = False,
                 max_features: int = POLY_MAX_FEATURES) -> None:
        self.interaction_only = interaction_only
        self.max_features = max_features

    def fit(self, X: Any, y: Any = None) -> CappedPolynomialFeatures:
        """Expand if `X` has at most `max_features` columns."""
        X = require("sklearn.utils", "sklearn").check_array(X, ensure_all_finite="allow-nan")
        self.n_features_in_ = X.shape[1]
        self.expand_ = None
        if X.shape[1] <= self.max_features:
            preprocessing = require("sklearn.preprocessing", "sklearn")
            self.expand_ = preprocessing.PolynomialFeatures(
                2, interaction_only=self.interaction_only, include_bias=False).fit(X)
        return self

    def transform(self, X: Any) -> Any:
        """The polynomial features, or `X` itself when it was too wide."""
        require("sklearn.utils.validation", "sklearn").check_is_fitted(self, "n_features_in_")
        X = require("sklearn.utils", "sklearn").check_array(X, ensure_all_finite="allow-nan")
        return X if self.expand_ is None else self.expand_.transform(X)
