"""Evaluators of augmentation policies: data, augmented training sets, sklearn and Keras models."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from da_bridge import DomainError
from da_bridge.spaces.augment import (
    CNNEvaluator,
    SklearnEvaluator,
    augmented_training_set,
    autoaugment_space,
    load_data,
    randaugment_space,
    to_policy,
)

GEOMETRIC = ["rotate", "shear_x", "shear_y", "translate_x", "translate_y", "zoom"]


@pytest.fixture(scope="module")
def data():
    return load_data(train_size=120, valid_size=200, seed=0)


def test_digits_are_split_three_ways_stratified(data):
    assert data.x_train.shape == (120, 8, 8, 1) and data.x_valid.shape == (200, 8, 8, 1)
    assert len(data.x_test) == 1797 - 320
    assert data.value_range == (0.0, 16.0) and data.n_classes == 10
    assert np.bincount(data.y_train).min() >= 11  # stratified: 12 per class
    other = load_data(train_size=120, valid_size=200, seed=1)
    assert not np.array_equal(other.x_train, data.x_train)
    again = load_data(train_size=120, valid_size=200, seed=0)
    assert np.array_equal(again.x_train, data.x_train)


def test_npz_files_with_any_labels(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (60, 10, 10), dtype=np.uint8)
    y = np.array(["cat", "dog", "eel"] * 20)
    path = tmp_path / "images.npz"
    np.savez(path, x=x, y=y)
    loaded = load_data(str(path), train_size=30, valid_size=15)
    assert loaded.x_train.shape == (30, 10, 10, 1) and loaded.value_range == (0.0, 255.0)
    assert set(loaded.y_train) == {0, 1, 2} and len(loaded.y_test) == 15
    np.savez(path, x=rng.random((40, 6, 6, 3)) * 4, y=np.arange(40) % 2)
    assert load_data(str(path), train_size=20, valid_size=20).value_range == (0.0, 4.0)


@pytest.mark.parametrize("make, match", [
    (lambda tmp: load_data(str(tmp / "missing.npz")), "existing .npz"),
    (lambda tmp: load_data("digits", train_size=1500, valid_size=500), "at most 1797"),
    (lambda tmp: load_data("digits", train_size=0), "positive"),
])
def test_bad_datasets(tmp_path, make, match):
    with pytest.raises(DomainError, match=match):
        make(tmp_path)


def test_npz_without_labels_is_rejected(tmp_path):
    path = tmp_path / "x_only.npz"
    np.savez(path, x=np.zeros((10, 4, 4)))
    with pytest.raises(DomainError, match=r"missing \['y'\]"):
        load_data(str(path), train_size=5, valid_size=5)


def test_augmented_training_set_holds_originals_then_copies(data):
    arch = randaugment_space(ops=GEOMETRIC).replay({"n": 1, "magnitude": 0.5})
    x, y = augmented_training_set(data, arch, copies=3, seed=0)
    assert x.shape == (480, 8, 8, 1) and np.array_equal(y, np.tile(data.y_train, 4))
    assert np.array_equal(x[:120], data.x_train)
    assert not np.array_equal(x[120:240], data.x_train)
    assert x.max() <= 16 and x.min() >= 0  # the data's value range, not [0, 1]
    again, _ = augmented_training_set(data, to_policy(arch), copies=3, seed=0)
    assert np.array_equal(x, again)
    x_none, _ = augmented_training_set(data, None, copies=3)
    assert np.array_equal(x_none, data.x_train)


def test_sklearn_evaluator_is_deterministic_for_a_seed(data):
    evaluator = SklearnEvaluator(data, copies=2, seed=3)
    arch = autoaugment_space(2, 2, ops=GEOMETRIC).sample(0)
    score = evaluator(arch)
    assert 0.5 < score <= 1 and score == evaluator(arch)
    assert evaluator(to_policy(arch)) == score
    assert SklearnEvaluator(data, copies=2, seed=3)(arch) == score
    assert 0.5 < evaluator.score(arch, on="test") <= 1
    with pytest.raises(DomainError, match="on"):
        evaluator.score(arch, on="train")


def test_sklearn_evaluator_clones_and_seeds_the_estimator(data):
    tree = DecisionTreeClassifier()
    evaluator = SklearnEvaluator(data, estimator=tree, copies=1, seed=1)
    arch = randaugment_space(ops=GEOMETRIC).replay({"n": 1, "magnitude": 0.3})
    assert evaluator(arch) == evaluator(arch)
    assert not hasattr(tree, "tree_")  # the user's estimator stays unfitted
    linear = SklearnEvaluator(data, estimator=LogisticRegression(max_iter=200), copies=0)
    assert linear(arch) == linear(None)  # no copies: no augmentation


def test_shift_augmentation_helps_the_default_svc():
    data = load_data(train_size=300, valid_size=500, seed=0)
    evaluator = SklearnEvaluator(data, copies=4, seed=0)
    shifts = randaugment_space(ops=["translate_x", "translate_y", "rotate"])
    assert evaluator(shifts.replay({"n": 1, "magnitude": 0.4})) > evaluator(None)


def test_bad_copies(data):
    with pytest.raises(DomainError, match="copies"):
        SklearnEvaluator(data, copies=-1)


@pytest.mark.slow
def test_cnn_evaluator_is_deterministic_and_gains_from_augmentation():
    data = load_data(train_size=300, valid_size=300, seed=0)
    evaluator = CNNEvaluator(data, copies=3, epochs=12, seed=0)
    arch = randaugment_space(ops=GEOMETRIC).replay({"n": 1, "magnitude": 0.4})
    score = evaluator(arch)
    assert score == evaluator(arch)
    assert score > evaluator(None)


@pytest.mark.slow
def test_cnn_evaluator_online_puts_the_keras_layer_in_front():
    data = load_data(train_size=100, valid_size=100, seed=0)
    evaluator = CNNEvaluator(data, epochs=3, online=True, seed=0)
    arch = autoaugment_space(2, 1, ops=GEOMETRIC).sample(1)
    score = evaluator(arch)
    assert 0 <= score <= 1 and score == evaluator(arch)
    assert 0 <= evaluator.score(None, on="test") <= 1
