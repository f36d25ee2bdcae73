"""Hypothesis strategies for random search spaces, and helpers that enumerate them.

A space is drawn as a spec, a small tree of plain tuples, and `build_space`
turns the spec into a `SearchSpace` whose build function creates fresh
hyperparameters at every call. Specs mix every combinator with hyperparameters
shared between modules, optionals and repeats (a pool created at the top of the
build function), dependent hyperparameters created inside substitutions, and
outer hyperparameters reused inside substitutions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from da_bridge import (
    Bool,
    Dependent,
    Discrete,
    Float,
    Int,
    SearchSpace,
    basic,
    siso_nested_repeat,
    siso_optional,
    siso_or,
    siso_permutation,
    siso_repeat,
    siso_residual,
    siso_sequential,
    siso_split_combine,
)

# The pool every built instance starts with: name -> (kind, factory).
# "flag" values are bools, "count" values are small ints, "value" values feed properties.
POOL = {
    "flag0": ("flag", Bool),
    "flag1": ("flag", Bool),
    "count0": ("count", lambda: Discrete([0, 1, 2])),
    "count1": ("count", lambda: Int(1, 2)),
    "value0": ("value", lambda: Discrete([10, 20, 30])),
    "value1": ("value", lambda: Discrete(["a", "b"])),
}
_BY_KIND = {kind: [name for name, (k, _) in POOL.items() if k == kind]
            for kind in ("flag", "count", "value")}

_NEW_PROPERTIES = {
    "small": lambda: Discrete([1, 2]),
    "text": lambda: Discrete(["x", "y", "z"]),
    "int": lambda: Int(0, 2),
    "bool": Bool,
    "object": lambda: Discrete([(1, 2), max, None]),
    "float": lambda: Float(0.0, 1.0),
}
FINITE_PROPERTIES = [k for k in _NEW_PROPERTIES if k != "float"]


def _properties(finite: bool) -> st.SearchStrategy:
    kinds = FINITE_PROPERTIES if finite else list(_NEW_PROPERTIES)
    prop = st.one_of(
        st.tuples(st.just("new"), st.sampled_from(kinds)),
        st.tuples(st.just("pool"), st.sampled_from(list(POOL))),
        # A dependent hyperparameter created where the module is built (maybe in a substitution).
        st.tuples(st.just("dependent"), st.sampled_from(_BY_KIND["value"] + _BY_KIND["count"])),
        st.tuples(st.just("fixed"), st.sampled_from([0, "same", None])),
    )
    return st.lists(prop, max_size=2).map(tuple)


def _control(kind: str) -> st.SearchStrategy:
    """How a combinator's hyperparameter is given: fresh, shared, dependent or fixed."""
    if kind == "flag":
        return st.one_of(st.just(("new",)), st.tuples(st.just("pool"), st.sampled_from(
            _BY_KIND["flag"])), st.tuples(st.just("fixed"), st.booleans()))
    return st.one_of(
        st.just(("new",)),
        st.tuples(st.just("pool"), st.sampled_from(_BY_KIND["count"])),
        st.tuples(st.just("dependent"), st.sampled_from(_BY_KIND["value"][:1])),
        st.tuples(st.just("fixed"), st.integers(0, 2)),
    )


def specs(max_leaves: int = 6, finite: bool = True) -> st.SearchStrategy:
    """Random space specs: nested tuples naming combinators, modules and hyperparameters."""
    leaf = st.tuples(st.just("leaf"), st.sampled_from(["conv", "dense", "conv-2"]),
                     _properties(finite))

    def extend(children: st.SearchStrategy) -> st.SearchStrategy:
        few = st.lists(children, min_size=1, max_size=3).map(tuple)
        return st.one_of(
            st.tuples(st.just("seq"), few),
            st.tuples(st.just("optional"), children, _control("flag")),
            st.tuples(st.just("repeat"), children, _control("count")),
            st.tuples(st.just("or"), few, st.booleans()),
            st.tuples(st.just("permutation"), st.lists(children, min_size=2, max_size=3)
                      .map(tuple), st.booleans()),
            st.tuples(st.just("split_combine"), children, st.booleans()),
            st.tuples(st.just("residual"), children, children),
            st.tuples(st.just("nested_repeat"), children, st.booleans()),
        )

    return st.recursive(leaf, extend, max_leaves=max_leaves)


def spaces(max_leaves: int = 6, finite: bool = True) -> st.SearchStrategy:
    """Random `SearchSpace`s (see `specs`)."""
    return specs(max_leaves, finite).map(build_space)


def build_space(spec: tuple) -> SearchSpace:
    """The search space a spec describes."""
    def build_fn():
        pool = {name: factory() for name, (_, factory) in POOL.items()}
        return _build(spec, pool)

    space = SearchSpace(build_fn)
    space.spec = spec  # shown by hypothesis when a property fails
    return space


def _build(spec: tuple, pool: dict) -> Any:
    kind = spec[0]
    if kind == "leaf":
        return _leaf(spec[1], spec[2], pool)
    if kind == "seq":
        return siso_sequential([_thunk(child, pool) for child in spec[1]])
    if kind == "optional":
        return siso_optional(_thunk(spec[1], pool), _flag(spec[2], pool))
    if kind == "repeat":
        return siso_repeat(_thunk(spec[1], pool), _count(spec[2], pool))
    if kind == "or":
        fns = [_thunk(child, pool) for child in spec[1]]
        keys = [f"k{i}" for i in range(len(fns))]
        if spec[2]:
            return siso_or(dict(zip(keys, fns)), Discrete(keys))
        return siso_or(fns, Int(0, len(fns) - 1))
    if kind == "permutation":
        fns = [_thunk(child, pool) for child in spec[1]]
        h_perm = Int(0, math.factorial(len(fns)) - 1) if spec[2] else 1
        return siso_permutation(fns, h_perm)
    if kind == "split_combine":
        return siso_split_combine(_thunk(spec[1], pool), _merge,
                                  Discrete([1, 2]) if spec[2] else 2)
    if kind == "residual":
        return siso_residual(_thunk(spec[1], pool), _thunk(spec[2], pool), lambda: _merge(2))
    if kind == "nested_repeat":
        return siso_nested_repeat(_thunk(spec[1], pool), _wrap(spec[1], pool),
                                  Discrete([1, 2]) if spec[2] else 2)
    raise AssertionError(f"unknown spec {kind!r}")


def _thunk(spec: tuple, pool: dict) -> Callable[[], Any]:
    return lambda: _build(spec, pool)


def _wrap(spec: tuple, pool: dict) -> Callable[[dict, dict], Any]:
    return lambda inputs, outputs: siso_sequential([(inputs, outputs), _build(spec, pool)])


def _leaf(name: str, properties: tuple, pool: dict) -> Any:
    values = {}
    for i, (how, what) in enumerate(properties):
        if how == "new":
            values[f"p{i}"] = _NEW_PROPERTIES[what]()
        elif how == "pool":
            values[f"p{i}"] = pool[what]
        elif how == "dependent":
            values[f"p{i}"] = Dependent(lambda v: repr(v["x"]) * 2, {"x": pool[what]})
        else:
            values[f"p{i}"] = what
    return basic(name, _describe(name), values)


def _describe(name: str) -> Callable:
    def compile_fn(values: dict) -> Callable:
        label = f"{name}{sorted(values.items(), key=repr)!r}"
        return lambda inputs: {"out": f"{label}({inputs['in']})"}

    return compile_fn


def _merge(n: int) -> Any:
    def compile_fn(values: dict) -> Callable:
        return lambda inputs: {"out": "+".join(inputs[f"in{i}"] for i in range(n))}

    return basic("merge", compile_fn, {}, inputs=[f"in{i}" for i in range(n)])


def _flag(control: tuple, pool: dict) -> Any:
    if control[0] == "new":
        return Bool()
    return pool[control[1]] if control[0] == "pool" else control[1]


def _count(control: tuple, pool: dict) -> Any:
    if control[0] == "new":
        return Discrete([0, 1, 2])
    if control[0] == "pool":
        return pool[control[1]]
    if control[0] == "dependent":
        return Dependent(lambda v: v["x"] // 10 - 1, {"x": pool[control[1]]})
    return control[1]


# Enumeration ---------------------------------------------------------------------------------

def enumerate_values(space: SearchSpace, limit: int) -> list[dict] | None:
    """Every full values map of a finite space, by depth-first unfolding; None past `limit`."""
    found: list[dict] = []

    def visit(prefix: dict) -> bool:
        u = space.unfold(prefix)
        h = u.next()
        if h is None:
            found.append(u.values)
            return len(found) <= limit
        return all(visit({**prefix, h.name: value}) for value in h.enumerate())

    return found if visit({}) else None


def frozen(values: dict) -> frozenset:
    """A hashable form of a values map."""
    return frozenset((path, repr(value)) for path, value in values.items())


def op(name: str, **hyperparameters: Any) -> Any:
    """A pass-through basic module with the given properties: the tests' generic layer."""
    return basic(name, lambda v: lambda x: {"out": x["in"]}, hyperparameters)
