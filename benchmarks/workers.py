"""Throughput of 1, 2 and 4 worker processes sharing one study on PostgreSQL.

Every trial's objective sleeps 0.5 s, so the cores are not the limit: with k
workers the study should finish k times faster, less what the store costs.
The same number of trials is run for each k (split evenly between the
workers, `run_worker(n_trials=...)`), each k in a fresh study. Times come from
the store's own timestamps (first trial start to last trial end), so process
start-up and imports are left out (each worker warms up on a few in-memory
trials first, as a long-running worker has, and all start together); the whole time is
printed apart. Prints trials/s and
the speed-up over one worker side by side (goal: 4 workers >= 3.5x), and the
store overhead per trial: each worker's time per trial minus the sleep.

    python benchmarks/workers.py [--storage URL] [--trials 48] [--sleep 0.5]
                                 [--workers 1 2 4] [--searcher optuna]

Without --storage it uses DA_BRIDGE_TEST_POSTGRES_URL, else starts a throwaway
server with .ci/pg_start.sh (and stops it at the end).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import optuna

from da_bridge import search
from da_bridge.spaces.examples import poster_space
from da_bridge.study.worker import run_worker

ROOT = Path(__file__).parents[1]


def sleeper(seconds: float):
    def objective(arch) -> float:
        time.sleep(seconds)
        return float(sum(v for k, v in arch.values.items() if k.endswith("filters")))

    return objective


def work(url: str, study: str, n_trials: int, seed: int, sleep: float, searcher: str,
         cpu: multiprocessing.Queue, ready: multiprocessing.Barrier) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Warm up (lazy imports of the sampler and the adapters), as a long-running worker is,
    # then start together: staggered imports on busy cores are start-up, not throughput.
    search(poster_space(), sleeper(0), searcher, n_trials=3, storage=":memory:")
    ready.wait()
    started = time.process_time()
    run_worker(url, study, sleeper(sleep), poster_space(), n_trials=n_trials, seed=seed,
               searcher=searcher, direction="maximize")
    cpu.put(time.process_time() - started)


def run(url: str, workers: int, trials: int, sleep: float, searcher: str) -> dict:
    study = f"bench-{workers}-{uuid.uuid4().hex[:8]}"
    context = multiprocessing.get_context("spawn")
    cpu_seconds = context.Queue()
    ready = context.Barrier(workers)
    processes = [context.Process(target=work, args=(url, study, trials // workers, seed, sleep,
                                                    searcher, cpu_seconds, ready))
                 for seed in range(workers)]
    started = time.perf_counter()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise SystemExit(f"a worker failed with exit code {process.exitcode}")
    total = time.perf_counter() - started
    cpu = sum(cpu_seconds.get() for _ in processes)
    done = optuna.load_study(study_name=study, storage=url).get_trials()
    assert len(done) == trials and all(t.state.name == "COMPLETE" for t in done), len(done)
    first = min(t.datetime_start for t in done)
    span = (max(t.datetime_complete for t in done) - first).total_seconds()
    per_worker = trials // workers
    return {"workers": workers, "span": span, "total": total,
            "rate": trials / span, "overhead": span / per_worker - sleep, "cpu": cpu / trials,
            "in_trial": statistics.mean((t.datetime_complete - t.datetime_start).total_seconds()
                                        for t in done) - sleep}


@contextmanager
def postgres(url: str | None):
    url = url or os.environ.get("DA_BRIDGE_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    folder = tempfile.mkdtemp(prefix="da_bridge_bench_pg_")
    started = subprocess.run(["bash", str(ROOT / ".ci" / "pg_start.sh"), folder],
                             capture_output=True, text=True, check=False)
    if started.returncode != 0:
        raise SystemExit(f"cannot start PostgreSQL: {started.stderr.strip()}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(ROOT / ".ci" / "pg_stop.sh"), folder], capture_output=True,
                       check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", help="a PostgreSQL URL (default: start a server)")
    parser.add_argument("--trials", type=int, default=48, help="trials per run (default 48)")
    parser.add_argument("--sleep", type=float, default=0.5, help="seconds per objective")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--searcher", default="optuna")
    args = parser.parse_args()
    if any(args.trials % k for k in args.workers):
        parser.error("--trials must be a multiple of every --workers count")
    load = os.getloadavg()[0]
    with postgres(args.storage) as url:
        rows = [run(url, k, args.trials, args.sleep, args.searcher) for k in args.workers]
    base = rows[0]["rate"]
    print(f"{args.trials} trials per run, objective sleeps {args.sleep} s, "
          f"searcher {args.searcher}, PostgreSQL; {os.cpu_count()} cores, load average "
          f"{load:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"{'workers':>7} {'span s':>8} {'trials/s':>9} {'speed-up':>9} "
          f"{'overhead/trial':>15} {'in-trial':>9} {'worker CPU/trial':>17} {'with start-up':>14}")
    for row in rows:
        print(f"{row['workers']:>7} {row['span']:>8.2f} {row['rate']:>9.2f} "
              f"{row['rate'] / base:>8.2f}x {row['overhead'] * 1e3:>12.0f} ms "
              f"{row['in_trial'] * 1e3:>6.0f} ms {row['cpu'] * 1e3:>14.0f} ms "
              f"{row['total']:>12.2f} s")
    last = rows[-1]
    print(f"goal: {last['workers']} workers >= 3.5x one worker: "
          f"{'met' if last['rate'] / base >= 3.5 else 'NOT met'} ({last['rate'] / base:.2f}x)")
    print("overhead/trial: each worker's time per trial minus the sleep (ask, store writes, "
          "tell); in-trial: the part between the trial's start and end; worker CPU/trial: "
          "the workers' CPU time in run_worker over the trials. The overhead is CPU "
          "work, so it grows when other processes keep the cores busy.")


if __name__ == "__main__":
    main()
