"""The storage proxy on a real PostgreSQL: its warning when it listens beyond this machine, the
trial it serves from its cache (a worker's first read of the trial it just created), and its
one-statement heartbeats."""

from __future__ import annotations

import logging
import time

import optuna
import pytest
import sqlalchemy

from da_bridge.study.proxy import start_proxy
from da_bridge.study.store import open_storage

pytestmark = [pytest.mark.postgres]


def test_a_proxy_listening_beyond_this_machine_warns_that_anyone_there_can_use_it(database,
                                                                                  caplog):
    with caplog.at_level(logging.WARNING, logger="da_bridge.study.proxy"):
        local = start_proxy(database, port=0)
        local.stop()
        open_to_all = start_proxy(database, host="0.0.0.0", port=0)
        open_to_all.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings  # the proxy on 127.0.0.1 says nothing
    assert f"on 0.0.0.0:{open_to_all.port} has no authentication" in warnings[0]
    assert "firewall" in warnings[0] and "SSH" in warnings[0]
    assert ":optuna@" not in warnings[0]  # the database's password is hidden


def test_a_new_trial_comes_from_the_proxys_cache_and_a_written_one_from_the_database(database):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    proxy = start_proxy(database, port=0)
    try:
        url = f"grpc://127.0.0.1:{proxy.port}"
        direct = optuna.storages.RDBStorage(database)
        study_id = direct.create_new_study([optuna.study.StudyDirection.MINIMIZE], "fresh")
        worker = open_storage(url, "fresh")
        trial_id = worker.create_new_trial(study_id)
        fresh = worker.get_trial(trial_id)
        assert fresh.state == optuna.trial.TrialState.RUNNING and not fresh.params
        assert fresh.number == 0 and fresh.datetime_start is not None
        # the trial as the database holds it, read directly (not through the proxy)
        stored = direct.get_trial(trial_id)
        direct.engine.dispose()
        assert (fresh.number, fresh.datetime_start) == (stored.number, stored.datetime_start)
        distribution = optuna.distributions.FloatDistribution(0, 1)
        worker.set_trial_param(trial_id, "x", 0.25, distribution)
        worker.set_trial_user_attr(trial_id, "seen", True)
        again = open_storage(url, "fresh").get_trial(trial_id)  # a second client: no copy
        assert again.params == {"x": 0.25} and again.user_attrs == {"seen": True}
    finally:
        proxy.stop()


@pytest.mark.slow  # waits for a heartbeat to go stale
def test_heartbeats_through_the_proxy_land_in_optunas_table_and_go_stale(database):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    proxy = start_proxy(database, port=0)
    direct = optuna.storages.RDBStorage(database)
    try:
        study_id = direct.create_new_study([optuna.study.StudyDirection.MINIMIZE], "beats")
        worker = open_storage(f"grpc://127.0.0.1:{proxy.port}", "beats", heartbeat_interval=1,
                              grace_period=1)
        trial_id = worker.create_new_trial(study_id)

        def rows():
            with direct.engine.connect() as connection:
                return connection.execute(sqlalchemy.text(
                    "SELECT trial_id, heartbeat FROM trial_heartbeats")).all()

        worker.record_heartbeat(trial_id)
        first = rows()
        time.sleep(1.2)
        worker.record_heartbeat(trial_id)  # the same row, a later time
        second = rows()
        assert [r[0] for r in first] == [r[0] for r in second] == [trial_id]
        assert second[0][1] > first[0][1]
        assert worker._get_stale_trial_ids(study_id) == []  # fresh
        time.sleep(2.5)
        assert list(worker._get_stale_trial_ids(study_id)) == [trial_id]
    finally:
        direct.engine.dispose()
        proxy.stop()
