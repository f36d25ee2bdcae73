"""`da-bridge search nasbenchgraph`: NAS-Bench-Graph architectures scored by table lookup.

Options: `--dataset cora|citeseer|...`, `--metric valid_perf|...`.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from da_bridge.architecture import Architecture
from da_bridge.cli._spaces import Task
from da_bridge.spaces.nasbenchgraph.macro import macro_architecture, nasbenchgraph_space
from da_bridge.spaces.nasbenchgraph.tabular import DATASETS, METRICS, NASBenchGraphEvaluator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The task's options.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_arguments(parser)
        >>> parser.parse_args(["--dataset", "pubmed"]).dataset
        'pubmed'
    """
    parser.add_argument("--dataset", default="cora", choices=DATASETS,
                        help="benchmark dataset (default: cora)")
    parser.add_argument("--metric", default="valid_perf", choices=sorted(METRICS),
                        help="metric to optimize (default: valid_perf, maximized)")


def make_task(args: argparse.Namespace) -> Task:
    """The NAS-Bench-Graph space with its tabular objective.

    Example:
        >>> task = make_task(argparse.Namespace(dataset="proteins", metric="valid_perf"))
        >>> task.space.count()
        5625
    """
    evaluator = NASBenchGraphEvaluator(args.dataset, metric=args.metric)
    return Task(space=nasbenchgraph_space(evaluator.operations), objective=evaluator,
                directions=[evaluator.direction], describe=_describe,
                report=lambda result: _report(evaluator, result))


def _describe(arch: Architecture | dict[str, Any]) -> str:
    link, ops = macro_architecture(arch)
    return f"Arch({json.dumps(link)}, {json.dumps(ops)})"


def _report(evaluator: NASBenchGraphEvaluator, result: Any) -> list[str]:
    best, values = evaluator.optimum()
    found = evaluator(result.best_architecture)
    return [f"table optimum on {evaluator.dataset}: {best:.4f} ({_describe(values)})",
            f"regret of the best found: {abs(best - found):.4f}"]
