"""DeepArchitect's own search spaces, ported with only their imports changed.

For each: sampling and replay, the count against DeepArchitect's own enumeration (small
spaces) or the closed formula, a forward pass where the stand-ins can run one, and
searches with every searcher (rejections recorded, nothing else failed).
"""

from __future__ import annotations

import math

import da_benchmark_spaces
import da_dnn
import da_genetic_space
import da_hierarchical_space
import da_keras_starter
import da_nasbench_space
import da_nasnet_space
import da_readme_space
import da_tutorial_spaces
import optuna
import pytest

import da_bridge.compat.deep_architect.core as co
import da_bridge.compat.deep_architect.modules as mo
from da_bridge import search
from da_bridge.adapters.optuna import REJECTED_ATTR, VALUES_ATTR
from da_bridge.compat.deep_architect.modules import as_search_space
from da_bridge.study import SEARCHERS

SPACES = {
    **{f"tutorial{i}": getattr(da_tutorial_spaces, f"search_space{i}") for i in range(6)},
    "readme": da_readme_space.model_search_space,
    "keras_starter": lambda: da_keras_starter.dnn_net(10),
    "dnn_net": lambda: da_dnn.dnn_net(10),
    "genetic": lambda: da_genetic_space.generate_search_space([3, 4, 5], [64, 128, 256],
                                                              [5, 5, 5]),
    "hierarchical": lambda: da_hierarchical_space.hierarchical_search_space(10),
    "nasbench": lambda: da_nasbench_space.generate_search_space(3, 3, 5, 128),
    "nasnet": lambda: da_nasnet_space.generate_search_space(5, 18, 2, 36, 3.0),
    "benchmark_conv": da_benchmark_spaces.get_conv_search_space_fn(10),
}


def da_enumeration(search_space_fn, prefix=()):
    """DeepArchitect's way to count: rebuild, replay a prefix, branch on the next choice."""
    inputs, outputs = mo.SearchSpaceFactory(search_space_fn).get_search_space()
    iterator = co.unassigned_independent_hyperparameter_iterator(outputs)
    for value in prefix:
        next(iterator).assign_value(value)
    h = next(iterator, None)
    if h is None:
        return 1
    return sum(da_enumeration(search_space_fn, (*prefix, v)) for v in h.vs)


def hierarchical_formula():
    """Level-3 motif (shared by all six positions): 4 chain edges over motifs 1..6 and six
    other edges over 0..6 (0: no edge); every level-2 motif it uses adds 6^3 * 7^3 choices.
    Inclusion-exclusion over the set of motifs used."""
    per_motif = 6 ** 3 * 7 ** 3
    total = 0
    for k in range(1, 7):
        exactly_k = sum(math.comb(k, j) * (-1) ** (k - j) * j ** 4 * (j + 1) ** 6
                        for j in range(k + 1))
        total += math.comb(6, k) * exactly_k * per_motif ** k
    return total


FORMULAS = {
    "tutorial0": (4 * 2) ** 2,
    "tutorial1": 4 * 4 * 2,
    "tutorial2": 4 * 2,
    "tutorial3": 4 * 2 * 2,
    "tutorial4": 4 * 2 * 3 * 2,
    "tutorial5": 4 * 2 * 3 * 2,
    # shared activation; per cell units x (no dropout + 3 rates); 1, 2 or 4 cells
    "readme": 2 * sum((3 * (1 + 3)) ** n for n in (1, 2, 4)),
    # shared nonlinearity, swap, dropout and batch-norm flags; per cell units (x rate)
    "keras_starter": 3 * 2 * 2 * sum(5 ** n + 15 ** n for n in (1, 2, 4)),
    "dnn_net": 5 * 2 * 2 * sum(5 ** n + 15 ** n for n in (1, 2)),
    "genetic": 2 ** (3 + 6 + 10),  # every connection pattern of the three stages
    # shared swap (2) and dropout flag (x keep prob when on); 2-4 reductions, each a reduction
    # cell and 1, 2, 4 or 8 normal cells of 5 filters x 3 widths; 2 pooling ops
    "benchmark_conv": 2 * 2 * (1 + 4) * sum(
        (15 * sum(15 ** m for m in (1, 2, 4, 8))) ** r for r in (2, 3, 4)),
}


def test_every_ported_space_samples_and_replays():
    for name, fn in SPACES.items():
        space = as_search_space(fn)
        arch = space.sample(0)
        assert space.replay(arch.values).to_json() == arch.to_json(), name


@pytest.mark.parametrize("name", [f"tutorial{i}" for i in range(6)])
def test_tutorial_counts_match_deep_architects_enumeration(name):
    assert as_search_space(SPACES[name]).count() == da_enumeration(SPACES[name]) \
        == FORMULAS[name]


@pytest.mark.parametrize("name", ["readme", "keras_starter", "dnn_net",
                                  pytest.param("genetic", marks=pytest.mark.slow),
                                  pytest.param("benchmark_conv", marks=pytest.mark.slow)])
def test_counts_match_the_formula(name):
    assert as_search_space(SPACES[name]).count() == FORMULAS[name]


def test_the_benchmark_conv_space_has_4_4e43_architectures():
    assert f"{FORMULAS['benchmark_conv']:.1e}" == "4.4e+43"


@pytest.mark.parametrize(("name", "joint"), [
    ("hierarchical", r"10 hyperparameters read together \(Motif_Level_3\..*152,473,104"),
    ("nasbench", r"21 hyperparameters read together \(in_0_1, .*2,097,152"),
    ("nasnet", r"10 hyperparameters read together \(normal_in_0_0, .*518,400"),
])
def test_cell_spaces_stop_at_the_budget_naming_the_joint_choice(name, joint):
    from da_bridge import SpaceTooLargeError

    with pytest.raises(SpaceTooLargeError, match=joint):
        as_search_space(SPACES[name]).count()


def test_hierarchical_count_formula_is_beyond_enumeration():
    # what the budget error stands for: about 5.1e36 architectures (inclusion-exclusion)
    assert 5e36 < hierarchical_formula() < 6e36


def test_a_forward_pass_runs_through_deep_architects_api():
    inputs, outputs = mo.SearchSpaceFactory(da_readme_space.model_search_space).get_search_space()
    values = da_readme_space.random_specify(outputs)
    co.forward({inputs["in"]: ["x"]})
    trace = outputs["out"].val
    assert trace[0] == "x" and trace[-1] == "Dense[activation=softmax][units=10]"
    assert inputs["in"].val == ["x"]
    n_cells = len([t for t in trace if t.startswith("Dense")]) - 1
    assert values[0] == n_cells in (1, 2, 4)  # the repeat is the first choice
    assert {t.split("[")[0] for t in trace[1:]} <= {"Dense", "Dropout"}


def test_deep_architects_search_loop_runs_as_written():
    # examples/framework_starters/main_keras.py's loop, with a score in place of training
    searcher = da_keras_starter.se.RandomSearcher(lambda: da_keras_starter.dnn_net(10))
    for _ in range(4):
        inputs, outputs, hyperp_value_lst, searcher_eval_token = searcher.sample()
        co.forward({inputs["in"]: []})
        score = len(outputs["out"].val) / 10
        searcher.update(score, searcher_eval_token)
        assert as_search_space(lambda: da_keras_starter.dnn_net(10)).replay(
            searcher_eval_token["values"]).values == dict(
            zip(searcher_eval_token["values"], hyperp_value_lst))


def test_two_hyperparameters_named_alike_get_stable_distinct_paths():
    values = as_search_space(SPACES["dnn_net"]).sample(0).values
    assert {"Mutatable", "Mutatable_sub", "Mutatable_sub-2", "Mutatable_sub-3"} <= set(values)


def test_nasbench_cells_that_deep_architect_rejects_are_drawn_again():
    space = as_search_space(SPACES["nasbench"])
    good = dict(space.sample(0).values)
    assert 0 < sum(v for p, v in good.items() if p.startswith("in_")) <= 9
    bad = dict(good)
    bad.update({p: 0 for p in bad if p.startswith("in_")})
    assert space.rejection(bad) == "No path exists between input and output"


def _search(name, searcher, n_trials=20):
    space = as_search_space(SPACES[name])
    if searcher == "smbo":  # fewer candidates per proposal: sampling a cell space is slow
        from da_bridge.adapters.smbo import SMBOSearcher

        searcher = SMBOSearcher(space, seed=0, n_candidates=16, n_parents=2, max_mutations=8)
    result = search(space, lambda arch: float(len(arch.values) % 7),
                    n_trials=n_trials, searcher=searcher, seed=0, storage=":memory:")
    states = optuna.trial.TrialState
    assert not [t for t in result.trials if t.state == states.FAIL]
    for t in result.trials:
        assert t.state == states.COMPLETE or REJECTED_ATTR in t.user_attrs
    complete = [t for t in result.trials if t.state == states.COMPLETE]
    assert complete
    as_search_space(SPACES[name]).replay(complete[-1].user_attrs[VALUES_ATTR])
    return result


SEARCHERS_HERE = list(SEARCHERS)


@pytest.mark.parametrize("searcher", SEARCHERS_HERE)
def test_dnn_net_searches_with_every_searcher(searcher):
    _search("dnn_net", searcher, n_trials=12)


#: Optuna's own samplers record a rejected architecture as a pruned trial (the others draw
#: again); few random NAS-Bench cells are valid, and 20 trials were all rejected.
LONG = {("nasbench", "optuna"): 60}


def _matrix():
    """Every (space, searcher) pair, with its number of trials."""
    for name in SPACES:
        for searcher in SEARCHERS:
            pair = (name, searcher)
            n_trials = LONG.get(pair, 20)
            yield pytest.param(name, searcher, n_trials)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "searcher", "n_trials"), list(_matrix()))
def test_twenty_trials_with_every_searcher(name, searcher, n_trials):
    _search(name, searcher, n_trials)
