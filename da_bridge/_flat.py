"""Flat encodings of a space, for optimizers that want every parameter up front.

Hyperopt and scikit-optimize cannot unfold a space lazily. `slots(space)` lists every
hyperparameter that can appear, once per (path, domain), at a cost that grows with the sum
(not the product) of the structural choices' sizes; `label_slots` names them;
`replay` and `live_slots` go between a flat assignment and an architecture.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from da_bridge._domains import Slot, SlotKey, domain_key, slot_of, values_of
from da_bridge._tree import Budget, independent_ancestors
from da_bridge.architecture import Architecture
from da_bridge.errors import (
    InvalidArchitectureError,
    NoValidArchitectureError,
    ReplayError,
    SpaceError,
    SpaceTooLargeError,
)
from da_bridge.space import NamedHyperparameter, SearchSpace, Unfolding, draw_valid

#: Fresh instances `slots` may build; it grows with the sum of the structural choices.
MAX_SLOT_STATES = 2_000
#: Value combinations tried for hyperparameters that one substitution reads together.
JOINT_COMBINATIONS = 16
#: Random architectures whose live hyperparameters are added to what exploration found.
SAMPLES = 8


def slots(space: SearchSpace, *, max_states: int = MAX_SLOT_STATES) -> list[Slot]:
    """Every hyperparameter that can appear in `space`, once per (path, domain).

    Each structural choice's values are tried on the state that exposes it; the
    hyperparameters one substitution reads together are tried jointly (every
    combination up to `JOINT_COMBINATIONS`, else that many drawn ones), and
    combinations the space rejects are skipped. Past `max_states` fresh instances (or
    with drawn combinations) the list may miss a slot; `SAMPLES` random architectures
    add what they show, and decoders give a missed slot its default value.

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> found = slots(poster_space())
        >>> len(found), found[0].path, found[-1].path
        (16, 'conv.filters', 'chain2/7/conv.filters')
    """
    finder = _SlotFinder(space, max_states)
    try:
        finder.run()
    except SpaceTooLargeError:
        pass  # keep what was found; the samples below add the common rest
    rng = random.Random(0)
    for _ in range(SAMPLES):
        try:
            drawn = _sample_live(space, rng)
        except NoValidArchitectureError:
            break
        for h in drawn:
            slot = Slot(h.name, domain_key(h.hyperparameter), h.hyperparameter)
            finder.found.setdefault(slot.key, slot)
    return list(finder.found.values())


def _sample_live(space: SearchSpace, rng: random.Random) -> list[NamedHyperparameter]:
    """The live hyperparameters of `space.sample(rng)` (the same draws), seen while it
    unfolds: replaying the sample to list them built every architecture twice."""
    drawn: list[NamedHyperparameter] = []
    current: list[Unfolding] = []

    def step(u: Unfolding) -> None:
        if not current or current[0] is not u:  # a rejected attempt starts a fresh instance
            current[:] = [u]
            drawn.clear()
        h = u.next()
        if h is None:
            raise SpaceError("the instance is fully specified; there is nothing to draw")
        drawn.append(h)
        u.assign(h.hyperparameter.sample(rng))

    draw_valid(space, step)
    return drawn


def label_slots(found: Iterable[Slot]) -> dict[SlotKey, str]:
    """A unique label per slot: its path, or `path#2`, `path#3` for further domains.

    Example:
        >>> from da_bridge import Int
        >>> a, b = Slot("x", ("Int", 1, 2, 1, False), Int(1, 2)), Slot("x", ("I",), Int(1, 3))
        >>> list(label_slots([a, b]).values())
        ['x', 'x#2']
    """
    labels: dict[SlotKey, str] = {}
    taken: set[str] = set()
    for slot in found:
        if slot.key in labels:
            continue
        label, k = slot.path, 2
        while label in taken:
            label, k = f"{slot.path}#{k}", k + 1
        labels[slot.key] = label
        taken.add(label)
    return labels


def replay(space: SearchSpace, value_of: Callable[[SlotKey, Any], Any]) -> Architecture:
    """Unfold `space`, asking `value_of(slot key, hyperparameter)` for each live value.

    `value_of` raises `KeyError` when it has no value for a slot.
    """
    def choose(h: NamedHyperparameter) -> Any:
        try:
            value = value_of((h.name, domain_key(h.hyperparameter)), h.hyperparameter)
        except KeyError:
            raise ReplayError(f"{h.name!r} has no value; allowed: {h.hyperparameter!r}") from None
        return h.decode(value, h.name)

    return space.specify(choose)


def live_slots(space: SearchSpace, values: Mapping[str, Any]) -> dict[SlotKey, Any]:
    """`{slot key: value}` of the live hyperparameters of a values map (plain or JSON form)."""
    return {(h.name, domain_key(h.hyperparameter)): value for h, value in space.live(values)}


class _SlotFinder(Budget):
    """Depth-first: each structural choice's values are tried on the state that exposes it."""

    found: dict[SlotKey, Slot]

    def run(self) -> list[Slot]:
        self.found = {}
        self._visit({}, None)
        return list(self.found.values())

    def _visit(self, prefix: dict[str, Any], focus: frozenset[Any] | None,
               u: Unfolding | None = None) -> None:
        u = u or self.state(prefix)
        pending = u.pending()
        for h in pending:
            slot = slot_of(u, h.hyperparameter)
            self.found.setdefault(slot.key, slot)
        before = frozenset(h.hyperparameter.identity for h in pending)
        n_modules = u.n_modules()
        for group in _joint_groups(u, pending, focus):
            for combination in _combinations(group):
                child_prefix = {**prefix, **combination}
                try:
                    child = self.state(child_prefix)
                except InvalidArchitectureError:
                    continue
                new = frozenset(g.hyperparameter.identity for g in child.pending()) - before
                self._visit(child_prefix, new | _newly_structural(child, n_modules), child)


def _joint_groups(u: Unfolding, pending: list[NamedHyperparameter], focus: frozenset[Any] | None
                  ) -> list[list[NamedHyperparameter]]:
    """The structural hyperparameters to try, grouped by the substitutions they feed."""
    groups: list[tuple[set[int], list[NamedHyperparameter]]] = []
    for h in pending:
        decl = h.hyperparameter
        if (focus is not None and decl.identity not in focus) or not u.is_structural(decl):
            continue
        if decl.size() == math.inf:
            raise SpaceError(f"{h.name!r} decides the structure but is continuous "
                             f"({decl!r}); exploration needs finite structural choices")
        fed = u.substitutions_fed_by(decl)
        joined = [g for g in groups if g[0] & fed]
        for g in joined:
            groups.remove(g)
            fed |= g[0]
        groups.append((fed, [h for g in joined for h in g[1]] + [h]))
    return [g for _, g in groups]


def _combinations(group: list[NamedHyperparameter]) -> list[dict[str, Any]]:
    """Every joint value of `group` up to `JOINT_COMBINATIONS`, else that many drawn ones
    (each value of each hyperparameter at least once)."""
    domains = [values_of(h.hyperparameter) for h in group]
    names = [h.name for h in group]
    if math.prod(len(d) for d in domains) <= JOINT_COMBINATIONS:
        return [dict(zip(names, combo)) for combo in itertools.product(*domains)]
    rng = random.Random(len(group))
    width = max(len(d) for d in domains)
    out = [{n: d[(i + k) % len(d)] for k, (n, d) in enumerate(zip(names, domains))}
           for i in range(width)]
    out += [{n: rng.choice(d) for n, d in zip(names, domains)}
            for _ in range(max(0, JOINT_COMBINATIONS - width))]
    return out


def _newly_structural(u: Unfolding, start: int) -> frozenset[Any]:
    """Pending hyperparameters that feed substitutions created after module `start`."""
    found = set[Any]()
    for module in u.substitutions_since(start):
        if module.alive:
            for h in module.hyperparameters.values():
                found.update(a.identity for a in independent_ancestors(h)
                             if not u.is_assigned(a))
    return frozenset(found)
