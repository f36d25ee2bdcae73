"""Modules and ports: the nodes and edges of a search space.

A fragment is a pair `(inputs, outputs)` of dicts port name -> port, as in
DeepArchitect. A basic module computes something once its hyperparameters
have values; a substitution module replaces itself with the fragment its
function returns once its hyperparameters have values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from da_bridge import _paths
from da_bridge.errors import SpaceError
from da_bridge.hyperparameters import Hyperparameter

if TYPE_CHECKING:
    from da_bridge._graph import Graph

ForwardFn = Callable[[dict[str, Any]], dict[str, Any]]
CompileFn = Callable[[dict[str, Any]], ForwardFn]
Fragment = tuple[dict[str, "Input"], dict[str, "Output"]]
FragmentFn = Callable[[], Fragment]
SubstitutionFn = Callable[[dict[str, Any]], Fragment]


#: The properties of a module without any (both `hyperparameters` and `fixed`): most modules
#: of a network have none, and one shared dict saves two allocations per module. Nothing
#: writes to a module's property dicts after it is built.
_NO_PROPERTIES: dict[str, Any] = {}


class Input:
    """An input port; fed by at most one output.

    `val` holds the value the last `Architecture.forward(..., keep_values=True)`
    passed through it (DeepArchitect's `.val`).
    """

    __slots__ = ("module", "name", "source", "val")

    def __init__(self, module: Module, name: str) -> None:
        self.module, self.name = module, name
        self.source: Output | None = None
        self.val: Any = None

    def __repr__(self) -> str:
        return f"<Input {self.module.path}:{self.name}>"

    def connect(self, output: Output) -> None:
        """Feed this input from `output`."""
        if not isinstance(output, Output):
            raise SpaceError(f"{self!r} can only connect to an Output; got {output!r}")
        if self.source is not None:
            raise SpaceError(f"{self!r} is already connected to {self.source!r}")
        self.source = output
        output.targets.append(self)


class Output:
    """An output port; may feed many inputs. `val`: as for `Input`."""

    __slots__ = ("module", "name", "targets", "val")

    def __init__(self, module: Module, name: str) -> None:
        self.module, self.name = module, name
        self.targets: list[Input] = []
        self.val: Any = None

    def __repr__(self) -> str:
        return f"<Output {self.module.path}:{self.name}>"

    def connect(self, input: Input) -> None:  # noqa: A002 - DeepArchitect's vocabulary
        """Feed `input` from this output."""
        if not isinstance(input, Input):
            raise SpaceError(f"{self!r} can only connect to an Input; got {input!r}")
        input.connect(self)


class Module:
    """A node of a search-space instance. Built by `basic` and `substitution`."""

    __slots__ = ("kind", "name", "path", "index", "hyperparameters", "fixed", "inputs",
                 "outputs", "fn", "graph", "pending", "alive", "owner")

    def __init__(self, kind: str, name: str, fn: Callable[..., Any],
                 hyperparameters: Mapping[str, Any], inputs: Sequence[str],
                 outputs: Sequence[str]) -> None:
        # Every module of every architecture passes through here: the checks are inlined,
        # and the helpers that raise are called only when a check fails.
        if type(name) is not str or not name or "/" in name:
            _paths.check_segment(name, what="module name")
        if not callable(fn):
            raise SpaceError(f"module {name!r} needs a callable; got {fn!r}")
        ctx = _paths.CURRENT.get() or _paths.current()
        self.kind, self.name, self.fn = kind, name, fn
        self.path = path = ctx.namespace.claim_module(ctx.scope, name)
        if hyperparameters or type(hyperparameters) is not dict:
            self.hyperparameters, self.fixed = _split_properties(path, hyperparameters)
        else:  # no properties, the common case (relu, identity): skip the checks, share
            self.hyperparameters = self.fixed = _NO_PROPERTIES  # one empty dict, never mutated
        if inputs == ("in",) and outputs == ("out",):  # single-input single-output: most modules
            self.inputs, self.outputs = {"in": Input(self, "in")}, {"out": Output(self, "out")}
        else:
            self.inputs = {n: Input(self, n) for n in _port_names(path, inputs, "input")}
            self.outputs = {n: Output(self, n) for n in _port_names(path, outputs, "output")}
        self.graph: Graph = ctx.instance
        self.pending, self.alive = 0, True
        self.owner: Any = None  # the object that built it, e.g. a da_bridge.compat Module
        modules = ctx.instance.modules
        self.index = len(modules)  # creation order, unique in the instance
        modules.append(self)

    def __repr__(self) -> str:
        return f"<{self.kind} module {self.path}>"

    @property
    def values(self) -> dict[str, Any]:
        """Property name -> value for the properties that have one."""
        known = {p: self.graph.values[h] for p, h in self.hyperparameters.items()
                 if h in self.graph.values}
        return {**self.fixed, **known}

    def fragment(self) -> Fragment:
        return self.inputs.copy(), self.outputs.copy()


def basic(name: str, compile_fn: CompileFn, hyperparameters: Mapping[str, Any] | None = None,
          inputs: Sequence[str] = ("in",), outputs: Sequence[str] = ("out",), *,
          scope: str | None = None) -> Fragment:
    """A module that computes: `compile_fn(values)` returns `forward(inputs) -> outputs`.

    Args:
        name: The module's name; its path is the current scope plus this name.
        compile_fn: Called once per architecture with `{property: value}`.
        hyperparameters: `{property: Hyperparameter or fixed value}`.
        inputs: Input port names.
        outputs: Output port names.
        scope: Put the module under this extra scope segment (`scope/name`);
            None keeps the current scope.

    Example:
        >>> from da_bridge import SearchSpace, Discrete
        >>> def scale():
        ...     return basic("scale", lambda v: lambda x: {"out": x["in"] * v["k"]},
        ...                  {"k": Discrete([2, 3])})
        >>> SearchSpace(scale).replay({"scale.k": 3}).forward({"in": 5})
        {'out': 15}
    """
    if scope is None:
        m = Module("basic", name, compile_fn, hyperparameters or {}, inputs, outputs)
        return m.inputs.copy(), m.outputs.copy()
    return _scoped_module("basic", name, compile_fn, hyperparameters, inputs, outputs, scope)


def substitution(name: str, fn: SubstitutionFn, hyperparameters: Mapping[str, Any] | None = None,
                 inputs: Sequence[str] = ("in",), outputs: Sequence[str] = ("out",), *,
                 scope: str | None = None) -> Fragment:
    """A module that rewrites the graph: once its hyperparameters have values,
    `fn(values)` builds the fragment that takes its place.

    The fragment must have exactly the declared input and output names. What
    `fn` builds is named under this module's path. `scope` puts the module
    under an extra scope segment (DeepArchitect's `scope=` argument named the
    registry the module's name went into; here a scope is a path segment).
    `fn` may raise `InvalidArchitectureError` to reject the combination of
    values it got: sampling and searchers then draw another architecture.

    Example:
        >>> from da_bridge import SearchSpace, Discrete, siso_sequential
        >>> def chain(values):
        ...     return siso_sequential([identity() for _ in range(values["n"])])
        >>> space = SearchSpace(lambda: substitution("chain", chain, {"n": Discrete([1, 2])}))
        >>> space.count()
        2
    """
    if scope is None:
        ctx = _paths.CURRENT.get()
        if ctx is not None:  # its values may be known already: then it is built right away
            graph: Graph = ctx.instance
            built = graph.substitute_now(ctx.scope, name, fn, hyperparameters or {}, inputs,
                                         outputs)
            if built is not None:
                return built
        m = Module("substitution", name, fn, hyperparameters or {}, inputs, outputs)
        return m.inputs.copy(), m.outputs.copy()
    with _paths.scope(scope):
        return substitution(name, fn, hyperparameters, inputs, outputs)


def _scoped_module(kind: str, name: str, fn: Callable[..., Any],
                   hyperparameters: Mapping[str, Any] | None, inputs: Sequence[str],
                   outputs: Sequence[str], scope: str) -> Fragment:
    with _paths.scope(scope):
        return Module(kind, name, fn, hyperparameters or {}, inputs, outputs).fragment()


def is_ready_name(name: Any, fn: Any) -> bool:
    """Whether `Module` would accept this name and function (it raises the errors)."""
    return type(name) is str and bool(name) and "/" not in name and callable(fn)


def identity(name: str = "identity") -> Fragment:
    """A single-input single-output module that passes its input through.

    Example:
        >>> from da_bridge import SearchSpace
        >>> SearchSpace(identity).replay({}).forward({"in": 1})
        {'out': 1}
    """
    return basic(name, _identity_compile)


def _identity_compile(values: dict[str, Any]) -> ForwardFn:
    return lambda inputs: {"out": inputs["in"]}


def _split_properties(path: str, properties: Mapping[str, Any],
                      ) -> tuple[dict[str, Any], dict[str, Any]]:
    # `type(...) is dict` first: the ABC check is slow and nearly every module passes a dict
    if type(properties) is not dict and not isinstance(properties, Mapping):
        raise SpaceError(f"module {path!r}: hyperparameters must be a dict; got {properties!r}")
    tunable: dict[str, Any] = {}
    fixed: dict[str, Any] = {}
    for prop, value in properties.items():
        if not isinstance(prop, str) or not prop:
            raise SpaceError(f"module {path!r}: property names must be strings; got {prop!r}")
        (tunable if isinstance(value, Hyperparameter) else fixed)[prop] = value
    return tunable, fixed


def _port_names(path: str, names: Sequence[str], kind: str) -> Sequence[str]:
    if names == ("in",) or names == ("out",):  # the common single port, checked once here
        return names
    names = [names] if isinstance(names, str) else list(names)
    for name in names:
        if not isinstance(name, str) or not name:
            break
    else:
        if len(set(names)) == len(names):
            return names
    raise SpaceError(f"module {path!r}: {kind} names must be distinct strings; got {names!r}")
