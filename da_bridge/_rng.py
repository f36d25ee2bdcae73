"""Turn the many ways users pass randomness into one `random.Random`."""

from __future__ import annotations

import random
from typing import Any

from da_bridge.errors import OptionTypeError

Seed = int | random.Random | Any  # an int, a random.Random or a numpy Generator


def as_random(rng: Seed | None) -> random.Random:
    """Return a `random.Random` driven by `rng` (an int seed, `Random`, numpy `Generator`).

    A numpy generator is consumed once to seed a fresh `Random`, so the same
    generator state gives the same stream.

    Example:
        >>> as_random(3).random() == as_random(3).random()
        True
    """
    if rng is None:
        return random.Random()
    if isinstance(rng, random.Random):
        return rng
    if isinstance(rng, int) and not isinstance(rng, bool):
        return random.Random(rng)
    if hasattr(rng, "integers"):
        return random.Random(int(rng.integers(0, 2**63 - 1)))
    raise OptionTypeError(f"rng must be an int, random.Random or numpy Generator; got {rng!r}")
