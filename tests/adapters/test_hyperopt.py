"""The Hyperopt adapter: compiled spaces under real `fmin`, and the ask/tell searcher."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hyperopt import Trials, anneal, fmin, rand, tpe
from hyperopt.pyll_utils import expr_to_config
from hypothesis import HealthCheck, given, settings
from strategies import build_space, enumerate_values, spaces

from da_bridge import (
    Bool,
    Discrete,
    Float,
    Int,
    ReplayError,
    SearchSpace,
    siso_optional,
    siso_sequential,
)
from da_bridge._flat import slots
from da_bridge._tree import MAX_STATES, tree
from da_bridge.adapters.hyperopt import HyperoptSearcher, _compile, from_hyperopt, to_hyperopt
from da_bridge.searchers.base import Proposal
from da_bridge.spaces.examples import mobile_net_space, op, poster_space


def _conditions(expr) -> dict:
    found: dict = {}
    expr_to_config(expr, None, found)
    return found


def _structural_paths(node) -> set[str]:
    paths = set()
    for choice in node.choices:
        paths.update(s.path for s in choice.slots)
        for branch in choice.branches:
            paths |= _structural_paths(branch.node)
    return paths


def _score(arch) -> float:
    return sum(v for v in arch.values.values() if isinstance(v, (int, float)))


def _run_fmin(space, max_evals, algo=tpe.suggest, seed=0, **options):
    points = []

    def objective(point):
        arch = from_hyperopt(space, point, **options)
        points.append((point, arch))
        return _score(arch)

    trials = Trials()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ResourceWarning, no numpy deprecations
        best = fmin(objective, to_hyperopt(space, **options), algo=algo, max_evals=max_evals,
                    trials=trials, rstate=np.random.default_rng(seed), show_progressbar=False)
    return best, trials, points


def test_fmin_on_the_poster_space_reaches_every_structure_count_implies():
    space = poster_space()
    best, trials, points = _run_fmin(space, max_evals=50)
    structural = _structural_paths(tree(space))
    assert structural == {"optional.include", "chain1.n"}
    sizes = {s.path: s.hyperparameter.size() for s in slots(space)}
    structures = {}
    for point, arch in points:
        assert space.replay(arch.values).to_json() == arch.to_json()
        assert set(point) == set(arch.values)  # the point holds the live hyperparameters only
        key = tuple(sorted((p, v) for p, v in arch.values.items() if p in structural))
        structures[key] = math.prod(sizes[p] for p in arch.values if p not in structural)
    assert len(structures) == tree(space).structures() == 6
    assert sum(structures.values()) == space.count() == 25008
    best_arch = min((arch for _, arch in points), key=_score)  # the first of equals, as fmin
    assert from_hyperopt(space, best).values == best_arch.values
    assert trials.best_trial["result"]["loss"] == _score(best_arch)


def test_labels_are_paths_and_conditional_ones_sit_under_their_choice():
    config = _conditions(to_hyperopt(poster_space()))
    assert set(config) == {s.path for s in slots(poster_space())}
    assert {str(c) for (c,) in config["optional/dropout.rate"]["conditions"]} == \
        {"Cond{optional.include = 1}"}
    assert config["chain1/0/conv.filters"]["conditions"] == {()}
    assert len(config["chain2/7/conv.filters"]["conditions"]) == 1


def test_shared_and_dependent_hyperparameters_compile_into_a_joint_choice():
    space = mobile_net_space()
    config = _conditions(to_hyperopt(space))
    assert "block_chain.num_reductions+bn_opt+drop_opt" in config
    assert "drop_rate" in config and "filter_multiplier" in config
    assert tree(space).count() == space.count() == 8640
    _, _, points = _run_fmin(space, max_evals=30, algo=rand.suggest)
    for _, arch in points:
        assert space.replay(arch.values).to_json() == arch.to_json()
        assert ("drop_rate" in arch.values) == arch.values["drop_opt"]


def log_space() -> SearchSpace:
    return SearchSpace(lambda: siso_sequential([
        op("input", {"lr": Float(1e-4, 1e-1, log=True), "momentum": Float(0.5, 0.99)}),
        siso_optional(lambda: op("hidden", {"units": Int(8, 512, log=True),
                                            "layers": Int(1, 4),
                                            "stride": Int(1, 9, step=2)}), Bool()),
    ]))


def test_int_and_float_map_to_quantized_and_log_distributions():
    config = _conditions(to_hyperopt(log_space()))
    kinds = {label: entry["node"].name for label, entry in config.items()}
    assert kinds == {"input.lr": "loguniform", "input.momentum": "uniform",
                     "optional.include": "randint", "optional/hidden.units": "qloguniform",
                     "optional/hidden.layers": "quniform", "optional/hidden.stride": "quniform"}
    _, _, points = _run_fmin(log_space(), max_evals=40)
    hidden = [arch.values for _, arch in points if arch.values["optional.include"]]
    assert hidden and all(type(v["optional/hidden.units"]) is int for v in hidden)
    assert all(v["optional/hidden.stride"] in (1, 3, 5, 7, 9) for v in hidden)
    assert all(type(arch.values["input.lr"]) is float for _, arch in points)


def test_a_space_too_large_for_the_tree_falls_back_to_a_flat_union_with_one_warning():
    space = poster_space()
    with pytest.warns(UserWarning, match="flat union"):
        expr = to_hyperopt(space, max_states=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert to_hyperopt(space, max_states=3) is expr
    assert all(entry["conditions"] == {()} for entry in _conditions(expr).values())
    _, _, points = _run_fmin(space, max_evals=20, flat=True)
    assert all(len(point) == 16 for point, _ in points)  # every label, live or not
    assert all(space.replay(arch.values).to_json() == arch.to_json() for _, arch in points)


def test_from_hyperopt_names_a_missing_hyperparameter():
    with pytest.raises(ReplayError, match=r"chain1/0/conv\.filters"):
        from_hyperopt(poster_space(), {"conv.filters": 0, "optional.include": 0,
                                       "chain1.n": 0})


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(spaces(max_leaves=5))
def test_every_architecture_round_trips_through_hyperopt_labels(space):
    found = enumerate_values(space, 200)
    if found is None:
        return
    compiled = _compile(space, False, MAX_STATES)
    assert tree(space).count() == space.count() == len(found)
    for values in found:
        config = compiled.raw(values)
        assert from_hyperopt(space, config).values == space.replay(values).values


def test_searcher_restore_rebuilds_the_documents_ask_made():
    asked = HyperoptSearcher(log_space(), seed=3)
    history = []
    for _ in range(25):
        proposal = asked.ask()
        score = len(proposal.values) + proposal.values["input.lr"]
        asked.tell(proposal, score)
        history.append((proposal.values, score))
    restored = HyperoptSearcher(log_space(), seed=3)
    restored.restore(history)

    def vals(searcher):
        return [{k: [float(x) for x in v] for k, v in t["misc"]["vals"].items()}
                for t in searcher.trials.trials]

    assert vals(restored) == vals(asked)
    assert restored.trials.losses() == asked.trials.losses()
    restored._rng, asked._rng = np.random.default_rng(9), np.random.default_rng(9)
    assert restored.ask().values == asked.ask().values  # TPE sees the same history


def test_failures_count_as_the_worst_and_values_are_plain_python():
    searcher = HyperoptSearcher(poster_space(), seed=0, direction="maximize")
    for i in range(8):
        proposal = searcher.ask()
        assert all(type(v).__module__ == "builtins" for v in proposal.values.values())
        searcher.tell(proposal, None if i % 4 == 0 else float(i))
    losses = searcher.trials.losses()
    assert losses == [None, -1.0, -2.0, -3.0, None, -5.0, -6.0, -7.0]
    assert [r["status"] for r in searcher.trials.results].count("fail") == 2


def _rare_space() -> SearchSpace:
    """One flag setting in 16 is valid: proposals from the flat encoding are mostly rejected
    (the tree leaves out the rejected joint choices it explored)."""
    from da_bridge import InvalidArchitectureError, substitution

    def cell(values):
        if not all(values.values()):
            raise InvalidArchitectureError("every flag must be set")
        return op("conv", {"filters": Discrete([8, 16])})

    return SearchSpace(lambda: substitution("cell", cell, {f"f{i}": Bool() for i in range(4)}))


def test_rejected_proposals_are_recorded_and_a_random_valid_one_follows():
    space = _rare_space()
    searcher = HyperoptSearcher(space, seed=0, flat=True, max_rejections=2)
    for i in range(6):
        proposal = searcher.ask()
        assert all(proposal.values[f"cell.f{k}"] for k in range(4))
        searcher.tell(proposal, float(i))
    docs = searcher.trials.trials
    ok = [d for d in docs if d["result"]["status"] == "ok"]
    failed = [d for d in docs if d["result"]["status"] == "fail"]
    assert [d["result"]["loss"] for d in ok] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert failed  # the rejections, told to Hyperopt as failed trials
    statuses = "".join(d["result"]["status"][0] for d in docs)
    assert "fff" not in statuses  # after two rejections in a row, a random valid one
    # a fallback proposal is stored as what it is, so TPE learns from it
    assert all(from_hyperopt(space, {k: v[0] for k, v in d["misc"]["vals"].items() if v},
                             flat=True)
               .values[f"cell.f{k}"] for d in ok for k in range(4))


@pytest.mark.parametrize("algo", ["tpe", "rand", "anneal", anneal.suggest])
def test_every_algorithm_proposes_valid_architectures(algo):
    searcher = HyperoptSearcher(log_space(), algo=algo, seed=1)
    for _ in range(25):
        proposal = searcher.ask()
        assert log_space().replay(proposal.values).to_json() == proposal.architecture.to_json()
        searcher.tell(proposal, proposal.values["input.lr"])


def test_unknown_algorithm_is_refused():
    with pytest.raises(ValueError, match="atpe"):
        HyperoptSearcher(poster_space(), algo="atpe")


def test_objects_are_chosen_by_index():
    space = SearchSpace(lambda: op("act", {"fn": Discrete([max, min, abs])}))
    _, _, points = _run_fmin(space, max_evals=10, algo=rand.suggest)
    assert {point["act.fn"] for point, _ in points} <= {0, 1, 2}
    assert {arch.values["act.fn"] for _, arch in points} <= {max, min, abs}


def test_flat_searcher_restores_and_a_copied_proposal_closes_its_trial():
    flat = HyperoptSearcher(poster_space(), seed=0, flat=True)
    history = []
    for _ in range(12):
        proposal = flat.ask()
        copy = Proposal(proposal.architecture, dict(proposal.values))  # token lost on the way
        flat.tell(copy, _score(proposal.architecture))
        history.append((proposal.architecture.json_values(), _score(proposal.architecture)))
    assert len(flat.trials.trials) == 12 and not flat._running
    restored = HyperoptSearcher(poster_space(), seed=0, flat=True)
    restored.restore(history)
    assert restored.trials.losses() == flat.trials.losses()
    for asked, rebuilt in zip(flat.trials.trials, restored.trials.trials):
        assert set(asked["misc"]["vals"]) == set(rebuilt["misc"]["vals"])  # every label, flat
        assert all(len(v) == 1 for v in rebuilt["misc"]["vals"].values())
    assert poster_space().replay(restored.ask().values)


def test_a_hyperparameter_shared_across_split_branches_round_trips():
    # it is named after the module that uses it first; a joint structural choice in the
    # tree reveals the later branch first, so the tree lists it under the other path
    space = build_space(("split_combine", (
        "or", (("leaf", "conv", (("pool", "flag0"),)),
               ("optional", ("leaf", "conv", (("pool", "flag0"),)), ("new",))), False), False))
    compiled = _compile(space, False, MAX_STATES)
    for values in enumerate_values(space, 200):
        assert from_hyperopt(space, compiled.raw(values)).values == space.replay(values).values
