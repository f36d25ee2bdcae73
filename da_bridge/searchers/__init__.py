"""Framework-free searchers with the shared ask/tell interface."""

from da_bridge.searchers.base import Proposal, Searcher
from da_bridge.searchers.random import RandomSearcher

__all__ = ["Proposal", "RandomSearcher", "Searcher"]
