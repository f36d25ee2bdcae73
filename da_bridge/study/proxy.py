"""One storage proxy between many workers and the database: Optuna's gRPC proxy, for workers.

`da-bridge proxy --storage URL --port N` (or `start_proxy(URL, port=N)`) runs Optuna's gRPC
storage proxy (`optuna.storages.run_grpc_proxy_server`) in front of a database, and workers
open `grpc://HOST:N` instead of the database URL. The proxy keeps the study in memory (only
trials that changed are read again) and each worker keeps its own copy (only trials that
changed are sent), so a worker's proposal costs it a few small messages instead of dozens of
SQL statements, and the database sees one client instead of hundreds.

Optuna's proxy has no heartbeats and no lock, which the workers' guarantees rest on; this
proxy adds them as a second gRPC service next to Optuna's:

- a running trial's heartbeat goes through the proxy into the database, and a worker asks the
  proxy which trials' heartbeats are older than its grace period, so a killed worker's trial
  is failed and retried once, as with the database itself;
- the workers' "is there room? create the trial" lock (`max_trials`) is the same PostgreSQL
  advisory lock, taken by the proxy for the worker and given up when the worker releases it,
  when its call is cancelled, or after `LOCK_LEASE` seconds (a worker killed while holding it);
- a trial's parameters and attributes are written in one call (one transaction);
- a trial a worker just created is not read back from the database when the worker asks
  for it (Optuna's caching layer holds what the creation returned; `_NewTrials`).

Workers going through the proxy and workers on the database directly can share a study.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from da_bridge._imports import require
from da_bridge.errors import OptionError, StoreError
from da_bridge.study._optuna_internals import proxy_server
from da_bridge.study._proxy_client import CALLS, SCHEME, SERVICE
from da_bridge.study._proxy_client import proxy_address as proxy_address  # public here
from da_bridge.study.store import _check_timing, _rdb, database_url, redact_url
from da_bridge.study.worker import _CreationLock

logger = logging.getLogger(__name__)

DEFAULT_PORT = 13000
DEFAULT_THREADS = 64
#: Seconds the proxy holds a worker's creation lock at most (the worker holds it for
#: milliseconds: one look at the study and one new trial).
LOCK_LEASE = 30.0
#: Seconds a worker's call waits for the creation lock before it is told to ask again.
LOCK_WAIT = 0.5
#: Addresses only this machine can reach (anything else: a warning, the proxy is open).
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


class ProxyServer:
    """A running proxy (`start_proxy`): its `port`, `stop()`, and `wait()` until stopped."""

    def __init__(self, server: Any, port: int, storage: Any, location: str) -> None:
        self._server, self.port, self.storage, self.location = server, port, storage, location

    def wait(self) -> None:
        """Block until the server stops."""
        self._server.wait_for_termination()

    def stop(self, grace: float | None = 1.0) -> None:
        """Stop serving (calls still running get `grace` seconds)."""
        self._server.stop(grace).wait()


def start_proxy(storage: str, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                threads: int = DEFAULT_THREADS, connect_timeout: float | None = None,
                db_retry: float | None = None) -> ProxyServer:
    """Start a storage proxy for the database `storage` in this process (in threads).

    Args:
        storage: A database URL (`postgresql://...`, `mysql://...`).
        host: The address to listen on (`0.0.0.0` for every interface).
        port: The port to listen on; 0 picks a free one (see `ProxyServer.port`).
        threads: Calls served at once (a worker waiting for the creation lock holds one).
        connect_timeout: Seconds to wait for the database server.
        db_retry: Seconds to retry while the database cannot be reached.

    Raises:
        OptionError: `storage` is not a database server's URL.
        StoreError: the database cannot be opened, or the port is taken.
    """
    if not isinstance(storage, str) or "://" not in storage or \
            storage.startswith(("sqlite", "journal://", SCHEME)):
        raise OptionError(f"the proxy serves a database server (postgresql://..., "
                          f"mysql://...); got {storage!r}")
    optuna = require("optuna", "optuna")
    timing = _check_timing(None, None, connect_timeout, db_retry)
    opened = _rdb(optuna, database_url(storage), True, *timing, pool_size=threads)
    where = redact_url(storage)
    backend = _NewTrials(opened)
    server = proxy_server(backend, threads)
    server.add_generic_rpc_handlers((_Service(opened, backend).handler(),))
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        bound = 0
    if not bound:
        raise StoreError(f"the proxy cannot listen on {host}:{port}: is the port taken?")
    server.start()
    logger.info("storage proxy for %s listening on %s:%d", where, host, bound)
    if host not in _LOOPBACK:
        logger.warning("the storage proxy on %s:%d has no authentication and no encryption: "
                       "whoever reaches that port can read, change and delete every study in "
                       "%s; allow only the workers' machines (a firewall), or listen on "
                       "127.0.0.1 and reach it through SSH tunnels", host, bound, where)
    return ProxyServer(server, bound, opened, where)


class _NewTrials:
    """The proxy's storage as Optuna's service sees it, less one read per trial.

    A worker reads the trial it created at once (Optuna's `ask`). The caching layer holds
    what the creation returned (RUNNING, nothing written yet) but reads a running trial
    again from the database anyway: six statements and a few milliseconds of the proxy's
    CPU per trial. The first read of a new trial is served from the cache, as a direct
    worker serves it (`created_trial`); any write to the trial first makes it read again.
    """

    #: New trials remembered at most (a worker that died before its first read leaves one).
    LIMIT = 10_000

    def __init__(self, storage: Any) -> None:
        self._storage = storage
        self._new: set[int] = set()
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)

    def create_new_trial(self, study_id: int, template_trial: Any = None) -> int:
        trial_id = int(self._storage.create_new_trial(study_id, template_trial))
        if template_trial is None:  # a template's values are written after creation
            with self._lock:
                if len(self._new) >= self.LIMIT:
                    self._new.clear()
                self._new.add(trial_id)
        return trial_id

    def get_trial(self, trial_id: int) -> Any:
        with self._lock:
            new = trial_id in self._new
            self._new.discard(trial_id)
        trial = self._storage.created_trial(trial_id) if new else None
        return trial if trial is not None else self._storage.get_trial(trial_id)

    def changed(self, trial_id: int) -> None:
        """`trial_id` was written: read it from the database from now on."""
        with self._lock:
            self._new.discard(trial_id)

    def set_trial_param(self, trial_id: int, *args: Any) -> None:
        self.changed(trial_id)
        self._storage.set_trial_param(trial_id, *args)

    def set_trial_state_values(self, trial_id: int, *args: Any) -> bool:
        self.changed(trial_id)
        return bool(self._storage.set_trial_state_values(trial_id, *args))

    def set_trial_intermediate_value(self, trial_id: int, *args: Any) -> None:
        self.changed(trial_id)
        self._storage.set_trial_intermediate_value(trial_id, *args)

    def set_trial_user_attr(self, trial_id: int, *args: Any) -> None:
        self.changed(trial_id)
        self._storage.set_trial_user_attr(trial_id, *args)

    def set_trial_system_attr(self, trial_id: int, *args: Any) -> None:
        self.changed(trial_id)
        self._storage.set_trial_system_attr(trial_id, *args)


class _Service:
    """The calls Optuna's proxy lacks: heartbeats, stale trials, the creation lock, writes."""

    def __init__(self, storage: Any, backend: _NewTrials) -> None:
        self.storage, self.backend = storage, backend
        self._beat = _heartbeat_upsert(storage._rdb)
        self._stale_lock = threading.Lock()
        self._locks: dict[str, Any] = {}  # token -> (database lock, gate, lease timer)
        self._gates: dict[str, threading.Lock] = {}  # study name -> one holder at a time
        self._locks_lock = threading.Lock()

    def handler(self) -> Any:
        grpc = require("grpc", "postgres")
        methods = dict(zip(CALLS, (self.heartbeat, self.stale_trials, self.lock, self.unlock,
                                   self.write_trial), strict=True))
        return grpc.method_handlers_generic_handler(SERVICE, {
            name: grpc.unary_unary_rpc_method_handler(
                _answering(fn), request_deserializer=json.loads,
                response_serializer=lambda value: json.dumps(value).encode())
            for name, fn in methods.items()})

    def heartbeat(self, request: dict[str, Any], context: Any) -> None:
        if self._beat is None:
            self.storage.record_heartbeat(request["trial_id"])
        else:  # retried (quietly) as Optuna's call is
            self.storage.outage.call("record_heartbeat", self._beat, request["trial_id"])

    def stale_trials(self, request: dict[str, Any], context: Any) -> list[int]:
        rdb = self.storage._rdb
        with self._stale_lock:  # each worker names its own grace period
            rdb.heartbeat_interval = request["interval"]
            rdb.grace_period = request["grace"]
            return list(self.storage._get_stale_trial_ids(request["study_id"]))

    def lock(self, request: dict[str, Any], context: Any) -> str:
        """A token, or "": another worker holds the lock; the worker asks again.

        Waiting here would hold one of the server's threads (the holder needs one to create
        its trial) and a database connection each; so one waiter per study at a time takes
        the database's lock, and the others are told to come back.
        """
        name = request["study_name"]
        with self._locks_lock:
            gate = self._gates.setdefault(name, threading.Lock())
        if not gate.acquire(timeout=LOCK_WAIT):
            return ""
        try:
            held = _CreationLock(self.storage, name)
            held.acquire()  # the database's lock: workers on the database, other proxies
        except BaseException:
            gate.release()
            raise
        token = uuid.uuid4().hex
        if not context.is_active():  # the worker gave up (or died) while waiting
            self._release((held, gate, None))
            return ""
        timer = threading.Timer(LOCK_LEASE, self._expire, (token,))
        timer.daemon = True
        with self._locks_lock:
            self._locks[token] = (held, gate, timer)
        timer.start()
        return token

    def unlock(self, request: dict[str, Any], context: Any) -> None:
        with self._locks_lock:
            entry = self._locks.pop(request["token"], None)
        if entry is not None:
            self._release(entry)

    def _expire(self, token: str) -> None:
        with self._locks_lock:
            entry = self._locks.pop(token, None)
        if entry is not None:
            logger.warning("a worker held the creation lock for %.0f s (killed?); released it",
                           LOCK_LEASE)
            self._release(entry)

    @staticmethod
    def _release(entry: tuple[Any, Any, Any]) -> None:
        held, gate, timer = entry
        if timer is not None:
            timer.cancel()
        try:
            held.release()
        finally:
            gate.release()

    def write_trial(self, request: dict[str, Any], context: Any) -> None:
        distributions = require("optuna.distributions", "optuna")
        self.backend.changed(request["trial_id"])
        params = [(name, value, distributions.json_to_distribution(dist))
                  for name, value, dist in request["params"]]
        self.storage.write_trial(request["trial_id"], params,
                                 [tuple(a) for a in request["user_attrs"]],
                                 [tuple(a) for a in request["system_attrs"]])


def _heartbeat_upsert(rdb: Any) -> Callable[[int], None] | None:
    """On PostgreSQL, a trial's heartbeat in one statement (an upsert on Optuna's table).

    Optuna's `record_heartbeat` reads the row, then inserts it, or reads it again for update,
    asks the server for the time and updates it: two to four statements, a tenth of the
    proxy's CPU per trial. The row and the server's clock are the same here; None elsewhere.
    """
    if rdb.engine.dialect.name != "postgresql":
        return None
    sqlalchemy = require("sqlalchemy", "optuna")
    postgresql = require("sqlalchemy.dialects.postgresql", "optuna")
    models = require("optuna.storages._rdb.models", "optuna")
    table = models.TrialHeartbeatModel.__table__
    statement = postgresql.insert(table).values(
        trial_id=sqlalchemy.bindparam("trial_id"), heartbeat=sqlalchemy.func.now(),
    ).on_conflict_do_update(index_elements=[table.c.trial_id],
                            set_={"heartbeat": sqlalchemy.func.now()})

    def beat(trial_id: int) -> None:
        with rdb.engine.begin() as connection:
            connection.execute(statement, {"trial_id": trial_id})

    return beat


def _answering(fn: Callable[[dict[str, Any], Any], Any]) -> Callable[[dict[str, Any], Any], Any]:
    """`fn` with Optuna's errors sent as the status codes Optuna's proxy client reads."""
    def call(request: dict[str, Any], context: Any) -> Any:
        grpc = require("grpc", "postgres")
        optuna = require("optuna", "optuna")
        try:
            answer = fn(request, context)
            return True if answer is None else answer  # grpc sends nothing for None
        except KeyError as exc:
            context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
        except optuna.exceptions.UpdateFinishedTrialError as exc:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
        except ValueError as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))

    return call
