"""`da-bridge search keras`: search a Keras CNN on a small image dataset.

    da-bridge search keras --dataset digits --trials 20 --epochs 5 --pruner median
    da-bridge search keras --objectives val_accuracy,params --trials 30

The objective trains each architecture on the training split and scores it
on a validation split; the report retrains the best architecture and gives
its accuracy on the held-out test split.
"""

from __future__ import annotations

import argparse
import copy
from typing import Any

from da_bridge._imports import require
from da_bridge.errors import OptionError
from da_bridge.study.tasks import Panel, Task

from .compile import KerasSearchSpace, model_summary, to_keras_model
from .datasets import DATASETS, load_dataset
from .evaluate import OBJECTIVES, ClassificationObjective, pareto_front
from .mobile_net import mobile_net
from .small_cnn import small_cnn

#: `--network` choices.
SPACES = {"small_cnn": small_cnn, "mobile_net": mobile_net}

#: `--pruner` choices: Optuna pruner class names (None: no pruning).
PRUNERS = {
    "none": "NopPruner",
    "median": "MedianPruner",
    "hyperband": "HyperbandPruner",
    "successive_halving": "SuccessiveHalvingPruner",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `da-bridge search keras`.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_arguments(parser)
        >>> parser.parse_args(["--pruner", "median"]).epochs
        5
    """
    parser.add_argument("--dataset", choices=DATASETS, default="digits",
                        help="the dataset (default: digits)")
    parser.add_argument("--network", choices=sorted(SPACES), default="small_cnn",
                        help="the search space of networks (default: small_cnn)")
    parser.add_argument("--epochs", type=_positive, default=5,
                        help="training epochs per architecture (default: 5)")
    parser.add_argument("--batch-size", type=_positive, default=32, help="default: 32")
    parser.add_argument("--learning-rate", type=float, default=1e-2,
                        help="Adam's learning rate (default: 0.01)")
    parser.add_argument("--pruner", choices=sorted(PRUNERS), default="none",
                        help="prune unpromising trials after each epoch (default: none)")
    parser.add_argument("--objectives", type=_objectives, default=("val_accuracy",),
                        help="comma-separated scores among " + ", ".join(OBJECTIVES) +
                             "; several give a multi-objective search (default: val_accuracy)")


def make_task(args: argparse.Namespace) -> Task:
    """The space, objective, pruner and report for the parsed options.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_arguments(parser)
        >>> task = make_task(parser.parse_args(["--objectives", "val_accuracy,params"]))
        >>> task.directions, task.space.input_shape
        (['maximize', 'minimize'], (8, 8, 1))
    """
    seed = getattr(args, "seed", None)
    if args.pruner != "none" and len(args.objectives) > 1:
        raise OptionError("--pruner needs a single objective; Optuna does not prune "
                         "multi-objective studies")
    (x_train, y_train), (x_test, y_test) = load_dataset(args.dataset, seed=seed or 0)
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    space = SPACES[args.network](x_train.shape[1:], n_classes)
    objective = ClassificationObjective(
        x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
        learning_rate=args.learning_rate, objectives=args.objectives,
        prune=args.pruner != "none", seed=seed if seed is not None else 0)
    return Task(space=space, objective=objective, directions=objective.directions,
                describe=lambda arch: _describe(arch, space),
                panels=lambda arch: _panels(arch, space),
                confirm=(lambda arch, seed: _confirm(arch, objective, seed))
                if len(objective.objectives) == 1 else None,
                report=lambda result: _report(result, objective, x_test, y_test),
                pruner=_pruner(args.pruner))


def _describe(arch: Any, space: KerasSearchSpace) -> str:
    return model_summary(to_keras_model(arch, space.input_shape))


def _confirm(arch: Any, objective: ClassificationObjective, seed: int) -> list[float]:
    """The score of `arch` trained again from weights and shuffles seeded by `seed`."""
    again = copy.copy(objective)
    again.seed = seed
    return [float(again(arch))]


def _panels(arch: Any, space: KerasSearchSpace) -> list[Panel]:
    """The report's view of a network: its parameter count and its layer summary."""
    keras = require("keras", "keras")
    keras.backend.clear_session()  # layer names start afresh in each summary
    model = to_keras_model(arch, space.input_shape)
    return [Panel("Parameters", f"{model.count_params():,}"),
            Panel("Layers", model_summary(model), code=True)]


def _report(result: Any, objective: ClassificationObjective, x_test: Any,
            y_test: Any) -> list[str]:
    if len(objective.objectives) > 1:
        return _front_lines(result, objective)
    if not any(t.state.name == "COMPLETE" for t in result.trials):
        return []
    keras = require("keras", "keras")
    keras.backend.clear_session()
    model = objective.train(result.best_architecture)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    return [f"test accuracy of the best architecture (retrained): {accuracy:.4f} "
            f"({model.count_params():,} parameters, {len(y_test)} test images)"]


def _front_lines(result: Any, objective: ClassificationObjective) -> list[str]:
    front = pareto_front(result, objective.input_shape, names=objective.objectives)
    lines = [f"Pareto front: {len(front)} architectures"]
    for point in front:
        scores = ", ".join(f"{k}={v:.4g}" for k, v in point.scores.items())
        lines.append(f"trial {point.number}: {scores}")
    return lines


def _pruner(name: str) -> Any:
    optuna = require("optuna", "optuna")
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    return getattr(optuna.pruners, PRUNERS[name])()


def _objectives(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in OBJECTIVES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"choose among {', '.join(OBJECTIVES)}; got {text!r}")
    return names


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1; got {value}")
    return value
