"""`da-bridge count SPACE`: the number of architectures in a space."""

from __future__ import annotations

import argparse
import math
from typing import Any

from da_bridge.cli import _output
from da_bridge.study.tasks import TASKS, add_task_arguments, load_space, make_task


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("count", help="count the architectures in a space",
                              description="Count the architectures of SPACE exactly "
                                          "(inf when it has continuous hyperparameters).")
    p.add_argument("space", metavar="SPACE")
    p.set_defaults(run=run, accepts_extra=True)


def run(args: argparse.Namespace, extra: list[str], parser: Any) -> int:
    if args.space in TASKS:
        task_parser = argparse.ArgumentParser(prog=f"da-bridge count {args.space}")
        add_task_arguments(task_parser, args.space)
        space = make_task(args.space, task_parser.parse_args(extra)).space
    else:
        space = load_space(args.space)
    n = space.count()
    _output.info("inf" if n == math.inf else f"{n:,}")
    return 0
