"""`da-bridge search keras`: the command-line task."""

from __future__ import annotations

import argparse
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads

import optuna  # noqa: E402

from da_bridge.cli import main  # noqa: E402
from da_bridge.spaces.keras import KerasSearchSpace  # noqa: E402
from da_bridge.spaces.keras import task as keras_task  # noqa: E402
from da_bridge.study.store import load_study  # noqa: E402


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    keras_task.add_arguments(parser)
    args = parser.parse_args(list(argv))
    args.seed = 0
    return args


def test_search_keras_on_digits_reports_test_accuracy(tmp_path, capsys):
    storage = str(tmp_path / "runs.journal")
    code = main(["search", "keras", "--dataset", "digits", "--trials", "1", "--epochs", "1",
                 "--pruner", "median", "--storage", storage, "--study", "cnn", "--seed", "0",
                 "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "test accuracy of the best architecture" in out
    assert "Total params" in out
    study = load_study("cnn", storage)
    assert [sorted(t.intermediate_values) for t in study.trials] == [[0]]


def test_task_options_choose_space_pruner_and_objectives():
    task = keras_task.make_task(_args("--network", "mobile_net", "--pruner", "median"))
    assert isinstance(task.space, KerasSearchSpace) and task.space.input_shape == (8, 8, 1)
    assert task.space.count() == 8640
    assert isinstance(task.pruner, optuna.pruners.MedianPruner)
    assert task.directions == ["maximize"]
    task = keras_task.make_task(_args("--objectives", "val_accuracy,params"))
    assert task.directions == ["maximize", "minimize"]
    assert isinstance(task.pruner, optuna.pruners.NopPruner)


def test_pruning_needs_a_single_objective(capsys):
    code = main(["search", "keras", "--pruner", "median", "--objectives",
                 "val_accuracy,params", "--storage", ":memory:"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--pruner needs a single objective" in err


def test_unknown_objective_is_a_usage_error():
    with pytest.raises(SystemExit):
        _args("--objectives", "val_accuracy,speed")
