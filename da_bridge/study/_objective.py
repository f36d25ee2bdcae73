"""How the runtime calls a user's objective and checks what it returns."""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from da_bridge.errors import ObjectiveError


def takes_trial(objective: Callable) -> bool:
    try:
        params = inspect.signature(objective).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


def check_score(score: Any, n_objectives: int, number: int) -> Any:
    scores = [score] if n_objectives == 1 else score
    if n_objectives > 1 and (isinstance(score, (str, bytes)) or not isinstance(score, Sequence)):
        raise ObjectiveError(f"trial {number}: the objective returned {score!r}; "
                             f"expected {n_objectives} scores")
    if len(scores) != n_objectives:
        raise ObjectiveError(f"trial {number}: the objective returned {len(scores)} scores; "
                             f"expected {n_objectives}")
    for s in scores:
        if isinstance(s, bool) or not isinstance(s, numbers.Real) or not math.isfinite(s):
            raise ObjectiveError(f"trial {number}: the objective returned {s!r}; "
                                 "expected a finite number")
    return float(score) if n_objectives == 1 else [float(s) for s in scores]
