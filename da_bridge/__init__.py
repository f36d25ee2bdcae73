"""da_bridge: DeepArchitect's search-space language for Optuna, Hyperopt and scikit-optimize.

The engine is framework-free: hyperparameters, basic and substitution modules,
combinators and search spaces that unfold lazily under stable path names.
"""

from da_bridge._paths import scope
from da_bridge._version import __version__
from da_bridge.architecture import Architecture
from da_bridge.combinators import (
    mimo_or,
    siso_nested_repeat,
    siso_optional,
    siso_or,
    siso_permutation,
    siso_repeat,
    siso_residual,
    siso_sequential,
    siso_split_combine,
)
from da_bridge.errors import (
    AssignmentError,
    CycleError,
    DABridgeError,
    DatasetError,
    DomainError,
    InvalidArchitectureError,
    MissingExtraError,
    NameClashError,
    NoValidArchitectureError,
    ObjectiveCrashError,
    ObjectiveError,
    OptionError,
    OptionTypeError,
    ReplayError,
    SearchFailedError,
    SpaceError,
    SpaceTooLargeError,
    StoreError,
    SubstitutionError,
    TrialTimeoutError,
    UnspecifiedError,
)
from da_bridge.hyperparameters import Bool, Dependent, Discrete, Float, Hyperparameter, Int
from da_bridge.modules import Input, Output, basic, identity, substitution
from da_bridge.space import NamedHyperparameter, SearchSpace, Unfolding
from da_bridge.study.results import load_results
from da_bridge.study.runner import SearchResult, search
from da_bridge.viz import draw

__all__ = [
    "Architecture",
    "AssignmentError",
    "Bool",
    "CycleError",
    "DABridgeError",
    "DatasetError",
    "Dependent",
    "Discrete",
    "DomainError",
    "Float",
    "Hyperparameter",
    "Input",
    "Int",
    "InvalidArchitectureError",
    "MissingExtraError",
    "NameClashError",
    "NamedHyperparameter",
    "ObjectiveCrashError",
    "ObjectiveError",
    "OptionError",
    "OptionTypeError",
    "NoValidArchitectureError",
    "Output",
    "ReplayError",
    "SearchFailedError",
    "SearchResult",
    "SearchSpace",
    "SpaceError",
    "SpaceTooLargeError",
    "StoreError",
    "SubstitutionError",
    "TrialTimeoutError",
    "Unfolding",
    "UnspecifiedError",
    "__version__",
    "basic",
    "draw",
    "identity",
    "load_results",
    "mimo_or",
    "scope",
    "search",
    "siso_nested_repeat",
    "siso_optional",
    "siso_or",
    "siso_permutation",
    "siso_repeat",
    "siso_residual",
    "siso_sequential",
    "siso_split_combine",
    "substitution",
]
