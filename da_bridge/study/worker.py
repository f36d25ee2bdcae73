"""Workers: many processes, on any machines, sharing one study through one storage.

Start `run_worker` (or `da-bridge worker`) as often as you like against one
storage URL and study name. Every worker creates the study if it is not there
yet (safely, when workers start at the same moment), then runs trials until
its own quota (`n_trials`), the study's target (`max_trials`) or its `timeout`
is reached. Foreign searchers (random, evolution, Hyperopt, skopt) rebuild
their history from the finished trials in the store before each proposal, so
each worker learns from all the others.

Crash safety: every trial records its owner (host and process); a worker that
joins the study, or looks for room, fails the RUNNING trials of dead processes
on its machine and queues their architectures once more. On RDB storages
(PostgreSQL, MySQL) a running trial also sends a heartbeat every
`heartbeat_interval` seconds; a trial without one for `grace_period` seconds
(its worker lost its machine...) is marked FAIL by the next worker that looks,
and queued once more (Optuna's `RetryHeartbeatStaleTrialCallback`), so nothing
stays RUNNING and no architecture is lost. A worker rides out a database
restart: its calls are retried for `db_retry` seconds.

SIGINT and SIGTERM stop a worker cleanly: the trial it is evaluating is
interrupted at once, recorded as FAIL with the user attribute
`da_bridge.interrupted` naming the signal, and queued once more (WAITING) with
the same architecture, so the study loses nothing; the worker then returns
(`WorkerResult.interrupted`). A second signal acts as usual (SIGINT raises
`KeyboardInterrupt` at once, SIGTERM ends the process), and heartbeats cover
that case. Restarting the worker continues the study: the queued trial runs
first.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from da_bridge._imports import require
from da_bridge.adapters.optuna import default_sampler
from da_bridge.errors import OptionError, StoreError
from da_bridge.searchers.base import Searcher
from da_bridge.space import SearchSpace
from da_bridge.study._interrupts import Stop, guard
from da_bridge.study._optuna_internals import heartbeat_enabled
from da_bridge.study._owners import fail_dead_trials, requeue
from da_bridge.study._retry import store_error_in
from da_bridge.study._schema import INTERRUPTED_ATTR
from da_bridge.study.runner import _create_study, _directions, _Runner, choose_searcher
from da_bridge.study.store import open_storage

if TYPE_CHECKING:
    import optuna

__all__ = ["WorkerResult", "run_worker"]

logger = logging.getLogger(__name__)

_CREATE_ATTEMPTS = 8


@dataclass
class WorkerResult:
    """What one worker did; the study holds what every worker did.

    Attributes:
        study: The shared study.
        space: The search space.
        trials: Numbers of the trials this worker ran, in order.
        interrupted: "SIGINT" or "SIGTERM" when a signal stopped the worker.
    """

    study: optuna.Study
    space: SearchSpace
    trials: list[int] = field(default_factory=list)
    interrupted: str | None = None

    @property
    def n_finished(self) -> int:
        """Finished (complete or pruned) trials in the whole study."""
        return len(_finished(self.study))


def run_worker(
    storage: Any,
    study_name: str,
    objective: Callable[..., Any],
    space: SearchSpace,
    *,
    n_trials: int | None = None,
    max_trials: int | None = None,
    searcher: str | Searcher = "optuna",
    direction: str | None = None,
    directions: Sequence[str] | None = None,
    seed: int | None = None,
    timeout: float | None = None,
    trial_timeout: float | None = None,
    catch: Iterable[type[Exception]] | type[Exception] = (Exception,),
    callbacks: Iterable[Callable] | None = None,
    sampler: Any = None,
    pruner: Any = None,
    heartbeat_interval: float | None = None,
    grace_period: float | None = None,
    connect_timeout: float | None = None,
    db_retry: float | None = None,
    poll_interval: float = 0.5,
    handle_signals: bool = True,
    study_attrs: Mapping[str, Any] | None = None,
) -> WorkerResult:
    """Run trials of the shared study `study_name` until this worker is done.

    Args:
        storage: A storage URL (`postgresql://...` for many machines), a
            journal path (many processes on one machine) or None (the
            embedded journal `./da_runs/<study_name>.journal`).
        study_name: The shared study; created by the first worker.
        objective: `objective(arch)` or `objective(arch, trial)`; returns a score.
        space: The search space.
        n_trials: Trials this worker runs at most (any outcome).
        max_trials: The study's target: stop once it holds this many finished
            (complete or pruned) trials. A worker starts a trial only while
            finished plus running trials are below the target, so the study
            does not overshoot (on RDB storages; elsewhere it may by up to
            the number of workers minus one).
        searcher: "optuna" or "auto" (TPE with the constant liar), "random", "evolution",
            "hyperopt", "skopt", ... or a `Searcher`.
        direction: "minimize" (default) or "maximize".
        directions: One direction per objective, for multi-objective studies.
        seed: Seeds this worker's searcher; give each worker its own seed (or
            none), or they propose the same architectures.
        timeout: Seconds after which this worker starts no new trial. With none
            of `n_trials`, `max_trials` and `timeout`, it runs until stopped.
        trial_timeout: Seconds one evaluation may take; the objective then runs
            in a child process killed at the deadline (see `da_bridge.study.timeouts`).
        catch: Exceptions from the objective that fail the trial and go on.
        callbacks: Optuna callbacks `fn(study, frozen_trial)` after each trial.
        sampler: An Optuna sampler instead of the default (searcher "optuna").
        pruner: An Optuna pruner.
        heartbeat_interval: Seconds between heartbeats of a running trial (RDB).
        grace_period: Seconds without a heartbeat before a trial is failed and
            retried (RDB).
        connect_timeout: Seconds to wait for the database server.
        db_retry: Seconds to retry while the database server cannot be reached
            (a restart, a failover); then `StoreError` (default 60).
        poll_interval: Seconds between looks at the study while waiting for
            running trials to end (`max_trials`).
        handle_signals: Catch SIGINT/SIGTERM to stop cleanly (main thread only).
        study_attrs: User attributes the study gets if it has none of that name
            (the command line stores SPACE there for later workers).

    Returns:
        The `WorkerResult`.

    Example:
        >>> import tempfile, pathlib
        >>> from da_bridge.spaces.examples import poster_space
        >>> def width(arch):
        ...     return sum(v for k, v in arch.values.items() if k.endswith("filters"))
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "shared.journal"
        >>> result = run_worker(path, "shared", width, poster_space(), max_trials=4,
        ...                     searcher="random", seed=0)
        >>> result.n_finished, len(result.trials)
        (4, 4)
    """
    optuna = require("optuna", "optuna")
    _check_counts(n_trials, max_trials, timeout, poll_interval, db_retry)
    directions = _directions(direction, directions)
    stop = Stop()
    guarded = guard(objective, stop, trial_timeout)
    # workers run trials in parallel: "auto" is TPE with the constant liar
    searcher = choose_searcher(searcher, directions=directions, sampler=sampler, n_jobs=2)
    if sampler is None and searcher == "optuna":
        sampler = default_sampler(seed, n_jobs=2)  # constant liar: mind the others' trials
    runner = _Runner(space, guarded, searcher, directions, seed, sampler)
    runner.marks_interrupts = False  # `guard` marks them with the signal's name
    opened = open_storage(storage, study_name, heartbeat_interval=heartbeat_interval,
                          grace_period=grace_period, connect_timeout=connect_timeout,
                          db_retry=db_retry)
    study = _open_study(opened, study_name, runner, directions, pruner, seed, study_attrs)
    runner.attach(study)
    result = WorkerResult(study, space)
    loop = _Loop(optuna, study, runner, stop, result, n_trials, max_trials, timeout,
                 poll_interval, _catch(catch), list(callbacks or []),
                 _CreationLock(opened, study_name), heartbeat=heartbeat_enabled(opened))
    with stop.installed(handle_signals):
        loop.run()
    return result


def _open_study(storage: Any, study_name: str, runner: Any, directions: list[str],
               pruner: Any = None, seed: int | None = None,
               attrs: Mapping[str, Any] | None = None) -> optuna.Study:
    """Create or load the study, retrying while other workers create it at the same moment."""
    optuna = require("optuna", "optuna")
    races = (optuna.exceptions.DuplicatedStudyError, optuna.exceptions.StorageInternalError)
    for attempt in range(_CREATE_ATTEMPTS):
        try:
            study = _create_study(optuna, storage, study_name, runner, directions, pruner, seed)
            for key, value in (attrs or {}).items():
                if key not in study.user_attrs:
                    study.set_user_attr(key, value)
            return study
        except races as exc:
            logger.debug("study %r: creation raced with another worker (%s); retrying",
                         study_name, exc)
            time.sleep(random.uniform(0.05, 0.25) * (attempt + 1))
    raise StoreError(f"could not create or load study {study_name!r} after "
                     f"{_CREATE_ATTEMPTS} attempts")


class _Loop:
    """One worker's loop: trials until its quota, or claim a place, run one trial, repeat."""

    def __init__(self, optuna, study, runner, stop, result, n_trials, max_trials, timeout,
                 poll_interval, catch, callbacks, lock, *, heartbeat: bool = False) -> None:
        self.optuna, self.study, self.runner, self.stop = optuna, study, runner, stop
        self.result, self.n_trials, self.max_trials = result, n_trials, max_trials
        self.poll_interval, self.catch = poll_interval, catch
        self.callbacks = callbacks or None  # each callback costs a trial read
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.lock, self.heartbeat = lock, heartbeat

    def run(self) -> None:
        self.stop.on_signal = self._stop_study
        try:
            if self.max_trials is None:  # one optimize call: no per-call store reads
                if not self.stop.is_set():
                    self._optimize(self.n_trials)
            else:
                while self._may_start():
                    self._optimize(1)
        except KeyboardInterrupt:
            self.stop.interrupted()
            self._requeue(self.stop.trial)
        self.result.interrupted = self.stop.signal
        if self.stop.signal:
            logger.warning("worker stopped by %s after %d trials of study %r",
                           self.stop.signal, len(self.result.trials), self.study.study_name)

    def _optimize(self, n_trials: int | None) -> None:
        while n_trials is None or n_trials > 0:
            left = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
            ran = len(self.result.trials)
            try:
                self.study.optimize(self._trial, n_trials=n_trials, timeout=left,
                                    catch=self.catch, callbacks=self.callbacks)
                return
            except Exception as exc:
                unmasked = store_error_in(exc)
                if unmasked is not None and unmasked is not exc:
                    raise unmasked from None
                if not _finished_elsewhere(exc):
                    raise
                logger.warning("trial %s was finished by another worker meanwhile (%s); going on",
                               self.result.trials[-1] if self.result.trials else "?", exc)
            finally:
                self.lock.release()
            if n_trials is not None:
                n_trials -= len(self.result.trials) - ran
            if self.stop.is_set() or self._timed_out():
                return

    def _stop_study(self) -> None:
        """A signal between trials: start no new one."""
        try:
            self.study.stop()
        except RuntimeError:  # not inside optimize: the loop sees the signal itself
            pass

    def _trial(self, trial: optuna.Trial) -> Any:
        self.lock.release()  # the trial exists: the next worker may count it and start
        self.result.trials.append(trial.number)
        return self.runner(trial)

    def _may_start(self) -> bool:
        if self.stop.is_set() or self._timed_out():
            return False
        if self.n_trials is not None and len(self.result.trials) >= self.n_trials:
            return False
        return self.max_trials is None or self._claim()

    def _timed_out(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def _claim(self) -> bool:
        """Wait until the study has room for one more trial; False once it is done.

        On True the creation lock is held until the trial exists (`_trial`), so two
        workers never both take the last free place.
        """
        while not self.stop.is_set() and not self._timed_out():
            self.lock.acquire()
            room = self._room()
            if room is not None:
                if not room:
                    self.lock.release()
                return room
            self.lock.release()
            self.stop.wait(self.poll_interval)
        return False

    def _room(self) -> bool | None:
        """True: start a trial; False: the study is done; None: wait for running trials."""
        state = self.optuna.trial.TrialState
        if self.heartbeat:
            _fail_stale_trials(self.optuna, self.study)
        fail_dead_trials(self.study)
        states = [t.state for t in self.study.get_trials(deepcopy=False)]
        finished = states.count(state.COMPLETE) + states.count(state.PRUNED)
        if finished >= self.max_trials:
            return False
        # Without heartbeats a dead worker's trial stays RUNNING: do not wait for it.
        running = states.count(state.RUNNING) if self.heartbeat else 0
        return True if finished + running < self.max_trials else None

    def _requeue(self, trial: Any) -> None:
        """Queue the interrupted trial's architecture once more, as heartbeats do for dead ones."""
        if trial is None:
            return
        frozen = next((t for t in self.study.get_trials(deepcopy=False)
                       if t.number == trial.number), None)
        if frozen is None or INTERRUPTED_ATTR not in frozen.user_attrs \
                or frozen.state != self.optuna.trial.TrialState.FAIL:
            return
        if not requeue(self.study, frozen):  # retried once already
            return
        logger.info("trial %d was interrupted; its architecture is queued again", frozen.number)


class _CreationLock:
    """Makes "is there room? then create the trial" atomic between workers on PostgreSQL.

    A transaction-level advisory lock keyed by the study name: it ends with the
    transaction, or with the connection when a worker dies. Other storages get no
    lock (a rare start race may add a trial there).
    """

    def __init__(self, storage: Any, study_name: str) -> None:
        outage = getattr(storage, "outage", None)
        self._retrying = outage.call if outage is not None else None
        engine = getattr(storage, "engine", None)
        self._engine = engine if getattr(engine, "name", None) == "postgresql" else None
        digest = hashlib.sha256(f"da_bridge.study:{study_name}".encode()).digest()
        self._key = int.from_bytes(digest[:8], "big", signed=True)
        self._connection: Any = None

    def acquire(self) -> None:
        if self._engine is None or self._connection is not None:
            return
        if self._retrying is None:
            self._lock()
        else:  # while the database restarts
            self._retrying("lock", self._lock)

    def _lock(self) -> None:
        from sqlalchemy import text

        engine: Any = self._engine
        connection = engine.connect()
        try:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": self._key})
        except BaseException:
            _close(connection)
            raise
        self._connection = connection

    def release(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            _close(connection)  # rolls back: the lock goes with the transaction


def _close(connection: Any) -> None:
    try:
        connection.close()
    except Exception:  # a connection the server dropped holds no lock any more
        logger.debug("closing a dropped database connection failed", exc_info=True)


def _finished_elsewhere(exc: Exception) -> bool:
    """Optuna refusing to tell a trial another process has failed (a stale heartbeat)."""
    optuna = require("optuna", "optuna")
    return isinstance(exc, optuna.exceptions.UpdateFinishedTrialError) or (
        isinstance(exc, RuntimeError) and str(exc).startswith("Cannot tell a "))


def _finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    optuna = require("optuna", "optuna")
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return study.get_trials(deepcopy=False, states=states)


def _fail_stale_trials(optuna: Any, study: optuna.Study) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def _catch(catch: Any) -> tuple[type[Exception], ...]:
    return (catch,) if isinstance(catch, type) else tuple(catch)


def _check_counts(n_trials: Any, max_trials: Any, timeout: Any, poll_interval: Any,
                  db_retry: Any = None) -> None:
    for name, value in (("n_trials", n_trials), ("max_trials", max_trials)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 0):
            raise OptionError(f"{name} must be a non-negative integer; got {value!r}")
    for name, value in (("timeout", timeout), ("poll_interval", poll_interval),
                        ("db_retry", db_retry)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not value > 0):
            raise OptionError(f"{name} must be a positive number of seconds; got {value!r}")
