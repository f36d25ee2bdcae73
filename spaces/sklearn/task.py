"""The CLI task `da-bridge search sklearn`: search pipelines for a dataset or a CSV file.

The data is split once into a training part, searched by cross-validation,
and a held-out test part, scored once with the best pipeline at the end.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from da_bridge._imports import require
from da_bridge.architecture import Architecture
from da_bridge.errors import OptionError
from da_bridge.study.tasks import Panel, Task

from .builtin import CLASSIFIERS, REGRESSORS, classification_space, regression_space
from .code import pipeline_code
from .compile import to_pipeline
from .data import DATASETS, TASKS, Dataset, load_csv, load_dataset
from .objective import cross_val_objective, quiet_fits, seeded


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `da-bridge search sklearn` (see `make_task`)."""
    group = parser.add_argument_group("sklearn task")
    group.add_argument("--dataset", choices=sorted(DATASETS),
                       help="a scikit-learn toy dataset (default: digits)")
    group.add_argument("--csv", metavar="FILE", help="a CSV file with a header row")
    group.add_argument("--target", metavar="COL", help="the CSV column to predict")
    group.add_argument("--task", choices=TASKS, help="override the kind of task inferred "
                                                     "from the CSV target")
    group.add_argument("--models", metavar="NAMES",
                       help=f"comma-separated models to choose from (classifiers: "
                            f"{','.join(CLASSIFIERS)}; regressors: {','.join(REGRESSORS)})")
    group.add_argument("--cv", type=_at_least(2), default=5, metavar="N",
                       help="cross-validation folds (default: 5)")
    group.add_argument("--cv-jobs", type=_at_least(1), metavar="N",
                       help="folds fitted in parallel processes (default: min(folds, CPUs))")
    group.add_argument("--scoring", metavar="NAME",
                       help="a scikit-learn scorer name (default: accuracy or r2)")
    group.add_argument("--test-size", type=float, default=0.25, metavar="FRACTION",
                       help="held-out fraction for the final test score (default: 0.25)")
    group.add_argument("--split-seed", type=int, default=0, metavar="SEED",
                       help="seed of the train/test split and the folds (default: 0)")


def make_task(args: argparse.Namespace) -> Task:
    """The space, objective, description and final report for the parsed options.

    Example:
        >>> import argparse
        >>> from da_bridge.spaces.sklearn.task import add_arguments, make_task
        >>> parser = argparse.ArgumentParser()
        >>> add_arguments(parser)
        >>> task = make_task(parser.parse_args(["--dataset", "iris", "--cv", "3"]))
        >>> task.directions, len(task.objective.splits)
        (['maximize'], 3)
    """
    data = _load(args)
    if not 0 < args.test_size < 1:
        raise OptionError(f"--test-size must be between 0 and 1; got {args.test_size}")
    classification = data.task == "classification"
    X_train, X_test, y_train, y_test = _split(data, args.test_size, args.split_seed)
    scoring = args.scoring or ("accuracy" if classification else "r2")
    objective = cross_val_objective(
        X_train, y_train, cv=_folds(args.cv, classification, args.split_seed), scoring=scoring,
        classifier=classification, n_jobs=args.cv_jobs or min(args.cv, os.cpu_count() or 1),
        random_state=0)
    space = _space(data, args.models)
    context = _Context(data, scoring, objective, X_train, X_test, y_train, y_test, args.cv)
    return Task(space, objective, ["maximize"], describe=context.describe, panels=context.panels,
                confirm=context.confirm,
                report=context.report)


class _Context:
    """What the final report needs: the split, the scorer and the objective."""

    def __init__(self, data: Dataset, scoring: str, objective: Any, *split: Any) -> None:
        self.data, self.scoring, self.objective = data, scoring, objective
        self.X_train, self.X_test, self.y_train, self.y_test, self.cv = split
        self.started = time.perf_counter()

    def describe(self, arch: Architecture) -> str:
        """The pipeline as scikit-learn code, with the random state the trials used."""
        return pipeline_code(self.objective.pipeline(arch))

    def panels(self, arch: Architecture) -> list[Panel]:
        """The report's view of a pipeline: the scikit-learn code that builds it."""
        return [Panel("scikit-learn code", self.describe(arch), code=True)]

    def confirm(self, arch: Architecture, seed: int) -> list[float]:
        """Cross-validate `arch` again with folds and estimator seeds drawn from `seed`."""
        model_selection = require("sklearn.model_selection", "sklearn")
        folds = _folds(self.cv, self.data.task == "classification", seed)
        with quiet_fits(convergence=True):
            result = model_selection.cross_validate(
                seeded(to_pipeline(arch), seed), self.X_train, self.y_train, cv=folds,
                scoring=self.scoring, n_jobs=self.objective.n_jobs, error_score="raise")
        return [float(s) for s in result["test_score"]]

    def report(self, result: Any) -> list[str]:
        if not any(t.state.name == "COMPLETE" for t in result.trials):
            return []
        metrics = require("sklearn.metrics", "sklearn")
        started = time.perf_counter()
        threadpoolctl = require("threadpoolctl", "sklearn")
        # one thread, like the fold workers: oversubscribed BLAS/OpenMP threads can make
        # small fits a hundred times slower on a busy machine
        with quiet_fits(), threadpoolctl.threadpool_limits(1):
            pipeline = self.objective.pipeline(result.best_architecture)
            pipeline.fit(self.X_train, self.y_train)
        test = metrics.get_scorer(self.scoring)(pipeline, self.X_test, self.y_test)
        return [
            f"dataset: {self.data.name} ({self.data.task}, {len(self.y_train)} rows searched, "
            f"{len(self.y_test)} held out)",
            f"CV {self.scoring} ({self.cv} folds): {result.best_score:.4f}",
            f"held-out test {self.scoring}: {test:.4f}",
            f"time: {time.perf_counter() - self.started:.1f} s in all "
            f"(refit and test {time.perf_counter() - started:.1f} s)",
            f"study {result.study.study_name!r}: da-bridge show --study "
            f"{result.study.study_name}",
        ]


def _load(args: argparse.Namespace) -> Dataset:
    if args.csv:
        if args.dataset:
            raise OptionError("give --dataset or --csv, not both")
        if not args.target:
            raise OptionError("--csv needs --target COL, the column to predict")
        return load_csv(args.csv, args.target, task=args.task)
    if args.target or args.task:
        raise OptionError("--target and --task go with --csv FILE")
    return load_dataset(args.dataset or "digits")


def _space(data: Dataset, models: str | None) -> Any:
    names = [m.strip() for m in models.split(",") if m.strip()] if models else None
    allowed = CLASSIFIERS if data.task == "classification" else REGRESSORS
    if names is not None and not set(names) <= set(allowed):
        raise OptionError(f"--models {models!r}: choose among {','.join(allowed)} for "
                         f"{data.task}")
    options: dict[str, Any] = {"models": names, "impute": data.missing,
                               "n_features": data.n_features}
    if data.categorical_columns:
        options.update(numeric_columns=data.numeric_columns,
                       categorical_columns=data.categorical_columns)
    if data.task == "classification":
        return classification_space(**options)
    return regression_space(**options)


def _split(data: Dataset, test_size: float, seed: int) -> list[Any]:
    model_selection = require("sklearn.model_selection", "sklearn")
    np = require("numpy", "sklearn")
    stratify = None
    if data.task == "classification":
        _, counts = np.unique(np.asarray(data.y).astype(str), return_counts=True)
        stratify = data.y if counts.min() >= 2 else None
    return model_selection.train_test_split(data.X, data.y, test_size=test_size,
                                            random_state=seed, stratify=stratify)


def _folds(n: int, classification: bool, seed: int) -> Any:
    model_selection = require("sklearn.model_selection", "sklearn")
    if classification:
        return model_selection.StratifiedKFold(n, shuffle=True, random_state=seed)
    return model_selection.KFold(n, shuffle=True, random_state=seed)


def _at_least(low: int) -> Any:
    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}; got {value}")
        return value

    return parse
