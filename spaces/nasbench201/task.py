"""`da-bridge search nasbench201`: NAS-Bench-201 cells scored by table lookup.

Options: `--dataset cifar10|cifar100|imagenet`, `--metric val_acc|...`.
"""

from __future__ import annotations

import argparse

from da_bridge.spaces import _tabular
from da_bridge.spaces.nasbench201.cell import arch_str, nasbench201_space
from da_bridge.spaces.nasbench201.tabular import NASBench201Evaluator
from da_bridge.study.tasks import Task


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The task's options.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_arguments(parser)
        >>> parser.parse_args([]).dataset
        'cifar10'
    """
    _tabular.add_arguments(parser, NASBench201Evaluator)


def make_task(args: argparse.Namespace) -> Task:
    """The NAS-Bench-201 space with its tabular objective.

    Example:
        >>> task = make_task(argparse.Namespace(dataset="cifar100", metric="val_acc"))
        >>> task.directions
        ['maximize']
    """
    evaluator = NASBench201Evaluator(args.dataset, metric=args.metric)
    return _tabular.make_task(evaluator, nasbench201_space(), arch_str)
