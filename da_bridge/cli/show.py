"""`da-bridge show --study NAME`: the trials of a study and its best values map."""

from __future__ import annotations

import argparse
import json
from typing import Any

from da_bridge.cli import _output
from da_bridge.study import CONFIRMED_ATTR, ERROR_ATTR, INTERRUPTED_ATTR, VALUES_ATTR
from da_bridge.study.noise import rank
from da_bridge.study.store import list_studies, load_study


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("show", help="list a study's trials and best values map",
                              description="List a study's trials and its best values map; "
                                          "without --study, list the studies.")
    p.add_argument("--study", help="study name")
    p.add_argument("--storage", help="storage URL or journal path (default: ./da_runs)")
    p.add_argument("--limit", type=int, default=20, help="rows to show (default: 20)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, extra: list[str], parser: Any) -> int:

    if not args.study:
        for name in list_studies(args.storage):
            _output.info(name)
        return 0
    study = load_study(args.study, args.storage)
    trials = study.get_trials(deepcopy=False)
    directions = [d.name.lower() for d in study.directions]
    _output.info(f"study {study.study_name!r}: {len(trials)} trials, directions {directions}")
    _output.info("")
    _output.console().print(_output.trials_table(trials, "trials", directions, args.limit))
    for t in [t for t in trials if t.state.name == "FAIL"][:args.limit]:
        reason = t.user_attrs.get(ERROR_ATTR) or t.user_attrs.get(INTERRUPTED_ATTR)
        _output.info(f"trial {t.number} failed: {reason or 'no reason recorded'}")
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    if complete and len(directions) == 1:
        best = study.best_trial
        confirmed = study.user_attrs.get(CONFIRMED_ATTR)
        if confirmed:
            _output.console().print(_output.confirmed_table(trials, confirmed, directions[0]))
            ranking = rank(trials, directions[0] == "maximize", confirmed=confirmed)
            best = ranking.best if ranking is not None else best
        for line in _output.best_lines(trials, directions[0], confirmed):
            _output.info(line)
        _output.info(f"values map of trial {best.number}:")
        _output.info(json.dumps(best.user_attrs.get(VALUES_ATTR, best.params), indent=2))
    return 0
