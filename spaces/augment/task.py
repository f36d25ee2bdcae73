"""`da-bridge search augment`: search an augmentation policy for a small labelled image set.

    da-bridge search augment --dataset digits --train-size 300 --trials 30
    da-bridge search augment --data my_images/ --image-size 32 32 --trials 30

The objective is the validation accuracy of a fixed model trained on the
training images plus augmented copies (`evaluate`); equivalent policies
(`canonical_key`) are scored once. The report scores the best policy and the
baselines (`baselines`: no augmentation, Keras' RandAugment with its defaults
and the best of a small grid, TrivialAugment, Keras' AugMix) with the same
evaluator on the untouched test images over several evaluation seeds, names
the best policy's gain over the best baseline with its spread, and writes a
PNG grid of the best policy applied to sample training images.
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib
import re
import statistics
import tempfile
from typing import Any

from da_bridge.errors import OptionError
from da_bridge.study.noise import record_accuracy
from da_bridge.study.store import runs_dir
from da_bridge.study.tasks import Panel, Task

from . import baselines as baseline_policies
from .compile import canonical_key, to_policy
from .data import BUILTIN, load_data
from .evaluate import CNNEvaluator, SklearnEvaluator
from .ops import OPS
from .plot import save_policy_grid
from .policy import autoaugment_space, randaugment_space

#: The baselines `--baselines` chooses from.
BASELINES = ("none", "randaugment", "grid", "trivialaugment", "augmix")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the augment task.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_arguments(parser)
        >>> args = parser.parse_args(["--data", "photos", "--image-size", "32", "24"])
        >>> args.dataset, args.image_size, args.train_size
        ('photos', [32, 24], 300)
    """
    parser.add_argument("--dataset", "--data", dest="dataset", default="digits",
                        help=f"{' or '.join(repr(b) for b in BUILTIN)} (built in), a folder "
                             "of class subfolders of images, or an .npz file with x and y")
    parser.add_argument("--image-size", type=int, nargs=2, metavar=("H", "W"),
                        help="resize a folder's images to H x W (default: the first image's)")
    parser.add_argument("--color-mode", choices=("grayscale", "rgb", "rgba"),
                        help="channels of a folder's images (default: the first image's)")
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
    parser.add_argument("--baselines", default=",".join(BASELINES),
                        help="comma-separated baselines the report compares with: "
                             f"{','.join(BASELINES)} (default: all; 'grid' is RandAugment's "
                             "N x M grid, its best on validation)")
    parser.add_argument("--eval-seeds", type=int, default=3,
                        help="evaluation seeds of the final comparison (default: 3)")
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
    chosen = _check_baselines(args.baselines)
    if args.eval_seeds < 1:
        raise OptionError(f"--eval-seeds must be at least 1; got {args.eval_seeds}")
    data = load_data(args.dataset, train_size=args.train_size, valid_size=args.valid_size,
                     seed=args.data_seed, image_size=args.image_size, color_mode=args.color_mode)
    ops = args.ops.split(",") if args.ops else list(OPS)
    if args.policy == "autoaugment":
        space = autoaugment_space(args.subpolicies, args.ops_per_subpolicy, ops=ops)
    else:
        space = randaugment_space(ops=ops)

    def evaluator(seed: int) -> Any:
        if args.evaluator == "sklearn":
            return SklearnEvaluator(data, copies=args.copies, seed=seed)
        return CNNEvaluator(data, copies=args.copies, epochs=args.epochs, seed=seed)

    objective = _Memoized(evaluator(args.data_seed), len(data.y_valid))

    def confirm(arch: Any, seed: int) -> list[float]:
        """The validation accuracy with augmentation draws (and the CNN) seeded by `seed`."""
        return [evaluator(seed)(arch)]

    def report(result: Any) -> list[str]:
        return _report(result, evaluator, data, args, chosen, ops)

    def panels(arch: Any) -> list[Panel]:
        return _panels(arch, data)

    return Task(space, objective, ["maximize"],
                lambda arch: to_policy(arch).describe(multiline=True), report,
                panels=panels, confirm=confirm,
                columns=_columns if args.policy == "autoaugment" else None,
                canonical=canonical_key)


class _Memoized:
    """The evaluator's score, computed once per equivalent policy (`canonical_key`), and
    recorded on the trial as an accuracy over the validation images."""

    def __init__(self, evaluator: Any, n_valid: int) -> None:
        self.evaluator, self.n_valid = evaluator, n_valid
        self.scores: dict[str, float] = {}

    def __call__(self, arch: Any, trial: Any = None) -> float:
        key = canonical_key(arch)
        if key not in self.scores:
            self.scores[key] = self.evaluator(arch)
        if trial is None:
            return self.scores[key]
        return record_accuracy(trial, self.scores[key], self.n_valid)


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


def _check_baselines(text: str) -> list[str]:
    chosen = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(BASELINES))
    if unknown:
        raise OptionError(f"--baselines got {', '.join(unknown)}; allowed: {','.join(BASELINES)}")
    return chosen


def _baselines(data: Any, chosen: list[str], ops: list[str], valid_score: Any) -> dict:
    """`{label: augmenter}` of the chosen baselines; the grid's best picked on validation."""
    every = baseline_policies.baselines(data.value_range, grid="grid" in chosen, ops=ops)
    default = "RandAugment N={} M={:g}".format(*baseline_policies.DEFAULT_RANDAUGMENT)
    out: dict[str, Any] = {}
    if "none" in chosen:
        out["no augmentation"] = None
    if "randaugment" in chosen:
        out[f"{default} (Keras' default)"] = every[default]
    if "grid" in chosen:
        grid = {name: a for name, a in every.items() if name.startswith("RandAugment")}
        best = max(grid, key=lambda name: valid_score(grid[name]))
        out[f"{best} (best of the grid on validation)"] = grid[best]
    if "trivialaugment" in chosen:
        out["TrivialAugment"] = every["TrivialAugment"]
    if "augmix" in chosen:
        out["AugMix (Keras' default)"] = every["AugMix"]
    return out


def _report(result: Any, evaluator: Any, data: Any, args: argparse.Namespace,
            chosen: list[str], ops: list[str]) -> list[str]:
    if not any(t.state.name == "COMPLETE" for t in result.trials):
        return []
    arch = result.best_architecture
    on = "test" if len(data.y_test) else "valid"
    seeds = [args.data_seed + i for i in range(args.eval_seeds)]
    evaluators = [evaluator(seed) for seed in seeds]
    methods = {"best policy": arch, **_baselines(data, chosen, ops, evaluators[0])}
    scores = {name: [e.score(a, on=on) for e in evaluators] for name, a in methods.items()}
    where = (f"test images ({len(data.y_test)} untouched)" if on == "test"
             else "validation images (no test split)")
    lines = [f"accuracy on the {where}, mean ± SE over {len(seeds)} evaluation seeds:"]
    width = max(len(name) for name in scores)
    lines += [f"  {name:<{width}}  {_mean_se(values)}" for name, values in scores.items()]
    lines += _gain_lines(scores)
    path = args.png or os.path.join(runs_dir(), f"{result.study.study_name}-policy.png")
    save_policy_grid(to_policy(arch, value_range=data.value_range), data.x_train[:8], path, rng=0)
    lines.append(f"picture of the best policy: {os.path.abspath(path)}")
    return lines


def _gain_lines(scores: dict[str, list[float]]) -> list[str]:
    baselines = {name: v for name, v in scores.items() if name != "best policy"}
    if not baselines:
        return []
    best = max(baselines, key=lambda name: statistics.mean(baselines[name]))
    gains = [p - b for p, b in zip(scores["best policy"], baselines[best], strict=True)]
    spread = _se(gains)
    verdict = "more than" if statistics.mean(gains) > spread else "NOT more than"
    return [f"gain of the best policy over the best baseline ({best}): "
            f"{statistics.mean(gains):+.4f} ± {spread:.4f} (paired SE over seeds; worst seed "
            f"{min(gains):+.4f}): {verdict} its spread"]


def _se(values: list[float]) -> float:
    return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0


def _mean_se(values: list[float]) -> str:
    return f"{statistics.mean(values):.4f} ± {_se(values):.4f}"
