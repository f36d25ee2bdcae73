"""Stable path names for modules and hyperparameters.

Names come from where an object is built, never from global counters: a
module's path is its scope plus its name (`block_chain/repeat`), a
hyperparameter's path is the path of the first module that uses it plus the
property (`block_chain/repeat.n`) unless it was given an explicit name. Two
modules with the same name in one scope become `conv` and `conv-2`: the
suffix depends only on the build function, so names are the same in every
process and for every instance built with the same earlier assignments.

The build context (which instance is being built, in which scope) lives in a
`ContextVar` that is set only while a build or substitution function runs.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any

from da_bridge.errors import NameClashError, SpaceError


class Namespace:
    """The names claimed in one search-space instance."""

    def __init__(self) -> None:
        self.modules: set[str] = set()
        self._suffixes: dict[str, int] = {}  # base path -> last suffix claimed: O(1) claims
        self.hyperparameters: dict[str, Any] = {}
        self.hyperparameter_counts: dict[str, int] = {}  # scope -> hyperparameters created

    def claim_module(self, scope: str, name: str) -> str:
        """A unique module or scope path for `name` inside `scope`."""
        base = f"{scope}/{name}" if scope else name
        k = self._suffixes.get(base)
        if k is None:
            path, k = base, 1
        else:  # `base-k` was the last one claimed: start after it
            k += 1
            path = f"{base}-{k}"
        while path in self.modules:
            k += 1
            path = f"{base}-{k}"
        self._suffixes[base] = k
        self.modules.add(path)
        return path

    def claim_hyperparameter(self, path: str, owner: Any) -> str:
        """Register `owner` under `path`; a second owner of one path is an error."""
        other = self.hyperparameters.setdefault(path, owner)
        if other is not owner:
            raise NameClashError(
                f"two hyperparameters are named {path!r}: {other!r} and {owner!r}; "
                "give one of them another name=")
        return path

    def claim_hyperparameter_prefix(self, path: str, owner: Any) -> str:
        """Register `owner` under `path`, or `path-2`, `path-3`... if taken.

        For names that are prefixes (DeepArchitect's `name=`): the suffix follows
        the order hyperparameters go live in, which the build function and the
        earlier assignments fix, so it is the same in every process.
        """
        if self.hyperparameters.get(path, owner) is owner:
            self.hyperparameters[path] = owner
            return path
        k = self._suffixes.get("#h:" + path, 1)
        candidate = path
        while candidate in self.hyperparameters:
            k += 1
            candidate = f"{path}-{k}"
        self._suffixes["#h:" + path] = k
        self.hyperparameters[candidate] = owner
        return candidate


class BuildContext:
    """Which instance is being built, in which scope; `with` makes it the current one.

    A class rather than a `contextlib.contextmanager`: every substitution that fires
    enters one, and a generator-based manager costs several times more per entry.
    """

    __slots__ = ("instance", "namespace", "scope", "_token")

    def __init__(self, instance: Any, namespace: Namespace, scope: str) -> None:
        self.instance, self.namespace, self.scope = instance, namespace, scope

    def __enter__(self) -> str:
        self._token = CURRENT.set(self)
        return self.scope

    def __exit__(self, *exc: object) -> None:
        CURRENT.reset(self._token)


CURRENT: ContextVar[BuildContext | None] = ContextVar("da_bridge_build", default=None)


def join(scope: str, name: str) -> str:
    return f"{scope}/{name}" if scope else name


def check_segment(name: Any, what: str) -> None:
    """Reject names that would break paths."""
    if not isinstance(name, str) or not name or "/" in name:
        raise SpaceError(f"{what} must be a non-empty string without '/'; got {name!r}")


def current() -> BuildContext:
    """The active build context; modules can only be created inside one."""
    ctx = CURRENT.get()
    if ctx is None:
        raise SpaceError(
            "modules are created inside a search space: wrap the code in a build "
            "function and pass it to SearchSpace(build_fn)")
    return ctx


def creation_key(hyperparameter: Any) -> tuple[str, tuple[Any, ...]]:
    """The scope a hyperparameter is created in, and its stable identity key."""
    ctx = CURRENT.get()
    if ctx is None:
        return "", ("", "global", id(hyperparameter))
    counts, scope = ctx.namespace.hyperparameter_counts, ctx.scope
    n = counts.get(scope, 0)
    counts[scope] = n + 1
    return scope, (scope, n)


class _Scope:
    """The context manager `scope(name)` returns; the name is claimed on entry."""

    __slots__ = ("name", "_inner")

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> str:
        ctx = current()
        path = ctx.namespace.claim_module(ctx.scope, self.name)
        self._inner = BuildContext(ctx.instance, ctx.namespace, path)
        return self._inner.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__()


def scope(name: str) -> AbstractContextManager[str]:
    """Put the modules and hyperparameters built in the block under `name`.

    Use it in loops so that paths say where things are
    (`block_chain/reduction_1/repeat.n`). A repeated name in one scope gets a
    suffix (`block`, `block-2`).

    Example:
        >>> from da_bridge import SearchSpace, Discrete, basic
        >>> def build():
        ...     with scope("stem"):
        ...         return basic("conv", lambda v: lambda x: x, {"filters": Discrete([8, 16])})
        >>> SearchSpace(build).unfold().next().name
        'stem/conv.filters'
    """
    check_segment(name, what="scope name")
    return _Scope(name)
