"""`deep_architect.searchers.common`: the `Searcher` protocol, `random_specify`, `specify`.

`Searcher(search_space_fn)`: `sample()` returns `(inputs, outputs,
hyperp_value_lst, searcher_eval_token)` and `update(val, searcher_eval_token)`
reports the value (higher is better, as in DeepArchitect). The searchers of
this package keep that protocol over da_bridge's searchers (`EngineSearcher`);
a user's own subclass of `Searcher` works as in DeepArchitect.

`hyperp_value_lst` is the list of values in the order the engine asked for
them; `specify` replays such a list on a fresh instance of the same space.
The token also holds the values map by path (`token["values"]`), which
`SearchSpace.replay` rebuilds in any process.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from da_bridge.compat.deep_architect import core as co
from da_bridge.compat.deep_architect.modules import SearchSpaceFactory, as_search_space
from da_bridge.errors import DomainError
from da_bridge.modules import Fragment, Output
from da_bridge.searchers.base import Proposal
from da_bridge.searchers.base import Searcher as _EngineSearcher

__all__ = ["EngineSearcher", "Searcher", "random_specify", "random_specify_hyperparameter",
           "specify"]


class Searcher:
    """Base of DeepArchitect searchers: `sample()` and `update(val, searcher_eval_token)`."""

    def __init__(self, search_space_fn: Callable[[], Fragment],
                 reset_default_scope_upon_sample: bool = True) -> None:
        factory = getattr(search_space_fn, "__self__", None)
        if not isinstance(factory, SearchSpaceFactory):
            factory = SearchSpaceFactory(search_space_fn)
        self.search_space_fn = factory.get_search_space
        self.space = as_search_space(search_space_fn)

    def sample(self) -> tuple[dict, dict, list, dict]:
        raise NotImplementedError

    def update(self, val: float, searcher_eval_token: dict) -> None:
        raise NotImplementedError

    def save_state(self, folderpath: str) -> None:
        raise NotImplementedError

    def load_state(self, folderpath: str) -> None:
        raise NotImplementedError


class EngineSearcher(Searcher):
    """A DeepArchitect searcher over one of da_bridge's ask/tell searchers (maximizing).

    Example:
        >>> from da_bridge.compat.deep_architect import modules as mo
        >>> from da_bridge.compat.deep_architect.hyperparameters import D
        >>> from da_bridge.searchers import RandomSearcher
        >>> searcher = EngineSearcher(lambda: mo.siso_repeat(mo.identity, D([1, 2])),
        ...                           lambda space: RandomSearcher(space, seed=0))
        >>> inputs, outputs, vs, token = searcher.sample()
        >>> searcher.update(0.5, token); vs
        [2]
    """

    def __init__(self, search_space_fn: Callable[[], Fragment],
                 make_searcher: Callable[[Any], _EngineSearcher],
                 reset_default_scope_upon_sample: bool = True) -> None:
        super().__init__(search_space_fn, reset_default_scope_upon_sample)
        self.searcher = make_searcher(self.space)
        self.searcher.direction = "maximize"
        self._pending: dict[int, Proposal] = {}
        self._ids = itertools.count()

    def sample(self) -> tuple[dict, dict, list, dict]:
        proposal = self.searcher.ask()
        arch = proposal.architecture
        number = next(self._ids)
        self._pending[number] = proposal
        token = {"id": number, "values": arch.json_values()}
        return dict(arch.inputs), dict(arch.outputs), list(arch.values.values()), token

    def update(self, val: float | None, searcher_eval_token: Mapping[str, Any]) -> None:
        proposal = self._pending.pop(searcher_eval_token.get("id", -1), None)
        if proposal is None:  # a token from elsewhere (another process, a log): replay it
            arch = self.space.replay(searcher_eval_token["values"])
            proposal = Proposal(arch, dict(arch.values))
        self.searcher.tell(proposal, None if val is None else float(val))


def random_specify_hyperparameter(hyperp: co.BoundHyperparameter) -> Any:
    """Assign a uniformly drawn value (numpy's global generator, as in DeepArchitect)."""
    values = getattr(hyperp, "vs", None)
    if values is None:
        raise DomainError(hyperp.get_name(), hyperp.hyperparameter, "a Discrete hyperparameter")
    value = values[np.random.randint(len(values))]
    hyperp.assign_value(value)
    return value


def random_specify(outputs: Mapping[str, Output]) -> list[Any]:
    """Assign random values to every hyperparameter until specified; the values, in order."""
    return [random_specify_hyperparameter(h)
            for h in co.unassigned_independent_hyperparameter_iterator(outputs)]


def specify(outputs: Mapping[str, Output], hyperp_value_lst: list[Any]) -> None:
    """Assign the values of `hyperp_value_lst` in order (the order `random_specify` used)."""
    for i, h in enumerate(co.unassigned_independent_hyperparameter_iterator(outputs)):
        if i >= len(hyperp_value_lst):
            raise DomainError(h.get_name(), "nothing", f"a value: the list has only {i}")
        h.assign_value(hyperp_value_lst[i])
