"""Modules that stand for scikit-learn estimators, column selections and feature unions.

Every module here is single-input single-output (ports "in" and "out") and
composes with the engine's combinators: `siso_sequential` makes pipeline
steps, `siso_optional` a step that may vanish, `siso_or` a choice of steps,
and `siso_union` parallel branches whose features are concatenated.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from da_bridge import basic, identity, scope
from da_bridge.errors import SpaceError
from da_bridge.modules import Fragment, FragmentFn

from ._steps import Columns, Step, extend, merge


def sklearn_module(estimator_cls: type, hyperparameters: Mapping[str, Any] | None = None, *,
                   name: str | None = None) -> Fragment:
    """A pipeline step: `estimator_cls(**values)` once its hyperparameters have values.

    Args:
        estimator_cls: Any scikit-learn transformer or estimator class.
        hyperparameters: `{constructor argument: Hyperparameter or fixed value}`.
        name: The module name, which is also the pipeline step name; by default
            the lowercased class name, as `make_pipeline` names steps.

    Raises:
        SpaceError: `estimator_cls` is not an estimator class, or a key is not
            one of its constructor arguments.

    Example:
        >>> from sklearn.svm import SVC
        >>> from da_bridge import Float, SearchSpace
        >>> from da_bridge.spaces.sklearn import sklearn_module, to_pipeline
        >>> space = SearchSpace(lambda: sklearn_module(SVC, {"C": Float(1e-3, 1e3, log=True)}))
        >>> space.unfold().next().name
        'svc.C'
        >>> to_pipeline(space.replay({"svc.C": 10.0}))
        Pipeline(steps=[('svc', SVC(C=10.0))])
    """
    hyperparameters = dict(hyperparameters or {})
    _check_estimator_class(estimator_cls, hyperparameters)
    step_name = name or estimator_cls.__name__.lower()

    def compile_fn(values: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def forward(inputs: dict[str, Any]) -> dict[str, Any]:
            estimator = estimator_cls(**copy.deepcopy(values))  # a fresh object per pipeline
            return {"out": extend(inputs["in"], Step(step_name, estimator), step_name)}

        return forward

    return basic(step_name, compile_fn, hyperparameters)


def select_columns(columns: Any, *, name: str = "columns") -> Fragment:
    """Keep only `columns` (names, indices, a mask or a `make_column_selector`).

    A branch of `siso_union` that starts with a column selection becomes an
    entry of a `ColumnTransformer`; elsewhere the selection compiles to a
    `ColumnTransformer` with that one entry.

    Example:
        >>> from sklearn.preprocessing import StandardScaler
        >>> from da_bridge import SearchSpace, siso_sequential
        >>> from da_bridge.spaces.sklearn import select_columns, sklearn_module, to_pipeline
        >>> space = SearchSpace(lambda: siso_sequential([
        ...     select_columns(["age"]), sklearn_module(StandardScaler)]))
        >>> [name for name, _ in to_pipeline(space.replay({})).steps]
        ['columns', 'standardscaler']
    """
    def compile_fn(values: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        return lambda inputs: {"out": extend(inputs["in"], Columns(name, values["columns"]), name)}

    return basic(name, compile_fn, {"columns": columns})


def siso_union(fns: Sequence[FragmentFn] | Mapping[str, FragmentFn], *,
               name: str = "union") -> Fragment:
    """Parallel branches on the same input, their features side by side.

    Compiles to a `FeatureUnion`, or to a `ColumnTransformer` when every branch
    starts with `select_columns`. A branch that is only an identity passes
    its input through (`"passthrough"`).

    Args:
        fns: Branch thunks; a dict's keys (or the list positions) name the
            branches: their paths (`union/<key>/...`) and transformer names.
        name: The module path segment and the pipeline step name.

    Example:
        >>> from sklearn.decomposition import PCA
        >>> from sklearn.feature_selection import SelectKBest
        >>> from da_bridge import Int, SearchSpace
        >>> from da_bridge.spaces.sklearn import siso_union, sklearn_module, to_pipeline
        >>> space = SearchSpace(lambda: siso_union({
        ...     "pca": lambda: sklearn_module(PCA, {"n_components": 2}),
        ...     "select": lambda: sklearn_module(SelectKBest, {"k": Int(1, 3)})}))
        >>> to_pipeline(space.replay({"union/select/selectkbest.k": 2})).steps[0][1]
        FeatureUnion(transformer_list=[('pca', PCA(n_components=2)),
                                       ('select', SelectKBest(k=2))])
    """
    options = dict(fns) if isinstance(fns, Mapping) else {str(i): fn for i, fn in enumerate(fns)}
    if not options:
        raise SpaceError(f"siso_union {name!r} needs at least one branch")
    for key in options:
        if not isinstance(key, str) or not key or "/" in key or "__" in key:
            raise SpaceError(f"siso_union {name!r}: branch names must be non-empty strings "
                             f"without '/' or '__'; got {key!r}")
    keys = list(options)
    with scope(name):
        fork_in, fork_out = identity("fork")
        combine_in, combine_out = basic("combine", _union_compile(name, keys), {},
                                        inputs=[f"in{i}" for i in range(len(keys))])
        for i, key in enumerate(keys):
            with scope(key):
                branch_in, branch_out = options[key]()
            fork_out["out"].connect(branch_in["in"])
            branch_out["out"].connect(combine_in[f"in{i}"])
    return fork_in, combine_out


def _union_compile(name: str, keys: list[str]) -> Callable[[dict[str, Any]], Any]:
    def compile_fn(values: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        return lambda inputs: {"out": merge(name, keys, [inputs[f"in{i}"]
                                                         for i in range(len(keys))])}

    return compile_fn


def _check_estimator_class(estimator_cls: Any, hyperparameters: dict[str, Any]) -> None:
    if not inspect.isclass(estimator_cls) or not hasattr(estimator_cls, "get_params"):
        raise SpaceError(f"sklearn_module needs a scikit-learn estimator class; "
                         f"got {estimator_cls!r}")
    parameters = inspect.signature(estimator_cls.__init__).parameters.values()
    if any(p.kind == p.VAR_KEYWORD for p in parameters):
        return
    allowed = sorted(p.name for p in parameters
                     if p.name != "self" and p.kind != p.VAR_POSITIONAL)
    unknown = sorted(set(hyperparameters) - set(allowed))
    if unknown:
        raise SpaceError(f"sklearn_module({estimator_cls.__name__}): {unknown} are not "
                         f"constructor arguments; allowed: {allowed}")
