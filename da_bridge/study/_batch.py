"""A worker's storage calls for one trial, cut from about thirty round trips to a dozen.

Three savings, each keeping what the other workers and a crash see:

- Writes: choosing an architecture writes each parameter and attribute on its own, a
  database transaction each (about a dozen per trial). They are held and sent together at
  the next call that is not one of them (Optuna's tell, a heartbeat...; not the sampler's
  read of the study) or when `flush()` is called: the worker flushes before the objective
  starts, so a trial whose worker dies during the evaluation has its architecture in the
  store, as before. A worker that dies while choosing it leaves a trial with no parameters,
  which is failed as always and not retried (there is nothing to retry).
- The trial's own reads: Optuna reads the running trial back when it is created and again
  when it is told. This worker is the only one writing it, so the second read is served from
  a copy kept up to date with its writes. (If another worker failed it meanwhile, after a
  lost heartbeat, the tell is refused by the database as before.)
- The study's reads: `ask` reads the study to find queued trials, and the sampler (then the
  runner, looking for an architecture already scored) reads it again a few milliseconds
  later; those reads are served from the first (with this worker's new trial), as
  `ReadOncePerTrial` does between the sampler's own reads.
- Stale trials: Optuna looks for trials whose heartbeat stopped before every trial; a
  worker looks once per heartbeat interval (a trial is stale only after a grace period of
  several intervals, so it is failed as soon, give or take one interval).

Directly on PostgreSQL (an inner storage that is `incremental`), a trial is also created
with its first heartbeat, and told with its held writes, in one transaction each, and the
study is read as what changed since the last read, put in place in a list of the study's
trials this wrapper keeps (`_optuna_internals.create_trial`, `finish_trial`, `read_changed`).
"""

from __future__ import annotations

import copy
import functools
import math
import threading
import time
from typing import Any

from da_bridge._imports import require
from da_bridge.study._optuna_internals import heartbeat_base

#: Calls that do not send the held writes first: the sampler's read of the study (it needs
#: the other trials, not this one's owner) and the heartbeat settings.
_PASS = ("get_all_trials", "get_heartbeat_interval", "get_heartbeat_stale_trial_callback")
#: Seconds the study read by `ask` serves the sampler's read (a few milliseconds later).
_FRESH = 1.0
#: The wrapper's own attributes (never the inner storage's).
_OWN = ("_inner", "_pending", "_batch_lock", "_mine", "_created", "_fresh", "_stale_looked",
        "_kept", "_incremental", "_beaten")


def batched(storage: Any) -> Any:
    """`storage` with a trial's writes held and its repeated reads saved (see the module)."""
    if not callable(getattr(storage, "write_trial", None)):
        return storage
    return _storage_class()(storage)


class _Pending:
    """The writes held for one trial."""

    def __init__(self) -> None:
        self.params: list[tuple[str, float, Any]] = []
        self.user_attrs: list[tuple[str, Any]] = []
        self.system_attrs: list[tuple[str, Any]] = []


class _Calls:
    """The methods that differ from plain forwarding (mixed into the storage class)."""

    _inner: Any

    def _setup(self, inner: Any) -> None:
        self._inner, self._batch_lock = inner, threading.RLock()
        self._pending: dict[int, _Pending] = {}
        self._mine: dict[int, Any] = {}  # trial id -> this worker's copy of its running trial
        self._created: dict[int, int] = {}  # trial id -> study id, of the trials it created
        self._fresh: tuple[int, int, float, list[Any]] | None = None
        self._stale_looked: dict[int, float] = {}  # study id -> when stale trials were sought
        # study id -> its trials by number, updated from what changed since the last read
        self._kept: dict[int, _Trials] = {}
        self._incremental = bool(getattr(inner, "incremental", False))
        self._beaten: set[int] = set()  # trials created with their first heartbeat

    def flush(self) -> None:
        """Send every held write (one call per trial); the next read of the study is new."""
        with self._batch_lock:
            self._send()
            self._fresh = None

    def _send(self) -> None:
        with self._batch_lock:
            pending, self._pending = self._pending, {}
            for trial_id, writes in pending.items():
                self._inner.write_trial(trial_id, writes.params, writes.user_attrs,
                                        writes.system_attrs)

    def _held(self, trial_id: int) -> _Pending:
        return self._pending.setdefault(trial_id, _Pending())

    def set_trial_param(self, trial_id: int, param_name: str, param_value_internal: float,
                        distribution: Any) -> None:
        with self._batch_lock:
            self._held(trial_id).params.append((param_name, param_value_internal,
                                                distribution))
            mine = self._mine.get(trial_id)
            if mine is not None:
                mine.params[param_name] = distribution.to_external_repr(param_value_internal)
                mine.distributions[param_name] = distribution

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        with self._batch_lock:
            self._held(trial_id).user_attrs.append((key, value))
            if trial_id in self._mine:
                self._mine[trial_id].user_attrs[key] = value

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        with self._batch_lock:
            self._held(trial_id).system_attrs.append((key, value))
            if trial_id in self._mine:
                self._mine[trial_id].system_attrs[key] = value

    def set_trial_intermediate_value(self, trial_id: int, step: int, value: float) -> None:
        self._send()
        self._inner.set_trial_intermediate_value(trial_id, step, value)
        with self._batch_lock:
            if trial_id in self._mine:
                self._mine[trial_id].intermediate_values[step] = value

    def set_trial_state_values(self, trial_id: int, state: Any, values: Any = None) -> bool:
        # a finished trial's tell takes its held writes along (one transaction) when it can
        finishing = self._incremental and state.is_finished()
        with self._batch_lock:
            held = self._pending.pop(trial_id, None) if finishing else None
            self._send()
            self._fresh = None
            self._mine.pop(trial_id, None)  # finished, or queued again: read it from now on
            self._created.pop(trial_id, None)
        if not finishing:
            return bool(self._inner.set_trial_state_values(trial_id, state, values))
        held = held or _Pending()
        return bool(self._inner.finish_trial(trial_id, held.params, held.user_attrs,
                                             held.system_attrs, state, values))

    def create_new_trial(self, study_id: int, template_trial: Any = None) -> int:
        self._send()
        if self._incremental and template_trial is None:
            trial_id, beaten = self._inner.create_trial(study_id)
            if beaten:  # the heartbeat thread's first beat, a moment later, is done
                with self._batch_lock:
                    self._beaten.add(trial_id)
        else:
            trial_id = int(self._inner.create_new_trial(study_id, template_trial))
        created = getattr(self._inner, "created_trial", None)
        # Optuna reads the new trial back at once; the creation returned it already
        trial = created(trial_id) if template_trial is None and created is not None else None
        with self._batch_lock:
            self._created[trial_id] = study_id
            if trial is not None:
                self._mine[trial_id] = _copied(trial)
        return trial_id

    def record_heartbeat(self, trial_id: int) -> None:
        with self._batch_lock:
            if trial_id in self._beaten:  # recorded with the trial's creation
                self._beaten.discard(trial_id)
                return
        if self._pending:  # as every call that is not a held write
            self._send()
        self._inner.record_heartbeat(trial_id)

    def get_trial(self, trial_id: int) -> Any:
        with self._batch_lock:
            mine = self._mine.get(trial_id)
            if mine is not None:
                return _copied(mine)
        self._send()
        trial = self._inner.get_trial(trial_id)
        with self._batch_lock:
            if trial_id in self._created and not trial.state.is_finished():
                self._mine[trial_id] = _copied(trial)
        return trial

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        # Optuna looks before every trial; once per heartbeat interval finds the same trials
        # (a trial is stale only after a grace period of several intervals).
        interval = self._inner.get_heartbeat_interval() or 0
        now = time.monotonic()
        if now - self._stale_looked.get(study_id, -math.inf) < interval:
            return []
        self._stale_looked[study_id] = now
        self._send()
        return list(self._inner._get_stale_trial_ids(study_id))

    def get_all_trials(self, study_id: int, deepcopy: bool = True,
                       states: Any = None) -> list[Any]:
        waiting = require("optuna", "optuna").trial.TrialState.WAITING
        with self._batch_lock:
            # kept until this worker's next write of a state or flush: the runner's look for
            # an architecture the study already scored reads the study after the sampler
            fresh = self._fresh
        if isinstance(states, tuple) and states == (waiting,):  # ask's look for queued trials
            trials, queued = self._read(study_id, waiting)
            if not queued:  # a popped trial would be read as WAITING from the copy
                self._fresh = (study_id, threading.get_ident(), time.monotonic(), trials)
            return copy.deepcopy(queued) if deepcopy else queued
        if fresh is not None and fresh[:2] == (study_id, threading.get_ident()) and \
                time.monotonic() - fresh[2] < _FRESH:
            trials = self._with_mine(study_id, fresh[3])
            chosen = list(trials) if states is None else [t for t in trials if t.state in states]
            return copy.deepcopy(chosen) if deepcopy else chosen
        if self._incremental:
            trials, chosen = self._read(study_id, *(states or ()))
            chosen = trials if states is None else chosen
            return copy.deepcopy(chosen) if deepcopy else chosen
        return list(self._inner.get_all_trials(study_id, deepcopy=deepcopy, states=states))

    def _read(self, study_id: int, *states: Any) -> tuple[list[Any], list[Any]]:
        """The study's trials (a new list) and those in `states`, read from the database
        when this storage cannot read only what changed since its last read."""
        if not self._incremental:
            trials = list(self._inner.get_all_trials(study_id, deepcopy=False))
            return trials, [t for t in trials if t.state in states]
        with self._batch_lock:  # reads applied in the order they were made
            kept = self._kept.setdefault(study_id, _Trials())
            if not kept.update(self._inner.read_changed(study_id)):
                # its first read, or trials not numbered 0, 1, 2...: the cache's whole list
                kept.reset(self._inner.get_all_trials(study_id, deepcopy=False))
            return kept.trials(states)

    def _with_mine(self, study_id: int, trials: list[Any]) -> list[Any]:
        """`trials` with this worker's running trials of the study as they are now."""
        with self._batch_lock:
            mine = {t.number: _copied(t) for i, t in self._mine.items()
                    if self._created.get(i) == study_id}
        if not mine:
            return trials
        merged = list(trials)
        for number, trial in sorted(mine.items()):  # numbers count up from 0: an index
            if number < len(merged) and merged[number].number == number:
                merged[number] = trial
            elif number == len(merged):  # created after the read (ask's new trial)
                merged.append(trial)
            else:  # not where its number says: merge by number
                return self._merged(merged, mine)
        return merged

    @staticmethod
    def _merged(trials: list[Any], mine: dict[int, Any]) -> list[Any]:
        by_number = {t.number: t for t in trials}
        by_number.update(mine)
        return [by_number[n] for n in sorted(by_number)]


def _copied(trial: Any) -> Any:
    """A copy of a frozen trial whose dicts and values change apart from the original's.

    Optuna (its trial's cached copy) and this module change a trial's dicts by key, never
    the values in them, so copying the dicts is enough: a deepcopy took about 100 times as
    long (3 a trial, 2-3 ms in all).
    """
    new = copy.copy(trial)
    for name in ("_params", "_distributions", "_user_attrs", "_system_attrs"):
        setattr(new, name, dict(getattr(trial, name)))
    new.intermediate_values = dict(trial.intermediate_values)
    new._values = None if trial._values is None else list(trial._values)
    return new


class _Trials:
    """One study's trials by number, kept up to date from the trials read since.

    Optuna's caching layer reads only what changed too, but then sorts and filters every
    trial of the study on each read (two a trial): a cost that grows with the study. Here a
    read replaces the changed trials at their index (trials are numbered 0, 1, 2... in the
    order they were created), and the unfinished ones are remembered, so looking for
    queued or running trials does not go through the finished ones.
    """

    def __init__(self) -> None:
        self.all: list[Any] = []
        self.open: set[int] = set()  # numbers of the trials last read unfinished
        self.fresh = False  # False until a whole list was read (its first read)

    def reset(self, trials: list[Any]) -> None:
        self.all = list(trials)
        self.open = {t.number for t in self.all if not t.state.is_finished()}
        self.fresh = all(t.number == i for i, t in enumerate(self.all))

    def update(self, changed: list[Any]) -> bool:
        """Put `changed` in place; False when they do not fit (a reset is needed)."""
        if not self.fresh:
            return False
        for trial in changed:
            number = trial.number
            if number < len(self.all):
                self.all[number] = trial
            elif number == len(self.all):
                self.all.append(trial)
            else:  # a gap: not numbered as expected
                self.fresh = False
                return False
            if trial.state.is_finished():
                self.open.discard(number)
            else:
                self.open.add(number)
        return True

    def trials(self, states: tuple[Any, ...]) -> tuple[list[Any], list[Any]]:
        """A copy of the list, and its trials in `states`."""
        if not states:
            return list(self.all), []
        if all(not s.is_finished() for s in states):  # only unfinished trials can be
            chosen = [self.all[n] for n in sorted(self.open) if self.all[n].state in states]
        else:
            chosen = [t for t in self.all if t.state in states]
        return list(self.all), chosen


def _forward(name: str) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self._pending and name not in _PASS:
            self._send()
        return getattr(self._inner, name)(*args, **kwargs)

    method.__name__ = name
    return method


@functools.cache
def _storage_class() -> type:
    storages = require("optuna.storages", "optuna")
    bases = (_Calls, storages.BaseStorage, heartbeat_base())

    def init(self: Any, inner: Any) -> None:
        self._setup(inner)

    def getattr_(self: Any, name: str) -> Any:  # engine, outage, url...: the inner storage's
        if name.startswith("__") or name in _OWN:
            raise AttributeError(name)
        return getattr(self._inner, name)

    own = {name for name in vars(_Calls) if not name.startswith("__")}
    names = sorted({name for cls in bases[1:] for name, value in vars(cls).items()
                    if callable(value) and not name.startswith("__")} - own)
    namespace: dict[str, Any] = {name: _forward(name) for name in names}
    namespace.update(__init__=init, __getattr__=getattr_, __module__=__name__,
                     __doc__="An Optuna storage that saves a worker's round trips per trial.")
    cls: Any = type("BatchedStorage", bases, namespace)
    cls.__abstractmethods__ = frozenset()  # every abstract method is forwarded above
    return cls
