"""`da_bridge.adapters.surrogate`: path-keyed features, a forest surrogate, a held-out report."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingRegressor

import da_bridge
from da_bridge.adapters.surrogate import Featurizer, SurrogateModel
from da_bridge.spaces.examples import poster_space
from da_bridge.spaces.nasbench201 import NASBench201Evaluator, nasbench201_space
from da_bridge.study.store import load_study
from da_bridge.study.surrogate import fit, training_data


@pytest.fixture(scope="module")
def nasbench_study():
    space, evaluate = nasbench201_space(), NASBench201Evaluator("cifar100")
    return da_bridge.search(space, evaluate, "random", n_trials=60, direction="maximize",
                            seed=0, storage=":memory:").study


def test_features_are_keyed_by_path_and_missing_means_inactive():
    f = Featurizer(counts=False).fit([
        {"conv.filters": 64, "optional.include": True, "optional/dropout.rate": 0.5},
        {"conv.filters": 128, "optional.include": False},
        {"conv.filters": 64, "act": {"index": 2, "repr": "gelu"}},
    ])
    assert f.names == ["conv.filters", "optional.include=true", "optional/dropout.rate",
                       "optional.include=false", "act=#2"]
    X = f.transform([{"conv.filters": 128, "optional.include": False},
                     {"unknown.path": 3, "act": {"index": 2, "repr": "gelu"}}])
    # an absent number gets a value below every observed one: a tree splits it off
    rate_fill, filters_fill = 0.5 - 0.0 - 1.0, 64.0 - (128.0 - 64.0) - 1.0
    assert X.tolist() == [[128.0, 0.0, rate_fill, 1.0, 0.0],
                          [filters_fill, 0.0, rate_fill, 0.0, 1.0]]


def test_counts_pool_one_property_across_paths():
    f = Featurizer().fit([{"edge_0_1.op": "conv", "edge_1_2.op": "conv", "cell/x.op": "pool"}])
    assert f.names[-2:] == ["count(op=conv)", "count(op=pool)"]
    X = f.transform([{"edge_0_1.op": "pool", "edge_1_2.op": "pool"}])
    assert X[0, -2:].tolist() == [0.0, 2.0]


def test_feature_names_do_not_depend_on_the_process():
    # DeepArchitect hashed names with the salted hash(); a path is the same everywhere.
    code = ("from da_bridge.spaces.examples import poster_space; "
            "from da_bridge.adapters.surrogate import Featurizer; "
            "print(Featurizer().fit(poster_space().sample(i).json_values() "
            "for i in range(20)).names)")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True, env={"PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")}
    assert len(outputs) == 1
    assert "conv.filters" in outputs.pop()


def test_fit_on_a_study_beats_the_mean_predictor(nasbench_study):
    model = fit(nasbench_study, seed=0)
    report = model.report
    assert (report.n_train, report.n_test) == (45, 15)
    assert report.beats_baseline
    assert report.spearman > 0.3
    assert "held-out MAE" in str(report)
    assert model.n_trials == 60  # refit on every trial after the report


def test_predicts_unseen_architectures(nasbench_study):
    model = fit(nasbench_study, seed=0)
    good = {f"edge_{i}_{j}.op": "nor_conv_3x3" for i, j in
            ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))}
    empty = dict.fromkeys(good, "none")
    mean, std = model.predict(good, return_std=True)
    assert mean > model.predict(empty)
    assert std >= 0
    means, stds = model.predict_many([good, empty])
    assert means.shape == stds.shape == (2,)


def test_sources_a_study_name_a_frame_and_pairs_agree(nasbench_study, tmp_path, monkeypatch):
    pairs = training_data(nasbench_study)
    assert len(pairs) == 60
    frame = da_bridge.load_results(nasbench_study)
    assert training_data(frame) == pairs
    monkeypatch.setenv("DA_BRIDGE_RUNS", str(tmp_path))
    da_bridge.search(poster_space(), lambda arch: len(arch.values), n_trials=8, seed=0,
                     study_name="poster")
    assert len(training_data("poster")) == 8
    assert training_data(load_study("poster")) == training_data("poster")


def test_other_estimators(nasbench_study):
    assert fit(nasbench_study, estimator="et").report.beats_baseline
    boosted = fit(nasbench_study, estimator=GradientBoostingRegressor(random_state=0))
    assert boosted.predict(training_data(nasbench_study)[0][0], return_std=True)[1] == 0.0


def test_train_uses_every_pair():
    history = [({"width": w}, float(w)) for w in range(10)]
    model = SurrogateModel.train(history, seed=0)
    assert model.report is None and model.n_trials == 10
    assert np.isclose(model.predict({"width": 9}), 9, atol=1.5)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="at least"):
        fit([({"a": 1}, 1.0), ({"a": 2}, 2.0)])
    with pytest.raises(ValueError, match="test_size"):
        fit([({"a": 1}, 1.0)] * 10, test_size=1.5)
    with pytest.raises(ValueError, match="estimator"):
        fit([({"a": i}, float(i)) for i in range(10)], estimator="svm")
