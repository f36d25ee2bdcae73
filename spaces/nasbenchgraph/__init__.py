"""NAS-Bench-Graph (Qin et al., NeurIPS 2022 Datasets and Benchmarks): the macro space
of graph neural networks and its tabular evaluator.

Example:
    >>> import da_bridge
    >>> from da_bridge.spaces.nasbenchgraph import NASBenchGraphEvaluator, nasbenchgraph_space
    >>> result = da_bridge.search(nasbenchgraph_space(), NASBenchGraphEvaluator("cora"),
    ...                           "random", n_trials=20, direction="maximize", seed=0,
    ...                           storage=":memory:")
    >>> result.best_score > 0.7
    True
"""

from da_bridge.spaces.nasbenchgraph.macro import (
    LINK_PATTERNS,
    OPERATIONS,
    OPERATIONS_PROTEINS,
    macro_architecture,
    nasbenchgraph_fragment,
    nasbenchgraph_space,
    node_path,
)
from da_bridge.spaces.nasbenchgraph.tabular import DATASETS, METRICS, NASBenchGraphEvaluator

__all__ = [
    "DATASETS",
    "LINK_PATTERNS",
    "METRICS",
    "NASBenchGraphEvaluator",
    "OPERATIONS",
    "OPERATIONS_PROTEINS",
    "macro_architecture",
    "nasbenchgraph_fragment",
    "nasbenchgraph_space",
    "node_path",
]
