"""`sklearn_module`, `select_columns` and `siso_union`: modules for pipeline spaces."""

from __future__ import annotations

import pytest
from sklearn.decomposition import PCA
from sklearn.feature_selection import SelectKBest
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from da_bridge import Discrete, Float, SearchSpace, identity, siso_optional, siso_sequential
from da_bridge.errors import SpaceError
from da_bridge.spaces.sklearn import select_columns, siso_union, sklearn_module, to_pipeline


def test_the_module_name_and_paths_come_from_the_class():
    space = SearchSpace(lambda: sklearn_module(SVC, {"C": Float(1e-3, 1e3, log=True),
                                                     "kernel": Discrete(["rbf", "linear"])}))
    u = space.unfold()
    assert [h.name for h in u.pending()] == ["svc.C", "svc.kernel"]


def test_fixed_values_reach_the_estimator_and_an_explicit_name_is_kept():
    space = SearchSpace(lambda: sklearn_module(SVC, {"kernel": "linear"}, name="model"))
    (name, svc), = to_pipeline(space.replay({})).steps
    assert name == "model" and svc.kernel == "linear"


def test_each_compilation_builds_fresh_estimators():
    arch = SearchSpace(lambda: sklearn_module(StandardScaler)).replay({})
    assert to_pipeline(arch).steps[0][1] is not to_pipeline(arch).steps[0][1]


@pytest.mark.parametrize("cls, hyperparameters, match", [
    (SVC(), {}, "estimator class"),
    (dict, {}, "estimator class"),
    (SVC, {"C": 1.0, "kernal": "rbf"}, r"\['kernal'\] are not constructor arguments.*'kernel'"),
])
def test_bad_modules_are_rejected_at_construction(cls, hyperparameters, match):
    with pytest.raises(SpaceError, match=match):
        SearchSpace(lambda: sklearn_module(cls, hyperparameters)).unfold()


def test_an_optional_step_vanishes():
    def build():
        return siso_sequential([siso_optional(lambda: sklearn_module(StandardScaler),
                                              Discrete([False, True]), name="scale"),
                                sklearn_module(SVC)])
    space = SearchSpace(build)
    assert [n for n, _ in to_pipeline(space.replay({"scale.include": False})).steps] == ["svc"]
    assert [n for n, _ in to_pipeline(space.replay({"scale.include": True})).steps] == \
        ["standardscaler", "svc"]


def test_repeated_steps_get_unique_names():
    space = SearchSpace(lambda: siso_sequential([sklearn_module(StandardScaler),
                                                 sklearn_module(StandardScaler)]))
    assert [n for n, _ in to_pipeline(space.replay({})).steps] == \
        ["standardscaler", "standardscaler-2"]


def test_a_union_becomes_a_feature_union_with_passthrough_branches():
    space = SearchSpace(lambda: siso_sequential([
        sklearn_module(StandardScaler),
        siso_union({"pca": lambda: sklearn_module(PCA, {"n_components": 2}), "raw": identity}),
        sklearn_module(SVC)]))
    steps = to_pipeline(space.replay({})).steps
    assert [n for n, _ in steps] == ["standardscaler", "union", "svc"]
    union = steps[1][1]
    assert type(union).__name__ == "FeatureUnion"
    assert union.transformer_list[1] == ("raw", "passthrough")


def test_branches_that_select_columns_become_a_column_transformer():
    space = SearchSpace(lambda: siso_sequential([
        siso_union({"num": lambda: siso_sequential([select_columns(["a", "b"]),
                                                    sklearn_module(StandardScaler)]),
                    "keep": lambda: select_columns(["c"])}, name="columns"),
        sklearn_module(SVC)]))
    transformer = to_pipeline(space.replay({})).steps[0][1]
    assert type(transformer).__name__ == "ColumnTransformer"
    assert [(n, c) for n, _, c in transformer.transformers] == [("num", ["a", "b"]),
                                                                ("keep", ["c"])]
    assert transformer.transformers[1][1] == "passthrough"


def test_a_nested_pipeline_inside_a_union_branch():
    space = SearchSpace(lambda: siso_union([
        lambda: siso_sequential([sklearn_module(StandardScaler), sklearn_module(PCA)]),
        lambda: sklearn_module(SelectKBest)]))
    union = to_pipeline(space.replay({})).steps[0][1]
    assert [n for n, _ in union.transformer_list] == ["0", "1"]
    assert [n for n, _ in union.transformer_list[0][1].steps] == ["standardscaler", "pca"]


@pytest.mark.parametrize("fns, match", [({}, "at least one branch"),
                                        ({"a__b": identity}, "branch names")])
def test_bad_unions(fns, match):
    with pytest.raises(SpaceError, match=match):
        SearchSpace(lambda: siso_union(fns)).unfold()
