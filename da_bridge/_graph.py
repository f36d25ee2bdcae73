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
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from da_bridge import _paths
from da_bridge.errors import (
    AssignmentError,
    DABridgeError,
    SpaceError,
    SubstitutionError,
)
from da_bridge.hyperparameters import Dependent, Hyperparameter
from da_bridge.modules import (
    Fragment,
    Input,
    Module,
    Output,
    SubstitutionFn,
    _port_names,
    is_ready_name,
)


class Built:
    """A substitution built when it was created, its values being known then (inside a
    firing substitution whose choices were made, or with fixed values): no module stands
    for it, only the range of modules its function created. It goes live in the order its
    module would have fired in (`Graph._activate`), so names and unfolding order do not
    depend on whether it was built early.
    """

    __slots__ = ("start", "end", "outputs", "children")

    def __init__(self, start: int) -> None:
        self.start, self.end = start, start
        self.outputs: dict[str, Output] = {}
        self.children: list[Built] = []  # the ones built inside it, in creation order


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
        self._fire_queue: deque[Module | Built] = deque()
        self._revealed: list[Hyperparameter] = []
        self._built: list[Built] = []  # where a substitution built at creation is recorded
        self.order: list[Module] = []  # activated modules, in the order they went live

    # building ----------------------------------------------------------------
    def build(self, build_fn: Callable[[], Fragment]) -> None:
        built: list[Built] = []
        self._built = built
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
        self._activate(0, len(self.modules), self.outputs, built)
        self._drain()

    def substitute_now(self, scope: str, name: str, fn: SubstitutionFn,
                       properties: Mapping[str, Any], inputs: Sequence[str],
                       outputs: Sequence[str]) -> Fragment | None:
        """Build a substitution's fragment now if all its values are known (None if not).

        A substitution module would only wait, fire at once and splice itself out: building
        at creation saves the module, its ports and its firing. The substitution's name is
        still claimed, so what it builds and its siblings keep their paths.
        """
        values = self.values
        if type(properties) is not dict or not is_ready_name(name, fn):
            return None  # let the module raise its error
        args: dict[str, Any] = {}
        for prop, value in properties.items():
            if isinstance(value, Hyperparameter):
                if value not in values:
                    return None
                value = values[value]
            if type(prop) is not str or not prop:
                return None  # let the module raise its error
            args[prop] = value
        path = self.namespace.claim_module(scope, name)
        single = inputs == ("in",) and outputs == ("out",)  # most substitutions: no checks
        input_names = inputs if single else _port_names(path, inputs, "input")
        output_names = outputs if single else _port_names(path, outputs, "output")
        record = Built(len(self.modules))
        self._built.append(record)
        fragment, record.children = run_substitution(self, path, fn, args)
        got_in, got_out = check_fragment(fragment, path)
        if single:
            ports_ok = (len(got_in) == 1 and "in" in got_in
                        and len(got_out) == 1 and "out" in got_out)
        else:
            ports_ok = got_in.keys() == set(input_names) and got_out.keys() == set(output_names)
        if not ports_ok:
            _check_ports(path, got_in, got_out, input_names, output_names)  # raises
        for port_name, port in got_in.items():
            if port.source is not None:  # what `_splice` checks when a module is replaced
                raise SubstitutionError(f"substitution {path!r} returned input {port_name!r} "
                                        f"that is already connected to {port.source!r}")
        record.end, record.outputs = len(self.modules), got_out.copy()
        if single:
            return got_in, got_out
        return ({n: got_in[n] for n in input_names},  # in the declared order
                {n: got_out[n] for n in output_names})

    def _activate(self, start: int, end: int, outputs: Mapping[str, Output],
                  built: list[Built]) -> None:
        """Register the live modules of a new fragment and expose their choices.

        The fragments substitutions in it built at creation (`built`) are not registered
        here: each is queued where its module would have been registered, and goes live
        when its turn comes, as the module would have fired then.
        """
        modules = self.modules
        if end - start == 1:  # one module (an optional's layer or identity): no traversal
            live = set()
            for port in outputs.values():
                if port.module.index == start:
                    live.add(start)
        else:
            live = _reachable(start, end, outputs.values())
        frontier: list[Hyperparameter] = []
        resume = start
        for record in (*built, None):
            for i in range(resume, end if record is None else record.start):
                module = modules[i]
                self.order.append(module)
                if i not in live:
                    module.alive = False
                elif module.hyperparameters:
                    self._register(module, frontier)
                elif module.kind == "substitution":  # no properties to wait for: fires now
                    self._fire_queue.append(module)
            if record is not None:
                reached = False
                for j in range(record.start, record.end):
                    if j in live:
                        reached = True
                    else:
                        modules[j].alive = False
                if reached:
                    self._fire_queue.append(record)
                resume = record.end
        if frontier:
            self._revealed.extend(frontier)

    def _activate_built(self, record: Built) -> None:
        """Let a fragment built at creation go live, as `_fire` does for a module."""
        start, end = record.start, record.end
        used = {name: port for name, port in record.outputs.items()
                if self._used(port, start, end)}
        self._activate(start, end, used, record.children)

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
            item = self._fire_queue.popleft()
            if isinstance(item, Built):
                self._activate_built(item)
            elif item.alive:
                self._fire(item)
        if self._revealed:
            self.stack.extend(reversed(self._revealed))
            self._revealed = []

    def _fire(self, module: Module) -> None:
        start = len(self.modules)
        values = self.values
        properties = module.fixed.copy()
        for prop, h in module.hyperparameters.items():
            properties[prop] = values[h]
        fragment, built = run_substitution(self, module.path, module.fn, properties)
        inputs, outputs = check_fragment(fragment, module.path)
        if inputs.keys() != module.inputs.keys() or outputs.keys() != module.outputs.keys():
            _check_ports(module.path, inputs, outputs, module.inputs, module.outputs)  # raises
        # Only what feeds a used output is live: a dangling output's branch is not.
        used = {name: outputs[name] for name, old in module.outputs.items() if self._used(old)}
        module.alive = False
        self._splice(module, inputs, outputs)
        self._activate(start, len(self.modules), used, built)

    def _used(self, output: Output, start: int = 0, end: int = 0) -> bool:
        """Whether a live module outside [start, end) or the space's outputs read `output`."""
        for target in output.targets:
            reader = target.module
            if reader.alive and not start <= reader.index < end:
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
        """The modules reachable from the outputs, in the order they went live: the creation
        order they would have if no substitution had been built at creation."""
        live = _reachable(0, len(self.modules), self.outputs.values())
        return [m for m in self.order if m.index in live]


def run_substitution(graph: Graph, path: str, fn: SubstitutionFn, values: dict[str, Any],
                     ) -> tuple[Any, list[Built]]:
    """What the substitution at `path` returns for `values`, built into `graph` under its
    path, and the substitutions inside it that were built at creation."""
    outer, graph._built = graph._built, []
    try:
        with _paths.BuildContext(graph, graph.namespace, path):
            try:
                return fn(values), graph._built
            except DABridgeError:
                raise
            except Exception as exc:
                raise SubstitutionError(
                    f"substitution {path!r} raised {type(exc).__name__}: {exc}") from exc
    finally:
        graph._built = outer


def check_fragment(fragment: Any, path: str | None,
                   ) -> tuple[dict[str, Input], dict[str, Output]]:
    """Validate an `(inputs, outputs)` pair of dicts of ports that the substitution at
    `path`'s function (None: the build function) returned; the dicts themselves are
    returned, not copies."""
    if (type(fragment) is tuple and len(fragment) == 2 and type(fragment[0]) is dict
            and type(fragment[1]) is dict):  # the usual case, with cheaper checks
        inputs, outputs = fragment
        for port in inputs.values():  # loops, not all(<generator>): this runs per substitution
            if type(port) is not Input:
                break
        else:
            for port in outputs.values():
                if type(port) is not Output:
                    break
            else:
                return inputs, outputs
    ok = isinstance(fragment, tuple) and len(fragment) == 2
    ok = ok and _is_mapping(fragment[0]) and _is_mapping(fragment[1])
    if not ok:
        raise SpaceError(f"{_where(path)} must return an (inputs, outputs) pair of dicts; "
                         f"got {type(fragment).__name__}")
    inputs, outputs = dict(fragment[0]), dict(fragment[1])
    for name, port in inputs.items():
        if not isinstance(port, Input):
            raise SpaceError(
                f"{_where(path)} returned inputs[{name!r}] = {port!r}, not an Input")
    for name, port in outputs.items():
        if not isinstance(port, Output):
            raise SpaceError(
                f"{_where(path)} returned outputs[{name!r}] = {port!r}, not an Output")
    return inputs, outputs


def _where(path: str | None) -> str:
    return "the build function" if path is None else f"substitution {path!r}"


def _is_mapping(obj: Any) -> bool:
    # `type(...) is dict` first: fragments are nearly always dicts and the ABC check is slow
    return type(obj) is dict or isinstance(obj, Mapping)


def _check_ports(path: str, inputs: dict[str, Any], outputs: dict[str, Any],
                 want_inputs: Iterable[str], want_outputs: Iterable[str]) -> None:
    pairs = (("inputs", inputs, want_inputs), ("outputs", outputs, want_outputs))
    for kind, got, want in pairs:
        if set(got) != set(want):
            raise SubstitutionError(
                f"substitution {path!r} returned {kind} {sorted(got)}; "
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
