"""`da-bridge worker [SPACE] --study NAME --storage URL`: one of many processes sharing a study.

Start it as often as you like, on any machines, with the same --study and
--storage (PostgreSQL for many machines): every worker runs trials until the
study holds --trials finished trials. SPACE (and its options) is needed by the
worker that creates the study; later ones read it from the study when it is a
built-in name (a `MODULE:NAME` SPACE runs code, so it must be named again).
"""

from __future__ import annotations

import argparse
import signal
from collections.abc import Callable
from typing import Any, cast

from da_bridge.cli import _output
from da_bridge.cli.search import add_search_arguments, check_timeout, help_asked, no_success
from da_bridge.errors import OptionError, StoreError
from da_bridge.study import CLI_ATTR
from da_bridge.study.store import list_studies, load_study
from da_bridge.study.tasks import (
    DEFAULT_TRIALS,
    add_task_arguments,
    make_task,
    recorded_space,
    task_names,
)
from da_bridge.study.worker import run_worker


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "worker", add_help=False, help="run trials of a shared study (many processes/machines)",
        description="Run trials of the study --study in --storage, shared with any number of "
                    "other workers, until it holds --trials finished trials. SPACE (built-in: "
                    + ", ".join(task_names()) + "; or MODULE:NAME) is read from the study "
                    "when omitted and built in (a MODULE:NAME is code: name it every time). "
                    "With many workers, put `da-bridge proxy` in front of the database and "
                    "give --storage grpc://HOST:PORT. "
                    "A database that goes away is waited for (--db-retry). "
                    "SIGINT/SIGTERM stop the worker after recording its "
                    "current trial as failed and queueing it again.")
    p.add_argument("space", metavar="SPACE", nargs="?")
    add_search_arguments(p)
    p.add_argument("--per-worker", type=int, metavar="N",
                   help="this worker runs at most N trials (default: until the study is done)")
    p.add_argument("--trial-timeout", type=float, metavar="SECONDS",
                   help="fail a trial whose objective runs longer (run in a child process)")
    p.add_argument("--heartbeat-interval", type=float, metavar="SECONDS",
                   help="seconds between heartbeats of a running trial (database storages)")
    p.add_argument("--grace-period", type=float, metavar="SECONDS",
                   help="seconds without heartbeat before a trial is failed and retried")
    p.add_argument("--connect-timeout", type=float, metavar="SECONDS",
                   help="seconds to wait for the database server")
    p.add_argument("--db-retry", type=float, metavar="SECONDS",
                   help="seconds to retry while the database cannot be reached (default: 60)")
    p.add_argument("-h", "--help", action="store_true",
                   help="show this help (with SPACE's options)")
    p.set_defaults(run=run, accepts_extra=True, command_parser=p)


def run(args: argparse.Namespace, extra: list[str], parser: argparse.ArgumentParser) -> int:
    if help_asked(args):
        return 0
    if not args.study:
        raise OptionError("a worker needs --study NAME (the same for every worker of a study)")
    if args.jobs != 1:
        raise OptionError("a worker runs one trial at a time; start more workers instead of --jobs")
    check_timeout(args.timeout)
    if args.per_worker is not None and args.per_worker < 1:
        raise OptionError(f"--per-worker must be at least 1; got {args.per_worker}")
    if not args.space:
        args.space, extra = _stored_space(args.study, args.storage)
    args = argparse.Namespace(**vars(args), **vars(_task_parser(args.space).parse_args(extra)))
    args.trials = args.trials or DEFAULT_TRIALS
    task = make_task(args.space, args)
    objective = cast(Callable[..., Any], task.objective)  # make_task raised if it were None
    ran: list[Any] = []
    result = run_worker(
        args.storage, args.study, objective, task.space, n_trials=args.per_worker,
        max_trials=args.trials, searcher=args.searcher,
        directions=[args.direction] if args.direction else task.directions, seed=args.seed,
        timeout=args.timeout, trial_timeout=args.trial_timeout, pruner=task.pruner,
        heartbeat_interval=args.heartbeat_interval, grace_period=args.grace_period,
        connect_timeout=args.connect_timeout, db_retry=args.db_retry,
        callbacks=[lambda study, trial: ran.append(trial)],
        study_attrs={CLI_ATTR: {"space": args.space, "options": extra}})
    _output.info(f"worker: ran {len(result.trials)} trials; study {args.study!r} holds "
                 f"{result.n_finished} finished of {args.trials}")
    if result.interrupted:
        _output.info(f"worker: stopped by {result.interrupted}; its trial is queued again")
        return 128 + int(getattr(signal, result.interrupted))
    return 1 if no_success(ran) else 0


def _task_parser(space: str) -> argparse.ArgumentParser:
    task_parser = argparse.ArgumentParser(prog=f"da-bridge worker {space}", add_help=False)
    add_task_arguments(task_parser, space)
    return task_parser


def _stored_space(study_name: str, storage: str | None) -> tuple[str, list[str]]:
    """SPACE and its options as the study's first worker (or `da-bridge search`) gave them."""
    try:
        study = load_study(study_name, storage)
    except StoreError:
        raise StoreError(f"study {study_name!r} does not exist yet (known: "
                         f"{list_studies(storage)}); give SPACE to create it") from None
    return recorded_space(study_name, study.user_attrs)
