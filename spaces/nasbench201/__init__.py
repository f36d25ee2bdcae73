"""NAS-Bench-201 (Dong and Yang, ICLR 2020): the cell space and its tabular evaluator.

The fastest way to try da_bridge: every cell is scored by table lookup.

Example:
    >>> import da_bridge
    >>> from da_bridge.spaces.nasbench201 import NASBench201Evaluator, nasbench201_space
    >>> result = da_bridge.search(nasbench201_space(), NASBench201Evaluator("cifar10"),
    ...                           "random", n_trials=20, direction="maximize", seed=0,
    ...                           storage=":memory:")
    >>> result.best_score > 80
    True
"""

from da_bridge.spaces.nasbench201.cell import (
    EDGES,
    OPERATIONS,
    arch_str,
    cell_operations,
    edge_path,
    nasbench201_fragment,
    nasbench201_space,
)
from da_bridge.spaces.nasbench201.tabular import DATASETS, METRICS, NASBench201Evaluator

__all__ = [
    "DATASETS",
    "EDGES",
    "METRICS",
    "NASBench201Evaluator",
    "OPERATIONS",
    "arch_str",
    "cell_operations",
    "edge_path",
    "nasbench201_fragment",
    "nasbench201_space",
]
