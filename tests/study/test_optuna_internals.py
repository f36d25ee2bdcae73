"""The Optuna internals the runtime relies on still work on the installed Optuna.

Each failure names the Optuna version: upgrade `da_bridge/study/_optuna_internals.py` first.
"""

import optuna
import pytest

from da_bridge.study import _optuna_internals as internals

VERSION = f"Optuna {optuna.__version__}"


def test_the_cached_storage_wraps_an_rdb_storage_and_reads_through(tmp_path):
    rdb = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'x.db'}")
    cached = internals.cached_storage(rdb)
    study = optuna.create_study(storage=cached, study_name="s")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert len(optuna.load_study(study_name="s", storage=rdb).trials) == 2, VERSION


def test_heartbeats_are_detected_on_rdb_storages_only(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    beating = optuna.storages.RDBStorage(url, heartbeat_interval=5, grace_period=10)
    assert internals.heartbeat_enabled(beating), VERSION
    assert not internals.heartbeat_enabled(optuna.storages.RDBStorage(url)), VERSION
    assert not internals.heartbeat_enabled(optuna.storages.InMemoryStorage()), VERSION
    assert isinstance(beating, internals.heartbeat_base()), VERSION


@pytest.mark.parametrize("kind", ["journal", "rdb", "memory"])
def test_the_location_behind_a_storage_object_is_found(tmp_path, kind):
    if kind == "journal":
        path = tmp_path / "a.journal"
        storage = optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(path)))
        assert internals.storage_location(storage) == str(path.resolve()), VERSION
    elif kind == "rdb":
        url = f"sqlite:///{tmp_path / 'b.db'}"
        cached = internals.cached_storage(optuna.storages.RDBStorage(url))
        assert internals.storage_location(cached) == url, VERSION
    else:
        assert internals.storage_location(optuna.storages.InMemoryStorage()) is None


def test_a_study_storage_and_trial_ids_are_reachable(tmp_path):
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "c.journal")))
    study = optuna.create_study(storage=storage)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert internals.storage_of(study) is storage, VERSION
    for trial in study.trials:
        assert storage.get_trial(internals.trial_id(trial)).number == trial.number, VERSION


def test_a_running_trials_writes_go_in_one_transaction(tmp_path):
    rdb = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'w.db'}")
    cached = internals.cached_storage(rdb)
    study = optuna.create_study(storage=cached, study_name="w")
    first = study.ask()
    first.suggest_int("x", 0, 9)  # the domain the study knows
    study.tell(first, 1.0)
    trial_id = cached.create_new_trial(study._study_id)
    distribution = optuna.distributions.IntDistribution(0, 9)
    internals.write_trial(cached, trial_id,
                          [("x", 3.0, distribution),
                           ("y", 0.5, optuna.distributions.FloatDistribution(0, 1))],
                          [("a", {"k": 1}), ("a", 2)], [("s", "t")])
    written = rdb.get_trial(trial_id)
    assert written.params == {"x": 3, "y": 0.5}, VERSION
    assert written.user_attrs == {"a": 2} and written.system_attrs == {"s": "t"}, VERSION
    with pytest.raises(ValueError):  # another domain under a known name is refused
        internals.write_trial(cached, cached.create_new_trial(study._study_id),
                              [("x", 1.0, optuna.distributions.FloatDistribution(0, 1))],
                              [], [])


def test_a_read_of_what_changed_gives_the_trials_optuna_reads_and_fills_its_cache(tmp_path):
    rdb = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'r.db'}")
    cached = internals.cached_storage(rdb)  # the reader's; the study writes through its own
    study = optuna.create_study(storage=rdb, study_name="r")
    study.optimize(lambda t: t.suggest_int("x", 0, 9) + t.suggest_float("y", 0, 1),
                   n_trials=3)
    running = study.ask()
    assert internals.read_changed(cached, study._study_id) == rdb.get_all_trials(
        study._study_id), VERSION
    study.tell(running, 2.0)
    assert internals.read_changed(cached, study._study_id) == [
        rdb.get_trial(running._trial_id)], VERSION  # only the trial that changed
    assert internals.read_changed(cached, study._study_id) == [], VERSION
    assert cached.get_all_trials(study._study_id) == rdb.get_all_trials(study._study_id)


def test_the_proxy_service_is_added_to_a_grpc_server(tmp_path):
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'p.db'}")
    server = internals.proxy_server(storage, 2)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        client = optuna.storages.GrpcStorageProxy(host="127.0.0.1", port=port)
        client.wait_server_ready(timeout=30)
        optuna.create_study(storage=client, study_name="p")
        assert [s.study_name for s in storage.get_all_studies()] == ["p"], VERSION
        client.close()
    finally:
        server.stop(None)
