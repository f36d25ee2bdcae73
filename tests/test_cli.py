"""The `da-bridge` command line, run in-process through `main`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from da_bridge.cli import build_parser, main
from da_bridge.store import load_study

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


def _exit_code(argv: list[str]) -> int:
    """`main`'s code; argparse's own --help exits instead of returning."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.mark.parametrize("argv, expected", [
    (["--help"], "usage: da-bridge [-h]"),
    (["search", "--help"], "usage: da-bridge search"),
    (["search", "-h"], "usage: da-bridge search"),
    (["search", "sklearn", "--help"], "sklearn task:"),
    (["search", "sklearn", "--cv", "3", "-h"], "sklearn task:"),
    (["search", "poster", "--objective", "nowhere:width", "--help"], "--objective MODULE:FN"),
    (["--verbose", "search", "--help"], "usage: da-bridge search"),
    (["worker", "--help"], "usage: da-bridge worker"),
    (["worker", "sklearn", "-h"], "sklearn task:"),
    (["show", "--help"], "usage: da-bridge show"),
    (["report", "-h"], "usage: da-bridge report"),
    (["count", "--help"], "usage: da-bridge count"),
])
def test_help_works_anywhere(argv, expected, capsys):
    assert _exit_code(argv) == 0
    out, err = capsys.readouterr()
    assert expected in out and err == ""


def test_search_without_space_says_what_space_can_be(capsys):
    assert _exit_code(["search", "--trials", "3"]) == 2
    err = capsys.readouterr().err
    assert "required: SPACE (built-in: augment," in err and "MODULE:NAME" in err


def test_verbose_goes_before_or_after_the_command(capsys):
    parser = build_parser()
    assert parser.parse_args(["--verbose", "show"]).verbose is True
    assert parser.parse_args(["show", "-v"]).verbose is True
    assert not hasattr(parser.parse_args(["show"]), "verbose")


#: The console script, as users run it (unlike `python -m`, it does not put the cwd on sys.path).
SCRIPT = str(Path(sys.executable).with_name("da-bridge"))


def _cli(*argv: str, cwd, env=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([SCRIPT, *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_console_output_has_no_framework_log_lines_unless_verbose(workdir):
    env = {**os.environ, "DA_BRIDGE_RUNS": str(workdir / "runs")}
    args = ["search", "poster", "--objective", "objectives:width", "--trials", "3",
            "--no-progress"]
    quiet = _cli(*args, "--study", "quiet", cwd=workdir, env=env)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "" and "study 'quiet': 3 trials" in quiet.stdout
    loud = _cli(*args, "--study", "loud", "--verbose", cwd=workdir, env=env)
    assert loud.returncode == 0, loud.stderr
    assert "Trial 0 finished with value" in loud.stderr


def test_summary_and_show_give_the_spread_of_the_best_score(capsys):
    assert main(["search", "sklearn", "--dataset", "iris", "--models", "knn", "--cv", "3",
                 "--cv-jobs", "1", "--trials", "5", "--seed", "0", "--study", "spread",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    best = load_study("spread").best_trial
    line = next(x for x in out.splitlines() if x.startswith("best score:"))
    assert f"(trial {best.number}) ± " in line and "standard error over 3 CV folds" in line
    assert "± SE" in out  # the table's column
    assert ("is not clearly better" in out) or ("is ahead of the next" in out)
    assert main(["show", "--study", "spread"]) == 0
    assert line in capsys.readouterr().out
