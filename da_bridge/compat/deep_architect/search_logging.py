"""`deep_architect.search_logging`: per-evaluation folders of `config.json` and `results.json`.

The same layout as DeepArchitect (`<folderpath>/<search_name>/evaluations/x<id>/`, with an
`eval_data` folder for the user's files, and `search_data` for the searcher's), so logs
written by DeepArchitect read here and the other way round. The compatibility searchers'
tokens hold the values map by path (`token["values"]`), so a logged configuration is
rebuilt with `SearchSpace.replay` as well as with `searchers.common.specify`. For a
queryable store with resume and several workers, use `da_bridge.search(storage=...)`.

Conditions DeepArchitect asserted raise `StoreError` here, naming the path.

Example:
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> logger = SearchLogger(folder, "demo").get_evaluation_logger(0)
    >>> logger.log_config([64, "relu"], {"values": {"conv.filters": 64}})
    >>> logger.log_results({"validation_accuracy": 0.9})
    >>> [log["results"] for log in read_search_folder(get_search_folderpath(folder, "demo"))]
    [{'validation_accuracy': 0.9}]
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from da_bridge.errors import OptionTypeError, StoreError

__all__ = ["EvaluationLogger", "SearchLogger", "create_search_folderpath",
           "get_all_evaluations_folderpath", "get_evaluation_data_folderpath",
           "get_evaluation_folderpath", "get_search_data_folderpath", "get_search_folderpath",
           "is_search_log_folder", "read_evaluation_folder", "read_search_folder",
           "recursive_list_log_folders", "recursive_read_search_folders"]


def get_search_folderpath(folderpath: str, search_name: str) -> str:
    """`<folderpath>/<search_name>`."""
    return os.path.join(folderpath, search_name)


def get_search_data_folderpath(folderpath: str, search_name: str) -> str:
    """The searcher's folder, `<search folder>/search_data`."""
    return os.path.join(get_search_folderpath(folderpath, search_name), "search_data")


def get_all_evaluations_folderpath(folderpath: str, search_name: str) -> str:
    """`<search folder>/evaluations`."""
    return os.path.join(get_search_folderpath(folderpath, search_name), "evaluations")


def get_evaluation_folderpath(folderpath: str, search_name: str, evaluation_id: int) -> str:
    """`<search folder>/evaluations/x<evaluation_id>`."""
    return os.path.join(get_all_evaluations_folderpath(folderpath, search_name),
                        f"x{evaluation_id}")


def get_evaluation_data_folderpath(folderpath: str, search_name: str,
                                   evaluation_id: int) -> str:
    """The user's folder of one evaluation, `.../x<evaluation_id>/eval_data`."""
    return os.path.join(get_evaluation_folderpath(folderpath, search_name, evaluation_id),
                        "eval_data")


def create_search_folderpath(folderpath: str, search_name: str, abort_if_exists: bool = False,
                             delete_if_exists: bool = False,
                             create_parent_folders: bool = False) -> None:
    """Create the search folder with its `search_data` and `evaluations` folders.

    Raises:
        StoreError: both flags are set, the folder exists and `abort_if_exists`, or the
            parent folder is missing and `create_parent_folders` is False.
    """
    if abort_if_exists and delete_if_exists:
        raise StoreError("abort_if_exists and delete_if_exists exclude each other; set one")
    search = get_search_folderpath(folderpath, search_name)
    if delete_if_exists and os.path.isdir(search):
        shutil.rmtree(search)
    if os.path.isdir(search):
        if abort_if_exists:
            raise StoreError(f"the search folder {search!r} exists; pass abort_if_exists=False "
                             "to add to it or delete_if_exists=True to start over")
        return
    if not create_parent_folders and not os.path.isdir(folderpath):
        raise StoreError(f"the folder {folderpath!r} does not exist; create it or pass "
                         "create_parent_folders=True")
    for path in (search, get_search_data_folderpath(folderpath, search_name),
                 get_all_evaluations_folderpath(folderpath, search_name)):
        os.makedirs(path, exist_ok=True)


def _write_json(data: Any, path: str) -> None:
    with open(path, "w") as f:
        json.dump(data, f, indent=4, sort_keys=True)


def _read_json(path: str) -> Any:
    if not os.path.isfile(path):
        raise StoreError(f"{path!r} does not exist")
    with open(path) as f:
        return json.load(f)


class EvaluationLogger:
    """The logs of one evaluation: `config.json`, `results.json` and an `eval_data` folder.

    Raises:
        StoreError: the evaluation folder exists and `abort_if_exists`, or it does not and
            `abort_if_notexists`.
    """

    def __init__(self, folderpath: str, search_name: str, evaluation_id: int,
                 abort_if_exists: bool = False, abort_if_notexists: bool = False) -> None:
        self.evaluation_folderpath = get_evaluation_folderpath(folderpath, search_name,
                                                               evaluation_id)
        self.evaluation_data_folderpath = get_evaluation_data_folderpath(
            folderpath, search_name, evaluation_id)
        exists = os.path.isdir(self.evaluation_folderpath)
        if abort_if_exists and exists:
            raise StoreError(f"the evaluation folder {self.evaluation_folderpath!r} exists")
        if abort_if_notexists and not exists:
            raise StoreError(f"the evaluation folder {self.evaluation_folderpath!r} does not "
                             "exist")
        os.makedirs(self.evaluation_data_folderpath, exist_ok=True)
        self.config_filepath = os.path.join(self.evaluation_folderpath, "config.json")
        self.results_filepath = os.path.join(self.evaluation_folderpath, "results.json")

    def log_config(self, hyperp_value_lst: list[Any],
                   searcher_evaluation_token: dict[str, Any]) -> None:
        """Write `config.json`: the values in order and the searcher's token (JSON values).

        Raises:
            StoreError: the config was logged already.
        """
        if os.path.isfile(self.config_filepath):
            raise StoreError(f"{self.config_filepath!r} was logged already; use a new "
                             "evaluation id")
        _write_json({"hyperp_value_lst": hyperp_value_lst,
                     "searcher_evaluation_token": searcher_evaluation_token},
                    self.config_filepath)

    def read_config(self) -> dict[str, Any]:
        return _read_json(self.config_filepath)

    def config_exists(self) -> bool:
        return os.path.isfile(self.config_filepath)

    def log_results(self, results: dict[str, Any]) -> None:
        """Write `results.json` (a dict of JSON values), after the config.

        Raises:
            StoreError: the results were logged already, or the config was not.
            OptionTypeError: `results` is not a dict.
        """
        if os.path.isfile(self.results_filepath):
            raise StoreError(f"{self.results_filepath!r} was logged already")
        if not os.path.isfile(self.config_filepath):
            raise StoreError(f"log the config of {self.evaluation_folderpath!r} before its "
                             "results")
        if not isinstance(results, dict):
            raise OptionTypeError(f"results must be a dict; got {type(results).__name__}")
        _write_json(results, self.results_filepath)

    def read_results(self) -> dict[str, Any]:
        return _read_json(self.results_filepath)

    def results_exist(self) -> bool:
        return os.path.isfile(self.results_filepath)

    def get_evaluation_folderpath(self) -> str:
        """The folder of `config.json` and `results.json`."""
        return self.evaluation_folderpath

    def get_evaluation_data_folderpath(self) -> str:
        """The folder for the user's own files (weights, predictions)."""
        return self.evaluation_data_folderpath


class SearchLogger:
    """Creates the search folder and hands out an `EvaluationLogger` per evaluation id."""

    def __init__(self, folderpath: str, search_name: str, abort_if_exists: bool = True,
                 delete_if_exists: bool = False) -> None:
        self.folderpath, self.search_name = folderpath, search_name
        create_search_folderpath(folderpath, search_name, abort_if_exists=abort_if_exists,
                                 delete_if_exists=delete_if_exists, create_parent_folders=True)

    def get_evaluation_logger(self, evaluation_id: int, abort_if_exists: bool = False,
                              abort_if_notexists: bool = False) -> EvaluationLogger:
        return EvaluationLogger(self.folderpath, self.search_name, evaluation_id,
                                abort_if_exists=abort_if_exists,
                                abort_if_notexists=abort_if_notexists)


def read_evaluation_folder(evaluation_folderpath: str) -> dict[str, Any]:
    """`{"config": ..., "results": ...}` of one evaluation folder.

    Raises:
        StoreError: the folder, or one of its two files, does not exist.
    """
    if not os.path.isdir(evaluation_folderpath):
        raise StoreError(f"the evaluation folder {evaluation_folderpath!r} does not exist")
    return {name: _read_json(os.path.join(evaluation_folderpath, f"{name}.json"))
            for name in ("config", "results")}


def read_search_folder(search_folderpath: str) -> list[dict[str, Any]]:
    """The logs of evaluations `x0`, `x1`, ... up to the first missing one, in order.

    Raises:
        StoreError: the search folder does not exist.
    """
    if not os.path.isdir(search_folderpath):
        raise StoreError(f"the search folder {search_folderpath!r} does not exist")
    logs: list[dict[str, Any]] = []
    while os.path.isdir(path := os.path.join(search_folderpath, "evaluations",
                                             f"x{len(logs)}")):
        logs.append(read_evaluation_folder(path))
    return logs


def is_search_log_folder(folderpath: str) -> bool:
    """Whether `folderpath` holds a search log with at least one evaluation."""
    return os.path.isdir(os.path.join(folderpath, "evaluations", "x0"))


def recursive_list_log_folders(folderpath: str) -> list[str]:
    """Every search log folder at or below `folderpath` (nested searches)."""
    if is_search_log_folder(folderpath):
        return [folderpath]
    return [found for child in sorted(os.listdir(folderpath))
            if os.path.isdir(os.path.join(folderpath, child))
            for found in recursive_list_log_folders(os.path.join(folderpath, child))]


def recursive_read_search_folders(folderpath: str) -> list[dict[str, Any]]:
    """`{"search_folderpath", "log_lst", "num_logs"}` for every search log below `folderpath`."""
    out = []
    for path in recursive_list_log_folders(folderpath):
        logs = read_search_folder(path)
        out.append({"search_folderpath": path, "log_lst": logs, "num_logs": len(logs)})
    return out
