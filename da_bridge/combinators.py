"""Combinators: search spaces from search spaces, by plain function calls.

Each combinator with a choice is a substitution module, so what it builds
exists only once the choice has a value. Arguments follow DeepArchitect: the
fragment thunk(s) first, then the controlling hyperparameter; a plain value in
place of a hyperparameter fixes the choice. What a combinator builds is named
under its module's path: `repeat/0/conv.filters`, `or/svc/svc.C`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from da_bridge._paths import scope
from da_bridge.errors import SpaceError
from da_bridge.modules import Fragment, FragmentFn, Input, Output, identity, substitution

_Ports = TypeVar("_Ports", bound=Mapping[str, Any])

Choice = Any  # a Hyperparameter, or a plain value that fixes the choice


def siso_sequential(fragments: Sequence[Fragment | FragmentFn]) -> Fragment:
    """Connect fragments in series: each `out` feeds the next fragment's `in`.

    As in DeepArchitect, only the ports between fragments must be single: the
    first fragment may have any inputs (a multi-input combine, or `None` for a
    head that continues an existing output, `(None, outputs)`), and the last
    may have any outputs; the result has the first's inputs and the last's
    outputs.

    Args:
        fragments: Fragments (or thunks that build them), first to last; none
            gives an identity.

    Example:
        >>> from da_bridge import SearchSpace
        >>> SearchSpace(lambda: siso_sequential([identity(), identity()])).count()
        1
    """
    built = [f() if callable(f) else f for f in fragments]
    if not built:
        return identity()
    for (_, prev_out), (next_in, _) in zip(built, built[1:]):
        out_port = prev_out.get("out") if type(prev_out) is dict and len(prev_out) == 1 else None
        in_port = next_in.get("in") if type(next_in) is dict and len(next_in) == 1 else None
        if type(out_port) is Output and type(in_port) is Input and in_port.source is None:
            in_port.source = out_port  # what Input.connect does, without its checks
            out_port.targets.append(in_port)
        else:  # the checks, with their errors
            out_port = _siso_ports(prev_out, "out")["out"]
            _siso_ports(next_in, "in")["in"].connect(out_port)
    return built[0][0], built[-1][1]


def siso_optional(fn: FragmentFn, h_opt: Choice, *, name: str = "optional") -> Fragment:
    """Include the fragment `fn` builds, or pass the input straight through.

    Args:
        fn: Builds the optional fragment; called only if `h_opt` takes a true value.
        h_opt: Decides inclusion (`optional.include`); a plain bool fixes it.

    Example:
        >>> from da_bridge import SearchSpace, Bool
        >>> SearchSpace(lambda: siso_optional(identity, Bool())).count()
        2
    """
    return substitution(name, lambda v: fn() if v["include"] else identity(), {"include": h_opt})


def siso_repeat(fn: FragmentFn, h_num_repeats: Choice, *, name: str = "repeat") -> Fragment:
    """`n` fresh copies of `fn()` in series; copy `i` is named under `repeat/i`.

    Example:
        >>> from da_bridge import SearchSpace, Discrete, basic
        >>> def conv():
        ...     return basic("conv", lambda v: lambda x: x, {"filters": Discrete([64, 128])})
        >>> SearchSpace(lambda: siso_repeat(conv, Discrete([1, 2]))).count()
        6
    """
    def build(values: dict[str, Any]) -> Fragment:
        n = _count_arg(values["n"], f"{name}.n")
        return siso_sequential([_scoped(str(i), fn) for i in range(n)])

    return substitution(name, build, {"n": h_num_repeats})


def siso_or(fns: Sequence[FragmentFn] | Mapping[Any, FragmentFn], h_or: Choice, *,
            name: str = "or") -> Fragment:
    """One of several single-input single-output fragments.

    Args:
        fns: A list of thunks (chosen by index) or a dict (chosen by key); the
            chosen one is named under `or/<index or key>`.
        h_or: The choice (`or.choice`).

    Example:
        >>> from da_bridge import SearchSpace, Discrete
        >>> fns = {"a": identity, "b": lambda: siso_sequential([identity(), identity()])}
        >>> SearchSpace(lambda: siso_or(fns, Discrete(["a", "b"]))).count()
        2
    """
    return mimo_or(fns, h_or, ("in",), ("out",), name=name)


def mimo_or(fns: Sequence[FragmentFn] | Mapping[Any, FragmentFn], h_or: Choice,
            inputs: Sequence[str], outputs: Sequence[str], *, name: str = "or") -> Fragment:
    """One of several fragments with the given input and output names.

    Example:
        >>> from da_bridge import SearchSpace, Discrete, basic
        >>> add = lambda: basic("add", lambda v: lambda x: {"out": x["a"] + x["b"]}, {},
        ...                     inputs=("a", "b"))
        >>> sub = lambda: basic("sub", lambda v: lambda x: {"out": x["a"] - x["b"]}, {},
        ...                     inputs=("a", "b"))
        >>> space = SearchSpace(lambda: mimo_or([add, sub], Discrete([0, 1]), ("a", "b"), ("out",)))
        >>> space.replay({"or.choice": 1}).forward({"a": 5, "b": 3})
        {'out': 2}
    """
    options = dict(fns) if isinstance(fns, Mapping) else dict(enumerate(fns))

    def build(values: dict[str, Any]) -> Fragment:
        key = values["choice"]
        if key not in options:
            raise SpaceError(f"{name}.choice is {key!r}; the options are {list(options)}")
        return _scoped(str(key), options[key])

    return substitution(name, build, {"choice": h_or}, inputs, outputs)


def siso_permutation(fns: Sequence[FragmentFn], h_perm: Choice, *,
                     name: str = "permutation") -> Fragment:
    """The fragments of `fns` in series, in the `k`-th of their `len(fns)!` orders.

    Fragment `i` is named under `permutation/i` whatever its position. The
    `k`-th order is computed directly (no list of all permutations).

    Example:
        >>> from da_bridge import SearchSpace, Int
        >>> SearchSpace(lambda: siso_permutation([identity] * 3, Int(0, 5))).count()
        6
    """
    fns = list(fns)

    def build(values: dict[str, Any]) -> Fragment:
        order = nth_permutation(len(fns), _count_arg(values["order"], f"{name}.order"))
        return siso_sequential([_scoped(str(i), fns[i]) for i in order])

    return substitution(name, build, {"order": h_perm})


def siso_split_combine(fn: FragmentFn, combine_fn: Callable[[int], Fragment],
                       h_num_splits: Choice, *, name: str = "split_combine") -> Fragment:
    """`n` parallel copies of `fn()` on the same input, merged by `combine_fn(n)`.

    `combine_fn(n)` returns a fragment with inputs `in0 .. in{n-1}` and output `out`.

    Example:
        >>> from da_bridge import SearchSpace, Discrete, basic
        >>> def add(n):
        ...     return basic("add", lambda v: lambda x: {"out": sum(x.values())}, {},
        ...                  inputs=[f"in{i}" for i in range(n)])
        >>> space = SearchSpace(lambda: siso_split_combine(identity, add, Discrete([2, 3])))
        >>> space.replay({"split_combine.n": 3}).forward({"in": 1})
        {'out': 3}
    """
    def build(values: dict[str, Any]) -> Fragment:
        n = _count_arg(values["n"], f"{name}.n", minimum=1)
        fork_in, fork_out = identity("fork")
        combine_in, combine_out = combine_fn(n)
        for i in range(n):
            branch_in, branch_out = _scoped(str(i), fn)
            fork_out["out"].connect(branch_in["in"])
            branch_out["out"].connect(combine_in[f"in{i}"])
        return fork_in, combine_out

    return substitution(name, build, {"n": h_num_splits})


def siso_residual(main_fn: FragmentFn, res_fn: FragmentFn,
                  combine_fn: Callable[[], Fragment]) -> Fragment:
    """`combine(main(x), res(x))`: a skip connection when `res_fn` is `identity`.

    `combine_fn()` returns a fragment with inputs `in0` (main) and `in1` (res).

    Example:
        >>> from da_bridge import SearchSpace, basic
        >>> add = lambda: basic("add", lambda v: lambda x: {"out": x["in0"] + x["in1"]}, {},
        ...                     inputs=("in0", "in1"))
        >>> double = lambda: basic("double", lambda v: lambda x: {"out": 2 * x["in"]})
        >>> SearchSpace(lambda: siso_residual(double, identity, add)).replay({}).forward({"in": 3})
        {'out': 9}
    """
    with scope("residual"):
        fork_in, fork_out = identity("fork")
        main_in, main_out = _scoped("main", main_fn)
        res_in, res_out = _scoped("res", res_fn)
        combine_in, combine_out = combine_fn()
        fork_out["out"].connect(main_in["in"])
        fork_out["out"].connect(res_in["in"])
        main_out["out"].connect(combine_in["in0"])
        res_out["out"].connect(combine_in["in1"])
    return fork_in, combine_out


def siso_nested_repeat(fn_first: FragmentFn,
                       fn_iter: Callable[[dict[str, Input], dict[str, Output]], Fragment],
                       h_num_repeats: Choice, *, name: str = "nested_repeat") -> Fragment:
    """`fn_first()`, then `fn_iter(inputs, outputs)` applied `n - 1` times to the result.

    Each step may wrap the fragment built so far (deeper nesting at each repeat).

    Example:
        >>> from da_bridge import SearchSpace, Discrete
        >>> def wrap(inputs, outputs):
        ...     return siso_sequential([(inputs, outputs), identity()])
        >>> space = SearchSpace(lambda: siso_nested_repeat(identity, wrap, Discrete([1, 3])))
        >>> len(space.replay({"nested_repeat.n": 3}).modules)
        3
    """
    def build(values: dict[str, Any]) -> Fragment:
        n = _count_arg(values["n"], f"{name}.n", minimum=1)
        fragment = _scoped("0", fn_first)
        for i in range(1, n):
            fragment = _scoped(str(i), functools.partial(fn_iter, *fragment))
        return fragment

    return substitution(name, build, {"n": h_num_repeats})


def nth_permutation(n: int, k: int) -> list[int]:
    """The `k`-th permutation of `range(n)` in `itertools.permutations` order.

    Example:
        >>> nth_permutation(3, 3)
        [1, 2, 0]
    """
    if not 0 <= k < math.factorial(n):
        raise SpaceError(f"permutation index {k} is outside 0..{math.factorial(n) - 1}")
    items, order = list(range(n)), []
    for size in range(n, 0, -1):
        i, k = divmod(k, math.factorial(size - 1))
        order.append(items.pop(i))
    return order


def _scoped(name: str, fn: Callable[[], Fragment]) -> Fragment:
    with scope(name):
        return fn()


def _count_arg(value: Any, what: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpaceError(f"{what} must be an integer >= {minimum}; got {value!r}")
    return value


def _siso_ports(ports: _Ports | None, name: str) -> _Ports:
    if ports is None or len(ports) != 1 or name not in ports:
        raise SpaceError(f"siso_sequential needs single-input single-output fragments; "
                         f"got ports {sorted(ports or ())} where {name!r} was expected")
    return ports
