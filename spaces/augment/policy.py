"""Augmentation policies as search spaces: ops as modules, random choices as combinators.

Two kinds of choice meet here, and the names keep them apart:

* *search-time* choices are hyperparameters, fixed once per architecture: which
  op a step uses (`op.choice`), its magnitude (`.../rotate/rotate.magnitude`,
  exposed only when that op is chosen), the probability of a step, the number of
  RandAugment layers. They are the engine's `siso_or`, `siso_optional`,
  `siso_repeat`, ... and they unfold, count, sample and replay like any space.
* *run-time* choices are random draws made anew for every image each time the
  compiled policy runs: `random_apply` (apply a fragment with a probability) and
  `random_choice` (one of several fragments, uniformly). They are modules in the
  graph (a fork, the branches and a combine module), so they nest freely with
  the engine's combinators.

Magnitudes are AutoAugment's levels 0..10 divided by 10 (`MAGNITUDES`); each op
maps [0, 1] to its own range (`ops.OPS[name].magnitude_range`). Compile a
specified policy with `to_policy` (numpy) or `to_keras_layer` (Keras).

Example: a policy of your own: an optional shift, then one of two geometric
ops chosen per image, each applied with a searched probability::

    >>> from da_bridge import Bool, Discrete, SearchSpace, siso_optional, siso_sequential
    >>> def my_policy():
    ...     return siso_sequential([
    ...         siso_optional(lambda: augment_op("translate_x"), Bool(), name="shift"),
    ...         random_apply(lambda: random_choice({
    ...             "rotate": lambda: augment_op("rotate"),
    ...             "shear": lambda: op_choice(["shear_x", "shear_y"])}),
    ...             Discrete(PROBABILITIES))])
    >>> space = SearchSpace(my_policy)
    >>> space.count()  # shift (1 + 11) x probability 11 x rotate 11 x shear (11 + 11)
    31944
    >>> arch = space.sample(0)
    >>> space.replay(arch.values).values == arch.values
    True
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from da_bridge import (
    Discrete,
    Int,
    SearchSpace,
    basic,
    identity,
    scope,
    siso_or,
    siso_repeat,
    siso_sequential,
    substitution,
)
from da_bridge.errors import DomainError
from da_bridge.modules import Fragment, FragmentFn

from . import _program
from .ops import OPS, get_op

#: Magnitude levels: AutoAugment's 0..10 divided by 10.
MAGNITUDES: tuple[float, ...] = tuple(i / 10 for i in range(11))
#: Probability levels of a step: 0, 0.1, ..., 1.
PROBABILITIES: tuple[float, ...] = tuple(i / 10 for i in range(11))
#: Every registered op, in registry order.
DEFAULT_OPS: tuple[str, ...] = tuple(OPS)

Choice = Any  # a Hyperparameter, or a plain value that fixes the choice


def augment_op(name: str, h_magnitude: Choice | None = None) -> Fragment:
    """One augmentation op as a basic module named `name`.

    Args:
        name: A key of `ops.OPS` (`rotate`, `solarize`, `flip`, ...).
        h_magnitude: The op's strength in [0, 1]: a hyperparameter (shared if you
            pass the same one to several ops), a fixed float, or None for a fresh
            `Discrete(MAGNITUDES)`. Ops without a magnitude (identity, flip,
            equalize, autocontrast) have no such property.

    Example:
        >>> space = SearchSpace(lambda: augment_op("rotate"))
        >>> space.unfold().next().name
        'rotate.magnitude'
        >>> SearchSpace(lambda: augment_op("flip")).count()
        1
    """
    spec = get_op(name)
    properties = {}
    if spec.has_magnitude:
        h = Discrete(MAGNITUDES) if h_magnitude is None else h_magnitude
        properties["magnitude"] = _check_level(h, f"{name}.magnitude")
    return basic(name, functools.partial(_compile_op, name), properties)


def op_choice(ops: Sequence[str] = DEFAULT_OPS, h_op: Choice | None = None, *,
              h_magnitude: Choice | None = None, name: str = "op") -> Fragment:
    """One op chosen by name at search time; its magnitude appears only once it is chosen.

    Args:
        ops: The candidate op names.
        h_op: The choice (`op.choice`); None for a fresh `Discrete(ops)`.
        h_magnitude: Passed to every `augment_op`; None gives each op its own.
        name: The module name; the chosen op is built under `name/<op>`.

    Example:
        >>> space = SearchSpace(lambda: op_choice(["flip", "rotate"]))
        >>> space.count()  # flip, or rotate at one of 11 magnitudes
        12
        >>> sorted(space.replay({"op.choice": "rotate", "op/rotate/rotate.magnitude": 0.3}).values)
        ['op.choice', 'op/rotate/rotate.magnitude']
    """
    ops = _check_ops(ops)
    fns = {op: functools.partial(augment_op, op, h_magnitude) for op in ops}
    return siso_or(fns, Discrete(ops) if h_op is None else h_op, name=name)


def random_apply(fn: FragmentFn, h_probability: Choice, *, name: str = "apply") -> Fragment:
    """Apply the fragment `fn` builds to each image with a probability, else pass it through.

    The draw is per image and per call (Keras' and AutoAugment's gate: an image
    is augmented iff `u < probability`, `u ~ U[0, 1)`).

    Args:
        fn: Builds the gated fragment (built under `name/`).
        h_probability: A hyperparameter or a fixed float in [0, 1] (`apply.probability`).
        name: The module name.

    Example:
        >>> space = SearchSpace(lambda: random_apply(lambda: augment_op("flip"),
        ...                                          Discrete([0.5, 1.0])))
        >>> space.unfold().next().name
        'apply.probability'
        >>> space.count()
        2
    """
    def build(values: dict[str, Any]) -> Fragment:
        p = _level(values["probability"], f"{name}.probability")
        fork_in, fork_out = identity("fork")
        main_in, main_out = fn()
        gate_in, gate_out = _combine("gate", [p, 1.0 - p])
        fork_out["out"].connect(main_in["in"])
        fork_out["out"].connect(gate_in["in1"])
        main_out["out"].connect(gate_in["in0"])
        return fork_in, gate_out

    return substitution(name, build, {"probability": h_probability})


def random_choice(fns: Sequence[FragmentFn] | Mapping[str, FragmentFn], *,
                  name: str = "choice") -> Fragment:
    """One of several fragments per image, uniformly at random, each time the policy runs.

    Args:
        fns: Thunks, by position or by key; fragment `k` is built under `name/k`.
        name: The scope of what this builds.

    Example:
        >>> space = SearchSpace(lambda: random_choice(
        ...     {"a": lambda: augment_op("rotate"), "b": lambda: augment_op("flip")}))
        >>> space.unfold().next().name
        'choice/a/rotate.magnitude'
    """
    options = dict(fns) if isinstance(fns, Mapping) else dict(enumerate(fns))
    if not options:
        raise DomainError(name, [], "at least one fragment")
    with scope(name):
        fork_in, fork_out = identity("fork")
        pick_in, pick_out = pick(len(options))
        for i, (key, fn) in enumerate(options.items()):
            with scope(str(key)):
                branch_in, branch_out = fn()
            fork_out["out"].connect(branch_in["in"])
            branch_out["out"].connect(pick_in[f"in{i}"])
    return fork_in, pick_out


def pick(n: int) -> Fragment:
    """A combine module: per image, the output of one of its `n` inputs, uniformly.

    Use it as the `combine_fn` of `siso_split_combine` for `n` searched copies
    of a fragment, one of which each image goes through.

    Example:
        >>> from da_bridge import siso_split_combine
        >>> space = SearchSpace(lambda: siso_split_combine(
        ...     lambda: augment_op("zoom"), pick, Discrete([1, 2])))
        >>> space.count()  # 11 + 11 * 11
        132
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise DomainError("pick", n, "an integer >= 1")
    return _combine("pick", [1.0 / n] * n)


def autoaugment_space(n_subpolicies: int = 5, ops_per_subpolicy: int = 2, *,
                      ops: Sequence[str] = DEFAULT_OPS) -> SearchSpace:
    """AutoAugment's space: each image gets one of `n_subpolicies` sub-policies at random;
    a sub-policy applies `ops_per_subpolicy` ops in turn, each with its own searched
    op, probability and magnitude.

    Paths: `subpolicy/<i>/step<j>.probability`, `subpolicy/<i>/step<j>/op.choice`,
    `subpolicy/<i>/step<j>/op/<op>/<op>.magnitude`.

    Example:
        >>> space = autoaugment_space(2, 1, ops=["rotate", "flip"])
        >>> space.count()  # per sub-policy: 11 probabilities x (11 + 1)
        17424
        >>> arch = space.sample(0)
        >>> sorted(arch.values)[:2]
        ['subpolicy/0/step0.probability', 'subpolicy/0/step0/op.choice']
    """
    n_subpolicies = _positive(n_subpolicies, "n_subpolicies")
    ops_per_subpolicy = _positive(ops_per_subpolicy, "ops_per_subpolicy")
    ops = _check_ops(ops)

    def step(j: int) -> Fragment:
        return random_apply(lambda: op_choice(ops), Discrete(PROBABILITIES), name=f"step{j}")

    def subpolicy() -> Fragment:
        return siso_sequential([functools.partial(step, j) for j in range(ops_per_subpolicy)])

    return SearchSpace(lambda: random_choice([subpolicy] * n_subpolicies, name="subpolicy"))


def randaugment_space(*, ops: Sequence[str] = DEFAULT_OPS, max_layers: int = 3,
                      magnitudes: Sequence[float] = MAGNITUDES) -> SearchSpace:
    """RandAugment's space: `n` layers, each applying one op drawn uniformly per image from
    `ops`, all at one global magnitude `magnitude`. Only `n` and `magnitude` are searched.

    Example:
        >>> space = randaugment_space()
        >>> space.count()  # n in 1..3, 11 magnitudes
        33
        >>> space.replay({"n": 2, "magnitude": 0.4}).values
        {'n': 2, 'magnitude': 0.4}
    """
    ops = _check_ops(ops)
    max_layers = _positive(max_layers, "max_layers")

    def build() -> Fragment:
        h_n = Int(1, max_layers, name="n")
        h_magnitude = _check_level(Discrete(magnitudes, name="magnitude"), "magnitude")

        def layer() -> Fragment:
            return random_choice({op: functools.partial(augment_op, op, h_magnitude)
                                  for op in ops}, name="ops")

        return siso_repeat(layer, h_n, name="layers")

    return SearchSpace(build)


# ----------------------------------------------------------------------------- internals


def _compile_op(name: str, values: dict[str, Any]) -> Callable[[dict[str, Any]], dict]:
    magnitude = _level(values.get("magnitude", 0.0), f"{name}.magnitude")
    return lambda inputs: {"out": _program.extend(inputs["in"], name, magnitude, name)}


def _combine(name: str, weights: list[float]) -> Fragment:
    inputs = [f"in{i}" for i in range(len(weights))]

    def compile_fn(values: dict[str, Any]) -> Callable[[dict[str, Any]], dict]:
        def forward(chains: dict[str, Any]) -> dict[str, Any]:
            return {"out": _program.merge([chains[i] for i in inputs], weights, name)}

        return forward

    return basic(name, compile_fn, {}, inputs=inputs)


def _level(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise DomainError(path, value, "a number in [0, 1]")
    return float(value)


def _check_level(h: Choice, path: str) -> Choice:
    """Fixed values and `Discrete` candidates must lie in [0, 1]; ranges are checked on use."""
    if isinstance(h, Discrete):
        for value in h.values:
            _level(value, path)
        return h
    if not hasattr(h, "sample"):
        _level(h, path)
    return h


def _check_ops(ops: Sequence[str]) -> list[str]:
    if isinstance(ops, str):
        ops = [ops]
    ops = list(ops)
    if not ops or len(set(ops)) != len(ops):
        raise DomainError("ops", ops, "a non-empty list of distinct op names")
    for op in ops:
        get_op(op)
    return ops


def _positive(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DomainError(what, value, "an integer >= 1")
    return value
