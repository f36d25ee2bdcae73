"""`da-bridge report --study NAME --out DIR`: a static HTML report of a study."""

from __future__ import annotations

import argparse
from typing import Any

from da_bridge.cli import _output
from da_bridge.errors import OptionError
from da_bridge.report import dashboard_command, write_report
from da_bridge.study.tasks import TASKS, Task, add_task_arguments, load_space, make_task


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "report", help="write a study's HTML report",
        description="Write a static HTML report of a study (summary, optimization history, "
                    "parameter importances, Pareto front, the best architectures drawn, every "
                    "trial); it works offline. The space is rebuilt from what `da-bridge "
                    "search` recorded, or given with --space (task options follow).")
    p.add_argument("--study", required=True, help="study name")
    p.add_argument("--storage", help="storage URL or journal path (default: ./da_runs)")
    p.add_argument("--out", metavar="DIR", help="report folder (default: ./report-<study>)")
    p.add_argument("--space", metavar="SPACE",
                   help="the space searched, if the study does not record it")
    p.add_argument("--top", type=_positive, default=3,
                   help="best (or Pareto-optimal) architectures to draw (default: 3)")
    p.add_argument("--max-drawings", type=int, default=200, metavar="N",
                   help="draw at most N trials, the best first (default: 200)")
    p.set_defaults(run=run, accepts_extra=True)


def run(args: argparse.Namespace, extra: list[str], parser: Any) -> int:
    if extra and not args.space:
        raise OptionError(f"unrecognized arguments: {' '.join(extra)}")
    task = _task(args.space, extra) if args.space else None
    out = args.out or f"report-{args.study}"
    index = write_report(args.study, out, storage=args.storage, task=task, top=args.top,
                         max_drawings=args.max_drawings)
    _output.info(f"wrote {index}")
    command = dashboard_command(args.storage, args.study)
    if command:
        _output.info(f"browse it live: {command}")
    return 0


def _task(spec: str, extra: list[str]) -> Task:
    """SPACE with its options: a built-in task (with the domain's report panels) or a space."""
    if spec not in TASKS:
        if extra:
            raise OptionError(f"unrecognized arguments: {' '.join(extra)}")
        return Task(load_space(spec))
    task_parser = argparse.ArgumentParser(prog=f"da-bridge report --space {spec}")
    add_task_arguments(task_parser, spec)
    return make_task(spec, task_parser.parse_args(extra))


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1; got {value}")
    return value
