"""Drive da_bridge search spaces from Optuna, define-by-run.

`suggest_architecture(trial, space)` unfolds the space inside any Optuna
objective: each exposed hyperparameter becomes one `trial.suggest_*` call
under its path name. For conditional spaces use
`TPESampler(multivariate=True, group=True)` (the default of
`da_bridge.search`): it models each group of parameters that appear together.
`GPSampler`, `CmaEsSampler` and `QMCSampler` handle only the parameters
present in every trial and fall back to random sampling for conditional ones;
`GridSampler` cannot express conditional spaces; `BruteForceSampler` visits
every architecture of a finite space once.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import warnings
from typing import TYPE_CHECKING, Any, Protocol

from da_bridge._domains import domain_key
from da_bridge._imports import require
from da_bridge.architecture import Architecture
from da_bridge.errors import InvalidArchitectureError, OptionTypeError, ReplayError
from da_bridge.hyperparameters import Discrete, Float, Int
from da_bridge.searchers.base import Proposal, Searcher, until_valid
from da_bridge.space import NamedHyperparameter, SearchSpace

if TYPE_CHECKING:
    import optuna

VALUES_ATTR = "da_bridge.values"
ARCHITECTURE_ATTR = "da_bridge.architecture"
REJECTED_ATTR = "da_bridge.rejected"


def suggest_architecture(trial: optuna.trial.BaseTrial, space: SearchSpace) -> Architecture:
    """Unfold `space` with one `trial.suggest_*` call per exposed hyperparameter.

    The values map and the architecture JSON are stored as the trial's user
    attributes `da_bridge.values` and `da_bridge.architecture`, so any trial
    can be replayed from the storage alone (`replay_trial`).

    An architecture the space rejects (`InvalidArchitectureError`) is recorded
    in the trial's `da_bridge.rejected` attribute and raised as
    `RejectedArchitecture`, which is both that error and `optuna.TrialPruned`:
    inside `study.optimize` the trial ends PRUNED (TPE then ranks it below every
    completed trial), never FAILED.

    A hyperparameter with one value is not suggested (nothing to learn; DeepArchitect
    writes structure-dependent constants as `D([v])`). A categorical whose choices
    differ from what the study already holds under that path (a domain that depends
    on the structure) is suggested as `path#<domain digest>`, stable across processes.

    Example:
        >>> import optuna
        >>> from da_bridge.spaces.examples import poster_space
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        >>> trial = study.ask()
        >>> arch = suggest_architecture(trial, poster_space())
        >>> trial.params["conv.filters"] == arch.values["conv.filters"]
        True
    """
    try:
        arch = space.specify(lambda h: suggest(trial, h))
    except InvalidArchitectureError as exc:
        raise reject(trial, exc) from exc
    trial.set_user_attr(VALUES_ATTR, arch.json_values())
    trial.set_user_attr(ARCHITECTURE_ATTR, arch.to_json())
    return arch


def suggest(trial: optuna.trial.BaseTrial, h: NamedHyperparameter) -> Any:
    """One `trial.suggest_*` call for an exposed hyperparameter; returns its value."""
    decl = h.hyperparameter
    if isinstance(decl, Discrete):
        if len(decl.values) == 1:
            return decl.values[0]
        choices = list(decl.values) if decl.is_plain() else list(range(len(decl.values)))
        try:
            picked = trial.suggest_categorical(h.name, choices)
        except ValueError as exc:  # the study knows this path with other choices
            if "dynamic value space" not in str(exc):
                raise
            picked = trial.suggest_categorical(domain_name(h), choices)
        return picked if decl.is_plain() else decl.values[picked]
    if isinstance(decl, Int):
        return trial.suggest_int(h.name, decl.low, decl.high, step=decl.step, log=decl.log)
    if isinstance(decl, Float):
        return trial.suggest_float(h.name, decl.low, decl.high, log=decl.log)
    raise OptionTypeError(f"{h.name!r}: no Optuna distribution for {decl!r}")


def domain_name(h: NamedHyperparameter) -> str:
    """The Optuna name of a path whose categorical domain depends on the structure.

    Example:
        >>> from da_bridge import Discrete
        >>> domain_name(NamedHyperparameter("cell/conv.filters", Discrete([32, 64])))
        'cell/conv.filters#2dbd60f8'
    """
    digest = hashlib.sha1(repr(domain_key(h.hyperparameter)).encode()).hexdigest()[:8]
    return f"{h.name}#{digest}"


def reject(trial: optuna.trial.BaseTrial, exc: InvalidArchitectureError) -> Exception:
    """Record why the space rejected the trial's architecture; the error to raise.

    The returned `RejectedArchitecture` is an `InvalidArchitectureError` and an
    `optuna.TrialPruned`, so `study.optimize` prunes the trial instead of failing it.
    """
    trial.set_user_attr(REJECTED_ATTR, str(exc))
    return _rejected_class()(str(exc))


@functools.cache
def _rejected_class() -> type:
    pruned: Any = require("optuna", "optuna").TrialPruned

    class RejectedArchitecture(InvalidArchitectureError, pruned):
        """The space rejected the trial's architecture; Optuna prunes the trial."""

    return RejectedArchitecture


def replay_trial(space: SearchSpace, trial: optuna.trial.FrozenTrial) -> Architecture:
    """The architecture a stored trial evaluated, rebuilt from its user attributes."""
    values = trial.user_attrs.get(VALUES_ATTR)
    if values is None:
        raise ReplayError(f"trial {trial.number} has no {VALUES_ATTR!r} user attribute; "
                          "it was not created through da_bridge")
    return space.replay(values)


def default_sampler(seed: int | None = None, *, n_jobs: int = 1) -> optuna.samplers.BaseSampler:
    """TPE that models conditional groups jointly: the default for architecture spaces.

    With `n_jobs > 1` (threads, or worker processes sharing a store) TPE uses the constant
    liar, so concurrent trials are spread apart, and reads the study once per trial.
    """
    optuna = require("optuna", "optuna")
    with warnings.catch_warnings():  # multivariate and group are marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        tpe = optuna.samplers.TPESampler(multivariate=True, group=True, seed=seed,
                                         constant_liar=n_jobs > 1)
    if n_jobs == 1:
        return tpe
    from da_bridge.adapters._snapshot import ReadOncePerTrial

    return ReadOncePerTrial(tpe)


class OptunaSearcher(Searcher):
    """Ask/tell over an Optuna study.

    Args:
        space: The search space.
        study: The study to use; a new in-memory study with the default sampler if None.
        seed: Seeds the default sampler when `study` is None.
        direction: Used only when `study` is None.

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> searcher = OptunaSearcher(poster_space(), seed=0)
        >>> proposal = searcher.ask()
        >>> searcher.tell(proposal, 1.0)
        >>> len(searcher.study.trials)
        1
    """

    def __init__(self, space: SearchSpace, study: optuna.Study | None = None, *,
                 seed: int | None = None, direction: str = "minimize") -> None:
        optuna = require("optuna", "optuna")
        if study is None:
            study = optuna.create_study(sampler=default_sampler(seed), direction=direction)
        super().__init__(space, seed=seed, direction=study.direction.name.lower()
                         if len(study.directions) == 1 else direction)
        self.study = study

    def ask(self) -> Proposal:
        """A new trial's architecture; a rejected one is told PRUNED and a new trial asked."""
        return until_valid(self._ask, self.space, on_reject=self._reject)

    def _ask(self) -> Proposal:
        self._trial = trial = self.study.ask()
        arch = suggest_architecture(trial, self.space)
        return Proposal(arch, dict(arch.values), trial=trial)

    def _reject(self, exc: InvalidArchitectureError) -> None:
        optuna = require("optuna", "optuna")
        self.study.tell(self._trial, state=optuna.trial.TrialState.PRUNED)

    def tell(self, proposal: Proposal, score: float | None) -> None:
        optuna = require("optuna", "optuna")
        if score is None:
            self.study.tell(proposal.trial, state=optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(proposal.trial, score)


class ProposalBinding(Protocol):
    """What `proposal_sampler()`'s sampler adds to Optuna's BaseSampler."""

    def bind(self, number: int, params: dict[str, Any]) -> None: ...

    def release(self, number: int) -> None: ...


def proposal_sampler() -> optuna.samplers.BaseSampler:
    """A sampler that records proposals made elsewhere (Hyperopt, skopt, evolution...).

    Before a trial's parameters are suggested, `bind(trial_number, params)`
    tells it the values to return, so foreign searchers record their
    proposals in the study with Optuna's own parameters and distributions.
    """
    require("optuna", "optuna")  # the install hint if Optuna is missing
    from optuna.samplers import BaseSampler

    class ProposalSampler(BaseSampler):
        def __init__(self) -> None:
            self._params: dict[int, dict[str, Any]] = {}
            self._lock = threading.Lock()

        def bind(self, number: int, params: dict[str, Any]) -> None:
            with self._lock:
                self._params[number] = params

        def release(self, number: int) -> None:
            with self._lock:
                self._params.pop(number, None)

        def __reduce__(self) -> tuple:  # a pickled study gets a fresh one: bindings are
            return (proposal_sampler, ())  # per running trial, and a lock does not pickle

        def infer_relative_search_space(self, study, trial):
            return {}

        def sample_relative(self, study, trial, search_space):
            return {}

        def sample_independent(self, study, trial, name, distribution):
            with self._lock:
                params = self._params.get(trial.number, {})
            name = name if name in params else name.partition("#")[0]  # see domain_name
            if name not in params:
                raise RuntimeError(f"no proposed value for {name!r} in trial {trial.number}")
            return params[name]

    return ProposalSampler()


def optuna_params(space: SearchSpace, values: dict[str, Any]) -> dict[str, Any]:
    """The Optuna parameter values (`trial.params`) that a values map corresponds to."""
    return {h.name: h.index(value) if isinstance(h.hyperparameter, Discrete)
            and not h.is_plain() else value for h, value in space.live(values)
            if not (isinstance(h.hyperparameter, Discrete) and h.size() == 1)}  # not suggested
