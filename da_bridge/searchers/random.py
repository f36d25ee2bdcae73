"""Uniform random search."""

from __future__ import annotations

import random

from da_bridge.searchers.base import Proposal, Searcher
from da_bridge.space import SearchSpace


class RandomSearcher(Searcher):
    """Uniform random search: each exposed hyperparameter drawn independently.

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> a = RandomSearcher(poster_space(), seed=1).ask().values
        >>> a == RandomSearcher(poster_space(), seed=1).ask().values
        True
    """

    def __init__(self, space: SearchSpace, *, seed: int | None = None,
                 direction: str = "minimize") -> None:
        super().__init__(space, seed=seed, direction=direction)
        self._rng = random.Random(seed)

    def ask(self) -> Proposal:
        arch = self.space.sample(self._rng)
        return Proposal(arch, dict(arch.values))

    def tell(self, proposal: Proposal, score: float | None) -> None:
        """Random search learns nothing."""
