"""The Optuna adapter on real studies."""

from __future__ import annotations

import json
import math
import warnings

import optuna
import pytest
from strategies import op as layer

from da_bridge import Bool, Discrete, Float, Int, SearchSpace, siso_optional, siso_or
from da_bridge.adapters.optuna import (
    ARCHITECTURE_ATTR,
    VALUES_ATTR,
    OptunaSearcher,
    default_sampler,
    replay_trial,
    suggest_architecture,
)
from da_bridge.spaces.examples import poster_space

optuna.logging.set_verbosity(optuna.logging.WARNING)



def small_space() -> SearchSpace:
    """6 architectures: a width, or an optional block with its own choice."""
    return SearchSpace(lambda: siso_or({
        "a": lambda: layer("dense", units=Discrete([8, 16])),
        "b": lambda: siso_optional(lambda: layer("conv", kernel=Discrete([1, 3, 5])), Bool()),
    }, Discrete(["a", "b"]), name="model"))


def mixed_space() -> SearchSpace:
    """Int and Float (log) hyperparameters under an optional branch, and objects."""
    def build():
        return siso_optional(lambda: layer(
            "svm", C=Float(1e-3, 1e3, log=True), degree=Int(1, 5), gamma=Int(16, 256, log=True),
            kernel=Discrete([math.sin, math.cos])), Bool())
    return SearchSpace(build)


def test_every_exposed_hyperparameter_is_one_suggest_call_under_its_path():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(20):
        trial = study.ask()
        arch = suggest_architecture(trial, poster_space())
        assert list(trial.params) == list(arch.values)
        assert trial.params == arch.values
        study.tell(trial, 0.0)


def test_log_step_and_objects_carry_over_to_distributions():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.enqueue_trial({"optional.include": True})
    trial = study.ask()
    arch = suggest_architecture(trial, mixed_space())
    dists = trial.distributions
    assert dists["optional/svm.C"] == optuna.distributions.FloatDistribution(1e-3, 1e3, log=True)
    assert dists["optional/svm.gamma"].log and dists["optional/svm.degree"].step == 1
    # non-scalar choices are suggested by index and decoded to the object
    assert trial.params["optional/svm.kernel"] in (0, 1)
    assert arch.values["optional/svm.kernel"] in (math.sin, math.cos)
    json.dumps(trial.user_attrs[ARCHITECTURE_ATTR])


def test_trials_replay_from_the_storage_alone(tmp_path):
    storage = f"sqlite:///{tmp_path / 'runs.db'}"
    study = optuna.create_study(storage=storage, study_name="s", direction="maximize",
                                sampler=default_sampler(seed=0))
    space = mixed_space()

    def objective(trial):
        arch = suggest_architecture(trial, space)
        return arch.values.get("optional/svm.C", 0.0)

    study.optimize(objective, n_trials=15)
    loaded = optuna.load_study(study_name="s", storage=storage)
    best = loaded.best_trial
    arch = replay_trial(mixed_space(), best)
    assert arch.to_json() == best.user_attrs[ARCHITECTURE_ATTR]
    assert arch.json_values() == best.user_attrs[VALUES_ATTR]


def test_brute_force_visits_every_architecture_exactly_once():
    space = small_space()
    study = optuna.create_study(sampler=optuna.samplers.BruteForceSampler(seed=0))
    seen = []

    def objective(trial):
        seen.append(json.dumps(suggest_architecture(trial, space).json_values(), sort_keys=True))
        return 0.0

    study.optimize(objective, n_trials=100)
    assert len(seen) == len(set(seen)) == space.count() == 6


def test_pruning_with_median_pruner():
    space = poster_space()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3,
                                                                   n_warmup_steps=0))

    def objective(trial):
        arch = suggest_architecture(trial, space)
        score = sum(v for k, v in arch.values.items() if k.endswith("filters"))
        for step in range(5):
            trial.report(score * (step + 1), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return score

    study.optimize(objective, n_trials=30)
    states = {t.state for t in study.trials}
    assert optuna.trial.TrialState.PRUNED in states
    assert optuna.trial.TrialState.COMPLETE in states


def test_multi_objective_pareto_front():
    space = poster_space()
    study = optuna.create_study(directions=["maximize", "minimize"],
                                sampler=optuna.samplers.NSGAIISampler(seed=0))

    def objective(trial):
        arch = suggest_architecture(trial, space)
        width = sum(v for k, v in arch.values.items() if k.endswith("filters"))
        return width, len(arch.modules)

    study.optimize(objective, n_trials=40)
    front = study.best_trials
    assert front
    for t in front:  # nobody on the front is dominated by another finished trial
        assert not any(o.values[0] >= t.values[0] and o.values[1] <= t.values[1]
                       and o.values != t.values for o in study.trials)


def test_optuna_searcher_ask_tell_records_in_its_study():
    searcher = OptunaSearcher(poster_space(), seed=3, direction="maximize")
    for _ in range(12):
        proposal = searcher.ask()
        searcher.tell(proposal, float(proposal.values["conv.filters"]))
    assert len(searcher.study.trials) == 12
    assert searcher.study.best_value == 128.0
    failed = searcher.ask()
    searcher.tell(failed, None)
    assert searcher.study.trials[-1].state == optuna.trial.TrialState.FAIL


def test_same_seed_same_architectures():
    def run(seed):
        searcher = OptunaSearcher(poster_space(), seed=seed)
        out = []
        for _ in range(15):
            p = searcher.ask()
            searcher.tell(p, float(len(p.values)))
            out.append(p.values)
        return out

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_unknown_direction_is_refused():
    with pytest.raises(ValueError, match="direction"):
        OptunaSearcher(poster_space(), direction="up")


class CountingStorage(optuna.storages.InMemoryStorage):
    """A real in-memory store that counts how often the sampler's study reads all trials."""

    reads = 0

    def get_all_trials(self, *args, **kwargs):
        self.reads += 1
        return super().get_all_trials(*args, **kwargs)


def objective_on(space):
    def objective(trial):
        arch = suggest_architecture(trial, space)
        return float(sum(v for v in arch.values.values() if isinstance(v, int)))
    return objective


def run_with(sampler, n_trials=40):
    storage = CountingStorage()
    study = optuna.create_study(storage=storage, sampler=sampler, direction="maximize")
    study.optimize(objective_on(poster_space()), n_trials=n_trials)
    return study, storage.reads


def test_constant_liar_sampler_reads_the_study_once_per_trial_and_samples_the_same():
    """The worker sampler (constant liar) serves TPE's rereads from one snapshot per trial;
    in a sequential study the snapshot is what every reread would see, so the search is the
    same trial for trial, with several times fewer reads."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        bare = optuna.samplers.TPESampler(multivariate=True, group=True, seed=3,
                                          constant_liar=True)
    bare_study, bare_reads = run_with(bare)
    study, reads = run_with(default_sampler(seed=3, n_jobs=2))
    assert [t.params for t in study.trials] == [t.params for t in bare_study.trials]
    # one read to ask for the trial, one snapshot for the sampler
    assert reads <= 2 * len(study.trials) < bare_reads, \
        f"optuna {optuna.__version__}: TPE no longer reads through Study._get_trials? " \
        f"{reads} reads with the snapshot, {bare_reads} without"


def test_constant_liar_sampler_with_threads_completes_every_trial():
    study = optuna.create_study(sampler=default_sampler(seed=0, n_jobs=4), direction="maximize")
    study.optimize(objective_on(poster_space()), n_trials=40, n_jobs=4)
    assert [t.state for t in study.trials].count(optuna.trial.TrialState.COMPLETE) == 40
    # each thread sampled from its own trial's snapshot: every trial is a whole architecture
    space = poster_space()
    for t in study.trials:
        arch = space.replay(t.params)
        assert t.value == sum(v for v in arch.values.values() if isinstance(v, int))


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_the_bounded_history_kept_between_trials_is_the_one_computed_from_scratch(direction):
    from da_bridge.adapters._snapshot import _bounded, _Kept

    study = optuna.create_study(direction=direction,
                                sampler=optuna.samplers.RandomSampler(seed=0))
    rng = __import__("random").Random(1)
    kept, running = _Kept(), []
    for step in range(400):
        trial = study.ask()
        trial.suggest_float("x", 0, 1)
        running.append(trial)
        # trials end out of order, some fail or are pruned, some stay running a while
        while running and (len(running) > 6 or rng.random() < 0.6):
            done = running.pop(rng.randrange(len(running)))
            outcome = rng.random()
            if outcome < 0.1:
                study.tell(done, state=optuna.trial.TrialState.FAIL)
            elif outcome < 0.2:
                study.tell(done, state=optuna.trial.TrialState.PRUNED)
            else:  # ties too: values on a coarse grid
                study.tell(done, round(rng.random(), 2))
        trials = study._get_trials(deepcopy=False)
        for history in (5, 40):
            assert [t.number for t in kept.bounded(study, trials, history)] == \
                [t.number for t in _bounded(study, trials, history)], (step, history)
