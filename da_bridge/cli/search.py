"""`da-bridge search SPACE`: run a search and report the best architectures."""

from __future__ import annotations

import argparse
import datetime
import math
import re
import sys
import time
from collections.abc import Callable
from typing import Any, cast

from da_bridge.cli import _output
from da_bridge.errors import OptionError
from da_bridge.study import CLI_ATTR, ERROR_ATTR
from da_bridge.study.runner import SEARCHERS, search
from da_bridge.study.store import list_studies
from da_bridge.study.tasks import (
    DEFAULT_TRIALS,
    TASKS,
    add_task_arguments,
    make_task,
    task_names,
)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "search", add_help=False, help="search a space",
        description="Search SPACE (built-in: " + ", ".join(task_names()) +
                    "; or MODULE:NAME) and print the best architectures.")
    # SPACE is checked in `run`, so that `search --help` works without one
    p.add_argument("space", metavar="SPACE", nargs="?")
    add_search_arguments(p)
    p.add_argument("--trial-timeout", type=float, metavar="SECONDS",
                   help="stop a trial that runs longer (its process is killed; it fails and "
                        "the search goes on)")
    p.add_argument("--confirm", type=_positive, metavar="K",
                   help="after the search, re-evaluate the K best architectures on more seeds "
                        "and name the best on those (tasks that can: sklearn, keras, augment)")
    p.add_argument("--confirm-seeds", type=_positive, default=3, metavar="N",
                   help="seeds per re-evaluated architecture with --confirm (default: 3)")
    p.add_argument("-h", "--help", action="store_true",
                   help="show this help (with SPACE's options)")
    p.set_defaults(run=run, accepts_extra=True, command_parser=p)


def add_search_arguments(p: argparse.ArgumentParser) -> None:
    """The options `search` and `worker` share."""
    p.add_argument("--objective", metavar="MODULE:FN",
                   help="objective(arch[, trial]) -> score; built-in tasks have their own")
    p.add_argument("--searcher", default="auto", choices=sorted(SEARCHERS),
                   help="the search algorithm (default: auto, SMBO for one objective and "
                        "--jobs 1 unless the space is mostly branches with their own "
                        "hyperparameters, else optuna TPE)")
    p.add_argument("--trials", type=_positive,
                   help=f"finished trials the study should hold (default: {DEFAULT_TRIALS}, or "
                        "the task's time budget: 60 s for sklearn)")
    p.add_argument("--timeout", type=float, help="stop starting trials after this many seconds")
    p.add_argument("--storage", help="Optuna storage URL or journal path "
                                     "(default: ./da_runs/<study>.journal)")
    p.add_argument("--study", help="study name (default: SPACE plus a timestamp)")
    p.add_argument("--resume", action="store_true",
                   help="continue the existing study --study until it holds --trials trials")
    p.add_argument("--seed", type=int, help="seed: the same seed gives the same architectures")
    p.add_argument("--direction", choices=("minimize", "maximize"),
                   help="override the task's direction")
    p.add_argument("--jobs", type=_positive, default=1, help="parallel threads")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace, extra: list[str], parser: argparse.ArgumentParser) -> int:
    if help_asked(args):
        return 0
    task_parser = argparse.ArgumentParser(prog=f"da-bridge search {args.space}", add_help=False)
    add_task_arguments(task_parser, args.space)
    args = argparse.Namespace(**vars(args), **vars(task_parser.parse_args(extra)))
    check_timeout(args.timeout)
    task = make_task(args.space, args)
    study = args.study or _default_study_name(args.space)
    _check_resume(study, args.storage, args.resume)
    directions = [args.direction] if args.direction else task.directions
    _check_confirm(args, task, directions)
    started = time.perf_counter()
    objective = cast(Callable[..., Any], task.objective)  # make_task raised if it were None
    ran: list[Any] = []
    trials, timeout = _budget(args.trials, args.timeout, task)
    trial_timeout = args.trial_timeout
    if hasattr(objective, "limit_time"):
        # sklearn's objective bounds its trials itself, the one running at the end of the
        # budget too (timeout alone only stops new trials); wrapping it again would fork twice
        objective.limit_time(timeout=timeout, trial_timeout=trial_timeout)
        trial_timeout = None
    result = search(
        task.space, objective, args.searcher, max_trials=trials, timeout=timeout,
        directions=directions, storage=args.storage, study_name=study, seed=args.seed,
        n_jobs=args.jobs, show_progress=not args.no_progress, pruner=task.pruner,
        callbacks=[lambda study, trial: ran.append(trial), _output.failed_trial_line],
        trial_timeout=trial_timeout, failure_hint=task.failure_hint, initial=task.initial)
    if CLI_ATTR not in result.study.user_attrs:
        result.study.set_user_attr(CLI_ATTR, {"space": args.space, "options": extra})
    if args.confirm and task.confirm is not None and not result.interrupted:
        result.confirm(args.confirm, task.confirm, seeds=range(1, args.confirm_seeds + 1))
    _output.summary(result, task.describe, time.perf_counter() - started)
    if result.interrupted:  # the trials are stored: say how to go on, skip the final report
        done = sum(t.state.name in ("COMPLETE", "PRUNED") for t in result.trials)
        _output.error(f"interrupted: {done} finished trials kept in study {study!r}; continue "
                      f"with the same command and --study {study} --resume")
        return 130
    if no_success(ran):
        return 1
    for line in (task.report(result) if task.report else []):
        _output.info(line)
    return 0


def help_asked(args: argparse.Namespace) -> bool:
    """Print the command's help (and SPACE's options) if asked; complain if SPACE is missing."""
    if args.help:
        args.command_parser.print_help()
        if args.space in TASKS:
            task_parser = argparse.ArgumentParser(
                prog=f"da-bridge {args.command} {args.space}", add_help=False)
            add_task_arguments(task_parser, args.space)
            sys.stdout.write("\n")
            task_parser.print_help()
        return True
    if not args.space and args.command == "search":
        args.command_parser.error("the following arguments are required: SPACE "
                                  f"(built-in: {', '.join(task_names())}; or MODULE:NAME)")
    return False


def _check_confirm(args: argparse.Namespace, task: Any, directions: list[str]) -> None:
    if not args.confirm:
        return
    if task.confirm is None:
        raise OptionError(f"--confirm: the task {args.space!r} cannot re-evaluate an "
                          "architecture on another seed; drop --confirm")
    if len(directions) > 1:
        raise OptionError("--confirm needs a single objective")


def _budget(trials: int | None, timeout: float | None, task: Any) -> tuple[Any, Any]:
    """--trials and --timeout as given; without either, the task's time budget or
    `DEFAULT_TRIALS` trials."""
    if trials is None and timeout is None:
        return (None, task.timeout) if task.timeout else (DEFAULT_TRIALS, None)
    return trials, timeout


def check_timeout(timeout: float | None) -> None:
    """`--timeout` must leave time for a trial."""
    if timeout is not None and not 0 < timeout < math.inf:
        raise OptionError(f"--timeout must be a positive number of seconds; got {timeout}")


def no_success(trials: list[Any]) -> bool:
    """True (after saying so on stderr) when trials ran and none of them completed."""
    if not trials or any(t.state.name == "COMPLETE" for t in trials):
        return False
    first = next((t.user_attrs[ERROR_ATTR] for t in trials if ERROR_ATTR in t.user_attrs),
                 trials[0].state.name.lower())
    print(f"da-bridge: error: no trial succeeded ({len(trials)} ran; the first failure: "  # noqa: T201
          f"{first.splitlines()[0] if first else '?'})", file=sys.stderr)
    return True


def _check_resume(study: str, storage: str | None, resume: bool) -> None:
    exists = study in list_studies(storage)
    if exists and not resume:
        raise OptionError(f"study {study!r} already exists; pass --resume to continue it "
                         "or choose another --study")
    if resume and not exists:
        raise OptionError(f"--resume: there is no study {study!r} (known: {list_studies(storage)})")
    if resume:
        _output.info(f"resuming study {study!r}")


def _default_study_name(space: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", space.split(":")[-1]).strip("-") or "search"
    return f"{stem}-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1; got {value}")
    return value
