"""`da_bridge.search`: one runner, one results store, every failure recorded."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import time

import optuna
import pytest

from da_bridge import search
from da_bridge.adapters.optuna import VALUES_ATTR, replay_trial
from da_bridge.errors import ObjectiveError, SearchFailedError
from da_bridge.spaces.examples import poster_space
from da_bridge.study import ERROR_ATTR
from da_bridge.study.runner import _Runner, choose_searcher, make_searcher
from da_bridge.study.store import load_study

COMPLETE, FAIL, PRUNED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL,
                          optuna.trial.TrialState.PRUNED)


def width(arch) -> float:
    return float(sum(v for k, v in arch.values.items() if k.endswith("filters")))


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DA_BRIDGE_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def test_default_store_is_a_journal_file_that_resumes_after_the_process_exits(runs_dir):
    script = textwrap.dedent("""
        from da_bridge import search
        from da_bridge.spaces.examples import poster_space
        def width(arch):
            return float(sum(v for k, v in arch.values.items() if k.endswith("filters")))
        search(poster_space(), width, n_trials=6, study_name="resumable", seed=0,
               direction="maximize")
    """)
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                   env={**__import__("os").environ, "DA_BRIDGE_RUNS": str(runs_dir)})
    assert (runs_dir / "resumable.journal").exists()
    result = search(poster_space(), width, study_name="resumable", max_trials=10,
                    direction="maximize")
    assert len(result.trials) == 10
    assert [t.number for t in result.trials] == list(range(10))
    best = load_study("resumable").best_trial
    assert width(replay_trial(poster_space(), best)) == best.value


def test_best_architecture_is_replayed_from_the_values_map():
    result = search(poster_space(), width, n_trials=12, seed=1, direction="maximize",
                    storage=":memory:")
    assert width(result.best_architecture) == result.best_score
    assert result.best_values == result.best_trial.user_attrs[VALUES_ATTR]
    assert [t.value for t in result.top(3)] == sorted((t.value for t in result.trials),
                                                      reverse=True)[:3]


@pytest.mark.parametrize("bad", [math.nan, math.inf, "high", None, True])
def test_unusable_scores_fail_the_trial_and_the_search_goes_on(bad):
    calls = []

    def objective(arch):
        calls.append(1)
        return bad if len(calls) == 2 else width(arch)

    result = search(poster_space(), objective, n_trials=4, storage=":memory:")
    states = [t.state for t in result.trials]
    assert states == [COMPLETE, FAIL, COMPLETE, COMPLETE]
    assert VALUES_ATTR in result.trials[1].user_attrs  # the failed architecture is kept


def test_raising_objective_is_recorded_and_catch_empty_stops():
    def boom(arch):
        raise RuntimeError("out of memory")

    result = search(poster_space(), boom, n_trials=3, storage=":memory:")
    assert [t.state for t in result.trials] == [FAIL] * 3
    storage = optuna.storages.InMemoryStorage()
    with pytest.raises(RuntimeError, match="out of memory"):
        search(poster_space(), boom, n_trials=3, storage=storage, study_name="s", catch=())
    assert [t.state for t in optuna.load_study(study_name="s", storage=storage).trials] == [FAIL]


def test_most_trials_failing_stops_the_search_with_the_grouped_errors():
    calls = []

    def mostly_broken(arch):
        calls.append(1)
        if len(calls) % 3 == 0:
            raise KeyError("conv.filters")
        raise ValueError("could not convert string to float: 'south'")

    with pytest.raises(SearchFailedError) as info:
        search(poster_space(), mostly_broken, n_trials=50, storage=":memory:",
               failure_hint=lambda errors: f"look at {len(errors)} errors")
    assert len(calls) == 10  # stopped once 10 trials had failed, not after 50
    message = str(info.value)
    assert message.startswith("10 of 10 trials failed, so the search stopped: ")
    assert "ValueError: could not convert string to float: 'south' (7 trials)" in message
    assert "KeyError: 'conv.filters' (3 trials)" in message
    assert message.endswith("Fix: look at 10 errors")


def test_failed_trials_keep_their_error_and_a_few_failures_do_not_stop():
    calls = []

    def sometimes(arch):
        calls.append(1)
        if len(calls) % 2:
            raise RuntimeError("out of memory")
        return width(arch)

    result = search(poster_space(), sometimes, n_trials=12, storage=":memory:")
    assert len(result.trials) == 12
    failed = [t for t in result.trials if t.state == FAIL]
    assert failed and all(t.user_attrs[ERROR_ATTR] == "RuntimeError: out of memory"
                          for t in failed)


def test_a_trial_past_its_time_limit_fails_and_the_search_goes_on():
    def slow_for_one_filter_count(arch):
        time.sleep(30 if arch.values["conv.filters"] == 128 else 0)
        return width(arch)

    result = search(poster_space(), slow_for_one_filter_count, "random", n_trials=4, seed=1,
                    storage=":memory:", trial_timeout=1.0)
    states = {t.state for t in result.trials}
    assert states == {COMPLETE, FAIL}
    for t in result.trials:
        if t.state == FAIL:
            assert t.user_attrs[ERROR_ATTR].startswith("TrialTimeoutError: ")


def test_wrong_number_of_objectives_fails_the_trial():
    result = search(poster_space(), lambda arch: (1.0,), n_trials=2, storage=":memory:",
                    directions=["maximize", "minimize"])
    assert [t.state for t in result.trials] == [FAIL, FAIL]
    with pytest.raises(ObjectiveError, match="expected 2 scores"):
        search(poster_space(), lambda arch: 1.0, n_trials=1, storage=":memory:",
               directions=["maximize", "minimize"], catch=())


def test_keyboard_interrupt_stops_cleanly_with_everything_recorded():
    calls = []

    def objective(arch):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return width(arch)

    result = search(poster_space(), objective, n_trials=10, study_name="ctrl-c")
    assert result.interrupted
    assert [t.state for t in result.trials] == [COMPLETE] * 3 + [FAIL]
    assert len(load_study("ctrl-c").trials) == 4


@pytest.mark.parametrize("searcher", ["optuna", "random"])
def test_same_seed_same_architectures(searcher):
    def run(seed):
        result = search(poster_space(), width, searcher, n_trials=15, seed=seed,
                        storage=":memory:")
        return [t.user_attrs[VALUES_ATTR] for t in result.trials]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_objective_gets_the_trial_and_pruners_work():
    def objective(arch, trial):
        for step in range(4):
            trial.report(width(arch) * (step + 1), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return width(arch)

    result = search(poster_space(), objective, n_trials=30, seed=0, direction="maximize",
                    storage=":memory:",
                    pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0))
    assert {COMPLETE, PRUNED} <= {t.state for t in result.trials}


def test_multi_objective_gives_the_pareto_front():
    result = search(poster_space(), lambda a: (width(a), len(a.modules)), n_trials=30, seed=0,
                    directions=["maximize", "minimize"], storage=":memory:")
    front = result.best_trials
    assert front and all(t.state == COMPLETE for t in front)
    with pytest.raises(ValueError, match="optuna"):
        search(poster_space(), lambda a: (1, 2), "random", n_trials=1,
               directions=["maximize", "minimize"], storage=":memory:")


def test_foreign_searcher_resumes_from_the_store():
    from da_bridge.searchers import RandomSearcher

    class Counting(RandomSearcher):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.told = 0

        def tell(self, proposal, score):
            self.told += 1

    search(poster_space(), width, "random", n_trials=5, study_name="foreign", seed=0)
    searcher = Counting(poster_space(), seed=1)
    result = search(poster_space(), width, searcher, study_name="foreign", max_trials=8)
    assert len(result.trials) == 8
    assert searcher.told == 8  # 5 restored from the store, 3 told after evaluation
    assert all(t.params for t in result.trials)  # proposals are recorded as Optuna params


def test_existing_study_with_other_directions_is_refused():
    search(poster_space(), width, n_trials=1, study_name="dir", direction="maximize")
    with pytest.raises(ValueError, match="already exists with directions"):
        search(poster_space(), width, n_trials=1, study_name="dir", direction="minimize")


def test_parallel_jobs_record_every_trial():
    result = search(poster_space(), width, n_trials=12, n_jobs=2, seed=0, storage=":memory:")
    assert len(result.trials) == 12 and all(t.state == COMPLETE for t in result.trials)


def test_parallel_jobs_use_the_constant_liar_and_sequential_runs_do_not():
    # Threads must see each other's running trials (TPE's constant liar), as the docs promise.
    parallel = search(poster_space(), width, n_trials=4, n_jobs=2, seed=0, storage=":memory:")
    tpe = parallel.study.sampler.sampler  # ReadOncePerTrial around TPE
    assert isinstance(tpe, optuna.samplers.TPESampler) and tpe._constant_liar
    sequential = search(poster_space(), width, "optuna", n_trials=2, seed=0, storage=":memory:")
    assert isinstance(sequential.study.sampler, optuna.samplers.TPESampler)
    assert not sequential.study.sampler._constant_liar


def test_bad_arguments_are_explained():
    with pytest.raises(TypeError, match="SearchSpace"):
        search("poster", width, n_trials=1, storage=":memory:")
    with pytest.raises(ValueError, match="unknown searcher"):
        search(poster_space(), width, "annealing", n_trials=1, storage=":memory:")
    with pytest.raises(ValueError, match="direction"):
        search(poster_space(), width, n_trials=1, direction="up", storage=":memory:")


def test_auto_is_smbo_for_one_objective_in_sequence_and_optuna_otherwise():
    from da_bridge.adapters.smbo import SMBOSearcher

    result = search(poster_space(), width, n_trials=3, seed=0, storage=":memory:")
    assert type(result.study.sampler).__name__ == "ProposalSampler"  # a foreign searcher's
    runner = _Runner(poster_space(), width, "auto", ["minimize"], 0, None)
    assert isinstance(runner.searcher, SMBOSearcher)
    for options in ({"sampler": optuna.samplers.RandomSampler(seed=0)}, {"n_jobs": 2},
                    {"directions": ["minimize", "minimize"]}):
        assert choose_searcher("auto", **{"directions": ["minimize"], **options}) == "optuna"
    assert choose_searcher("evolution", directions=["minimize"], n_jobs=2) == "evolution"


def _families(knobs: int):
    """A choice among three model families, each with `knobs` log-scaled numbers of its own."""
    from da_bridge import Discrete, Float, SearchSpace, siso_or
    from da_bridge.spaces.examples import op

    def family(name: str):
        return lambda: op(name, {f"k{i}": Float(1e-4, 1.0, log=True) for i in range(knobs)})

    return SearchSpace(lambda: siso_or({f: family(f) for f in ("mlp", "gbm", "svm")},
                                       Discrete(["mlp", "gbm", "svm"], name="family")))


def _bowl(arch) -> float:
    """Distance of the family's knobs from 1e-2 on the log scale, mlp best."""
    knobs = [v for k, v in arch.values.items() if k != "family"]
    return (arch.values["family"] != "mlp") + 0.05 * sum(math.log10(v / 1e-2) ** 2 for v in knobs)


def test_auto_picks_tpe_on_a_space_of_branches_with_their_own_knobs_and_smbo_on_one_structure():
    from da_bridge.spaces.nasbench201 import nasbench201_space
    from da_bridge.study.runner import branch_share

    branched, nas = _families(4), nasbench201_space()
    assert branch_share(branched) == pytest.approx(0.8)  # 4 of 5 hyperparameters are a family's
    assert branch_share(nas) == 0.0
    assert branch_share(_families(2)) == pytest.approx(2 / 3)  # few knobs: SMBO refines branches
    pick = lambda space: choose_searcher("auto", directions=["minimize"], space=space)  # noqa: E731
    assert (pick(branched), pick(nas), pick(_families(2))) == ("optuna", "smbo", "smbo")
    assert pick(_families(4)) == "optuna"  # a fixed stream: the same pick every call
    # what a user's sampler or workers get does not depend on the space
    assert choose_searcher("auto", directions=["minimize"], space=nas, n_jobs=2) == "optuna"
    assert choose_searcher("auto", directions=["minimize"], space=nas,
                           sampler=optuna.samplers.RandomSampler(seed=0)) == "optuna"

    result = search(branched, _bowl, n_trials=25, seed=0, storage=":memory:")
    assert isinstance(result.study.sampler, optuna.samplers.TPESampler)
    assert len(result.trials) == 25
    assert result.best_values["family"] == "mlp"  # found the best family
    cells = search(nas, lambda arch: float(sum(op == "nor_conv_3x3" for op in
                                                 arch.values.values())), n_trials=14, seed=0,
                   direction="maximize", storage=":memory:")
    assert type(cells.study.sampler).__name__ == "ProposalSampler"  # SMBO's proposals
    assert len(cells.trials) == 14


def test_auto_keeps_smbo_on_the_sklearn_pipeline_space():
    from da_bridge.spaces.sklearn import classification_space
    from da_bridge.study.runner import branch_share

    space = classification_space()
    assert 0 < branch_share(space) <= 0.75  # a model choice, but most choices are shared
    assert choose_searcher("auto", directions=["maximize"], space=space) == "smbo"


def test_a_users_sampler_proposes_every_trial_under_the_default():
    sampler = optuna.samplers.RandomSampler(seed=3)
    result = search(poster_space(), width, n_trials=6, sampler=sampler, storage=":memory:")
    assert result.study.sampler is sampler
    plain = search(poster_space(), width, "optuna", n_trials=6,
                   sampler=optuna.samplers.RandomSampler(seed=3), storage=":memory:")
    assert [t.params for t in result.trials] == [t.params for t in plain.trials]


@pytest.mark.parametrize("searcher", ["smbo", "random"])
def test_initial_points_come_first_with_a_foreign_searcher(searcher):
    space = poster_space()
    first = [space.sample(i).json_values() for i in range(3)]
    told = []
    chosen = make_searcher(searcher, space, seed=0)
    tell = chosen.tell
    chosen.tell = lambda proposal, score: (told.append(proposal.values), tell(proposal, score))
    result = search(space, width, chosen, n_trials=5, initial=first, storage=":memory:")
    assert [t.user_attrs[VALUES_ATTR] for t in result.trials[:3]] == first
    assert [space.replay(values).json_values() for values in told[:3]] == first
