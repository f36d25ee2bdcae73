"""The `da-bridge` command line, run in-process through `main`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from da_bridge.cli import build_parser, main
from da_bridge.study import CONFIRMED_ATTR
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


def test_objective_module_and_file_are_found_from_the_current_directory(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "helpers_i20.py").write_text("def scale(x):\n    return 2 * x\n")
    (project / "my_objective_i20.py").write_text(
        "import helpers_i20\n\ndef width(arch):\n"
        "    return helpers_i20.scale(float(len(arch.values)))\n")
    env = {**os.environ, "DA_BRIDGE_RUNS": str(tmp_path / "runs")}
    for i, objective in enumerate(["my_objective_i20:width", "./my_objective_i20.py:width"]):
        done = _cli("search", "poster", "--objective", objective, "--trials", "2",
                    "--no-progress", "--study", f"cwd{i}", cwd=project, env=env)
        assert done.returncode == 0, done.stderr
        assert f"study 'cwd{i}': 2 trials (2 complete)" in done.stdout


def test_an_objective_module_that_is_nowhere_names_itself_and_the_directory(tmp_path, capsys):
    assert main(["search", "poster", "--objective", "no_such_module_i20:width"]) == 2
    err = capsys.readouterr().err
    assert "cannot import module 'no_such_module_i20'" in err and repr(str(tmp_path)) in err
    assert "FILE.py:NAME" in err and err.count("\n") == 1


def test_a_failing_trial_is_one_line_with_its_error(workdir, capsys):
    (workdir / "flaky.py").write_text(
        "def objective(arch):\n"
        "    if arch.values['conv.filters'] == 128:\n"
        "        raise RuntimeError('too deep for this demo')\n"
        "    return 1.0\n")
    assert main(["search", "poster", "--objective", "flaky:objective", "--trials", "6",
                 "--seed", "0", "--no-progress", "--study", "flaky"]) == 0
    err = capsys.readouterr().err.splitlines()
    failed = [t for t in load_study("flaky").trials if t.state.name == "FAIL"]
    assert failed and err == [f"da-bridge: trial {t.number} failed: RuntimeError: too deep "
                              "for this demo" for t in failed]


SLOW_OBJECTIVE = """
import pathlib, time

def slow(arch):
    pathlib.Path(f"started-{len(list(pathlib.Path().glob('started-*')))}").touch()
    time.sleep(0.4)
    return float(len(arch.values))
"""


@pytest.mark.slow
def test_ctrl_c_prints_one_line_exits_130_and_the_study_resumes(workdir):
    (workdir / "slow_i20.py").write_text(SLOW_OBJECTIVE)
    env = {**os.environ, "DA_BRIDGE_RUNS": str(workdir / "runs")}
    args = [SCRIPT, "search", "poster", "--objective", "slow_i20:slow", "--trials", "6",
            "--study", "ctrlc", "--seed", "0", "--no-progress"]
    # A child inherits an ignored SIGINT (as a test runner may leave it): give it Ctrl-C back.
    process = subprocess.Popen(args, cwd=workdir, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (workdir / "started-1").exists() and time.monotonic() < deadline:
        time.sleep(0.02)  # trial 0 done, trial 1 running: Ctrl-C now
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("da-bridge: interrupted: "), err
    assert "--study ctrlc --resume" in lines[0] and "Traceback" not in err
    kept = [t for t in load_study("ctrlc").trials if t.state.name == "COMPLETE"]
    assert 1 <= len(kept) < 6 and f"{len(kept)} finished trials kept" in lines[0]
    again = _cli(*args[1:], "--resume", cwd=workdir, env=env)
    assert again.returncode == 0, again.stderr
    assert "resuming study 'ctrlc'" in again.stdout
    assert sum(t.state.name == "COMPLETE" for t in load_study("ctrlc").trials) == 6


LIBRARY_RUN = """
import optuna
from da_bridge import search
from da_bridge.spaces.examples import poster_space
optuna.logging.set_verbosity(optuna.logging.INFO)
search(poster_space(), lambda arch: float(len(arch.values)), n_trials=4, seed=0,
       storage=":memory:", show_progress=True)
print(optuna.logging.get_verbosity())
"""


def test_library_progress_bar_is_not_torn_by_optuna_info_lines(workdir):
    done = subprocess.run([sys.executable, "-c", LIBRARY_RUN], cwd=workdir, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "4/4" in done.stderr and "Trial 0 finished" not in done.stderr
    assert done.stdout.strip() == str(optuna.logging.INFO)  # the caller's verbosity is back


def test_confirm_reevaluates_the_best_before_naming_it(capsys):
    assert main(["search", "sklearn", "--dataset", "iris", "--models", "knn", "--cv", "3",
                 "--cv-jobs", "1", "--trials", "5", "--seed", "0", "--study", "conf",
                 "--no-progress", "--confirm", "2", "--confirm-seeds", "2"]) == 0
    out = capsys.readouterr().out
    confirmed = load_study("conf").user_attrs[CONFIRMED_ATTR]
    assert len(confirmed) == 2 and "re-evaluated (measurements on 2 seeds)" in out
    best = max(confirmed, key=lambda n: sum(confirmed[n]["samples"]))
    assert "best score on re-evaluation: " in out and f"(trial {best}) ± " in out
    assert f"best architecture (trial {best}):" in out
    assert main(["show", "--study", "conf"]) == 0
    assert f"values map of trial {best}:" in capsys.readouterr().out
    assert main(["search", "poster", "--objective", "objectives:width", "--confirm", "2"]) == 2
    assert "cannot re-evaluate" in capsys.readouterr().err


@pytest.mark.slow
def test_keras_search_prints_no_tensorflow_start_up_lines(workdir):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["DA_BRIDGE_RUNS"] = str(workdir / "runs")
    args = ["search", "keras", "--epochs", "1", "--trials", "1", "--no-progress"]
    quiet = _cli(*args, "--study", "kq", cwd=workdir, env=env, timeout=600)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "" and "test accuracy of the best architecture" in quiet.stdout
    loud = _cli(*args, "--study", "kl", "--verbose", cwd=workdir, env=env, timeout=600)
    assert loud.returncode == 0 and "oneDNN" in loud.stderr  # what --verbose shows
