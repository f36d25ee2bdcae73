"""Exact counting of the architectures in a search space, without enumerating them.

The pending hyperparameters of a state split into groups: a hyperparameter
that only feeds basic modules multiplies the count by its domain size; the
ones that feed the same substitution modules (directly or through dependent
hyperparameters) form a group whose value combinations are explored one by
one, each counting what it reveals recursively. Groups are assumed
independent and merged when exploration proves otherwise: a revealed
substitution uses a hyperparameter pending elsewhere, or two groups reveal
the same hyperparameter.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from da_bridge.hyperparameters import Dependent, Hyperparameter
from da_bridge.space import SearchSpace, Unfolding


class _Interaction(Exception):  # noqa: N818 - internal control flow, never escapes
    def __init__(self, key: Any) -> None:
        self.key = key


def count_space(space: SearchSpace) -> float:
    """The number of distinct full assignments of `space` (`math.inf` if continuous)."""
    return _Counter(space).count({}, None, frozenset())[0]


class _Counter:
    def __init__(self, space: SearchSpace) -> None:
        self.space = space

    def state(self, prefix: dict[str, Any]) -> Unfolding:
        u = self.space.unfold()
        for path, value in prefix.items():
            u.assign_path(path, value)
        return u

    def count(self, prefix: dict, focus: frozenset | None, outside: frozenset,
              u: Unfolding | None = None):
        """Count completions of the pending hyperparameters in `focus` (all if None).

        `u` is the state `prefix` leads to, when the caller has it already.
        """
        u = self.state(prefix) if u is None else u
        pending = [h.hyperparameter for h in u.pending()]
        if focus is not None:
            pending = [h for h in pending if h._key in focus]
        plain = [h for h in pending if not _structural(u, h)]
        groups = [[h] for h in pending if _structural(u, h)]
        groups = _merge_shared(u, groups)
        level_keys = frozenset(h._key for h in pending)
        while True:
            try:
                counts, revealed = self._explore_groups(u, prefix, groups, outside, level_keys)
            except _Interaction as exc:
                if exc.key not in level_keys:
                    raise
                groups, plain = _absorb(groups, plain, exc.key, exc.group)
                continue
            clash = _first_overlap(revealed)
            if clash is None:
                break
            i, j = clash
            groups = [g for k, g in enumerate(groups) if k not in (i, j)] + [groups[i] + groups[j]]
        total = math.prod(h.size() for h in plain) * math.prod(counts)
        return total, frozenset().union(*revealed) if revealed else frozenset()

    def _explore_groups(self, u, prefix, groups, outside, level_keys):
        counts, revealed = [], []
        for group in groups:
            others = outside | (level_keys - {h._key for h in group})
            try:
                count, keys = self._explore(u, prefix, group, others)
            except _Interaction as exc:
                exc.group = group
                raise
            counts.append(count)
            revealed.append(keys)
        return counts, revealed

    def _explore(self, u: Unfolding, prefix: dict, group: list, outside: frozenset):
        if any(h.size() == math.inf for h in group):
            return math.inf, frozenset()
        paths = [u.path_of(h) for h in group]
        before_keys = {h.hyperparameter._key for h in u.pending()}
        n_modules = len(u._graph.modules)
        total, revealed = 0, set()
        for combo in itertools.product(*(h.enumerate() for h in group)):
            new_prefix = {**prefix, **dict(zip(paths, combo))}
            child = self.state(new_prefix)
            _check_new_substitutions(child, n_modules, outside)
            new = frozenset(h.hyperparameter._key for h in child.pending()) - before_keys
            count, keys = self.count(new_prefix, new, outside | (before_keys - {
                h._key for h in group}), child)
            total += count
            revealed |= new | keys
        return total, frozenset(revealed)


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
