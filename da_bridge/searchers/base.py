"""The ask/tell interface every searcher shares.

`proposal = searcher.ask()` proposes an architecture; `searcher.tell(proposal,
score)` reports its score (None when the evaluation failed). Scores are in
the direction of the study (`searcher.direction`), which `da_bridge.search`
sets before the first `ask`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from da_bridge.architecture import Architecture
from da_bridge.errors import OptionError, OptionTypeError
from da_bridge.space import SearchSpace

DIRECTIONS = ("minimize", "maximize")


@dataclass
class Proposal:
    """An architecture a searcher wants evaluated.

    Attributes:
        architecture: The specified architecture.
        values: Its values map `{path: value}`.
        trial: The Optuna trial recording it, once there is one.
        token: Whatever the searcher needs to match `tell` to `ask`.
    """

    architecture: Architecture
    values: dict[str, Any]
    trial: Any = None
    token: Any = field(default=None, repr=False)


class Searcher:
    """Base class of ask/tell searchers over a `SearchSpace`.

    Subclasses implement `ask` and `tell`; `restore` replays finished trials
    (from the results store) into the searcher so a search resumes.

    Example:
        >>> from da_bridge.searchers import RandomSearcher
        >>> from da_bridge.spaces.examples import poster_space
        >>> searcher = RandomSearcher(poster_space(), seed=0)
        >>> proposal = searcher.ask()
        >>> searcher.tell(proposal, 0.5)
        >>> proposal.values["conv.filters"] in (64, 128)
        True
    """

    def __init__(self, space: SearchSpace, *, seed: int | None = None,
                 direction: str = "minimize") -> None:
        if not isinstance(space, SearchSpace):
            raise OptionTypeError(f"{type(self).__name__} needs a SearchSpace; got {space!r}")
        self.space, self.seed = space, seed
        self.direction = check_direction(direction)

    def ask(self) -> Proposal:
        raise NotImplementedError

    def tell(self, proposal: Proposal, score: float | None) -> None:
        raise NotImplementedError

    def restore(self, history: Iterable[tuple[Mapping[str, Any], float | None]]) -> None:
        """Feed finished evaluations `(values, score)` back, e.g. from the store."""
        for values, score in history:
            arch = self.space.replay(values)
            self.tell(Proposal(arch, dict(arch.values)), score)

    def loss(self, score: float | None) -> float | None:
        """The score as a quantity to minimize (None stays None)."""
        if score is None or not math.isfinite(score):
            return None
        return -float(score) if self.direction == "maximize" else float(score)


def check_direction(direction: str) -> str:
    if direction not in DIRECTIONS:
        raise OptionError(f"direction must be 'minimize' or 'maximize'; got {direction!r}")
    return direction
