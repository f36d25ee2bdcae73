"""`da-bridge search augment`: search an augmentation policy for a small labelled image set.

    da-bridge search augment --dataset digits --train-size 300 --trials 30

The objective is the validation accuracy of a fixed model trained on the
training images plus augmented copies (`evaluate`); the report gives the
test accuracy of no augmentation and of the best policy, and writes a PNG
grid of the best policy applied to sample training images.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import tempfile
from typing import Any

from da_bridge.study.noise import record_accuracy
from da_bridge.study.store import runs_dir
from da_bridge.study.tasks import Panel, Task

from .compile import to_policy
from .evaluate import CNNEvaluator, SklearnEvaluator, load_data
from .ops import OPS
from .plot import save_policy_grid
from .policy import autoaugment_space, randaugment_space


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the augment task.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_arguments(parser)
        >>> parser.parse_args(["--policy", "randaugment"]).train_size
        300
    """
    parser.add_argument("--dataset", default="digits",
                        help="'digits' (sklearn's 8x8 digits) or an .npz file with x and y")
    parser.add_argument("--train-size", type=int, default=300,
                        help="training images (default: 300)")
    parser.add_argument("--valid-size", type=int, default=500,
                        help="validation images (default: 500)")
    parser.add_argument("--policy", choices=("autoaugment", "randaugment"),
                        default="autoaugment", help="the policy space (default: autoaugment)")
    parser.add_argument("--subpolicies", type=int, default=5,
                        help="AutoAugment sub-policies (default: 5)")
    parser.add_argument("--ops-per-subpolicy", type=int, default=2,
                        help="ops per sub-policy (default: 2)")
    parser.add_argument("--ops", help="comma-separated op names (default: all: "
                                      + ",".join(OPS) + ")")
    parser.add_argument("--evaluator", choices=("sklearn", "cnn"), default="sklearn",
                        help="an SVC on pixels (fast; default) or a small Keras CNN")
    parser.add_argument("--copies", type=int, default=4,
                        help="augmented copies of the training set (default: 4)")
    parser.add_argument("--epochs", type=int, default=30, help="CNN training epochs (default: 30)")
    parser.add_argument("--data-seed", type=int, default=0,
                        help="seeds the split, the augmentation draws and the model (default: 0)")
    parser.add_argument("--png", help="where to write the picture of the best policy "
                                      "(default: da_runs/<study>-policy.png, in the folder "
                                      "DA_BRIDGE_RUNS names if set)")


def make_task(args: argparse.Namespace) -> Task:
    """The augment task for parsed options: its space, objective, description and report.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_arguments(parser)
        >>> task = make_task(parser.parse_args(["--policy", "randaugment", "--train-size", "50"]))
        >>> task.space.count(), task.directions
        (33, ['maximize'])
    """
    data = load_data(args.dataset, train_size=args.train_size, valid_size=args.valid_size,
                     seed=args.data_seed)
    ops = args.ops.split(",") if args.ops else list(OPS)
    if args.policy == "autoaugment":
        space = autoaugment_space(args.subpolicies, args.ops_per_subpolicy, ops=ops)
    else:
        space = randaugment_space(ops=ops)
    def make_evaluator(seed: int) -> Any:
        if args.evaluator == "sklearn":
            return SklearnEvaluator(data, copies=args.copies, seed=seed)
        return CNNEvaluator(data, copies=args.copies, epochs=args.epochs, seed=seed)

    evaluator = make_evaluator(args.data_seed)

    def confirm(arch: Any, seed: int) -> list[float]:
        """The validation accuracy with augmentation draws (and the CNN) seeded by `seed`."""
        return [make_evaluator(seed)(arch)]

    def objective(arch: Any, trial: Any) -> float:
        return record_accuracy(trial, evaluator(arch), len(data.y_valid))

    def describe(arch: Any) -> str:
        return to_policy(arch).describe(multiline=True)

    def report(result: Any) -> list[str]:
        return _report(result, evaluator, data, args.png)

    def panels(arch: Any) -> list[Panel]:
        return _panels(arch, data)

    return Task(space, objective, ["maximize"], describe, report, panels=panels, confirm=confirm,
                columns=_columns if args.policy == "autoaugment" else None)


def _panels(arch: Any, data: Any) -> list[Panel]:
    """The report's view of a policy: its text and a grid of it at work on training images."""
    policy = to_policy(arch, value_range=data.value_range)
    with tempfile.TemporaryDirectory() as folder:
        path = save_policy_grid(policy, data.x_train[:6], os.path.join(folder, "grid.png"),
                                rng=0, title="")
        png = pathlib.Path(path).read_bytes()
    return [Panel("Policy", policy.describe(multiline=True), code=True),
            Panel("The policy on training images (original, then 6 draws)", png=png)]


_STEP_OP = re.compile(r"^subpolicy/(\d+)/step(\d+)/op\.choice$")


def _columns(values: Any) -> dict[str, str]:
    """An AutoAugment policy's sub-policies as key columns: `{"sub-policy 1": "shear_x ->
    cutout", ...}`.

    Example:
        >>> _columns({"subpolicy/0/step0/op.choice": "flip", "subpolicy/0/step0.probability": 0.5,
        ...           "subpolicy/0/step1/op.choice": "cutout"})
        {'sub-policy 1': 'flip -> cutout'}
    """
    steps: dict[int, dict[int, str]] = {}
    for path, value in values.items():
        match = _STEP_OP.match(path)
        if match:
            steps.setdefault(int(match.group(1)), {})[int(match.group(2))] = str(value)
    return {f"sub-policy {i + 1}": " -> ".join(ops[j] for j in sorted(ops))
            for i, ops in sorted(steps.items())}


def _report(result: Any, evaluator: Any, data: Any, png: str | None) -> list[str]:
    if not any(t.state.name == "COMPLETE" for t in result.trials):
        return []
    arch = result.best_architecture
    lines = [f"no augmentation: validation accuracy {evaluator(None):.4f}"]
    if len(data.y_test):
        lines.append(f"test accuracy ({len(data.y_test)} untouched images): no augmentation "
                     f"{evaluator.score(None, on='test'):.4f}, best policy "
                     f"{evaluator.score(arch, on='test'):.4f}")
    path = png or os.path.join(runs_dir(), f"{result.study.study_name}-policy.png")
    policy = to_policy(arch, value_range=data.value_range)
    save_policy_grid(policy, data.x_train[:8], path, rng=0)
    lines.append(f"picture of the best policy: {os.path.abspath(path)}")
    return lines
