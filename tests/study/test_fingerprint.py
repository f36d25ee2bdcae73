"""A study remembers its space's fingerprint and refuses a resume or a worker on another space."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from da_bridge import Discrete, SearchSpace, search
from da_bridge.errors import SpaceMismatchError
from da_bridge.spaces.examples import mobile_net_space, op, poster_space
from da_bridge.study._fingerprint import fingerprint
from da_bridge.study.worker import run_worker

OBJECTIVES = Path(__file__).with_name("objectives.py")


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DA_BRIDGE_RUNS", raising=False)
    return tmp_path / "da_runs"


def dense(units):
    return SearchSpace(lambda: op("dense", {"units": Discrete(units)}))


def test_the_same_space_has_the_same_fingerprint_in_another_process():
    code = ("from da_bridge.spaces.examples import poster_space\n"
            "from da_bridge.study._fingerprint import fingerprint\n"
            "print(fingerprint(poster_space())['digest'])")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=120)
    assert other.stdout.strip() == fingerprint(poster_space())["digest"]


def test_a_changed_domain_or_another_space_changes_it():
    digests = {fingerprint(space)["digest"] for space in
               (poster_space(), mobile_net_space(), dense([8, 16]), dense([8, 32]),
                dense([8, 16, 32]))}
    assert len(digests) == 5
    assert fingerprint(dense([8, 16])) == fingerprint(dense([8, 16]))


def test_a_resume_on_another_space_is_refused_naming_both():
    search(poster_space(), lambda arch: 1.0, n_trials=2, study_name="mixed", seed=0)
    with pytest.raises(SpaceMismatchError, match=r"poster_fragment.*mobile_net_space"):
        search(mobile_net_space(), lambda arch: 1.0, n_trials=1, study_name="mixed")
    with pytest.raises(SpaceMismatchError, match=r"is (new|missing)"):
        search(dense([8, 16]), lambda arch: 1.0, n_trials=1, study_name="mixed")


def test_a_resume_with_one_domain_changed_names_the_hyperparameter(tmp_path):
    search(dense([8, 16]), lambda arch: 1.0, n_trials=2, study_name="grown", seed=0)
    changed = r"'dense.units' was Discrete\(\[8, 16\]\) and is Discrete\(\[8, 32\]\)"
    with pytest.raises(SpaceMismatchError, match=changed):
        search(dense([8, 32]), lambda arch: 1.0, n_trials=1, study_name="grown")
    result = search(dense([8, 16]), lambda arch: 1.0, n_trials=1, study_name="grown")
    assert len(result.trials) == 3


def test_a_worker_on_another_space_is_refused(tmp_path):
    path = tmp_path / "shared.journal"
    run_worker(path, "shared", lambda arch: 1.0, poster_space(), max_trials=2,
               searcher="random", seed=0)
    with pytest.raises(SpaceMismatchError, match="mobile_net"):
        run_worker(path, "shared", lambda arch: 1.0, mobile_net_space(), max_trials=3)


def test_the_command_line_refuses_a_worker_on_another_space_in_one_line(tmp_path):
    storage = str(tmp_path / "s.journal")
    base = [sys.executable, "-m", "da_bridge", "worker", "--objective", f"{OBJECTIVES}:width",
            "--storage", storage, "--study", "s", "--trials", "2", "--searcher", "random"]
    first = subprocess.run([*base[:4], "poster", *base[4:]], capture_output=True, text=True,
                           timeout=120)
    assert first.returncode == 0, first.stderr
    second = subprocess.run([*base[:4], "mobile_net", *base[4:]], capture_output=True,
                            text=True, timeout=120)
    assert second.returncode == 2
    assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr
    assert "poster" in second.stderr and "mobile_net" in second.stderr
