"""The search runtime: one runner for every searcher, the results store, workers, results.

Layers point one way: the engine (`da_bridge`) <- the adapters (`da_bridge.adapters`) <- this
runtime <- the report and the command line. Domains use the engine and the runtime's public
modules (`tasks`, `runner`, `store`). The keys a study carries are named here once
(`VALUES_ATTR`, ...), so readers never spell them as literals.
"""

from da_bridge.study._schema import (
    ARCHITECTURE_ATTR,
    CLI_ATTR,
    CONFIRMED_ATTR,
    ERROR_ATTR,
    FINGERPRINT_ATTR,
    INTERRUPTED_ATTR,
    OWNER_ATTR,
    REJECTED_ATTR,
    SAME_AS_ATTR,
    SAMPLES_ATTR,
    SPACE_ATTR,
    SPREAD_ATTR,
    VALUES_ATTR,
)
from da_bridge.study.results import export_results, load_results
from da_bridge.study.runner import SEARCHERS, SearchResult, make_searcher, search
from da_bridge.study.store import list_studies, load_study, open_storage
from da_bridge.study.tasks import Panel, Task
from da_bridge.study.worker import WorkerResult, run_worker

__all__ = [
    "ARCHITECTURE_ATTR",
    "CLI_ATTR",
    "CONFIRMED_ATTR",
    "ERROR_ATTR",
    "FINGERPRINT_ATTR",
    "INTERRUPTED_ATTR",
    "OWNER_ATTR",
    "Panel",
    "REJECTED_ATTR",
    "SAME_AS_ATTR",
    "SAMPLES_ATTR",
    "SEARCHERS",
    "SPACE_ATTR",
    "SPREAD_ATTR",
    "SearchResult",
    "Task",
    "VALUES_ATTR",
    "WorkerResult",
    "export_results",
    "list_studies",
    "load_results",
    "load_study",
    "make_searcher",
    "open_storage",
    "run_worker",
    "search",
]
