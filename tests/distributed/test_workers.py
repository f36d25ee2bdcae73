"""Many worker processes on one PostgreSQL study: exact counts, crash safety, clean stops.

Each test gets a fresh database, so the first workers also race to create
Optuna's tables. Worker processes are real `da-bridge worker` processes. Every test
runs twice: the workers on the database directly, and through a real storage proxy
process (`da-bridge proxy`, workers on `grpc://...`); the checks read the database.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest

from da_bridge.adapters.optuna import VALUES_ATTR
from da_bridge.searchers import RandomSearcher
from da_bridge.spaces.examples import poster_space
from da_bridge.study import INTERRUPTED_ATTR, run_worker

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WORKLOAD = Path(__file__).with_name("workload.py")
HEARTBEAT = ["--heartbeat-interval", "1", "--grace-period", "3"]



@pytest.fixture(params=["direct", "proxy"])
def storage(request, database):
    """The URL the workers use: the database itself, or a `da-bridge proxy` in front of it."""
    if request.param == "direct":
        yield database
        return
    proxy = subprocess.Popen([sys.executable, "-m", "da_bridge", "proxy", "--storage", database,
                              "--port", "0"], text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    try:
        line = proxy.stdout.readline()
        assert "grpc://" in line, line + proxy.stdout.read()
        yield "grpc://" + line.rsplit("grpc://", 1)[1].strip()
    finally:
        proxy.send_signal(signal.SIGTERM)
        code = proxy.wait(30)
    assert code == 0, proxy.stdout.read()


def start_worker(url, study, *options, env=None, objective="sleepy"):
    command = [sys.executable, "-m", "da_bridge", "worker", "poster", "--objective",
               f"{WORKLOAD}:{objective}", "--storage", url, "--study", study, *options]
    return subprocess.Popen(command, env={**os.environ, **(env or {})}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process, timeout=240):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out + err


def trials_of(url, study):
    storage = optuna.storages.RDBStorage(url)
    try:
        return optuna.load_study(study_name=study, storage=storage).get_trials()
    finally:
        storage.engine.dispose()


def states(trials):
    return Counter(t.state.name for t in trials)


def wait_for(condition, timeout=120, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_four_workers_times_25_trials_give_exactly_100_unique_trials(database, storage):
    workers = [start_worker(storage, "shared", "--trials", "100", "--per-worker", "25",
                            "--searcher", "random", "--seed", str(i))
               for i in range(4)]
    for worker in workers:
        code, output = finish(worker)
        assert code == 0, output
        assert "ran 25 trials" in output
    trials = trials_of(database, "shared")
    assert states(trials) == {"COMPLETE": 100}
    assert sorted(t.number for t in trials) == list(range(100))
    assert all(VALUES_ATTR in t.user_attrs for t in trials)
    assert optuna.get_all_study_names(database) == ["shared"]  # created once


def test_workers_racing_for_the_last_places_stop_at_exactly_the_target(database, storage):
    workers = [start_worker(storage, "target", "--trials", "24", "--searcher", "random",
                            "--seed", str(i), env={"DA_BRIDGE_TEST_SLEEP": "0"})
               for i in range(4)]
    ran = 0
    for worker in workers:
        code, output = finish(worker)
        assert code == 0, output
        ran += int(output.split("ran ")[1].split()[0])
    trials = trials_of(database, "target")
    assert states(trials) == {"COMPLETE": 24} and ran == 24


def test_a_killed_workers_trial_fails_is_retried_and_keeps_its_architecture(database, storage,
                                                                           tmp_path):
    hang = tmp_path / "hang"
    victim = start_worker(storage, "crash", "--trials", "12", *HEARTBEAT,
                          env={"DA_BRIDGE_TEST_HANG": str(hang)})
    wait_for(hang.exists, what="the victim to start its trial")
    time.sleep(1.5)  # a heartbeat or two
    victim.send_signal(signal.SIGKILL)
    victim.wait(30)
    running = [t for t in trials_of(database, "crash") if t.state.name == "RUNNING"]
    assert len(running) == 1
    killed = running[0]
    survivors = [start_worker(storage, "crash", "--trials", "12", *HEARTBEAT,
                              env={"DA_BRIDGE_TEST_SLEEP": "0.2"}) for _ in range(2)]
    for worker in survivors:
        code, output = finish(worker)
        assert code == 0, output
    trials = trials_of(database, "crash")
    counts = states(trials)
    assert counts["COMPLETE"] == 12
    assert counts["FAIL"] == 1 and "RUNNING" not in counts and "WAITING" not in counts
    dead = next(t for t in trials if t.number == killed.number)
    assert dead.state.name == "FAIL"
    assert dead.user_attrs[VALUES_ATTR] == killed.user_attrs[VALUES_ATTR]
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retried) == 1 and retried[0].state.name == "COMPLETE"
    assert retried[0].user_attrs[VALUES_ATTR] == killed.user_attrs[VALUES_ATTR]
    assert retried[0].params == killed.params


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["int", "term"])
def test_a_signal_stops_a_worker_cleanly_and_a_restart_completes_the_study(
        database, storage, tmp_path, stop_signal):
    trace = tmp_path / "trace"
    # 2 s objectives: on a loaded machine the signal must still land inside the third one
    env = {"DA_BRIDGE_TEST_SLEEP": "2.0", "DA_BRIDGE_TEST_TRACE": str(trace)}
    worker = start_worker(storage, "stop", "--trials", "6", *HEARTBEAT, env=env)
    wait_for(lambda: trace.exists() and len(trace.read_text().splitlines()) >= 3,
             what="the third trial")
    time.sleep(0.3)  # inside the third trial's objective
    worker.send_signal(stop_signal)
    code, output = finish(worker, timeout=60)
    assert code == 128 + stop_signal, output
    assert f"stopped by {stop_signal.name}" in output
    trials = trials_of(database, "stop")
    assert states(trials) == {"COMPLETE": 2, "FAIL": 1, "WAITING": 1}
    failed = next(t for t in trials if t.state.name == "FAIL")
    assert failed.user_attrs[INTERRUPTED_ATTR] == stop_signal.name
    queued = next(t for t in trials if t.state.name == "WAITING")
    assert queued.system_attrs["failed_trial"] == failed.number
    assert queued.user_attrs[VALUES_ATTR] == failed.user_attrs[VALUES_ATTR]

    # Without SPACE: the restarted worker reads it from the study.
    restart = subprocess.run(
        [sys.executable, "-m", "da_bridge", "worker", "--objective", f"{WORKLOAD}:sleepy",
         "--storage", storage, "--study", "stop", "--trials", "6", *HEARTBEAT],
        env={**os.environ, "DA_BRIDGE_TEST_SLEEP": "0.05"}, capture_output=True, text=True,
        timeout=240)
    assert restart.returncode == 0, restart.stdout + restart.stderr
    trials = trials_of(database, "stop")
    assert states(trials) == {"COMPLETE": 6, "FAIL": 1}
    rerun = next(t for t in trials if t.system_attrs.get("failed_trial") == failed.number)
    assert rerun.state.name == "COMPLETE"


def test_a_signal_stops_a_python_worker_with_a_quota_too(database, storage, tmp_path):
    trace = tmp_path / "trace"
    script = (f"import sys; sys.path.insert(0, {str(WORKLOAD.parent)!r})\n"
              "from workload import sleepy\n"
              "from da_bridge.spaces.examples import poster_space\n"
              "from da_bridge.study.worker import run_worker\n"
              f"r = run_worker({storage!r}, 'quota', sleepy, poster_space(), n_trials=10,\n"
              "               direction='maximize', heartbeat_interval=1)\n"
              "print('interrupted', r.interrupted, 'ran', r.trials)\n")
    worker = subprocess.Popen([sys.executable, "-c", script], text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE,
                              env={**os.environ, "DA_BRIDGE_TEST_SLEEP": "2.0",
                                   "DA_BRIDGE_TEST_TRACE": str(trace)})
    wait_for(lambda: trace.exists() and len(trace.read_text().splitlines()) >= 2,
             what="the second trial")
    time.sleep(0.3)
    worker.send_signal(signal.SIGTERM)
    code, output = finish(worker, timeout=60)
    assert code == 0 and "interrupted SIGTERM ran [0, 1]" in output, output
    assert states(trials_of(database, "quota")) == {"COMPLETE": 1, "FAIL": 1, "WAITING": 1}


def _searchers():
    for name in ("random", "evolution", "hyperopt", "skopt"):
        module = {"hyperopt": "da_bridge.adapters.hyperopt", "skopt": "da_bridge.adapters.skopt",
                  "evolution": "da_bridge.searchers.evolution"}.get(name)
        missing = module is not None and importlib.util.find_spec(module) is None
        marks = [pytest.mark.skip(reason=f"{module} is not written yet")] if missing else []
        yield pytest.param(name, id=name, marks=marks)


@pytest.mark.parametrize("searcher", list(_searchers()))
def test_every_searcher_works_distributed(database, storage, searcher):
    workers = [start_worker(storage, searcher, "--trials", "16", "--searcher", searcher,
                            "--seed", str(i), env={"DA_BRIDGE_TEST_SLEEP": "0.1"})
               for i in range(2)]
    for worker in workers:
        code, output = finish(worker)
        assert code == 0, output
    trials = trials_of(database, searcher)
    assert states(trials)["COMPLETE"] == 16
    space = poster_space()
    for t in trials:
        assert space.replay(t.user_attrs[VALUES_ATTR]).json_values() == t.user_attrs[VALUES_ATTR]


class RecordingSearcher(RandomSearcher):
    """Random search that remembers what the store told it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.restored = []

    def restore(self, history):
        history = list(history)
        self.restored.extend(history)
        super().restore(history)


def test_a_searcher_learns_every_other_workers_trials_before_it_asks(database, storage):
    others = [start_worker(storage, "learn", "--trials", "10", "--searcher", "random",
                           "--seed", str(i)) for i in range(2)]
    for worker in others:
        assert finish(worker)[0] == 0
    searcher = RecordingSearcher(poster_space(), seed=5)
    result = run_worker(storage, "learn", lambda arch: 1.0, poster_space(), max_trials=12,
                        searcher=searcher, direction="maximize", heartbeat_interval=1)
    assert len(result.trials) == 2
    first_ten = {str(t.user_attrs[VALUES_ATTR]) for t in trials_of(database, "learn")
                 if t.number < 10}
    assert first_ten <= {str(values) for values, _ in searcher.restored}
    assert all(score is not None for _, score in searcher.restored[:10])


def test_workers_on_a_dask_cluster_fill_the_study(database):
    from dask import distributed

    from da_bridge.study.dask_workers import run_on_dask

    def sleepy(arch):  # a closure: it travels to the Dask workers by value
        time.sleep(0.1)
        return float(len(arch.values))

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        result = run_on_dask(client, database, "dask", sleepy, poster_space(), max_trials=10,
                             searcher="random", direction="maximize", heartbeat_interval=1)
    trials = trials_of(database, "dask")
    assert states(trials)["COMPLETE"] == 10
    assert sorted(result.trials) == sorted(t.number for t in trials)


def start_proxy_process(database, port):
    proxy = subprocess.Popen([sys.executable, "-m", "da_bridge", "proxy", "--storage", database,
                              "--port", str(port)], text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    line = proxy.stdout.readline()
    assert "grpc://" in line, line + proxy.stdout.read()
    return proxy


def count_or_zero(database, study):
    try:
        return len(trials_of(database, study))
    except KeyError:  # no such study yet
        return 0


def test_a_worker_rides_out_a_proxy_restart(database):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proxy = start_proxy_process(database, port)
    worker = start_worker(f"grpc://127.0.0.1:{port}", "restart", "--trials", "20", *HEARTBEAT,
                          env={"DA_BRIDGE_TEST_SLEEP": "0.3"})
    try:
        wait_for(lambda: count_or_zero(database, "restart") >= 4, what="four trials")
        proxy.send_signal(signal.SIGTERM)
        assert proxy.wait(30) == 0
        time.sleep(3)  # the worker's calls fail meanwhile and are retried
        proxy = start_proxy_process(database, port)
        code, output = finish(worker)
    finally:
        proxy.send_signal(signal.SIGTERM)
        proxy.wait(30)
    assert code == 0, output
    assert f"the storage proxy 'grpc://127.0.0.1:{port}' cannot be reached" in output, output
    assert "is back after" in output
    assert states(trials_of(database, "restart")) == {"COMPLETE": 20}


def test_a_worker_stops_in_one_line_naming_the_proxy_when_it_stays_away(database):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proxy = start_proxy_process(database, port)
    url = f"grpc://127.0.0.1:{port}"
    worker = start_worker(url, "gone", "--trials", "200", "--db-retry", "3", *HEARTBEAT,
                          env={"DA_BRIDGE_TEST_SLEEP": "0.2"})
    try:
        wait_for(lambda: count_or_zero(database, "gone") >= 2, what="two trials")
        proxy.send_signal(signal.SIGTERM)
        assert proxy.wait(30) == 0
        code, output = finish(worker)
    finally:
        if proxy.poll() is None:
            proxy.send_signal(signal.SIGTERM)
            proxy.wait(30)
    assert code == 2, output
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("da-bridge: error")]
    assert len(errors) == 1, output
    assert f"the storage proxy '{url}' could not be reached for" in errors[0], errors[0]
    assert "database" not in errors[0] and "--db-retry" in errors[0], errors[0]
