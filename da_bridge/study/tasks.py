"""What SPACE means on the command line: a built-in name or `module:attribute`.

`module:attribute` and `file.py:attribute` run code, so they are imported only when the
user names them; what a study records is used on its own only for built-in names
(`recorded_space`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import os
import pathlib
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from da_bridge.architecture import Architecture
from da_bridge.errors import OptionError, SpaceError
from da_bridge.space import SearchSpace
from da_bridge.study._schema import CLI_ATTR

#: Built-in tasks: a space with its own objective and options (`add_arguments`, `make_task`).
TASKS = {
    "sklearn": "da_bridge.spaces.sklearn.task",
    "keras": "da_bridge.spaces.keras.task",
    "augment": "da_bridge.spaces.augment.task",
    "nasbench201": "da_bridge.spaces.nasbench201.task",
    "nasbenchgraph": "da_bridge.spaces.nasbenchgraph.task",
}

#: Built-in spaces without an objective (give one with --objective).
SPACES = {
    "poster": "da_bridge.spaces.examples:poster_space",
    "mobile_net": "da_bridge.spaces.examples:mobile_net_space",
}


@dataclass(frozen=True)
class Panel:
    """What a domain's users read about an architecture, shown by the HTML report.

    Give exactly one of `text` (shown as a line, or as code with `code=True`),
    `png` (a picture's bytes) or `svg` (a drawing's text).

    Example:
        >>> Panel("Parameters", "21,482").text
        '21,482'
    """

    title: str
    text: str | None = None
    code: bool = False
    png: bytes | None = None
    svg: str | None = None


@dataclass
class Task:
    """A space with everything the CLI and the report need to search it and show the results.

    Attributes:
        space: The search space.
        objective: `objective(arch)` or `objective(arch, trial)`.
        directions: One direction per objective.
        describe: Turns an architecture into the text shown for the best ones
            (e.g. scikit-learn code); `repr` of the values map if None.
        report: Called with the `SearchResult` after the search for a final
            report (held-out scores, files written); returns lines to print.
        pruner: The Optuna pruner to use, if any.
        panels: The report's view of a best architecture for this domain's users
            (e.g. its scikit-learn code, its policy with pictures, its Keras layers).
        columns: A values map's key columns for the report's trial table
            (`{"model": "svc", ...}`); by default its top-level choices.
        confirm: `confirm(arch, seed)` re-evaluates an architecture with another seed and
            returns its measurements (e.g. one score per fold), for `--confirm`.
        canonical: Maps an architecture to a key equal for equivalent architectures
            (e.g. an augmentation policy whose steps are reordered or switched off),
            None if every values map is its own; the task's objective may score one
            architecture per key.
    """

    space: SearchSpace
    objective: Callable[..., Any] | None = None
    directions: list[str] = field(default_factory=lambda: ["maximize"])
    describe: Callable[[Architecture], str] | None = None
    report: Callable[[Any], list[str]] | None = None
    pruner: Any = None
    panels: Callable[[Architecture], list[Panel]] | None = None
    columns: Callable[[Mapping[str, Any]], dict[str, str]] | None = None
    confirm: Callable[[Architecture, int], list[float]] | None = None
    canonical: Callable[[Architecture], str] | None = None


def task_names() -> list[str]:
    return sorted([*TASKS, *SPACES])


def add_task_arguments(parser: argparse.ArgumentParser, space: str) -> None:
    """Add the options of a built-in task (nothing for other spaces)."""
    if space in TASKS:
        _task_module(space).add_arguments(parser)


def make_task(space: str, args: argparse.Namespace) -> Task:
    """The task for SPACE; `--objective` is required unless SPACE is a built-in task."""
    if space in TASKS:
        task = _task_module(space).make_task(args)
    else:
        task = Task(load_space(space))
    if getattr(args, "objective", None):
        task.objective = load_object(args.objective, "--objective")
    if task.objective is None:
        raise OptionError(f"space {space!r} has no built-in objective; pass --objective MODULE:FN")
    return task


def load_space(spec: str) -> SearchSpace:
    """A built-in space name, or `module:attr` naming a SearchSpace or a function returning one."""
    target = load_object(SPACES.get(spec, spec), "SPACE")
    if isinstance(target, SearchSpace):
        return target
    if not callable(target):
        raise OptionError(f"{spec!r} is neither a SearchSpace nor a function")
    try:
        result = target()
    except SpaceError:  # a build function: it makes modules, so it must run inside a space
        return SearchSpace(target)
    if isinstance(result, SearchSpace):
        return result
    raise OptionError(f"{spec!r} returned {type(result).__name__}, not a SearchSpace")


def load_object(spec: str, what: str) -> Any:
    """Import `module:attribute` (or `path/to/file.py:attribute`)."""
    if ":" not in spec:
        raise OptionError(f"{what} {spec!r} must be a built-in name ({', '.join(task_names())}) "
                         "or MODULE:NAME")
    module_name, attribute = spec.rsplit(":", 1)
    module = _import(module_name, what)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise OptionError(f"{what}: module {module_name!r} has no attribute "
                          f"{attribute!r}") from None


def _import(name: str, what: str) -> Any:
    """A module by file path or by name; both are looked up from the current directory (as
    `python -m` does), which a console script does not put on `sys.path`."""
    if name.endswith(".py"):
        path = pathlib.Path(name).resolve()
        if not path.exists():
            raise OptionError(f"{what}: file {name!r} does not exist (looked in the current "
                              f"directory {os.getcwd()!r})")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise OptionError(f"{what}: {name!r} cannot be imported as a Python file")
        module = importlib.util.module_from_spec(spec)
        with _importable(path.parent):  # its own `import helpers` finds its neighbours
            spec.loader.exec_module(module)
        return module
    try:
        with _importable(pathlib.Path.cwd()):
            return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise OptionError(
                f"{what}: cannot import module {name!r}: it is neither in the current directory "
                f"{os.getcwd()!r} nor installed; run from the folder that holds "
                f"{name.split('.')[0]}.py, or give its path as FILE.py:NAME") from exc
        raise


@contextlib.contextmanager
def _importable(folder: pathlib.Path) -> Iterator[None]:
    """`folder` on `sys.path` for an import; it stays if a module was found there, so that
    the module's later imports of its neighbours work too."""
    entry = str(folder)
    if entry in sys.path:
        yield
        return
    sys.path.insert(0, entry)
    before = set(sys.modules)
    try:
        yield
    finally:
        found = any(_inside(sys.modules[m], folder) for m in set(sys.modules) - before)
        if not found:
            sys.path.remove(entry)


def _inside(module: Any, folder: pathlib.Path) -> bool:
    origin = getattr(module, "__file__", None)
    return origin is not None and pathlib.Path(origin).resolve().is_relative_to(folder.resolve())


def recorded_space(study_name: str, user_attrs: Mapping[str, Any]) -> tuple[str, list[str]]:
    """SPACE and its options as the command line recorded them in a study, if SPACE is built in.

    A study's record never makes da_bridge import code: anyone who can write the store can
    write it. A recorded `MODULE:NAME` raises `SpaceError` showing it, so that the user can
    name it on the command line.

    Raises:
        SpaceError: the study has no record, or it names code.

    Example:
        >>> recorded_space("s", {CLI_ATTR: {"space": "poster", "options": []}})
        ('poster', [])
        >>> try:
        ...     recorded_space("s", {CLI_ATTR: {"space": "mine:space", "options": []}})
        ... except SpaceError as exc:
        ...     print(str(exc).split(",")[0])
        study 's' was searched on SPACE 'mine:space'
    """
    record = user_attrs.get(CLI_ATTR)
    if not isinstance(record, Mapping) or not isinstance(record.get("space"), str):
        raise SpaceError(f"study {study_name!r} does not record its SPACE (it was not made "
                         "from the command line); give SPACE")
    name, options = record["space"], [str(o) for o in record.get("options") or []]
    if name not in TASKS and name not in SPACES:
        shown = " ".join([name, *options])
        raise SpaceError(f"study {study_name!r} was searched on SPACE {shown!r}, which is code: "
                         "da_bridge imports it only when you name it on the command line "
                         "(SPACE, or --space for report)")
    return name, options


def _task_module(name: str) -> Any:
    return importlib.import_module(TASKS[name])
