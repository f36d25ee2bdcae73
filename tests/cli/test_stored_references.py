"""No command imports code because a store names it: the reference is shown, the user names it.

A study whose attributes name a module that writes a marker file when imported; `worker`
without SPACE, `report` and `draw --study` must not import it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from da_bridge import search
from da_bridge.spaces.examples import poster_space
from da_bridge.study import CLI_ATTR
from da_bridge.study.store import load_study

OBJECTIVE = f"{Path(__file__).parents[1] / 'study' / 'objectives.py'}:width"


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """A study in ./da_runs whose stored SPACE is `planted_space:space` (a module in cwd)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DA_BRIDGE_RUNS", raising=False)
    marker = tmp_path / "imported"
    (tmp_path / "planted_space.py").write_text(textwrap.dedent(f"""
        import pathlib
        pathlib.Path({str(marker)!r}).write_text("imported")
        from da_bridge.spaces.examples import poster_space
        space = poster_space()
    """))
    search(poster_space(), lambda arch: 1.0, n_trials=2, study_name="planted", seed=0,
           direction="maximize")
    load_study("planted").set_user_attr(CLI_ATTR, {"space": "planted_space:space",
                                                   "options": []})
    return marker


def run(*args):
    return subprocess.run([sys.executable, "-m", "da_bridge", *args], capture_output=True,
                          text=True, timeout=180)


@pytest.mark.parametrize("args", [
    ["worker", "--study", "planted", "--objective", OBJECTIVE, "--trials", "3"],
    ["draw", "--study", "planted", "--out", "drawn.svg"],
], ids=["worker", "draw"])
def test_a_stored_code_reference_is_shown_not_imported(planted, args):
    done = run(*args)
    assert not planted.exists(), "the stored module was imported"
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "planted_space:space" in done.stderr
    assert "SPACE" in done.stderr


@pytest.mark.slow
def test_the_report_is_written_without_importing_the_stored_space(planted, tmp_path):
    done = run("report", "--study", "planted", "--out", str(tmp_path / "report"))
    assert done.returncode == 0, done.stderr
    assert not planted.exists(), "the stored module was imported"
    page = (tmp_path / "report" / "index.html").read_text()
    assert "planted_space:space" in page and "--space" in page


def test_naming_the_reference_on_the_command_line_runs_it(planted):
    done = run("worker", "planted_space:space", "--study", "planted", "--objective",
               OBJECTIVE, "--trials", "3")
    assert done.returncode == 0, done.stderr
    assert planted.exists()
