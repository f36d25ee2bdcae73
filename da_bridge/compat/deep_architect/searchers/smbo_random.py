"""`deep_architect.searchers.smbo_random`: `SMBOSearcher`, over da_bridge's SMBO.

DeepArchitect scored `num_samples` random architectures with a surrogate and
proposed the best, or with probability `exploration_prob` a random one. Here
the surrogate is da_bridge's (`da_bridge.adapters.smbo`): a tree ensemble on
features keyed by path, ranking candidates by expected improvement. A
DeepArchitect surrogate object (`HashingSurrogate`, `DummySurrogate`) cannot
be kept: it hashes counter-based module names with Python's salted `hash()`.
Pass "rf", "et", a scikit-learn ensemble regressor, or None (random forest).
scikit-learn is imported when the first surrogate is trained.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from da_bridge.adapters.smbo import SMBOSearcher as _SMBOSearcher
from da_bridge.compat.deep_architect.searchers.common import EngineSearcher
from da_bridge.errors import OptionTypeError
from da_bridge.modules import Fragment

__all__ = ["SMBOSearcher"]


def surrogate_estimator(surrogate_model: Any) -> Any:
    """The engine's `estimator` for DeepArchitect's `surrogate_model` argument.

    Raises:
        OptionTypeError: a DeepArchitect surrogate (an object with `eval` and `update`).

    Example:
        >>> surrogate_estimator(None), surrogate_estimator("et")
        ('rf', 'et')
    """
    if surrogate_model is None:
        return "rf"
    if hasattr(surrogate_model, "eval") and hasattr(surrogate_model, "update") \
            and not hasattr(surrogate_model, "fit"):
        raise OptionTypeError(
            f"{type(surrogate_model).__name__} is a DeepArchitect surrogate, whose features "
            "hash counter-based names; pass surrogate_model='rf', 'et', a scikit-learn "
            "ensemble regressor, or None (random forest on path-keyed features)")
    return surrogate_model


class SMBOSearcher(EngineSearcher):
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
        estimator = surrogate_estimator(surrogate_model)
        super().__init__(
            search_space_fn,
            lambda space: _SMBOSearcher(space, seed=seed, estimator=estimator,
                                        n_candidates=num_samples, n_parents=0,
                                        random_fraction=exploration_prob, n_initial=n_initial),
            reset_default_scope_upon_sample)
