"""Hyperparameters: the choices a search space leaves open.

A hyperparameter is a declaration: a domain and an optional explicit name.
Its value lives in the search-space instance it takes part in, so one
declaration can be shared by many modules (DeepArchitect's `h_bn_opt`).
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from da_bridge import _paths
from da_bridge.errors import DomainError

_JSON_SCALARS = (str, int, float, bool, type(None))


class Hyperparameter:
    """Base of every hyperparameter; holds the explicit name and the creation key."""

    #: An explicit name is the exact path segment; subclasses that treat it as a
    #: prefix (DeepArchitect's names, in `da_bridge.compat`) set this and get
    #: `name`, `name-2`, ... instead of a `NameClashError`.
    _name_is_prefix = False

    def __init__(self, name: str | None = None) -> None:
        if name is not None:
            _paths.check_segment(name, what="hyperparameter name")
        self.name = name
        self._scope, self._key = _paths.creation_key(self)

    @property
    def identity(self) -> tuple[Any, ...]:
        """Where this hyperparameter was created, as a key equal across instances of a space.

        Two unfoldings of one space create the "same" hyperparameter as two objects; their
        `identity` is equal, so exploration can compare what different instances reveal.
        """
        return self._key

    def check(self, value: Any, path: str) -> Any:
        """Return `value` in canonical form or raise `DomainError` naming `path`."""
        raise NotImplementedError

    def sample(self, rng: random.Random) -> Any:
        """Draw a value uniformly (log-uniformly where `log`)."""
        raise NotImplementedError

    def size(self) -> float:
        """Number of values in the domain (`math.inf` for continuous domains)."""
        raise NotImplementedError

    def enumerate(self) -> list[Any]:
        """All values of a finite domain, in order."""
        raise DomainError(repr(self), "enumerate()", "finite domains only")

    def encode(self, value: Any) -> Any:
        """The JSON form of a value of this hyperparameter."""
        return value

    def decode(self, data: Any, path: str) -> Any:
        """The value a JSON form (or a plain value) stands for; checks the domain."""
        return self.check(data, path)


class Discrete(Hyperparameter):
    """A choice among listed values, which may be any objects.

    Args:
        values: The candidates, in order; at least one.
        name: An explicit path segment; by default the path comes from the
            first module that uses it (`conv.filters`).

    Example:
        >>> Discrete([32, 64])
        Discrete([32, 64])
        >>> Discrete([])
        Traceback (most recent call last):
        ...
        da_bridge.errors.DomainError: 'Discrete' got []; allowed: a non-empty list of values
    """

    def __init__(self, values: Iterable[Any], name: str | None = None) -> None:
        self.values = tuple(values)
        if not self.values:
            raise DomainError("Discrete", [], "a non-empty list of values")
        self._plain = _all_plain(self.values)
        if _has_duplicates(self.values, self._plain):
            raise DomainError("Discrete", list(self.values), "values without duplicates")
        Hyperparameter.__init__(self, name)

    def __repr__(self) -> str:
        return f"Discrete({list(self.values)!r})"

    def index(self, value: Any) -> int | None:
        """Position of `value` among the candidates, or None."""
        for i, candidate in enumerate(self.values):  # a drawn value is one of the candidates
            if candidate is value:
                return i
        for i, candidate in enumerate(self.values):
            if _same_value(candidate, value):
                return i
        return None

    def check(self, value: Any, path: str) -> Any:
        i = self.index(value)
        if i is None:
            raise DomainError(path, value, repr(self))
        return self.values[i]

    def sample(self, rng: random.Random) -> Any:
        return rng.choice(self.values)  # the same draw as values[randrange(len)], one call less

    def size(self) -> float:
        return len(self.values)

    def enumerate(self) -> list[Any]:
        return list(self.values)

    def is_plain(self) -> bool:
        """True when every candidate is a JSON scalar (str, int, float, bool, None)."""
        return self._plain

    def encode(self, value: Any) -> Any:
        if isinstance(value, _JSON_SCALARS) and self.is_plain():
            return value
        return {"index": self.index(value), "repr": _short_repr(value)}

    def decode(self, data: Any, path: str) -> Any:
        if isinstance(data, Mapping) and "index" in data and not self.is_plain():
            i = data["index"]
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(self.values):
                raise DomainError(path, data, f"an index into {self!r}")
            return self.values[i]
        return self.check(data, path)


class Bool(Discrete):
    """A choice between False and True.

    Example:
        >>> Bool().values
        (False, True)
    """

    def __init__(self, name: str | None = None) -> None:
        # What Discrete((False, True)) would check holds by construction; spaces make many.
        self.values, self._plain = (False, True), True
        Hyperparameter.__init__(self, name)

    def __repr__(self) -> str:
        return "Bool()"


class Int(Hyperparameter):
    """An integer in `[low, high]` (both included) on a grid of `step`, optionally log-scaled.

    Example:
        >>> Int(1, 4)
        Int(1, 4)
        >>> Int(16, 256, log=True).size()
        241
        >>> Int(5, 1)
        Traceback (most recent call last):
        ...
        da_bridge.errors.DomainError: 'Int' got (5, 1); allowed: low <= high
    """

    def __init__(
        self, low: int, high: int, step: int = 1, log: bool = False, name: str | None = None
    ) -> None:
        _check_int_domain(low, high, step, log)
        self.low, self.high, self.step, self.log = int(low), int(high), int(step), bool(log)
        super().__init__(name)

    def __repr__(self) -> str:
        extra = f", step={self.step}" if self.step != 1 else ""
        extra += ", log=True" if self.log else ""
        return f"Int({self.low}, {self.high}{extra})"

    def check(self, value: Any, path: str) -> Any:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        if not ok or not self.low <= value <= self.high or (value - self.low) % self.step:
            raise DomainError(path, value, repr(self))
        return int(value)

    def sample(self, rng: random.Random) -> Any:
        if self.log:
            x = math.exp(rng.uniform(math.log(self.low - 0.5), math.log(self.high + 0.5)))
            return min(max(round(x), self.low), self.high)
        return self.low + self.step * rng.randrange((self.high - self.low) // self.step + 1)

    def size(self) -> float:
        return (self.high - self.low) // self.step + 1

    def enumerate(self) -> list[Any]:
        return list(range(self.low, self.high + 1, self.step))


class Float(Hyperparameter):
    """A real number in `[low, high]`, optionally log-scaled.

    Example:
        >>> Float(1e-3, 1e3, log=True)
        Float(0.001, 1000.0, log=True)
        >>> Float(0.0, 1.0, log=True)
        Traceback (most recent call last):
        ...
        da_bridge.errors.DomainError: 'Float' got (0.0, 1.0); allowed: low > 0 when log=True
    """

    def __init__(self, low: float, high: float, log: bool = False, name: str | None = None) -> None:
        _check_real_domain("Float", low, high, log)
        self.low, self.high, self.log = float(low), float(high), bool(log)
        super().__init__(name)

    def __repr__(self) -> str:
        return f"Float({self.low!r}, {self.high!r}{', log=True' if self.log else ''})"

    def check(self, value: Any, path: str) -> Any:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or not self.low <= value <= self.high:
            raise DomainError(path, value, repr(self))
        return float(value)

    def sample(self, rng: random.Random) -> Any:
        if self.log:
            return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return rng.uniform(self.low, self.high)

    def size(self) -> float:
        return 1 if self.low == self.high else math.inf

    def enumerate(self) -> list[Any]:
        return [self.low] if self.low == self.high else super().enumerate()


class Dependent(Hyperparameter):
    """A value computed from other hyperparameters once they all have values.

    Args:
        fn: Receives `{key: parent value}` and returns this hyperparameter's value.
        parents: `{key: hyperparameter}`; parents may themselves be dependent.
        name: An explicit path segment.

    Example:
        >>> h_n = Discrete([1, 2, 4])
        >>> h_twice = Dependent(lambda v: 2 * v["n"], {"n": h_n})
        >>> sorted(h_twice.parents)
        ['n']
    """

    def __init__(
        self,
        fn: Callable[[dict[str, Any]], Any],
        parents: Mapping[str, Hyperparameter],
        name: str | None = None,
    ) -> None:
        if not callable(fn):
            raise DomainError("Dependent", fn, "a callable taking {key: value}")
        if not parents or not all(isinstance(h, Hyperparameter) for h in parents.values()):
            raise DomainError("Dependent", parents, "a non-empty {key: Hyperparameter} dict")
        self.fn, self.parents = fn, dict(parents)
        super().__init__(name)

    def __repr__(self) -> str:
        return f"Dependent({getattr(self.fn, '__name__', 'fn')}, {sorted(self.parents)})"

    def check(self, value: Any, path: str) -> Any:
        return value

    def size(self) -> float:
        return 1


def _check_int_domain(low: Any, high: Any, step: Any, log: bool) -> None:
    integral = all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                   for v in (low, high, step))
    if not integral:
        raise DomainError("Int", (low, high, step), "integers low, high and step")
    if low > high:
        raise DomainError("Int", (low, high), "low <= high")
    if step < 1 or (high - low) % step:
        raise DomainError("Int", (low, high, step), "step >= 1 dividing high - low")
    if log and (low < 1 or step != 1):
        raise DomainError("Int", (low, high, step), "low >= 1 and step == 1 when log=True")


def _check_real_domain(kind: str, low: Any, high: Any, log: bool) -> None:
    real = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in (low, high))
    if not real or not (math.isfinite(low) and math.isfinite(high)):
        raise DomainError(kind, (low, high), "finite real numbers low and high")
    if low > high:
        raise DomainError(kind, (low, high), "low <= high")
    if log and low <= 0:
        raise DomainError(kind, (low, high), "low > 0 when log=True")


def _same_value(a: Any, b: Any) -> bool:
    """Equality that keeps booleans apart from numbers and tolerates numpy scalars."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    try:
        return type(a) is type(b) and bool(a == b) or (
            isinstance(a, numbers.Number) and isinstance(b, numbers.Number) and bool(a == b))
    except Exception:  # objects whose == is not a bool (arrays) are only equal to themselves
        return False


def _all_plain(values: Sequence[Any]) -> bool:
    for v in values:  # a loop, not all(<generator>): a Discrete is built per block of a space
        if not isinstance(v, _JSON_SCALARS):
            return False
    return True


def _has_duplicates(values: Sequence[Any], plain: bool) -> bool:
    if plain:  # JSON scalars hash like they compare; keep booleans apart from 0 and 1
        if len(set(values)) == len(values):  # no two equal even with True == 1: the usual case
            return False
        return len({(isinstance(v, bool), v) for v in values}) < len(values)
    return any(_same_value(a, b) for i, a in enumerate(values) for b in values[i + 1:])


def _short_repr(value: Any) -> str:
    text = getattr(value, "__qualname__", None) or repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
