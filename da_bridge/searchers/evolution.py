"""Regularized evolution with mutation by path name.

Regularized (aging) evolution (Real et al., 2019): a population of the last
`population_size` architectures evaluated; each proposal mutates the best of
`sample_size` members drawn at random, and the oldest member leaves when a new
one arrives. The population starts with random architectures.

A mutation changes one live hyperparameter, picked by path. When that
hyperparameter is structural, the architecture is unfolded again from the
parent's values: what the new value keeps live keeps its value, and only what
it reveals is sampled. (DeepArchitect's mutation rebuilt the space and copied
values by position, which breaks as soon as the structure changes.)
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping
from typing import Any

from da_bridge._rng import Seed, as_random
from da_bridge.architecture import Architecture
from da_bridge.errors import NoValidArchitectureError, OptionError, ReplayError
from da_bridge.hyperparameters import Discrete, Float, Hyperparameter
from da_bridge.searchers.base import Proposal, Searcher, until_valid
from da_bridge.space import SearchSpace

#: Rejected mutations of one parent before a fresh architecture is drawn instead.
MUTATION_TRIES = 20


class EvolutionSearcher(Searcher):
    """Regularized evolution: tournament selection, one mutation, the oldest member dies.

    Args:
        space: The search space.
        seed: Seeds the searcher's `random.Random`.
        direction: "minimize" or "maximize"; `da_bridge.search` sets it.
        population_size: Architectures kept alive (the last ones evaluated).
        sample_size: Members drawn for each tournament.

    Attributes:
        population: `(values, loss)` pairs, oldest first. Failed evaluations never join.

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> searcher = EvolutionSearcher(poster_space(), seed=0, population_size=4, sample_size=2)
        >>> for _ in range(6):
        ...     proposal = searcher.ask()
        ...     searcher.tell(proposal, float(len(proposal.values)))
        >>> len(searcher.population)
        4
    """

    def __init__(self, space: SearchSpace, *, seed: int | None = None,
                 direction: str = "minimize", population_size: int = 20,
                 sample_size: int = 5) -> None:
        super().__init__(space, seed=seed, direction=direction)
        if not 1 <= sample_size <= population_size:
            raise OptionError(f"need 1 <= sample_size <= population_size; got sample_size="
                             f"{sample_size}, population_size={population_size}")
        self.population_size, self.sample_size = population_size, sample_size
        self.population: deque[tuple[dict[str, Any], float]] = deque()
        self._rng = random.Random(seed)

    def ask(self) -> Proposal:
        if len(self.population) < self.population_size:
            arch = self.space.sample(self._rng)
        else:
            contenders = self._rng.sample(list(self.population), self.sample_size)
            arch = self._child(min(contenders, key=lambda member: member[1])[0])
        return Proposal(arch, dict(arch.values))

    def _child(self, parent: dict[str, Any]) -> Architecture:
        try:  # a parent whose every neighbour is rejected gives way to a fresh draw
            return until_valid(lambda: self._mutate(parent), self.space,
                               max_rejections=MUTATION_TRIES)
        except NoValidArchitectureError:
            return self.space.sample(self._rng)

    def _mutate(self, parent: dict[str, Any]) -> Architecture:
        """One mutation of `parent` (subclasses choose what may change)."""
        return mutate(self.space, parent, self._rng)

    def tell(self, proposal: Proposal, score: float | None) -> None:
        loss = self.loss(score)
        if loss is None:
            return
        self.population.append((dict(proposal.values), loss))
        while len(self.population) > self.population_size:
            self.population.popleft()


def mutate(space: SearchSpace, values: Mapping[str, Any], rng: Seed | None = None, *,
           path: str | None = None) -> Architecture:
    """Change one live hyperparameter; sample only what a structural change reveals.

    Args:
        space: The search space.
        values: The parent's values map (plain or JSON form).
        rng: An int seed, `random.Random` or numpy Generator.
        path: The hyperparameter to change; by default one with more than one
            value, drawn uniformly.

    Returns:
        The child: the parent's values where they are still live, the new
        value at `path`, and fresh samples for what the new value reveals.

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> parent = poster_space().replay({
        ...     "conv.filters": 64, "optional.include": False, "chain1.n": 1,
        ...     "chain1/0/conv.filters": 128, "chain2/0/conv.filters": 64,
        ...     "chain2/1/conv.filters": 128})
        >>> child = mutate(poster_space(), parent.values, 0, path="chain1.n")
        >>> child.values["chain1.n"] in (2, 4), child.values["chain2/1/conv.filters"]
        (True, 128)
    """
    rng = as_random(rng)
    live = _live(space, values)
    if path is None:
        changeable = [p for p, (h, _) in live.items() if h.size() > 1]
        if not changeable:
            return space.replay(values)
        path = rng.choice(changeable)
    if path not in live:
        raise ReplayError(f"{path!r} is not a live hyperparameter of this architecture "
                          f"(live: {list(live)[:8]})")
    h, current = live[path]
    kept = {p: v for p, (_, v) in live.items() if p != path}
    kept[path] = _other_value(h, current, rng)
    return space.sample(rng, keep=kept, max_rejections=MUTATION_TRIES)


def _live(space: SearchSpace, values: Mapping[str, Any]) -> dict[str, tuple[Hyperparameter, Any]]:
    return {h.name: (h.hyperparameter, value) for h, value in space.live(values)}


def _other_value(h: Hyperparameter, current: Any, rng: random.Random) -> Any:
    """A value other than `current` (a fresh draw for continuous domains)."""
    if h.size() <= 1:
        return current
    if isinstance(h, Float) or h.size() > 64:
        for _ in range(100):
            value = h.sample(rng)
            if value != current:
                return value
        return value
    options = list(h.values) if isinstance(h, Discrete) else h.enumerate()
    i = h.index(current) if isinstance(h, Discrete) else options.index(current)
    return options[rng.choice([j for j in range(len(options)) if j != i])]
