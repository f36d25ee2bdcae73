"""`deep_architect.searchers.regularized_evolution`: `EvolutionSearcher`, `mutatable`.

Over da_bridge's evolution: a mutation changes one hyperparameter that
`mutatable_fn` accepts, keeps the parent's values where they are still live
and samples only what a structural change reveals (DeepArchitect replayed the
rest positionally and truncated after names containing 'sub').
`regularized=True` removes the oldest member, False the weakest.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from da_bridge.compat.deep_architect.searchers.common import EngineSearcher
from da_bridge.modules import Fragment
from da_bridge.searchers.base import Proposal
from da_bridge.searchers.evolution import EvolutionSearcher as _EvolutionSearcher
from da_bridge.searchers.evolution import mutate as _mutate

__all__ = ["EvolutionSearcher", "mutatable"]


def mutatable(h: Any) -> bool:
    """A hyperparameter with more than one value can mutate."""
    return len(h.vs) > 1


class _Named:
    """What `mutatable_fn` sees: DeepArchitect's `get_name()` and `vs`."""

    def __init__(self, name: str, hyperparameter: Any) -> None:
        self.name, self.hyperparameter = name, hyperparameter

    def get_name(self) -> str:
        return self.name

    @property
    def vs(self) -> tuple:
        return tuple(self.hyperparameter.enumerate())


class _Evolution(_EvolutionSearcher):
    def __init__(self, space: Any, mutatable_fn: Callable[[Any], bool], P: int, S: int,  # noqa: N803
                 regularized: bool, seed: int | None) -> None:
        super().__init__(space, seed=seed, population_size=P, sample_size=S)
        self.mutatable, self.regularized = mutatable_fn, regularized

    def _mutate(self, parent: dict[str, Any]) -> Any:
        paths = [name for name, h in _live(self.space, parent) if self.mutatable(_Named(name, h))]
        if not paths:
            return self.space.replay(parent)
        return _mutate(self.space, parent, self._rng, path=self._rng.choice(paths))

    def tell(self, proposal: Proposal, score: float | None) -> None:
        loss = self.loss(score)
        if loss is None:
            return
        if not self.regularized and len(self.population) >= self.population_size:
            self.population.remove(max(self.population, key=lambda member: member[1]))
        super().tell(proposal, score)


def _live(space: Any, values: dict) -> list[tuple[str, Any]]:
    return [(h.name, h.hyperparameter) for h, _ in space.live(values)]


class EvolutionSearcher(EngineSearcher):
    """`EvolutionSearcher(search_space_fn, mutatable_fn, P, S, regularized=False)`.

    Example:
        >>> from da_bridge.compat.deep_architect import modules as mo
        >>> from da_bridge.compat.deep_architect.hyperparameters import D
        >>> searcher = EvolutionSearcher(lambda: mo.siso_repeat(mo.identity, D([1, 2, 3])),
        ...                              mutatable, 4, 2, seed=0)
        >>> for _ in range(6):
        ...     _, _, vs, token = searcher.sample(); searcher.update(float(vs[0]), token)
        >>> len(searcher.searcher.population)
        4
    """

    def __init__(self, search_space_fn: Callable[[], Fragment],
                 mutatable_fn: Callable[[Any], bool], P: int, S: int,  # noqa: N803 - DA's names
                 regularized: bool = False, reset_default_scope_upon_sample: bool = True, *,
                 seed: int | None = None) -> None:
        seed = random.randrange(2**31) if seed is None else seed
        super().__init__(search_space_fn,
                         lambda space: _Evolution(space, mutatable_fn, P, S, regularized, seed),
                         reset_default_scope_upon_sample)
