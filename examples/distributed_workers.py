"""Many worker processes share one study: start N workers against one storage and watch them.

    python examples/distributed_workers.py postgresql+psycopg2://user:pw@host:5432/db
    DA_BRIDGE_STORAGE=postgresql+psycopg2://... python examples/distributed_workers.py
    python examples/distributed_workers.py            # no URL: a journal file, runs anywhere

Each worker is a separate process running `da_bridge.study.worker.run_worker` with the same
storage and study name; the first one creates the study, the others join it. The same
works across machines: run `da-bridge worker` (or this `run_worker` call) on each one
against a PostgreSQL URL. Options: --workers N (default 4), --trials T (default 40; the
study's total, split between the workers), --searcher NAME (default optuna).
DA_BRIDGE_FAST=1 runs a small, quick version.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import time
import uuid
from collections import Counter

import optuna

from da_bridge.adapters.optuna import VALUES_ATTR
from da_bridge.spaces.examples import poster_space
from da_bridge.study.store import load_study
from da_bridge.study.worker import run_worker

FAST = bool(os.environ.get("DA_BRIDGE_FAST"))


def train(arch) -> float:
    """A stand-in for training: takes a moment, prefers wide and shallow networks."""
    time.sleep(0.02 if FAST else 0.3)
    width = sum(v for k, v in arch.values.items() if k.endswith("filters"))
    depth = sum(1 for k in arch.values if k.endswith("filters"))
    return width / 128 - 0.8 * depth


def worker(storage: str | None, study: str, n_trials: int, seed: int, searcher: str) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    result = run_worker(storage, study, train, poster_space(), n_trials=n_trials, seed=seed,
                        searcher=searcher, direction="maximize")
    print(f"worker {seed} (pid {os.getpid()}): ran trials {result.trials}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("storage", nargs="?", default=os.environ.get("DA_BRIDGE_STORAGE"),
                        help="storage URL (default: env DA_BRIDGE_STORAGE, else a journal file)")
    parser.add_argument("--workers", type=int, default=2 if FAST else 4)
    parser.add_argument("--trials", type=int, default=8 if FAST else 40)
    parser.add_argument("--searcher", default="optuna")
    args = parser.parse_args()
    study = f"distributed-{uuid.uuid4().hex[:6]}"
    where = (re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", args.storage) if args.storage
             else "a journal file in ./da_runs (set DA_BRIDGE_RUNS to move it)")
    print(f"{args.workers} workers, {args.trials} trials, study {study!r} in {where}")

    context = multiprocessing.get_context("spawn")  # fresh processes, as on other machines
    share, extra = divmod(args.trials, args.workers)
    processes = [context.Process(target=worker, args=(args.storage, study,
                                                      share + (i < extra), i, args.searcher))
                 for i in range(args.workers)]
    started = time.perf_counter()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    seconds = time.perf_counter() - started

    trials = load_study(study, args.storage).trials
    states = Counter(t.state.name for t in trials)
    print(f"{len(trials)} trials in {seconds:.1f} s: {dict(states)}; "
          f"numbers unique: {len({t.number for t in trials}) == len(trials)}")
    best = max((t for t in trials if t.state.name == "COMPLETE"), key=lambda t: t.value)
    print(f"best trial {best.number}: score {best.value:.3f}")
    print(f"best values map: {best.user_attrs[VALUES_ATTR]}")
    if any(p.exitcode for p in processes):
        raise SystemExit("a worker failed")


if __name__ == "__main__":
    main()
