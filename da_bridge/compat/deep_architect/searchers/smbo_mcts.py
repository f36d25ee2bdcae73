"""`deep_architect.searchers.smbo_mcts`: `SMBOSearcherWithMCTSOptimizer`.

As in DeepArchitect, the candidates a proposal scores come from an MCTS
searcher that is told each candidate's surrogate score, so it drifts toward
what the surrogate likes; the tree starts over every `tree_refit_interval`
updates. With a DeepArchitect surrogate object (`HashingSurrogate`) the score
is its `eval` (see `smbo_random.SurrogateLoop`); with "rf", "et", a
scikit-learn ensemble or None it is da_bridge's (expected improvement of a
tree ensemble). The tree is da_bridge's `MCTSSearcher`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import Any, cast

import numpy as np

from da_bridge.adapters.smbo import SMBOSearcher as _SMBOSearcher
from da_bridge.adapters.smbo import expected_improvement, transform_losses
from da_bridge.adapters.surrogate import SurrogateModel, make_estimator
from da_bridge.compat.deep_architect.searchers.mcts import MCTSSearcher as _CompatMCTSSearcher
from da_bridge.compat.deep_architect.searchers.smbo_random import (
    SurrogateLoop,
    SurrogateSearcher,
)
from da_bridge.errors import OptionError
from da_bridge.modules import Fragment
from da_bridge.searchers.mcts import MCTSSearcher
from da_bridge.space import SearchSpace

__all__ = ["SMBOSearcherWithMCTSOptimizer"]


def _seen_key(values: dict) -> str:
    """How the SMBO searcher keys the architectures it has proposed (`_seen`)."""
    return json.dumps(values, sort_keys=True)


class _MCTSOptimized(_SMBOSearcher):
    """SMBO whose candidates are drawn by an MCTS searcher scored with the surrogate."""

    def __init__(self, space: SearchSpace, *, tree_refit_interval: int, **options: Any) -> None:
        super().__init__(space, n_parents=0, **options)
        if isinstance(tree_refit_interval, bool) or not isinstance(tree_refit_interval, int) \
                or tree_refit_interval < 1:
            raise OptionError(f"tree_refit_interval must be an integer >= 1; "
                              f"got {tree_refit_interval!r}")
        self.tree_refit_interval = tree_refit_interval
        self._updates = 0
        self.tree = self._new_tree()

    def _new_tree(self) -> MCTSSearcher:
        return MCTSSearcher(self.space, seed=self._rng.randrange(2**31), direction="maximize")

    def _most_promising(self, scored: list[tuple[dict, float]]) -> dict:
        target = transform_losses(np.array([loss for _, loss in scored]), self.y_transform)
        model = SurrogateModel.train([(values, y) for (values, _), y in zip(scored, target)],
                                     estimator=make_estimator(self.estimator,
                                                              self._rng.randrange(2**31),
                                                              n_estimators=self.n_trees),
                                     quantile_target=False)
        best, best_score = None, -math.inf
        for _ in range(self.n_candidates):
            proposal = self.tree.ask()
            values = proposal.architecture.json_values()
            mean, std = model.predict_many([values])
            score = float(expected_improvement(mean, std, float(target.min()), self.xi)[0])
            self.tree.tell(proposal, score)
            if score > best_score and _seen_key(values) not in self._seen:
                best, best_score = values, score
        return self._fresh_sample() if best is None else best

    def _record(self, values: dict, loss: float | None) -> None:
        super()._record(values, loss)
        self._updates += 1
        if self._updates % self.tree_refit_interval == 0:
            self.tree = self._new_tree()


class SMBOSearcherWithMCTSOptimizer(SurrogateSearcher):
    """`SMBOSearcherWithMCTSOptimizer(search_space_fn, surrogate_model, num_samples,
    exploration_prob, tree_refit_interval)`.

    Example:
        >>> from da_bridge.compat.deep_architect import modules as mo
        >>> from da_bridge.compat.deep_architect.hyperparameters import D
        >>> searcher = SMBOSearcherWithMCTSOptimizer(
        ...     lambda: mo.siso_repeat(mo.identity, D([1, 2, 3])), None, 4, 0.0, 2,
        ...     seed=0, n_initial=2)
        >>> for _ in range(4):
        ...     _, _, vs, token = searcher.sample(); searcher.update(float(vs[0]), token)
        >>> searcher.searcher.tree.root.visits  # refit after the 4th update: a new tree
        0
    """

    def __init__(self, search_space_fn: Callable[[], Fragment], surrogate_model: Any,
                 num_samples: int, exploration_prob: float, tree_refit_interval: int,
                 reset_default_scope_upon_sample: bool = True, *, seed: int | None = None,
                 n_initial: int = 10) -> None:
        self.tree_refit_interval, self.cnt, self._seed = tree_refit_interval, 0, seed
        super().__init__(
            search_space_fn, surrogate_model, num_samples, exploration_prob,
            reset_default_scope_upon_sample, seed,
            lambda space, estimator: _MCTSOptimized(
                space, seed=seed, estimator=estimator, n_candidates=num_samples,
                random_fraction=exploration_prob, n_initial=n_initial,
                tree_refit_interval=tree_refit_interval))
        if self.loop is not None:
            self.mcts = self._new_mcts()

    def _new_mcts(self) -> _CompatMCTSSearcher:
        seed = None if self._seed is None else self._seed + self.cnt
        return _CompatMCTSSearcher(self.search_space_fn, seed=seed)

    def candidates(self) -> Iterator[tuple[dict, dict, list, Any]]:
        for _ in range(cast(SurrogateLoop, self.loop).num_samples):
            inputs, outputs, vs, m_cfg_d = self.mcts.sample()
            yield inputs, outputs, vs, lambda score, token=m_cfg_d: self.mcts.update(score, token)

    def updated(self) -> None:
        self.cnt += 1
        if self.cnt % self.tree_refit_interval == 0:
            self.mcts = self._new_mcts()
