"""benchmarks/search_quality.py runs end to end in a tiny setting (the benchmark is no test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "search_quality.py"


def _run(*args: str) -> str:
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=120, check=True)
    return done.stdout


@pytest.mark.slow  # three small searches in two fresh interpreters
def test_tiny_run_logs_every_run_and_reports_from_the_log(tmp_path):
    log = tmp_path / "runs.jsonl"
    tiny = ["--seeds", "2", "--evals", "6", "--only", "random,evolution",
            "--benchmarks", "smooth", "macro"]
    printed = _run(*tiny, "--log", str(log))
    runs = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted((r["name"], r["bench"], r["seed"]) for r in runs) == sorted(
        (n, b, s) for n in ("random", "evolution") for b in ("smooth", "macro") for s in (0, 1))
    # regret is measured from the true optimum, so it is never negative
    assert all(len(r["regrets"]) == 6 and min(r["regrets"]) >= 0 for r in runs)
    assert "| regularized evolution |" in printed and "random search" in printed
    # the tables come from the log alone (the first line holds the machine's load)
    assert _run(*tiny, "--report", str(log)).split("\n")[1:] == printed.split("\n")[1:]
