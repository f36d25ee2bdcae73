"""TabularEncoder finds column kinds at fit and encodes new data alike; polynomial features
are capped by width."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from messy import messy_frame

from da_bridge.spaces.sklearn import CappedPolynomialFeatures, TabularEncoder


def test_kinds_are_found_from_the_data():
    X, _ = messy_frame()
    encoder = TabularEncoder().fit(X)
    assert encoder.numeric_ == ["x1", "x2", "visits"]
    assert encoder.categorical_ == ["region", "flag", "customer", "size"]
    assert encoder.dropped_ == ["empty"]
    out = encoder.transform(X)
    assert out.dtype == float and out.shape[0] == len(X)
    # numeric missing values stay missing (for the imputer); categorical ones are a category
    assert np.isnan(out[:, :3]).any() and not np.isnan(out[:, 3:]).any()
    # the ID-like column is capped at MAX_CATEGORIES columns
    assert out.shape[1] == 3 + 5 + 3 + 20 + 4


def test_new_data_with_unseen_categories_encodes_to_the_same_width():
    X, _ = messy_frame()
    encoder = TabularEncoder().fit(X)
    new = X.head(3).copy()
    new["region"] = ["mars", None, "north"]
    new["customer"] = ["never-seen", "c1", None]
    assert encoder.transform(new).shape == (3, encoder.transform(X).shape[1])


def test_arrays_numeric_and_object():
    numbers = np.arange(12.0).reshape(4, 3)
    encoder = TabularEncoder().fit(numbers)
    assert encoder.numeric_ == [0, 1, 2] and encoder.categorical_ == []
    np.testing.assert_array_equal(encoder.transform(numbers), numbers)
    mixed = np.array([["1.5", "a", True], ["2", "b", False], [None, 3, True]], dtype=object)
    encoder = TabularEncoder().fit(mixed)
    assert encoder.numeric_ == [0] and encoder.categorical_ == [1, 2]
    assert encoder.transform(mixed).shape == (3, 1 + 3 + 2)


def test_no_value_at_all_and_wrong_width_say_so():
    with pytest.raises(ValueError, match="all missing"):
        TabularEncoder().fit(pd.DataFrame({"a": [np.nan, np.nan]}))
    encoder = TabularEncoder().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="expecting 2 features"):
        encoder.transform(np.ones((3, 4)))


def test_fitted_encoder_pickles():
    X, _ = messy_frame()
    encoder = TabularEncoder().fit(X)
    again = pickle.loads(pickle.dumps(encoder))
    np.testing.assert_array_equal(again.transform(X), encoder.transform(X))


def test_polynomial_features_only_on_narrow_input():
    narrow, wide = np.ones((4, 3)), np.ones((4, 30))
    assert CappedPolynomialFeatures().fit_transform(narrow).shape == (4, 9)
    assert CappedPolynomialFeatures(interaction_only=True).fit_transform(narrow).shape == (4, 6)
    assert CappedPolynomialFeatures().fit_transform(wide).shape == (4, 30)
