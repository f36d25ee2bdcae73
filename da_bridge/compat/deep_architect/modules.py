"""`deep_architect.modules`: substitution modules, combinators, `SearchSpaceFactory`.

The combinators are the engine's (same architectures, same counts, same
argument order); this module only keeps DeepArchitect's signatures
(`scope=None, name=None`). What differs:

- `substitution_module`: a `ValueError` raised by the substitution function
  rejects the architecture (`InvalidArchitectureError`), so sampling and every
  searcher draw again; DeepArchitect's MCTS retried on it, its other searchers
  crashed. `allow_input_subset` / `allow_output_subset` are refused: the
  engine splices a fragment only in place of every port.
- `SearchSpaceFactory.get_search_space()` builds a fresh engine instance
  (with its own names) instead of resetting a global scope.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from da_bridge import combinators as _combinators
from da_bridge.errors import DABridgeError, InvalidArchitectureError, SpaceError
from da_bridge.modules import Fragment, Input, Output, basic, substitution
from da_bridge.modules import identity as _identity
from da_bridge.space import SearchSpace

__all__ = [
    "SearchSpaceFactory",
    "as_search_space",
    "buffer_io",
    "dense_block",
    "hyperparameter_aggregator",
    "identity",
    "mimo_nested_repeat",
    "mimo_or",
    "preproc_apply_postproc",
    "siso_nested_repeat",
    "siso_optional",
    "siso_or",
    "siso_permutation",
    "siso_repeat",
    "siso_residual",
    "siso_sequential",
    "siso_split_combine",
    "substitution_module",
]

siso_sequential = _combinators.siso_sequential
siso_residual = _combinators.siso_residual


def substitution_module(name: str, substitution_fn: Callable[[dict[str, Any]], Fragment],
                        name_to_hyperp: Mapping[str, Any], input_names: Sequence[str],
                        output_names: Sequence[str], scope: Any = None,
                        allow_input_subset: bool = False,
                        allow_output_subset: bool = False) -> Fragment:
    """DeepArchitect's substitution module; `scope` (a registry there) is ignored.

    Example:
        >>> from da_bridge.compat.deep_architect.hyperparameters import D
        >>> def build():
        ...     return substitution_module(
        ...         "Chain", lambda dh: siso_sequential([identity() for _ in range(dh["n"])]),
        ...         {"n": D([1, 2])}, ["in"], ["out"], None)
        >>> SearchSpace(build).count()
        2
    """
    if allow_input_subset or allow_output_subset:
        raise SpaceError(f"substitution_module {name!r}: allow_input_subset and "
                         "allow_output_subset are not supported; return every port")
    return substitution(name, _rejecting(substitution_fn), dict(name_to_hyperp),
                        list(input_names), list(output_names))


def _rejecting(fn: Callable[[dict[str, Any]], Fragment]) -> Callable[[dict[str, Any]], Fragment]:
    def substitution_fn(dh: dict[str, Any]) -> Fragment:
        try:
            return fn(dh)
        except DABridgeError:
            raise
        except ValueError as exc:  # DeepArchitect's way to say "not a valid architecture"
            raise InvalidArchitectureError(str(exc) or type(exc).__name__) from exc

    return substitution_fn


def identity(scope: Any = None, name: str | None = None) -> Fragment:
    """A pass-through module."""
    return _identity(name or "Identity")


def hyperparameter_aggregator(name_to_hyperp: Mapping[str, Any], scope: Any = None,
                              name: str | None = None) -> Fragment:
    """A pass-through module that only carries hyperparameters."""
    return basic(name or "HyperparameterAggregator",
                 lambda values: lambda inputs: {"out": inputs["in"]}, dict(name_to_hyperp))


def mimo_or(fn_lst: Any, h_or: Any, input_names: Sequence[str], output_names: Sequence[str],
            scope: Any = None, name: str | None = None) -> Fragment:
    return _combinators.mimo_or(fn_lst, h_or, list(input_names), list(output_names),
                                name=name or "Or")


def siso_or(fn_lst: Any, h_or: Any, scope: Any = None, name: str | None = None) -> Fragment:
    return _combinators.siso_or(fn_lst, h_or, name=name or "SISOOr")


def siso_optional(fn: Callable[[], Fragment], h_opt: Any, scope: Any = None,
                  name: str | None = None) -> Fragment:
    return _combinators.siso_optional(fn, h_opt, name=name or "SISOOptional")


def siso_repeat(fn: Callable[[], Fragment], h_num_repeats: Any, scope: Any = None,
                name: str | None = None) -> Fragment:
    return _combinators.siso_repeat(fn, h_num_repeats, name=name or "SISORepeat")


def siso_permutation(fn_lst: Sequence[Callable[[], Fragment]], h_perm: Any, scope: Any = None,
                     name: str | None = None) -> Fragment:
    return _combinators.siso_permutation(fn_lst, h_perm, name=name or "SISOPermutation")


def siso_split_combine(fn: Callable[[], Fragment], combine_fn: Callable[[int], Fragment],
                       h_num_splits: Any, scope: Any = None, name: str | None = None
                       ) -> Fragment:
    return _combinators.siso_split_combine(fn, combine_fn, h_num_splits,
                                           name=name or "SISOSplitCombine")


def siso_nested_repeat(fn_first: Callable[[], Fragment], fn_iter: Callable[..., Fragment],
                       h_num_repeats: Any, scope: Any = None, name: str | None = None
                       ) -> Fragment:
    return _combinators.siso_nested_repeat(fn_first, fn_iter, h_num_repeats,
                                           name=name or "SISONestedRepeat")


def mimo_nested_repeat(fn_first: Callable[[], Fragment], fn_iter: Callable[..., Fragment],
                       h_num_repeats: Any, input_names: Sequence[str],
                       output_names: Sequence[str], scope: Any = None,
                       name: str | None = None) -> Fragment:
    """`fn_first()`, then `fn_iter(inputs, outputs)` applied `n - 1` times, any ports."""
    def substitution_fn(dh: dict[str, Any]) -> Fragment:
        inputs, outputs = fn_first()
        for _ in range(1, dh["num_reps"]):
            inputs, outputs = fn_iter(inputs, outputs)
        return inputs, outputs

    return substitution(name or "MIMONestedRepeat", substitution_fn,
                        {"num_reps": h_num_repeats}, list(input_names), list(output_names))


def preproc_apply_postproc(preproc_fn: Callable[[], Fragment], apply_fn: Callable[[], Fragment],
                           postproc_fn: Callable[[], Fragment]) -> Fragment:
    return siso_sequential([preproc_fn(), apply_fn(), postproc_fn()])


def dense_block(h_num_applies: Any, h_end_in_combine: Any, apply_fn: Callable[[], Fragment],
                combine_fn: Callable[[int], Fragment], scope: Any = None,
                name: str | None = None) -> Fragment:
    """DenseNet-like: each application is followed by a combine of every earlier output."""
    def substitution_fn(dh: dict[str, Any]) -> Fragment:
        i_inputs, i_outputs = identity()
        applied, combined = [i_outputs], [i_outputs]
        for idx in range(dh["num_applies"]):
            a_inputs, a_outputs = apply_fn()
            a_inputs["in"].connect(combined[-1]["out"])
            applied.append(a_outputs)
            if idx < dh["num_applies"] - 1 or dh["end_in_combine"]:
                c_inputs, c_outputs = combine_fn(idx + 2)
                for i, outputs in enumerate(applied):
                    c_inputs[f"in{i}"].connect(outputs["out"])
                combined.append(c_outputs)
        return i_inputs, combined[-1] if dh["end_in_combine"] else applied[-1]

    return substitution(name or "DenseBlock", _rejecting(substitution_fn),
                        {"num_applies": h_num_applies, "end_in_combine": h_end_in_combine})


def buffer_io(inputs: Mapping[str, Input], outputs: Mapping[str, Output]) -> Fragment:
    """Identity modules in front of (behind) border ports of substitution modules."""
    buffered_inputs: dict[str, Input] = {}
    buffered_outputs: dict[str, Output] = {}
    for name, in_port in inputs.items():
        if in_port.module.kind == "substitution":
            b_inputs, b_outputs = identity()
            b_outputs["out"].connect(in_port)
            in_port = b_inputs["in"]
        buffered_inputs[name] = in_port
    for name, out_port in outputs.items():
        if out_port.module.kind == "substitution":
            b_inputs, b_outputs = identity()
            out_port.connect(b_inputs["in"])
            out_port = b_outputs["out"]
        buffered_outputs[name] = out_port
    return buffered_inputs, buffered_outputs


class SearchSpaceFactory:
    """`SearchSpaceFactory(search_space_fn).get_search_space()`: a fresh, unspecified instance.

    Example:
        >>> from da_bridge.compat.deep_architect.hyperparameters import D
        >>> factory = SearchSpaceFactory(lambda: siso_repeat(identity, D([1, 2])))
        >>> inputs, outputs = factory.get_search_space()
        >>> sorted(inputs), sorted(outputs)
        (['in'], ['out'])
    """

    def __init__(self, search_space_fn: Callable[[], Fragment],
                 reset_default_scope_upon_get: bool = True) -> None:
        self.search_space_fn = search_space_fn
        self.reset_default_scope_upon_get = reset_default_scope_upon_get

    def space(self) -> SearchSpace:
        """The engine search space (what da_bridge's searchers and `count()` take)."""
        build = functools.partial(self._build)
        build.__qualname__ = getattr(self.search_space_fn, "__qualname__",  # type: ignore[attr-defined]
                                     repr(self.search_space_fn))
        return SearchSpace(build)

    def _build(self) -> Fragment:
        return buffer_io(*self.search_space_fn())

    def get_search_space(self) -> Fragment:
        built: list[Fragment] = []

        def build() -> Fragment:
            built.append(self._build())
            return built[-1]

        SearchSpace(build).unfold()  # the ports stay valid: the border is buffered
        return built[-1]


def as_search_space(search_space_fn: Any) -> SearchSpace:
    """The engine `SearchSpace` for a DeepArchitect search space function or factory."""
    if isinstance(search_space_fn, SearchSpace):
        return search_space_fn
    owner = getattr(search_space_fn, "__self__", None)
    if isinstance(owner, SearchSpaceFactory):
        return owner.space()
    if isinstance(search_space_fn, SearchSpaceFactory):
        return search_space_fn.space()
    return SearchSpaceFactory(search_space_fn).space()
