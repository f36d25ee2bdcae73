"""`deep_architect.core`: modules, hyperparameters and traversals, over the engine.

A DeepArchitect graph is the engine's graph: ports are `da_bridge.Input` and
`da_bridge.Output`, and the values of hyperparameters live in the search-space
instance the ports belong to. Functions that take `inputs` or `outputs` find
that instance through the ports. Hyperparameters handed out by the iterators
are `BoundHyperparameter` views (`assign_value`, `get_value`, `vs`), because
one engine declaration can take part in many instances.

What differs from DeepArchitect, and why:

- Modules can only be created while a space is being built (inside
  `modules.SearchSpaceFactory` or a searcher): that is where they get their
  stable path names. There is no `Scope` registry; `scope=` arguments are
  accepted and ignored.
- `Module._update()` is never called: the engine fires substitutions itself.
- `jsonify` is `Architecture.to_json()` (a different, loadable format).
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from da_bridge.architecture import Architecture
from da_bridge.errors import SpaceError
from da_bridge.hyperparameters import Dependent
from da_bridge.hyperparameters import Hyperparameter as _Hyperparameter
from da_bridge.modules import Input, Output
from da_bridge.modules import Module as _EngineModule
from da_bridge.space import Unfolding

__all__ = [
    "BoundHyperparameter",
    "DependentHyperparameter",
    "Hyperparameter",
    "Input",
    "Module",
    "OrderedSet",
    "Output",
    "determine_input_output_cleanup_seq",
    "determine_module_eval_seq",
    "extract_unique_modules",
    "forward",
    "get_all_hyperparameters",
    "get_modules_with_cond",
    "get_unassigned_independent_hyperparameters",
    "get_unconnected_inputs",
    "get_unconnected_outputs",
    "is_specified",
    "jsonify",
    "traverse_backward",
    "traverse_forward",
    "unassigned_independent_hyperparameter_iterator",
]


class OrderedSet:
    """An insertion-ordered set, as DeepArchitect's.

    Example:
        >>> s = OrderedSet(); s.update([3, 1, 3]); list(s)
        [3, 1]
    """

    def __init__(self) -> None:
        self.d: OrderedDict[Any, None] = OrderedDict()

    def add(self, x: Any) -> None:
        self.d[x] = None

    def update(self, xs: Any) -> None:
        for x in xs:
            self.add(x)

    def __len__(self) -> int:
        return len(self.d)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.d)

    def __contains__(self, x: Any) -> bool:
        return x in self.d


class Hyperparameter(_Hyperparameter):
    """Base of DeepArchitect-style hyperparameters: `name` is a prefix, `scope` is ignored."""

    _name_is_prefix = True

    def __init__(self, scope: Any = None, name: str | None = None) -> None:
        super().__init__(name)


class DependentHyperparameter(Dependent):
    """`DependentHyperparameter(fn, hyperps, scope=None, name=None)`: `fn(dict of values)`.

    Example:
        >>> from da_bridge.compat.deep_architect.hyperparameters import D
        >>> h = DependentHyperparameter(lambda dh: 2 * dh["x"], {"x": D([1, 2])})
        >>> sorted(h.parents)
        ['x']
    """

    _name_is_prefix = True

    def __init__(self, fn: Callable[[dict[str, Any]], Any],
                 hyperps: Mapping[str, _Hyperparameter], scope: Any = None,
                 name: str | None = None) -> None:
        super().__init__(fn, hyperps, name=name)


class BoundHyperparameter:
    """A hyperparameter as part of one instance: DeepArchitect's hyperparameter methods.

    Attribute reads fall through to the declaration (`vs`, `values`, `name`).
    """

    __slots__ = ("hyperparameter", "_unfolding")

    def __init__(self, unfolding: Unfolding, hyperparameter: _Hyperparameter) -> None:
        self._unfolding, self.hyperparameter = unfolding, hyperparameter

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__") or attribute in ("hyperparameter", "_unfolding"):
            raise AttributeError(attribute)
        return getattr(self.hyperparameter, attribute)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BoundHyperparameter) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"<{self.get_name()}: {self.hyperparameter!r}>"

    def _key(self) -> tuple:
        return id(self._unfolding._graph), id(self.hyperparameter)

    def get_name(self) -> str:
        return self._unfolding.path_of(self.hyperparameter) or repr(self.hyperparameter)

    def has_value_assigned(self) -> bool:
        try:
            self._unfolding.value_of(self.hyperparameter)
        except KeyError:
            return False
        return True

    def get_value(self) -> Any:
        return self._unfolding.value_of(self.hyperparameter)

    def assign_value(self, value: Any) -> None:
        self._unfolding.assign_path(self.get_name(), value)

    def is_dependent(self) -> bool:
        return isinstance(self.hyperparameter, Dependent)


class Module:
    """DeepArchitect's module base class: register ports and hyperparameters, then
    implement `_compile()` (once, input values known) and `_forward()` (reads
    `self.inputs[name].val`, sets `self.outputs[name].val`).

    The engine module is created on first use of `inputs`, `outputs` or
    `get_io()`, so registrations must come first, as in DeepArchitect.

    Example:
        >>> from da_bridge.compat.deep_architect.modules import SearchSpaceFactory
        >>> class Double(Module):
        ...     def __init__(self):
        ...         Module.__init__(self)
        ...         self._register(["in"], ["out"], {})
        ...     def _compile(self):
        ...         pass
        ...     def _forward(self):
        ...         self.outputs["out"].val = 2 * self.inputs["in"].val
        >>> inputs, outputs = SearchSpaceFactory(lambda: Double().get_io()).get_search_space()
        >>> forward({inputs["in"]: 21}); outputs["out"].val
        42
    """

    def __init__(self, scope: Any = None, name: str | None = None) -> None:
        self._name = name or type(self).__name__
        self._input_names: list[str] = []
        self._output_names: list[str] = []
        self._hyperps: dict[str, Any] = {}
        self._module: _EngineModule | None = None
        self._is_compiled = False

    # registration -------------------------------------------------------------------------
    def _register_input(self, name: str) -> None:
        self._check_open(name)
        self._input_names.append(name)

    def _register_output(self, name: str) -> None:
        self._check_open(name)
        self._output_names.append(name)

    def _register_hyperparameter(self, name: str, h: Any) -> None:
        self._check_open(name)
        self._hyperps[name] = h

    def _register(self, input_names: Sequence[str], output_names: Sequence[str],
                  name_to_hyperp: Mapping[str, Any]) -> None:
        # one check for all names: counting builds tens of thousands of these modules
        if self._module is not None:
            for name in [*input_names, *output_names, *name_to_hyperp][:1]:
                self._check_open(name)
        self._input_names.extend(input_names)
        self._output_names.extend(output_names)
        self._hyperps.update(name_to_hyperp)

    def _check_open(self, name: str) -> None:
        if self._module is not None:
            raise SpaceError(f"module {self._module.path!r}: register {name!r} before its ports "
                             "are used (inputs, outputs, get_io)")

    # the engine module ----------------------------------------------------------------------
    def _engine(self) -> _EngineModule:
        if self._module is None:
            # tuples: the engine checks the common ("in",) / ("out",) ports once, not per name
            self._module = _EngineModule("basic", self._name, self._compile_fn, self._hyperps,
                                         tuple(self._input_names), tuple(self._output_names))
            self._module.owner = self
        return self._module

    @property
    def inputs(self) -> dict[str, Input]:
        return self._engine().inputs

    @property
    def outputs(self) -> dict[str, Output]:
        return self._engine().outputs

    @property
    def hyperps(self) -> dict[str, Any]:
        return self.get_hyperps()

    def get_io(self) -> tuple[dict[str, Input], dict[str, Output]]:
        module = self._engine()
        return dict(module.inputs), dict(module.outputs)

    def get_name(self) -> str:
        return self._engine().path

    def get_hyperps(self) -> dict[str, Any]:
        """Property name -> `BoundHyperparameter` (fixed values as they are)."""
        module = self._engine()
        unfolding = Unfolding(module.graph)
        return {name: BoundHyperparameter(unfolding, h) if isinstance(h, _Hyperparameter) else h
                for name, h in self._hyperps.items()}

    def _compile_fn(self, values: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def forward_fn(inputs: dict[str, Any]) -> dict[str, Any]:
            for name, value in inputs.items():
                self.inputs[name].val = value
            if not self._is_compiled:
                self._compile()
                self._is_compiled = True
            self._forward()
            return {name: port.val for name, port in self.outputs.items()}

        return forward_fn

    def _compile(self) -> None:
        raise NotImplementedError

    def _forward(self) -> None:
        raise NotImplementedError

    def _update(self) -> None:
        """Never called by the engine; kept so subclasses that define it still work."""

    def forward(self) -> None:
        if not self._is_compiled:
            self._compile()
            self._is_compiled = True
        self._forward()


class ModuleView:
    """DeepArchitect's module getters for an engine module built without `Module`."""

    def __init__(self, module: _EngineModule) -> None:
        self._module = module

    def __repr__(self) -> str:
        return f"<ModuleView {self._module.path}>"

    @property
    def inputs(self) -> dict[str, Input]:
        return self._module.inputs

    @property
    def outputs(self) -> dict[str, Output]:
        return self._module.outputs

    def get_io(self) -> tuple[dict[str, Input], dict[str, Output]]:
        return dict(self._module.inputs), dict(self._module.outputs)

    def get_name(self) -> str:
        return self._module.path

    def get_hyperps(self) -> dict[str, Any]:
        unfolding = Unfolding(self._module.graph)
        return {**self._module.fixed, **{name: BoundHyperparameter(unfolding, h)
                                         for name, h in self._module.hyperparameters.items()}}


def _owner(module: _EngineModule) -> Any:
    if module.owner is None:
        module.owner = ModuleView(module)
    return module.owner


def _engine_module(module: Any) -> _EngineModule:
    return module._engine() if isinstance(module, Module) else module._module


def _ports(ports: Any) -> list[Any]:
    ports = list(ports.values()) if isinstance(ports, Mapping) else list(ports)
    if not ports or not all(isinstance(p, (Input, Output)) for p in ports):
        raise SpaceError(f"expected a non-empty dict or list of ports; got {ports!r}")
    return ports


def _unfolding(ports: Any) -> Unfolding:
    return Unfolding(_ports(ports)[0].module.graph)


# traversals ---------------------------------------------------------------------------------
def extract_unique_modules(input_or_output_lst: Sequence[Input | Output]) -> list[Any]:
    """The modules the ports belong to, each once, in order."""
    found = OrderedSet()
    for port in _ports(input_or_output_lst):
        found.add(_owner(port.module))
    return list(found)


def traverse_backward(outputs: Mapping[str, Output], fn: Callable[[Any], bool | None]) -> None:
    """Call `fn(module)` once per module reachable backward; stop when it returns True."""
    _traverse(_ports(outputs), fn, lambda m: [p.source.module for p in m.inputs.values()
                                             if p.source is not None])


def traverse_forward(inputs: Mapping[str, Input], fn: Callable[[Any], bool | None]) -> None:
    """Call `fn(module)` once per module reachable forward; stop when it returns True."""
    _traverse(_ports(inputs), fn, lambda m: [t.module for p in m.outputs.values()
                                            for t in p.targets])


def _traverse(ports: list[Any], fn: Callable[[Any], bool | None],
              step: Callable[[Any], list[Any]]) -> None:
    queue, seen = [p.module for p in ports], set()
    while queue:
        module = queue.pop(0)
        if module.index in seen:
            continue
        seen.add(module.index)
        if fn(_owner(module)):
            return
        queue.extend(m for m in step(module) if m.index not in seen)


def get_modules_with_cond(outputs: Mapping[str, Output], cond_fn: Callable[[Any], bool]
                          ) -> list[Any]:
    found: list[Any] = []
    traverse_backward(outputs, lambda m: found.append(m) if cond_fn(m) else None)
    return found


def determine_module_eval_seq(inputs: Mapping[str, Input]) -> list[Any]:
    """A topological order of the modules reachable forward from `inputs`."""
    ready, done, order = set(map(id, _ports(inputs))), set(), []
    queue = [p.module for p in _ports(inputs)]
    while queue:
        module = queue.pop(0)
        if module.index in done or not all(id(p) in ready for p in module.inputs.values()):
            continue
        done.add(module.index)
        order.append(_owner(module))
        for port in module.outputs.values():
            ready.update(id(t) for t in port.targets)
            queue.extend(t.module for t in port.targets)
    return order


def determine_input_output_cleanup_seq(inputs: Mapping[str, Input]
                                       ) -> tuple[list[list[Input]], list[list[Output]]]:
    """Per evaluation step, the inputs and outputs whose `val` can be freed after it."""
    seq = [_engine_module(m) for m in determine_module_eval_seq(inputs)]
    remaining = {id(p): len(p.targets) for m in seq for p in m.outputs.values()}
    input_seq, output_seq = [], []
    for module in seq:
        input_seq.append(list(module.inputs.values()))
        freed = []
        for port in module.inputs.values():
            if port.source is not None:
                remaining[id(port.source)] -= 1
                if remaining[id(port.source)] == 0:
                    freed.append(port.source)
        output_seq.append(freed)
    return input_seq, output_seq


def get_unconnected_inputs(outputs: Mapping[str, Output]) -> list[Input]:
    found: list[Input] = []

    def visit(module: Any) -> None:
        found.extend(p for p in module.inputs.values() if p.source is None)

    traverse_backward(outputs, visit)
    return found


def get_unconnected_outputs(inputs: Mapping[str, Input]) -> list[Output]:
    found: list[Output] = []

    def visit(module: Any) -> None:
        found.extend(p for p in module.outputs.values() if not p.targets)

    traverse_forward(inputs, visit)
    return found


# hyperparameters ----------------------------------------------------------------------------
def is_specified(outputs: Mapping[str, Output]) -> bool:
    """True when no live hyperparameter is left without a value."""
    return _unfolding(outputs).is_specified()


def get_all_hyperparameters(outputs: Mapping[str, Output]) -> OrderedSet:
    """Every live hyperparameter, dependent ones and their parents included."""
    unfolding, found = _unfolding(outputs), OrderedSet()

    def add(h: _Hyperparameter) -> None:
        found.add(BoundHyperparameter(unfolding, h))
        for parent in getattr(h, "parents", {}).values():
            add(parent)

    def visit(module: Any) -> None:
        for h in _engine_module(module).hyperparameters.values():
            add(h)

    traverse_backward(outputs, visit)
    return found


def get_unassigned_independent_hyperparameters(outputs: Mapping[str, Output]) -> OrderedSet:
    """The live independent hyperparameters that have no value yet."""
    unfolding, found = _unfolding(outputs), OrderedSet()
    found.update(BoundHyperparameter(unfolding, h.hyperparameter) for h in unfolding.pending())
    return found


def unassigned_independent_hyperparameter_iterator(outputs: Mapping[str, Output]
                                                   ) -> Iterator[BoundHyperparameter]:
    """Yield the next unassigned hyperparameter until the instance is specified.

    Each one must be given a value (`assign_value`) before the next is asked for.
    """
    unfolding = _unfolding(outputs)
    while (h := unfolding.next()) is not None:
        yield BoundHyperparameter(unfolding, h.hyperparameter)


# evaluation -----------------------------------------------------------------------------------
_ARCHITECTURES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def architecture_of(ports: Any) -> Architecture:
    """The specified `Architecture` the ports belong to (cached per instance)."""
    graph = _ports(ports)[0].module.graph
    arch = _ARCHITECTURES.get(graph)
    if arch is None:
        arch = _ARCHITECTURES[graph] = Unfolding(graph).architecture()
    return arch


def forward(input_to_val: Mapping[Input, Any], _module_seq: Any = None) -> None:
    """Evaluate the graph; every port's value is left in its `val`, as in DeepArchitect."""
    arch = architecture_of(list(input_to_val))
    by_port = {id(port): name for name, port in arch.inputs.items()}
    named = {}
    for port, value in input_to_val.items():
        if id(port) not in by_port:
            raise SpaceError(f"{port!r} is not an input of the search space; its inputs are "
                             f"{sorted(arch.inputs)}")
        named[by_port[id(port)]] = value
    arch.forward(named, keep_values=True)


def jsonify(inputs: Mapping[str, Input], outputs: Mapping[str, Output]) -> dict[str, Any]:
    """A JSON description of the specified graph (`Architecture.to_json()`'s format)."""
    return architecture_of(outputs).to_json()
