"""Datasets for the sklearn task: the toy sets and CSV files with mixed, missing columns."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from da_bridge.errors import DABridgeError
from da_bridge.spaces.sklearn import (
    ArchitectureSearchCV,
    DatasetError,
    classification_space,
    load_csv,
    load_dataset,
)
from da_bridge.spaces.sklearn.data import DATASETS

CSV = "age,income,city,smoker,label\n" + """34,52000,paris,yes,a
,61000,berlin,no,b
51,,paris,,a
28,43000,,no,b
45,75000,rome,yes,a
39,58000,berlin,no,b
62,39000,paris,yes,a
23,,rome,no,b
""" * 4


@pytest.fixture
def csv_path(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(CSV)
    return path


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_toy_datasets(name):
    data = load_dataset(name)
    assert data.X.shape[0] == len(data.y) > 100
    assert data.task == ("regression" if name == "diabetes" else "classification")
    assert not data.missing and data.categorical_columns is None


def test_csv_columns_are_split_by_type(csv_path):
    data = load_csv(csv_path, "label")
    assert data.task == "classification"
    assert data.numeric_columns == ["age", "income"]
    assert data.categorical_columns == ["city", "smoker"]
    assert data.missing and data.n_features == 4


def test_numeric_targets_become_regression_unless_few_integers(tmp_path):
    path = tmp_path / "numbers.csv"
    rng = np.random.default_rng(0)
    rows = [f"{x:.3f},{int(x > 0)},{x * 3 + 1:.4f}" for x in rng.normal(size=50)]
    path.write_text("x,flag,value\n" + "\n".join(rows) + "\n")
    assert load_csv(path, "flag").task == "classification"
    assert load_csv(path, "value").task == "regression"
    assert load_csv(path, "flag", task="regression").task == "regression"


def test_rows_without_a_target_are_dropped(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("x,y\n1,a\n2,\n3,b\n4,a\n")
    assert len(load_csv(path, "y").y) == 3


def test_a_search_on_a_csv_with_categories_and_missing_values(csv_path):
    data = load_csv(csv_path, "label")
    space = classification_space(numeric_columns=data.numeric_columns,
                                 categorical_columns=data.categorical_columns, impute=True,
                                 n_features=data.n_features, models=["logreg", "rf"])
    with threadpool_limits(1):
        search = ArchitectureSearchCV(space, n_trials=4, cv=3, random_state=0).fit(data.X,
                                                                                   data.y)
    assert search.best_score_ > 0.9
    assert list(search.feature_names_in_) == ["age", "income", "city", "smoker"]
    assert set(search.predict(data.X.head(4))) <= {"a", "b"}


@pytest.mark.parametrize("target, match", [
    ("lable", r"--target 'lable' is not a column of .*people\.csv'; columns: "
              r"\['age', 'income', 'city', 'smoker', 'label'\]"),
])
def test_an_unknown_target_lists_the_columns(csv_path, target, match):
    with pytest.raises(DatasetError, match=match):
        load_csv(csv_path, target)


def test_bad_files(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_csv(tmp_path / "missing.csv", "y")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DatasetError, match="cannot read CSV file"):
        load_csv(empty, "y")
    only_target = tmp_path / "only.csv"
    only_target.write_text("y\n1\n2\n")
    with pytest.raises(DatasetError, match="no feature columns"):
        load_csv(only_target, "y")
    text = tmp_path / "text.csv"
    text.write_text("x,y\n1,a\n2,b\n")
    with pytest.raises(DatasetError, match="not numeric"):
        load_csv(text, "y", task="regression")


def test_dataset_errors_are_da_bridge_value_errors():
    assert issubclass(DatasetError, DABridgeError) and issubclass(DatasetError, ValueError)
    with pytest.raises(DatasetError, match="unknown dataset 'mnist'"):
        load_dataset("mnist")
