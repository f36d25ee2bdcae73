"""What SPACE means on the command line: a built-in name or `module:attribute`.

`module:attribute` and `file.py:attribute` run code, so they are imported only when the
user names them; what a study records is used on its own only for built-in names
(`recorded_space`).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import pathlib
from collections.abc import Callable, Mapping
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


@dataclass
class Task:
    """A space with everything the CLI needs to search it.

    Attributes:
        space: The search space.
        objective: `objective(arch)` or `objective(arch, trial)`.
        directions: One direction per objective.
        describe: Turns an architecture into the text shown for the best ones
            (e.g. scikit-learn code); `repr` of the values map if None.
        report: Called with the `SearchResult` after the search for a final
            report (held-out scores, files written); returns lines to print.
        pruner: The Optuna pruner to use, if any.
    """

    space: SearchSpace
    objective: Callable[..., Any] | None = None
    directions: list[str] = field(default_factory=lambda: ["maximize"])
    describe: Callable[[Architecture], str] | None = None
    report: Callable[[Any], list[str]] | None = None
    pruner: Any = None


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
    if name.endswith(".py"):
        path = pathlib.Path(name)
        if not path.exists():
            raise OptionError(f"{what}: file {name!r} does not exist")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise OptionError(f"{what}: {name!r} cannot be imported as a Python file")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise OptionError(f"{what}: cannot import module {name!r}") from exc
        raise


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
