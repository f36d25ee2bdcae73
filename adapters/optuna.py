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

import threading
import warnings
from typing import TYPE_CHECKING, Any, Protocol

from da_bridge._imports import require
from da_bridge.architecture import Architecture
from da_bridge.errors import OptionTypeError, ReplayError
from da_bridge.hyperparameters import Discrete, Float, Int
from da_bridge.searchers.base import Proposal, Searcher
from da_bridge.space import NamedHyperparameter, SearchSpace

if TYPE_CHECKING:
    import optuna

VALUES_ATTR = "da_bridge.values"
ARCHITECTURE_ATTR = "da_bridge.architecture"


def suggest_architecture(trial: optuna.trial.BaseTrial, space: SearchSpace) -> Architecture:
    """Unfold `space` with one `trial.suggest_*` call per exposed hyperparameter.

    The values map and the architecture JSON are stored as the trial's user
    attributes `da_bridge.values` and `da_bridge.architecture`, so any trial
    can be replayed from the storage alone (`replay_trial`).

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
    arch = space.specify(lambda h: suggest(trial, h))
    trial.set_user_attr(VALUES_ATTR, arch.json_values())
    trial.set_user_attr(ARCHITECTURE_ATTR, arch.to_json())
    return arch


def suggest(trial: optuna.trial.BaseTrial, h: NamedHyperparameter) -> Any:
    """One `trial.suggest_*` call for an exposed hyperparameter; returns its value."""
    decl = h.hyperparameter
    if isinstance(decl, Discrete):
        if decl.is_plain():
            return trial.suggest_categorical(h.name, list(decl.values))
        return decl.values[trial.suggest_categorical(h.name, list(range(len(decl.values))))]
    if isinstance(decl, Int):
        return trial.suggest_int(h.name, decl.low, decl.high, step=decl.step, log=decl.log)
    if isinstance(decl, Float):
        return trial.suggest_float(h.name, decl.low, decl.high, log=decl.log)
    raise OptionTypeError(f"{h.name!r}: no Optuna distribution for {decl!r}")


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
        trial = self.study.ask()
        arch = suggest_architecture(trial, self.space)
        return Proposal(arch, dict(arch.values), trial=trial)

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

        def infer_relative_search_space(self, study, trial):
            return {}

        def sample_relative(self, study, trial, search_space):
            return {}

        def sample_independent(self, study, trial, name, distribution):
            with self._lock:
                params = self._params.get(trial.number, {})
            if name not in params:
                raise RuntimeError(f"no proposed value for {name!r} in trial {trial.number}")
            return params[name]

    return ProposalSampler()


def optuna_params(space: SearchSpace, values: dict[str, Any]) -> dict[str, Any]:
    """The Optuna parameter values (`trial.params`) that a values map corresponds to."""
    return {h.name: h.index(value) if isinstance(h.hyperparameter, Discrete)
            and not h.is_plain() else value for h, value in space.live(values)}
