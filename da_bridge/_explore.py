"""Explore a search space ahead of time, for optimizers that need the whole space up front.

Hyperopt and scikit-optimize cannot unfold a space lazily: they want every
parameter before the first trial. Exploration replays prefixes of
assignments on fresh instances and records what each structural choice (a
hyperparameter that feeds a substitution, directly or through dependent
hyperparameters) reveals:

- `tree(space)`: the structural tree. Each node holds the plain
  hyperparameters that are live there (leaves) and the structural choices;
  a choice lists, for every combination of its values, the node it reveals.
  Structural hyperparameters that interact (feed the same substitution, or
  reveal the same hyperparameter) form one joint choice.
- `count_space(space)`: what `SearchSpace.count()` returns, the tree's arithmetic.
- `slots(space)`: every hyperparameter that can appear, each once, with
  cost the sum (not the product) of the structural choices' sizes.

A slot is a path together with its domain: the same path can carry
different domains in different branches, and each gets its own label.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from da_bridge.architecture import Architecture
from da_bridge.errors import (
    DomainError,
    OptionTypeError,
    ReplayError,
    SpaceError,
    SpaceTooLargeError,
)
from da_bridge.hyperparameters import Dependent, Discrete, Float, Hyperparameter, Int
from da_bridge.space import SearchSpace, Unfolding

#: Fresh instances exploration may build before it gives up.
MAX_STATES = 2_000
#: The same for `slots`, which grows with the sum of the structural choices.
MAX_SLOT_STATES = 20_000

SlotKey = tuple[str, tuple]


class _ContinuousChoice(SpaceError):
    """A continuous hyperparameter decides the structure: no finite tree."""


class _Interaction(Exception):  # noqa: N818 - internal control flow, never escapes
    def __init__(self, key: Any) -> None:
        self.key = key


@dataclass(frozen=True)
class Slot:
    """A hyperparameter that can appear: its path and its domain.

    Attributes:
        path: The stable path name.
        domain: A hashable description of the domain (`domain_key`).
        hyperparameter: One declaration with that domain (for bounds and values).
    """

    path: str
    domain: tuple
    hyperparameter: Hyperparameter = field(compare=False, hash=False, repr=False)

    @property
    def key(self) -> SlotKey:
        return self.path, self.domain


@dataclass(frozen=True)
class Branch:
    """One combination of a choice's values (indices into `values_of`) and what it reveals."""

    indices: tuple[int, ...]
    node: Node


@dataclass(frozen=True)
class Choice:
    """Structural hyperparameters decided together, and one branch per combination."""

    slots: tuple[Slot, ...]
    branches: tuple[Branch, ...]


@dataclass(frozen=True)
class Node:
    """What is live at one point of the tree: plain leaves and structural choices."""

    leaves: tuple[Slot, ...] = ()
    choices: tuple[Choice, ...] = ()

    def count(self) -> float:
        """Full assignments below this node (what `SearchSpace.count()` counts)."""
        leaves = math.prod(s.hyperparameter.size() for s in self.leaves)
        return leaves * math.prod(sum(b.node.count() for b in c.branches) for c in self.choices)

    def structures(self) -> int:
        """Distinct sets of live hyperparameters below this node."""
        return math.prod(sum(b.node.structures() for b in c.branches) for c in self.choices)


def domain_key(h: Hyperparameter) -> tuple:
    """A hashable description of a hyperparameter's domain.

    Example:
        >>> domain_key(Int(1, 4))
        ('Int', 1, 4, 1, False)
        >>> domain_key(Discrete([1, True])) == domain_key(Discrete([1, 1.5]))
        False
    """
    if isinstance(h, Discrete):
        if h.is_plain():
            return ("Discrete", tuple((type(v).__name__, v) for v in h.values))
        return ("Discrete", tuple(_stable_repr(v) for v in h.values))
    if isinstance(h, Int):
        return ("Int", h.low, h.high, h.step, h.log)
    if isinstance(h, Float):
        return ("Float", h.low, h.high, h.log)
    return (type(h).__name__, _stable_repr(h))


def values_of(h: Hyperparameter) -> list[Any]:
    """Every value of a finite domain (a Float with low == high has one)."""
    if isinstance(h, Float) and h.size() == 1:
        return [h.low]
    return h.enumerate()


def index_of(h: Hyperparameter, value: Any) -> int:
    """The position of a value of `h` in `values_of(h)` (objects by identity first)."""
    i = h.index(value) if isinstance(h, Discrete) else values_of(h).index(value)
    if i is None:
        raise DomainError(repr(h), value, "one of its values")
    return i


def default_value(h: Hyperparameter) -> Any:
    """The value a flat encoding gives a hyperparameter that is not live: the first or lowest."""
    if isinstance(h, Discrete):
        return h.values[0]
    if isinstance(h, (Int, Float)):
        return h.low
    raise OptionTypeError(f"no default value for {h!r}")


def tree(space: SearchSpace, *, max_states: int = MAX_STATES) -> Node:
    """The structural tree of a finite-structured space.

    Raises:
        SpaceTooLargeError: exploring needs more than `max_states` instances.
        SpaceError: a continuous hyperparameter decides the structure.

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> root = tree(poster_space())
        >>> [c.slots[0].path for c in root.choices], root.structures(), root.count()
        (['optional.include', 'chain1.n'], 6, 25008)
    """
    return _TreeBuilder(space, max_states).node({}, None, frozenset())[0]


def count_space(space: SearchSpace) -> float:
    """The number of distinct full assignments of `space` (`math.inf` if continuous).

    Counting is the tree's arithmetic: independent groups multiply, the branches of a
    choice add up. The tree has one node per explored combination, not per architecture.
    """
    try:
        return _TreeBuilder(space, math.inf).node({}, None, frozenset())[0].count()
    except _ContinuousChoice:
        return math.inf  # every value of a continuous structural choice is an architecture


def slots(space: SearchSpace, *, max_states: int = MAX_SLOT_STATES) -> list[Slot]:
    """Every hyperparameter that can appear in `space`, once per (path, domain).

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> found = slots(poster_space())
        >>> len(found), found[0].path, found[-1].path
        (16, 'conv.filters', 'chain2/7/conv.filters')
    """
    return _SlotFinder(space, max_states).run()


def label_slots(found: Iterable[Slot]) -> dict[SlotKey, str]:
    """A unique label per slot: its path, or `path#2`, `path#3` for further domains.

    Example:
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
    u = space.unfold()
    while (h := u.next()) is not None:
        key = (h.name, domain_key(h.hyperparameter))
        try:
            value = value_of(key, h.hyperparameter)
        except KeyError:
            raise ReplayError(f"{h.name!r} has no value; allowed: {h.hyperparameter!r}") from None
        u.assign(h.decode(value, h.name))
    return u.architecture()


def live_slots(space: SearchSpace, values: Mapping[str, Any]) -> dict[SlotKey, Any]:
    """`{slot key: value}` of the live hyperparameters of a values map (plain or JSON form)."""
    u, out = space.unfold(), {}
    while (h := u.next()) is not None:
        if h.name not in values:
            raise ReplayError(f"{h.name!r} has no value; allowed: {h.hyperparameter!r}")
        value = h.decode(values[h.name], h.name)
        out[(h.name, domain_key(h.hyperparameter))] = value
        u.assign(value)
    return out


class _Budget:
    def __init__(self, space: SearchSpace, max_states: int) -> None:
        self.space, self.max_states, self.states = space, max_states, 0

    def state(self, prefix: Mapping[str, Any]) -> Unfolding:
        self.states += 1
        if self.states > self.max_states:
            raise SpaceTooLargeError(f"exploring {self.space!r} needs more than max_states="
                                f"{self.max_states} fresh instances")
        u = self.space.unfold()
        for path, value in prefix.items():
            u.assign_path(path, value)
        return u


class _TreeBuilder(_Budget):
    """Builds the tree of independent groups, merging groups that interact or overlap.

    The live hyperparameters of a state split into groups: one that only feeds basic
    modules is a leaf; the ones that feed the same substitution modules (directly or through
    dependent hyperparameters) form a group whose value combinations are explored one by
    one, each building what it reveals recursively. Groups are assumed independent and
    merged when exploration proves otherwise: a revealed substitution uses a hyperparameter
    pending elsewhere, or two groups reveal the same hyperparameter.
    """

    def node(self, prefix: dict, focus: frozenset | None, outside: frozenset,
             u: Unfolding | None = None) -> tuple[Node, frozenset]:
        u = u or self.state(prefix)
        pending = [h.hyperparameter for h in u.pending()]
        if focus is not None:
            pending = [h for h in pending if h._key in focus]
        plain = [h for h in pending if not _structural(u, h)]
        groups = _merge_shared(u, [[h] for h in pending if _structural(u, h)])
        level = frozenset(h._key for h in pending)
        while True:
            try:
                choices, revealed = self._choices(u, prefix, groups, outside, level)
            except _Interaction as exc:
                if exc.key not in level:
                    raise
                groups, plain = _absorb(groups, plain, exc.key, exc.group)  # type: ignore
                continue
            clash = _first_overlap(revealed)
            if clash is None:
                break
            i, j = clash
            groups = [g for k, g in enumerate(groups) if k not in (i, j)] + [groups[i] + groups[j]]
        return _simplify(u, plain, choices), frozenset().union(*revealed)

    def _choices(self, u, prefix, groups, outside, level):
        choices, revealed = [], []
        for group in groups:
            try:
                choice, keys = self._choice(u, prefix, group, outside | (level - _keys(group)))
            except _Interaction as exc:
                exc.group = group  # type: ignore[attr-defined]  # read by the level that owns it
                raise
            choices.append(choice)
            revealed.append(keys)
        return choices, revealed

    def _choice(self, u: Unfolding, prefix: dict, group: list, outside: frozenset):
        paths = [u.path_of(h) for h in group]
        for h, path in zip(group, paths):
            if h.size() == math.inf:
                raise _ContinuousChoice(f"{path!r} decides the structure but is continuous "
                                        f"({h!r}); exploration needs finite structural "
                                        "choices")
        before = frozenset(h.hyperparameter._key for h in u.pending())
        n_modules = len(u._graph.modules)
        domains = [values_of(h) for h in group]
        branches, revealed = [], set[Any]()
        for indices in itertools.product(*(range(len(d)) for d in domains)):
            child_prefix = {**prefix, **{p: d[i] for p, d, i in zip(paths, domains, indices)}}
            child = self.state(child_prefix)
            _check_new_substitutions(child, n_modules, outside)
            new = frozenset(h.hyperparameter._key for h in child.pending()) - before
            node, keys = self.node(child_prefix, new, outside | (before - _keys(group)), child)
            branches.append(Branch(indices, node))
            revealed |= new | keys
        slots_ = tuple(_slot(u, h) for h in group)
        return Choice(slots_, tuple(branches)), frozenset(revealed)


def _simplify(u: Unfolding, plain: list, choices: list[Choice]) -> Node:
    """A one-hyperparameter choice that reveals nothing in any branch is a plain leaf."""
    leaves = [_slot(u, h) for h in plain]
    kept = []
    for choice in choices:
        if len(choice.slots) == 1 and all(b.node == Node() for b in choice.branches):
            leaves.append(choice.slots[0])
        else:
            kept.append(choice)
    order = {h.name: i for i, h in enumerate(u.pending())}
    leaves.sort(key=lambda s: order.get(s.path, len(order)))
    kept.sort(key=lambda c: min(order.get(s.path, len(order)) for s in c.slots))
    return Node(tuple(leaves), tuple(kept))


class _SlotFinder(_Budget):
    """Depth-first: each structural choice's values are tried on the state that exposes it."""

    def run(self) -> list[Slot]:
        self.found: dict[SlotKey, Slot] = {}
        self._visit({}, None)
        return list(self.found.values())

    def _visit(self, prefix: dict, focus: frozenset | None, u: Unfolding | None = None) -> None:
        u = u or self.state(prefix)
        pending = u.pending()
        for h in pending:
            slot = _slot(u, h.hyperparameter)
            self.found.setdefault(slot.key, slot)
        before = frozenset(h.hyperparameter._key for h in pending)
        n_modules = len(u._graph.modules)
        for h in pending:
            decl = h.hyperparameter
            if (focus is not None and decl._key not in focus) or not _structural(u, decl):
                continue
            if decl.size() == math.inf:
                raise SpaceError(f"{h.name!r} decides the structure but is continuous "
                                 f"({decl!r}); exploration needs finite structural choices")
            for value in values_of(decl):
                child_prefix = {**prefix, h.name: value}
                child = self.state(child_prefix)
                new = frozenset(g.hyperparameter._key for g in child.pending()) - before
                self._visit(child_prefix, new | _newly_structural(child, n_modules), child)


def _newly_structural(u: Unfolding, start: int) -> frozenset:
    """Pending hyperparameters that feed substitutions created after module `start`."""
    graph, found = u._graph, set[Any]()
    for module in graph.modules[start:]:
        if module.kind != "substitution" or not module.alive:
            continue
        for h in module.hyperparameters.values():
            found.update(a._key for a in _independent_ancestors(h) if a not in graph.values)
    return frozenset(found)


def _slot(u: Unfolding, h: Hyperparameter) -> Slot:
    path = u.path_of(h)
    if path is None:
        raise SpaceError(f"{h!r} is not live in this instance: only live hyperparameters "
                         "have slots")
    return Slot(path, domain_key(h), h)


def _keys(group: list) -> frozenset:
    return frozenset(h._key for h in group)


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _stable_repr(value: Any) -> str:
    name = getattr(value, "__qualname__", None)
    return name if isinstance(name, str) else _ADDRESS.sub("", repr(value))


def _structural(u: Unfolding, h: Hyperparameter) -> bool:
    graph = u._graph
    if any(m.kind == "substitution" and m.alive for m in graph.users.get(h, ())):
        return True
    return any(_structural(u, d) for d in graph.dependents.get(h, ()))


def _reached_substitutions(u: Unfolding, h: Hyperparameter) -> set[int]:
    graph = u._graph
    found = {m.index for m in graph.users.get(h, ()) if m.kind == "substitution" and m.alive}
    for d in graph.dependents.get(h, ()):
        found |= _reached_substitutions(u, d)
    return found


def _merge_shared(u: Unfolding, groups: list[list]) -> list[list]:
    """Union the groups whose hyperparameters feed a common substitution module."""
    merged: list[tuple[set[int], list]] = []
    for group in groups:
        reached = set().union(*(_reached_substitutions(u, h) for h in group))
        overlapping = [m for m in merged if m[0] & reached]
        for m in overlapping:
            merged.remove(m)
            reached |= m[0]
            group = m[1] + group
        merged.append((reached, group))
    return [g for _, g in merged]


def _independent_ancestors(h: Hyperparameter):
    if isinstance(h, Dependent):
        for parent in h.parents.values():
            yield from _independent_ancestors(parent)
    else:
        yield h


def _check_new_substitutions(u: Unfolding, start: int, outside: frozenset) -> None:
    for module in u._graph.modules[start:]:
        if module.kind != "substitution":
            continue
        for h in module.hyperparameters.values():
            for a in _independent_ancestors(h):
                if a._key in outside and a not in u._graph.values:
                    raise _Interaction(a._key)


def _absorb(groups: list[list], plain: list, key: Any, group: list):
    """Merge the group holding `key` (or the plain hyperparameter `key`) into `group`."""
    rest = [g for g in groups if g is not group]
    for g in rest:
        if any(h._key == key for h in g):
            rest.remove(g)
            return rest + [group + g], plain
    moved = [h for h in plain if h._key == key]
    return rest + [group + moved], [h for h in plain if h._key != key]


def _first_overlap(revealed: list[frozenset]):
    for i, j in itertools.combinations(range(len(revealed)), 2):
        if revealed[i] & revealed[j]:
            return i, j
    return None
