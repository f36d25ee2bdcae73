"""Every Optuna internal the runtime relies on, in one place.

Optuna has no public API for these; each is used for a reason that says what breaks without
it. `tests/study/test_optuna_internals.py` exercises every one on the installed Optuna and
fails naming the Optuna version when one moves. (The sampler snapshot in
`da_bridge.adapters._snapshot` serves TPE's reads of `Study._get_trials`; its test is in
`tests/adapters/test_optuna.py`.)
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from da_bridge._imports import require


def cached_storage(rdb: Any) -> Any:
    """The caching layer `optuna.create_study` puts around an RDB storage.

    The retrying wrapper goes around this layer, so a retried call still reads the cache.
    """
    module = require("optuna.storages._cached_storage", "optuna")
    return module._CachedStorage(rdb)


def created_trial(cached: Any, trial_id: int) -> Any:
    """The trial `cached` (`cached_storage`) created as `trial_id`, as its creation left it
    (RUNNING, no parameters yet), or None when it does not hold it that way.

    Optuna's caching layer keeps the trial the database returned at creation, but reads it
    again in full (six statements) when asked for it, because it is not finished.
    """
    with cached._lock:
        entry = cached._trial_id_to_study_id_and_number.get(trial_id)
        study = cached._studies.get(entry[0]) if entry else None
        trial = study.trials.get(entry[1]) if study is not None else None
    if trial is None or trial._trial_id != trial_id or trial.params or \
            trial.state.name != "RUNNING":
        return None
    return trial


def heartbeat_base() -> type:
    """Optuna's heartbeat interface: a storage that is one gets `fail_stale_trials`."""
    base: type = require("optuna.storages._heartbeat", "optuna").BaseHeartbeat
    return base


def heartbeat_enabled(storage: Any) -> bool:
    """Whether `storage` sends heartbeats for running trials (an RDB with an interval)."""
    return bool(require("optuna.storages._heartbeat", "optuna").is_heartbeat_enabled(storage))


def storage_location(storage: Any) -> str | None:
    """The journal file path or database URL behind an Optuna storage object, if any.

    Example:
        >>> import optuna
        >>> storage_location(optuna.storages.InMemoryStorage()) is None
        True
    """
    layer = storage
    for _ in range(3):  # a cached storage wraps an RDB storage; a JournalStorage a backend
        if isinstance(getattr(layer, "url", None), str):
            return str(layer.url)
        if isinstance(getattr(layer, "_file_path", None), str):
            return str(Path(layer._file_path).resolve())
        layer = getattr(layer, "_backend", None)
    return None


def storage_of(study: Any) -> Any:
    """The storage a study reads and writes (to fail another process's trial, or to ask our
    journal backend whether another process has it open)."""
    return study._storage


def trial_id(trial: Any) -> int:
    """A frozen trial's id in its storage (the storage's calls take ids, not numbers)."""
    return int(trial._trial_id)


def write_trial(cached: Any, trial_id: int, params: list[tuple[str, float, Any]],
                user_attrs: list[tuple[str, Any]], system_attrs: list[tuple[str, Any]]) -> None:
    """Write a running trial's parameters and attributes in one database transaction.

    Optuna writes each in its own transaction (a commit and a read of the trial each, about
    a dozen per architecture); this reads the trial's state once and inserts the parameters
    in one statement and each kind of attribute in one more (PostgreSQL). `cached` is the
    caching layer around an RDB storage (`cached_storage`): it knows each parameter's
    distribution, so only a parameter it has not seen yet is checked against the database.
    The statements are SQLAlchemy Core ones on the tables, built once: the ORM's work per
    statement was about half of this call's CPU.
    """
    rdb_module = require("optuna.storages._rdb.storage", "optuna")
    models = require("optuna.storages._rdb.models", "optuna")
    distributions = require("optuna.distributions", "optuna")
    rdb = cached._backend
    with cached._lock:
        # a trial this process has not read (a proxy restarted meanwhile): no known domains
        entry = cached._trial_id_to_study_id_and_number.get(trial_id)
        known = cached._studies[entry[0]].param_distribution if entry else {}
        with rdb_module._create_scoped_session(rdb.scoped_session, True) as session:
            connection = session.connection()  # the session's transaction
            state = connection.execute(_state_of(), {"id": trial_id}).scalar_one_or_none()
            if state is None:
                raise KeyError(models.NOT_FOUND_MSG)
            rdb.check_trial_is_updatable(trial_id, state)
            rows = []
            for name, value, distribution in params:
                if name not in known:  # the database's check: same name, compatible domain
                    rdb._set_trial_param_without_commit(session, trial_id, name, value,
                                                        distribution)
                    continue
                distributions.check_distribution_compatibility(known[name], distribution)
                rows.append({"trial_id": trial_id, "param_name": name, "param_value": value,
                             "distribution_json": distributions.distribution_to_json(
                                 distribution)})
            if rows:
                connection.execute(_param_insert(), rows)
            _write_attrs(rdb, session, connection, trial_id, user_attrs, system_attrs)
        for name, _, distribution in params:
            known.setdefault(name, distribution)


def _write_attrs(rdb: Any, session: Any, connection: Any, trial_id: int,
                 user_attrs: list[tuple[str, Any]], system_attrs: list[tuple[str, Any]]) -> None:
    """`write_trial`'s attributes: one upsert per kind on PostgreSQL, Optuna's writes else."""
    import json

    models = require("optuna.storages._rdb.models", "optuna")
    for model, attrs in ((models.TrialUserAttributeModel, user_attrs),
                         (models.TrialSystemAttributeModel, system_attrs)):
        latest = dict(attrs)  # the last value of a key set twice
        if rdb.engine.name == "postgresql" and latest:
            connection.execute(_attr_upsert(model),
                               [{"trial_id": trial_id, "key": key, "value_json": json.dumps(value)}
                                for key, value in latest.items()])
            continue
        for key, value in latest.items():
            rdb._set_trial_attr_without_commit(session, model, trial_id, key, value)


@functools.cache
def _state_of() -> Any:
    """A Core select of one trial's state (what `TrialModel.find_or_raise_by_id` reads)."""
    import sqlalchemy

    table = require("optuna.storages._rdb.models", "optuna").TrialModel.__table__
    return sqlalchemy.select(table.c.state).where(table.c.trial_id ==
                                                  sqlalchemy.bindparam("id"))


@functools.cache
def _param_insert() -> Any:
    """A Core insert of trial parameters (one row per parameter)."""
    import sqlalchemy

    return sqlalchemy.insert(require("optuna.storages._rdb.models",
                                     "optuna").TrialParamModel.__table__)


@functools.cache
def _attr_upsert(model: Any) -> Any:
    """A PostgreSQL insert-or-update of one attribute model's rows (keyed by trial and key)."""
    from sqlalchemy.dialects.postgresql import insert

    table = model.__table__
    statement = insert(table)
    return statement.on_conflict_do_update(index_elements=[table.c.trial_id, table.c.key],
                                           set_={"value_json": statement.excluded.value_json})


def proxy_server(storage: Any, threads: int) -> Any:
    """Optuna's gRPC storage proxy service for `storage` on a new server, not started yet
    and on no port yet (so that da_bridge adds its own service and picks the port)."""
    from concurrent.futures import ThreadPoolExecutor

    grpc = require("grpc", "postgres")
    servicer = require("optuna.storages._grpc.servicer", "optuna")
    stubs = require("optuna.storages._grpc.auto_generated.api_pb2_grpc", "optuna")
    server = grpc.server(ThreadPoolExecutor(threads))
    stubs.add_StorageServiceServicer_to_server(servicer.OptunaStorageProxyService(storage),
                                               server)
    return server
