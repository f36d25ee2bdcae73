"""Drive da_bridge search spaces from scikit-optimize.

scikit-optimize has no conditional parameters: its space is a fixed list of
dimensions. `to_skopt(space)` explores the space and gives one dimension per
hyperparameter that can appear (a `Categorical` over the value indices, an
`Integer`, or a `Real` with a `log-uniform` prior where the hyperparameter is
log-scaled), plus `decode(x)`, which replays only the live ones. Constant
hyperparameters (one value) get no dimension, since skopt rejects empty ranges.

`SkoptSearcher` runs `skopt.Optimizer.ask/tell` on those dimensions and tells
each point as skopt asked it, so it searches exactly as a hand-written flat
skopt space would. With `impute_inactive=True` it tells the inactive
coordinates at a fixed default instead (the first value, or the lower bound);
on `benchmarks/search_quality.py` that did not help (its candidates still carry
random inactive coordinates). Trials restored from the store have no asked
point, so their inactive coordinates always get the default.

scikit-optimize is unmaintained: its last release (0.10.2, pinned by the
`skopt` extra) comes from a fork and is the last one that works on numpy 2.
Its `GBRT` estimator is broken on current scikit-learn and numpy, so
`SkoptSearcher` refuses it; use "ET" (the default), "RF" or "GP".
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from da_bridge import _domains, _flat
from da_bridge._imports import require
from da_bridge.architecture import Architecture
from da_bridge.errors import (
    InvalidArchitectureError,
    NoValidArchitectureError,
    OptionError,
    OptionTypeError,
)
from da_bridge.hyperparameters import Discrete, Float, Hyperparameter, Int
from da_bridge.searchers.base import PROPOSAL_REJECTIONS, Proposal, Searcher, until_valid
from da_bridge.space import SearchSpace

ESTIMATORS = ("ET", "RF", "GP")


def to_skopt(space: SearchSpace, *, max_states: int = _flat.MAX_SLOT_STATES
             ) -> tuple[list[Any], Decoder]:
    """skopt dimensions for every hyperparameter that can appear, and a decoder.

    Args:
        space: The search space.
        max_states: Fresh instances exploration may build.

    Returns:
        `(dimensions, decode)`: named skopt dimensions, and `decode(x)` that
        returns the architecture a point `x` stands for.

    Example:
        >>> from skopt import Optimizer
        >>> from da_bridge.spaces.examples import poster_space
        >>> dimensions, decode = to_skopt(poster_space())
        >>> len(dimensions), dimensions[0].name
        (16, 'conv.filters')
        >>> optimizer = Optimizer(dimensions, base_estimator="ET", random_state=0)
        >>> x = optimizer.ask()
        >>> arch = decode(x)
        >>> result = optimizer.tell(x, float(len(arch.values)))
        >>> sorted(arch.values)[:2]
        ['chain1.n', 'chain1/0/conv.filters']
    """
    decoder = Decoder(space, max_states=max_states)
    return decoder.dimensions, decoder


class Decoder:
    """Maps skopt points to architectures and values maps back to points.

    Calling it decodes: `decode(x)` returns the architecture.

    Attributes:
        dimensions: The named skopt dimensions, one per non-constant slot.
        names: The dimension names (paths; `path#2` for a second domain of a path).

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> _, decode = to_skopt(poster_space())
        >>> arch = poster_space().sample(0)
        >>> decode(decode.encode(arch.values)).values == arch.values
        True
    """

    def __init__(self, space: SearchSpace, *, max_states: int = _flat.MAX_SLOT_STATES) -> None:
        skopt = require("skopt", "skopt")
        self.space = space
        labels = _flat.label_slots(slots := _flat.slots(space, max_states=max_states))
        self._constants = {s.key: _domains.values_of(s.hyperparameter)[0]
                           for s in slots if s.hyperparameter.size() == 1}
        self._slots = [s for s in slots if s.key not in self._constants]
        self._position = {s.key: i for i, s in enumerate(self._slots)}
        self.names = [labels[s.key] for s in self._slots]
        self.dimensions = [_dimension(skopt.space, s, name)
                           for s, name in zip(self._slots, self.names)]

    def __call__(self, x: Sequence[Any]) -> Architecture:
        if len(x) != len(self._slots):
            raise OptionError(f"a point needs {len(self._slots)} coordinates; got {len(x)}")
        return _flat.replay(self.space, self._value_of(x))

    def _value_of(self, x: Sequence[Any]):
        def value_of(key: tuple, h: Hyperparameter) -> Any:
            if key in self._constants:
                return self._constants[key]
            if key not in self._position:  # a slot exploration did not reach: its default
                return _domains.default_value(h)
            return _from_coordinate(h, _plain(x[self._position[key]]))

        return value_of

    def encode(self, values: Mapping[str, Any]) -> list[Any]:
        """The point for a values map; dimensions that are not live get their default."""
        live = _flat.live_slots(self.space, values)
        return [_coordinate(s.hyperparameter, live[s.key]) if s.key in live
                else _coordinate(s.hyperparameter, _domains.default_value(s.hyperparameter))
                for s in self._slots]


#: The start of skopt's warning about a repeated point (`Optimizer._ask`).
SKOPT_REPEAT_WARNING = "The objective has been evaluated at point"


class SkoptSearcher(Searcher):
    """Ask/tell with `skopt.Optimizer` on the flattened space.

    Args:
        space: The search space.
        base_estimator: "ET" (extra trees, the default), "RF" or "GP", or a
            scikit-learn regressor with `return_std`; "GBRT" is refused (broken
            on current scikit-learn and numpy).
        seed: skopt's `random_state`.
        direction: "minimize" or "maximize"; `da_bridge.search` sets it.
        n_initial_points: Random points before the surrogate is used.
        acq_func: skopt's acquisition function.
        impute_inactive: Tell coordinates that are not live at a fixed default
            instead of the values skopt asked for.
        max_rejections: skopt points the space may reject in a row before `ask`
            proposes a random valid architecture instead.

    A failed evaluation (`tell(proposal, None)`) is told as the worst loss
    seen so far; failures before the first success are skipped.

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> searcher = SkoptSearcher(poster_space(), seed=0)
        >>> proposal = searcher.ask()
        >>> searcher.tell(proposal, 2.0)
        >>> searcher.optimizer.yi
        [2.0]
    """

    def __init__(self, space: SearchSpace, *, base_estimator: Any = "ET", seed: int | None = None,
                 direction: str = "minimize", n_initial_points: int = 10,
                 acq_func: str = "EI", impute_inactive: bool = False,
                 max_rejections: int = PROPOSAL_REJECTIONS) -> None:
        super().__init__(space, seed=seed, direction=direction)
        self.max_rejections = max_rejections
        self._rng = random.Random(seed)
        skopt = require("skopt", "skopt")
        _check_estimator(base_estimator)
        self.decode = Decoder(space)
        self.optimizer = skopt.Optimizer(
            self.decode.dimensions or [skopt.space.Categorical([0], name="constant")],
            base_estimator=base_estimator, n_initial_points=n_initial_points,
            acq_func=acq_func, random_state=seed)
        _speed_up(self.optimizer)
        self._worst: float | None = None
        self.impute_inactive = impute_inactive

    def ask(self) -> Proposal:
        """skopt's next point; a point the space rejects is told as the worst loss and redrawn.

        A rejection is told without a refit (a refit took 3 s per rejection on NAS-Bench
        cells); skopt then proposes its model's next candidate that was not told yet. After
        `max_rejections` rejected points in a row, or if skopt proposes a rejected point
        again, the proposal is a random valid architecture.
        """
        self._rejected_now: list[list[Any]] = []
        try:
            return until_valid(self._ask, self.space, on_reject=self._reject,
                               max_rejections=self.max_rejections)
        except NoValidArchitectureError:
            arch = self.space.sample(self._rng)
            return Proposal(arch, dict(arch.values), token=self.decode.encode(arch.values) or [0])

    def _ask(self) -> Proposal:
        with warnings.catch_warnings():
            # skopt warns when its model proposes a point it was told before and it draws a
            # random one instead; the runner handles repeats, so the warning is only noise
            warnings.filterwarnings("ignore", SKOPT_REPEAT_WARNING, UserWarning)
            x = [_plain(c) for c in self.optimizer.ask()]
        if x in self._rejected_now:
            raise NoValidArchitectureError("skopt's model proposes a point rejected before")
        self._rejected = x
        arch = self.decode(x[:len(self.decode.dimensions)])
        return Proposal(arch, dict(arch.values), token=x)

    def _reject(self, exc: InvalidArchitectureError) -> None:
        self._rejected_now.append(self._rejected)
        # Before any loss is known there is nothing to tell; skopt's initial points are random.
        if self._worst is not None:
            # fit only while skopt has no model: its ask needs one after the initial points
            self.optimizer.tell(self._rejected, self._worst, fit=not self.optimizer.models)

    def tell(self, proposal: Proposal, score: float | None) -> None:
        asked = proposal.token if isinstance(proposal.token, list) and \
            len(proposal.token) == len(self.optimizer.space.dimensions) else None
        self._tell([(proposal.values, score)], None if self.impute_inactive else asked)

    def restore(self, history: Iterable[tuple[Mapping[str, Any], float | None]]) -> None:
        """Tell finished evaluations, all in one refit (resume, other workers)."""
        self._tell(history)

    def _tell(self, history: Iterable[tuple[Mapping[str, Any], float | None]],
              asked: list | None = None) -> None:
        history = [(values, self.loss(score)) for values, score in history]
        losses = [loss for _, loss in history if loss is not None]
        if losses:
            self._worst = max(losses + ([self._worst] if self._worst is not None else []))
        xs, ys = [], []
        for values, loss in history:
            if loss is None and self._worst is None:
                continue
            xs.append(asked or self.decode.encode(values) or [0])
            ys.append(self._worst if loss is None else loss)
        if xs:
            self.optimizer.tell(xs, ys)


def _speed_up(optimizer: Any) -> None:
    """Make skopt's own tree ensembles and one-hot encoding cheaper, with the same results.

    After the initial points, every `tell` refits and scores 10,000 random candidates.
    skopt's "ET" and "RF" score them tree by tree, and each tree converts and checks the
    whole candidate matrix again (100 times per tell); its one-hot encoding goes through
    scikit-learn's `LabelBinarizer`, per dimension and call. See `_skopt_fast`.
    """
    from da_bridge.adapters._skopt_fast import speed_up  # imports skopt eagerly

    speed_up(optimizer)


def _check_estimator(base_estimator: Any) -> None:
    if isinstance(base_estimator, str) and base_estimator.upper() == "GBRT":
        raise OptionError(
            "base_estimator='GBRT' is broken in scikit-optimize 0.10.2 on current "
            "scikit-learn and numpy (its regressor tags and np.in1d); use 'ET', 'RF' or 'GP'")
    if isinstance(base_estimator, str) and base_estimator.upper() not in ESTIMATORS:
        raise OptionError(f"base_estimator must be one of {list(ESTIMATORS)} or a regressor; "
                         f"got {base_estimator!r}")


def _dimension(space_module: Any, slot: _domains.Slot, name: str) -> Any:
    h = slot.hyperparameter
    if isinstance(h, Discrete):
        return space_module.Categorical(list(range(len(h.values))), name=name)
    if isinstance(h, Int):
        prior = "log-uniform" if h.log else "uniform"
        if h.step == 1:
            return space_module.Integer(h.low, h.high, prior=prior, name=name)
        return space_module.Integer(0, int(h.size()) - 1, name=name)
    if isinstance(h, Float):
        prior = "log-uniform" if h.log else "uniform"
        return space_module.Real(h.low, h.high, prior=prior, name=name)
    raise OptionTypeError(f"{slot.path!r}: no skopt dimension for {h!r}")


def _coordinate(h: Hyperparameter, value: Any) -> Any:
    if isinstance(h, Discrete):
        return _domains.index_of(h, value)
    if isinstance(h, Int) and h.step != 1:
        return (value - h.low) // h.step
    return value


def _from_coordinate(h: Hyperparameter, data: Any) -> Any:
    if isinstance(h, Discrete):
        return h.values[int(data)]
    if isinstance(h, Int):
        return h.low + h.step * int(data) if h.step != 1 else int(data)
    if isinstance(h, Float):
        return min(max(float(data), h.low), h.high)
    return data


def _plain(value: Any) -> Any:
    """skopt returns numpy scalars; values maps hold plain Python."""
    return value.item() if hasattr(value, "item") and not isinstance(value, (list, dict)) \
        else value
