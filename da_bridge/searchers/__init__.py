"""Framework-free searchers with the shared ask/tell interface."""

from da_bridge.searchers.base import Proposal, Searcher
from da_bridge.searchers.evolution import EvolutionSearcher
from da_bridge.searchers.mcts import MCTSSearcher
from da_bridge.searchers.random import RandomSearcher

__all__ = ["EvolutionSearcher", "MCTSSearcher", "Proposal", "RandomSearcher", "Searcher"]
