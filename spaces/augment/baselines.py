"""Policy-free baselines a searched policy must beat: what a user would reach for first.

* `"none"`: no augmentation.
* `"RandAugment N=2 M=0.5"`: Keras' `keras.layers.RandAugment` with its defaults
  (`num_ops=2`, `factor=0.5`), and `RANDAUGMENT_GRID`, a small grid of `N` (`num_ops`)
  and `M` (`factor`) around it.
* `"TrivialAugment"`: one op per image, drawn uniformly from the ops, at a magnitude drawn
  uniformly from `MAGNITUDES` (Müller and Hutter, 2021), on this package's ops
  (`trivial_augment`, a `Policy`).
* `"AugMix"`: Keras' `keras.layers.AugMix` with its defaults.

Each is an augmenter, `augmenter(images, rng) -> images` (keeping shape, dtype and value
range), which the evaluators accept in place of a policy, so every baseline is scored by
the same evaluator, model and budget as the searched policy. Keras' layers run on
batches of `BATCH_SIZE` images, as they would in `model.fit`: `RandAugment` and `AugMix`
draw their ops once per batch.

Example:
    >>> import numpy as np
    >>> augmenters = baselines((0, 16), grid=False)
    >>> sorted(augmenters)
    ['AugMix', 'RandAugment N=2 M=0.5', 'TrivialAugment', 'none']
    >>> x = np.full((4, 8, 8, 1), 8.0, dtype=np.float32)
    >>> augmenters["TrivialAugment"](x, 0).shape
    (4, 8, 8, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from da_bridge._imports import require

from .compile import Policy
from .ops import OPS
from .policy import MAGNITUDES

#: Images per call of a Keras layer (the CNN evaluator's batch size).
BATCH_SIZE = 32
#: RandAugment's (N, M) grid: Keras' default (2, 0.5) and lighter settings.
RANDAUGMENT_GRID: tuple[tuple[int, float], ...] = (
    (1, 0.1), (1, 0.3), (1, 0.5), (2, 0.1), (2, 0.3), (2, 0.5))
DEFAULT_RANDAUGMENT = (2, 0.5)


class KerasAugmenter:
    """A Keras augmentation layer as an augmenter `augmenter(images, rng)`.

    Args:
        name: What reports call it.
        make_layer: `make_layer(seed)` builds the layer (on pixels in the data's range).
        value_range: `(low, high)` of the pixels; outputs are clipped to it.

    Example:
        >>> import keras, numpy as np
        >>> flip = KerasAugmenter("flip", lambda seed: keras.layers.RandomFlip(seed=seed),
        ...                       (0, 255))
        >>> flip(np.zeros((3, 4, 4, 1), np.uint8), 0).dtype
        dtype('uint8')
    """

    def __init__(self, name: str, make_layer: Any, value_range: Sequence[float]) -> None:
        self.name, self.make_layer = name, make_layer
        self.value_range = (float(value_range[0]), float(value_range[1]))

    def __repr__(self) -> str:
        return f"KerasAugmenter({self.name!r})"

    def __call__(self, images: np.ndarray, rng: Any = None) -> np.ndarray:
        """Augment a batch `(N, H, W, C)` in slices of `BATCH_SIZE`; seeded by `rng`.

        The layer runs in a `tf.data` pipeline, where Keras runs its preprocessing
        layers whatever the backend (and fast, as a graph). Keras' global seed is set
        from `rng` too: AugMix also draws from TensorFlow's global generator.
        """
        tf = require("tensorflow", "keras")
        seed = int(np.random.default_rng(rng).integers(2**31 - 1))
        require("keras", "keras").utils.set_random_seed(seed)
        layer = self.make_layer(seed)
        images = np.asarray(images)
        batches = tf.data.Dataset.from_tensor_slices(images.astype("float32")).batch(BATCH_SIZE)
        parts = [np.asarray(b) for b in batches.map(lambda b: layer(b, training=True))]
        out = np.clip(np.concatenate(parts), *self.value_range)
        if np.issubdtype(images.dtype, np.integer):
            out = np.rint(out)
        return out.astype(images.dtype)


def randaugment(value_range: Sequence[float], n: int = 2, m: float = 0.5) -> KerasAugmenter:
    """Keras' `RandAugment(value_range, num_ops=n, factor=m)` as an augmenter.

    Example:
        >>> randaugment((0, 16), 1, 0.1).name
        'RandAugment N=1 M=0.1'
    """
    def make(seed: int) -> Any:
        keras = require("keras", "keras")
        return keras.layers.RandAugment(value_range=tuple(value_range), num_ops=n, factor=m,
                                        seed=seed)

    return KerasAugmenter(f"RandAugment N={n} M={m:g}", make, value_range)


def augmix(value_range: Sequence[float]) -> KerasAugmenter:
    """Keras' `AugMix(value_range)` with its defaults as an augmenter.

    Example:
        >>> augmix((0, 255)).name
        'AugMix'
    """
    def make(seed: int) -> Any:
        return require("keras", "keras").layers.AugMix(value_range=tuple(value_range), seed=seed)

    return KerasAugmenter("AugMix", make, value_range)


def trivial_augment(ops: Sequence[str] = tuple(OPS), *,
                    value_range: Sequence[float] | None = None) -> Policy:
    """TrivialAugment on this package's ops: per image one op, uniformly, at a magnitude
    drawn uniformly from `MAGNITUDES` (ops without a magnitude count once).

    Example:
        >>> policy = trivial_augment(["flip", "rotate"])
        >>> len(policy.program[0].branches), len(policy.program[0].branches[1][0].branches)
        (2, 11)
    """
    branches = []
    for op in ops:
        if OPS[op].has_magnitude:
            levels = [[{"op": op, "magnitude": m}] for m in MAGNITUDES]
            branches.append([{"weights": [1 / len(levels)] * len(levels), "branches": levels}])
        else:
            branches.append([{"op": op, "magnitude": 0.0}])
    program = [{"weights": [1 / len(branches)] * len(branches), "branches": branches}]
    return Policy(program, value_range=value_range)


def baselines(value_range: Sequence[float], *, grid: bool = True,
              ops: Sequence[str] = tuple(OPS)) -> dict[str, Any]:
    """`{name: augmenter}` of every baseline (None for no augmentation).

    Args:
        value_range: `(low, high)` of the pixels.
        grid: Include `RANDAUGMENT_GRID` besides Keras' default RandAugment.
        ops: The ops TrivialAugment draws from.

    Example:
        >>> len(baselines((0, 255)))  # none, 6 RandAugments, TrivialAugment, AugMix
        9
    """
    settings = RANDAUGMENT_GRID if grid else (DEFAULT_RANDAUGMENT,)
    out: dict[str, Any] = {"none": None}
    for n, m in settings:
        augmenter = randaugment(value_range, n, m)
        out[augmenter.name] = augmenter
    out["TrivialAugment"] = trivial_augment(ops, value_range=value_range)
    out["AugMix"] = augmix(value_range)
    return out
