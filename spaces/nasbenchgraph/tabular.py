"""Instant evaluation of NAS-Bench-Graph architectures from a lookup table.

The tables are the "light" benchmark files `nas-bench-graph` 1.4.0 ships
(`nas_bench_graph/light/<dataset>.bench`, read with its `light_read`), keyed
by `Arch(link, ops).valid_hash()`, which maps isomorphic architectures to one
entry. Each entry holds the validation and test accuracy (`valid_perf`,
`perf`, averaged over the benchmark's three training seeds), the latency
(`latency`, s) and the number of parameters (`para`, millions) of one of the
26,206 non-isomorphic architectures (5,616 on proteins); Qin et al., NeurIPS
2022 Datasets and Benchmarks.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from typing import Any

from da_bridge._imports import require
from da_bridge.architecture import Architecture
from da_bridge.errors import DomainError
from da_bridge.spaces._tabular import TabularEvaluator
from da_bridge.spaces.nasbenchgraph.macro import (
    LINK_PATH,
    LINK_PATTERNS,
    NUM_NODES,
    OPERATIONS,
    OPERATIONS_PROTEINS,
    macro_architecture,
    node_path,
)

DATASETS = ("cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv",
            "proteins")
#: Metric name -> the direction that is better.
METRICS = {"valid_perf": "maximize", "perf": "maximize", "latency": "minimize",
           "para": "minimize"}


class NASBenchGraphEvaluator(TabularEvaluator):
    """Score a NAS-Bench-Graph architecture by table lookup.

    Args:
        dataset: One of `DATASETS`; "proteins" has its own operations
            (`OPERATIONS_PROTEINS`).
        metric: "valid_perf" (validation accuracy, the default), "perf" (test
            accuracy), "latency" or "para".

    Example:
        >>> evaluate = NASBenchGraphEvaluator("cora")
        >>> values = {"link": "0112", "macro/node_1.op": "gcn", "macro/node_2.op": "cheb",
        ...           "macro/node_3.op": "gin", "macro/node_4.op": "fc"}
        >>> round(evaluate(values), 4)
        0.7873
        >>> round(evaluate.optimum()[0], 4)
        0.8193
    """

    DATASETS = DATASETS
    METRICS = METRICS
    DEFAULT_DATASET = "cora"
    DEFAULT_METRIC = "valid_perf"

    def __init__(self, dataset: str | None = None, *, metric: str | None = None) -> None:
        super().__init__(dataset, metric=metric)
        self.operations = OPERATIONS_PROTEINS if self.dataset == "proteins" else OPERATIONS

    def query(self, arch: Architecture | Mapping[str, Any]) -> dict[str, float]:
        """Every metric of `arch`, as stored."""
        return {name: float(value) for name, value in self._row(arch).items()}

    @staticmethod
    def _load(dataset: str) -> dict[int, dict[str, Any]]:
        return _load(dataset)

    def _key(self, arch: Architecture | Mapping[str, Any]) -> int:
        link, ops = macro_architecture(arch)
        for k, op in enumerate(ops, start=1):
            if op not in self.operations:
                raise DomainError(node_path(k), op, f"one of {list(self.operations)}")
        if all(op == "skip" for op in ops):
            raise DomainError("macro/node_*.op", ops, "operations that are not all 'skip'")
        return _hash(link, ops)

    @staticmethod
    def _score(row: dict[str, Any], metric: str) -> float:
        return float(row[metric])

    def _values_of(self, key: int) -> dict[str, str]:
        """A values map whose architecture has table key `key` (the table keeps no names)."""
        for link in LINK_PATTERNS:
            for ops in itertools.product(self.operations, repeat=NUM_NODES):
                if set(ops) != {"skip"} and _hash([int(c) for c in link], list(ops)) == key:
                    return {LINK_PATH: link, **dict(zip(map(node_path, range(1, 5)), ops))}
        raise LookupError(f"no architecture of the space has table key {key}")


def _hash(link: list[int], ops: list[str]) -> int:
    from nas_bench_graph.architecture import Arch

    return Arch(list(link), list(ops)).valid_hash()


@functools.cache
def _load(dataset: str) -> dict[int, dict[str, Any]]:
    return require("nas_bench_graph", "bench").light_read(dataset)
