"""`da-bridge search nasbenchgraph`: NAS-Bench-Graph architectures scored by table lookup.

Options: `--dataset cora|citeseer|...`, `--metric valid_perf|...`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from da_bridge.architecture import Architecture
from da_bridge.spaces import _tabular
from da_bridge.spaces.nasbenchgraph.macro import macro_architecture, nasbenchgraph_space
from da_bridge.spaces.nasbenchgraph.tabular import NASBenchGraphEvaluator
from da_bridge.study.tasks import Task


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The task's options.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_arguments(parser)
        >>> parser.parse_args(["--dataset", "pubmed"]).dataset
        'pubmed'
    """
    _tabular.add_arguments(parser, NASBenchGraphEvaluator)


def make_task(args: argparse.Namespace) -> Task:
    """The NAS-Bench-Graph space with its tabular objective.

    Example:
        >>> task = make_task(argparse.Namespace(dataset="proteins", metric="valid_perf"))
        >>> task.space.count()
        5625
    """
    evaluator = NASBenchGraphEvaluator(args.dataset, metric=args.metric)
    return _tabular.make_task(evaluator, nasbenchgraph_space(evaluator.operations), _describe)


def _describe(arch: Architecture | Mapping[str, Any]) -> str:
    link, ops = macro_architecture(arch)
    return f"Arch({json.dumps(link)}, {json.dumps(ops)})"
