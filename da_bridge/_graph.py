"""The state of one search-space instance and the transitions that unfold it.

Cost model (why this is O(n)): every module is registered once, when the
fragment that holds it goes live; reachability is computed only inside a new
fragment; a hyperparameter's value reaches its users through a list built at
registration; a dependent hyperparameter keeps a count of parents without
values; the frontier of exposed hyperparameters is a stack that only grows
by what a substitution reveals.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from da_bridge import _paths
from da_bridge.errors import (
    AssignmentError,
    DABridgeError,
    SpaceError,
    SubstitutionError,
)
from da_bridge.hyperparameters import Dependent, Hyperparameter
from da_bridge.modules import Fragment, Input, Module, Output


class Graph:
    """Modules, values and frontier of one search-space instance."""

    def __init__(self) -> None:
        self.namespace = _paths.Namespace()
        self.modules: list[Module] = []
        self.values: dict[Hyperparameter, Any] = {}
        self.assigned: dict[str, Any] = {}  # path -> value, independent only, in order
        self.paths: dict[Hyperparameter, str] = {}
        self.users: dict[Hyperparameter, list[Module]] = {}
        self.dependents: dict[Hyperparameter, list[Dependent]] = {}
        self.waiting: dict[Dependent, int] = {}
        self.exposed: set[Hyperparameter] = set()
        self.stack: list[Hyperparameter] = []
        self.inputs: dict[str, Input] = {}
        self.outputs: dict[str, Output] = {}
        self._fire_queue: deque[Module] = deque()
        self._revealed: list[Hyperparameter] = []

    # building ----------------------------------------------------------------
    def build(self, build_fn: Callable[[], Fragment]) -> None:
        with _paths.BuildContext(self, self.namespace, ""):
            try:
                fragment = build_fn()
            except DABridgeError:
                raise
            except Exception as exc:
                name = getattr(build_fn, "__qualname__", repr(build_fn))
                raise SpaceError(f"the build function {name} raised "
                                 f"{type(exc).__name__}: {exc}") from exc
        inputs, outputs = check_fragment(fragment, None)
        self.inputs, self.outputs = inputs.copy(), outputs.copy()  # the border changes in place
        self._activate(0, len(self.modules), self.outputs)
        self._drain()

    def _activate(self, start: int, end: int, outputs: Mapping[str, Output]) -> None:
        """Register the live modules of a new fragment and expose their choices."""
        modules = self.modules
        if end - start == 1:  # one module (an optional's layer or identity): no traversal
            live = {start} if any(o.module.index == start for o in outputs.values()) else set()
        else:
            live = _reachable(start, end, outputs.values())
        frontier: list[Hyperparameter] = []
        for i in range(start, end):
            module = modules[i]
            if i not in live:
                module.alive = False
            elif module.hyperparameters:
                self._register(module, frontier)
            elif module.kind == "substitution":  # no properties to wait for: fires now
                self._fire_queue.append(module)
        if frontier:
            self._revealed.extend(frontier)

    def _register(self, module: Module, frontier: list[Hyperparameter]) -> None:
        paths, users, values = self.paths, self.users, self.values
        for prop, h in module.hyperparameters.items():
            if h not in paths:
                self._attach(h, f"{module.path}.{prop}", frontier)
            found = users.get(h)
            if found is None:
                users[h] = [module]
            else:
                found.append(module)
            if h not in values:
                module.pending += 1
        if module.pending == 0 and module.kind == "substitution":
            self._fire_queue.append(module)

    def _attach(self, h: Hyperparameter, default_path: str,
                frontier: list[Hyperparameter]) -> None:
        if h in self.paths:
            return
        path = _paths.join(h._scope, h.name) if h.name else default_path
        if h.name and h._name_is_prefix:
            self.paths[h] = self.namespace.claim_hyperparameter_prefix(path, h)
        else:
            self.paths[h] = self.namespace.claim_hyperparameter(path, h)
        if not isinstance(h, Dependent):
            self.exposed.add(h)
            frontier.append(h)
            return
        self.waiting[h] = 0
        for key, parent in h.parents.items():
            self._attach(parent, f"{path}.{key}", frontier)
            self.dependents.setdefault(parent, []).append(h)
            self.waiting[h] += parent not in self.values
        if self.waiting[h] == 0:
            self._resolve(h)

    # transitions ---------------------------------------------------------------
    def next(self) -> Hyperparameter | None:
        while self.stack and self.stack[-1] in self.values:
            self.stack.pop()
        return self.stack[-1] if self.stack else None

    def assign(self, h: Hyperparameter, value: Any) -> None:
        path = self.paths.get(h)
        if path is None or h not in self.exposed:
            raise AssignmentError(f"{h!r} is not a live hyperparameter of this instance")
        if h in self.values:
            raise AssignmentError(
                f"{path!r} already has the value {self.values[h]!r}; values are assigned once")
        value = h.check(value, path)
        self.assigned[path] = value
        self._set(h, value)
        if self._fire_queue or self._revealed:
            self._drain()

    def _set(self, h: Hyperparameter, value: Any) -> None:
        self.values[h] = value
        for module in self.users.get(h, ()):
            module.pending -= 1
            if module.pending == 0 and module.kind == "substitution" and module.alive:
                self._fire_queue.append(module)
        for dependent in self.dependents.get(h, ()):
            self.waiting[dependent] -= 1
            if self.waiting[dependent] == 0:
                self._resolve(dependent)

    def _resolve(self, h: Dependent) -> None:
        args = {key: self.values[parent] for key, parent in h.parents.items()}
        try:
            value = h.fn(args)
        except DABridgeError:
            raise
        except Exception as exc:
            raise SpaceError(
                f"dependent hyperparameter {self.paths[h]!r} raised "
                f"{type(exc).__name__}: {exc}") from exc
        self._set(h, value)

    def _drain(self) -> None:
        """Fire ready substitutions, then expose what they revealed, in firing order."""
        while self._fire_queue:
            module = self._fire_queue.popleft()
            if module.alive:
                self._fire(module)
        if self._revealed:
            self.stack.extend(reversed(self._revealed))
            self._revealed = []

    def _fire(self, module: Module) -> None:
        start = len(self.modules)
        values = self.values
        properties = module.fixed.copy()
        for prop, h in module.hyperparameters.items():
            properties[prop] = values[h]
        fragment = run_substitution(self, module, properties)
        inputs, outputs = check_fragment(fragment, module)
        if inputs.keys() != module.inputs.keys() or outputs.keys() != module.outputs.keys():
            _check_ports(module, inputs, outputs)  # raises, naming the difference
        # Only what feeds a used output is live: a dangling output's branch is not.
        used = {name: outputs[name] for name, old in module.outputs.items() if self._used(old)}
        module.alive = False
        self._splice(module, inputs, outputs)
        self._activate(start, len(self.modules), used)

    def _used(self, output: Output) -> bool:
        """Whether a live module or the space's outputs read `output`."""
        for target in output.targets:
            if target.module.alive:
                return True
        return output in self.outputs.values()

    def _splice(self, module: Module, inputs: dict[str, Input],
                outputs: dict[str, Output]) -> None:
        """Put the new fragment where `module` was, keeping every connection."""
        for name, old in module.inputs.items():
            new, source = inputs[name], old.source
            if new.source is not None:
                raise SubstitutionError(
                    f"substitution {module.path!r} returned input {name!r} that is "
                    f"already connected to {new.source!r}")
            if source is not None:
                source.targets.remove(old)
                old.source = None
                new.source = source  # what new.connect(source) does; both are checked ports
                source.targets.append(new)
            if old in self.inputs.values():  # a scan without a call; rarely true
                _replace_border(self.inputs, old, new)
        for name, old_out in module.outputs.items():
            new_out = outputs[name]
            for target in old_out.targets:
                target.source = new_out
                new_out.targets.append(target)
            old_out.targets = []
            if old_out in self.outputs.values():
                _replace_border(self.outputs, old_out, new_out)

    # inspection ------------------------------------------------------------------
    def live_modules(self) -> list[Module]:
        """The modules reachable from the outputs, in creation order."""
        live = _reachable(0, len(self.modules), self.outputs.values())
        return [m for m in self.modules if m.index in live]


def run_substitution(graph: Graph, module: Module, values: dict[str, Any]) -> Any:
    """What `module`'s function returns for `values`, built into `graph` under its path."""
    with _paths.BuildContext(graph, graph.namespace, module.path):
        try:
            return module.fn(values)
        except DABridgeError:
            raise
        except Exception as exc:
            raise SubstitutionError(
                f"substitution {module.path!r} raised {type(exc).__name__}: {exc}") from exc


def check_fragment(fragment: Any, module: Module | None,
                   ) -> tuple[dict[str, Input], dict[str, Output]]:
    """Validate an `(inputs, outputs)` pair of dicts of ports that `module`'s function
    (None: the build function) returned; the dicts themselves are returned, not copies."""
    if (type(fragment) is tuple and len(fragment) == 2 and type(fragment[0]) is dict
            and type(fragment[1]) is dict):  # the usual case, with cheaper checks
        inputs, outputs = fragment
        if (all(type(p) is Input for p in inputs.values())
                and all(type(p) is Output for p in outputs.values())):
            return inputs, outputs
    ok = isinstance(fragment, tuple) and len(fragment) == 2
    ok = ok and _is_mapping(fragment[0]) and _is_mapping(fragment[1])
    if not ok:
        raise SpaceError(f"{_where(module)} must return an (inputs, outputs) pair of dicts; "
                         f"got {type(fragment).__name__}")
    inputs, outputs = dict(fragment[0]), dict(fragment[1])
    for name, port in inputs.items():
        if not isinstance(port, Input):
            raise SpaceError(
                f"{_where(module)} returned inputs[{name!r}] = {port!r}, not an Input")
    for name, port in outputs.items():
        if not isinstance(port, Output):
            raise SpaceError(
                f"{_where(module)} returned outputs[{name!r}] = {port!r}, not an Output")
    return inputs, outputs


def _where(module: Module | None) -> str:
    return "the build function" if module is None else f"substitution {module.path!r}"


def _is_mapping(obj: Any) -> bool:
    # `type(...) is dict` first: fragments are nearly always dicts and the ABC check is slow
    return type(obj) is dict or isinstance(obj, Mapping)


def _check_ports(module: Module, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
    pairs = (("inputs", inputs, module.inputs), ("outputs", outputs, module.outputs))
    for kind, got, want in pairs:
        if got.keys() != want.keys():
            raise SubstitutionError(
                f"substitution {module.path!r} returned {kind} {sorted(got)}; "
                f"it declares {sorted(want)}")


def _replace_border(border: dict[str, Any], old: Any, new: Any) -> None:
    for name, port in border.items():
        if port is old:
            border[name] = new
            return


def _reachable(start: int, end: int, outputs: Any) -> set[int]:
    """Indices of modules in [start, end) that reach `outputs` without leaving the range."""
    seen: set[int] = set()
    todo = [o.module for o in outputs if start <= o.module.index < end]
    while todo:
        module = todo.pop()
        index = module.index
        if index in seen:
            continue
        seen.add(index)
        for port in module.inputs.values():
            src = port.source
            if src is not None:
                feeder = src.module
                if start <= feeder.index < end and feeder.index not in seen:
                    todo.append(feeder)
    return seen
