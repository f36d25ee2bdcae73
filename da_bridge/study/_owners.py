"""Who runs a trial, and failing the RUNNING trials of processes that are gone.

Every trial da_bridge starts records its owner (host, pid and the process's
start time, so a reused pid is not mistaken for it). When a study is resumed,
or a worker joins it, a RUNNING trial whose owner on this host is dead is
failed, with the reason, and its architecture queued once more. On a journal
that no other process has open, every RUNNING trial is a dead process's. On
storages with heartbeats (PostgreSQL, MySQL), trials of other hosts are failed
by the heartbeat once their grace period has passed.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
from typing import TYPE_CHECKING, Any

from da_bridge._imports import require
from da_bridge.study._optuna_internals import storage_of, trial_id
from da_bridge.study._schema import ERROR_ATTR, INTERRUPTED_ATTR, OWNER_ATTR, VALUES_ATTR

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)

#: Seconds after which a RUNNING trial that never named its owner counts as dead.
UNOWNED_GRACE = 30.0


def owner() -> dict[str, Any]:
    """This process as a trial's owner."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "start": _start_time(os.getpid())}


def claim(trial: optuna.Trial) -> None:
    """Record this process as the owner of `trial`."""
    trial.set_user_attr(OWNER_ATTR, owner())


def fail_dead_trials(study: optuna.Study, *, retry: bool = True) -> list[int]:
    """Fail the RUNNING trials whose process is gone; queue each once more if `retry`.

    Returns:
        The numbers of the trials failed.
    """
    optuna = require("optuna", "optuna")
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    if not running:
        return []
    alone = _alone(study)
    failed = []
    for trial in running:
        reason = _dead(trial, alone)
        if reason is None:
            continue
        if _fail(optuna, study, trial, reason):
            failed.append(trial.number)
            if retry:
                requeue(study, trial)
    if failed:
        logger.warning("study %r: failed %d trial(s) left RUNNING by ended processes: %s",
                       study.study_name, len(failed), failed[:10])
    return failed


def requeue(study: optuna.Study, frozen: optuna.trial.FrozenTrial) -> bool:
    """Queue a failed trial's architecture once more (WAITING).

    Returns:
        False if the trial was a retry already, or died before its architecture was
        chosen in full (its values map is recorded last).
    """
    optuna = require("optuna", "optuna")
    if frozen.system_attrs.get("retry_history") or "failed_trial" in frozen.system_attrs:
        return False
    if VALUES_ATTR not in frozen.user_attrs:
        return False
    dropped = (INTERRUPTED_ATTR, ERROR_ATTR, OWNER_ATTR)
    user_attrs = {k: v for k, v in frozen.user_attrs.items() if k not in dropped}
    system_attrs = {**frozen.system_attrs, "failed_trial": frozen.number,
                    "retry_history": [frozen.number]}
    study.add_trial(optuna.create_trial(
        state=optuna.trial.TrialState.WAITING, params=frozen.params,
        distributions=frozen.distributions, user_attrs=user_attrs, system_attrs=system_attrs))
    return True


def owner_alive(trial: optuna.trial.FrozenTrial) -> bool:
    """Whether the trial's owner is known to be running (on this host)."""
    record = trial.user_attrs.get(OWNER_ATTR)
    return isinstance(record, dict) and _alive(record) is True


def _dead(trial: optuna.trial.FrozenTrial, alone: bool | None) -> str | None:
    """Why `trial`'s process is known to be gone, or None."""
    record = trial.user_attrs.get(OWNER_ATTR)
    if isinstance(record, dict) and record.get("pid") == os.getpid() \
            and record.get("host") == socket.gethostname():
        return None  # this process's own trial (another thread runs it)
    if alone:
        return _describe(record) + " ended while it ran (no process has the store open)"
    if isinstance(record, dict):
        if _alive(record) is False:
            return _describe(record) + " ended while it ran"
        return None
    started = trial.datetime_start
    if started is None:
        return None
    now = datetime.datetime.now(started.tzinfo)
    if (now - started).total_seconds() > UNOWNED_GRACE:
        return f"it was RUNNING for more than {UNOWNED_GRACE:.0f} s without an owner"
    return None


def _describe(record: Any) -> str:
    if isinstance(record, dict):
        return f"its process (pid {record.get('pid')} on {record.get('host')})"
    return "its process"


def _alive(record: dict[str, Any]) -> bool | None:
    """False if the owner is surely gone, True if it runs, None if it is on another host."""
    if record.get("host") != socket.gethostname() or os.name == "nt":
        return None  # on Windows os.kill(pid, 0) would send Ctrl-C
    pid = record.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    started = record.get("start")
    return started is None or _start_time(pid) in (None, started)


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), so a reused pid differs."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _alone(study: optuna.Study) -> bool | None:
    backend = getattr(storage_of(study), "_backend", None)
    alone = getattr(backend, "alone", None)
    return alone() if callable(alone) else None


def _fail(optuna: Any, study: optuna.Study, trial: optuna.trial.FrozenTrial, reason: str) -> bool:
    storage, number = storage_of(study), trial_id(trial)
    try:
        storage.set_trial_user_attr(number, ERROR_ATTR, reason)
        return bool(storage.set_trial_state_values(number, optuna.trial.TrialState.FAIL))
    except optuna.exceptions.UpdateFinishedTrialError:
        return False  # its owner, or another worker, finished it meanwhile
