"""Every script in examples/ runs in its fast mode and prints its result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.py"))
QUICK = {"quickstart.py"}  # seconds; the others train models or start processes


def _params():
    for path in EXAMPLES:
        marks = () if path.name in QUICK else (pytest.mark.slow,)
        yield pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.parametrize("path", list(_params()))
def test_example_runs_in_fast_mode(path, tmp_path):
    env = {**os.environ, "DA_BRIDGE_FAST": "1", "DA_BRIDGE_RUNS": str(tmp_path / "runs"),
           "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "an example must print its result"


def test_there_are_examples():
    assert len(EXAMPLES) >= 1
