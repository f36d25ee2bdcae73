"""One contract for every searcher `da_bridge.search` knows by name.

Each searcher registered in `da_bridge.study.runner.SEARCHERS` that imports here runs
real searches through the runner and the results store: ask/tell, every
proposal replays, the best is recorded in the store, the same seed gives the
same run, and a search resumes from the store.
"""

from __future__ import annotations

import importlib
import json
import math
from collections import Counter

import optuna
import pytest

from da_bridge import (
    Bool,
    Discrete,
    Float,
    Int,
    SearchSpace,
    search,
    siso_optional,
    siso_repeat,
    siso_sequential,
    substitution,
)
from da_bridge.adapters.optuna import REJECTED_ATTR, VALUES_ATTR, OptunaSearcher
from da_bridge.spaces.examples import op, poster_space
from da_bridge.study import SAME_AS_ATTR
from da_bridge.study.runner import SEARCHERS, make_searcher
from da_bridge.study.store import load_study

# Searchers whose surrogate refits on every tell: their 30-trial runs are slow.
SLOW = {"skopt", "smbo"}


def _importable(name: str) -> bool:
    target = SEARCHERS[name]
    if target is None:
        return True
    try:
        importlib.import_module(target.split(":")[0])
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("da_bridge"):
            return False
        raise
    return True


NAMES = [name for name in SEARCHERS if _importable(name)]


def _slow_if(names, slow=SLOW):
    return [pytest.param(n, marks=pytest.mark.slow) if n in slow else n for n in names]


def log_space() -> SearchSpace:
    """Int and Float log-scaled hyperparameters, some only under optional branches."""
    def hidden():
        return op("hidden", {"units": Int(8, 512, log=True),
                             "decay": Float(1e-6, 1e-2, log=True)})

    def block():
        return op("block", {"width": Int(16, 256, log=True), "kind": Discrete(["a", "b"])})

    return SearchSpace(lambda: siso_sequential([
        op("input", {"lr": Float(1e-4, 1e-1, log=True)}),
        siso_optional(hidden, Bool()),
        siso_optional(lambda: siso_repeat(block, Discrete([1, 2])), Bool(), name="blocks"),
    ]))


SPACES = {"poster": poster_space, "log": log_space}


def objective(arch) -> float:
    """A deterministic score of any architecture of these spaces."""
    total = 0.0
    for value in arch.values.values():
        if isinstance(value, bool):
            total += 0.5 * value
        elif isinstance(value, (int, float)):
            total += abs(math.log(value) - 3.0)
        else:
            total += 0.1 * (value == "b")
    return total


def _values_seen(result) -> list[dict]:
    return [t.user_attrs[VALUES_ATTR] for t in result.trials]


def _store():
    """A real Optuna storage; in memory, since journal files fsync every write."""
    return optuna.storages.InMemoryStorage()


@pytest.mark.parametrize("space_name", sorted(SPACES))
@pytest.mark.parametrize("name", _slow_if(NAMES))
def test_run_replays_every_proposal_and_records_the_best(name, space_name):
    space = SPACES[space_name]()
    seen = []

    def scored(arch):
        seen.append(arch)
        return objective(arch)

    storage = _store()
    result = search(space, scored, name, n_trials=30, seed=0, storage=storage,
                    study_name="contract")
    assert len(result.trials) == 30
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in result.trials)
    evaluated = [t for t in result.trials if SAME_AS_ATTR not in t.user_attrs]
    assert len(seen) == len(evaluated)  # a repeat (TPE repeats itself) is not evaluated again
    for arch in seen:
        assert space.replay(arch.values).to_json() == arch.to_json()
        assert all(type(v).__module__ == "builtins" for v in arch.values.values())
        json.dumps(arch.json_values())
    for trial, arch in zip(evaluated, seen):
        assert space.replay(trial.user_attrs[VALUES_ATTR]).to_json() == arch.to_json()
    stored = load_study("contract", storage)
    best = min(seen, key=objective)
    assert stored.best_value == pytest.approx(objective(best))
    assert objective(space.replay(stored.best_trial.user_attrs[VALUES_ATTR])) == \
        pytest.approx(objective(best))


@pytest.mark.parametrize("name", _slow_if(NAMES, {"smbo"}))
def test_same_seed_gives_the_same_run(name):
    def run(seed):
        return _values_seen(search(log_space(), objective, name, n_trials=12, seed=seed,
                                   storage=":memory:"))

    first = run(7)
    assert run(7) == first
    assert run(8) != first


@pytest.mark.parametrize("name", _slow_if(NAMES, {"smbo"}))
def test_search_resumes_from_the_store(name):
    storage = _store()
    first = search(log_space(), objective, name, n_trials=12, seed=1, storage=storage,
                   study_name="resume", direction="maximize")
    first_values, first_scores = _values_seen(first), [t.value for t in first.trials]
    searcher, restored = name, []
    if name != "optuna":
        searcher = make_searcher(name, log_space(), seed=2)
        restore = searcher.restore

        def spy(history):
            history = list(history)
            restored.extend(history)
            restore(history)

        searcher.restore = spy
    second = search(log_space(), objective, searcher, n_trials=6, storage=storage,
                    study_name="resume", direction="maximize")
    assert len(second.trials) == 18
    assert second.best_score >= first.best_score
    if name != "optuna":
        assert [values for values, _ in restored] == first_values
        assert [score for _, score in restored] == first_scores


@pytest.mark.parametrize("name", _slow_if(NAMES, {"smbo"}))
def test_failed_evaluations_are_told_and_recorded(name):
    calls = []

    def flaky(arch):
        calls.append(arch)
        if len(calls) % 3 == 0:
            raise RuntimeError("evaluation crashed")
        return objective(arch)

    result = search(log_space(), flaky, name, n_trials=14, seed=0, storage=":memory:")
    states = [t.state for t in result.trials]
    assert states.count(optuna.trial.TrialState.FAIL) == 14 // 3
    assert states.count(optuna.trial.TrialState.COMPLETE) == 14 - 14 // 3


@pytest.mark.parametrize("name", NAMES)
def test_ask_tell_without_the_runner(name):
    space = poster_space()
    searcher = OptunaSearcher(space, seed=0, direction="maximize") if name == "optuna" else \
        make_searcher(name, space, seed=0, direction="maximize")
    for i in range(6):
        proposal = searcher.ask()
        assert space.replay(proposal.values).to_json() == proposal.architecture.to_json()
        searcher.tell(proposal, None if i == 2 else objective(proposal.architecture))


def rejecting_space() -> SearchSpace:
    """Half of the structures are rejected by the substitution that builds them."""
    from da_bridge import InvalidArchitectureError, substitution

    def cell(values):
        if values["a"] == values["b"]:
            raise InvalidArchitectureError("a and b must differ")
        return siso_repeat(lambda: op("conv", {"filters": Discrete([8, 16])}), values["a"] + 1)

    return SearchSpace(lambda: substitution(
        "cell", cell, {"a": Int(0, 2), "b": Int(0, 2)}))


@pytest.mark.parametrize("name", _slow_if(NAMES))
def test_every_searcher_proposes_only_valid_architectures(name):
    space = rejecting_space()
    result = search(space, lambda arch: float(len(arch.values)), n_trials=12, searcher=name,
                    seed=0, storage=":memory:")
    states = optuna.trial.TrialState
    complete = [t for t in result.trials if t.state == states.COMPLETE]
    for trial in complete:
        values = trial.user_attrs[VALUES_ATTR]
        assert values["cell.a"] != values["cell.b"]
        space.replay(values)
    # Optuna's own sampler finds out inside the trial: the trial is pruned, with the reason.
    rejected = [t for t in result.trials if t.state == states.PRUNED]
    assert all(t.user_attrs[REJECTED_ATTR] == "a and b must differ" for t in rejected)
    assert len(complete) + len(rejected) == 12 and len(complete) >= 6
    assert name == "optuna" or not rejected  # the others draw again before proposing


def test_a_compile_function_rejection_is_recorded_not_failed():
    from da_bridge import InvalidArchitectureError, basic

    def compile_fn(values):
        if values["k"] == 3:
            raise InvalidArchitectureError("kernel 3 does not fit")
        return lambda inputs: {"out": inputs["in"] * values["k"]}

    space = SearchSpace(lambda: basic("conv", compile_fn, {"k": Discrete([1, 2, 3])}))
    result = search(space, lambda arch: arch.forward({"in": 1.0})["out"], n_trials=10,
                    searcher="random", seed=0, storage=":memory:")
    states = optuna.trial.TrialState
    rejected = [t for t in result.trials if t.state == states.PRUNED]
    assert rejected and all(t.user_attrs[REJECTED_ATTR] == "kernel 3 does not fit"
                            and t.user_attrs[VALUES_ATTR] == {"conv.k": 3} for t in rejected)
    assert {t.state for t in result.trials} == {states.COMPLETE, states.PRUNED}


def structure_dependent_space() -> SearchSpace:
    """A substitution reading two hyperparameters reveals layers whose domains depend on them:
    a one-value width (DeepArchitect's `D([v])`) and a choice whose options change."""
    from da_bridge import substitution

    def cell(values):
        width = 8 * (values["a"] + values["b"] + 1)
        return siso_sequential([
            op(f"layer{i}", {"units": Discrete([width]),
                             "act": Discrete(["relu", "tanh"][:1 + (values["a"] + i) % 2])})
            for i in range(1 + values["b"])])

    return SearchSpace(lambda: substitution("cell", cell, {"a": Int(0, 2), "b": Int(0, 1)}))


@pytest.mark.parametrize("name", _slow_if(NAMES))
def test_every_searcher_handles_structure_dependent_domains(name):
    space = structure_dependent_space()
    result = search(space, lambda arch: float(len(arch.values)), n_trials=15, searcher=name,
                    seed=0, storage=":memory:")
    states = optuna.trial.TrialState
    assert [t.state for t in result.trials] == [states.COMPLETE] * 15
    seen = set()
    for trial in result.trials:
        values = trial.user_attrs[VALUES_ATTR]
        space.replay(values)
        seen.add((values["cell.a"], values["cell.b"]))
    assert len(seen) >= 3  # several structures, so several domains per path


# Repeats: no architecture is evaluated twice in one study --------------------------------


def nine_architectures() -> SearchSpace:
    """A conditional space of 9 architectures: x reveals 5 widths, y reveals 2 x 2."""
    def model(values):
        if values["kind"] == "x":
            return op("x", {"width": Int(1, 5)})
        return op("y", {"units": Discrete([8, 16]), "bias": Bool()})

    return SearchSpace(lambda: substitution("model", model, {"kind": Discrete(["x", "y"])}))


def _key(values) -> str:
    return json.dumps(values, sort_keys=True)


def _score(arch) -> float:
    values = arch.values
    if values["model.kind"] == "x":
        return float(values["model/x.width"])
    return 0.5 * values["model/y.units"] / 8 + values["model/y.bias"]


def test_the_space_has_nine_architectures():
    assert nine_architectures().count() == 9


@pytest.mark.parametrize("name", _slow_if([n for n in NAMES if n != "optuna"],
                                          {"skopt", "hyperopt"}))
def test_nine_trials_evaluate_the_nine_architectures(name):
    evaluated = []

    def objective(arch):
        evaluated.append(_key(arch.json_values()))
        return _score(arch)

    result = search(nine_architectures(), objective, name, n_trials=9, seed=0,
                    storage=":memory:")
    assert len(evaluated) == len(set(evaluated)) == 9
    assert {_key(t.user_attrs[VALUES_ATTR]) for t in result.trials} == set(evaluated)
    assert result.best_score == 0.5


@pytest.mark.parametrize("name", _slow_if(NAMES, {"skopt"}))
def test_a_repeat_is_recorded_with_its_score_and_not_evaluated(name):
    # 20 trials in a space of 9: every searcher has to repeat, and no repeat is evaluated.
    evaluated = []

    def objective(arch, trial):
        evaluated.append(_key(arch.json_values()))
        trial.set_user_attr("measured", len(evaluated))
        return _score(arch)

    result = search(nine_architectures(), objective, name, n_trials=20, seed=1,
                    storage=":memory:")
    assert max(Counter(evaluated).values()) == 1
    trials = result.trials
    assert len(trials) == 20 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    first = {}
    for trial in trials:
        key = _key(trial.user_attrs[VALUES_ATTR])
        if key not in first:
            first[key] = trial
            assert SAME_AS_ATTR not in trial.user_attrs
            continue
        original = first[key]
        assert trial.user_attrs[SAME_AS_ATTR] == original.number
        assert trial.value == original.value
        assert trial.user_attrs["measured"] == original.user_attrs["measured"]
    assert len(evaluated) == len(first)
    if name != "optuna":  # an ask/tell searcher covers the space before it repeats
        assert len(first) == 9


def test_a_users_sampler_is_used_and_its_repeats_are_not_evaluated():
    sampler = optuna.samplers.RandomSampler(seed=0)
    evaluated = []

    def objective(arch):
        evaluated.append(_key(arch.json_values()))
        return _score(arch)

    result = search(nine_architectures(), objective, n_trials=15, sampler=sampler,
                    storage=":memory:")
    assert result.study.sampler is sampler
    assert len(evaluated) == len(set(evaluated)) < 15
    assert sum(SAME_AS_ATTR in t.user_attrs for t in result.trials) == 15 - len(evaluated)
