"""Throughput of 1, 2, 4 and 8 worker processes on one PostgreSQL study, direct and via the proxy.

Every trial's objective sleeps 0.5 s, so the cores are not the limit: with k workers the
study should finish k times faster, less what the store costs. The same number of trials
is run for each k (split evenly between the workers, `run_worker(n_trials=...)`), each k in
a fresh study, once with the workers on the database (`postgresql://...`) and once through
one storage proxy (`da-bridge proxy`, workers on `grpc://...`), the two interleaved, each
k and mode repeated (`--repeats`, default 3: mean +- standard error and the worst repeat).

The space is the poster space with two training choices added (learning rate, batch size:
3.75 million architectures), and the score a hash of the architecture: on the poster space
alone TPE soon proposes architectures it has scored, which are recorded without running the
objective (so one worker seemed faster than the objective allows). The table says how many
trials ran the objective.

Throughput is given twice: over the trials (the store's own timestamps, first trial start to
last trial end: the workers' process start-up and imports are left out, as in a long-running
worker: each imports the sampler, the adapters and the storage client before the workers start
together, and `--cold-store` leaves the storage client's imports to after; each worker's
opening of the store and the study is in the span; the study is created before they start, as
in real use), steady (each worker's trials after its first, see `--timeline`) and raw (the
parent's wall clock from starting the worker processes to their exit: start-up included).

CPU per trial is process CPU time (robust on a busy machine, unlike wall time): the
workers' (sampler, adapter, storage client) from their first objective call on (opening the
store and the study are start-up), the proxy's and the PostgreSQL server's (when this script
started it) over the whole run. The machine's load average is printed: on a busy machine the
workers wait for the cores and the speed-up falls.

`--history 100 1000 5000` measures instead what one more trial costs one worker (zero-cost
objective) in a study that already holds that many finished trials, direct and via the
proxy.

    python benchmarks/workers.py [--storage URL] [--trials 48] [--sleep 0.5]
                                 [--workers 1 2 4 8] [--modes direct proxy] [--repeats 3]
    python benchmarks/workers.py --history 100 1000 5000

The default run takes about 5 minutes on an idle 2-core machine (3 repeats x 8 runs; one
worker alone needs 48 x 0.5 s per run). Without --storage it starts a throwaway server with
.ci/pg_start.sh (and stops it at the end); DA_BRIDGE_TEST_POSTGRES_URL is used when set
(then the server's CPU is not measured).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import optuna

from da_bridge import Discrete, SearchSpace, search, siso_sequential
from da_bridge.adapters.optuna import suggest_architecture
from da_bridge.spaces.examples import op, poster_fragment
from da_bridge.study.store import open_storage
from da_bridge.study.worker import run_worker

ROOT = Path(__file__).parents[1]
TICK = os.sysconf("SC_CLK_TCK")


def bench_space() -> SearchSpace:
    """The poster space and two training choices: 25,008 x 150 architectures."""
    def fragment():
        rates = [round(10 ** (-4 + i / 8), 6) for i in range(25)]
        return siso_sequential([poster_fragment(), op("train", {
            "lr": Discrete(rates), "batch": Discrete([16, 32, 64, 128, 256, 512])})])

    return SearchSpace(fragment)


def score(arch) -> float:
    """A score in [0, 1) that only this architecture has (TPE cannot settle on one early)."""
    text = json.dumps(arch.json_values(), sort_keys=True).encode()
    return int(hashlib.sha256(text).hexdigest()[:12], 16) / 16 ** 12


class Objective:
    """Sleeps, scores; notes the CPU time at its first call (what came before is start-up)
    and how often it ran (a repeated architecture is recorded without it)."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.calls, self.cpu, self.wall = seconds, 0, math.nan, math.nan
        # (start, end) of each call, epoch seconds, and the process's CPU time at both
        self.times: list[tuple[float, float, float, float]] = []

    def __call__(self, arch) -> float:
        if not self.calls:
            self.cpu, self.wall = time.process_time(), time.perf_counter()
        self.calls += 1
        start, cpu = time.time(), time.process_time()
        if self.seconds:
            time.sleep(self.seconds)
        self.times.append((start, time.time(), cpu, time.process_time()))
        return score(arch)


def work(url: str, study: str, n_trials: int, seed: int, sleep: float, searcher: str,
         cpu: multiprocessing.Queue, ready: multiprocessing.Barrier, warm_store: bool) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Warm up (lazy imports of the sampler and the adapters), as a long-running worker is,
    # then start together: staggered imports on busy cores are start-up, not throughput.
    search(bench_space(), score, searcher, n_trials=3, storage=":memory:")
    if warm_store:  # the storage client's imports too (SQLAlchemy's ORM, the driver,
        # gRPC), by opening the store once (not with --cold-store); opening it again is left
        # after the barrier
        opened = open_storage(url, study)
        engine = getattr(opened, "engine", None)
        if engine is not None:
            engine.dispose()
    ready.wait()
    released = time.time()
    objective = Objective(sleep)
    run_worker(url, study, objective, bench_space(), n_trials=n_trials, seed=seed,
               searcher=searcher, direction="maximize")
    # from the first objective call on: that trial's tell and n_trials - 1 whole trials
    cpu.put((time.process_time() - objective.cpu, n_trials - 1, objective.calls,
             (released, objective.times, time.time())))


class Meter:
    """CPU seconds of the proxy process and of the PostgreSQL server (its processes)."""

    def __init__(self, proxy_pid: int | None, postmaster: int | None) -> None:
        self.proxy_pid, self.postmaster = proxy_pid, postmaster

    def read(self) -> tuple[float, float]:
        return (_cpu(self.proxy_pid) if self.proxy_pid else math.nan,
                _server_cpu(self.postmaster) if self.postmaster else math.nan)


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def _cpu(pid: int, children: bool = False) -> float:
    fields = _stat(pid)
    if fields is None:
        return 0.0
    used = int(fields[11]) + int(fields[12])  # utime, stime
    if children:  # the backends that ended (reaped by the postmaster)
        used += int(fields[13]) + int(fields[14])
    return used / TICK


def _server_cpu(postmaster: int) -> float:
    total = _cpu(postmaster, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == postmaster:
                total += _cpu(int(entry.name))
    return total


def run(url: str, mode: str, workers: int, trials: int, sleep: float, searcher: str,
        meter: Meter, database: str, warm_store: bool = True) -> dict:
    study = f"bench-{mode}-{workers}-{uuid.uuid4().hex[:8]}"
    # created before the workers start, as a real study is (else they race to create it)
    optuna.create_study(storage=database, study_name=study, direction="maximize")
    context = multiprocessing.get_context("spawn")
    cpu_seconds = context.Queue()
    ready = context.Barrier(workers)
    processes = [context.Process(target=work, args=(url, study, trials // workers, seed, sleep,
                                                    searcher, cpu_seconds, ready, warm_store))
                 for seed in range(workers)]
    started = time.perf_counter()
    before = meter.read()
    for process in processes:
        process.start()
    # before join: a full queue blocks exit
    reports = [cpu_seconds.get() for _ in processes]
    spent, counted, ran = (sum(r[i] for r in reports) for i in range(3))
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise SystemExit(f"a worker failed with exit code {process.exitcode}")
    after = meter.read()
    total = time.perf_counter() - started
    done = optuna.load_study(study_name=study, storage=database).get_trials()
    if len(done) != trials or any(t.state.name != "COMPLETE" for t in done):
        raise SystemExit(f"{mode} x{workers}: {len(done)} trials, not {trials} complete")
    first = min(t.datetime_start for t in done)
    span = (max(t.datetime_complete for t in done) - first).total_seconds()
    ends: dict[int, list] = {}  # each worker's trial ends, by its process (the trial's owner)
    for t in done:
        ends.setdefault(t.user_attrs["da_bridge.owner"]["pid"], []).append(t.datetime_complete)
    # steady: what the workers sustain once running: each worker's trials after its first over
    # the time from its first trial's end to its last's (no start-up, no uneven finish)
    steady = sum((len(e) - 1) / (max(e) - min(e)).total_seconds() for e in ends.values()) \
        if all(len(e) > 1 for e in ends.values()) else math.nan
    timeline = {"workers": [r[3] for r in reports], "first": first.timestamp(),
                "last": max(t.datetime_complete for t in done).timestamp()}
    return {"mode": mode, "workers": workers, "trials": trials, "span": span, "total": total,
            "timeline": timeline, "steady": steady,
            "rate": trials / span, "raw": trials / total, "cpu": spent / counted, "ran": ran,
            "load": os.getloadavg()[0],
            "proxy": (after[0] - before[0]) / trials, "server": (after[1] - before[1]) / trials}


@contextmanager
def postgres(url: str | None):
    """The database URL and the server's postmaster pid (None when not started here)."""
    url = url or os.environ.get("DA_BRIDGE_TEST_POSTGRES_URL")
    if url:
        yield url, None
        return
    folder = tempfile.mkdtemp(prefix="da_bridge_bench_pg_")
    started = subprocess.run(["bash", str(ROOT / ".ci" / "pg_start.sh"), folder],
                             capture_output=True, text=True, check=False)
    if started.returncode != 0:
        raise SystemExit(f"cannot start PostgreSQL: {started.stderr.strip()}")
    try:
        pid = int((Path(folder) / "data" / "postmaster.pid").read_text().split()[0])
        yield started.stdout.strip().splitlines()[-1], pid
    finally:
        subprocess.run(["bash", str(ROOT / ".ci" / "pg_stop.sh"), folder], capture_output=True,
                       check=False)


@contextmanager
def proxy(url: str):
    """A `da-bridge proxy` process in front of `url`: its grpc:// URL and pid."""
    process = subprocess.Popen([sys.executable, "-m", "da_bridge", "proxy", "--storage", url,
                                "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        if "grpc://" not in line:
            raise SystemExit(f"the proxy did not start: {line}")
        yield "grpc://" + line.rsplit("grpc://", 1)[1].strip(), process.pid
    finally:
        process.terminate()
        process.wait(30)


def _mean_se(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f}+-{statistics.stdev(values) / len(values) ** 0.5:.2f}"


def timeline(row: dict, sleep: float) -> None:
    """Where one run's span went, worker by worker (times in ms)."""
    line = row["timeline"]
    zero = line["first"]  # the store's first trial start
    ms = lambda t: (t - zero) * 1e3  # noqa: E731
    print(f"timeline {row['mode']} x{row['workers']}: ms from the first trial's start in the "
          f"store; span {row['span']:.3f} s, last trial end {ms(line['last']):.0f}")
    print(f"{'worker':>6} {'released':>8} {'1st obj':>7} {'last end':>8} {'exit':>6}  "
          "gaps between objective calls (tell + ask), ms (the worker's CPU in them)")
    ends = []
    for i, (released, times, exited) in enumerate(sorted(line["workers"],
                                                            key=lambda w: w[1][0][0])):
        gaps = [b[0] - a[1] for a, b in zip(times, times[1:])]
        cpus = [b[2] - a[3] for a, b in zip(times, times[1:])]
        over = [t[1] - t[0] - sleep for t in times]
        ends.append((times[-1][1], ms(times[0][0]), sum(gaps), sum(over)))
        print(f"{i:>6} {ms(released):>8.0f} {ms(times[0][0]):>7.0f} {ms(times[-1][1]):>8.0f} "
              f"{ms(exited):>6.0f}  " + " ".join(f"{g * 1e3:.0f} ({c * 1e3:.0f})"
                                                   for g, c in zip(gaps, cpus, strict=True))
              + f"  (sleep overshoot {sum(over) * 1e3:.0f})")
    end, head, gaps, over = max(ends)
    rounds = row["trials"] // row["workers"]
    lost = row["span"] - rounds * sleep
    print(f"lost {lost * 1e3:.0f} ms (span less {rounds} x {sleep} s); the "
          f"last worker to finish: head (its first objective's start) {head:.0f} ms, its gaps "
          f"{gaps * 1e3:.0f} ms, sleep overshoot {over * 1e3:.0f} ms, tail (its last tell) "
          f"{(line['last'] - end) * 1e3:.0f} ms; mean gap after round 1, 2, ...: "
          + " ".join(f"{statistics.mean(r) * 1e3:.0f}" for r in zip(*(
              [b[0] - a[1] for a, b in zip(t, t[1:])] for _, t, _ in line["workers"]))))


def throughput(args: argparse.Namespace, database: str, postmaster: int | None) -> None:
    load = os.getloadavg()
    started = time.perf_counter()
    with proxy(database) as (grpc_url, proxy_pid):
        meter = Meter(proxy_pid, postmaster)
        urls = {"direct": database, "proxy": grpc_url}
        rows = []
        for _ in range(args.repeats):
            for k in args.workers:
                for mode in args.modes:  # interleaved: the machine's load hits both alike
                    rows.append(run(urls[mode], mode, k, args.trials, args.sleep,
                                    args.searcher, meter, database, not args.cold_store))
    if args.timeline:
        for row in rows:
            if row["workers"] == args.workers[-1]:
                timeline(row, args.sleep)
    loads = [r["load"] for r in rows]
    print(f"{args.trials} trials per run, objective sleeps {args.sleep} s, searcher "
          f"{args.searcher}, PostgreSQL, {args.repeats} interleaved repeat(s)"
          f"{', --cold-store' if args.cold_store else ''}, "
          f"{time.perf_counter() - started:.0f} s in all; {os.cpu_count()} cores, load average "
          f"{load[0]:.1f} before, {min(loads):.1f}-{max(loads):.1f} during, "
          f"{os.getloadavg()[0]:.1f} after")
    head = f"{'workers':>7}"
    for mode in args.modes:
        head += (f" | {mode + ' trials/s':>15} {'speed-up':>12} {'worst':>6} {'raw':>6}"
                 f" {'steady':>6}"
                 f" {'worker CPU':>10} {'proxy CPU':>9} {'server CPU':>10}")
    print(head)
    speedups: dict[str, dict[int, list[float]]] = {m: {} for m in args.modes}
    steadies: dict[str, dict[int, list[float]]] = {m: {} for m in args.modes}
    for k in args.workers:
        line = f"{k:>7}"
        for mode in args.modes:
            mine = [r for r in rows if r["mode"] == mode and r["workers"] == k]
            base = [r for r in rows if r["mode"] == mode and r["workers"] == args.workers[0]]
            ups = [r["rate"] / b["rate"] for r, b in zip(mine, base, strict=True)]
            raw = [r["raw"] / b["raw"] for r, b in zip(mine, base, strict=True)]
            steady = [r["steady"] / b["steady"] for r, b in zip(mine, base, strict=True)]
            speedups[mode][k] = ups
            steadies[mode][k] = steady
            ms = [statistics.mean(r[key] for r in mine) * 1e3 for key in ("cpu", "proxy",
                                                                            "server")]
            line += (f" | {_mean_se([r['rate'] for r in mine]):>15} "
                     f"{_mean_se(ups) + 'x':>12} {min(ups):>5.2f}x "
                     f"{statistics.mean(raw):>5.2f}x {statistics.mean(steady):>5.2f}x "
                     + " ".join(f"{'-' if math.isnan(v) else f'{v:.1f} ms':>{w}}"
                                for v, w in zip(ms, (10, 9, 10), strict=True)))
        print(line)
    top = args.workers[-1]
    for mode in args.modes:
        up = statistics.mean(speedups[mode][top])
        one = statistics.mean(r["cpu"] for r in rows
                              if r["mode"] == mode and r["workers"] == args.workers[0]) * 1e3
        steady = statistics.mean(steadies[mode][top])
        print(f"goal {mode}: {top} workers >= {0.875 * top:.0f}x one (over the trials): "
              f"{'met' if up >= 0.875 * top else 'NOT met'} ({up:.2f}x; steady {steady:.2f}x, "
              f"not the goal's figure); worker CPU per trial "
              f"at {args.workers[0]} worker <= 20 ms: {'met' if one <= 20 else 'NOT met'} "
              f"({one:.1f} ms)")
    ran = sum(r["ran"] for r in rows)
    print(f"the objective ran in {ran} of {len(rows) * args.trials} trials (the others "
          "repeated an architecture already scored)")
    print("trials/s and speed-up: over the trials (first start to last end in the store; "
          "worst: the lowest repeat); raw: the speed-up of the wall time from starting the "
          "worker processes to their exit (start-up included); steady: the speed-up of the sum "
          "over workers of (its trials - 1) / (its last trial's end - its first trial's end) in "
          "the store: what running workers sustain, without the start-up of the others during "
          "the first trials and the uneven finish (a diagnostic, not the goal's figure). CPU "
          "columns: process CPU time per trial of the workers (sampler, adapter, storage "
          "client), the proxy process and the PostgreSQL server processes ('-': not measured).")


def history(args: argparse.Namespace, database: str, postmaster: int | None) -> None:
    """Per-trial cost of one worker in a study already holding N finished trials."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = bench_space()
    made = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0),
                               direction="maximize")
    for _ in range(max(args.history)):
        trial = made.ask()
        made.tell(trial, score(suggest_architecture(trial, space)))
    name = f"history-{uuid.uuid4().hex[:8]}"
    storage = optuna.storages.RDBStorage(database)
    target = optuna.create_study(storage=storage, study_name=name, direction="maximize")
    search(space, score, "optuna", n_trials=3, storage=":memory:")  # warm up
    print(f"one worker, zero-cost objective, {args.probe} trials per point, bench space; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{'finished':>8} {'mode':>6} {'wall/trial':>11} {'worker CPU':>11} "
          f"{'proxy CPU':>10} {'server CPU':>11} {'objective ran':>13}")
    with proxy(database) as (grpc_url, proxy_pid):
        meter = Meter(proxy_pid, postmaster)
        for size in sorted(args.history):
            held = len(target.get_trials(deepcopy=False))
            target.add_trials(made.trials[held:size])
            for mode, url in (("direct", database), ("proxy", grpc_url)):
                # one run of 1 trial and one of probe + 1: the difference is probe trials
                # (opening the store and the study cancel out; TPE may repeat architectures
                # here, so the objective cannot mark where start-up ends)
                spent = []
                for n_trials in (1, 1, args.probe + 1):  # the first: the proxy reads the
                    # trials added since its last look (a one-off, left out)
                    objective = Objective(0)
                    before, cpu, wall = meter.read(), time.process_time(), time.perf_counter()
                    run_worker(url, name, objective, space, n_trials=n_trials,
                               seed=size + n_trials, direction="maximize")
                    after = meter.read()
                    spent.append((time.process_time() - cpu, time.perf_counter() - wall,
                                  after[0] - before[0], after[1] - before[1]))
                cells = [(long - short) / args.probe * 1e3
                         for short, long in zip(*spent[1:], strict=True)]
                print(f"{size:>8} {mode:>6} {cells[1]:>8.1f} ms {cells[0]:>8.1f} ms "
                      + " ".join(f"{'-' if math.isnan(v) else f'{v:.1f} ms':>{w}}"
                                 for v, w in zip(cells[2:], (10, 11), strict=True))
                      + f" {objective.calls:>6} of {args.probe + 1}")
            print(f"{'':>8} load average {os.getloadavg()[0]:.1f}")
    storage.engine.dispose()
    print("per trial: a worker of probe + 1 trials less a worker of 1 (opening the store and "
          "the study cancel out); the worker's sampler models the best 25 and the last 500 "
          "finished trials (run_worker's default), so past ~525 trials its cost stays flat")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", help="a PostgreSQL URL (default: start a server)")
    parser.add_argument("--trials", type=int, default=48, help="trials per run (default 48)")
    parser.add_argument("--sleep", type=float, default=0.5, help="seconds per objective")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--modes", nargs="+", default=["direct", "proxy"],
                        choices=["direct", "proxy"])
    parser.add_argument("--repeats", type=int, default=3,
                        help="interleaved repeats (default 3)")
    parser.add_argument("--searcher", default="optuna")
    parser.add_argument("--cold-store", action="store_true",
                        help="leave the storage client's imports (SQLAlchemy, the driver, "
                             "gRPC) to after the workers start together, as before 8 "
                             "December 2026: they then land in the span")
    parser.add_argument("--timeline", action="store_true",
                        help="print where each run's span went, for the most workers")
    parser.add_argument("--history", type=int, nargs="+", metavar="N",
                        help="measure one worker's per-trial cost at N finished trials")
    parser.add_argument("--probe", type=int, default=20,
                        help="trials per --history point (default 20)")
    args = parser.parse_args()
    if any(args.trials % k for k in args.workers):
        parser.error("--trials must be a multiple of every --workers count")
    with postgres(args.storage) as (url, postmaster):
        if args.history:
            history(args, url, postmaster)
        else:
            throughput(args, url, postmaster)


if __name__ == "__main__":
    main()
