"""Workers ride out a PostgreSQL restart, and stop in one line when the outage outlasts --db-retry.

Each test starts its own throwaway server (it is stopped under the running workers), with
`.ci/pg_start.sh`; `pg_ctl stop -m fast` stops it, `.ci/pg_start.sh` on the same folder
starts it again on the same port with the same data.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).parents[2]
WORKLOAD = Path(__file__).with_name("workload.py")


def _as_owner() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class Server:
    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="da_bridge_pg_restart_")
        self.url = self.start()

    def start(self) -> str:
        done = subprocess.run(["bash", str(ROOT / ".ci" / "pg_start.sh"), self.folder],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.skip(f"no PostgreSQL server: {done.stderr.strip()[-200:]}")
        return done.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        pg_ctl = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
        subprocess.run([*_as_owner(), pg_ctl, "-D", f"{self.folder}/data", "-m", "fast", "-w",
                        "stop"], check=True, capture_output=True, timeout=120)

    def remove(self) -> None:
        subprocess.run(["bash", str(ROOT / ".ci" / "pg_stop.sh"), self.folder],
                       capture_output=True, timeout=120)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def server():
    server = Server()
    yield server
    server.remove()


def start_worker(url, study, *options, sleep="0.3"):
    command = [sys.executable, "-m", "da_bridge", "worker", "poster", "--objective",
               f"{WORKLOAD}:sleepy", "--storage", url, "--study", study, "--searcher",
               "random", "--heartbeat-interval", "1", "--grace-period", "5", *options]
    return subprocess.Popen(command, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "DA_BRIDGE_TEST_SLEEP": sleep})


def trial_states(url, study):
    storage = optuna.storages.RDBStorage(url)
    try:
        trials = optuna.load_study(study_name=study, storage=storage).get_trials()
    finally:
        storage.engine.dispose()
    return Counter(t.state.name for t in trials)


def wait_for_complete(url, study, n, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if trial_states(url, study)["COMPLETE"] >= n:
                return
        except KeyError:  # the workers have not created the study yet
            pass
        time.sleep(0.2)
    raise AssertionError(f"{study} never had {n} complete trials")


@pytest.mark.timeout(600)
def test_three_workers_ride_out_a_12_second_database_stop(server):
    workers = [start_worker(server.url, "restart", "--trials", "40", "--seed", str(i),
                            "--db-retry", "120") for i in range(3)]
    wait_for_complete(server.url, "restart", 6)
    server.stop()
    time.sleep(12)  # the outage the workers must ride out (scenario, not a check)
    server.start()
    outputs = []
    for worker in workers:
        out, err = worker.communicate(timeout=400)
        outputs.append(err)
        assert worker.returncode == 0, err
        assert "Traceback" not in err, err
    assert any("cannot be reached" in err for err in outputs)
    counts = trial_states(server.url, "restart")
    assert counts["COMPLETE"] == 40
    assert "RUNNING" not in counts and "WAITING" not in counts


@pytest.mark.timeout(300)
def test_a_worker_stops_in_one_line_when_the_outage_outlasts_db_retry(server):
    worker = start_worker(server.url, "gone", "--trials", "200", "--db-retry", "5",
                          sleep="0.2")
    wait_for_complete(server.url, "gone", 2)
    server.stop()
    out, err = worker.communicate(timeout=200)
    assert worker.returncode != 0
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("da-bridge: error")]
    assert len(errors) == 1 and "could not be reached" in errors[0], err
    assert "--db-retry" in errors[0]
