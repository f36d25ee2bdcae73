"""What a hyperparameter can be at a path: hashable domains, and slots.

A slot is a path together with its domain: the same path can carry different domains in
different branches of a space (a structure-dependent constant), and each gets its own label
in the flat encodings. Shared by the structural tree (`_tree`) and the flat encodings
(`_flat`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from da_bridge.architecture import stable_repr
from da_bridge.errors import DomainError, OptionTypeError, SpaceError
from da_bridge.hyperparameters import Discrete, Float, Hyperparameter, Int
from da_bridge.space import Unfolding

SlotKey = tuple[str, tuple[Any, ...]]


@dataclass(frozen=True)
class Slot:
    """A hyperparameter that can appear: its path and its domain.

    Attributes:
        path: The stable path name.
        domain: A hashable description of the domain (`domain_key`).
        hyperparameter: One declaration with that domain (for bounds and values).
    """

    path: str
    domain: tuple[Any, ...]
    hyperparameter: Hyperparameter = field(compare=False, hash=False, repr=False)

    @property
    def key(self) -> SlotKey:
        return self.path, self.domain


def domain_key(h: Hyperparameter) -> tuple[Any, ...]:
    """A hashable description of a hyperparameter's domain.

    Example:
        >>> domain_key(Int(1, 4))
        ('Int', 1, 4, 1, False)
        >>> domain_key(Discrete([1, True])) == domain_key(Discrete([1, 1.5]))
        False
    """
    if isinstance(h, Discrete):
        if h.is_plain():
            return ("Discrete", tuple((type(v).__name__, v) for v in h.values))
        return ("Discrete", tuple(stable_repr(v) for v in h.values))
    if isinstance(h, Int):
        return ("Int", h.low, h.high, h.step, h.log)
    if isinstance(h, Float):
        return ("Float", h.low, h.high, h.log)
    return (type(h).__name__, stable_repr(h))


def values_of(h: Hyperparameter) -> list[Any]:
    """Every value of a finite domain (a Float with low == high has one)."""
    if isinstance(h, Float) and h.size() == 1:
        return [h.low]
    return h.enumerate()


def index_of(h: Hyperparameter, value: Any) -> int:
    """The position of a value of `h` in `values_of(h)` (objects by identity first)."""
    i = h.index(value) if isinstance(h, Discrete) else values_of(h).index(value)
    if i is None:
        raise DomainError(repr(h), value, "one of its values")
    return i


def default_value(h: Hyperparameter) -> Any:
    """The value a flat encoding gives a hyperparameter that is not live: the first or lowest."""
    if isinstance(h, Discrete):
        return h.values[0]
    if isinstance(h, (Int, Float)):
        return h.low
    raise OptionTypeError(f"no default value for {h!r}")


def slot_of(u: Unfolding, h: Hyperparameter) -> Slot:
    path = u.path_of(h)
    if path is None:
        raise SpaceError(f"{h!r} is not live in this instance: only live hyperparameters "
                         "have slots")
    return Slot(path, domain_key(h), h)
