"""`da-bridge search nasbench201`: NAS-Bench-201 cells scored by table lookup.

Options: `--dataset cifar10|cifar100|imagenet`, `--metric val_acc|...`.
"""

from __future__ import annotations

import argparse
from typing import Any

from da_bridge.cli._spaces import Task
from da_bridge.spaces.nasbench201.cell import arch_str, nasbench201_space
from da_bridge.spaces.nasbench201.tabular import DATASETS, METRICS, NASBench201Evaluator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The task's options.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_arguments(parser)
        >>> parser.parse_args([]).dataset
        'cifar10'
    """
    parser.add_argument("--dataset", default="cifar10", choices=DATASETS,
                        help="benchmark dataset (default: cifar10)")
    parser.add_argument("--metric", default="val_acc", choices=sorted(METRICS),
                        help="metric to optimize (default: val_acc, maximized)")


def make_task(args: argparse.Namespace) -> Task:
    """The NAS-Bench-201 space with its tabular objective.

    Example:
        >>> task = make_task(argparse.Namespace(dataset="cifar100", metric="val_acc"))
        >>> task.directions
        ['maximize']
    """
    evaluator = NASBench201Evaluator(args.dataset, metric=args.metric)
    return Task(space=nasbench201_space(), objective=evaluator,
                directions=[evaluator.direction], describe=arch_str,
                report=lambda result: _report(evaluator, result))


def _report(evaluator: NASBench201Evaluator, result: Any) -> list[str]:
    best, values = evaluator.optimum()
    found = evaluator(result.best_architecture)
    return [f"table optimum on {evaluator.dataset}: {best:.4f} ({arch_str(values)})",
            f"regret of the best found: {abs(best - found):.4f}"]
