"""`da-bridge search nasbench201`: NAS-Bench-201 cells scored by table lookup.

Options: `--dataset cifar10|cifar100|imagenet`, `--metric val_acc|...`.
"""

from __future__ import annotations

import argparse

from da_bridge._imports import require
from da_bridge.architecture import Architecture
from da_bridge.spaces import _tabular
from da_bridge.spaces.nasbench201.cell import EDGES, arch_str, cell_operations, nasbench201_space
from da_bridge.spaces.nasbench201.tabular import NASBench201Evaluator
from da_bridge.study.tasks import Panel, Task


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
    return _tabular.make_task(evaluator, nasbench201_space(), arch_str, panels=cell_panels)


def cell_panels(arch: Architecture) -> list[Panel]:
    """The report's view of a cell: its drawing and NAS-Bench-201's string for it."""
    return [Panel("Cell", svg=cell_svg(arch)), Panel("Cell string", arch_str(arch), code=True)]


def cell_svg(arch: Architecture) -> str:
    """The cell as a graph: nodes 0 (input) to 3 (output), one edge per operation that is
    not `none`, labelled with it.

    Example:
        >>> from da_bridge.spaces.nasbench201.cell import nasbench201_space
        >>> "nor_conv_3x3" in cell_svg(nasbench201_space().replay(
        ...     {f"edge_{i}_{j}.op": "nor_conv_3x3" for i, j in EDGES}))
        True
    """
    graphviz = require("graphviz", "viz")
    dot = graphviz.Digraph("cell", graph_attr={"rankdir": "LR", "nodesep": "0.5"},
                           node_attr={"shape": "circle", "style": "filled",
                                      "fillcolor": "#dbe8f7", "fontname": "Helvetica"},
                           edge_attr={"fontname": "Helvetica", "fontsize": "10"})
    for node in range(4):
        dot.node(str(node), {0: "in", 3: "out"}.get(node, str(node)))
    for (i, j), op in zip(EDGES, cell_operations(arch)):
        if op != "none":
            dot.edge(str(i), str(j), label=op, style="dashed" if op == "skip_connect" else "")
    return dot.pipe(format="svg").decode("utf-8")
