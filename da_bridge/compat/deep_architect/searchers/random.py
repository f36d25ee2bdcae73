"""`deep_architect.searchers.random`: `RandomSearcher`, over da_bridge's `RandomSearcher`."""

from __future__ import annotations

from collections.abc import Callable

from da_bridge.compat.deep_architect.searchers.common import EngineSearcher
from da_bridge.modules import Fragment
from da_bridge.searchers.random import RandomSearcher as _RandomSearcher

__all__ = ["RandomSearcher"]


class RandomSearcher(EngineSearcher):
    """Uniform sampling; `update` learns nothing. `seed` is new (DeepArchitect used numpy's).

    Example:
        >>> from da_bridge.compat.deep_architect import modules as mo
        >>> from da_bridge.compat.deep_architect.hyperparameters import D
        >>> searcher = RandomSearcher(lambda: mo.siso_repeat(mo.identity, D([1, 2])), seed=0)
        >>> len(searcher.sample())
        4
    """

    def __init__(self, search_space_fn: Callable[[], Fragment],
                 reset_default_scope_upon_sample: bool = True, *, seed: int | None = None
                 ) -> None:
        super().__init__(search_space_fn, lambda space: _RandomSearcher(space, seed=seed),
                         reset_default_scope_upon_sample)
