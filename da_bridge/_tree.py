"""The structural tree of a space: what each structural choice reveals, and counting.

A structural choice is a hyperparameter that feeds a substitution, directly or through
dependent hyperparameters. The tree is built by replaying prefixes of assignments on fresh
instances: each node holds the plain hyperparameters live there (leaves) and the structural
choices; a choice lists, for every combination of its values, the node it reveals.
Structural hyperparameters that interact (feed the same substitution, or reveal the same
hyperparameter) form one joint choice. The Hyperopt adapter compiles the tree into nested
`hp.choice`s; `SearchSpace.count()` uses the local instances of `_counting` instead.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from da_bridge._domains import Slot, slot_of, values_of
from da_bridge.errors import InvalidArchitectureError, ReplayError, SpaceError, SpaceTooLargeError
from da_bridge.hyperparameters import Dependent, Hyperparameter
from da_bridge.space import SearchSpace, Unfolding

_Group = list[Hyperparameter]  # structural hyperparameters explored jointly

#: Fresh instances exploration may build before it gives up.
MAX_STATES = 2_000


class _ContinuousChoice(SpaceError):
    """A continuous hyperparameter decides the structure: no finite tree."""


class _Interaction(Exception):  # noqa: N818 - internal control flow, never escapes
    """A revealed substitution reads `key`, pending in another group `group` (if known)."""

    def __init__(self, key: Any, group: _Group | None = None) -> None:
        super().__init__(key)
        self.key, self.group = key, group


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



#: Modules exploration may build in all (large instances exhaust it before `max_states`).
MAX_MODULES = 50_000


class Budget:
    """Fresh instances with a prefix of assignments, at most `max_states` of them and
    `MAX_MODULES` modules built in all."""

    def __init__(self, space: SearchSpace, max_states: float) -> None:  # math.inf: no limit
        self.space, self.max_states, self.states, self.modules = space, max_states, 0, 0

    def state(self, prefix: Mapping[str, Any]) -> Unfolding:
        self.states += 1
        if self.states > self.max_states:
            raise SpaceTooLargeError(f"exploring {self.space!r} needs more than max_states="
                                f"{self.max_states} fresh instances")
        try:
            u = _unfolded_in_order(self.space, prefix)
        except ReplayError:  # a path of the prefix exists only in the order it was found in
            u = self.space.unfold()
            for path, value in prefix.items():
                u.assign_path(path, value)
        self.modules += u.n_modules()
        if self.modules > MAX_MODULES:
            raise SpaceTooLargeError(f"exploring {self.space!r} builds more than {MAX_MODULES:,} "
                                     f"modules ({self.states} instances)")
        return u


class _TreeBuilder(Budget):
    """Builds the tree of independent groups, merging groups that interact or overlap.

    The live hyperparameters of a state split into groups: one that only feeds basic
    modules is a leaf; the ones that feed the same substitution modules (directly or through
    dependent hyperparameters) form a group whose value combinations are explored one by
    one, each building what it reveals recursively. Groups are assumed independent and
    merged when exploration proves otherwise: a revealed substitution uses a hyperparameter
    pending elsewhere, or two groups reveal the same hyperparameter.
    """

    def node(self, prefix: dict[str, Any], focus: frozenset[Any] | None, outside: frozenset[Any],
             u: Unfolding | None = None) -> tuple[Node, frozenset[Any]]:
        u = u or self.state(prefix)
        pending = [h.hyperparameter for h in u.pending()]
        if focus is not None:
            pending = [h for h in pending if h.identity in focus]
        plain = [h for h in pending if not u.is_structural(h)]
        groups = _merge_shared(u, [[h] for h in pending if u.is_structural(h)])
        level = frozenset(h.identity for h in pending)
        while True:
            try:
                choices, revealed = self._choices(u, prefix, groups, outside, level)
            except _Interaction as exc:
                if exc.key not in level:
                    raise
                # _choices re-raises every _Interaction with the group it came from
                groups, plain = _absorb(groups, plain, exc.key, cast(_Group, exc.group))
                continue
            clash = _first_overlap(revealed)
            if clash is None:
                break
            i, j = clash
            groups = [g for k, g in enumerate(groups) if k not in (i, j)] + [groups[i] + groups[j]]
        return _simplify(u, plain, choices), frozenset().union(*revealed)

    def _choices(self, u: Unfolding, prefix: dict[str, Any], groups: list[_Group],
                 outside: frozenset[Any], level: frozenset[Any],
                 ) -> tuple[list[Choice], list[frozenset[Any]]]:
        choices: list[Choice] = []
        revealed: list[frozenset[Any]] = []
        for group in groups:
            try:
                choice, keys = self._choice(u, prefix, group, outside | (level - _keys(group)))
            except _Interaction as exc:  # the level that owns the key merges the two groups
                raise _Interaction(exc.key, group) from None
            choices.append(choice)
            revealed.append(keys)
        return choices, revealed

    def _choice(self, u: Unfolding, prefix: dict[str, Any], group: _Group,
                outside: frozenset[Any]) -> tuple[Choice, frozenset[Any]]:
        paths = [cast(str, u.path_of(h)) for h in group]  # pending in u, so live: a path
        for h, path in zip(group, paths):
            if h.size() == math.inf:
                raise _ContinuousChoice(f"{path!r} decides the structure but is continuous "
                                        f"({h!r}); exploration needs finite structural "
                                        "choices")
        before = frozenset(h.hyperparameter.identity for h in u.pending())
        n_modules = u.n_modules()
        domains = [values_of(h) for h in group]
        size = math.prod(len(d) for d in domains)
        if self.states + size > self.max_states:  # fail now, not after building most of them
            raise SpaceTooLargeError(
                f"exploring {self.space!r} needs more than max_states={self.max_states} fresh "
                f"instances: {len(group)} hyperparameters read together ({', '.join(paths[:4])}"
                f"{'...' if len(paths) > 4 else ''}) have {size:,} value combinations")
        branches, revealed = [], set[Any]()
        for indices in itertools.product(*(range(len(d)) for d in domains)):
            child_prefix = {**prefix, **{p: d[i] for p, d, i in zip(paths, domains, indices)}}
            try:
                child = self.state(child_prefix)
            except InvalidArchitectureError:
                continue  # the space rejects this combination: no branch for it
            _check_new_substitutions(child, n_modules, outside)
            new = frozenset(h.hyperparameter.identity for h in child.pending()) - before
            node, keys = self.node(child_prefix, new, outside | (before - _keys(group)), child)
            branches.append(Branch(indices, node))
            revealed |= new | keys
        slots_ = tuple(slot_of(u, h) for h in group)
        return Choice(slots_, tuple(branches)), frozenset(revealed)


def _simplify(u: Unfolding, plain: _Group, choices: list[Choice]) -> Node:
    """A one-hyperparameter choice that reveals nothing in any branch is a plain leaf."""
    leaves = [slot_of(u, h) for h in plain]
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


def _keys(group: _Group) -> frozenset[Any]:
    return frozenset(h.identity for h in group)


def _merge_shared(u: Unfolding, groups: list[_Group]) -> list[_Group]:
    """Union the groups whose hyperparameters feed a common substitution module."""
    merged: list[tuple[set[int], _Group]] = []
    for group in groups:
        reached = set().union(*(u.substitutions_fed_by(h) for h in group))
        overlapping = [m for m in merged if m[0] & reached]
        for m in overlapping:
            merged.remove(m)
            reached |= m[0]
            group = m[1] + group
        merged.append((reached, group))
    return [g for _, g in merged]


def independent_ancestors(h: Hyperparameter) -> Iterator[Hyperparameter]:
    """The independent hyperparameters a (dependent) hyperparameter's value comes from."""
    if isinstance(h, Dependent):
        for parent in h.parents.values():
            yield from independent_ancestors(parent)
    else:
        yield h


def _check_new_substitutions(u: Unfolding, start: int, outside: frozenset[Any]) -> None:
    for module in u.substitutions_since(start):
        for h in module.hyperparameters.values():
            for a in independent_ancestors(h):
                if a.identity in outside and not u.is_assigned(a):
                    raise _Interaction(a.identity)


def _absorb(groups: list[_Group], plain: _Group, key: Any,
            group: _Group) -> tuple[list[_Group], _Group]:
    """Merge the group holding `key` (or the plain hyperparameter `key`) into `group`."""
    rest = [g for g in groups if g is not group]
    for g in rest:
        if any(h.identity == key for h in g):
            rest.remove(g)
            return rest + [group + g], plain
    moved = [h for h in plain if h.identity == key]
    return rest + [group + moved], [h for h in plain if h.identity != key]


def _first_overlap(revealed: list[frozenset[Any]]) -> tuple[int, int] | None:
    for i, j in itertools.combinations(range(len(revealed)), 2):
        if revealed[i] & revealed[j]:
            return i, j
    return None


def _unfolded_in_order(space: SearchSpace, prefix: Mapping[str, Any]) -> Unfolding:
    """`space` with the values of `prefix` assigned in unfolding order, as `next()` asks.

    Order matters for names: a hyperparameter shared by two branches is named after the
    module that uses it first, so assigning a later branch first would name it differently
    from every other unfolding of the same architecture. Prefix values that `next()` does
    not ask for yet (it waits on a hyperparameter outside the prefix) go in pending order.
    """
    u, remaining = space.unfold(), dict(prefix)
    while remaining:
        h = u.next()
        if h is not None and h.name in remaining:
            u.assign(remaining.pop(h.name))
            continue
        name = next((p.name for p in u.pending() if p.name in remaining), None)
        if name is None:
            raise ReplayError(f"{sorted(remaining)[:3]} are not live hyperparameters of "
                              f"{space!r} with the values assigned before them")
        u.assign_path(name, remaining.pop(name))
    return u
