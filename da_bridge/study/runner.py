"""One runner for every searcher, recording everything in one results store."""

from __future__ import annotations

import contextlib
import datetime
import importlib
import logging
import math
import numbers
import random
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from da_bridge._imports import require
from da_bridge.adapters.optuna import (
    OptunaSearcher,
    ProposalBinding,
    default_sampler,
    optuna_params,
    proposal_sampler,
    reject,
    suggest_architecture,
)
from da_bridge.architecture import Architecture
from da_bridge.errors import InvalidArchitectureError, OptionError, OptionTypeError
from da_bridge.searchers.base import Proposal, Searcher, check_direction
from da_bridge.space import SearchSpace
from da_bridge.study._fingerprint import check_same, fingerprint
from da_bridge.study._interrupts import terminate_as_interrupt
from da_bridge.study._objective import check_score, takes_trial
from da_bridge.study._owners import claim, fail_dead_trials
from da_bridge.study._repeats import Distinct, Scored, copy_result
from da_bridge.study._retry import store_error_in
from da_bridge.study._schema import (
    CLI_ATTR,
    CONFIRMED_ATTR,
    ERROR_ATTR,
    FINGERPRINT_ATTR,
    INTERRUPTED_ATTR,
    SPACE_ATTR,
    VALUES_ATTR,
)
from da_bridge.study.failures import FailureStop
from da_bridge.study.noise import Ranking, Spread, confirm, rank
from da_bridge.study.store import open_storage
from da_bridge.study.timeouts import with_trial_timeout

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)

#: Searcher names accepted by `search(searcher=...)` and the CLI, and where they live.
SEARCHERS = {
    "auto": None,
    "optuna": None,
    "random": "da_bridge.searchers.random:RandomSearcher",
    "evolution": "da_bridge.searchers.evolution:EvolutionSearcher",
    "mcts": "da_bridge.searchers.mcts:MCTSSearcher",
    "hyperopt": "da_bridge.adapters.hyperopt:HyperoptSearcher",
    "skopt": "da_bridge.adapters.skopt:SkoptSearcher",
    "smbo": "da_bridge.adapters.smbo:SMBOSearcher",
}


@dataclass
class SearchResult:
    """What a search found; everything is also in the study's storage.

    Attributes:
        study: The Optuna study holding every trial.
        space: The search space searched.
        interrupted: True when Ctrl-C stopped the search early.
    """

    study: optuna.Study
    space: SearchSpace
    interrupted: bool = False

    @property
    def trials(self) -> list[optuna.trial.FrozenTrial]:
        return self.study.get_trials(deepcopy=False)

    @property
    def best_trial(self) -> optuna.trial.FrozenTrial:
        """The best trial; after `confirm`, the best on the re-evaluations."""
        ranking = rank(self.trials, self._maximize(), confirmed=self.confirmed) \
            if self.confirmed else None
        return ranking.best if ranking is not None else self.study.best_trial

    @property
    def best_score(self) -> float:
        """The search's score of `best_trial`."""
        return float(self.best_trial.values[0])

    @property
    def best_values(self) -> dict[str, Any]:
        """The best architecture's values map, in JSON form."""
        return dict(self.best_trial.user_attrs[VALUES_ATTR])

    @property
    def best_architecture(self) -> Architecture:
        return self.space.replay(self.best_values)

    @property
    def best_trials(self) -> list[optuna.trial.FrozenTrial]:
        """The Pareto front (the single best trial for one objective)."""
        return self.study.best_trials

    def top(self, k: int = 5) -> list[optuna.trial.FrozenTrial]:
        """The `k` best finished trials of a single-objective study, best first."""
        optuna = require("optuna", "optuna")
        done = [t for t in self.trials if t.state == optuna.trial.TrialState.COMPLETE]
        reverse = self.study.direction == optuna.study.StudyDirection.MAXIMIZE
        # a COMPLETE trial of a single-objective study has a value
        return sorted(done, key=lambda t: cast(float, t.value), reverse=reverse)[:k]

    @property
    def best_spread(self) -> Spread | None:
        """The uncertainty of the best score: its standard error over the CV folds, seeds or
        validation items the objective recorded (`da_bridge.study.noise`), or over repeated
        evaluations of the best architecture; None when nothing measures it."""
        ranking = self.ranking()
        return ranking.spread if ranking is not None else None

    def ranking(self, k: int = 5) -> Ranking | None:
        """The best trial compared with the next `k - 1` distinct architectures: which of them
        are within the noise of the best (`.ties`) and a sentence saying so (`.note()`);
        None before any trial completes. After `confirm`, on the re-evaluations.
        Single-objective studies only."""
        return rank(self.trials, self._maximize(), top=k, confirmed=self.confirmed)

    @property
    def confirmed(self) -> dict[str, Any] | None:
        """The re-evaluations `confirm` stored in the study, by trial number (or None)."""
        return self.study.user_attrs.get(CONFIRMED_ATTR) or None

    def confirm(self, k: int, evaluate: Callable[[Architecture, int], Sequence[float]],
                seeds: Sequence[int] = (1, 2, 3)) -> Ranking | None:
        """Re-evaluate the `k` best distinct architectures on more seeds, then name the best.

        The re-evaluations are stored in the study (so `show` and the report see them);
        `best_trial`, `best_architecture` and `ranking()` then follow their means.

        Args:
            k: How many of the best distinct architectures to re-evaluate.
            evaluate: `evaluate(arch, seed)` returns the measurements of one re-evaluation
                (one score, or e.g. the scores of the folds of a cross-validation).
            seeds: One re-evaluation per seed.

        Example:
            >>> from da_bridge.spaces.examples import poster_space
            >>> def width(arch, seed):
            ...     return len(arch.values) + seed % 2 / 10
            >>> result = search(poster_space(), lambda arch: width(arch, 0), n_trials=6, seed=0,
            ...                 storage=":memory:", direction="maximize")
            >>> ranking = result.confirm(2, lambda arch, seed: [width(arch, seed)], seeds=[1, 2])
            >>> ranking.confirmed, ranking.best.number == result.best_trial.number
            (True, True)
        """
        space = self.space

        def run(trial: Any, seed: int) -> Sequence[float]:
            return evaluate(space.replay(trial.user_attrs[VALUES_ATTR]), seed)

        found = confirm(self.trials, self._maximize(), k, run, list(seeds))
        self.study.set_user_attr(CONFIRMED_ATTR, found)
        return self.ranking()

    def _maximize(self) -> bool:
        return self.study.direction.name == "MAXIMIZE"


def search(
    space: SearchSpace,
    objective: Callable[..., Any],
    searcher: str | Searcher = "auto",
    *,
    n_trials: int | None = None,
    timeout: float | None = None,
    direction: str | None = None,
    directions: Sequence[str] | None = None,
    storage: Any = None,
    study_name: str | None = None,
    seed: int | None = None,
    n_jobs: int = 1,
    catch: Iterable[type[Exception]] | type[Exception] = (Exception,),
    callbacks: Iterable[Callable] | None = None,
    show_progress: bool = False,
    sampler: Any = None,
    pruner: Any = None,
    max_trials: int | None = None,
    trial_timeout: float | None = None,
    stop_on_failures: bool = True,
    failure_hint: Callable[[list[str]], str | None] | None = None,
    initial: Iterable[dict[str, Any]] = (),
) -> SearchResult:
    """Search `space` for the architecture that optimizes `objective`.

    Args:
        space: The search space.
        objective: `objective(arch)` or `objective(arch, trial)`; returns a score
            (a sequence of scores with `directions`). With the trial it can
            report intermediate values and raise `optuna.TrialPruned`.
        searcher: "auto" (see `choose_searcher`: SMBO for a sequential single-objective
            search, unless the space is mostly branches with their own hyperparameters,
            else Optuna), "optuna" (TPE, multivariate and grouped), "random",
            "hyperopt", "skopt", "evolution", "mcts", "smbo", or any `Searcher`.
        n_trials: Trials to run in this call (None: until `timeout` or `max_trials`).
        timeout: Seconds after which no new trial starts.
        direction: "minimize" (default) or "maximize".
        directions: One direction per objective, for multi-objective search.
        storage: None for the embedded store `./da_runs/<study_name>.journal`,
            ":memory:", an Optuna storage URL (sqlite, PostgreSQL), a journal
            path, or an Optuna storage object.
        study_name: A new name starts a study; an existing one resumes it.
        seed: Seeds the searcher: the same seed gives the same architectures.
        n_jobs: Parallel threads (-1: one per CPU, as in Optuna).
        catch: Exceptions from the objective that fail the trial and go on;
            `()` stops the search at the first error (the trial is still recorded).
        callbacks: Optuna callbacks `fn(study, frozen_trial)` after each trial.
        show_progress: Show a progress bar with the best score so far.
        sampler: An Optuna sampler to use (searcher "auto" or "optuna"): it proposes
            every trial, as in a plain Optuna study.
        pruner: An Optuna pruner (e.g. `optuna.pruners.MedianPruner()`).
        max_trials: Stop once the study has this many finished trials (resume to a target).
        trial_timeout: Seconds one evaluation may take: it runs in a forked child
            process that is killed at the limit, and the trial fails with
            `TrialTimeoutError` (see `da_bridge.study.timeouts`); the search goes on.
        stop_on_failures: Stop once most trials of this call have failed
            (`da_bridge.study.failures.FailureStop`) and raise `SearchFailedError`,
            whose message groups the errors; False runs the whole budget.
        failure_hint: `hint(errors) -> text` naming the fix, for that message.
        initial: Values maps to evaluate first, in a new study (any searcher; it is
            told their scores), e.g. `da_bridge.spaces.sklearn.starting_points(space)`.

    Returns:
        The `SearchResult`; Ctrl-C returns what was done so far (`interrupted=True`).

    Raises:
        SearchFailedError: most trials failed (with `stop_on_failures`).

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> def objective(arch):
        ...     return sum(v for k, v in arch.values.items() if k.endswith("filters"))
        >>> result = search(poster_space(), objective, n_trials=5, seed=0, storage=":memory:")
        >>> len(result.trials)
        5
    """
    optuna = require("optuna", "optuna")
    check_counts(n_trials=n_trials, max_trials=max_trials, n_jobs=None if n_jobs == -1 else n_jobs)
    check_seconds(timeout=timeout)
    directions = _directions(direction, directions)
    if trial_timeout is not None:
        objective = with_trial_timeout(objective, trial_timeout)
    searcher = choose_searcher(searcher, directions=directions, sampler=sampler, n_jobs=n_jobs,
                               space=space if isinstance(space, SearchSpace) else None)
    runner = _Runner(space, objective, searcher, directions, seed, sampler)
    study = _create_study(optuna, storage, study_name, runner, directions, pruner, seed,
                          n_jobs=n_jobs)
    runner.attach(study)
    if not study.get_trials(deepcopy=False):
        runner.start_with(initial)
    callbacks = list(callbacks or [])
    failures = FailureStop() if stop_on_failures else None
    if failures is not None:
        callbacks.append(failures)
    if max_trials is not None:
        states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
        callbacks.append(optuna.study.MaxTrialsCallback(max_trials, states=states))
        n_trials = _remaining(study, max_trials, states, n_trials)
    result = SearchResult(study, space)
    if n_trials == 0:
        return result
    try:
        with terminate_as_interrupt() as runner.signals, _quiet_optuna(optuna, show_progress):
            study.optimize(runner, n_trials=n_trials, timeout=timeout, n_jobs=n_jobs,
                           catch=catch, callbacks=callbacks, show_progress_bar=show_progress)
    except KeyboardInterrupt:  # result.interrupted says so; the trials so far are stored
        logger.info("search interrupted; %d trials are in study %r",
                    len(study.trials), study.study_name)
        result.interrupted = True
    except Exception as exc:
        unmasked = store_error_in(exc)
        if unmasked is None or unmasked is exc:
            raise
        raise unmasked from None
    if failures is not None and failures.stopped:
        raise failures.error(study, failure_hint)
    return result


@contextlib.contextmanager
def _quiet_optuna(optuna: Any, progress: bool) -> Iterator[None]:
    """Under a progress bar, Optuna's per-trial INFO lines would bury it: warnings only, until
    the search ends (then the caller's verbosity is back)."""
    previous = optuna.logging.get_verbosity()
    if progress and previous < logging.WARNING:
        optuna.logging.set_verbosity(logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)


def check_counts(**counts: Any) -> None:
    """`OptionError` unless each count is None or a positive integer."""
    for name, value in counts.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral)
                                  or value < 1):
            raise OptionError(f"{name} must be a positive integer or None; got {value!r}")


def check_seconds(**durations: Any) -> None:
    """`OptionError` unless each duration is None or a positive, finite number of seconds."""
    for name, value in durations.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not 0 < value < math.inf):
            raise OptionError(f"{name} must be a positive number of seconds or None; "
                              f"got {value!r}")


#: Architectures sampled to read a space's make-up for `searcher="auto"` (a fixed stream, so
#: one space always gets the same searcher).
MAKEUP_SAMPLES = 16
#: `searcher="auto"` picks TPE when more than this share of an architecture's hyperparameters
#: belong to its branch (are not live in every sampled architecture).
BRANCHED = 0.75


def branch_share(space: SearchSpace, n: int = MAKEUP_SAMPLES) -> float:
    """The mean share of a sampled architecture's hyperparameters that are not live in every
    sampled architecture: 0 for a space of one structure (a NAS-Bench cell, a macro chain),
    about 0.8 for a choice among model families that each bring their own knobs.

    `n` architectures are drawn from a fixed random stream (the space is only unfolded, `n`
    times: milliseconds on most spaces, about a second on `nasnet_space`); a space that
    rejects every draw, or fails to unfold, counts as unbranched.

    Example:
        >>> from da_bridge import Discrete, Float, SearchSpace, siso_or
        >>> from da_bridge.spaces.examples import op
        >>> families = SearchSpace(lambda: siso_or(
        ...     {"a": lambda: op("a", {"x": Float(0, 1), "y": Float(0, 1)}),
        ...      "b": lambda: op("b", {"z": Float(0, 1), "w": Float(0, 1)})},
        ...     Discrete(["a", "b"], name="family")))
        >>> round(branch_share(families), 2)
        0.67
        >>> branch_share(SearchSpace(lambda: op("m", {"x": Float(0, 1), "y": Float(0, 1)})))
        0.0
    """
    rng, names = random.Random(0), []
    try:
        for _ in range(n):
            names.append(frozenset(space.sample(rng).values))
    except Exception:  # noqa: BLE001 - a space that fails to unfold (a cycle, a bug in a
        pass  # build function) fails each trial with its error, where the search records it
    if not names:
        return 0.0
    everywhere = frozenset.intersection(*names)
    return sum(1 - len(everywhere) / len(each) for each in names if each) / len(names)


def choose_searcher(searcher: Any, *, directions: Sequence[str], sampler: Any = None,
                    n_jobs: int = 1, space: SearchSpace | None = None) -> Any:
    """What `searcher="auto"` stands for; any other searcher is returned as it is.

    "optuna" (TPE, or `sampler`) when you pass an Optuna `sampler` (it is used as in a plain
    Optuna study), for several objectives, for parallel trials (`n_jobs != 1`; TPE's
    constant liar spreads them apart), and without scikit-learn. Otherwise, by the
    `space`'s make-up (`branch_share`): "optuna" for a branched space, where most of an
    architecture's hyperparameters belong to its branch (a choice among model families,
    each with its own knobs), and "smbo" (`da_bridge.adapters.smbo.SMBOSearcher`) for a
    space of one structure or with a few optional parts (NAS cells, macro chains): on the
    measured objectives (docs/howto/search_quality.md) SMBO is best or within one standard
    error of the best on all five discrete ones and grouped TPE on the two branched ones.
    Without a `space`, "smbo".

    Example:
        >>> choose_searcher("auto", directions=["minimize", "maximize"])
        'optuna'
        >>> choose_searcher("random", directions=["minimize"])
        'random'
    """
    if not (isinstance(searcher, str) and searcher == "auto"):
        return searcher
    if sampler is not None or len(directions) > 1 or n_jobs != 1:
        return "optuna"
    try:
        importlib.import_module("sklearn.ensemble")
    except ImportError:
        return "optuna"
    if space is not None and (share := branch_share(space)) > BRANCHED:
        logger.info("searcher='auto': TPE ('optuna'), the space is branched (%.0f%% of an "
                    "architecture's hyperparameters belong to its branch)", 100 * share)
        return "optuna"
    return "smbo"


def make_searcher(name: str, space: SearchSpace, *, seed: int | None = None,
                  direction: str = "minimize") -> Searcher:
    """The searcher registered under `name` (see `SEARCHERS`)."""
    if name == "auto":
        name = choose_searcher(name, directions=[direction], space=space)
    if name == "optuna":
        return OptunaSearcher(space, seed=seed, direction=direction)
    target = SEARCHERS.get(name) if isinstance(name, str) else None
    if target is None:
        raise OptionError(f"unknown searcher {name!r}; choose one of {sorted(SEARCHERS)} "
                         "or pass a Searcher object")
    module, cls = target.split(":")
    try:
        factory = getattr(importlib.import_module(module), cls)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("da_bridge"):
            raise OptionError(f"searcher {name!r} is not available in this version") from exc
        raise
    return factory(space, seed=seed, direction=direction)


class _Runner:
    """The Optuna objective that asks the searcher, evaluates, and tells."""

    def __init__(self, space, objective, searcher, directions, seed, sampler) -> None:
        if not isinstance(space, SearchSpace):
            raise OptionTypeError(f"search needs a SearchSpace; got {space!r}")
        if not callable(objective):
            raise OptionTypeError(f"objective must be callable; got {objective!r}")
        self.space, self.objective, self.directions = space, objective, directions
        self.pass_trial = takes_trial(objective)
        self.searcher = self._foreign(searcher, seed, sampler)
        self.sampler = sampler if self.searcher is None else None
        self._initial: list[dict[str, Any]] = []  # values maps a foreign searcher starts with
        self.seed, self._lock, self._told = seed, threading.Lock(), set[int]()
        self._distinct = None if self.searcher is None else \
            Distinct(self.searcher, space, seed)
        self._scored = self._distinct.scored if self._distinct is not None else Scored()
        self.signals: list[str] = []  # what stopped the search (SIGTERM); Ctrl-C if empty
        self.marks_interrupts = True  # workers mark them in their own guard

    def _foreign(self, searcher: Any, seed: int | None, sampler: Any) -> Searcher | None:
        searcher = choose_searcher(searcher, directions=self.directions, sampler=sampler,
                                   space=self.space)
        if searcher == "optuna" or isinstance(searcher, OptunaSearcher):
            return None
        if len(self.directions) > 1:
            raise OptionError("multi-objective search needs searcher='optuna'")
        if isinstance(searcher, str):
            return make_searcher(searcher, self.space, seed=seed, direction=self.directions[0])
        if not (hasattr(searcher, "ask") and hasattr(searcher, "tell")):
            raise OptionTypeError(f"searcher must be a name or have ask/tell; got {searcher!r}")
        searcher.direction = self.directions[0]
        return searcher

    def make_sampler(self, n_jobs: int = 1) -> Any:
        """The proposal sampler of a foreign searcher, the user's, or TPE (constant liar with
        `n_jobs > 1`)."""
        if self.searcher is not None:
            return proposal_sampler()
        return self.sampler or default_sampler(self.seed, n_jobs=n_jobs)

    def attach(self, study: optuna.Study) -> None:
        self.study = study

    def start_with(self, initial: Iterable[dict[str, Any]]) -> None:
        """Evaluate these values maps first: Optuna's queue, or a foreign searcher's
        proposals (it is told their scores like its own)."""
        if self.searcher is None:
            for values in initial:
                self.study.enqueue_trial(optuna_params(self.space, dict(values)))
        else:
            self._initial.extend(dict(values) for values in initial)

    def __call__(self, trial: optuna.Trial) -> Any:
        claim(trial)
        try:
            return self._run(trial)
        except KeyboardInterrupt:
            if self.marks_interrupts:
                trial.set_user_attr(INTERRUPTED_ATTR, self.signals[-1] if self.signals
                                    else "SIGINT")
            raise
        except Exception as exc:
            if not isinstance(exc, require("optuna", "optuna").TrialPruned):
                trial.set_user_attr(ERROR_ATTR, f"{type(exc).__name__}: {exc}"[:1000])
            raise

    def _run(self, trial: optuna.Trial) -> Any:
        if self.searcher is None:
            arch = suggest_architecture(trial, self.space)
            done = self._repeat_of(arch)
            if done is not None:  # an Optuna sampler cannot be asked again inside its trial
                return copy_result(trial, done, len(self.directions))
            return self._evaluate(arch, trial)
        proposal = self._ask(trial)
        done = self._scored.of(proposal.architecture)  # _ask read the study
        if done is not None:  # the searcher and the random draws found nothing new
            score = copy_result(trial, done, 1)
            self._tell(proposal, score, trial.number)
            return score
        try:
            score = self._evaluate(proposal.architecture, trial)
        except BaseException:
            self._tell(proposal, None, trial.number)
            raise
        self._tell(proposal, score, trial.number)
        return score

    def _ask(self, trial: optuna.Trial) -> Any:
        with self._lock:
            self._sync()
            # A retried trial (a dead worker's, requeued) already holds its architecture.
            # _ask, _tell and _sync run only with a foreign searcher (not None)
            proposal = None if trial.params else self._next_initial() or \
                cast(Distinct, self._distinct).ask()
        sampler = cast(ProposalBinding, self.study.sampler)  # make_sampler's proposal_sampler()
        sampler.bind(trial.number, optuna_params(self.space, proposal.values) if proposal else {})
        try:
            arch = suggest_architecture(trial, self.space)
        finally:
            sampler.release(trial.number)
        if proposal is None or arch.json_values() != proposal.architecture.json_values():
            proposal = Proposal(arch, dict(arch.values))  # evaluate what the trial records
        proposal.trial = trial
        return proposal

    def _next_initial(self) -> Proposal | None:
        while self._initial:
            arch = self.space.replay(self._initial.pop(0))
            if self._scored.of(arch) is None:
                return Proposal(arch, dict(arch.values))
        return None

    def _tell(self, proposal: Any, score: Any, number: int) -> None:
        with self._lock:
            self._told.add(number)
            cast(Searcher, self.searcher).tell(proposal, score)

    def _repeat_of(self, arch: Architecture) -> Any:
        """The completed trial of the study that evaluated `arch` already, or None."""
        with self._lock:
            self._scored.refresh(self.study)
            return self._scored.of(arch)

    def _sync(self) -> None:
        """Tell the searcher about finished trials it has not seen (resume, other workers)."""
        optuna = require("optuna", "optuna")
        finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL,
                    optuna.trial.TrialState.PRUNED)
        trials = self.study.get_trials(deepcopy=False, states=finished)
        self._scored.refresh(self.study, trials)
        history = []
        for t in trials:
            if t.number in self._told or VALUES_ATTR not in t.user_attrs:
                continue
            self._told.add(t.number)
            score = t.value if t.state == optuna.trial.TrialState.COMPLETE else None
            history.append((t.user_attrs[VALUES_ATTR], score))
        if history:
            cast(Searcher, self.searcher).restore(history)

    def _evaluate(self, arch: Architecture, trial: optuna.Trial) -> Any:
        try:
            score = self.objective(arch, trial) if self.pass_trial else self.objective(arch)
        except InvalidArchitectureError as exc:  # a compile function rejected it: pruned
            raise reject(trial, exc) from exc
        return check_score(score, len(self.directions), trial.number)


def _create_study(optuna, storage, study_name, runner, directions, pruner, seed, *,
                  n_jobs: int = 1):
    name = study_name or "search-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    opened = open_storage(storage, name)
    study = optuna.create_study(storage=opened, study_name=name, directions=directions,
                                sampler=runner.make_sampler(n_jobs), pruner=pruner,
                                load_if_exists=True)
    stored = [d.name.lower() for d in study.directions]
    if stored != directions:
        raise OptionError(f"study {name!r} already exists with directions {stored}; "
                          f"this search asked for {directions}")
    _check_space(study, runner.space)
    fail_dead_trials(study)
    return study


def _check_space(study: optuna.Study, space: SearchSpace) -> None:
    """Record the space (its fingerprint) in a new study; refuse another space in an old one."""
    attrs = study.user_attrs
    current = fingerprint(space)
    if FINGERPRINT_ATTR in attrs:
        check_same(attrs[FINGERPRINT_ATTR], current, _stored_name(attrs), repr(space),
                   study.study_name)
        return
    if SPACE_ATTR not in attrs:
        study.set_user_attr(SPACE_ATTR, repr(space))
    if not study.trials:  # an older study's trials may come from another space
        study.set_user_attr(FINGERPRINT_ATTR, current)


def _stored_name(attrs: dict[str, Any]) -> str:
    record = attrs.get(CLI_ATTR)
    if isinstance(record, dict) and isinstance(record.get("space"), str):
        return " ".join([record["space"], *map(str, record.get("options") or [])])
    return str(attrs.get(SPACE_ATTR, "another space"))


def _remaining(study, max_trials: int, states, n_trials: int | None) -> int:
    done = len(study.get_trials(deepcopy=False, states=states))
    left = max(0, max_trials - done)
    return left if n_trials is None else min(left, n_trials)


def _directions(direction: str | None, directions: Sequence[str] | None) -> list[str]:
    if direction is not None and directions is not None:
        raise OptionError("give direction or directions, not both")
    if directions is None:
        return [check_direction(direction or "minimize")]
    if isinstance(directions, str) or not directions:
        raise OptionError(f"directions must be a non-empty list; got {directions!r}")
    return [check_direction(d) for d in directions]
