"""Graphviz drawings of architectures and partial instances.

Modules are boxes that list their property values (blue for basic modules,
dashed orange for substitution modules that still wait for a value, grey for
identities); hyperparameters are ellipses linked by dotted edges to the
modules that use them, and dependent hyperparameters (double border) by dashed
edges to their parents. In a partial instance the hyperparameter `next()`
returns is outlined in red.

Graphviz is imported when a drawing is made, never by `import da_bridge`.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from da_bridge._imports import require
from da_bridge.architecture import Architecture, jsonable
from da_bridge.errors import DomainError, MissingExtraError
from da_bridge.hyperparameters import Dependent, Hyperparameter
from da_bridge.modules import Module
from da_bridge.space import SearchSpace, Unfolding

if TYPE_CHECKING:
    import graphviz

    from da_bridge._graph import Graph

Drawable = Architecture | Unfolding | SearchSpace

FORMATS = ("svg", "png", "pdf")
DOT_MISSING = ("the Graphviz program 'dot' is not on PATH; install Graphviz: "
               "'apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS), "
               "'conda install graphviz' or https://graphviz.org/download/")
_FONT = "Helvetica"
_GRAPH = {"rankdir": "TB", "fontname": _FONT, "bgcolor": "white", "nodesep": "0.3",
          "ranksep": "0.35", "labelloc": "t", "fontsize": "13"}
_MODULE = {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbe8f7", "color": "#4a6f9c"}
_SUBSTITUTION = {"shape": "box", "style": "dashed,rounded,filled", "fillcolor": "#fde6c4",
                 "color": "#c77800", "penwidth": "1.5"}
_IDENTITY = {"shape": "box", "style": "rounded,filled", "fillcolor": "#f2f2f2",
             "color": "#aaaaaa", "fontcolor": "#777777", "fontsize": "10"}
_BORDER = {"shape": "ellipse", "style": "filled", "fillcolor": "#e6e6e6", "color": "#888888"}
_HYPERPARAMETER = {"shape": "ellipse", "style": "filled", "fillcolor": "#e5f3e0",
                   "color": "#5c8a4d", "fontsize": "10"}
_USE = {"style": "dotted", "color": "#5c8a4d", "arrowhead": "odot", "fontsize": "8",
        "fontcolor": "#5c8a4d"}
_DEPENDENCY = {"style": "dashed", "color": "#7a4fbf", "fontsize": "8", "fontcolor": "#7a4fbf"}
_NEXT = {"color": "#d62728", "penwidth": "2.5"}
_MAX_TEXT = 48


def to_graphviz(arch_or_partial: Drawable, *, hyperparameters: bool = True,
                port_labels: bool = True, values: bool = True,
                title: str | None = None) -> graphviz.Digraph:
    """The Graphviz graph of an architecture, a partial instance or a space's first instance.

    Args:
        arch_or_partial: An `Architecture`, an `Unfolding` (drawn as it is now,
            unassigned substitution modules included) or a `SearchSpace`
            (drawn before any assignment).
        hyperparameters: Draw hyperparameters as nodes linked to the modules
            that use them and, for dependent ones, to their parents.
        port_labels: Label each edge with its output and input port names.
        values: List each module's property values (or domains) in its box.
        title: A caption above the drawing.

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> source = to_graphviz(poster_space().sample(0)).source
        >>> "filters = " in source and "concat" in source
        True
    """
    graphviz = require("graphviz", "viz")
    graph, modules = _instance(arch_or_partial)
    dot = graphviz.Digraph("architecture", graph_attr=_GRAPH, node_attr={"fontname": _FONT},
                           edge_attr={"fontname": _FONT, "color": "#555555"})
    if title:
        dot.attr(label=title)
    upcoming, shared = graph.next(), _shared(modules)
    ids = {m.index: f"m{m.index}" for m in modules}
    for module in modules:
        dot.node(ids[module.index], _module_label(module, graph, values, upcoming, shared),
                 **_module_style(module, graph, upcoming))
    _draw_connections(dot, graph, modules, ids, port_labels)
    if hyperparameters:
        _draw_hyperparameters(dot, graph, modules, ids, upcoming, shared)
    return dot


def render(arch_or_partial: Drawable, format: str = "svg", **options: Any) -> bytes:
    """The drawing as bytes of an SVG, PNG or PDF file (options as in `to_graphviz`).

    Raises:
        MissingExtraError: the `graphviz` package or the Graphviz program is missing.

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> render(poster_space().sample(0), "png")[:4]
        b'\\x89PNG'
    """
    check_format(format, FORMATS)
    return pipe(to_graphviz(arch_or_partial, **options), format)


def draw(arch_or_partial: Drawable, path: str | Path, format: str | None = None,
         **options: Any) -> Path:
    """Draw an architecture or a partial instance into an SVG, PNG or PDF file.

    Args:
        arch_or_partial: An `Architecture`, an `Unfolding` or a `SearchSpace`.
        path: The file to write; its folder is created if needed. Without a
            suffix, the format's is added.
        format: "svg", "png" or "pdf"; by default the path's suffix, else "svg".
        **options: `hyperparameters`, `port_labels`, `values`, `title`, as in `to_graphviz`.

    Returns:
        The path written.

    Raises:
        MissingExtraError: the `graphviz` package or the Graphviz program is missing.

    Example:
        >>> import tempfile
        >>> from da_bridge.spaces.examples import poster_space
        >>> u = poster_space().unfold({"conv.filters": 64})
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     written = draw(u, Path(folder) / "partial.svg")
        ...     "substitution" in written.read_text()
        True
    """
    path = Path(path)
    suffix = path.suffix[1:].lower()
    if format is None:
        format = suffix if suffix in FORMATS else "svg"
        if suffix and suffix not in FORMATS:
            raise DomainError(str(path), suffix, "a file ending in .svg, .png or .pdf, "
                                                 "or an explicit format")
    data = render(arch_or_partial, format, **options)
    if not suffix:
        path = path.with_name(f"{path.name}.{format}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _instance(obj: Any) -> tuple[Graph, list[Module]]:
    if isinstance(obj, Architecture):
        return obj._graph, obj.modules
    if isinstance(obj, SearchSpace):
        obj = obj.unfold()
    if isinstance(obj, Unfolding):
        return obj._graph, obj.modules()
    raise DomainError("draw", type(obj).__name__,
                      "an Architecture, an Unfolding or a SearchSpace")


def _module_style(module: Module, graph: Graph, upcoming: Hyperparameter | None) -> dict:
    if module.kind == "substitution":
        style = dict(_SUBSTITUTION)
    elif module.name == "identity" and not module.hyperparameters and not module.fixed:
        style = dict(_IDENTITY)
    else:
        style = dict(_MODULE)
    if upcoming is not None and upcoming in module.hyperparameters.values():
        style.update(_NEXT)
    return style


def _module_label(module: Module, graph: Graph, show_values: bool,
                  upcoming: Hyperparameter | None, shared: set[Hyperparameter]) -> str:
    rows = []
    if module.kind == "substitution":
        rows.append('<FONT POINT-SIZE="9"><I>substitution</I></FONT>')
    rows.append(f"<B>{escape(module.name)}</B>")
    if module.path != module.name:
        rows.append(f'<FONT POINT-SIZE="9" COLOR="#555555">{escape(module.path)}</FONT>')
    if show_values:
        properties = {**module.fixed, **module.hyperparameters}
        rows += [_property_row(prop, properties[prop], graph, upcoming, shared)
                 for prop in sorted(properties)]
    cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def _property_row(prop: str, value: Any, graph: Graph, upcoming: Hyperparameter | None,
                  shared: set[Hyperparameter]) -> str:
    if not isinstance(value, Hyperparameter):
        text = f"{escape(prop)} = {escape(short_text(value))}"
    elif value in graph.values:
        text = f"{escape(prop)} = {escape(short_text(graph.values[value]))}"
    else:
        color = "#d62728" if value is upcoming else "#777777"
        pending = escape(_pending(value, graph))
        text = f'<FONT COLOR="{color}"><I>{escape(prop)} {pending}</I></FONT>'
    if isinstance(value, Hyperparameter) and value in shared:
        # shared choices are drawn apart from their users, so the row names the one it uses
        path = escape(graph.paths.get(value, "?"))
        text += f' <FONT POINT-SIZE="9" COLOR="#3d6b2f">({path})</FONT>'
    return f'<FONT POINT-SIZE="11">{text}</FONT>'


def _pending(h: Hyperparameter, graph: Graph) -> str:
    if isinstance(h, Dependent):
        return "= f(" + ", ".join(graph.paths.get(p, "?") for p in h.parents.values()) + ")"
    return f"in {_domain(h)}"


def _draw_connections(dot: graphviz.Digraph, graph: Graph, modules: list[Module],
                      ids: dict[int, str], port_labels: bool) -> None:
    for module in modules:
        for name, port in module.inputs.items():
            source = port.source
            if source is not None and source.module.index in ids:
                dot.edge(ids[source.module.index], ids[module.index],
                         **_port_attrs(source.name, name, port_labels))
    for i, (name, entry) in enumerate(graph.inputs.items()):
        if entry.module.index in ids:
            dot.node(f"input{i}", escape(name), **_BORDER)
            dot.edge(f"input{i}", ids[entry.module.index],
                     **_port_attrs(None, entry.name, port_labels))
    for i, (name, exit_port) in enumerate(graph.outputs.items()):
        if exit_port.module.index in ids:
            dot.node(f"output{i}", escape(name), **_BORDER)
            dot.edge(ids[exit_port.module.index], f"output{i}",
                     **_port_attrs(exit_port.name, None, port_labels))


def _port_attrs(tail: str | None, head: str | None, port_labels: bool) -> dict[str, str]:
    if not port_labels:
        return {}
    attrs = {"fontsize": "8", "fontcolor": "#666666"}
    if tail:
        attrs["taillabel"] = escape(tail)
    if head:
        attrs["headlabel"] = escape(head)
    return attrs


def _shared(modules: list[Module]) -> set[Hyperparameter]:
    """Hyperparameters used by more than one live module."""
    users: dict[Hyperparameter, int] = {}
    for module in modules:
        for h in set(module.hyperparameters.values()):
            users[h] = users.get(h, 0) + 1
    return {h for h, n in users.items() if n > 1}


def _draw_hyperparameters(dot: graphviz.Digraph, graph: Graph, modules: list[Module],
                          ids: dict[int, str], upcoming: Hyperparameter | None,
                          shared: set[Hyperparameter]) -> None:
    """Private choices sit by their module; shared ones and parents-only ones in a side box.

    Edges from a choice shared by many modules would cross the whole drawing,
    so the rows of those modules name the shared choice instead.
    """
    names: dict[Hyperparameter, str] = {}
    side = dot.__class__(name="cluster_shared", graph_attr={
        "label": "shared hyperparameters", "style": "rounded,dashed", "color": "#aaaaaa",
        "fontsize": "10", "fontcolor": "#666666"})
    used = {h for m in modules for h in m.hyperparameters.values()}

    def node(h: Hyperparameter) -> str:
        if h not in names:
            names[h] = f"h{len(names)}"
            target = side if h in shared or h not in used else dot
            target.node(names[h], _hyperparameter_label(h, graph),
                        **_hyperparameter_style(h, graph, upcoming))
            for key, parent in getattr(h, "parents", {}).items():
                dot.edge(node(parent), names[h], label=escape(key), **_DEPENDENCY)
        return names[h]

    for module in modules:
        for prop, h in module.hyperparameters.items():
            name = node(h)
            if h not in shared:
                dot.edge(name, ids[module.index], label=escape(prop), **_USE)
    if any(h in shared or h not in used for h in names):
        dot.subgraph(side)


def _hyperparameter_label(h: Hyperparameter, graph: Graph) -> str:
    path = escape(graph.paths.get(h, "?"))
    if h in graph.values:
        shown = f"= {escape(short_text(graph.values[h]))}"
    elif isinstance(h, Dependent):
        shown = "<I>waits for its parents</I>"
    else:
        shown = f"<I>in {escape(_domain(h))}</I>"
    return f'<{path}<BR/><FONT POINT-SIZE="9">{shown}</FONT>>'


def _hyperparameter_style(h: Hyperparameter, graph: Graph,
                          upcoming: Hyperparameter | None) -> dict[str, str]:
    style = dict(_HYPERPARAMETER)
    if isinstance(h, Dependent):
        style.update(peripheries="2", fillcolor="#efe6fa", color="#7a4fbf")
    if h not in graph.values:
        style.update(style="dashed,filled", fillcolor="#ffffff")
    if h is upcoming:
        style.update(_NEXT)
    return style


def pipe(dot: graphviz.Digraph, format: str) -> bytes:
    graphviz = require("graphviz", "viz")
    try:
        return dot.pipe(format=format)
    except graphviz.ExecutableNotFound as exc:
        raise MissingExtraError(DOT_MISSING) from exc


def check_format(format: str, allowed: tuple[str, ...]) -> None:
    if format not in allowed:
        raise DomainError("format", format, " or ".join(repr(f) for f in allowed))


def short_text(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:.4g}"
    else:
        shown = jsonable(value)
        text = shown["repr"] if isinstance(shown, dict) and "repr" in shown else str(shown)
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT - 3] + "..."


def _domain(h: Hyperparameter) -> str:
    text = repr(h)
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT - 3] + "..."


def escape(text: str) -> str:
    return html.escape(str(text), quote=True)
