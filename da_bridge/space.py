"""Search spaces: build functions that unfold lazily, one choice at a time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from da_bridge import _counting
from da_bridge._graph import Graph
from da_bridge._rng import Seed, as_random
from da_bridge.architecture import Architecture
from da_bridge.errors import (
    AssignmentError,
    DomainError,
    InvalidArchitectureError,
    NoValidArchitectureError,
    ReplayError,
    SpaceError,
)
from da_bridge.hyperparameters import Hyperparameter
from da_bridge.modules import Fragment, Module

#: Local instances `count()` may build (see `da_bridge._counting`).
MAX_COUNT_STATES = 50_000
#: Rejected draws in a row after which sampling gives up.
MAX_REJECTIONS = 1000


def draw_valid(space: SearchSpace, step: Callable[[Unfolding], None], *,
               max_rejections: int = MAX_REJECTIONS) -> Architecture:
    """Unfold `space` with `step(u)` (assigns `u.next()`) until an architecture is accepted.

    Each rejected attempt (`InvalidArchitectureError`) starts a fresh instance.

    Raises:
        NoValidArchitectureError: `max_rejections` attempts in a row were rejected.
    """
    last: InvalidArchitectureError | None = None
    for _ in range(max(1, max_rejections)):
        try:
            u = space.unfold()
            while not u.is_specified():
                step(u)
            return u.architecture()
        except InvalidArchitectureError as exc:
            last = exc
    raise NoValidArchitectureError(
        f"{space!r}: all {max_rejections} draws were rejected; the last one because: {last}. "
        "Relax the constraint or raise max_rejections") from last


class NamedHyperparameter:
    """A live, unassigned hyperparameter of an instance, with its path name.

    It reads like the hyperparameter it wraps: `.values` for `Discrete`,
    `.low`, `.high`, `.step`, `.log` for `Int` and `Float`.
    """

    __slots__ = ("name", "hyperparameter")

    def __init__(self, name: str, hyperparameter: Hyperparameter) -> None:
        self.name, self.hyperparameter = name, hyperparameter

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__") or attribute == "hyperparameter":  # unset: copy, pickle
            raise AttributeError(attribute)
        return getattr(self.hyperparameter, attribute)

    def __repr__(self) -> str:
        return f"<{self.name}: {self.hyperparameter!r}>"


class Unfolding:
    """One instance of a search space on its way to a full architecture.

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> u = poster_space().unfold()
        >>> u.next().name
        'conv.filters'
        >>> u.assign(64)
        >>> u.next().name
        'optional.include'
    """

    def __init__(self, graph: Graph) -> None:
        self._graph = graph

    def next(self) -> NamedHyperparameter | None:
        """The next live, unassigned independent hyperparameter, or None when done.

        Order: depth first. The hyperparameters of a fragment come in the order
        their modules were created; what an assignment reveals comes right after
        it; what a substitution with fixed values reveals on its own comes after
        the rest of the fragment that built it.
        """
        h = self._graph.next()
        return None if h is None else NamedHyperparameter(self._graph.paths[h], h)

    def assign(self, value: Any) -> None:
        """Give the hyperparameter `next()` returns a value; may reveal new ones."""
        h = self._graph.next()
        if h is None:
            raise AssignmentError("the instance is fully specified; there is nothing to assign")
        self._graph.assign(h, value)

    def _assign_all(self, value_of: Callable[[str, Hyperparameter], Any]) -> None:
        """Assign `value_of(path, hyperparameter)` to each hyperparameter `next()` would
        return, in that order, until none is left (sampling's loop, without a
        `NamedHyperparameter` per value: a large space draws thousands per architecture)."""
        graph = self._graph
        while (h := graph.next()) is not None:
            graph.assign(h, value_of(graph.paths[h], h))

    def _assign_named(self, h: NamedHyperparameter, value: Any) -> None:
        """Assign the hyperparameter a `next()` call returned (`assign` without asking
        `next()` again: sampling draws thousands of values per architecture)."""
        self._graph.assign(h.hyperparameter, value)

    def assign_path(self, path: str, value: Any) -> None:
        """Assign any live, unassigned hyperparameter by path, not only `next()`."""
        h = self._graph.namespace.hyperparameters.get(path)
        if h is None:
            raise ReplayError(f"{path!r} is not a hyperparameter of this instance")
        self._graph.assign(h, value)

    @property
    def values(self) -> dict[str, Any]:
        """`{path: value}` assigned so far, in order."""
        return dict(self._graph.assigned)

    def pending(self) -> list[NamedHyperparameter]:
        """Every live unassigned hyperparameter, `next()` first."""
        graph, seen, out = self._graph, set(), []
        for h in reversed(graph.stack):
            if h not in graph.values and h not in seen:
                seen.add(h)
                out.append(NamedHyperparameter(graph.paths[h], h))
        return out

    def is_specified(self) -> bool:
        return self._graph.next() is None

    def modules(self) -> list[Module]:
        """The live modules, basic and not yet substituted, in creation order."""
        return self._graph.live_modules()

    def path_of(self, hyperparameter: Hyperparameter) -> str | None:
        """The path of a hyperparameter in this instance (None if not live)."""
        return self._graph.paths.get(hyperparameter)

    def value_of(self, hyperparameter: Hyperparameter) -> Any:
        """The value of a hyperparameter, dependent ones included; KeyError if none yet."""
        return self._graph.values[hyperparameter]

    def architecture(self) -> Architecture:
        """The fully specified architecture; `UnspecifiedError` before that."""
        return Architecture(self._graph)

    # What exploration (counting, the flat encodings) asks of an instance's structure.

    def is_assigned(self, hyperparameter: Hyperparameter) -> bool:
        """Whether a hyperparameter (dependent ones included) has its value yet."""
        return hyperparameter in self._graph.values

    def n_modules(self) -> int:
        """How many modules this instance has created so far (substituted ones included)."""
        return len(self._graph.modules)

    def substitutions_since(self, start: int) -> list[Module]:
        """The substitution modules created after the first `start` modules, in order."""
        return [m for m in self._graph.modules[start:] if m.kind == "substitution"]

    def substitutions_fed_by(self, hyperparameter: Hyperparameter) -> set[int]:
        """The live substitution modules (by creation index) that wait on `hyperparameter`,
        directly or through dependent hyperparameters."""
        graph = self._graph
        found = {m.index for m in graph.users.get(hyperparameter, ())
                 if m.kind == "substitution" and m.alive}
        for dependent in graph.dependents.get(hyperparameter, ()):
            found |= self.substitutions_fed_by(dependent)
        return found

    def is_structural(self, hyperparameter: Hyperparameter) -> bool:
        """Whether choosing `hyperparameter` can change the graph (it feeds a substitution)."""
        return bool(self.substitutions_fed_by(hyperparameter))


class SearchSpace:
    """A search space: a function that builds a fresh fragment, unfolded on demand.

    Args:
        build_fn: Returns an `(inputs, outputs)` fragment; called once per instance,
            so every instance has its own modules and values.

    Example:
        >>> from da_bridge import Discrete, siso_optional, siso_sequential, basic
        >>> def dense(units):
        ...     return basic("dense", lambda v: lambda x: {"out": x["in"]}, {"units": units})
        >>> space = SearchSpace(lambda: siso_sequential([
        ...     dense(Discrete([8, 16])),
        ...     siso_optional(lambda: dense(Discrete([4, 8])), Discrete([False, True]))]))
        >>> space.count()
        6
        >>> space.replay({"dense.units": 8, "optional.include": True,
        ...               "optional/dense.units": 4}).values["optional/dense.units"]
        4
    """

    def __init__(self, build_fn: Callable[[], Fragment]) -> None:
        if not callable(build_fn):
            raise SpaceError(f"SearchSpace needs a build function; got {build_fn!r}")
        self.build_fn = build_fn

    def __repr__(self) -> str:
        return f"SearchSpace({getattr(self.build_fn, '__qualname__', self.build_fn)!r})"

    def unfold(self, partial: Mapping[str, Any] | None = None) -> Unfolding:
        """A fresh instance; with `partial`, its values are assigned while they match `next()`."""
        graph = Graph()
        graph.build(self.build_fn)
        u = Unfolding(graph)
        if partial:
            while (h := u.next()) is not None and h.name in partial:
                u.assign(h.decode(partial[h.name], h.name))
        return u

    def replay(self, values: Mapping[str, Any], *, strict: bool = True) -> Architecture:
        """Rebuild the architecture a values map (plain or JSON form) identifies.

        Args:
            values: `{path: value}`.
            strict: Raise on names that are not live in the result; with False they
                are ignored (a flat map that also holds inactive choices).

        Raises:
            ReplayError: a live hyperparameter is missing, or (strict) a name is unknown.
            DomainError: a value is outside its hyperparameter's domain.
        """
        if not isinstance(values, Mapping):
            raise ReplayError(
                f"replay needs a {{path: value}} mapping; got {type(values).__name__}")
        u = self._specified(lambda h: _value_in(values, h))
        unknown = sorted(set(values) - set(u.values), key=repr)  # keys may be of any type
        if strict and unknown:
            raise ReplayError(f"{unknown[:5]} are not live hyperparameters of this architecture "
                              f"(live: {list(u.values)[:8]})")
        return u.architecture()

    def sample(self, rng: Seed | None = None, *,
               keep: Mapping[str, Any] | None = None,
               max_rejections: int = MAX_REJECTIONS) -> Architecture:
        """A random architecture: every exposed hyperparameter drawn uniformly.

        An architecture the space rejects (a substitution raised
        `InvalidArchitectureError`) is drawn again, from the same `rng`.

        Args:
            rng: An int seed, `random.Random` or numpy Generator.
            keep: A values map (plain or JSON form) whose values are kept wherever their
                path is live and the value is in its domain there; the rest is drawn. This
                is how a searcher varies an architecture: change some values, keep the
                others, and draw what the change reveals.
            max_rejections: Rejected draws in a row before giving up.

        Raises:
            NoValidArchitectureError: `max_rejections` draws in a row were rejected.

        Example:
            >>> from da_bridge.spaces.examples import poster_space
            >>> space = poster_space()
            >>> arch = space.sample(0, keep={"conv.filters": 128, "optional.include": False})
            >>> arch.values["conv.filters"], arch.values["optional.include"]
            (128, False)
        """
        rng = as_random(rng)

        def kept_or_drawn(path: str, h: Hyperparameter) -> Any:
            if keep and path in keep:
                try:
                    return h.decode(keep[path], path)
                except DomainError:  # the same path with another domain in this structure
                    pass
            return h.sample(rng)

        return draw_valid(self, lambda u: u._assign_all(kept_or_drawn),
                          max_rejections=max_rejections)

    def specify(self, choose: Callable[[NamedHyperparameter], Any]) -> Architecture:
        """The architecture whose every exposed hyperparameter gets `choose(h)`, in order.

        `choose` sees each live hyperparameter once, after the values that revealed it:
        the one loop every searcher needs (Optuna's `suggest_*`, a tree search's choice, a
        mutation's draw).

        Example:
            >>> from da_bridge.spaces.examples import poster_space
            >>> arch = poster_space().specify(lambda h: h.enumerate()[0])
            >>> arch.values["conv.filters"], arch.values["optional.include"]
            (64, False)
        """
        return self._specified(choose).architecture()

    def live(self, values: Mapping[str, Any]) -> list[tuple[NamedHyperparameter, Any]]:
        """The live hyperparameters of the architecture `values` identifies, with their values.

        In unfolding order; values are decoded (JSON form accepted); names of `values` that
        are not live are ignored. Raises `ReplayError` for a missing live name and
        `DomainError` for a value outside its domain.

        Example:
            >>> from da_bridge.spaces.examples import poster_space
            >>> space = poster_space()
            >>> arch = space.sample(1)
            >>> [h.name for h, _ in space.live(arch.values)] == list(arch.values)
            True
        """
        out: list[tuple[NamedHyperparameter, Any]] = []

        def record(h: NamedHyperparameter) -> Any:
            value = _value_in(values, h)
            out.append((h, value))
            return value

        self._specified(record)
        return out

    def _specified(self, choose: Callable[[NamedHyperparameter], Any]) -> Unfolding:
        u = self.unfold()
        while (h := u.next()) is not None:
            u._assign_named(h, choose(h))
        return u

    def rejection(self, values: Mapping[str, Any]) -> str | None:
        """Why the space rejects a values map (`InvalidArchitectureError`), or None."""
        try:
            self.replay(values, strict=False)
        except InvalidArchitectureError as exc:
            return str(exc)
        return None

    def count(self, *, max_states: int = MAX_COUNT_STATES) -> int | float:
        """The exact number of distinct architectures; `math.inf` if continuous.

        Independent parts are counted apart and multiplied, each from a small local
        instance of what its choices reveal (linear in the size of the space when
        choices are independent); a structural choice shared by several parts is
        conditioned on; only the hyperparameters that one substitution reads
        together are enumerated jointly. Architectures the space rejects
        (`InvalidArchitectureError`) are not counted.

        Raises:
            SpaceTooLargeError: counting needs more than `max_states` local
                instances (a substitution reading many hyperparameters at once);
                the message names the largest joint choice and its size.
        """
        return _counting.count(self, max_states=max_states)


def _value_in(values: Mapping[str, Any], h: NamedHyperparameter) -> Any:
    """The decoded value `values` holds for `h`, or a ReplayError naming `h` and its domain."""
    if h.name not in values:
        raise ReplayError(f"{h.name!r} has no value; allowed: {h.hyperparameter!r}")
    return h.decode(values[h.name], h.name)
