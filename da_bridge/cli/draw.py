"""`da-bridge draw`: draw an architecture, a partial instance or how a space unfolds."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from da_bridge.cli import _output
from da_bridge.errors import OptionError, ReplayError
from da_bridge.report import study_space
from da_bridge.space import SearchSpace
from da_bridge.study import VALUES_ATTR
from da_bridge.study.store import load_study
from da_bridge.study.tasks import TASKS, add_task_arguments, load_space, make_task
from da_bridge.viz import draw, draw_unfolding, unfold_values


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "draw", help="draw an architecture with Graphviz",
        description="Draw SPACE's architecture for a values map (--values), a stored trial "
                    "(--study, --trial), or, with neither, the space before any choice. "
                    "A values map that stops early draws the partial instance.")
    p.add_argument("space", metavar="SPACE", nargs="?",
                   help="built-in space or MODULE:NAME (default with --study: the study's)")
    p.add_argument("--values", metavar="JSON_OR_FILE",
                   help="a values map as JSON text or a JSON file (an architecture JSON works)")
    p.add_argument("--study", help="draw a trial of this study")
    p.add_argument("--trial", type=int, metavar="N", help="trial number (default: the best)")
    p.add_argument("--storage", help="storage URL or journal path (default: ./da_runs)")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="file to write (.svg, .png, .pdf); a folder with --unfolding")
    p.add_argument("--format", choices=("svg", "png", "pdf"),
                   help="file format (default: from --out's suffix, else svg)")
    p.add_argument("--unfolding", action="store_true",
                   help="write one frame per assignment and an index.html stepping through them")
    p.add_argument("--no-hyperparameters", action="store_true",
                   help="do not draw hyperparameter nodes")
    p.add_argument("--no-port-labels", action="store_true", help="do not label edge ports")
    p.set_defaults(run=run, accepts_extra=True)


def run(args: argparse.Namespace, extra: list[str], parser: Any) -> int:

    space, values = _space_and_values(args, extra)
    options = {"hyperparameters": not args.no_hyperparameters,
               "port_labels": not args.no_port_labels}
    if args.unfolding:
        drawn = draw_unfolding(space, values, args.out, format=args.format or "svg", **options)
        _output.info(f"wrote {len(drawn.frames)} frames and {drawn.html}")
        return 0
    u = unfold_values(space, values)
    target = u.architecture() if u.is_specified() else u
    _output.info(f"wrote {draw(target, args.out, args.format, **options)}")
    return 0


def _space_and_values(args: argparse.Namespace, extra: list[str]) -> tuple[SearchSpace, dict]:
    if args.study:
        if args.values:
            raise OptionError("give --values or --study, not both")
        return _from_study(args, extra)
    if args.trial is not None:
        raise OptionError("--trial needs --study")
    if not args.space:
        raise OptionError("give SPACE (and --values), or --study")
    return _load_space(args.space, extra), _read_values(args.values) if args.values else {}


def _from_study(args: argparse.Namespace, extra: list[str]) -> tuple[SearchSpace, dict]:
    study = load_study(args.study, args.storage)
    space = _load_space(args.space, extra) if args.space else study_space(study)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    if args.trial is None:
        if len(study.directions) > 1:
            raise OptionError("a multi-objective study has no single best trial; give --trial N")
        trial = study.best_trial
    elif args.trial in trials:
        trial = trials[args.trial]
    else:
        raise ReplayError(f"study {args.study!r} has no trial {args.trial}; "
                          f"trials are 0..{len(trials) - 1}")
    values = trial.user_attrs.get(VALUES_ATTR)
    if not isinstance(values, dict):
        raise ReplayError(f"trial {trial.number} has no {VALUES_ATTR!r} user attribute; "
                          "it was not created through da_bridge")
    return space, values


def _load_space(spec: str, extra: list[str]) -> SearchSpace:
    if spec not in TASKS:
        if extra:
            raise OptionError(f"unrecognized arguments: {' '.join(extra)}")
        return load_space(spec)
    task_parser = argparse.ArgumentParser(prog=f"da-bridge draw {spec}")
    add_task_arguments(task_parser, spec)
    return make_task(spec, task_parser.parse_args(extra)).space


def _read_values(text: str) -> dict:
    path = Path(text)
    source = path.read_text(encoding="utf-8") if path.is_file() else text
    try:
        data = json.loads(source)
    except json.JSONDecodeError as exc:
        what = f"file {text!r}" if path.is_file() else "--values"
        raise OptionError(f"{what} is not JSON ({exc}); give a values map like "
                         '\'{"conv.filters": 64}\' or a JSON file') from None
    if isinstance(data, dict) and isinstance(data.get("values"), dict) and "format" in data:
        data = data["values"]  # an architecture's to_json()
    if not isinstance(data, dict):
        raise OptionError(f"a values map must be a JSON object; got {type(data).__name__}")
    return data
