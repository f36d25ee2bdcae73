"""`deep_architect.searchers.smbo_random`: `SMBOSearcher`, over `da_bridge.adapters.smbo`.

DeepArchitect's surrogate objects (`deep_architect.surrogates`) are not kept:
the engine's SMBO searcher fits its own random-forest surrogate on the values
maps, so `surrogate_model` is accepted and ignored. This is the one compat module that
imports an adapter (`da_bridge.adapters.smbo`, numpy and, when it fits, scikit-learn).
`num_samples` is the number of candidates scored per proposal, `exploration_prob` the
share of random ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from da_bridge.adapters.smbo import SMBOSearcher as _SMBOSearcher
from da_bridge.compat.deep_architect.searchers.common import EngineSearcher
from da_bridge.modules import Fragment

__all__ = ["SMBOSearcher"]


class SMBOSearcher(EngineSearcher):
    """Model-based search: the best of `num_samples` candidates under a surrogate."""

    def __init__(self, search_space_fn: Callable[[], Fragment], surrogate_model: Any,
                 num_samples: int, exploration_prob: float,
                 reset_default_scope_upon_sample: bool = True, *, seed: int | None = None
                 ) -> None:
        def make(space: Any) -> Any:
            return _SMBOSearcher(space, seed=seed, n_candidates=num_samples,
                                 random_fraction=exploration_prob, y_transform=None)

        super().__init__(search_space_fn, make, reset_default_scope_upon_sample)
