"""`deep_architect.searchers.smbo_random`: `SMBOSearcher`, over da_bridge's SMBO.

DeepArchitect scored `num_samples` random architectures with a surrogate and
proposed the best, or with probability `exploration_prob` a random one.

- With a DeepArchitect surrogate object (`eval(feats)` / `update(val, feats)`,
  such as `surrogates.hashing.HashingSurrogate`), that is what it does, on
  `surrogates.common.extract_features`; the draws use numpy's global generator
  as in DeepArchitect, or `numpy.random.RandomState(seed)` if `seed` is given.
  A candidate the space rejects is skipped.
- With "rf", "et", a scikit-learn ensemble regressor, or None (random forest),
  the searcher is da_bridge's (`da_bridge.adapters.smbo`): a tree ensemble on
  features keyed by path, ranking candidates by expected improvement.

scikit-learn is imported when the first surrogate is trained.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import numpy as np

from da_bridge.adapters.smbo import SMBOSearcher as _SMBOSearcher
from da_bridge.compat.deep_architect import core as co
from da_bridge.compat.deep_architect.searchers.common import EngineSearcher, Searcher, specify
from da_bridge.compat.deep_architect.surrogates.common import extract_features
from da_bridge.errors import InvalidArchitectureError, NoValidArchitectureError, OptionError
from da_bridge.modules import Fragment
from da_bridge.searchers.base import PROPOSAL_REJECTIONS

__all__ = ["SMBOSearcher"]


def is_deep_architect_surrogate(surrogate_model: Any) -> bool:
    """A DeepArchitect surrogate: `eval` and `update`, and no scikit-learn `fit`.

    Example:
        >>> from da_bridge.compat.deep_architect.surrogates.dummy import DummySurrogate
        >>> is_deep_architect_surrogate(DummySurrogate()), is_deep_architect_surrogate("rf")
        (True, False)
    """
    return hasattr(surrogate_model, "eval") and hasattr(surrogate_model, "update") \
        and not hasattr(surrogate_model, "fit")


def surrogate_estimator(surrogate_model: Any) -> Any:
    """The engine's `estimator` for a `surrogate_model` that is not a DeepArchitect one.

    Example:
        >>> surrogate_estimator(None), surrogate_estimator("et")
        ('rf', 'et')
    """
    return "rf" if surrogate_model is None else surrogate_model


class SurrogateLoop:
    """DeepArchitect's SMBO loop over a DeepArchitect surrogate: score `num_samples`
    candidates with `surrogate.eval(extract_features(...))`, propose the best (or, with
    probability `exploration_prob`, a random architecture); `update` tells the surrogate.

    `candidates()` yields `(inputs, outputs, vs, feedback)`; `feedback(score)` (or None)
    is called with each candidate's surrogate score (the MCTS variant learns from it).
    """

    def __init__(self, searcher: Searcher, surrogate_model: Any, num_samples: int,
                 exploration_prob: float, seed: int | None) -> None:
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise OptionError(f"num_samples must be an integer >= 1; got {num_samples!r}")
        self.searcher, self.surr_model = searcher, surrogate_model
        self.num_samples, self.exploration_prob = num_samples, exploration_prob
        self.rng: Any = np.random if seed is None else np.random.RandomState(seed)

    def random_candidate(self) -> tuple[dict, dict, list]:
        """A random architecture the space accepts (bounded redraws)."""
        for _ in range(PROPOSAL_REJECTIONS):
            inputs, outputs = self.searcher.search_space_fn()
            try:
                return inputs, outputs, self.specify_randomly(outputs)
            except InvalidArchitectureError:
                continue
        raise NoValidArchitectureError(f"{PROPOSAL_REJECTIONS} random architectures in a row "
                                       "were rejected by the space")

    def specify_randomly(self, outputs: dict) -> list:
        values = []
        for h in co.unassigned_independent_hyperparameter_iterator(outputs):
            values.append(h.vs[self.rng.randint(len(h.vs))])
            h.assign_value(values[-1])
        return values

    def sample(self, candidates: Callable[[], Iterator[tuple[dict, dict, list, Any]]]
               ) -> tuple[dict, dict, list, dict]:
        best = None
        if self.rng.rand() >= self.exploration_prob:
            best_score = -math.inf
            for inputs, outputs, vs, feedback in candidates():
                score = self.surr_model.eval(extract_features(inputs, outputs))
                if feedback is not None:
                    feedback(score)
                if best is None or score > best_score:
                    best, best_score = (inputs, outputs, vs), score
        inputs, outputs, vs = best or self.random_candidate()
        values = co.architecture_of(outputs).json_values()
        return inputs, outputs, vs, {"vs": vs, "values": values}

    def update(self, val: float, searcher_eval_token: Mapping[str, Any]) -> None:
        inputs, outputs = self.searcher.search_space_fn()
        specify(outputs, searcher_eval_token["vs"])
        self.surr_model.update(val, extract_features(inputs, outputs))

    def random_candidates(self) -> Iterator[tuple[dict, dict, list, Any]]:
        for _ in range(self.num_samples):
            inputs, outputs = self.searcher.search_space_fn()
            try:
                vs = self.specify_randomly(outputs)
            except InvalidArchitectureError:
                continue  # DeepArchitect's loop crashed here; a rejected cell is no candidate
            yield inputs, outputs, vs, None


class SurrogateSearcher(EngineSearcher):
    """What DeepArchitect's SMBO searchers share: DeepArchitect's own loop
    (`SurrogateLoop`) over a DeepArchitect surrogate, else da_bridge's searcher that
    `make_searcher(space, estimator)` builds. Subclasses give the loop its candidates
    (`candidates`) and may act after each update (`updated`).
    """

    def __init__(self, search_space_fn: Callable[[], Fragment], surrogate_model: Any,
                 num_samples: int, exploration_prob: float,
                 reset_default_scope_upon_sample: bool, seed: int | None,
                 make_searcher: Callable[[Any, Any], Any]) -> None:
        self.loop: SurrogateLoop | None = None
        if is_deep_architect_surrogate(surrogate_model):
            Searcher.__init__(self, search_space_fn, reset_default_scope_upon_sample)
            self.loop = SurrogateLoop(self, surrogate_model, num_samples, exploration_prob, seed)
            self.surr_model = surrogate_model
            return
        estimator = surrogate_estimator(surrogate_model)
        super().__init__(search_space_fn, lambda space: make_searcher(space, estimator),
                         reset_default_scope_upon_sample)

    def candidates(self) -> Iterator[tuple[dict, dict, list, Any]]:
        """The architectures one proposal of the loop scores (see `SurrogateLoop.sample`)."""
        return cast(SurrogateLoop, self.loop).random_candidates()

    def updated(self) -> None:
        """Called after each update of the loop."""

    def sample(self) -> tuple[dict, dict, list, dict]:
        if self.loop is None:
            return super().sample()
        return self.loop.sample(self.candidates)

    def update(self, val: float | None, searcher_eval_token: Mapping[str, Any]) -> None:
        if self.loop is None:
            super().update(val, searcher_eval_token)
            return
        if val is not None:  # a failed evaluation teaches a DeepArchitect surrogate nothing
            self.loop.update(val, searcher_eval_token)
        self.updated()


class SMBOSearcher(SurrogateSearcher):
    """`SMBOSearcher(search_space_fn, surrogate_model, num_samples, exploration_prob)`.

    `num_samples` random architectures are scored per proposal (`n_candidates`),
    `exploration_prob` is the share of random proposals (`random_fraction`), and the
    first `n_initial` proposals are random (the surrogate needs scores to fit).

    Example:
        >>> from da_bridge.compat.deep_architect import modules as mo
        >>> from da_bridge.compat.deep_architect.hyperparameters import D
        >>> searcher = SMBOSearcher(lambda: mo.siso_repeat(mo.identity, D([1, 2, 3])),
        ...                         None, 8, 0.1, seed=0, n_initial=2)
        >>> for _ in range(4):
        ...     _, _, vs, token = searcher.sample(); searcher.update(float(vs[0]), token)
        >>> len(searcher.searcher.history)
        4
    """

    def __init__(self, search_space_fn: Callable[[], Fragment], surrogate_model: Any,
                 num_samples: int, exploration_prob: float,
                 reset_default_scope_upon_sample: bool = True, *, seed: int | None = None,
                 n_initial: int = 10) -> None:
        super().__init__(
            search_space_fn, surrogate_model, num_samples, exploration_prob,
            reset_default_scope_upon_sample, seed,
            lambda space, estimator: _SMBOSearcher(
                space, seed=seed, estimator=estimator, n_candidates=num_samples, n_parents=0,
                random_fraction=exploration_prob, n_initial=n_initial))
