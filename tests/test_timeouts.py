"""`with_trial_timeout`: a child process per evaluation, killed at the deadline."""

from __future__ import annotations

import math
import multiprocessing
import os
import subprocess
import time
from pathlib import Path

import optuna
import pytest

from da_bridge import search
from da_bridge.errors import ObjectiveCrashError, TrialTimeoutError
from da_bridge.spaces.examples import poster_space
from da_bridge.study.timeouts import with_trial_timeout


def width(arch) -> float:
    return float(sum(v for k, v in arch.values.items() if k.endswith("filters")))


def test_the_trial_timeout_forwards_reports_pruning_and_errors():
    def objective(arch, trial):
        trial.report(1.0, step=0)
        trial.set_user_attr("seen", trial.number)
        if trial.should_prune():
            raise optuna.TrialPruned()
        raise KeyError("missing layer")

    result = search(poster_space(), with_trial_timeout(objective, 30), n_trials=1,
                    storage=":memory:", pruner=optuna.pruners.ThresholdPruner(upper=0.5))
    trial = result.trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert trial.intermediate_values == {0: 1.0} and trial.user_attrs["seen"] == 0
    with pytest.raises(KeyError, match="missing layer"):
        search(poster_space(), with_trial_timeout(objective, 30), n_trials=1,
               storage=":memory:", catch=())


def test_an_objective_that_kills_its_process_is_named_under_a_trial_timeout():
    def crashes(arch):
        os._exit(3)

    with pytest.raises(ObjectiveCrashError, match=r"trial 0: the objective process died "
                                                  r"\(exit code 3\)"):
        search(poster_space(), with_trial_timeout(crashes, 30), n_trials=1, storage=":memory:",
               catch=())


def test_what_the_objective_starts_is_killed_with_it(tmp_path):
    pid_file = tmp_path / "pid"

    def starts_a_process_and_hangs(arch):
        helper = subprocess.Popen(["sleep", "600"])
        pid_file.write_text(str(helper.pid))
        time.sleep(600)

    with pytest.raises(TrialTimeoutError):
        search(poster_space(), with_trial_timeout(starts_a_process_and_hangs, 1.0), n_trials=1,
               storage=":memory:", catch=())
    assert not _running(int(pid_file.read_text()))


def _running(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state in ("Z", "X"):
            return False
        time.sleep(0.1)
    return True


def test_the_objective_may_use_processes_of_its_own():
    def with_a_pool(arch):
        with multiprocessing.get_context("fork").Pool(2) as pool:
            return float(sum(pool.map(abs, [-1, -2])))

    result = search(poster_space(), with_trial_timeout(with_a_pool, 60), n_trials=1,
                    storage=":memory:", catch=())
    assert result.best_score == 3.0


def test_scores_and_exceptions_come_back_as_they_were():
    class Odd(Exception):
        def __init__(self, a, b):  # does not unpickle: comes back by name
            super().__init__(f"{a}/{b}")

    def raises_odd(arch):
        raise Odd(1, 2)

    with pytest.raises(ObjectiveCrashError, match=r"the objective raised Odd: 1/2"):
        search(poster_space(), with_trial_timeout(raises_odd, 30), n_trials=1,
               storage=":memory:", catch=())
    result = search(poster_space(), with_trial_timeout(width, 30), n_trials=2, seed=0,
                    storage=":memory:")
    assert all(t.value == width(poster_space().replay(t.params)) for t in result.trials)


@pytest.mark.parametrize("seconds", [0, -1, math.nan, "5", True])
def test_a_bad_trial_timeout_is_refused(seconds):
    with pytest.raises(ValueError, match="trial timeout must be a positive number"):
        with_trial_timeout(width, seconds)
