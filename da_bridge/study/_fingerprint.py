"""A search space's fingerprint: what its hyperparameters are, not what code built it.

A few deterministic unfoldings of the space (first choices everywhere, last
choices everywhere, and some walks whose every choice is a hash of the walk and
the path name) record each exposed hyperparameter's path and domain. The same
space gives the same fingerprint in any process; a renamed path, a changed
domain or a changed structure below a choice gives another. A study stores it
and refuses a resume or a worker whose space differs.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

from da_bridge.errors import DABridgeError, SpaceMismatchError
from da_bridge.space import SearchSpace

VERSION = 1
_WALKS = 8
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_MAX_DOMAIN = 200


def fingerprint(space: SearchSpace) -> dict[str, Any]:
    """`{"version", "digest", "hyperparameters": {path: domain}}` of `space`.

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> fingerprint(poster_space()) == fingerprint(poster_space())
        True
    """
    walks = [_walk(space, k) for k in range(_WALKS)]
    digest = hashlib.sha256(json.dumps(walks, sort_keys=True).encode()).hexdigest()[:16]
    domains = {path: domain for walk in walks for path, domain in walk}
    return {"version": VERSION, "digest": digest, "hyperparameters": dict(sorted(domains.items()))}


def check_same(stored: Any, current: dict[str, Any], stored_name: str, current_name: str,
               study_name: str) -> None:
    """Raise `SpaceMismatchError` naming both spaces when the fingerprints differ."""
    if not isinstance(stored, dict) or stored.get("version") != current["version"]:
        return  # recorded by another version: nothing to compare with
    if stored.get("digest") == current["digest"]:
        return
    raise SpaceMismatchError(
        f"study {study_name!r} was searched on {stored_name} (fingerprint {stored.get('digest')})"
        f" and this run's space is {current_name} (fingerprint {current['digest']}): "
        f"{difference(stored.get('hyperparameters') or {}, current['hyperparameters'])}; "
        "use the same space, or another --study")


def difference(stored: dict[str, str], current: dict[str, str]) -> str:
    """The first hyperparameter that differs, in words."""
    for path in sorted(set(stored) | set(current)):
        there, here = stored.get(path), current.get(path)
        if there == here:
            continue
        if there is None:
            return f"{path!r} ({here}) is new"
        if here is None:
            return f"{path!r} ({there}) is missing"
        return f"{path!r} was {there} and is {here}"
    return "the same hyperparameters appear under other choices"


def _walk(space: SearchSpace, k: int) -> list[list[str]]:
    seen = []
    try:
        u = space.unfold()
        while (h := u.next()) is not None:
            seen.append([h.name, _domain(h.hyperparameter)])
            u.assign(_choose(h.hyperparameter, _index(k, h.name)))
    except DABridgeError as exc:  # a rejected assignment is part of the structure too
        seen.append(["!", type(exc).__name__])
    return sorted(seen)


def _index(k: int, path: str) -> int:
    if k == 0:
        return 0
    if k == 1:
        return -1
    return int.from_bytes(hashlib.sha256(f"{k}:{path}".encode()).digest()[:4], "big")


def _choose(h: Any, i: int) -> Any:
    values = getattr(h, "values", None)
    if values is not None:
        return list(values)[i % len(values)]
    low, high = getattr(h, "low", None), getattr(h, "high", None)
    if low is None or high is None:
        raise DABridgeError(f"cannot choose a value of {h!r}")
    step = getattr(h, "step", None)
    if isinstance(low, int) and isinstance(high, int) and step:
        return low + step * (i % ((high - low) // step + 1))
    fraction = 1.0 if i == -1 else (i % 1001) / 1000
    if getattr(h, "log", False):
        value = math.exp(math.log(low) + fraction * (math.log(high) - math.log(low)))
    else:
        value = low + fraction * (high - low)
    return min(max(value, low), high)


def _domain(h: Any) -> str:
    return _ADDRESS.sub("", repr(h))[:_MAX_DOMAIN]
