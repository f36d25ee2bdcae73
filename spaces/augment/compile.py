"""Compile a specified augmentation policy to a numpy callable or a Keras layer.

Both compile the same program (`Policy.program`: ops with their magnitudes and
random choices with their weights, without the steps that do nothing) and draw
from the same distribution:

* **Choices.** Per image and per run, a random choice (a `random_apply` gate, a
  `random_choice`, a sub-policy) draws one float32 uniform `u` and takes branch
  `b = sum(u >= thresholds)`, the thresholds at the cumulative weights (so a gate
  applies iff `u < probability`).
* **Ops.** The numpy `Policy` runs `ops` (`ops.sample_params` draws an op's
  per-image numbers, `ops.apply_transform` applies them); the Keras `PolicyLayer`
  runs Keras' own preprocessing layer for that op (`layers.op_layer`), which
  draws the same quantities from the same distributions. Both map back to the
  input's dtype and value range after every op.

The numbers themselves differ (numpy's `Generator` vs Keras' `SeedGenerator`, and
Keras' layers draw in their own order): the same distribution, not the same
pixels. `Policy.apply(images, draws)` replays a numpy run exactly. Numpy evaluates
a branch only on the images that take it; Keras evaluates every branch on the
whole batch and selects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from da_bridge.architecture import Architecture
from da_bridge.errors import OptionError, OptionTypeError, SpaceError

from . import _program
from .ops import apply_transform, get_op, resolve_value_range, sample_params

Draws = list[dict[str, Any]]


class Policy:
    """A compiled augmentation policy: `policy(images, rng)` augments a batch.

    Args:
        program: The steps of `program(arch)`, or their JSON form (`Policy.to_json()`).
        value_range: `(low, high)` of the pixels; inferred from the dtype when None
            (uint8 -> (0, 255), floats -> (0, 1)). sklearn's digits need (0, 16).

    Example:
        >>> from da_bridge.spaces.augment import randaugment_space, to_policy
        >>> policy = to_policy(randaugment_space().replay({"n": 1, "magnitude": 0.5}))
        >>> images = np.zeros((4, 8, 8, 1), dtype=np.uint8)
        >>> policy(images, 0).shape
        (4, 8, 8, 1)
        >>> bool((policy(images, 3) == policy(images, 3)).all())
        True
        >>> draws = policy.sample_draws(images.shape, 3)  # what a run with seed 3 draws
        >>> bool((policy.apply(images, draws) == policy(images, 3)).all())
        True
    """

    def __init__(self, program: Sequence[Any], *,
                 value_range: Sequence[float] | None = None) -> None:
        program = tuple(program)
        if not all(isinstance(step, (_program.OpStep, _program.ChoiceStep)) for step in program):
            program = _program.from_json(program)
        self.program: tuple[_program.Step, ...] = program
        self.value_range = None if value_range is None else resolve_value_range(
            "float32", value_range)

    def __repr__(self) -> str:
        return f"Policy({self.describe()})"

    def __call__(self, images: np.ndarray, rng: Any = None) -> np.ndarray:
        """Augment a batch `(N, H, W, C)`; `rng` is an int seed or a numpy `Generator`."""
        images = _check_batch(images)
        return self.apply(images, self.sample_draws(images.shape, rng))

    def steps(self) -> list[_program.Step]:
        """Every step in preorder: the order of the draws."""
        return _program.walk(self.program)

    def sample_draws(self, shape: Sequence[int], rng: Any = None) -> Draws:
        """The random numbers one run on a batch of `shape` uses (see the module docstring)."""
        gen = np.random.default_rng(rng)
        shape = tuple(int(s) for s in shape)
        draws: Draws = []
        for step in self.steps():
            if isinstance(step, _program.OpStep):
                draws.append(sample_params(step.op, shape, gen))
            else:
                draws.append({"u": gen.random(shape[0], dtype=np.float32)})
        return draws

    def apply(self, images: np.ndarray, draws: Draws) -> np.ndarray:
        """Augment a batch with given draws; deterministic."""
        images = _check_batch(images)
        index = np.arange(images.shape[0])
        return _run(self.program, images, draws, index, self.value_range)

    def to_json(self) -> list[dict[str, Any]]:
        """The program in JSON form; `Policy(policy.to_json())` rebuilds it."""
        return _program.to_json(self.program)

    def describe(self, *, multiline: bool = False) -> str:
        """A text of the program: `a -> b` in turn, `one_of(x | y)` a random choice
        per image, `x p=0.5` a step applied with a probability; steps that do nothing
        (probability 0, magnitude 0, `identity`) are left out.

        Args:
            multiline: One top-level step per line, with the branches of a random
                choice (AutoAugment's sub-policies) listed one per line.

        Example:
            >>> policy = Policy([{"op": "rotate", "magnitude": 0.3},
            ...                  {"weights": [0.5, 0.5], "branches": [[], [
            ...                      {"op": "flip", "magnitude": 0.0}]]}])
            >>> policy.describe()
            'rotate(0.3) -> one_of(identity | flip)'
            >>> print(policy.describe(multiline=True))
            rotate(0.3)
            then one of these per image, uniformly:
              1. identity
              2. flip
        """
        steps = _program.prune(self.program)
        if not multiline or not steps:
            return _describe(steps)
        lines: list[str] = []
        for step in steps:
            then = "then " if lines else ""
            if isinstance(step, _program.ChoiceStep) and not _is_gate(step):
                uniform = ", uniformly" if len(set(step.weights)) == 1 else ""
                lines.append(f"{then}one of these per image{uniform}:")
                lines += [f"  {i + 1}. {_describe(b)}" for i, b in enumerate(step.branches)]
            else:
                lines.append(then + _describe_step(step))
        return "\n".join(lines)


def to_policy(arch: Architecture, *, value_range: Sequence[float] | None = None) -> Policy:
    """Compile a specified augmentation architecture to a numpy `Policy`.

    Args:
        arch: An architecture of a policy space (`autoaugment_space`,
            `randaugment_space`, or your own built from `policy`'s modules).
        value_range: `(low, high)` of the pixels; see `Policy`.

    Raises:
        SpaceError: if the architecture is not a single-input single-output policy.

    Example:
        >>> from da_bridge.spaces.augment import autoaugment_space, to_policy
        >>> arch = autoaugment_space(2, 1, ops=["rotate", "flip"]).sample(0)
        >>> policy = to_policy(arch, value_range=(0, 16))
        >>> policy(np.full((3, 8, 8, 1), 8.0), rng=0).dtype
        dtype('float64')
    """
    return Policy(program(arch), value_range=value_range)


def to_keras_layer(arch: Architecture, *, value_range: Sequence[float] | None = None,
                   seed: int | None = None, apply_at_inference: bool = False) -> Any:
    """Compile a specified augmentation architecture to a Keras 3 `PolicyLayer`.

    The layer runs the same program as `to_policy(arch)` with Keras' own
    preprocessing layers (`layers.op_layer`; solarize and equalize hand-written
    with `keras.ops`) and draws the gates and choices itself, on any Keras backend
    (TensorFlow, JAX, PyTorch). It augments in `model.fit` and
    `dataset.map(layer)` (TensorFlow backend) and passes inputs through when
    called with `training=False`, unless `apply_at_inference`.

    Args:
        arch: An architecture of a policy space.
        value_range: `(low, high)` of the pixels; inferred from the dtype when None.
        seed: Seeds the layer's Keras random generators.
        apply_at_inference: Augment even with `training=False`.

    Example:
        >>> from da_bridge.spaces.augment import randaugment_space, to_keras_layer
        >>> layer = to_keras_layer(randaugment_space().replay({"n": 2, "magnitude": 0.2}), seed=0)
        >>> np.asarray(layer(np.zeros((2, 8, 8, 1), "float32"))).shape
        (2, 8, 8, 1)
    """
    from .layers import PolicyLayer

    return PolicyLayer(_program.to_json(program(arch)), value_range=value_range, seed=seed,
                       apply_at_inference=apply_at_inference)


def program(arch: Architecture) -> tuple[_program.Step, ...]:
    """The program of a specified policy architecture (ops and random choices), without
    the steps that do nothing: steps of probability 0, identity ops, ops at magnitude 0
    (the identity for every op with a magnitude), choices left with nothing to choose.

    Example:
        >>> from da_bridge.spaces.augment import program, randaugment_space
        >>> [type(s).__name__ for s in program(randaugment_space().replay(
        ...     {"n": 1, "magnitude": 0.1}))]
        ['ChoiceStep']
    """
    if not isinstance(arch, Architecture):
        raise OptionTypeError(f"expected a specified Architecture; got {type(arch).__name__}")
    if set(arch.inputs) != {"in"} or set(arch.outputs) != {"out"}:
        raise SpaceError(f"an augmentation policy has one input 'in' and one output 'out'; "
                         f"got inputs {sorted(arch.inputs)} and outputs {sorted(arch.outputs)}")
    root = _program.Chain()
    return _program.prune(_program.program_of(arch.forward({"in": root})["out"], root))


def canonical_key(arch: Architecture | Policy) -> str:
    """A text equal for equivalent policies: the same ops and probabilities up to steps
    that do nothing, the order of a random choice's branches, and equal branches
    (`one_of(a | a | b)` is `a` with weight 2/3 and `b` with 1/3).

    Example:
        >>> from da_bridge.spaces.augment import autoaugment_space, canonical_key, to_policy
        >>> space = autoaugment_space(2, 1, ops=["rotate", "flip"])
        >>> a = space.replay({"subpolicy/0/step0.probability": 0.5,
        ...                   "subpolicy/0/step0/op.choice": "flip",
        ...                   "subpolicy/1/step0.probability": 0.0,
        ...                   "subpolicy/1/step0/op.choice": "flip"})
        >>> b = space.replay({"subpolicy/0/step0.probability": 0.0,
        ...                   "subpolicy/0/step0/op.choice": "rotate",
        ...                   "subpolicy/0/step0/op/rotate/rotate.magnitude": 0.3,
        ...                   "subpolicy/1/step0.probability": 0.5,
        ...                   "subpolicy/1/step0/op.choice": "flip"})
        >>> canonical_key(a) == canonical_key(b), to_policy(b).describe()
        (True, 'one_of(identity | flip p=0.5)')
    """
    steps = arch.program if isinstance(arch, Policy) else program(arch)
    return _program.canonical_key(steps)


def _describe(steps: Sequence[_program.Step]) -> str:
    """Text of a program (see `Policy.describe`)."""
    if not steps:
        return "identity"
    return " -> ".join(_describe_step(step) for step in steps)


def _describe_step(step: _program.Step) -> str:
    if isinstance(step, _program.OpStep):
        return f"{step.op}({step.magnitude:g})" if _has_magnitude(step.op) else step.op
    if _is_gate(step):
        return f"{_grouped(step.branches[0])} p={step.weights[0]:g}"
    return "one_of(" + " | ".join(_describe(branch) for branch in step.branches) + ")"


def _is_gate(step: _program.ChoiceStep) -> bool:
    """A `random_apply`: apply the first branch or nothing."""
    return len(step.branches) == 2 and not step.branches[1]


def _grouped(steps: Sequence[_program.Step]) -> str:
    text = _describe(steps)
    return f"({text})" if len(steps) > 1 else text


def _has_magnitude(op: str) -> bool:
    return get_op(op).has_magnitude


def _run(steps: Sequence[_program.Step], x: np.ndarray, draws: Draws, index: np.ndarray,
         value_range: tuple[float, float] | None) -> np.ndarray:
    """Run `steps` on the images `x`, which are images `index` of the batch."""
    for step in steps:
        params = draws[step.index]
        if isinstance(step, _program.OpStep):
            x = apply_transform(step.op, x, step.magnitude,
                                {k: v[index] for k, v in params.items()}, value_range=value_range)
            continue
        branch = (params["u"][index, None] >= _program.thresholds(step.weights)).sum(axis=1)
        out = x.copy()
        for b, sub in enumerate(step.branches):
            mask = branch == b
            if sub and mask.any():
                out[mask] = _run(sub, x[mask], draws, index[mask], value_range)
        x = out
    return x


def _check_batch(images: Any) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 4:
        raise OptionError(f"images must be a batch (N, H, W, C); got shape {images.shape}")
    return images
