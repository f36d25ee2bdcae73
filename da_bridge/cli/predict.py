"""`da-bridge predict MODEL --csv FILE`: labels or values for new rows from a saved model."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from da_bridge._imports import require
from da_bridge.cli import _output


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "predict", help="predict with a model saved by `search sklearn`",
        description="Load a pipeline saved by `da-bridge search sklearn` (--save, or "
                    "<study>.joblib in ./da_runs) and predict the rows of a CSV file; the "
                    "rows come back with a <target>_predicted column. (To estimate an "
                    "architecture's score from a study, use `da-bridge estimate`.)")
    p.add_argument("model", metavar="MODEL", help="a .joblib file written by search sklearn")
    p.add_argument("--csv", metavar="FILE", required=True,
                   help="the rows to predict (same columns as the training CSV; the target "
                        "column may be there or not)")
    p.add_argument("--output", metavar="FILE", help="write the CSV here (default: stdout)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, extra: list[str], parser: Any) -> int:
    sklearn = require("da_bridge.spaces.sklearn", "sklearn")
    frame = sklearn.predict_csv(args.model, args.csv)
    if args.output:
        frame.to_csv(args.output, index=False)
        _output.info(f"{len(frame)} predictions written to {args.output}")
    else:
        frame.to_csv(sys.stdout, index=False)
    return 0
