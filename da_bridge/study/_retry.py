"""A database storage that rides out a server restart.

Every call to the storage that fails because the server cannot be reached (the
connection was refused, reset or dropped) is tried again with a growing pause,
for up to `db_retry` seconds after the first failure; then `StoreError` says so
in one line. Errors in what was sent (a bad value, a constraint) are not retried.
A heartbeat is not retried (the next one comes soon); right after an outage,
and for a trial whose owner runs on this machine, no heartbeat makes a trial stale.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from da_bridge._imports import require
from da_bridge.errors import StoreError
from da_bridge.study._optuna_internals import (
    create_trial,
    created_trial,
    finish_trial,
    heartbeat_base,
    read_changed,
    write_trial,
)
from da_bridge.study._owners import owner_alive

logger = logging.getLogger(__name__)

#: Seconds a storage call is retried while the database cannot be reached.
DB_RETRY = 60.0
_FIRST_PAUSE, _LONGEST_PAUSE = 0.25, 5.0
_QUIET = ("record_heartbeat",)


def transient(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the database (or the proxy) could not be reached."""
    from sqlalchemy import exc as sa

    grpc = sys.modules.get("grpc")  # the storage proxy: only if it is in use
    for link in _chain(exc):
        if grpc is not None and isinstance(link, grpc.RpcError) and link.code() in (
                grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):  # a proxy restarts
            return True
        if isinstance(link, (sa.OperationalError, sa.InterfaceError, sa.DisconnectionError,
                             sa.PendingRollbackError)):
            return True
        if isinstance(link, sa.DBAPIError) and link.connection_invalidated:
            return True
    return False


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what caused it, five deep at most."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 5:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


class Outage:
    """Retries a call while the database is unreachable, logging once per outage."""

    def __init__(self, where: str, seconds: float,
                 reset: Callable[[], Any] = lambda: None, what: str = "the database") -> None:
        self.where, self.seconds, self._reset, self.what = where, seconds, reset, what
        self._lock = threading.Lock()
        self._since: float | None = None
        self._back: float | None = None

    def back_within(self, seconds: float) -> bool:
        """Whether the database came back from an outage less than `seconds` ago (or is down)."""
        with self._lock:
            if self._since is not None:
                return True
            return self._back is not None and time.monotonic() - self._back < seconds

    def call(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        pause, failed = _FIRST_PAUSE, False
        while True:
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                if failed and _already_done(name, exc):
                    return True
                if not transient(exc):
                    raise
                failed = True
                waited = self._failed(exc)
                if name in _QUIET:  # a missed heartbeat is harmless; the next one may pass
                    return None
                if waited >= self.seconds:
                    raise StoreError(f"{self.what} {self.where} could not be reached for "
                                     f"{waited:.0f} s ({_first_line(exc)}); giving up (raise "
                                     "the limit with --db-retry SECONDS)") from None
                time.sleep(min(pause, max(0.0, self.seconds - waited)) + 0.01)
                pause = min(pause * 2, _LONGEST_PAUSE)
                _quietly(self._reset)  # a session left in a failed transaction
                continue
            if self._since is not None:
                self._recovered()
            return result

    def _failed(self, exc: BaseException) -> float:
        with self._lock:
            now = time.monotonic()
            if self._since is None:
                self._since = now
                logger.warning("%s %s cannot be reached (%s); retrying for up to %.0f s",
                               self.what, self.where, _first_line(exc), self.seconds)
            return now - self._since

    def _recovered(self) -> None:
        with self._lock:
            if self._since is not None:
                self._back = time.monotonic()
                logger.warning("%s %s is back after %.1f s", self.what, self.where,
                               self._back - self._since)
                self._since = None


def _quietly(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:
        logger.debug("resetting the database session failed", exc_info=True)


def _already_done(name: str, exc: BaseException) -> bool:
    """A retried write whose first try reached the server before the connection dropped."""
    from optuna.exceptions import UpdateFinishedTrialError
    from sqlalchemy.exc import IntegrityError

    if name == "write_trial":  # its parameters are there: the first try committed
        return any(isinstance(link, IntegrityError) for link in _chain(exc))
    return name in ("set_trial_state_values", "finish_trial") and \
        isinstance(exc, UpdateFinishedTrialError)


def _first_line(exc: BaseException) -> str:
    cause = exc
    while cause.__cause__ is not None:
        cause = cause.__cause__
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0] if text else ''}".strip()


def retrying_storage(inner: Any, rdb: Any, where: str, seconds: float = DB_RETRY,
                     what: str = "the database") -> Any:
    """`inner` (an Optuna storage) with every call retried while the database is unreachable.

    Args:
        inner: The storage to call (a cached RDB storage).
        rdb: The RDB storage behind it (its `engine`, `url`... stay reachable).
        where: The database, as the messages name it (password hidden).
        seconds: How long to retry after the first failure.
        what: What `where` is, as the messages name it ("the storage proxy" for grpc://).
    """
    return _storage_class()(inner, rdb, Outage(where, seconds, rdb.remove_session, what))


@functools.cache
def _storage_class() -> type:
    storages = require("optuna.storages", "optuna")
    bases = (storages.BaseStorage, heartbeat_base())

    def forward(name: str) -> Callable[..., Any]:
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return self.outage.call(name, getattr(self._inner, name), *args, **kwargs)

        method.__name__ = name
        return method

    def init(self: Any, inner: Any, rdb: Any, outage: Outage) -> None:
        self._inner, self._rdb, self.outage = inner, rdb, outage

    def getattr_(self: Any, name: str) -> Any:  # engine, url, ...: the RDB storage's
        if name.startswith("__") or name in ("_inner", "_rdb", "outage"):
            raise AttributeError(name)
        return getattr(self._rdb, name)

    def stale_trial_ids(self: Any, study_id: int) -> list[int]:
        # After an outage nobody could send heartbeats: give live owners a grace period.
        grace = self._rdb.grace_period or 0
        if self.outage.back_within(grace + (self._rdb.heartbeat_interval or 0)):
            return []
        ids = self.outage.call("_get_stale_trial_ids", self._inner._get_stale_trial_ids,
                               study_id)
        return [i for i in ids if not owner_alive(self.get_trial(i))]

    def write_trial_(self: Any, trial_id: int, *writes: Any) -> None:
        # an object of ours (the proxy's client) writes itself; Optuna's cached RDB through us
        inner_write = getattr(self._inner, "write_trial", None)
        if inner_write is not None:
            self.outage.call("write_trial", inner_write, trial_id, *writes)
        else:
            self.outage.call("write_trial", write_trial, self._inner, trial_id, *writes)

    def finish_trial_(self: Any, trial_id: int, *writes: Any) -> bool:
        # the held writes and the tell in one transaction (a cached RDB storage only)
        return bool(self.outage.call("finish_trial", finish_trial, self._inner, trial_id,
                                     *writes))

    def read_changed_(self: Any, study_id: int) -> list[Any]:
        # the study's trials new or changed since the last read (a cached RDB storage only)
        return list(self.outage.call("read_changed", read_changed, self._inner, study_id))

    def create_trial_(self: Any, study_id: int) -> tuple[int, bool]:
        # a new trial and its first heartbeat in one statement (a cached RDB storage only)
        return tuple(self.outage.call("create_trial", create_trial, self._inner, study_id))

    def incremental(self: Any) -> bool:
        """Whether `create_trial`, `finish_trial` and `read_changed` work (Optuna's cached
        RDB storage behind)."""
        return hasattr(self._inner, "_trial_id_to_study_id_and_number")

    def created_trial_(self: Any, trial_id: int) -> Any:
        # the trial this process just created, from the caching layer (None: read it)
        if self.incremental:  # Optuna's caching layer is behind
            return created_trial(self._inner, trial_id)
        return None

    names = sorted({name for cls in bases for name, value in vars(cls).items()
                    if callable(value) and not name.startswith("__")})
    namespace: dict[str, Any] = {name: forward(name) for name in names}
    namespace.update(_get_stale_trial_ids=stale_trial_ids, __init__=init,
                     write_trial=write_trial_, created_trial=created_trial_,
                     finish_trial=finish_trial_, read_changed=read_changed_,
                     create_trial=create_trial_,
                     incremental=property(incremental),
                     __getattr__=getattr_, __module__=__name__,
                     __doc__="An Optuna storage whose calls are retried while the database "
                             "is unreachable.")
    cls: Any = type("RetryingStorage", bases, namespace)
    cls.__abstractmethods__ = frozenset()  # every abstract method is forwarded above
    return cls


def store_error_in(exc: BaseException) -> StoreError | None:
    """The `StoreError` behind `exc`: Optuna masks a failed tell with an UnboundLocalError."""
    return next((e for e in _chain(exc) if isinstance(e, StoreError)), None)
