"""How the engine's cost grows with the size of a space, next to DeepArchitect's.

Times one architecture end to end (build the space, then fully specify it by
random sampling) for a chain of N blocks (each: a layer with 2 `Discrete`
hyperparameters and a `siso_optional`) at N = 100, 1000, 10000, and for the
blog's `mobile_net` structure (`da_bridge.spaces.examples.mobile_net_space`).
A linear engine takes about 10x longer per 10x more blocks.

If `DA_REF` names an extracted checkout of negrinho/deep_architect, the same
structures are written against its API and timed in this process, and the
table shows both side by side. The reference is only imported from `DA_REF`;
its layers are its own framework-free `hyperparameter_aggregator`, with
constants wrapped in single-valued `Discrete`s as its framework helpers do.
Its N = 10000 chain takes minutes (quadratic naming); `--quick` skips it.

Usage:
    python benchmarks/engine_scaling.py [--quick] [--seed 0]
    DA_REF=/path/to/deep_architect python benchmarks/engine_scaling.py --quick
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from da_bridge import Bool, Discrete, SearchSpace, basic, siso_optional, siso_sequential
from da_bridge.spaces.examples import mobile_net_space

CHAIN_NS = (100, 1000, 10000)
REPS = {100: 20, 1000: 5, 10000: 3}  # da_bridge repetitions per N
REFERENCE_REPS = {100: 5, 1000: 3, 10000: 1}
MOBILE_NET_ARCHS = 200


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
        start = time.perf_counter()
        arch = space.sample(rng)
        times.append(time.perf_counter() - start)
    assert arch.values, "the benchmark space should have hyperparameters"
    return statistics.median(times)


def time_per_architecture(sample_one: Callable[[], Any], count: int) -> float:
    """Seconds per architecture over `count` architectures sampled in a row."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(count):
        sample_one()
    return (time.perf_counter() - start) / count


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
            start = time.perf_counter()
            self.sample(search_space_fn)
            times.append(time.perf_counter() - start)
        return statistics.median(times)


# report ---------------------------------------------------------------------------------------

def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else f"{a / b:.1f}x"


HEADER = ("N", "da_bridge", "x prev N", "reference", "x prev N", "reference/da_bridge")
WIDTHS = (6, 10, 9, 10, 9, 20)


def print_row(cells: tuple[str, ...]) -> None:
    print(" | ".join(c.rjust(w) for c, w in zip(cells, WIDTHS)), flush=True)


def chain_table(reference: Reference | None, quick: bool, seed: int) -> None:
    """Time the chain at every N and print one row per N as soon as it is measured."""
    print("chain of N blocks (2 Discrete + 1 siso_optional each); time per architecture "
          "(build + random full specification)")
    print_row(HEADER)
    print("-+-".join("-" * w for w in WIDTHS))
    previous: tuple[float | None, float | None] = (None, None)
    for n in CHAIN_NS:
        ours, theirs = time_da_bridge(chain_space(n), REPS[n], seed), None
        skipped = reference is not None and quick and n == max(CHAIN_NS)
        if reference is not None and not skipped:
            theirs = reference.time(lambda n=n: reference.chain(n), REFERENCE_REPS[n], seed)
        print_row((str(n), fmt(ours), ratio(ours, previous[0]),
                   "skipped" if skipped else fmt(theirs), ratio(theirs, previous[1]),
                   ratio(theirs, ours)))
        previous = (ours, theirs)


def mobile_net_line(reference: Reference | None, seed: int) -> None:
    space, rng = mobile_net_space(), random.Random(seed)
    ours = time_per_architecture(lambda: space.sample(rng), MOBILE_NET_ARCHS)
    theirs = None
    if reference is not None:
        reference.np.random.seed(seed)
        theirs = time_per_architecture(lambda: reference.sample(reference.mobile_net),
                                       MOBILE_NET_ARCHS)
    print(f"mobile_net (blog structure), per architecture over {MOBILE_NET_ARCHS} samples: "
          f"da_bridge {fmt(ours)} | reference {fmt(theirs)} | reference/da_bridge "
          f"{ratio(theirs, ours)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the reference at N=10000")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 100_000))
    reference = Reference(os.environ["DA_REF"]) if os.environ.get("DA_REF") else None
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs; reference: {reference.path if reference else 'not set'}")
    chain_table(reference, args.quick, args.seed)
    print()
    mobile_net_line(reference, args.seed)
    if reference is None:
        print("(set DA_REF to an extracted negrinho/deep_architect checkout to time the reference)")
    elif args.quick:
        print("(--quick: reference chain at N=10000 skipped; it takes about 3 minutes)")


if __name__ == "__main__":
    main()
