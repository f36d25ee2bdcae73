"""Monte Carlo tree search over the unfolding of a search space.

The tree is the unfolding itself: a node is the sequence of values assigned so
far, its children are the values of the next hyperparameter `next()` exposes.
Each proposal walks down with UCT (a child never tried is tried first), adds
one node, and finishes with a uniform random rollout. Continuous
hyperparameters, and integer ranges wider than `max_branching`, are sampled
and do not branch.

A search wants the best architecture, not the best average, so a node's value
is the best loss found below it (a max backup), scored by its rank among all
losses seen: 1 for the best so far, near 0 for the worst. Ranks make the
exploration constant independent of the objective's scale and of outliers (a
diverged network). On the benchmark in `benchmarks/search_quality.py`, mean
backups with min-max scaling did worse than random search: one bad rollout
buried a whole branch.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Mapping
from typing import Any

from da_bridge._domains import index_of, values_of
from da_bridge.errors import InvalidArchitectureError, OptionError
from da_bridge.hyperparameters import Hyperparameter
from da_bridge.searchers.base import Proposal, Searcher, until_valid
from da_bridge.space import NamedHyperparameter, SearchSpace

#: The child key of a hyperparameter that is sampled instead of branched on.
SAMPLED = "*"


class _Node:
    __slots__ = ("children", "visits", "best")

    def __init__(self) -> None:
        self.children: dict[Any, _Node] = {}
        self.visits = 0
        self.best: float | None = None  # the lowest loss below this node


class MCTSSearcher(Searcher):
    """UCT over the unfolding tree, valuing a node by the rank of the best loss below it.

    Args:
        space: The search space.
        seed: Seeds the searcher's `random.Random`.
        direction: "minimize" or "maximize"; `da_bridge.search` sets it.
        exploration: The UCT constant `c` in `value + c * sqrt(ln N / n)`.
        max_branching: Hyperparameters with more values than this are sampled.

    A failed evaluation counts as a visit that found nothing.

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> searcher = MCTSSearcher(poster_space(), seed=0)
        >>> for _ in range(5):
        ...     proposal = searcher.ask()
        ...     searcher.tell(proposal, float(len(proposal.values)))
        >>> searcher.root.visits, len(searcher.root.children)
        (5, 2)
    """

    def __init__(self, space: SearchSpace, *, seed: int | None = None,
                 direction: str = "minimize", exploration: float = 1.4,
                 max_branching: int = 32) -> None:
        super().__init__(space, seed=seed, direction=direction)
        if exploration < 0 or max_branching < 1:
            raise OptionError(f"need exploration >= 0 and max_branching >= 1; got {exploration}, "
                             f"{max_branching}")
        self.exploration, self.max_branching = exploration, max_branching
        self.root = _Node()
        self._rng = random.Random(seed)
        self._losses: list[float] = []  # every loss told, sorted

    def ask(self) -> Proposal:
        """The next path down the tree; a path the space rejects is told as a failed visit
        (so UCT moves elsewhere) and another is drawn."""
        return until_valid(self._descend, self.space, on_reject=self._reject)

    def _reject(self, exc: InvalidArchitectureError) -> None:
        self.tell(Proposal(None, {}, token=tuple(self._keys_so_far)), None)  # type: ignore[arg-type]

    def _descend(self) -> Proposal:
        keys: list[Any] = []
        self._keys_so_far = keys
        node: _Node | None = self.root

        def descend(h: NamedHyperparameter) -> Any:
            nonlocal node
            options = self._options(h.hyperparameter)
            if options is None:
                keys.append(SAMPLED)
                return h.sample(self._rng)
            key = self._rng.randrange(len(options)) if node is None else \
                self._select(node, len(options))
            keys.append(key)
            node = None if node is None else node.children.get(key)
            return options[key]

        arch = self.space.specify(descend)
        return Proposal(arch, dict(arch.values), token=tuple(keys))

    def tell(self, proposal: Proposal, score: float | None) -> None:
        keys = proposal.token if isinstance(proposal.token, tuple) else self._keys(proposal.values)
        loss = self.loss(score)
        if loss is not None:
            bisect.insort(self._losses, loss)
        node = self.root
        _record(node, loss)
        for key in keys:
            child = node.children.get(key)
            if child is None:  # expand one node per evaluation
                _record(node.children.setdefault(key, _Node()), loss)
                return
            _record(child, loss)
            node = child

    def _options(self, h: Hyperparameter) -> list[Any] | None:
        size = h.size()
        return values_of(h) if size <= self.max_branching else None

    def _select(self, node: _Node, n_options: int) -> int:
        untried = [k for k in range(n_options) if k not in node.children]
        if untried:
            return self._rng.choice(untried)
        bonus = self.exploration * math.sqrt(math.log(max(node.visits, 1)))
        return max(range(n_options), key=lambda k: self._value(node.children[k])
                   + bonus / math.sqrt(node.children[k].visits))

    def _value(self, node: _Node) -> float:
        """The share of losses seen that are not better than the best below `node`."""
        if node.best is None:
            return 0.0
        return 1.0 - bisect.bisect_left(self._losses, node.best) / len(self._losses)

    def _keys(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The tree path of a values map told without its token (restored trials)."""
        return tuple(SAMPLED if self._options(h.hyperparameter) is None
                     else index_of(h.hyperparameter, value)
                     for h, value in self.space.live(values))


def _record(node: _Node, loss: float | None) -> None:
    node.visits += 1
    if loss is not None and (node.best is None or loss < node.best):
        node.best = loss
