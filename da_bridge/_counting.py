"""Count the architectures of a search space without enumerating them.

The count is the number of distinct full assignments of the live hyperparameters.
It is computed on the space's own unfolding machinery, one node at a time:

- A node is a set of pending hyperparameters (the frontier of an instance, or of
  the fragments some substitutions revealed). Plain ones (no substitution reads
  them) multiply their sizes. Structural ones are grouped by the substitution
  modules they feed; a group's value combinations add up, each weighted by the
  count of what it reveals.
- What a combination reveals is built in a small *local* instance holding only
  the fragments of the substitutions it fires, with every value known so far
  visible, never by rebuilding the whole space: counting is linear in the size of
  the space when its choices are independent (a chain of 1,000 optional blocks).
- A hyperparameter that a revealed fragment reads while it is still pending
  outside the group (a shared structural choice, such as one `h_swap` for every
  cell) is *conditioned on*: the node is counted once per value of it, with the
  value fixed everywhere below, which keeps the other groups independent.
- Two groups that reveal the same new hyperparameter are merged.

Rejected combinations (`InvalidArchitectureError`) count zero. The work is bounded
by `max_states` local instances; past it, `SpaceTooLargeError` names the largest
joint choice.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from da_bridge._graph import Graph, check_fragment, run_substitution
from da_bridge.errors import (
    InvalidArchitectureError,
    SpaceTooLargeError,
)
from da_bridge.hyperparameters import Dependent, Hyperparameter
from da_bridge.modules import Module

#: Local instances counting may build before it gives up.
MAX_STATES = 50_000


_ABSENT = object()  # in `fixed`: count only what never reveals this hyperparameter


class _Condition(Exception):  # noqa: N818 - control flow inside this module
    def __init__(self, h: Hyperparameter) -> None:
        self.h = h


class _Continuous(Exception):  # noqa: N818 - control flow inside this module
    pass


def count(space: Any, *, max_states: int = MAX_STATES) -> int | float:
    """The number of distinct full assignments of `space` (`math.inf` if continuous).

    Raises:
        SpaceTooLargeError: counting needs more than `max_states` local instances.
    """
    graph = Graph()
    graph.build(space.build_fn)
    counter = _Counter(space, max_states)
    try:
        return counter.node(graph, {}, _Outside())[0]
    except _Continuous:
        return math.inf


class _Outside:
    """The hyperparameters pending above a node: one frozenset per level, linked upwards.

    A child node adds its own pending hyperparameters as a new level instead of copying
    the union, so a node with thousands of pending hyperparameters does not make each of
    its thousands of children copy them (that copy made counting a chain quadratic).
    """

    __slots__ = ("level", "parent")

    def __init__(self, level: frozenset = frozenset(), parent: _Outside | None = None) -> None:
        self.level, self.parent = level, parent

    def __contains__(self, h: object) -> bool:
        node: _Outside | None = self
        while node is not None:
            if h in node.level:
                return True
            node = node.parent
        return False

    def with_level(self, pending: Iterable[Hyperparameter]) -> _Outside:
        return _Outside(frozenset(pending), self)


class _Counter:
    def __init__(self, space: Any, max_states: int) -> None:
        self.space, self.max_states, self.states = space, max_states, 0
        self.largest: tuple[int, list[str]] = (0, [])

    def node(self, graph: Graph, fixed: dict, outside: _Outside,
             pending: list | None = None) -> tuple[int, frozenset]:
        """Full assignments of what is pending in `graph` (or of `pending`), and every
        hyperparameter revealed below; `fixed` hyperparameters have one value each (the
        one they are conditioned on)."""
        pending = _pending(graph, {}) if pending is None else pending
        try:
            return self._node(graph, pending, fixed, outside)
        except _Condition as cond:
            if cond.h not in pending or cond.h in fixed:
                raise
            return _add([self.node(graph, {**fixed, cond.h: value}, outside, pending)
                         for value in _values(cond.h)])

    def _node(self, graph: Graph, pending: list, fixed: dict, outside: _Outside
              ) -> tuple[int, frozenset]:
        structural = [h for h in pending if _substitutions(graph, h)]
        is_structural = set(structural)
        total = math.prod(1 if h in fixed else h.size() for h in pending
                          if h not in is_structural)
        groups = _merge(graph, structural)
        here = outside.with_level(pending)  # group members are excluded by their values
        results = [self._group(graph, g, fixed, here) for g in groups]
        shared = _shared(results)
        if shared is None:
            return (total * math.prod(n for n, _ in results),
                    frozenset().union(*(r for _, r in results)))
        # Groups that reveal the same new hyperparameter would count it twice: count once
        # per value of it, fixed everywhere, minus the surplus where it never appears.
        values = _values(shared)
        with_it = _add([self.node(graph, {**fixed, shared: v}, outside, pending)
                        for v in values])
        without = self.node(graph, {**fixed, shared: _ABSENT}, outside, pending)
        return (with_it[0] - (len(values) - 1) * without[0],
                with_it[1] | without[1] | {shared})

    def _group(self, graph: Graph, group: list, fixed: dict, outside: _Outside
               ) -> tuple[int, frozenset]:
        domains = [[fixed[h]] if h in fixed else _values(h) for h in group]
        size = math.prod(len(d) for d in domains)
        if size > self.largest[0]:
            self.largest = (size, [graph.paths.get(h, repr(h)) for h in group])
        if self.states + size > self.max_states:
            self._too_large()
        total, revealed = 0, set[Any]()
        known = {h: v for h, v in fixed.items() if v is not _ABSENT}
        for combo in _product(domains):
            values = {**known, **dict(zip(group, combo))}
            local = self._local(graph, values, group)
            if local is None:
                continue  # rejected
            new = []
            for h in _pending(local, values):
                if fixed.get(h, None) is _ABSENT:
                    break  # counted where it does not appear only
                if h not in outside:
                    new.append(h)
                elif _substitutions(local, h):
                    raise _Condition(h)  # a structural choice shared with the outside
                # else: a plain one pending outside too, counted there once
            else:
                n, below = self.node(local, fixed | dict(zip(group, combo)), outside, new)
                revealed.update(new)
                revealed.update(below)
                total += n
        return total, frozenset(revealed)

    def _too_large(self) -> None:
        n, paths = self.largest
        shown = ", ".join(paths[:4]) + (f" and {len(paths) - 4} more" if len(paths) > 4 else "")
        raise SpaceTooLargeError(
            f"counting {self.space!r} needs more than max_states={self.max_states} local "
            f"instances: {len(paths)} hyperparameters read together ({shown}) have {n:,} value "
            "combinations, and each must be built to see what it reveals. Pass a larger "
            "max_states, or let each substitution read fewer hyperparameters")

    def _local(self, graph: Graph, values: dict, group: list) -> Graph | None:
        """The fragments the substitutions of `graph` fire once `values` are known."""
        self.states += 1
        if self.states > self.max_states:
            self._too_large()
        overlay = _Layered(graph.values)
        overlay.update(values)
        local = Graph()
        local.values = overlay  # what the fragments assign is added on top, as values are
        try:
            for module in _ready(graph, group, overlay):
                _fire_into(local, graph, module, overlay)
            local._drain()
        except InvalidArchitectureError:
            return None
        return local


class _Layered(dict):
    """Values set here, over the values of the graph a local instance grew from.

    A dict subclass rather than a `ChainMap` of two levels: counting looks values up
    hundreds of thousands of times, and a ChainMap's lookups are Python-level `any()`
    over its maps.
    """

    __slots__ = ("parent",)

    def __init__(self, parent: Mapping) -> None:
        super().__init__()
        self.parent = parent

    def __missing__(self, key: Any) -> Any:
        return self.parent[key]

    def __contains__(self, key: object) -> bool:
        mapping: Mapping = self
        while type(mapping) is _Layered:  # a loop: nested instances do not recurse
            if dict.__contains__(mapping, key):
                return True
            mapping = mapping.parent
        return key in mapping

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else default


def _pending(graph: Graph, fixed: Mapping) -> list[Hyperparameter]:
    seen, out = set(), []
    for h in reversed(graph.stack):
        if h not in graph.values and h not in fixed and h not in seen:
            seen.add(h)
            out.append(h)
    return out


def _values(h: Hyperparameter) -> list[Any]:
    size = h.size()
    if size == math.inf:
        raise _Continuous()
    return [h.low] if size == 1 and not hasattr(h, "values") and hasattr(h, "low") \
        else h.enumerate()


def _substitutions(graph: Graph, h: Hyperparameter) -> list[Module]:
    found = [m for m in graph.users.get(h, ()) if m.kind == "substitution" and m.alive]
    for d in graph.dependents.get(h, ()):
        found += _substitutions(graph, d)
    return found


def _merge(graph: Graph, structural: list) -> list[list]:
    """Group the structural hyperparameters that feed a common substitution module.

    Groups are kept in the order they were last merged into; `owner` finds the groups a
    hyperparameter's modules belong to without scanning every group (which made a space
    with thousands of independent choices quadratic).
    """
    merged: dict[int, tuple[set[int], list]] = {}  # serial of the last merge -> group
    owner: dict[int, int] = {}  # id of a substitution module -> serial of its group
    for serial, h in enumerate(structural):
        reached = {id(m) for m in _substitutions(graph, h)}
        group = [h]
        for other in sorted({owner[m] for m in reached if m in owner}):
            other_reached, other_group = merged.pop(other)
            reached |= other_reached
            group = other_group + group
        merged[serial] = (reached, group)
        owner.update(dict.fromkeys(reached, serial))
    return [g for _, g in merged.values()]


def _add(results: list[tuple[int, frozenset]]) -> tuple[int, frozenset]:
    return sum(n for n, _ in results), frozenset().union(*(r for _, r in results))


def _shared(results: list[tuple[int, frozenset]]) -> Hyperparameter | None:
    """A hyperparameter that more than one group reveals, if any."""
    owner: dict[Any, int] = {}
    for j, (_, revealed) in enumerate(results):
        for h in revealed:
            if owner.setdefault(h, j) != j:
                return h
    return None


def _product(domains: list[list]) -> Iterable[tuple]:
    if not domains:
        yield ()
        return
    for head in domains[0]:
        for rest in _product(domains[1:]):
            yield (head, *rest)


def _value(h: Hyperparameter, values: Mapping) -> Any:
    if h in values:
        return values[h]
    if isinstance(h, Dependent):
        return h.fn({key: _value(parent, values) for key, parent in h.parents.items()})
    raise KeyError(h)


def _ready(graph: Graph, group: list, values: Mapping) -> list[Module]:
    """The group's substitution modules whose hyperparameters all have values now."""
    ready, seen = [], set()
    for module in (m for h in group for m in _substitutions(graph, h)):
        if id(module) in seen:
            continue
        seen.add(id(module))
        try:
            for h in module.hyperparameters.values():
                _value(h, values)
        except KeyError:
            continue
        ready.append(module)
    return ready


def _fire_into(local: Graph, graph: Graph, module: Module, values: Mapping) -> None:
    """Build what `module` (of `graph`) turns into, inside `local`; its used outputs become
    outputs of `local`, so what substitutions inside it reveal stays live."""
    start = len(local.modules)
    properties = {**module.fixed, **{p: _value(h, values)
                                     for p, h in module.hyperparameters.items()}}
    fragment, built = run_substitution(local, module.path, module.fn, properties)
    _, outputs = check_fragment(fragment, module.path)
    used = {name: outputs[name] for name, old in module.outputs.items()
            if name in outputs and (any(t.module.alive for t in old.targets)
                                    or old in graph.outputs.values())}
    for name, port in used.items():
        local.outputs[f"{module.path}:{name}"] = port
    local._activate(start, len(local.modules), used, built)
