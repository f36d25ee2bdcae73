"""Every Optuna internal the runtime relies on, in one place.

Optuna has no public API for these; each is used for a reason that says what breaks without
it. `tests/study/test_optuna_internals.py` exercises every one on the installed Optuna and
fails naming the Optuna version when one moves. (The sampler snapshot in
`da_bridge.adapters._snapshot` serves TPE's reads of `Study._get_trials`; its test is in
`tests/adapters/test_optuna.py`.)
"""

from __future__ import annotations

import datetime
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
    rdb = cached._backend
    with cached._lock:
        with rdb_module._create_scoped_session(rdb.scoped_session, True) as session:
            connection = session.connection()  # the session's transaction
            state = connection.execute(_state_of(), {"id": trial_id}).scalar_one_or_none()
            if state is None:
                raise KeyError(models.NOT_FOUND_MSG)
            rdb.check_trial_is_updatable(trial_id, state)
            _write(cached, session, connection, trial_id, params, user_attrs, system_attrs)


def _write(cached: Any, session: Any, connection: Any, trial_id: int,
           params: list[tuple[str, float, Any]], user_attrs: list[tuple[str, Any]],
           system_attrs: list[tuple[str, Any]]) -> None:
    """`write_trial`'s statements in the caller's transaction (the trial is updatable)."""
    distributions = require("optuna.distributions", "optuna")
    rdb = cached._backend
    # a trial this process has not read (a proxy restarted meanwhile): no known domains
    entry = cached._trial_id_to_study_id_and_number.get(trial_id)
    known = cached._studies[entry[0]].param_distribution if entry else {}
    rows = []
    for name, value, distribution in params:
        if name not in known:  # the database's check: same name, compatible domain
            rdb._set_trial_param_without_commit(session, trial_id, name, value, distribution)
            continue
        distributions.check_distribution_compatibility(known[name], distribution)
        rows.append({"trial_id": trial_id, "param_name": name, "param_value": value,
                     "distribution_json": distributions.distribution_to_json(distribution)})
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
def _state_of(for_update: bool = False) -> Any:
    """A Core select of one trial's state (what `TrialModel.find_or_raise_by_id` reads),
    locking its row when `for_update` (as Optuna's tell does)."""
    import sqlalchemy

    table = require("optuna.storages._rdb.models", "optuna").TrialModel.__table__
    statement = sqlalchemy.select(table.c.state).where(table.c.trial_id ==
                                                       sqlalchemy.bindparam("id"))
    return statement.with_for_update() if for_update else statement


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


def finish_trial(cached: Any, trial_id: int, params: list[tuple[str, float, Any]],
                 user_attrs: list[tuple[str, Any]], system_attrs: list[tuple[str, Any]],
                 state: Any, values: Any) -> bool:
    """`write_trial` and Optuna's tell (the trial's values and finished state) in one
    database transaction on PostgreSQL; elsewhere the two calls as before.

    Optuna's tell locks the trial's row, reads each value back and updates the state through
    the ORM (a transaction of its own, about 4 ms of CPU): here the row is locked, the held
    writes and the values are sent as Core statements and the state is set, so a crash
    leaves either the finished trial with all its writes or the running one without them.
    """
    rdb = cached._backend
    if rdb.engine.name != "postgresql":
        write_trial(cached, trial_id, params, user_attrs, system_attrs)
        return bool(cached.set_trial_state_values(trial_id, state=state, values=values))
    rdb_module = require("optuna.storages._rdb.storage", "optuna")
    models = require("optuna.storages._rdb.models", "optuna")
    with cached._lock, rdb_module._create_scoped_session(rdb.scoped_session) as session:
        connection = session.connection()
        current = connection.execute(_state_of(True), {"id": trial_id}).scalar_one_or_none()
        if current is None:
            raise KeyError(models.NOT_FOUND_MSG)
        rdb.check_trial_is_updatable(trial_id, current)
        _write(cached, session, connection, trial_id, params, user_attrs, system_attrs)
        if values is not None:
            stored = models.TrialValueModel.value_to_stored_repr
            connection.execute(_value_upsert(), [
                dict(zip(("value", "value_type"), stored(v), strict=True),
                     trial_id=trial_id, objective=i) for i, v in enumerate(values)])
        # Optuna stores naive UTC times
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        connection.execute(_state_update(), {"id": trial_id, "new_state": state, "done": now})
    return True


def read_changed(cached: Any, study_id: int) -> list[Any]:
    """The trials of `study_id` created or changed since `cached` (`cached_storage`) last
    read them, read as its own read does (every unfinished trial it holds, and every trial
    past the last finished one), and put in its cache.

    Optuna's read does the same through the ORM (about 8 ms of CPU for a handful of trials)
    and then sorts and filters every trial of the study on each call; this uses Core
    statements built once and leaves the whole list to the caller (`_batch`), who keeps it.
    """
    module = require("optuna.storages._cached_storage", "optuna")
    rdb_module = require("optuna.storages._rdb.storage", "optuna")
    with cached._lock:
        study = cached._studies.setdefault(study_id, module._StudyInfo())
        after = study.last_finished_trial_id
        ids = [i for i in study.unfinished_trial_ids if i <= after]
        with rdb_module._create_scoped_session(cached._backend.scoped_session) as session:
            connection = session.connection()
            rows = connection.execute(_changed(), {"study": study_id, "after": after,
                                                   "ids": ids}).all()
            children = [connection.execute(statement, {"ids": [r.trial_id for r in rows]}).all()
                        if rows else [] for statement in _children()]
        trials = _frozen(rows, *children)
        cached._add_trials_to_cache(study_id, trials)
        for trial in trials:  # what Optuna's read does with them
            if not trial.state.is_finished():
                study.unfinished_trial_ids.add(trial._trial_id)
                continue
            study.last_finished_trial_id = max(study.last_finished_trial_id, trial._trial_id)
            study.unfinished_trial_ids.discard(trial._trial_id)
    return trials


def _frozen(rows: list[Any], params: list[Any], values: list[Any], user_attrs: list[Any],
            system_attrs: list[Any], intermediate: list[Any]) -> list[Any]:
    """FrozenTrials from the rows of `read_changed` (as `RDBStorage._get_trials` builds them)."""
    import json

    optuna = require("optuna", "optuna")
    models = require("optuna.storages._rdb.models", "optuna")
    by_id: dict[int, dict[str, Any]] = {
        r.trial_id: {"values": {}, "params": {}, "distributions": {}, "user_attrs": {},
                     "system_attrs": {}, "intermediate_values": {}} for r in rows}
    for r in sorted(params, key=lambda p: p.param_id):
        distribution = _distribution(r.distribution_json)
        by_id[r.trial_id]["params"][r.param_name] = distribution.to_external_repr(r.param_value)
        by_id[r.trial_id]["distributions"][r.param_name] = distribution
    for r in values:
        by_id[r.trial_id]["values"][r.objective] = models.TrialValueModel.stored_repr_to_value(
            r.value, r.value_type)
    for key, found in (("user_attrs", user_attrs), ("system_attrs", system_attrs)):
        for r in found:
            by_id[r.trial_id][key][r.key] = json.loads(r.value_json)
    for r in intermediate:
        by_id[r.trial_id]["intermediate_values"][r.step] = \
            models.TrialIntermediateValueModel.stored_repr_to_intermediate_value(
                r.intermediate_value, r.intermediate_value_type)

    def local(utc: datetime.datetime | None) -> datetime.datetime | None:
        return None if utc is None else utc.replace(
            tzinfo=datetime.timezone.utc).astimezone().replace(tzinfo=None)

    trials = []
    for r in rows:
        parts = by_id[r.trial_id]
        found = parts.pop("values")
        trials.append(optuna.trial.FrozenTrial(
            number=r.number, state=r.state, value=None,
            values=[found[i] for i in sorted(found)] if found else None,
            datetime_start=local(r.datetime_start), datetime_complete=local(r.datetime_complete),
            trial_id=r.trial_id, **parts))
    return trials


@functools.lru_cache(maxsize=1024)
def _distribution(text: str) -> Any:
    """A parameter's distribution from its JSON (the same few texts on every trial)."""
    return require("optuna.distributions", "optuna").json_to_distribution(text)


@functools.cache
def _changed() -> Any:
    """A Core select of a study's trials past an id, or among some ids, by id."""
    import sqlalchemy

    table = require("optuna.storages._rdb.models", "optuna").TrialModel.__table__
    ids: Any = sqlalchemy.bindparam("ids", expanding=True)
    return sqlalchemy.select(table).where(
        table.c.study_id == sqlalchemy.bindparam("study"),
        sqlalchemy.or_(table.c.trial_id > sqlalchemy.bindparam("after"),
                       table.c.trial_id.in_(ids))).order_by(table.c.trial_id)


@functools.cache
def _children() -> tuple[Any, ...]:
    """Core selects of the trial tables' rows of some trials: parameters, values, user and
    system attributes, intermediate values (the order `_frozen` takes)."""
    import sqlalchemy

    models = require("optuna.storages._rdb.models", "optuna")
    ids: Any = sqlalchemy.bindparam("ids", expanding=True)
    return tuple(sqlalchemy.select(model.__table__).where(model.__table__.c.trial_id.in_(ids))
                 for model in (models.TrialParamModel, models.TrialValueModel,
                               models.TrialUserAttributeModel, models.TrialSystemAttributeModel,
                               models.TrialIntermediateValueModel))


@functools.cache
def _value_upsert() -> Any:
    """A PostgreSQL insert-or-update of a trial's values (keyed by trial and objective)."""
    from sqlalchemy.dialects.postgresql import insert

    table = require("optuna.storages._rdb.models", "optuna").TrialValueModel.__table__
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.trial_id, table.c.objective],
        set_={"value": statement.excluded.value, "value_type": statement.excluded.value_type})


@functools.cache
def _state_update() -> Any:
    """A Core update of a trial's state and completion time."""
    import sqlalchemy

    table = require("optuna.storages._rdb.models", "optuna").TrialModel.__table__
    return sqlalchemy.update(table).where(table.c.trial_id == sqlalchemy.bindparam("id")).values(
        state=sqlalchemy.bindparam("new_state"), datetime_complete=sqlalchemy.bindparam("done"))


def create_trial(cached: Any, study_id: int) -> tuple[int, bool]:
    """A new RUNNING trial of `study_id` in `cached` (`cached_storage`): its id, and whether
    its first heartbeat was recorded with it.

    Numbered as Optuna numbers it: the study's row is locked (every creation of a trial of
    the study takes that lock), and the number is the count of the study's trials, which
    under the lock are exactly the trials created before this one. Optuna does the same
    through the ORM in five statements (the insert, then the count, then an update of the
    number); here it is one insert, with the heartbeat's row when heartbeats are on (the
    heartbeat thread's first beat, a moment later, then adds nothing). Elsewhere than on
    PostgreSQL it is Optuna's call.
    """
    rdb = cached._backend
    if rdb.engine.name != "postgresql":
        return int(cached.create_new_trial(study_id)), False
    optuna = require("optuna", "optuna")
    rdb_module = require("optuna.storages._rdb.storage", "optuna")
    models = require("optuna.storages._rdb.models", "optuna")
    cache = require("optuna.storages._cached_storage", "optuna")
    beat = rdb.heartbeat_interval is not None
    start = datetime.datetime.now()  # Optuna's: local time, stored as naive UTC
    with rdb_module._create_scoped_session(rdb.scoped_session) as session:
        connection = session.connection()
        if connection.execute(_study_lock(), {"study": study_id}).scalar_one_or_none() is None:
            raise KeyError(models.NOT_FOUND_MSG)
        utc = start.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        row = connection.execute(_trial_insert(), {"study": study_id, "start": utc}).one()
        if beat:
            connection.execute(_heartbeat_insert(), {"trial_id": row.trial_id})
    trial = optuna.trial.FrozenTrial(
        number=row.number, state=optuna.trial.TrialState.RUNNING, value=None,
        datetime_start=start, datetime_complete=None, params={}, distributions={},
        user_attrs={}, system_attrs={}, intermediate_values={}, trial_id=row.trial_id)
    with cached._lock:  # what Optuna's caching layer does with a trial it created
        cached._studies.setdefault(study_id, cache._StudyInfo())
        cached._add_trials_to_cache(study_id, [trial])
    return int(row.trial_id), beat


@functools.cache
def _study_lock() -> Any:
    """A Core select of a study's row that locks it (what Optuna's trial creation takes)."""
    import sqlalchemy

    table = require("optuna.storages._rdb.models", "optuna").StudyModel.__table__
    return sqlalchemy.select(table.c.study_id).where(
        table.c.study_id == sqlalchemy.bindparam("study")).with_for_update()


@functools.cache
def _trial_insert() -> Any:
    """A Core insert of a RUNNING trial numbered by the count of its study's trials."""
    import sqlalchemy

    optuna = require("optuna", "optuna")
    table = require("optuna.storages._rdb.models", "optuna").TrialModel.__table__
    study: Any = sqlalchemy.bindparam("study")
    count = sqlalchemy.select(sqlalchemy.func.count(table.c.trial_id)).where(
        table.c.study_id == study).scalar_subquery()
    return sqlalchemy.insert(table).values(
        number=count, study_id=study, state=optuna.trial.TrialState.RUNNING,
        datetime_start=sqlalchemy.bindparam("start")).returning(table.c.trial_id,
                                                               table.c.number)


@functools.cache
def _heartbeat_insert() -> Any:
    """A Core insert of a trial's heartbeat row (the time: the column's default, now)."""
    import sqlalchemy

    return sqlalchemy.insert(require("optuna.storages._rdb.models",
                                     "optuna").TrialHeartbeatModel.__table__)
