"""The program an augmentation architecture computes: a tree of ops and random choices.

`Architecture.forward` of a policy space does not touch images: each op module
appends an `OpStep` to the chain it receives and each combine module (`pick`,
the gate of `random_apply`) merges its input chains into one `ChoiceStep`. A
chain is a linked list from the space's input, so the branches of a fork share
their prefix by identity and a merge knows where the branches start.

`program_of` turns the final chain into a tuple of steps with their preorder
`index`; the numpy `Policy` and the Keras `PolicyLayer` both interpret it,
drawing their random numbers per step in that order (see `compile`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from da_bridge.errors import DomainError, SpaceError

from .ops import get_op


@dataclass(frozen=True)
class OpStep:
    """Apply op `op` at `magnitude` to every image that reaches this step."""

    index: int
    op: str
    magnitude: float


@dataclass(frozen=True)
class ChoiceStep:
    """Send each image down one branch, branch `i` with probability `weights[i]`."""

    index: int
    weights: tuple[float, ...]
    branches: tuple[tuple[Step, ...], ...]


Step = OpStep | ChoiceStep


class Chain:
    """A policy under construction: the steps from the space's input to here."""

    __slots__ = ("parent", "step", "depth")

    def __init__(self, parent: Chain | None = None, step: Any = None) -> None:
        self.parent: Chain | None = parent
        self.step = step
        self.depth: int = 0 if parent is None else parent.depth + 1

    def up(self) -> Chain:
        """The chain one step shorter."""
        if self.parent is None:
            raise SpaceError("a policy's steps were followed past its input: the chains do "
                             "not come from one policy")
        return self.parent

    def steps_after(self, ancestor: Chain) -> list[Any]:
        out, node = [], self
        while node is not ancestor:
            out.append(node.step)
            node = node.up()
        return out[::-1]


def extend(chain: Any, op: str, magnitude: float, where: str) -> Chain:
    """The chain with one more op; `where` names the module for errors."""
    return Chain(_check_chain(chain, where), ("op", op, float(magnitude)))


def merge(chains: Sequence[Any], weights: Sequence[float], where: str) -> Chain:
    """One random choice among `chains`, which must fork from a common chain."""
    chains = [_check_chain(c, where) for c in chains]
    ancestor = _common_ancestor(chains, where)
    branches = [c.steps_after(ancestor) for c in chains]
    return Chain(ancestor, ("choice", tuple(float(w) for w in weights), branches))


def program_of(chain: Any, root: Chain) -> tuple[Step, ...]:
    """The steps from `root` to `chain`, numbered in preorder."""
    chain = _check_chain(chain, "the policy's output")
    if _common_ancestor([chain, root], "the policy's output") is not root:
        raise SpaceError("the policy's output does not come from its input")
    return _number(chain.steps_after(root), [0])


def _number(raw: list[Any], counter: list[int]) -> tuple[Step, ...]:
    steps: list[Step] = []
    for kind, *args in raw:
        index = counter[0]
        counter[0] += 1
        if kind == "op":
            steps.append(OpStep(index, args[0], args[1]))
        else:
            branches = tuple(_number(branch, counter) for branch in args[1])
            steps.append(ChoiceStep(index, args[0], branches))
    return tuple(steps)


def _check_chain(chain: Any, where: str) -> Chain:
    if not isinstance(chain, Chain):
        raise SpaceError(
            f"{where} received {type(chain).__name__}, not a policy under construction: "
            "compile augmentation architectures with to_policy(arch) or to_keras_layer(arch) "
            "instead of calling arch.forward on images")
    return chain


def _common_ancestor(chains: list[Chain], where: str) -> Chain:
    lowest = min(c.depth for c in chains)
    nodes = []
    for c in chains:
        while c.depth > lowest:
            c = c.up()
        nodes.append(c)
    while any(n is not nodes[0] for n in nodes):
        if nodes[0].parent is None:
            raise SpaceError(f"{where}: its inputs do not fork from one policy")
        nodes = [n.up() for n in nodes]
    return nodes[0]


def thresholds(weights: Sequence[float]) -> np.ndarray:
    """float32 bounds between branches: a draw `u` in [0, 1) takes branch
    `sum(u >= thresholds)`. Numpy and Keras compare the same float32 numbers."""
    return np.cumsum(np.asarray(weights, dtype=np.float64))[:-1].astype(np.float32)


def to_json(steps: Sequence[Step]) -> list[dict[str, Any]]:
    """A JSON form of a program (for Keras configs and reports)."""
    out = []
    for step in steps:
        if isinstance(step, OpStep):
            out.append({"op": step.op, "magnitude": step.magnitude})
        else:
            out.append({"weights": list(step.weights),
                        "branches": [to_json(branch) for branch in step.branches]})
    return out


def from_json(data: Sequence[dict[str, Any]]) -> tuple[Step, ...]:
    """The program a `to_json` form describes, renumbered in preorder; checks it."""
    return _number([_raw_step(d) for d in data], [0])


def _raw_step(data: Any) -> tuple[Any, ...]:
    if isinstance(data, Mapping) and set(data) == {"op", "magnitude"}:
        get_op(data["op"])
        magnitude = data["magnitude"]
        if isinstance(magnitude, (int, float)) and 0 <= magnitude <= 1:
            return ("op", data["op"], float(magnitude))
        raise DomainError("magnitude", magnitude, "a number in [0, 1]")
    if isinstance(data, Mapping) and set(data) == {"weights", "branches"}:
        weights, branches = list(data["weights"]), list(data["branches"])
        valid = all(isinstance(w, (int, float)) and w >= 0 for w in weights)
        if not valid or len(weights) != len(branches) or abs(sum(weights) - 1) > 1e-6:
            raise DomainError("weights", weights, "one non-negative weight per branch, sum 1")
        return ("choice", tuple(float(w) for w in weights),
                [[_raw_step(d) for d in branch] for branch in branches])
    raise DomainError("policy step", data, "{'op', 'magnitude'} or {'weights', 'branches'}")


def walk(steps: Sequence[Step]) -> list[Step]:
    """Every step of a program in preorder (the order of `index`)."""
    out: list[Step] = []
    for step in steps:
        out.append(step)
        if isinstance(step, ChoiceStep):
            for branch in step.branches:
                out.extend(walk(branch))
    return out


def prune(steps: Sequence[Step]) -> tuple[Step, ...]:
    """The same policy without steps that do nothing, renumbered in preorder.

    Drops identity ops and ops at magnitude 0 that are the identity there
    (`OpSpec.identity_at_zero`), branches of weight 0, and choices whose branches
    all end up empty; a choice left with one branch becomes that branch. The result
    draws from the same distribution as `steps`.
    """
    return _number(_pruned_raw(steps), [0])


def canonical(steps: Sequence[Step]) -> tuple[Step, ...]:
    """`prune(steps)` with every choice's equal branches merged (weights summed) and its
    branches sorted (the empty one last): equivalent policies get equal programs."""
    return _number(_canonical_raw(_pruned_raw(steps)), [0])


def canonical_key(steps: Sequence[Step]) -> str:
    """A JSON text equal for equivalent programs (see `canonical`)."""
    return json.dumps(to_json(canonical(steps)), sort_keys=True, separators=(",", ":"))


def _pruned_raw(steps: Sequence[Step]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for step in steps:
        if isinstance(step, OpStep):
            spec = get_op(step.op)
            if step.op != "identity" and not (spec.identity_at_zero and step.magnitude == 0):
                out.append(("op", step.op, step.magnitude))
            continue
        kept = [(w, _pruned_raw(b)) for w, b in zip(step.weights, step.branches, strict=True)
                if w > 0]
        if all(not branch for _, branch in kept):
            continue
        if len(kept) == 1:
            out.extend(kept[0][1])
            continue
        out.append(("choice", tuple(w for w, _ in kept), [b for _, b in kept]))
    return out


def _canonical_raw(raw: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for kind, *args in raw:
        if kind == "op":
            out.append((kind, *args))
            continue
        merged: dict[str, list[Any]] = {}
        for weight, branch in zip(args[0], args[1], strict=True):
            branch = _canonical_raw(branch)
            key = json.dumps(branch)
            merged.setdefault(key, [0.0, branch])[0] += weight
        order = sorted(merged, key=lambda k: (not merged[k][1], k))
        if len(order) == 1:
            out.extend(merged[order[0]][1])
            continue
        out.append(("choice", tuple(round(merged[k][0], 12) for k in order),
                    [merged[k][1] for k in order]))
    return out
