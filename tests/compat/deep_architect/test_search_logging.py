"""DeepArchitect's search_logging: the examples/mnist_with_logging loop, with a stand-in
evaluator, writing and reading per-evaluation folders."""

from __future__ import annotations

import json
import os

import da_keras_starter
import pytest

import da_bridge.compat.deep_architect.core as co
import da_bridge.compat.deep_architect.modules as mo
import da_bridge.compat.deep_architect.search_logging as sl
from da_bridge import StoreError
from da_bridge.compat.deep_architect.modules import as_search_space
from da_bridge.compat.deep_architect.searchers.common import specify
from da_bridge.compat.deep_architect.searchers.random import RandomSearcher


def search_space_fn():
    return da_keras_starter.dnn_net(10)


def evaluate(inputs, outputs):
    co.forward({inputs["in"]: []})
    return {"validation_accuracy": len(outputs["out"].val) / 10, "num_layers":
            len(outputs["out"].val)}


def run(folderpath, num_samples, delete_if_exists):
    """examples/mnist_with_logging/main.py's search loop, as written there."""
    sl.create_search_folderpath(folderpath, "search", delete_if_exists=delete_if_exists,
                                abort_if_exists=False, create_parent_folders=True)
    searcher = RandomSearcher(search_space_fn, seed=0)
    for evaluation_id in range(num_samples):
        eval_logger = sl.EvaluationLogger(folderpath, "search", evaluation_id)
        if not eval_logger.config_exists():
            inputs, outputs, hyperp_value_lst, eval_token = searcher.sample()
            results = evaluate(inputs, outputs)
            eval_logger.log_config(hyperp_value_lst, eval_token)
            eval_logger.log_results(results)
            searcher.update(results["validation_accuracy"], eval_token)


def test_the_logging_loop_writes_folders_that_replay_their_architectures(tmp_path):
    folder = str(tmp_path / "logs")
    run(folder, 3, delete_if_exists=True)
    search = sl.get_search_folderpath(folder, "search")
    assert sorted(os.listdir(search)) == ["evaluations", "search_data"]
    assert sorted(os.listdir(os.path.join(search, "evaluations"))) == ["x0", "x1", "x2"]
    assert os.path.isdir(sl.get_evaluation_data_folderpath(folder, "search", 1))
    logs = sl.read_search_folder(search)
    assert len(logs) == 3
    space = as_search_space(search_space_fn)
    for log in logs:
        config = log["config"]
        values = config["searcher_evaluation_token"]["values"]
        arch = space.replay(values)  # the token's values map rebuilds the architecture
        inputs, outputs = mo.SearchSpaceFactory(search_space_fn).get_search_space()
        specify(outputs, config["hyperp_value_lst"])  # and so does DeepArchitect's list
        assert evaluate(inputs, outputs) == log["results"]
        assert list(arch.values.values()) == config["hyperp_value_lst"]
    run(folder, 5, delete_if_exists=False)  # resumes: the three logged ones are kept
    assert [log["config"] for log in sl.read_search_folder(search)][:3] == \
        [log["config"] for log in logs]
    assert len(sl.read_search_folder(search)) == 5


def test_files_are_deep_architects_json(tmp_path):
    logger = sl.SearchLogger(str(tmp_path), "s").get_evaluation_logger(0)
    logger.log_config([1, "relu"], {"values": {"a": 1}})
    with open(os.path.join(logger.get_evaluation_folderpath(), "config.json")) as f:
        assert json.load(f) == {"hyperp_value_lst": [1, "relu"],
                                "searcher_evaluation_token": {"values": {"a": 1}}}
    assert logger.config_exists() and not logger.results_exist()


def test_what_deep_architect_asserted_raises_store_error_naming_the_path(tmp_path):
    folder = str(tmp_path)
    logger = sl.SearchLogger(folder, "s").get_evaluation_logger(0)
    with pytest.raises(StoreError, match="before its results"):
        logger.log_results({"acc": 1.0})
    logger.log_config([], {})
    with pytest.raises(StoreError, match="config.json' was logged already"):
        logger.log_config([], {})
    logger.log_results({"acc": 1.0})
    with pytest.raises(StoreError, match="results.json' was logged already"):
        logger.log_results({"acc": 2.0})
    with pytest.raises(StoreError, match="exists; pass abort_if_exists=False"):
        sl.SearchLogger(folder, "s")
    with pytest.raises(StoreError, match="x0' exists"):
        sl.EvaluationLogger(folder, "s", 0, abort_if_exists=True)
    with pytest.raises(StoreError, match="x7' does not exist"):
        sl.EvaluationLogger(folder, "s", 7, abort_if_notexists=True)
    with pytest.raises(StoreError, match="exclude each other"):
        sl.create_search_folderpath(folder, "t", abort_if_exists=True, delete_if_exists=True)
    with pytest.raises(StoreError, match="create_parent_folders=True"):
        sl.create_search_folderpath(str(tmp_path / "missing"), "t")
    assert sl.SearchLogger(folder, "s", abort_if_exists=False, delete_if_exists=True)
    assert sl.read_search_folder(sl.get_search_folderpath(folder, "s")) == []


def test_nested_search_folders_are_found(tmp_path):
    for name in ("a/one", "a/two", "b"):
        logger = sl.SearchLogger(str(tmp_path), name).get_evaluation_logger(0)
        logger.log_config([len(name)], {})
        logger.log_results({"n": len(name)})
    found = sl.recursive_read_search_folders(str(tmp_path))
    assert [(os.path.relpath(d["search_folderpath"], tmp_path), d["num_logs"]) for d in found] \
        == [("a/one", 1), ("a/two", 1), ("b", 1)]
    assert found[0]["log_lst"][0] == {"config": {"hyperp_value_lst": [5],
                                                 "searcher_evaluation_token": {}},
                                      "results": {"n": 5}}
