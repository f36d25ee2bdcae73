"""`deep_architect.surrogates.dummy`: `DummySurrogate`, the mean of the values seen."""

from __future__ import annotations

from collections.abc import Mapping

from da_bridge.compat.deep_architect.surrogates.common import SurrogateModel

__all__ = ["DummySurrogate"]


class DummySurrogate(SurrogateModel):
    """Predicts the mean of the values it was updated with (0.0 before any).

    Example:
        >>> s = DummySurrogate(); s.update(1.0, {}); s.update(3.0, {}); s.eval({})
        2.0
    """

    def __init__(self) -> None:
        self.val_lst: list[float] = []

    def eval(self, feats: Mapping[str, list[str]]) -> float:
        return sum(self.val_lst) / len(self.val_lst) if self.val_lst else 0.0

    def update(self, val: float, feats: Mapping[str, list[str]]) -> None:
        self.val_lst.append(val)
