"""`deep_architect.hyperparameters`: `Discrete` (`D`), `Bool`, `OneOfK`, `HyperparameterSharer`.

These are the engine's `Discrete` with DeepArchitect's signature
`(vs, scope=None, name=None)`: `name` is a prefix (two `D([0, 1],
name="Mutatable_sub")` become `Mutatable_sub` and `Mutatable_sub-2`), and
`Bool` is `Discrete([0, 1])`, as in DeepArchitect (the engine's `Bool` is over
False and True).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from da_bridge.errors import SpaceError
from da_bridge.hyperparameters import Discrete as _Discrete
from da_bridge.hyperparameters import Hyperparameter

__all__ = ["D", "Bool", "Discrete", "HyperparameterSharer", "OneOfK", "OneOfKFactorial"]


class HyperparameterSharer:
    """Creates hyperparameters by name on first `get`, then hands out the same one.

    Example:
        >>> sharer = HyperparameterSharer()
        >>> sharer.register("keep", lambda: D([0.7], name="keep"))
        >>> sharer.get("keep") is sharer.get("keep")
        True
    """

    def __init__(self) -> None:
        self.name_to_h_fn: OrderedDict[str, Callable[[], Hyperparameter]] = OrderedDict()
        self.name_to_h: OrderedDict[str, Hyperparameter] = OrderedDict()

    def register(self, hyperp_name: str, hyperp_fn: Callable[[], Hyperparameter]) -> None:
        if hyperp_name in self.name_to_h_fn:
            raise SpaceError(f"hyperparameter {hyperp_name!r} is already registered")
        self.name_to_h_fn[hyperp_name] = hyperp_fn

    def get(self, hyperp_name: str) -> Hyperparameter:
        if hyperp_name not in self.name_to_h_fn:
            raise SpaceError(f"hyperparameter {hyperp_name!r} is not registered; registered: "
                             f"{list(self.name_to_h_fn)}")
        if hyperp_name not in self.name_to_h:
            self.name_to_h[hyperp_name] = self.name_to_h_fn[hyperp_name]()
        return self.name_to_h[hyperp_name]


class Discrete(_Discrete):
    """A choice among `vs`; `name` is a prefix.

    Example:
        >>> Discrete([1, 2]).vs
        (1, 2)
    """

    _name_is_prefix = True

    def __init__(self, vs: Iterable[Any], scope: Any = None, name: str | None = None) -> None:
        super().__init__(vs, name=name)

    @property
    def vs(self) -> tuple[Any, ...]:
        return self.values


D = Discrete


def Bool(scope: Any = None, name: str | None = None) -> Discrete:  # noqa: N802 - DA's name
    """`Discrete([0, 1])`, as in DeepArchitect.

    Example:
        >>> Bool().vs
        (0, 1)
    """
    return Discrete([0, 1], scope, name)


def OneOfK(k: int, scope: Any = None, name: str | None = None) -> Discrete:  # noqa: N802
    """`Discrete(range(k))`.

    Example:
        >>> OneOfK(3).vs
        (0, 1, 2)
    """
    return Discrete(range(k), scope, name)


def OneOfKFactorial(k: int, scope: Any = None, name: str | None = None) -> Discrete:  # noqa: N802
    """`Discrete(range(k!))`, the index of a permutation (`siso_permutation`).

    Example:
        >>> OneOfKFactorial(3).vs
        (0, 1, 2, 3, 4, 5)
    """
    return Discrete(range(math.factorial(k)), scope, name)
