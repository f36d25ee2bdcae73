"""Monte Carlo tree search over the unfolding tree."""

from __future__ import annotations

import pytest

from da_bridge import Bool, Discrete, Float, SearchSpace, siso_optional, siso_sequential
from da_bridge.searchers.base import Proposal
from da_bridge.searchers.mcts import SAMPLED, MCTSSearcher
from da_bridge.spaces.examples import op, poster_space


def _filters(values) -> float:
    return sum(v for p, v in values.items() if p.endswith("filters"))


def _nodes(node) -> int:
    return 1 + sum(_nodes(child) for child in node.children.values())


def _shape(node):
    return node.visits, node.best, {k: _shape(c) for k, c in node.children.items()}


def test_each_evaluation_adds_one_node_and_untried_values_come_first():
    searcher = MCTSSearcher(poster_space(), seed=0)
    first = []
    for i in range(10):
        proposal = searcher.ask()
        first.append(proposal.values["conv.filters"])
        searcher.tell(proposal, _filters(proposal.values))
        assert searcher.root.visits == i + 1 and _nodes(searcher.root) == i + 2
    assert sorted(first[:2]) == [64, 128]


def test_the_search_concentrates_on_the_better_branch():
    searcher = MCTSSearcher(poster_space(), seed=1, exploration=0.5)
    losses = []
    for _ in range(100):
        proposal = searcher.ask()
        losses.append(_filters(proposal.values))
        searcher.tell(proposal, losses[-1])
    low, high = searcher.root.children[0], searcher.root.children[1]  # 64 and 128 filters
    assert low.visits > 2 * high.visits
    assert min(losses) == 256  # n = 1 and 64 filters everywhere


def test_restored_trials_grow_the_same_tree_as_told_ones():
    told = MCTSSearcher(poster_space(), seed=2)
    history = []
    for _ in range(15):
        proposal = told.ask()
        told.tell(proposal, _filters(proposal.values))
        history.append((proposal.architecture.json_values(), _filters(proposal.values)))
    restored = MCTSSearcher(poster_space(), seed=2)
    restored.restore(history)
    assert _shape(restored.root) == _shape(told.root)


def test_continuous_hyperparameters_are_sampled_not_branched():
    space = SearchSpace(lambda: siso_sequential([
        op("input", {"lr": Float(1e-4, 1e-1, log=True)}),
        siso_optional(lambda: op("hidden", {"units": Discrete([8, 16])}), Bool()),
    ]))
    searcher = MCTSSearcher(space, seed=0)
    lrs = set()
    for _ in range(12):
        proposal = searcher.ask()
        lrs.add(proposal.values["input.lr"])
        searcher.tell(proposal, proposal.values["input.lr"])
    assert list(searcher.root.children) == [SAMPLED] and len(lrs) == 12


def test_nodes_are_valued_by_the_rank_of_their_best_loss_and_failures_find_nothing():
    searcher = MCTSSearcher(poster_space(), seed=0, direction="maximize")
    failed = searcher.ask()
    searcher.tell(failed, None)
    child = searcher.root.children[failed.token[0]]
    assert (child.visits, child.best, searcher._value(child)) == (1, None, 0.0)
    for score in (1.0, 3.0, 2.0):
        searcher.tell(Proposal(failed.architecture, failed.values), score)
    assert (child.visits, child.best) == (4, -3.0)  # losses are negated scores
    assert searcher._value(child) == 1.0
    searcher.tell(searcher.ask(), 10.0)
    assert searcher._value(child) == pytest.approx(1 - 1 / 4)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="exploration"):
        MCTSSearcher(poster_space(), exploration=-1)
