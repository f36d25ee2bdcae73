"""The storage proxy on a real PostgreSQL: its warning when it listens beyond this machine, and
the trial it serves from its cache (a worker's first read of the trial it just created)."""

from __future__ import annotations

import logging

import optuna
import pytest

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
