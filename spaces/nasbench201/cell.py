"""The NAS-Bench-201 cell search space.

Dong and Yang, "NAS-Bench-201: Extending the Scope of Reproducible Neural
Architecture Search", ICLR 2020. A cell is a complete DAG on four nodes: node
0 is the cell input, node 3 its output, and each of the six edges `i -> j`
(`i < j`) applies one of five operations; a node sums its incoming edges. The
space has 5**6 = 15,625 cells.

The modules here are framework-free: `forward` writes the cell as a formula,
which is enough to count, draw, replay and evaluate it on the tabular
benchmark (`NASBench201Evaluator`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from da_bridge import Discrete, SearchSpace, basic
from da_bridge.architecture import Architecture
from da_bridge.errors import DomainError
from da_bridge.modules import Fragment

#: The five candidate operations, in the benchmark's order.
OPERATIONS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")

#: The six edges `(from node, to node)`, in the order of NAS-Bench-201's arch strings.
EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))

NUM_NODES = 4


def edge_path(edge: tuple[int, int]) -> str:
    """The path of the operation choice on `edge`.

    Example:
        >>> edge_path((0, 1))
        'edge_0_1.op'
    """
    return f"edge_{edge[0]}_{edge[1]}.op"


def nasbench201_fragment(operations: Sequence[str] = OPERATIONS) -> Fragment:
    """The NAS-Bench-201 cell as a fragment with input "in" and output "out".

    Args:
        operations: The candidate operations of every edge.

    Example:
        >>> SearchSpace(lambda: nasbench201_fragment(["none", "nor_conv_3x3"])).count()
        64
    """
    node_in: dict[int, dict[str, Any]] = {}
    node_out: dict[int, Any] = {}
    for j in range(1, NUM_NODES):
        sources = [i for i, k in EDGES if k == j]
        node_in[j], outs = _node(j, len(sources))
        node_out[j] = outs["out"]
    stem_in, stem_out = _node(0, 1)
    node_out[0] = stem_out["out"]
    slots = {j: 0 for j in range(1, NUM_NODES)}
    for i, j in EDGES:
        edge_in, edge_out = _edge(i, j, operations)
        node_out[i].connect(edge_in["in"])
        edge_out["out"].connect(node_in[j][f"in{slots[j]}"])
        slots[j] += 1
    return {"in": stem_in["in0"]}, {"out": node_out[NUM_NODES - 1]}


def nasbench201_space(operations: Sequence[str] = OPERATIONS) -> SearchSpace:
    """The NAS-Bench-201 cell space (Dong and Yang, ICLR 2020): 6 edges x 5 operations.

    Example:
        >>> space = nasbench201_space()
        >>> space.count()
        15625
        >>> resnet = ["nor_conv_3x3", "none", "nor_conv_3x3", "skip_connect", "none",
        ...           "skip_connect"]
        >>> space.replay(dict(zip(map(edge_path, EDGES), resnet))).forward({"in": "x"})
        {'out': 'skip_connect(x) + skip_connect(nor_conv_3x3(nor_conv_3x3(x)))'}
    """
    operations = tuple(operations)
    return SearchSpace(lambda: nasbench201_fragment(operations))


def cell_operations(arch: Architecture | Mapping[str, Any]) -> tuple[str, ...]:
    """The six operations of a cell, in `EDGES` order.

    Example:
        >>> cell_operations(dict.fromkeys(map(edge_path, EDGES), "none"))
        ('none', 'none', 'none', 'none', 'none', 'none')
    """
    values = arch.values if isinstance(arch, Architecture) else arch
    ops = []
    for edge in EDGES:
        path = edge_path(edge)
        if path not in values:
            raise DomainError(path, None, f"one of {list(OPERATIONS)}")
        ops.append(values[path])
    return tuple(ops)


def arch_str(arch: Architecture | Mapping[str, Any]) -> str:
    """NAS-Bench-201's string for a cell, e.g. `|nor_conv_3x3~0|+|...~0|...~1|+|...`.

    Example:
        >>> resnet = ["nor_conv_3x3", "none", "nor_conv_3x3", "skip_connect", "none",
        ...           "skip_connect"]
        >>> arch_str(dict(zip(map(edge_path, EDGES), resnet)))
        '|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|'
    """
    ops = dict(zip(EDGES, cell_operations(arch)))
    nodes = ["|" + "|".join(f"{ops[i, j]}~{i}" for i in range(j)) + "|"
             for j in range(1, NUM_NODES)]
    return "+".join(nodes)


def _edge(i: int, j: int, operations: Sequence[str]) -> Fragment:
    def compile_fn(values: dict[str, Any]) -> Any:
        op = values["op"]
        return lambda inputs: {"out": None if op == "none" else f"{op}({inputs['in']})"}

    return basic(f"edge_{i}_{j}", compile_fn, {"op": Discrete(operations)})


def _node(j: int, n_inputs: int) -> Fragment:
    def compile_fn(values: dict[str, Any]) -> Any:
        def forward(inputs: dict[str, Any]) -> dict[str, Any]:
            terms = [inputs[f"in{k}"] for k in range(n_inputs) if inputs[f"in{k}"] is not None]
            return {"out": " + ".join(terms) if terms else None}
        return forward

    return basic(f"node_{j}", compile_fn, {}, inputs=[f"in{k}" for k in range(n_inputs)])
