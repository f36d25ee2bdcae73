"""The ask/tell interface every searcher shares.

`proposal = searcher.ask()` proposes an architecture; `searcher.tell(proposal,
score)` reports its score (None when the evaluation failed). Scores are in
the direction of the study (`searcher.direction`), which `da_bridge.search`
sets before the first `ask`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from da_bridge.architecture import Architecture
from da_bridge.errors import (
    InvalidArchitectureError,
    NoValidArchitectureError,
    OptionError,
    OptionTypeError,
)
from da_bridge.space import MAX_REJECTIONS, SearchSpace

T = TypeVar("T")

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


#: Proposals a model-based searcher's space may reject in a row before it proposes a random
#: valid architecture instead (the Hyperopt and skopt adapters).
PROPOSAL_REJECTIONS = 10


def until_valid(draw: Callable[[], T], space: SearchSpace, *,
                on_reject: Callable[[InvalidArchitectureError], None] | None = None,
                max_rejections: int = MAX_REJECTIONS) -> T:
    """Call `draw()` until it returns without `InvalidArchitectureError`.

    Every searcher proposes through this, so a space that rejects some
    architectures is searched over the valid ones; `on_reject` lets a searcher
    learn from a rejection (a failed trial for Hyperopt, a visit for MCTS).

    Raises:
        NoValidArchitectureError: `max_rejections` draws in a row were rejected.

    Example:
        >>> from da_bridge import Discrete, SearchSpace, identity, substitution
        >>> def cell(v):
        ...     if v["n"] > 1:
        ...         raise InvalidArchitectureError("too many")
        ...     return identity()
        >>> space = SearchSpace(lambda: substitution("cell", cell, {"n": Discrete([1, 2])}))
        >>> draws = iter([{"cell.n": 2}, {"cell.n": 1}])
        >>> until_valid(lambda: space.replay(next(draws)), space).values
        {'cell.n': 1}
    """
    last: InvalidArchitectureError | None = None
    for _ in range(max(1, max_rejections)):
        try:
            return draw()
        except InvalidArchitectureError as exc:
            last = exc
            if on_reject is not None:
                on_reject(exc)
    raise NoValidArchitectureError(
        f"{space!r}: all {max_rejections} draws were rejected; the last one because: {last}. "
        "Relax the constraint or raise max_rejections") from last
