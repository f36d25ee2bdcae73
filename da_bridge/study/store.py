"""The results store: an Optuna storage, embedded by default.

With no storage given, each study lives in its own journal file
`./da_runs/<study name>.journal` (override the folder with `DA_BRIDGE_RUNS`),
so runs can be resumed, listed and replayed after the process ends. Any
Optuna storage URL works too (`sqlite:///runs.db`, `postgresql://...`): RDB
storages get heartbeats so a killed worker's trial is failed and retried
once instead of staying RUNNING forever, and every call to a database is
retried while the server cannot be reached (`db_retry` seconds). Many workers
can share one caching proxy in front of the database (`grpc://HOST:PORT`, see
`da_bridge.study.proxy`), with the same heartbeats and retries.

The journal file is locked by the kernel (a killed process frees it), and a
tail a crash or a full disk damaged is set aside and cut off at the next open
(see `da_bridge.study._journal`).
"""

from __future__ import annotations

import math
import os
import random
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from da_bridge._imports import require
from da_bridge.errors import MissingExtraError, OptionError, StoreError
from da_bridge.study._journal import journal_backend
from da_bridge.study._optuna_internals import cached_storage
from da_bridge.study._optuna_internals import storage_location as storage_location  # public here
from da_bridge.study._proxy_client import open_proxy
from da_bridge.study._retry import DB_RETRY, retrying_storage

if TYPE_CHECKING:
    import optuna

RUNS_ENV = "DA_BRIDGE_RUNS"
HEARTBEAT_INTERVAL = 10  # seconds between heartbeats of a running trial
GRACE_PERIOD = 30  # seconds without heartbeat before a trial counts as dead
CONNECT_TIMEOUT = 10  # seconds to wait for a database server
MEMORY = ":memory:"


def runs_dir() -> Path:
    """The folder of the embedded journal files (`./da_runs` unless `DA_BRIDGE_RUNS` is set)."""
    return Path(os.environ.get(RUNS_ENV, "da_runs"))


def journal_path(study_name: str) -> Path:
    """Where the embedded store keeps `study_name`."""
    if not study_name or "/" in study_name or study_name.startswith("."):
        raise StoreError(f"study name {study_name!r} cannot be a file name; use letters, "
                         "digits, '-' and '_'")
    return runs_dir() / f"{study_name}.journal"


def open_storage(storage: Any, study_name: str, *, heartbeat: bool = True,
                 heartbeat_interval: float | None = None, grace_period: float | None = None,
                 connect_timeout: float | None = None, db_retry: float | None = None) -> Any:
    """An Optuna storage for `storage`: None (embedded journal), a URL, a path or a storage.

    Args:
        storage: None for `./da_runs/<study_name>.journal`; ":memory:" for a
            store that ends with the process; a `.journal`/`.log`
            path; an Optuna URL (`sqlite:///`, `postgresql://`, `mysql://`); a
            `grpc://HOST:PORT` storage proxy (`da-bridge proxy`, see
            `da_bridge.study.proxy`); or an Optuna storage object, returned as is.
        study_name: Names the journal file when `storage` is None.
        heartbeat: Turn on heartbeats and one retry of dead trials (RDB only).
        heartbeat_interval: Seconds between heartbeats (default `HEARTBEAT_INTERVAL`).
        grace_period: Seconds without a heartbeat after which a running trial is
            failed and retried (default `GRACE_PERIOD`).
        connect_timeout: Seconds to wait for a PostgreSQL/MySQL server before
            `StoreError` (default `CONNECT_TIMEOUT`).
        db_retry: Seconds a call to a database server is retried while the
            server cannot be reached, before `StoreError` (default `DB_RETRY`, 60).

    Raises:
        StoreError: the storage cannot be opened or read, or is no storage at all.
    """
    optuna = require("optuna", "optuna")
    if storage == MEMORY:
        return optuna.storages.InMemoryStorage()
    if storage is None:
        return _journal(optuna, journal_path(study_name))
    if not isinstance(storage, (str, os.PathLike)):
        if not isinstance(storage, optuna.storages.BaseStorage):
            raise StoreError(f"storage must be None, ':memory:', a journal path, a database URL "
                             f"or an Optuna storage; got {storage!r}")
        return storage
    text = os.fspath(storage)
    if "://" not in text:
        return _journal(optuna, Path(text))
    if text.startswith("journal://"):
        return _journal(optuna, Path(text.removeprefix("journal://")))
    timing = _check_timing(heartbeat_interval, grace_period, connect_timeout, db_retry)
    if text.startswith("grpc://"):  # `da-bridge proxy` in front of the database
        interval, grace, connect, retry = timing
        return open_proxy(text, heartbeat=heartbeat, heartbeat_interval=interval,
                          grace_period=grace, connect_timeout=connect, db_retry=retry)
    return _rdb(optuna, database_url(text), heartbeat, *timing)


def database_url(url: str) -> str:
    """`url` with a PostgreSQL driver that is installed, when it names none.

    SQLAlchemy 2.1 reads `postgresql://` as psycopg 3; with only psycopg2 installed
    that fails, so a plain URL gets whichever driver is there.

    Example:
        >>> database_url("sqlite:///runs.db")
        'sqlite:///runs.db'
    """
    import importlib.util

    scheme, _, rest = url.partition("://")
    if scheme not in ("postgresql", "postgres"):
        return url
    for module, driver in (("psycopg", "psycopg"), ("psycopg2", "psycopg2")):
        if importlib.util.find_spec(module) is not None:
            return f"postgresql+{driver}://{rest}"
    raise MissingExtraError("a PostgreSQL driver is needed for this storage: "
                            "pip install 'da_bridge[postgres]'")


def _journal(optuna: Any, path: Path) -> Any:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot make the folder of the journal {str(path)!r}: "
                         f"{exc.strerror or exc}") from exc
    backend = journal_backend(path)
    try:
        return optuna.storages.JournalStorage(backend)
    except ValueError:
        if backend.repair():  # a record an older version glued to a cut line
            return _journal(optuna, path)
        raise
    except StoreError:
        raise
    except Exception as exc:
        where = _bad_line(path)
        raise StoreError(f"cannot read the journal {str(path)!r}{where}: "
                         f"{type(exc).__name__}: {exc}") from exc


def _bad_line(path: Path) -> str:
    """Where a journal stops being one JSON object per line (its last line may be cut)."""
    import json

    try:
        lines = path.read_bytes().split(b"\n")
    except OSError:
        return ""
    for number, line in enumerate(lines[:-1], start=1):
        try:
            ok = isinstance(json.loads(line), dict)
        except ValueError:
            ok = False
        if not ok:
            return (f", line {number} (the lines before it are intact; fix or delete that "
                    "line to read the rest)")
    return ""


def _check_timing(interval: Any, grace: Any, connect: Any,
                  retry: Any = None) -> tuple[Any, Any, Any, Any]:
    for name, value in (("heartbeat_interval", interval), ("grace_period", grace),
                        ("connect_timeout", connect), ("db_retry", retry)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not value > 0):
            raise OptionError(f"{name} must be a positive number of seconds; got {value!r}")
    return (interval or HEARTBEAT_INTERVAL, grace or GRACE_PERIOD,
            int(math.ceil(connect or CONNECT_TIMEOUT)), DB_RETRY if retry is None else retry)


def _rdb(optuna: Any, url: str, heartbeat: bool, interval: float = HEARTBEAT_INTERVAL,
         grace: float = GRACE_PERIOD, connect_timeout: int = CONNECT_TIMEOUT,
         db_retry: float = DB_RETRY, pool_size: int | None = None) -> Any:
    kwargs: dict[str, Any] = {}
    if not url.startswith("sqlite"):  # heartbeats for servers shared by many machines
        kwargs["engine_kwargs"] = {"pool_pre_ping": True}
        if pool_size is not None:  # the proxy: a connection for each of its threads
            kwargs["engine_kwargs"].update(pool_size=pool_size, max_overflow=10)
        if url.startswith(("postgresql", "mysql")) and "connect_timeout" not in url:
            kwargs["engine_kwargs"]["connect_args"] = {"connect_timeout": connect_timeout}
        if heartbeat:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
            kwargs.update(heartbeat_interval=interval, grace_period=grace,
                          heartbeat_stale_trial_callback=retry)
    try:
        rdb = _create_rdb(optuna, url, kwargs)
    except Exception as exc:
        raise StoreError(f"cannot open storage {redact_url(url)!r}: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}") from exc
    if url.startswith("sqlite"):
        return rdb
    return retrying_storage(cached_storage(rdb), rdb, repr(redact_url(url)), db_retry)


def _create_rdb(optuna: Any, url: str, kwargs: dict[str, Any]) -> Any:
    """RDBStorage, retried while other processes create the same tables at the same moment."""
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    for attempt in range(8):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, **kwargs)
        except (IntegrityError, ProgrammingError):
            if attempt == 7:
                raise
            time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))
    raise AssertionError("unreachable")


def list_studies(storage: Any = None) -> list[str]:
    """Names of the studies in `storage` (in the embedded store: every journal file)."""
    optuna = require("optuna", "optuna")
    if storage is None:
        return sorted(p.stem for p in runs_dir().glob("*.journal"))
    return sorted(s.study_name for s in optuna.get_all_study_summaries(
        open_storage(storage, "_", heartbeat=False)))


def load_study(study_name: str, storage: Any = None) -> optuna.Study:
    """Load an existing study; `StoreError` naming the known studies if there is none."""
    optuna = require("optuna", "optuna")
    if storage is None and not journal_path(study_name).exists():
        raise StoreError(f"no study {study_name!r} in {str(runs_dir())!r}; "
                         f"known: {list_studies(None)}")
    opened = open_storage(storage, study_name)
    try:
        return optuna.load_study(study_name=study_name, storage=opened)
    except KeyError as exc:
        names = [s.study_name for s in optuna.get_all_study_summaries(opened)]
        raise StoreError(f"no study {study_name!r} in the storage; known: {names}") from exc


def redact_url(url: str) -> str:
    """Hide the password in a database URL."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
