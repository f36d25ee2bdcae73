"""`da_bridge.study.results`: one row per trial, exported and loaded back unchanged."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import da_bridge
from da_bridge.spaces.examples import poster_space
from da_bridge.spaces.nasbench201 import NASBench201Evaluator, nasbench201_space
from da_bridge.study.results import export_results, load_results


def flaky(arch):
    if arch.values["conv.filters"] == 128 and not arch.values["optional.include"]:
        raise RuntimeError("out of memory")
    return float(len(arch.values))


@pytest.fixture(scope="module")
def study():
    # TPE's 12 trials (seed 0) include the failing kind of architecture
    return da_bridge.search(poster_space(), flaky, "optuna", n_trials=12, seed=0,
                            storage=":memory:", study_name="poster").study


@pytest.fixture(scope="module")
def two_objectives():
    space, evaluate = nasbench201_space(), NASBench201Evaluator("cifar10")
    size = NASBench201Evaluator("cifar10", metric="model_size")
    return da_bridge.search(space, lambda a: (evaluate(a), size(a)), "optuna", n_trials=6,
                            directions=["maximize", "minimize"], seed=0,
                            storage=":memory:").study


def test_one_row_per_trial_with_values_architecture_scores_state_and_timings(study):
    frame = load_results(study)
    assert list(frame.columns) == ["study", "number", "state", "direction", "score", "values",
                                   "architecture", "datetime_start", "datetime_complete",
                                   "duration"]
    assert list(frame["number"]) == list(range(12))
    failed = frame[frame["state"] == "FAIL"]
    assert len(failed) > 0 and failed["score"].isna().all()
    done = frame[frame["state"] == "COMPLETE"]
    assert (done["score"] == [len(v) for v in done["values"]]).all()
    row = frame.iloc[0]
    arch = poster_space().replay(row["values"])
    assert row["architecture"] == arch.to_json()
    assert (frame["duration"] >= 0).all()
    assert pd.api.types.is_datetime64_any_dtype(frame["datetime_start"])


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_and_load_round_trip(study, two_objectives, tmp_path, fmt):
    for source in (study, two_objectives):
        path = tmp_path / f"{source.study_name}.{fmt}"
        assert export_results(source, path) == len(source.trials)
        pd.testing.assert_frame_equal(load_results(path), load_results(source))


def test_several_objectives_get_one_column_each(two_objectives):
    frame = load_results(two_objectives)
    assert {"score_0", "score_1"} <= set(frame.columns) and "score" not in frame.columns
    assert set(frame["direction"]) == {"maximize,minimize"}


def test_loads_a_study_by_name_from_the_embedded_store(tmp_path, monkeypatch):
    monkeypatch.setenv("DA_BRIDGE_RUNS", str(tmp_path))
    da_bridge.search(poster_space(), lambda a: 1.0, n_trials=3, seed=0, study_name="named")
    frame = da_bridge.load_results("named")
    assert len(frame) == 3 and set(frame["study"]) == {"named"}


def test_jsonl_rows_are_plain_json(study, tmp_path):
    path = tmp_path / "rows.jsonl"
    export_results(study, path)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows[0]["values"] == load_results(study)["values"][0]


def test_bad_input_raises(study, tmp_path):
    with pytest.raises(ValueError, match="suffix"):
        export_results(study, tmp_path / "rows.xlsx")
    with pytest.raises(ValueError, match="format"):
        export_results(study, tmp_path / "rows.csv", format="xlsx")
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        load_results(tmp_path / "missing.csv")
    with pytest.raises(TypeError, match="study"):
        load_results(42)
