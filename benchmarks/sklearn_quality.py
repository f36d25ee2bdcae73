"""Quality of the scikit-learn pipeline search: 5-fold CV accuracy after 50 trials.

For each dataset (digits, wine, breast_cancer) and seed (0, 1, 2), every method gets the
same shuffled, stratified 5 folds and the same budget of trials:

- `svc baseline`: StandardScaler + SVC(C=10, gamma="scale"), hand-tuned, no search.
- `OptunaSearchCV svc`: optuna_integration's OptunaSearchCV (TPE) on the flat space
  StandardScaler + SVC(C in [1e-2, 1e3], gamma in [1e-4, 1], both log scale).
- `random svc`: RandomizedSearchCV on that same flat space.
- `da_bridge optuna`: ArchitectureSearchCV(classification_space()) with the default
  searcher (TPE, multivariate and grouped): imputer, scaler, feature step and six models.
- `da_bridge random`: the same space searched by random sampling.

"CV" is the best mean 5-fold CV accuracy a method found (for the baseline: its only one),
averaged over the seeds; the best of many noisy estimates is optimistic, more so for large
spaces. With `--holdout F`, each search runs on a stratified (1 - F) part and "test" is the
accuracy of the refit best pipeline on the held-out part. "err/base" is the CV error rate
divided by the baseline's (below 1: fewer errors). Reference CV accuracy from the issue:
digits ~0.987, breast_cancer ~0.979, wine ~0.983.

Usage:
    python benchmarks/sklearn_quality.py [--quick] [--trials 50] [--seeds 0 1 2]
                                         [--datasets digits wine breast_cancer]
                                         [--holdout 0.2] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from optuna.distributions import FloatDistribution
from optuna_integration import OptunaSearchCV
from scipy.stats import loguniform
from sklearn import datasets
from sklearn.model_selection import (
    RandomizedSearchCV,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from da_bridge.spaces.sklearn import ArchitectureSearchCV, classification_space

from _common import machine, mean_std, quiet

REFERENCE = {"digits": 0.987, "breast_cancer": 0.979, "wine": 0.983}
LOADERS = {"digits": datasets.load_digits, "wine": datasets.load_wine,
           "breast_cancer": datasets.load_breast_cancer}
C_RANGE, GAMMA_RANGE = (1e-2, 1e3), (1e-4, 1.0)


def svc_pipeline() -> Any:
    return make_pipeline(StandardScaler(), SVC())


def baseline(X, y, folds, trials, seed, jobs) -> tuple[float, Any]:
    model = make_pipeline(StandardScaler(), SVC(C=10.0, gamma="scale"))
    return float(cross_val_score(model, X, y, cv=folds, n_jobs=jobs).mean()), model.fit(X, y)


def optuna_search_cv(X, y, folds, trials, seed, jobs) -> tuple[float, Any]:
    space = {"svc__C": FloatDistribution(*C_RANGE, log=True),
             "svc__gamma": FloatDistribution(*GAMMA_RANGE, log=True)}
    search = OptunaSearchCV(svc_pipeline(), space, cv=folds, n_trials=trials,
                            random_state=seed, n_jobs=1)
    search.fit(X, y)
    return float(search.best_score_), search


def random_svc(X, y, folds, trials, seed, jobs) -> tuple[float, Any]:
    space = {"svc__C": loguniform(*C_RANGE), "svc__gamma": loguniform(*GAMMA_RANGE)}
    search = RandomizedSearchCV(svc_pipeline(), space, n_iter=trials, cv=folds,
                                random_state=seed, n_jobs=jobs)
    search.fit(X, y)
    return float(search.best_score_), search


def da_bridge_search(searcher: str) -> Callable[..., tuple[float, Any]]:
    def run(X, y, folds, trials, seed, jobs) -> tuple[float, Any]:
        space = classification_space(impute=False, n_features=X.shape[1])
        search = ArchitectureSearchCV(space, searcher, n_trials=trials, cv=folds,
                                      random_state=seed, n_jobs=jobs)
        search.fit(X, y)
        return search.best_score_, search

    return run


METHODS = {
    "svc baseline": baseline,
    "OptunaSearchCV svc": optuna_search_cv,
    "random svc": random_svc,
    "da_bridge optuna": da_bridge_search("optuna"),
    "da_bridge random": da_bridge_search("random"),
}


def measure(dataset: str, seed: int, trials: int, holdout: float, jobs: int) -> dict:
    X, y = LOADERS[dataset](return_X_y=True)
    X_test = y_test = None
    if holdout:
        X, X_test, y, y_test = train_test_split(X, y, test_size=holdout, random_state=seed,
                                                stratify=y)
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    rows = {}
    for name, method in METHODS.items():
        started = time.perf_counter()
        cv, model = method(X, y, folds, trials, seed, jobs)
        seconds = time.perf_counter() - started
        test = float(model.score(X_test, y_test)) if holdout else None
        rows[name] = (cv, test, seconds)
        print(f"  {dataset:<13} seed {seed} {name:<20} CV {cv:.4f}"
              + (f"  test {test:.4f}" if test is not None else "") + f"  {seconds:6.1f} s",
              flush=True)
    return rows


def table(results: dict, holdout: float, trials: int, seeds: list[int]) -> str:
    head = f"{'dataset':<14}{'method':<21}{'CV':>16}" + (f"{'test':>16}" if holdout else "") \
        + f"{'err/base':>10}{'time s':>9}{'reference':>11}"
    lines = [f"5-fold CV accuracy after {trials} trials, mean ± std over seeds {seeds}", head,
             "-" * len(head)]
    for dataset, by_method in results.items():
        base_error = 1 - statistics.mean(r[0] for r in by_method["svc baseline"])
        for name, rows in by_method.items():
            cv = [r[0] for r in rows]
            line = f"{dataset:<14}{name:<21}{mean_std(cv):>16}"
            if holdout:
                line += f"{mean_std([r[1] for r in rows]):>16}"
            ratio = (1 - statistics.mean(cv)) / base_error if base_error > 0 else float("nan")
            line += f"{ratio:>10.2f}{statistics.mean(r[2] for r in rows):>9.1f}"
            line += f"{REFERENCE[dataset]:>11.3f}" if name.startswith("da_bridge") else ""
            lines.append(line)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 trials, seed 0 only")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", choices=sorted(LOADERS),
                        default=["digits", "wine", "breast_cancer"])
    parser.add_argument("--holdout", type=float, default=0.0,
                        help="fraction held out for a test score (default: none)")
    parser.add_argument("--jobs", type=int, default=min(5, os.cpu_count() or 1),
                        help="folds fitted in parallel (default: min(5, CPUs))")
    args = parser.parse_args()
    if args.quick:
        args.trials, args.seeds = 10, [0]
    quiet()
    # OptunaSearchCV imports optuna.terminator, deprecated in Optuna 4.9
    warnings.filterwarnings("ignore", message=".*optuna.terminator", category=FutureWarning)
    print(f"{machine()}, {args.trials} trials, seeds {args.seeds}", flush=True)
    results: dict[str, dict[str, list]] = {}
    for dataset in args.datasets:
        results[dataset] = {name: [] for name in METHODS}
        for seed in args.seeds:
            for name, row in measure(dataset, seed, args.trials, args.holdout,
                                     args.jobs).items():
                results[dataset][name].append(row)
    print()
    print(table(results, args.holdout, args.trials, args.seeds))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
