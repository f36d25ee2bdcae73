"""`deep_architect.searchers.mcts`: `MCTSSearcher`, over da_bridge's `MCTSSearcher`."""

from __future__ import annotations

from collections.abc import Callable

from da_bridge.compat.deep_architect.searchers.common import EngineSearcher
from da_bridge.modules import Fragment
from da_bridge.searchers.mcts import MCTSSearcher as _MCTSSearcher

__all__ = ["MCTSSearcher"]


class MCTSSearcher(EngineSearcher):
    """UCT over the unfolding; rejected architectures (DeepArchitect: `ValueError`) are redrawn.

    Example:
        >>> from da_bridge.compat.deep_architect import modules as mo
        >>> from da_bridge.compat.deep_architect.hyperparameters import D
        >>> searcher = MCTSSearcher(lambda: mo.siso_repeat(mo.identity, D([1, 2])), seed=0)
        >>> _, _, vs, token = searcher.sample(); searcher.update(1.0, token)
    """

    def __init__(self, search_space_fn: Callable[[], Fragment], exploration_bonus: float = 1.0,
                 reset_default_scope_upon_sample: bool = True, *, seed: int | None = None
                 ) -> None:
        super().__init__(search_space_fn,
                         lambda space: _MCTSSearcher(space, seed=seed,
                                                     exploration=exploration_bonus),
                         reset_default_scope_upon_sample)
