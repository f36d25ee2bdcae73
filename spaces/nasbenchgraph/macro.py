"""The NAS-Bench-Graph search space: a macro DAG of four GNN layers.

Qin et al., "NAS-Bench-Graph: Benchmarking Graph Neural Architecture Search",
NeurIPS 2022 Datasets and Benchmarks. Each of four computing nodes takes one
input (the raw features or an earlier node) and applies one operation; nodes
without successors feed the output. The connection pattern is one of nine
non-isomorphic link patterns; the space unfolds it first (`link`), and only
then reveals the four operations (`macro/node_k.op`), a structural space in
DeepArchitect's sense. 9 x 9**4 = 59,049 assignments, of which the 9 with
only `skip` are not networks.

The modules are framework-free: `forward` writes the network as a formula,
enough to count, replay and evaluate it on the tabular benchmark
(`NASBenchGraphEvaluator`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from da_bridge import Discrete, SearchSpace, basic, identity, substitution
from da_bridge.architecture import Architecture
from da_bridge.errors import DomainError
from da_bridge.modules import Fragment

#: The nine link patterns: digit k is the input of node k+1 (0 = raw features).
LINK_PATTERNS = ("0000", "0001", "0011", "0012", "0013", "0111", "0112", "0122", "0123")

#: The nine GNN operations of NAS-Bench-Graph (proteins uses `OPERATIONS_PROTEINS`).
OPERATIONS = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
OPERATIONS_PROTEINS = ("gcn", "sage", "arma", "fc", "skip")

NUM_NODES = 4
LINK_PATH = "link"


def node_path(k: int) -> str:
    """The path of the operation choice of computing node `k` (1 to 4).

    Example:
        >>> node_path(1)
        'macro/node_1.op'
    """
    return f"macro/node_{k}.op"


def nasbenchgraph_fragment(operations: Sequence[str] = OPERATIONS) -> Fragment:
    """The NAS-Bench-Graph space as a fragment: `link`, then one operation per node.

    Example:
        >>> SearchSpace(lambda: nasbenchgraph_fragment(["gcn", "skip"])).count()
        144
    """
    operations = tuple(operations)
    h_link = Discrete(LINK_PATTERNS, name=LINK_PATH)
    return substitution("macro", lambda v: _macro(v["link"], operations), {"link": h_link})


def nasbenchgraph_space(operations: Sequence[str] = OPERATIONS) -> SearchSpace:
    """The NAS-Bench-Graph space (Qin et al., NeurIPS 2022 Datasets and Benchmarks).

    Example:
        >>> space = nasbenchgraph_space()
        >>> space.count()
        59049
        >>> u = space.unfold()
        >>> u.next().name
        'link'
        >>> u.assign("0112")
        >>> u.next().name
        'macro/node_1.op'
        >>> values = {"link": "0112", **dict(zip(map(node_path, range(1, 5)),
        ...                                      ["gcn", "cheb", "gin", "fc"]))}
        >>> space.replay(values).forward({"in": "x"})
        {'out': 'output(gin(gcn(x)), fc(cheb(gcn(x))))'}
    """
    operations = tuple(operations)
    return SearchSpace(lambda: nasbenchgraph_fragment(operations))


def macro_architecture(arch: Architecture | Mapping[str, Any]) -> tuple[list[int], list[str]]:
    """The `(link, operations)` lists NAS-Bench-Graph's `Arch` takes.

    Example:
        >>> macro_architecture({"link": "0012", "macro/node_1.op": "gcn",
        ...                     "macro/node_2.op": "gat", "macro/node_3.op": "skip",
        ...                     "macro/node_4.op": "fc"})
        ([0, 0, 1, 2], ['gcn', 'gat', 'skip', 'fc'])
    """
    values = arch.values if isinstance(arch, Architecture) else arch
    link = values.get(LINK_PATH)
    if link not in LINK_PATTERNS:
        raise DomainError(LINK_PATH, link, f"one of {list(LINK_PATTERNS)}")
    ops = []
    for k in range(1, NUM_NODES + 1):
        if node_path(k) not in values:
            raise DomainError(node_path(k), None, "a GNN operation")
        ops.append(values[node_path(k)])
    return [int(c) for c in link], ops


def _macro(link: str, operations: tuple[str, ...]) -> Fragment:
    sources = [int(c) for c in link]
    leaves = [k for k in range(1, NUM_NODES + 1) if k not in sources]
    input_in, input_out = identity("input")
    outs = {0: input_out["out"]}
    for k, source in enumerate(sources, start=1):
        node_in, node_out = _gnn(k, operations)
        outs[source].connect(node_in["in"])
        outs[k] = node_out["out"]
    merge_in, merge_out = _output(len(leaves))
    for slot, k in enumerate(leaves):
        outs[k].connect(merge_in[f"in{slot}"])
    return {"in": input_in["in"]}, merge_out


def _gnn(k: int, operations: tuple[str, ...]) -> Fragment:
    def compile_fn(values: dict[str, Any]) -> Any:
        op = values["op"]
        return lambda inputs: {"out": inputs["in"] if op == "skip" else f"{op}({inputs['in']})"}

    return basic(f"node_{k}", compile_fn, {"op": Discrete(operations)})


def _output(n: int) -> Fragment:
    def compile_fn(values: dict[str, Any]) -> Any:
        return lambda inputs: {"out": f"output({', '.join(inputs[f'in{i}'] for i in range(n))})"}

    return basic("output", compile_fn, {}, inputs=[f"in{i}" for i in range(n)])
