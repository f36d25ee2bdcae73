"""Objectives the worker processes of the distributed tests import (`--objective PATH:NAME`).

Environment knobs, set per worker process by the tests:
    DA_BRIDGE_TEST_SLEEP: seconds each trial sleeps (default 0.05).
    DA_BRIDGE_TEST_HANG: a file; the first trial creates it, then hangs (to be killed).
    DA_BRIDGE_TEST_TRACE: a file; every trial appends "start <pid>" when it begins.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def width(arch) -> float:
    """The poster space's total number of filters (an objective to maximize)."""
    return float(sum(v for k, v in arch.values.items() if k.endswith("filters")))


def sleepy(arch) -> float:
    """`width` after a short sleep; hangs instead where DA_BRIDGE_TEST_HANG asks for it."""
    trace = os.environ.get("DA_BRIDGE_TEST_TRACE")
    if trace:
        with open(trace, "a") as f:
            f.write(f"start {os.getpid()}\n")
    hang = os.environ.get("DA_BRIDGE_TEST_HANG")
    if hang and not Path(hang).exists():
        Path(hang).write_text(str(os.getpid()))
        time.sleep(600)
    time.sleep(float(os.environ.get("DA_BRIDGE_TEST_SLEEP", "0.05")))
    return width(arch)
