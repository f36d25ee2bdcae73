"""Training and scoring Keras architectures on digits: pruning, memory, Pareto fronts."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads

import optuna  # noqa: E402
import psutil  # noqa: E402

import da_bridge  # noqa: E402
from da_bridge.spaces.keras import (  # noqa: E402
    ClassificationObjective,
    load_dataset,
    pareto_front,
    small_cnn,
    to_keras_model,
)
from da_bridge.spaces.keras.evaluate import PARAMS_ATTR  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)

#: A small, quick-to-train architecture of `small_cnn`.
SMALL = {"blocks.n": 1, "blocks/0/conv.filters": 8, "blocks/0/conv.kernel_size": 3,
         "batch_norm": False, "activation": "relu", "pool.include": True,
         "hidden.include": False, "dropout.include": False}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def few(digits):
    """300 training images and 200 validation images."""
    (x, y), _ = digits
    return x[:300], y[:300], (x[300:500], y[300:500])


def test_several_objectives_give_a_tuple_in_order(few):
    x, y, validation = few
    objective = ClassificationObjective(x, y, validation_data=validation, epochs=1,
                                        objectives=("val_loss", "params", "latency"))
    assert objective.directions == ["minimize", "minimize", "minimize"]
    arch = small_cnn().replay(SMALL)
    loss, params, latency = objective(arch)
    assert loss > 0 and 0 < latency < 1
    assert params == to_keras_model(arch, (8, 8, 1)).count_params()


def test_trained_graphs_are_not_kept_by_tensorflow_gradient_registry(few):
    from tensorflow.python.framework import ops

    def custom_gradients():
        return {n for n in ops._gradient_registry._registry if n.startswith("CustomGradient")}

    x, y, validation = few
    objective = ClassificationObjective(x, y, validation_data=validation, epochs=1)
    before = custom_gradients()
    objective(small_cnn().replay(SMALL))
    assert custom_gradients() <= before


def test_objective_reports_each_epoch_and_returns_the_last_validation_accuracy(few):
    x, y, validation = few
    objective = ClassificationObjective(x, y, validation_data=validation, epochs=3,
                                        batch_size=64)
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.NopPruner())
    trial = study.ask()
    score = objective(small_cnn().replay(SMALL), trial)
    assert isinstance(score, float) and 0.0 <= score <= 1.0
    study.tell(trial, score)
    frozen = study.trials[0]
    assert sorted(frozen.intermediate_values) == [0, 1, 2]
    assert frozen.intermediate_values[2] == pytest.approx(score)
    assert frozen.user_attrs[PARAMS_ATTR] == to_keras_model(
        small_cnn().replay(SMALL), (8, 8, 1)).count_params()


def test_validation_split_is_held_out_once_and_seeded(few):
    x, y, _ = few
    a = ClassificationObjective(x, y, validation_split=0.25, seed=3)
    b = ClassificationObjective(x, y, validation_split=0.25, seed=3)
    assert (len(a.x_train), len(a.x_val)) == (225, 75)
    np.testing.assert_array_equal(a.y_val, b.y_val)
    assert a.input_shape == (8, 8, 1)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"objectives": ("accuracy",)}, "objectives"),
    ({"objectives": ()}, "objectives"),
    ({"epochs": 0}, "epochs"),
    ({"validation_split": 1.5}, "validation_split"),
    ({"validation_data": (np.zeros((3, 4, 4, 1)), np.zeros(3))}, "shape"),
])
def test_bad_options_are_rejected(few, kwargs, match):
    x, y, _ = few
    with pytest.raises(ValueError, match=match):
        ClassificationObjective(x, y, **kwargs)


def test_pareto_front_of_accuracy_against_parameters(few):
    x, y, validation = few
    objective = ClassificationObjective(x, y, validation_data=validation, epochs=1,
                                        batch_size=64, objectives=("val_accuracy", "params"))
    result = da_bridge.search(small_cnn(), objective, directions=objective.directions,
                              n_trials=2, seed=1, storage=":memory:",
                              sampler=optuna.samplers.NSGAIISampler(seed=1))
    front = pareto_front(result, names=objective.objectives)
    assert front and {p.number for p in front} == {t.number for t in result.study.best_trials}
    accuracies = [p.scores["val_accuracy"] for p in front]
    assert accuracies == sorted(accuracies, reverse=True)
    for point in front:
        assert f"Total params: {int(point.scores['params']):,}" in point.summary
        assert point.architecture.values == result.space.replay(point.architecture.values).values


@pytest.mark.slow
def test_search_with_pruning_prunes_some_trials_and_learns_digits(digits):
    (x, y), _ = digits
    objective = ClassificationObjective(x, y, epochs=4)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    result = da_bridge.search(small_cnn(), objective, direction="maximize", n_trials=10,
                              seed=0, storage=":memory:", pruner=pruner)
    states = [t.state for t in result.trials]
    assert states.count(optuna.trial.TrialState.PRUNED) >= 1
    assert result.best_score > 0.9


@pytest.mark.slow
def test_memory_stays_flat_over_many_trials(few):
    x, y, validation = few
    objective = ClassificationObjective(x, y, validation_data=validation, epochs=1,
                                        batch_size=100)
    process, rss = psutil.Process(), {}

    def record(study, trial):
        rss[trial.number + 1] = process.memory_info().rss

    da_bridge.search(small_cnn(), objective, direction="maximize", n_trials=50, seed=0,
                     storage=":memory:", callbacks=[record])
    megabytes = {k: rss[k] // 2**20 for k in (1, 10, 20, 30, 40, 50)}
    assert rss[50] <= 1.2 * rss[10], megabytes
