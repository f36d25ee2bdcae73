"""Overhead of `suggest_architecture` over hand-written `trial.suggest_*` calls.

The same conditional space (the poster's: a conv, an optional dropout, two
chains of n and 2n convs) is searched twice with the same sampler and seed
and a trivial objective, in memory: once written by hand with native Optuna
calls, once as a da_bridge space through `suggest_architecture`. Prints both
times and their ratio (goal: <= 1.10 with TPE). Runs alternate to spread
machine noise over both.

    python benchmarks/optuna_overhead.py [--trials 300] [--repeats 3] [--sampler tpe|random]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import optuna

from da_bridge.adapters.optuna import suggest_architecture
from da_bridge.spaces.examples import poster_space


def native_objective(trial: optuna.Trial) -> float:
    total = trial.suggest_categorical("conv.filters", [64, 128])
    if trial.suggest_categorical("optional.include", [False, True]):
        trial.suggest_categorical("optional/dropout.rate", [0.25, 0.5])
    n = trial.suggest_categorical("chain1.n", [1, 2, 4])
    for i in range(n):
        total += trial.suggest_categorical(f"chain1/{i}/conv.filters", [64, 128])
    for i in range(2 * n):
        total += trial.suggest_categorical(f"chain2/{i}/conv.filters", [64, 128])
    return total


def bridge_objective(space):
    def objective(trial: optuna.Trial) -> float:
        arch = suggest_architecture(trial, space)
        return sum(v for k, v in arch.values.items() if k.endswith("filters"))

    return objective


def make_sampler(kind: str, seed: int) -> optuna.samplers.BaseSampler:
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(multivariate=True, group=True, seed=seed)


def timed(objective, kind: str, trials: int, seed: int) -> tuple[float, float]:
    study = optuna.create_study(direction="maximize", sampler=make_sampler(kind, seed))
    start = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    return time.perf_counter() - start, study.best_value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sampler", choices=("tpe", "random"), default="tpe")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = poster_space()
    native, bridge = [], []
    for seed in range(args.repeats):
        native.append(timed(native_objective, args.sampler, args.trials, seed))
        bridge.append(timed(bridge_objective(space), args.sampler, args.trials, seed))
    t_native = statistics.median(t for t, _ in native)
    t_bridge = statistics.median(t for t, _ in bridge)
    print(f"{args.trials} trials, sampler={args.sampler}, median of {args.repeats} runs")
    print(f"{'native suggest_*':<24}{t_native:8.2f} s   best {[b for _, b in native]}")
    print(f"{'suggest_architecture':<24}{t_bridge:8.2f} s   best {[b for _, b in bridge]}")
    print(f"{'ratio bridge/native':<24}{t_bridge / t_native:8.3f}   (goal <= 1.10)")
    per_trial = (t_bridge - t_native) / args.trials * 1e3
    print(f"{'overhead per trial':<24}{per_trial:8.3f} ms")


if __name__ == "__main__":
    main()
