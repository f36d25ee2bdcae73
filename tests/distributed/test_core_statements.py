"""A direct worker's own statements (trial creation, the tell, the study read) on PostgreSQL
store and read what Optuna's own calls would, on the installed Optuna.

Each failure names the Optuna version: `da_bridge/study/_optuna_internals.py` then needs
upgrading first.
"""

from __future__ import annotations

import math
import threading

import optuna
import pytest
import sqlalchemy

from da_bridge.study import _optuna_internals as internals

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

VERSION = f"Optuna {optuna.__version__}"


def storages(url, heartbeat=False):
    kwargs = {"heartbeat_interval": 60, "grace_period": 120} if heartbeat else {}
    rdb = optuna.storages.RDBStorage(url, **kwargs)
    return rdb, internals.cached_storage(rdb)


def test_trials_created_at_once_by_both_ways_are_numbered_as_optuna_numbers_them(database):
    rdb, cached = storages(database, heartbeat=True)
    study_id = optuna.create_study(storage=rdb, study_name="n")._study_id
    errors = []

    def create(ours):
        try:
            _, mine = storages(database, heartbeat=True)
            for _ in range(15):
                if ours:
                    internals.create_trial(mine, study_id)
                else:
                    mine.create_new_trial(study_id)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(i % 2 == 0,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    trials = sorted(rdb.get_all_trials(study_id), key=lambda t: t._trial_id)
    # Optuna's rule: a trial's number counts the study's trials with a smaller id
    assert [t.number for t in trials] == list(range(90)), VERSION
    assert {t.state for t in trials} == {optuna.trial.TrialState.RUNNING}, VERSION
    with rdb.engine.connect() as connection:
        beats = connection.execute(sqlalchemy.text(
            "SELECT count(*) FROM trial_heartbeats")).scalar_one()
    assert beats == 45, VERSION  # ours come with their first heartbeat; Optuna's do not
    trial_id, beaten = internals.create_trial(cached, study_id)
    created = internals.created_trial(cached, trial_id)
    stored = rdb.get_trial(trial_id)
    assert beaten and created.number == stored.number == 90, VERSION
    assert abs((created.datetime_start - stored.datetime_start).total_seconds()) < 1e-3


def test_a_tell_with_the_held_writes_stores_what_optunas_calls_would(database):
    rdb, cached = storages(database)
    study = optuna.create_study(storage=cached, study_name="t", directions=["minimize"] * 2)
    trial_id, _ = internals.create_trial(cached, study._study_id)
    distribution = optuna.distributions.IntDistribution(0, 9)
    done = internals.finish_trial(cached, trial_id, [("x", 3.0, distribution)],
                                  [("a", {"k": 1})], [("s", "t")],
                                  optuna.trial.TrialState.COMPLETE, [0.5, -math.inf])
    stored = rdb.get_trial(trial_id)
    assert done and stored.state == optuna.trial.TrialState.COMPLETE, VERSION
    assert stored.values == [0.5, -math.inf] and stored.params == {"x": 3}, VERSION
    assert stored.user_attrs == {"a": {"k": 1}} and stored.system_attrs == {"s": "t"}
    assert stored.datetime_complete >= stored.datetime_start, VERSION
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):  # told once only
        internals.finish_trial(cached, trial_id, [], [], [], optuna.trial.TrialState.FAIL,
                               None)
    failed, _ = internals.create_trial(cached, study._study_id)
    internals.finish_trial(cached, failed, [], [("e", "boom")], [],
                           optuna.trial.TrialState.FAIL, None)
    assert rdb.get_trial(failed).state == optuna.trial.TrialState.FAIL
    assert rdb.get_trial(failed).values is None, VERSION


def test_reading_only_what_changed_gives_the_trials_optuna_reads(database):
    rdb, cached = storages(database)
    study = optuna.create_study(storage=rdb, study_name="r")

    def objective(trial):
        trial.suggest_float("x", 0, 1)
        trial.suggest_categorical("c", ["a", "b"])
        trial.set_user_attr("u", [1, 2])
        trial.report(0.5, 0)
        trial.report(-math.inf, 1)
        if trial.number == 2:
            raise ValueError("failed on purpose")
        return math.inf if trial.number == 3 else trial.number

    study.optimize(objective, n_trials=5, catch=(ValueError,))
    study.enqueue_trial({"x": 0.25})
    running = study.ask()
    running.suggest_float("x", 0, 1)
    read = internals.read_changed(cached, study._study_id)
    assert read == rdb.get_all_trials(study._study_id), VERSION
    assert internals.read_changed(cached, study._study_id) == [rdb.get_trial(running._trial_id)]
    study.tell(running, 1.0)
    again = internals.read_changed(cached, study._study_id)
    assert again == [rdb.get_trial(running._trial_id)], VERSION
    # Optuna's own read through the same cache finds nothing new and agrees
    assert cached.get_all_trials(study._study_id) == rdb.get_all_trials(study._study_id)
