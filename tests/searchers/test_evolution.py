"""Regularized evolution and mutation by path name."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import spaces

from da_bridge import DomainError, ReplayError
from da_bridge.searchers.evolution import EvolutionSearcher, mutate
from da_bridge.spaces.examples import mobile_net_space, poster_space


def fits(h, value) -> bool:
    try:
        h.check(value, h.name)
    except DomainError:
        return False
    return True


PARENT = {"conv.filters": 64, "optional.include": True, "optional/dropout.rate": 0.5,
          "chain1.n": 2, "chain1/0/conv.filters": 128, "chain1/1/conv.filters": 64,
          "chain2/0/conv.filters": 64, "chain2/1/conv.filters": 128,
          "chain2/2/conv.filters": 128, "chain2/3/conv.filters": 64}


@pytest.mark.parametrize("seed", range(5))
def test_a_growing_repeat_keeps_every_live_value_and_samples_only_what_it_reveals(seed):
    child = mutate(poster_space(), PARENT, seed, path="chain1.n").values
    assert child["chain1.n"] in (1, 4)
    kept = {p: v for p, v in PARENT.items() if p in child and p != "chain1.n"}
    assert all(child[p] == v for p, v in kept.items())
    if child["chain1.n"] == 4:
        assert set(child) - set(PARENT) == {"chain1/2/conv.filters", "chain1/3/conv.filters"} | {
            f"chain2/{i}/conv.filters" for i in range(4, 8)}
    else:
        assert set(PARENT) - set(child) == {"chain1/1/conv.filters", "chain2/2/conv.filters",
                                            "chain2/3/conv.filters"}


def test_switching_an_optional_off_drops_what_it_revealed():
    child = mutate(poster_space(), PARENT, 0, path="optional.include").values
    assert child == {p: v for p, v in PARENT.items() if p != "optional/dropout.rate"} | {
        "optional.include": False}


def test_a_plain_mutation_changes_exactly_one_value():
    child = mutate(poster_space(), PARENT, 0, path="conv.filters").values
    assert {p for p in PARENT if child[p] != PARENT[p]} == {"conv.filters"}


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(spaces(max_leaves=5, finite=False), st.integers(0, 2**16))
def test_mutation_changes_one_choice_and_keeps_what_stays_live(space, seed):
    parent = space.sample(seed).values
    child = mutate(space, parent, random.Random(seed)).values
    assert space.replay(child).values == child
    order = list(parent)
    changed = [p for p in order if p not in child or child[p] != parent[p]]
    if not changed:  # nothing had a second value
        assert all(h.size() == 1 for h, _ in space.live(parent))
        return
    mutated = changed[0]
    assert mutated in child and child[mutated] != parent[mutated]
    assert all(child[p] == parent[p] for p in order[:order.index(mutated)])
    for h, value in space.live(child):
        if h.name != mutated and h.name in parent and fits(h, parent[h.name]):
            assert value == parent[h.name]


def test_mutation_checks_its_input():
    with pytest.raises(ReplayError, match=r"dropout\.rate"):
        mutate(poster_space(), PARENT, 0, path="optional/dropout.rate-typo")
    with pytest.raises(DomainError, match=r"conv\.filters"):
        mutate(poster_space(), {**PARENT, "conv.filters": 65}, 0)


def test_mutation_of_shared_choices_in_mobile_net_replays():
    space = mobile_net_space()
    parent = space.sample(1).values
    for seed in range(10):
        for path in ("block_chain.num_reductions", "drop_opt", "filter_multiplier"):
            child = mutate(space, parent, seed, path=path)
            assert space.replay(child.values).to_json() == child.to_json()


def test_population_ages_and_tournaments_pick_the_best():
    searcher = EvolutionSearcher(poster_space(), seed=0, population_size=5, sample_size=5)
    told = []
    for i in range(12):
        proposal = searcher.ask()
        score = sum(v for p, v in proposal.values.items() if p.endswith("filters"))
        searcher.tell(proposal, score if i != 6 else None)
        if i != 6:
            told.append((proposal.values, score))
    assert list(searcher.population) == told[-5:]  # oldest first; failures never join
    best = min(searcher.population, key=lambda member: member[1])[0]
    child = searcher.ask().values
    assert child != best and any(child.get(p) == v for p, v in best.items())


def test_evolution_beats_its_random_start_on_a_clear_objective():
    def score(values):
        return sum(v for p, v in values.items() if p.endswith("filters"))

    finals = []
    for seed in range(3):
        searcher = EvolutionSearcher(poster_space(), seed=seed, population_size=10,
                                     sample_size=3)
        losses = []
        for _ in range(120):
            proposal = searcher.ask()
            losses.append(score(proposal.values))
            searcher.tell(proposal, losses[-1])
        finals.append(min(losses))
        assert sum(losses[-20:]) / 20 < sum(losses[:10]) / 10
    assert min(finals) == 256  # the optimum: n = 1, every convolution with 64 filters


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="sample_size"):
        EvolutionSearcher(poster_space(), population_size=3, sample_size=4)
