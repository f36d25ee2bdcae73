"""The errors da_bridge raises on purpose.

Every class derives from `DABridgeError` and from the builtin exception users
already catch (`ValueError`, `LookupError`, `TypeError`, `ImportError`), as
scikit-learn's `InvalidParameterError` does.
"""

from __future__ import annotations


class DABridgeError(Exception):
    """Base of every error da_bridge raises on purpose."""


class DomainError(DABridgeError, ValueError):
    """A value outside a hyperparameter's domain, or an invalid domain.

    Example:
        >>> str(DomainError("cell/repeat.n", 7, "Int(1, 4)"))
        "'cell/repeat.n' got 7; allowed: Int(1, 4)"
    """

    def __init__(self, path: str, value: object, domain: str) -> None:
        super().__init__(f"{path!r} got {value!r}; allowed: {domain}")
        self.path, self.value, self.domain = path, value, domain


class SpaceError(DABridgeError, ValueError):
    """A malformed search space: bad ports, cycles, name clashes, bad fragments."""


class NameClashError(SpaceError):
    """Two objects in one search-space instance claim the same path."""


class SubstitutionError(SpaceError):
    """A substitution function raised or returned a fragment with the wrong ports."""


class InvalidArchitectureError(DABridgeError, ValueError):
    """A space rejects this architecture: raise it in a substitution or compile function.

    Sampling and every searcher draw another architecture instead (a bounded
    number of times); the search store records the rejection (the trial is
    pruned, with the reason in its `da_bridge.rejected` attribute), never a crash.

    Example:
        >>> from da_bridge import SearchSpace, Discrete, identity, substitution
        >>> def cell(values):
        ...     if values["edges"] > 9:
        ...         raise InvalidArchitectureError("more than 9 edges")
        ...     return identity()
        >>> space = SearchSpace(lambda: substitution("cell", cell, {"edges": Discrete([5, 12])}))
        >>> space.sample(0).values
        {'cell.edges': 5}
    """


class NoValidArchitectureError(SpaceError):
    """Every draw within the budget was rejected with `InvalidArchitectureError`."""


class CycleError(SpaceError):
    """The specified graph has a cycle."""


class AssignmentError(DABridgeError, ValueError):
    """A value was assigned where none can be: twice, or after the end."""


class ReplayError(DABridgeError, LookupError):
    """A values map is missing a live hyperparameter or names one that does not exist."""


class UnspecifiedError(DABridgeError, ValueError):
    """An operation needs a fully specified architecture and got a partial one."""


class MissingExtraError(DABridgeError, ImportError):
    """An optional dependency is not installed; the message says which extra adds it."""


class SpaceTooLargeError(DABridgeError, ValueError):
    """Exploring or counting a space needs more work than its budget allows."""


class OptionError(DABridgeError, ValueError):
    """An invalid option of a function or command: a count below 1, an unknown name.

    Example:
        >>> raise OptionError("n_trials must be a positive integer; got -1")
        Traceback (most recent call last):
        ...
        da_bridge.errors.OptionError: n_trials must be a positive integer; got -1
    """


class OptionTypeError(DABridgeError, TypeError):
    """An option of the wrong type: a space that is not a SearchSpace, an objective that is
    not callable."""


class SearchFailedError(DABridgeError, RuntimeError):
    """Most trials of a search failed; the message groups their errors and names the fix."""


class ObjectiveError(DABridgeError, ValueError):
    """The objective returned something that is not a usable score."""


class TrialTimeoutError(DABridgeError, TimeoutError):
    """An objective ran past its per-trial time limit and was stopped."""


class ObjectiveCrashError(DABridgeError, RuntimeError):
    """The process evaluating an objective died without reporting a score."""


class StoreError(DABridgeError, LookupError):
    """A storage that cannot be opened, read or written, or a study that is not in it."""


class SpaceMismatchError(DABridgeError, ValueError):
    """A study resumed, or joined by a worker, with a space other than the one it was made with.

    Example:
        >>> raise SpaceMismatchError("study 's' was searched on poster, not mobile_net")
        Traceback (most recent call last):
        ...
        da_bridge.errors.SpaceMismatchError: study 's' was searched on poster, not mobile_net
    """


class DatasetError(DABridgeError, ValueError):
    """A dataset that cannot be loaded: a missing file, an unknown column, no rows.

    Example:
        >>> from da_bridge.spaces.sklearn import DatasetError, load_dataset
        >>> try:
        ...     load_dataset("mnist")
        ... except ValueError as exc:
        ...     print(type(exc).__name__, str(exc).split(";")[0])
        DatasetError unknown dataset 'mnist'
    """
