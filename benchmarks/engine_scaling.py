"""How fast the engine unfolds and counts spaces, side by side with DeepArchitect.

Times one architecture end to end (build the space, then fully specify it by random
sampling) for the blog's `mobile_net` structure (`da_bridge.spaces.examples.mobile_net_space`)
and for a chain of N blocks (each: a layer with 2 `Discrete` hyperparameters and a
`siso_optional`), at N = 100, 1000, 10000. A linear engine takes about 10x longer per 10x
more blocks.

If `DA_REF` names an extracted checkout of negrinho/deep_architect, the same structures are
written against its API and timed in this process, and the ratios DeepArchitect / da_bridge
are printed for `mobile_net` and the 1000-block chain. The two engines run interleaved
(alternating which goes first) for `--repeats` rounds, so a change in machine load hits
both (for `mobile_net`, each round alternates ten turns of 20 architectures); each ratio is
reported as mean +- standard error over the rounds and the worst round.
The reference is only imported from `DA_REF`; its layers are its own framework-free
`hyperparameter_aggregator`, with constants wrapped in single-valued `Discrete`s as its
framework helpers do. Its N = 10000 chain takes minutes (quadratic naming) and is not run.

It also times `count()`: the chain at N = 100 and 1000, and two of DeepArchitect's own
spaces as ported in `tests/compat/deep_architect` (the genetic space and the benchmark
`conv` space), when that directory is present.

`--clock cpu` times this process's CPU time instead of the wall clock: on a machine shared
with other jobs, waiting for a core then counts for neither engine.

Usage:
    python benchmarks/engine_scaling.py [--quick] [--repeats 7] [--seed 0] [--clock cpu]
    DA_REF=/path/to/deep_architect python benchmarks/engine_scaling.py
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from da_bridge import Bool, Discrete, SearchSpace, basic, siso_optional, siso_sequential
from da_bridge.spaces.examples import mobile_net_space

CHAIN_NS = (100, 1000, 10000)
REPS = {100: 20, 1000: 5, 10000: 3}  # da_bridge repetitions per N
REFERENCE_REPS = {100: 5, 1000: 1}  # N=10000 takes minutes
MOBILE_NET_ARCHS = 200
MOBILE_NET_CHUNK = 20  # architectures per turn: the engines alternate 10 times a round

#: The timer: wall clock by default; `--clock cpu` uses this process's CPU time, which other
#: jobs on a shared machine disturb much less (they still share caches and memory bandwidth).
clock: Callable[[], float] = time.perf_counter


# da_bridge ------------------------------------------------------------------------------------

def _layer(name: str, hyperparameters: dict[str, Any] | None = None) -> Any:
    return basic(name, lambda values: lambda inputs: {"out": inputs["in"]}, hyperparameters or {})


def _chain_block() -> Any:
    return siso_sequential([
        _layer("dense", {"units": Discrete([64, 128, 256]),
                         "activation": Discrete(["relu", "tanh"])}),
        siso_optional(lambda: _layer("dropout"), Bool())])


def chain_space(n: int) -> SearchSpace:
    """`siso_sequential` of `n` blocks: 3n independent hyperparameters."""
    return SearchSpace(lambda: siso_sequential([_chain_block() for _ in range(n)]))


def time_da_bridge(space: SearchSpace, reps: int, seed: int) -> float:
    """Median seconds for one `space.sample` (build + full random specification)."""
    rng, times = random.Random(seed), []
    for _ in range(reps):
        gc.collect()
        start = clock()
        arch = space.sample(rng)
        times.append(clock() - start)
    assert arch.values, "the benchmark space should have hyperparameters"
    return statistics.median(times)


def time_per_architecture(sample_one: Callable[[], Any], count: int) -> float:
    """Seconds per architecture over `count` architectures sampled in a row."""
    gc.collect()
    start = clock()
    for _ in range(count):
        sample_one()
    return (clock() - start) / count


# reference (DeepArchitect) --------------------------------------------------------------------

class Reference:
    """The chain and mobile_net structures written against DeepArchitect's API."""

    def __init__(self, path: str) -> None:
        sys.path.insert(0, path)
        import deep_architect.core as co
        import deep_architect.hyperparameters as hp
        import deep_architect.modules as mo
        import deep_architect.searchers.common as seco
        import numpy as np

        self.path, self.np, self.co, self.hp, self.mo, self.seco = path, np, co, hp, mo, seco

    def layer(self, kind: str, **properties: Any) -> Any:
        wrapped = {k: v if isinstance(v, self.co.Hyperparameter) else self.hp.Discrete([v])
                   for k, v in properties.items()}
        return self.mo.hyperparameter_aggregator(wrapped, name=kind)

    def chain(self, n: int) -> Any:
        def block():
            return self.mo.siso_sequential([
                self.layer("Dense", units=self.hp.Discrete([64, 128, 256]),
                           activation=self.hp.Discrete(["relu", "tanh"])),
                self.mo.siso_optional(lambda: self.layer("Dropout"),
                                      self.hp.Discrete([False, True]))])

        return self.mo.siso_sequential([block() for _ in range(n)])

    def mobile_net(self, n_classes: int = 1000) -> Any:
        """The structure of `da_bridge.spaces.examples.mobile_net_fragment`."""
        d, mo = self.hp.Discrete, self.mo
        h_drop_rate, h_drop_opt = d([0.5, 0.25, 0.125, 0.0625]), d([False, True])
        h_bn_opt, h_kernel_size, h_multiplier = d([False, True]), d([3, 5]), d([1, 2, 4])

        def normalize():
            return [mo.siso_optional(lambda: self.layer("batch_norm"), h_bn_opt),
                    mo.siso_optional(lambda: self.layer("dropout", rate=h_drop_rate), h_drop_opt)]

        def mobile_block(h_filters, stride):
            return mo.siso_sequential([
                self.layer("depthwise_conv", kernel_size=h_kernel_size, strides=stride),
                *normalize(), self.layer("relu"),
                self.layer("conv", filters=h_filters, kernel_size=1), *normalize(),
                self.layer("relu")])

        def block_chain(dh, h_filters):
            blocks = []
            for _ in range(dh["num_reductions"]):
                blocks.append(mobile_block(h_filters, 2))
                blocks.append(mo.siso_repeat(lambda h=h_filters: mobile_block(h, 1), d([1, 3])))
                h_filters = self.co.DependentHyperparameter(
                    lambda v: v["filters"] * v["multiplier"],
                    {"filters": h_filters, "multiplier": h_multiplier})
            return mo.siso_sequential(blocks)

        h_initial_filters = d([16, 32, 64, 128])
        return mo.siso_sequential([
            self.layer("conv", filters=h_initial_filters, kernel_size=d([3, 5, 7]), strides=2),
            *normalize(), self.layer("relu"),
            mo.substitution_module("block_chain", lambda dh: block_chain(dh, h_initial_filters),
                                   {"num_reductions": d([2, 3])}, ["in"], ["out"]),
            self.layer("output", classes=n_classes)])

    def sample(self, search_space_fn: Callable[[], Any]) -> None:
        """Build (resetting the global scope, as its searchers do) and random-specify."""
        inputs, outputs = self.mo.SearchSpaceFactory(search_space_fn).get_search_space()
        self.seco.random_specify(outputs)
        assert self.co.is_specified(outputs)

    def time(self, search_space_fn: Callable[[], Any], reps: int, seed: int) -> float:
        self.np.random.seed(seed)
        times = []
        for _ in range(reps):
            gc.collect()
            start = clock()
            self.sample(search_space_fn)
            times.append(clock() - start)
        return statistics.median(times)


# report ---------------------------------------------------------------------------------------

def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def sci(n: float) -> str:
    """`n` in short scientific notation; exact counts can exceed a float."""
    text = str(n)
    if len(text) <= 6 or not text.isdigit():
        return text
    return f"{text[0]}.{text[1:3]}e{len(text) - 1}"


def mean_se(xs: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(xs)
    se = statistics.stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else 0.0
    return mean, se


def summary(name: str, xs: list[float], worst: Callable[[list[float]], float], goal: str) -> None:
    mean, se = mean_se(xs)
    print(f"  {name:<38} {mean:6.1f}x +- {se:4.1f}  worst {worst(xs):6.1f}x  "
          f"({len(xs)} rounds; goal {goal})", flush=True)


def interleaved(ours: Callable[[], float], theirs: Callable[[], float], rounds: int
                ) -> tuple[list[float], list[float]]:
    """Time both `rounds` times, alternating which goes first."""
    a, b = [], []
    for r in range(rounds):
        if r % 2 == 0:
            a.append(ours())
            b.append(theirs())
        else:
            b.append(theirs())
            a.append(ours())
    return a, b


def chain_table(reference: Reference | None, ns: tuple[int, ...], seed: int) -> None:
    """One row per N: median time per architecture for each engine."""
    print("chain of N blocks (2 Discrete + 1 siso_optional each); time per architecture "
          "(build + random full specification), median")
    print(f"{'N':>6} | {'da_bridge':>10} | {'x prev N':>8} | {'reference':>10}")
    previous = None
    for n in ns:
        ours = time_da_bridge(chain_space(n), REPS[n], seed)
        theirs = None
        if reference is not None and n in REFERENCE_REPS:
            theirs = reference.time(lambda n=n: reference.chain(n), REFERENCE_REPS[n], seed)
        growth = "-" if previous is None else f"{ours / previous:.1f}x"
        print(f"{n:>6} | {fmt(ours):>10} | {growth:>8} | {fmt(theirs):>10}", flush=True)
        previous = ours


def ratios(reference: Reference | None, rounds: int, seed: int) -> None:
    print(f"\nratios, {rounds} interleaved rounds (mean +- SE, worst round)")
    if reference is not None:
        space, rng = mobile_net_space(), random.Random(seed)
        reference.np.random.seed(seed)
        ours, theirs = [], []
        for _ in range(rounds):  # each round alternates short turns, so load drifts hit both
            turns = interleaved(
                lambda: time_per_architecture(lambda: space.sample(rng), MOBILE_NET_CHUNK),
                lambda: time_per_architecture(lambda: reference.sample(reference.mobile_net),
                                              MOBILE_NET_CHUNK),
                MOBILE_NET_ARCHS // MOBILE_NET_CHUNK)
            ours.append(statistics.fmean(turns[0]))
            theirs.append(statistics.fmean(turns[1]))
        print(f"  mobile_net per architecture: da_bridge {fmt(statistics.median(ours))}, "
              f"reference {fmt(statistics.median(theirs))} (medians)")
        summary("reference / da_bridge, mobile_net", [t / o for o, t in zip(ours, theirs)],
                min, ">= 5x")
        chain = chain_space(1000)
        ours, theirs = interleaved(
            lambda: time_da_bridge(chain, 3, seed),
            lambda: reference.time(lambda: reference.chain(1000), 1, seed), rounds)
        print(f"  1000-block chain per architecture: da_bridge {fmt(statistics.median(ours))}, "
              f"reference {fmt(statistics.median(theirs))} (medians)")
        summary("reference / da_bridge, 1000-block chain", [t / o for o, t in zip(ours, theirs)],
                min, ">= 40x")
    small, large = chain_space(1000), chain_space(10000)
    t_small, t_large = interleaved(lambda: time_da_bridge(small, 3, seed),
                                   lambda: time_da_bridge(large, 1, seed), rounds)
    summary("da_bridge chain 10000 / 1000 blocks", [b / a for a, b in zip(t_small, t_large)],
            max, "<= 12x")


def count_times(seed: int) -> None:
    print("\ncount(): seconds per call (median of 3)")
    spaces: list[tuple[str, Callable[[], SearchSpace]]] = [
        ("chain, 100 blocks", lambda: chain_space(100)),
        ("chain, 1000 blocks", lambda: chain_space(1000)),
    ]
    ported = Path(__file__).resolve().parent.parent / "tests" / "compat" / "deep_architect"
    if ported.is_dir():
        sys.path.insert(0, str(ported))
        import da_benchmark_spaces
        import da_genetic_space

        from da_bridge.compat.deep_architect.modules import as_search_space
        spaces += [
            ("DeepArchitect genetic space (ported)", lambda: as_search_space(
                lambda: da_genetic_space.generate_search_space([3, 4, 5], [64, 128, 256],
                                                               [5, 5, 5]))),
            ("DeepArchitect benchmark conv space (ported)", lambda: as_search_space(
                da_benchmark_spaces.get_conv_search_space_fn(10))),
        ]
    for name, make in spaces:
        space, times = make(), []
        for _ in range(3):
            gc.collect()
            start = clock()
            n = space.count()
            times.append(clock() - start)
        print(f"  {name:<45} {fmt(statistics.median(times)):>9}   ({sci(n)} architectures)",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds, no N=10000 row")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds per ratio")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall clock, or this process's CPU time (steadier on a busy machine)")
    args = parser.parse_args()
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 100_000))
    reference = Reference(os.environ["DA_REF"]) if os.environ.get("DA_REF") else None
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {load:.1f}; {args.clock} clock; "
          f"reference: {reference.path if reference else 'not set'}")
    chain_table(reference, CHAIN_NS[:-1] if args.quick else CHAIN_NS, args.seed)
    ratios(reference, 3 if args.quick else args.repeats, args.seed)
    count_times(args.seed)
    if reference is None:
        print("(set DA_REF to an extracted negrinho/deep_architect checkout to time the reference)")


if __name__ == "__main__":
    main()
