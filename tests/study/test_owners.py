"""No trial stays RUNNING: a dead process's trials are failed, with the reason, and retried.

Real `da-bridge search` processes killed (SIGKILL, SIGTERM) or ended by their objective
(`sys.exit`), then resumed; the heavy test kills at random moments many times.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from da_bridge.cli import main
from da_bridge.errors import StoreError
from da_bridge.study import ERROR_ATTR, OWNER_ATTR, VALUES_ATTR
from da_bridge.study.store import load_study

OBJECTIVES = Path(__file__).with_name("objectives.py")


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DA_BRIDGE_RUNS", raising=False)
    return tmp_path / "da_runs"


def command(study, trials, *options, resume=False):
    return [sys.executable, "-m", "da_bridge", "search", "poster", "--objective",
            f"{OBJECTIVES}:sleepy", "--study", study, "--trials", str(trials), "--searcher",
            "random", "--no-progress", *(["--resume"] if resume else []), *options]


def start(study, trials, env=None, resume=False):
    return subprocess.Popen(command(study, trials, resume=resume), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})


def wait_for_line(path: Path, n: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never had {n} lines")


def trials(study):
    return load_study(study).get_trials()


def states(study):
    return Counter(t.state.name for t in trials(study))


def resume(study, trials_wanted):
    done = subprocess.run(command(study, trials_wanted, resume=True), capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.timeout(180)
@pytest.mark.parametrize("how", ["SIGKILL", pytest.param("SIGTERM", marks=pytest.mark.slow),
                                 pytest.param("sys.exit", marks=pytest.mark.slow)])
def test_a_trial_its_process_left_running_is_failed_and_retried_on_resume(tmp_path, how,
                                                                          capsys):
    started = tmp_path / "started"
    env = {"DA_BRIDGE_TEST_STARTED": str(started), "DA_BRIDGE_TEST_SLEEP": "60"}
    if how == "sys.exit":
        env.update(DA_BRIDGE_TEST_EXIT_AT="0", DA_BRIDGE_TEST_SLEEP="0.01")
    process = start("victim", 4, env)
    wait_for_line(started, 1)
    if how != "sys.exit":
        process.send_signal(getattr(signal, how))
    process.communicate(timeout=60)
    before = {t.number: t for t in trials("victim")}
    victim = before[0]
    if how == "SIGTERM":  # handled like Ctrl-C: the trial is failed at once
        assert victim.state.name == "FAIL" and victim.user_attrs["da_bridge.interrupted"]
    else:
        assert victim.state.name == "RUNNING"
        assert victim.user_attrs[OWNER_ATTR]["pid"] == process.pid
    resume("victim", 3)
    after = {t.number: t for t in trials("victim")}
    assert after[0].state.name == "FAIL"
    assert states("victim") == {"COMPLETE": 3, "FAIL": 1}
    if how == "SIGTERM":
        return
    assert f"pid {process.pid}" in after[0].user_attrs[ERROR_ATTR]
    retried = [t for t in after.values() if t.system_attrs.get("failed_trial") == 0]
    assert len(retried) == 1 and retried[0].state.name == "COMPLETE"
    assert retried[0].user_attrs[VALUES_ATTR] == victim.user_attrs[VALUES_ATTR]
    capsys.readouterr()
    assert main(["show", "--study", "victim"]) == 0  # and `show` says why it failed
    assert f"trial 0 failed: its process (pid {process.pid}" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_on_sqlite_too_a_killed_search_leaves_no_running_trial(tmp_path):
    started, storage = tmp_path / "started", f"sqlite:///{tmp_path / 'runs.db'}"
    process = subprocess.Popen(command("lite", 3, "--storage", storage), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "DA_BRIDGE_TEST_STARTED": str(started),
                                    "DA_BRIDGE_TEST_SLEEP": "60"})
    wait_for_line(started, 1)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert [t.state.name for t in load_study("lite", storage).trials] == ["RUNNING"]
    done = subprocess.run(command("lite", 2, "--storage", storage, resume=True),
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    counts = Counter(t.state.name for t in load_study("lite", storage).trials)
    assert counts == {"COMPLETE": 2, "FAIL": 1}


@pytest.mark.slow
def test_a_live_process_keeps_its_running_trial(tmp_path):
    started = tmp_path / "started"
    env = {"DA_BRIDGE_TEST_STARTED": str(started), "DA_BRIDGE_TEST_SLEEP": "3"}
    first = start("shared", 2, env)
    wait_for_line(started, 1)
    from da_bridge import search
    from da_bridge.spaces.examples import poster_space

    search(poster_space(), lambda arch: 1.0, n_trials=1, study_name="shared", seed=1,
           direction="maximize")
    assert first.wait(120) == 0
    counts = states("shared")
    assert counts["COMPLETE"] >= 2 and set(counts) == {"COMPLETE"}


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_kills_at_random_moments_lose_no_finished_trial_and_leave_none_running(runs_dir):
    rng = random.Random(22)
    kept: dict[int, dict] = {}
    target, left_running, cut = 0, 0, 0
    journal = runs_dir / "random.journal"
    for _ in range(30):
        target += 8
        sig = rng.choice([signal.SIGKILL, signal.SIGKILL, signal.SIGTERM])
        process = start("random", target, {"DA_BRIDGE_TEST_SLEEP": "0.2"},
                        resume=journal.exists())
        time.sleep(rng.uniform(0.5, 4.0))  # a random moment, whatever the process is doing
        process.send_signal(sig)
        process.communicate(timeout=120)
        cut += journal.exists() and not journal.read_bytes().endswith(b"\n")
        try:
            study = load_study("random")  # opens: repairs what the kill damaged
        except StoreError:  # killed before it created the study
            assert not kept
            continue
        now = {t.number: t for t in study.get_trials()}
        for number, values in kept.items():
            assert now[number].state.name == "COMPLETE"
            assert now[number].user_attrs[VALUES_ATTR] == values
        kept.update({n: t.user_attrs[VALUES_ATTR] for n, t in now.items()
                     if t.state.name == "COMPLETE"})
        left_running += any(t.state.name == "RUNNING" for t in now.values())
    final = len(kept) + 3
    resume("random", final)
    now = {t.number: t for t in trials("random")}
    assert all(now[n].user_attrs[VALUES_ATTR] == v for n, v in kept.items())
    counts = Counter(t.state.name for t in now.values())
    assert counts["COMPLETE"] == final and "RUNNING" not in counts and "WAITING" not in counts
    print(f"30 kills: {left_running} left a RUNNING trial, {cut} a cut journal line; "  # noqa: T201
          f"{len(kept)} finished trials kept; final states {dict(counts)}")
    assert left_running >= 5  # the kills did hit running trials
