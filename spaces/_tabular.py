"""What the tabular NAS benchmarks share: a lookup evaluator and its command-line task.

A subclass says how to load a dataset's table, which row an architecture is, how a row
scores on a metric, and which values map a row stands for; the checks, the optimum and the
CLI options and report are the same for every table.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Hashable, Mapping
from typing import Any, ClassVar

from da_bridge.architecture import Architecture
from da_bridge.errors import DomainError
from da_bridge.study.tasks import Panel, Task

Arch = Architecture | Mapping[str, Any]


class TabularEvaluator:
    """Score an architecture (or its values map) by looking it up in a benchmark's table.

    Subclasses set `DATASETS`, `METRICS` (metric -> the better direction) and the defaults,
    and implement `_load`, `_key`, `_score` and `_values_of`.
    """

    DATASETS: ClassVar[tuple[str, ...]] = ()
    METRICS: ClassVar[dict[str, str]] = {}
    DEFAULT_DATASET: ClassVar[str] = ""
    DEFAULT_METRIC: ClassVar[str] = ""

    def __init__(self, dataset: str | None = None, *, metric: str | None = None) -> None:
        dataset = self.DEFAULT_DATASET if dataset is None else dataset
        metric = self.DEFAULT_METRIC if metric is None else metric
        if dataset not in self.DATASETS:
            raise DomainError("dataset", dataset, f"one of {list(self.DATASETS)}")
        if metric not in self.METRICS:
            raise DomainError("metric", metric, f"one of {list(self.METRICS)}")
        self.dataset, self.metric = dataset, metric
        self.direction = self.METRICS[metric]
        self._table = self._load(dataset)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dataset!r}, metric={self.metric!r})"

    def __call__(self, arch: Arch) -> float:
        """The metric of `arch` (an architecture or values map)."""
        return self._score(self._row(arch), self.metric)

    def optimum(self) -> tuple[float, dict[str, str]]:
        """The best score in the table and the values map of an architecture that has it."""
        # mypy checks a class against Hashable through the instances' __hash__ signature
        score, values = _optimum(type(self), self.dataset, self.metric)  # type: ignore[arg-type]
        return score, dict(values)

    def _row(self, arch: Arch) -> Any:
        return self._table[self._key(arch)]

    # What each table defines --------------------------------------------------------------

    @staticmethod
    def _load(dataset: str) -> Mapping[Any, Any]:  # keys: what `_key` returns
        """The table of `dataset`: row key -> row."""
        raise NotImplementedError

    def _key(self, arch: Arch) -> Hashable:
        """The row key of `arch`; raises DomainError for values outside the table."""
        raise NotImplementedError

    @staticmethod
    def _score(row: Any, metric: str) -> float:
        raise NotImplementedError

    def _values_of(self, key: Any) -> dict[str, str]:  # a key of the table
        """A values map whose architecture has row key `key`."""
        raise NotImplementedError


@functools.cache
def _optimum(cls: type[TabularEvaluator], dataset: str, metric: str) -> tuple[float, dict]:
    evaluator = cls(dataset, metric=metric)
    sign = 1.0 if cls.METRICS[metric] == "maximize" else -1.0
    table = evaluator._table
    best = max(table, key=lambda key: sign * cls._score(table[key], metric))
    return cls._score(table[best], metric), evaluator._values_of(best)


def add_arguments(parser: argparse.ArgumentParser, cls: type[TabularEvaluator]) -> None:
    """The options of a tabular task: `--dataset` and `--metric`."""
    parser.add_argument("--dataset", default=cls.DEFAULT_DATASET, choices=cls.DATASETS,
                        help=f"benchmark dataset (default: {cls.DEFAULT_DATASET})")
    parser.add_argument("--metric", default=cls.DEFAULT_METRIC, choices=sorted(cls.METRICS),
                        help=f"metric to optimize (default: {cls.DEFAULT_METRIC}, "
                             f"{cls.METRICS[cls.DEFAULT_METRIC]}d)")


def make_task(evaluator: TabularEvaluator, space: Any, describe: Callable[[Arch], str],
              panels: Callable[[Architecture], list[Any]] | None = None) -> Task:
    """A CLI task that searches `space` with `evaluator` and reports the regret at the end;
    `panels` are the report's view of a best architecture (by default its `describe` text)."""
    def report(result: Any) -> list[str]:
        best, values = evaluator.optimum()
        found = evaluator(result.best_architecture)
        return [f"table optimum on {evaluator.dataset}: {best:.4f} ({describe(values)})",
                f"regret of the best found: {abs(best - found):.4f}"]

    def text_panel(arch: Architecture) -> list[Any]:
        return [Panel("Architecture", describe(arch), code=True)]

    return Task(space=space, objective=evaluator, directions=[evaluator.direction],
                describe=describe, report=report, panels=panels or text_panel)
