"""Objectives the crash-safety tests' subprocesses import (`--objective PATH:NAME`).

Environment knobs:
    DA_BRIDGE_TEST_SLEEP: seconds each trial sleeps (default 0.02).
    DA_BRIDGE_TEST_STARTED: a file; every trial appends its pid when it begins.
    DA_BRIDGE_TEST_EXIT_AT: the trial (0-based count in this process) that calls sys.exit(3).
"""

from __future__ import annotations

import os
import sys
import time

_count = 0


def width(arch) -> float:
    """The poster space's total number of filters (to maximize)."""
    return float(sum(v for k, v in arch.values.items() if k.endswith("filters")))


def sleepy(arch) -> float:
    """`width` after a short sleep, announcing itself; may `sys.exit` where asked."""
    global _count
    started = os.environ.get("DA_BRIDGE_TEST_STARTED")
    if started:
        with open(started, "a") as f:
            f.write(f"{os.getpid()}\n")
    if os.environ.get("DA_BRIDGE_TEST_EXIT_AT") == str(_count):
        sys.exit(3)
    _count += 1
    time.sleep(float(os.environ.get("DA_BRIDGE_TEST_SLEEP", "0.02")))
    return width(arch)


def nan(arch) -> float:
    return float("nan")


def none(arch):
    return None


def text(arch):
    return "high"
