"""`da-bridge export --study NAME`: write one row per trial as JSON lines, CSV or Parquet."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from da_bridge.cli import _output
from da_bridge.study.results import FORMATS, export_results


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "export", help="write a study's trials to a file",
        description="Write one row per trial (values map, architecture JSON, scores, state, "
                    "timings) as JSON lines, CSV or Parquet; read it back with "
                    "da_bridge.load_results.")
    p.add_argument("--study", required=True, help="study name")
    p.add_argument("--storage", help="storage URL or journal path (default: ./da_runs)")
    p.add_argument("--format", choices=FORMATS,
                   help="file format (default: from --out's suffix, else jsonl)")
    p.add_argument("--out", help="output file (default: STUDY.FORMAT)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, extra: list[str], parser: Any) -> int:
    fmt = args.format
    if fmt is None:
        suffix = Path(args.out).suffix.lstrip(".").lower() if args.out else ""
        fmt = suffix if suffix in FORMATS else "jsonl"
    out = Path(args.out) if args.out else Path(f"{args.study}.{fmt}")
    n = export_results(args.study, out, format=fmt, storage=args.storage)
    _output.info(f"wrote {n} trials of study {args.study!r} to {str(out)!r} ({fmt})")
    return 0
