"""The `da-bridge` command line, run in-process through `main`."""

from __future__ import annotations

import subprocess
import sys

import pytest

from da_bridge.cli import main
from da_bridge.study.store import load_study

OBJECTIVE = "def width(arch):\n    return float(sum(v for k, v in arch.values.items() " \
            "if k.endswith('filters')))\n"


@pytest.fixture(autouse=True)
def workdir(tmp_path, monkeypatch):
    monkeypatch.setenv("DA_BRIDGE_RUNS", str(tmp_path / "runs"))
    (tmp_path / "objectives.py").write_text(OBJECTIVE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_count_builtin_and_module_spaces(capsys):
    assert main(["count", "poster"]) == 0
    assert capsys.readouterr().out.strip() == "25,008"
    assert main(["count", "da_bridge.spaces.examples:mobile_net_space"]) == 0
    assert capsys.readouterr().out.strip() == "8,640"


def test_search_show_and_resume(capsys):
    base = ["search", "poster", "--objective", "objectives:width", "--study", "cli",
            "--no-progress"]
    args = [*base, "--trials", "6", "--seed", "0"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "study 'cli': 6 trials (6 complete)" in out and "best score" in out
    assert main(args) == 2  # the study exists: resuming must be asked for
    assert "--resume" in capsys.readouterr().err
    assert main([*base, "--trials", "9", "--resume"]) == 0
    assert len(load_study("cli").trials) == 9
    assert main(["show", "--study", "cli"]) == 0
    out = capsys.readouterr().out
    assert "9 trials" in out and "conv.filters" in out
    assert main(["show"]) == 0
    assert "cli" in capsys.readouterr().out.split()


def test_a_file_path_objective_and_other_searchers(workdir, capsys):
    assert main(["search", "poster", "--objective", f"{workdir / 'objectives.py'}:width",
                 "--searcher", "random", "--trials", "4", "--no-progress",
                 "--direction", "minimize"]) == 0
    assert "4 trials" in capsys.readouterr().out


@pytest.mark.parametrize("argv, reason", [
    (["search", "poster", "--trials", "2"], "no built-in objective"),
    (["search", "poster", "--objective", "nowhere:width"], "cannot import module 'nowhere'"),
    (["search", "poster", "--objective", "objectives:height"], "no attribute 'height'"),
    (["search", "nonsense", "--objective", "objectives:width"], "must be a built-in name"),
    (["search", "poster", "--objective", "objectives:width", "--resume", "--study", "x"],
     "no study 'x'"),
    (["show", "--study", "missing"], "no study 'missing'"),
])
def test_bad_input_exits_2_with_one_line(argv, reason, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert reason in err and err.count("\n") == 1 and "Traceback" not in err


def test_console_script_is_installed():
    done = subprocess.run([sys.executable, "-m", "da_bridge", "--version"], capture_output=True,
                          text=True, check=True)
    assert done.stdout.startswith("da_bridge ")
