"""Bad inputs get one clear line (no traceback), the right error class, and a non-zero exit.

The failure reason is stored on the trial whichever path ran it (search, worker) and
`da-bridge show` prints it.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from da_bridge import search
from da_bridge.cli import main
from da_bridge.errors import DatasetError, OptionError
from da_bridge.spaces.examples import poster_space
from da_bridge.spaces.sklearn import load_csv
from da_bridge.study import ERROR_ATTR
from da_bridge.study.worker import run_worker

OBJECTIVES = Path(__file__).with_name("objectives.py")
FAIL = optuna.trial.TrialState.FAIL


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DA_BRIDGE_RUNS", raising=False)
    return tmp_path / "da_runs"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "da_bridge", *args], capture_output=True,
                          text=True, timeout=180)


@pytest.mark.parametrize("score", [math.nan, None, "high"], ids=["nan", "none", "text"])
def test_search_stores_why_each_trial_failed(score):
    result = search(poster_space(), lambda arch: score, n_trials=2, storage=":memory:", seed=0)
    for trial in result.trials:
        assert trial.state == FAIL
        assert trial.user_attrs[ERROR_ATTR].startswith("ObjectiveError: trial")
        assert repr(score) in trial.user_attrs[ERROR_ATTR]


def test_a_worker_stores_why_each_trial_failed(tmp_path):
    result = run_worker(tmp_path / "w.journal", "w", lambda arch: None, poster_space(),
                        n_trials=2, searcher="random", seed=0)
    assert all("returned None" in t.user_attrs[ERROR_ATTR] for t in result.study.trials)


@pytest.mark.parametrize("name", ["nan", pytest.param("none", marks=pytest.mark.slow),
                                  pytest.param("text", marks=pytest.mark.slow)])
def test_a_search_where_every_trial_fails_prints_one_line_each_and_exits_non_zero(name):
    done = cli("search", "poster", "--objective", f"{OBJECTIVES}:{name}", "--study", name,
               "--trials", "3", "--no-progress")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    failures = [line for line in done.stderr.splitlines() if "failed" in line]
    assert len(failures) == 3 and all("ObjectiveError" in line for line in failures)
    assert "no trial succeeded" in done.stderr
    shown = cli("show", "--study", name)
    assert shown.returncode == 0 and "the objective returned" in shown.stdout


@pytest.mark.slow
def test_traceback_shows_the_traceback():
    done = cli("--traceback", "search", "poster", "--objective", f"{OBJECTIVES}:nan",
               "--study", "tb", "--trials", "1", "--no-progress")
    assert "Traceback" in done.stderr


@pytest.mark.parametrize("value", ["0", "-5", "nan"])
@pytest.mark.parametrize("command", ["search", "worker"])
def test_a_timeout_that_allows_no_trial_is_refused_in_one_line(value, command, capsys):
    code = main([command, "poster", "--objective", f"{OBJECTIVES}:width", "--study", "t",
                 "--trials", "2", f"--timeout={value}", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "--timeout must be a positive number" in err


@pytest.mark.parametrize("options", [
    {"n_trials": -1}, {"n_trials": 1.5}, {"n_trials": True}, {"n_trials": 0},
    {"timeout": 0}, {"timeout": -5.0}, {"timeout": math.nan}, {"max_trials": -2},
    {"max_trials": 2.5}, {"n_jobs": 0},
], ids=str)
def test_search_refuses_counts_and_timeouts_that_mean_nothing(options):
    name = next(iter(options))
    with pytest.raises(OptionError, match=name):
        search(poster_space(), lambda arch: 1.0, storage=":memory:", **options)


def test_worker_refuses_counts_and_timeouts_that_mean_nothing(tmp_path):
    for options in ({"n_trials": 1.5}, {"timeout": 0}, {"db_retry": -1}):
        with pytest.raises(OptionError, match=next(iter(options))):
            run_worker(tmp_path / "x.journal", "x", lambda arch: 1.0, poster_space(),
                       **options)


def test_a_csv_whose_target_has_one_class_is_refused(tmp_path):
    rows = "\n".join(f"{i},{i % 3},yes" for i in range(30))
    (tmp_path / "one.csv").write_text("a,b,label\n" + rows + "\n")
    with pytest.raises(DatasetError, match=r"--target 'label' of 'one.csv' has one class "
                                           r"\(every row is yes\); a classifier needs"):
        load_csv("one.csv", "label")
