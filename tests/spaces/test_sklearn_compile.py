"""`to_pipeline` and `pipeline_code`: real pipelines, and code that rebuilds them."""

from __future__ import annotations

import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from da_bridge import SearchSpace, basic, identity
from da_bridge.errors import SpaceError
from da_bridge.spaces.sklearn import (
    classification_space,
    pipeline_code,
    regression_space,
    to_pipeline,
)


def _params(estimator):
    """Parameters as comparable text, floats rounded as `pipeline_code` writes them."""
    out = {}
    for key, value in estimator.get_params(deep=True).items():
        if hasattr(value, "get_params") or key.endswith(("steps", "transformer_list",
                                                         "transformers")):
            continue
        out[key] = f"{value:.6g}" if isinstance(value, float) else repr(value)
    return out


@pytest.mark.parametrize("space", [
    classification_space(),
    regression_space(),
    classification_space(numeric_columns=["a"], categorical_columns=["b"], impute=True),
], ids=["classification", "regression", "columns"])
def test_the_code_rebuilds_the_pipeline(space):
    for seed in range(25):
        pipeline = to_pipeline(space.sample(seed))
        namespace: dict = {}
        exec(pipeline_code(pipeline), namespace)  # noqa: S102 - the code we generate
        rebuilt = namespace["pipeline"]
        assert isinstance(rebuilt, Pipeline)
        assert _params(rebuilt) == _params(pipeline)


def test_the_pipeline_is_unfitted_and_clonable():
    pipeline = to_pipeline(classification_space().sample(3))
    assert not hasattr(pipeline, "n_features_in_")
    assert repr(clone(pipeline)) == repr(pipeline)


def test_code_imports_from_public_modules():
    code = pipeline_code(to_pipeline(classification_space(models=["svc"]).sample(0)))
    assert "from sklearn.svm import SVC" in code
    assert "._" not in code


def test_an_empty_space_is_a_passthrough_pipeline():
    assert to_pipeline(SearchSpace(identity).replay({})).steps == [("passthrough", "passthrough")]


def test_foreign_modules_are_reported():
    space = SearchSpace(lambda: basic("double", lambda v: lambda x: {"out": 2}))
    with pytest.raises(SpaceError, match="to_pipeline"):
        to_pipeline(space.replay({}))


def test_to_pipeline_needs_an_architecture():
    with pytest.raises(TypeError, match="Architecture"):
        to_pipeline(classification_space())
