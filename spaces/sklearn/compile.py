"""Compile a specified pipeline architecture to a real, unfitted scikit-learn `Pipeline`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from da_bridge._imports import require
from da_bridge.architecture import Architecture
from da_bridge.errors import OptionTypeError, SpaceError

from ._steps import EMPTY, Chain, Columns, Step, Union, check_chain

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline


def to_pipeline(arch: Architecture) -> Pipeline:
    """The unfitted `Pipeline` a specified architecture stands for.

    Sequences become steps, `siso_union` branches a `FeatureUnion` (a
    `ColumnTransformer` when the branches select columns), switched-off
    optional steps vanish. Every call builds fresh estimator objects.

    Raises:
        SpaceError: the architecture has modules that are not scikit-learn modules.

    Example:
        >>> from da_bridge.spaces.sklearn import classification_space, to_pipeline
        >>> arch = classification_space().replay({
        ...     "scale.choice": "standard", "features.choice": "none",
        ...     "model.choice": "knn", "model/knn/kneighborsclassifier.n_neighbors": 5,
        ...     "model/knn/kneighborsclassifier.weights": "distance",
        ...     "impute.include": False})
        >>> to_pipeline(arch)
        Pipeline(steps=[('standardscaler', StandardScaler()),
                        ('kneighborsclassifier',
                         KNeighborsClassifier(weights='distance'))])
    """
    if not isinstance(arch, Architecture):
        raise OptionTypeError(f"to_pipeline needs an Architecture; got {type(arch).__name__}")
    if set(arch.inputs) != {"in"} or set(arch.outputs) != {"out"}:
        raise SpaceError(f"to_pipeline needs a single-input single-output space; it has inputs "
                         f"{sorted(arch.inputs)} and outputs {sorted(arch.outputs)}")
    chain = check_chain(arch.forward({"in": EMPTY})["out"], "the output of the space")
    pipeline = require("sklearn.pipeline", "sklearn")
    return pipeline.Pipeline(_steps(chain) or [("passthrough", "passthrough")])


def _steps(chain: Chain) -> list[tuple[str, Any]]:
    steps = [(item.name, _estimator_of(item)) for item in chain]
    return _unique_names(steps)


def _estimator_of(item: Step | Columns | Union) -> Any:
    if isinstance(item, Step):
        return item.estimator
    compose = require("sklearn.compose", "sklearn")
    if isinstance(item, Columns):
        return compose.ColumnTransformer([(item.name, "passthrough", item.columns)])
    if all(chain and isinstance(chain[0], Columns) for _, chain in item.branches):
        # the all() above checked that every chain starts with Columns
        return compose.ColumnTransformer([(key, _as_estimator(chain[1:]),
                                           cast(Columns, chain[0]).columns)
                                          for key, chain in item.branches])
    pipeline = require("sklearn.pipeline", "sklearn")
    return pipeline.FeatureUnion([(key, _as_estimator(chain)) for key, chain in item.branches])


def _as_estimator(chain: Chain) -> Any:
    """A branch as one estimator: "passthrough", the single step, or a Pipeline."""
    if not chain:
        return "passthrough"
    if len(chain) == 1 and isinstance(chain[0], Step):
        return chain[0].estimator
    return require("sklearn.pipeline", "sklearn").Pipeline(_steps(chain))


def _unique_names(steps: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Step names must be unique in a Pipeline: a repeated name becomes `name-2`, `name-3`."""
    seen: dict[str, int] = {}
    out = []
    for name, estimator in steps:
        seen[name] = seen.get(name, 0) + 1
        out.append((name if seen[name] == 1 else f"{name}-{seen[name]}", estimator))
    return out
