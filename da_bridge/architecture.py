"""A fully specified architecture: its values map, its graph, its evaluation."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from da_bridge.errors import CycleError, InvalidArchitectureError, SpaceError, UnspecifiedError
from da_bridge.modules import Input, Module, Output

if TYPE_CHECKING:
    from da_bridge._graph import Graph

FORMAT = "da_bridge.architecture/1"


class Architecture:
    """One point of a search space: every live hyperparameter has a value.

    Attributes:
        values: `{path: value}` of the independent hyperparameters, in the order
            they were assigned. This map identifies the architecture.
        modules: The basic modules of the graph, in topological order.
        inputs: Space input name -> the module input it feeds.
        outputs: Space output name -> the module output it reads.

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> arch = poster_space().sample(0)
        >>> poster_space().replay(arch.values).to_json() == arch.to_json()
        True
    """

    def __init__(self, graph: Graph) -> None:
        pending = graph.next()
        if pending is not None:
            raise UnspecifiedError(
                f"the architecture is not fully specified: {graph.paths[pending]!r} "
                "has no value yet")
        self._graph = graph
        self.values: dict[str, Any] = dict(graph.assigned)
        self.inputs: dict[str, Input] = dict(graph.inputs)
        self.outputs: dict[str, Output] = dict(graph.outputs)
        self.modules: list[Module] = _topological_order(graph.live_modules(), self.inputs)
        self._compiled: dict[int, Any] = {}

    def __repr__(self) -> str:
        return f"Architecture({self.values!r})"

    def json_values(self) -> dict[str, Any]:
        """The values map in JSON form (objects by index); `SearchSpace.replay` accepts it."""
        by_path = self._graph.namespace.hyperparameters
        return {path: by_path[path].encode(value) for path, value in self.values.items()}

    def to_json(self) -> dict[str, Any]:
        """A JSON-serializable description of the specified graph.

        It holds the values map (`values`), every basic module with its property
        values and the output feeding each of its inputs, and the space's input
        and output ports. Load it back with `space.replay(data["values"])`.
        """
        return {
            "format": FORMAT,
            "values": self.json_values(),
            "inputs": {name: _port_ref(port) for name, port in self.inputs.items()},
            "outputs": {name: _port_ref(port) for name, port in self.outputs.items()},
            "modules": [_module_json(m) for m in self.modules],
        }

    def dumps(self) -> str:
        """`to_json()` as a compact, key-sorted string."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    def forward(self, inputs: Mapping[str, Any], *, keep_values: bool = False) -> dict[str, Any]:
        """Evaluate the graph: `{space input name: value}` -> `{space output name: value}`.

        Each basic module is compiled once (its `compile_fn` is called with its
        property values) and then called in topological order. With
        `keep_values`, every port's value is also left in its `val` attribute
        (DeepArchitect's `outputs["out"].val`).
        """
        missing = sorted(set(self.inputs) - set(inputs))
        if missing:
            raise SpaceError(f"forward() needs values for inputs {missing}; got {sorted(inputs)}")
        given = {id(port): inputs[name] for name, port in self.inputs.items()}
        results: dict[int, Any] = {}
        for module in self.modules:
            args = {name: results[id(port.source)] if port.source is not None else given[id(port)]
                    for name, port in module.inputs.items()}
            if keep_values:
                for name, port in module.inputs.items():
                    port.val = args[name]
            outs = self._forward_fn(module)(args)
            _check_outputs(module, outs)
            for name, out_port in module.outputs.items():
                results[id(out_port)] = outs[name]
                if keep_values:
                    out_port.val = outs[name]
        return {name: results[id(port)] for name, port in self.outputs.items()}

    def _forward_fn(self, module: Module) -> Any:
        fn = self._compiled.get(module.index)
        if fn is None:
            try:
                fn = module.fn(module.values)
            except InvalidArchitectureError:
                raise
            except Exception as exc:
                raise SpaceError(f"compiling module {module.path!r} raised "
                                 f"{type(exc).__name__}: {exc}") from exc
            self._compiled[module.index] = fn
        return fn


def _topological_order(modules: list[Module], border: dict[str, Input]) -> list[Module]:
    border_ports = {id(p) for p in border.values()}
    indegree: dict[Module, int] = {}  # keyed by the module itself: no attribute per lookup
    for m in modules:
        connected = 0
        for name, port in m.inputs.items():
            if port.source is not None:
                connected += 1
            elif id(port) not in border_ports:
                raise SpaceError(f"input {name!r} of module {m.path!r} is not connected")
        indegree[m] = connected
    ready = [m for m in modules if indegree[m] == 0]
    order: list[Module] = []
    while ready:
        m = ready.pop()
        order.append(m)
        for out in m.outputs.values():
            for target in out.targets:
                successor = target.module
                left = indegree.get(successor)
                if left is not None:
                    indegree[successor] = left - 1
                    if left == 1:
                        ready.append(successor)
    if len(order) < len(modules):
        stuck = sorted(m.path for m in modules if indegree[m] > 0)
        raise CycleError(f"the graph has a cycle through modules {stuck[:5]}")
    return order


def _check_outputs(module: Module, outs: Any) -> None:
    if not isinstance(outs, Mapping) or not set(module.outputs) <= set(outs):
        got = sorted(outs) if isinstance(outs, Mapping) else type(outs).__name__
        raise SpaceError(f"module {module.path!r} returned {got}; "
                         f"its outputs are {sorted(module.outputs)}")


def _port_ref(port: Input | Output) -> str:
    return f"{port.module.path}:{port.name}"


def _module_json(module: Module) -> dict[str, Any]:
    return {
        "path": module.path,
        "name": module.name,
        "properties": {k: jsonable(v) for k, v in sorted(module.values.items())},
        "inputs": {n: _port_ref(p.source) if p.source else None for n, p in module.inputs.items()},
        "outputs": sorted(module.outputs),
    }


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def jsonable(value: Any) -> Any:
    """A JSON form of a property value; objects become a stable text."""
    if isinstance(value, (str, int, bool, type(None))):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else repr(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):  # hash order differs between processes
        return sorted((jsonable(v) for v in value), key=repr)
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: jsonable(v) for k, v in value.items()}
    return {"repr": stable_repr(value)}


def stable_repr(value: Any) -> str:
    """A text for an object that is the same in every process: its qualified name, or its
    `repr` without memory addresses.

    Example:
        >>> stable_repr(len), stable_repr(object()).startswith("<object object")
        ('len', True)
    """
    name = getattr(value, "__qualname__", None)
    return name if isinstance(name, str) else _ADDRESS.sub("", repr(value))
