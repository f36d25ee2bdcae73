"""A sampler wrapper that reads the study once per trial.

TPE with the constant liar rereads every trial of the study, running ones included, for each
parameter group it samples, so that concurrent workers see each other's running trials. On a
database each reread is a round of queries (the running trials are read again in full), and an
architecture has many groups. Trials that other workers start during the few milliseconds one
trial spends sampling are of no use to it, so one read per trial loses nothing.

This is the one place da_bridge relies on an Optuna internal: TPE reads the study through
`Study._get_trials`, which the snapshot serves. If a future Optuna reads through another name,
the wrapper passes the read to the study (results stay right, only the saving is lost) and
`tests/adapters/test_optuna.py::test_constant_liar_sampler_reads_the_study_once_per_trial_and_
samples_the_same` fails, naming the Optuna version to look at.

With `history=K` the sampler sees only the best 25 and the last K finished trials (and every
running one), so a proposal's cost stops growing with the study (workers use K=500).
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Container, Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial, TrialState


class ReadOncePerTrial(optuna.samplers.BaseSampler):
    """Delegates to `sampler`, serving its study reads from one snapshot per trial."""

    def __init__(self, sampler: optuna.samplers.BaseSampler, *,
                 history: int | None = None) -> None:
        self.sampler = sampler
        #: Finished trials the sampler sees at most, past the best `KEEP_BEST` (None: all).
        self.history = history
        self._local = threading.local()  # n_jobs threads sample different trials
        self._kept = _Kept()  # the best trials so far, updated from the new ones only

    def __repr__(self) -> str:
        return f"ReadOncePerTrial({type(self.sampler).__name__})"

    def _view(self, study: optuna.Study, trial: FrozenTrial) -> _Snapshot:
        view = getattr(self._local, "view", None)
        if view is None or view.trial_number != trial.number:
            view = self._local.view = _Snapshot(study, trial.number, self.history, self._kept)
        return view

    def infer_relative_search_space(self, study: optuna.Study,
                                    trial: FrozenTrial) -> dict[str, BaseDistribution]:
        # _Snapshot is a read-through proxy of the Study; Optuna's signature names Study
        return self.sampler.infer_relative_search_space(self._view(study, trial), trial)  # type: ignore[arg-type]

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        # _Snapshot is a read-through proxy of the Study; Optuna's signature names Study
        return self.sampler.sample_relative(self._view(study, trial), trial, search_space)  # type: ignore[arg-type]

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        # _Snapshot is a read-through proxy of the Study; Optuna's signature names Study
        return self.sampler.sample_independent(self._view(study, trial), trial, param_name,  # type: ignore[arg-type]
                                               param_distribution)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._local.view = None
        self.sampler.before_trial(study, trial)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        self._local.view = None
        self.sampler.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self.sampler.reseed_rng()


class _Snapshot:
    """The study as the sampler sees it during one trial: every read returns the same trials."""

    def __init__(self, study: optuna.Study, trial_number: int,
                 history: int | None = None, kept: _Kept | None = None) -> None:
        self._study = study
        self.trial_number = trial_number
        self._history = history
        self._kept = kept
        self._trials: list[FrozenTrial] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)

    def _get_trials(self, deepcopy: bool = True, states: Container[TrialState] | None = None,
                    use_cache: bool = False, **other: Any) -> list[FrozenTrial]:
        # a copy the sampler may change, or a read this proxy does not know: the study's own
        if deepcopy or other:
            return self._study._get_trials(deepcopy, states, use_cache, **other)
        if self._trials is None:
            trials = self._study._get_trials(deepcopy=False)
            self._trials = _bounded(self._study, trials, self._history) \
                if self._kept is None else self._kept.bounded(self._study, trials, self._history)
        return [t for t in self._trials if states is None or t.state in states]


#: The best trials a bounded history keeps however old: TPE's "good" group is the best
#: 10 % of the trials, at most 25, so past 250 trials it is exactly these.
KEEP_BEST = 25


def _bounded(study: optuna.Study, trials: list[FrozenTrial],
             history: int | None) -> list[FrozenTrial]:
    """The best `KEEP_BEST` and the last `history` finished trials, and every unfinished one.

    TPE's cost grows with the trials it models (about 35 ms per proposal at 1,000 trials and
    180 ms at 5,000 on the poster space); its "good" density comes from the best 25, which
    stay, and its "bad" density is estimated from the recent trials only.
    """
    finished = [t for t in trials if t.state.is_finished()]
    if history is None or len(finished) <= history + KEEP_BEST:
        return trials
    keep = {t.number for t in finished[-history:]}
    if len(study.directions) == 1:
        complete = [t for t in finished if t.state == TrialState.COMPLETE]
        sign = 1.0 if study.direction == optuna.study.StudyDirection.MINIMIZE else -1.0
        complete.sort(key=lambda t: sign * float(t.values[0]))
        keep.update(t.number for t in complete[:KEEP_BEST])
    return [t for t in trials if not t.state.is_finished() or t.number in keep]


class _Kept:
    """`_bounded` at a cost that does not grow with the study.

    Finished trials never change, so the best ones are kept in a heap fed only with the
    trials that finished since the last look; `cursor` is the number below which every
    trial is finished and was looked at. Trials numbered 0, 1, 2... are at their index in
    the study's list; a list that is not (or another study) gets `_bounded` itself.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._cursor = 0
        self._seen: set[int] = set()  # finished trials at or past the cursor, looked at
        self._best: list[tuple[float, int]] = []  # (-sign * value, -number): worst first

    def bounded(self, study: optuna.Study, trials: list[FrozenTrial],
                history: int | None) -> list[FrozenTrial]:
        if history is None or len(study.directions) != 1:
            return _bounded(study, trials, history)
        sign = 1.0 if study.direction == optuna.study.StudyDirection.MINIMIZE else -1.0
        with self._lock:
            if not self._look(study, trials, sign):
                return _bounded(study, trials, history)
            if self._cursor + len(self._seen) <= history + KEEP_BEST:  # all finished: few
                return trials
            return self._choose(trials, history)

    def _look(self, study: optuna.Study, trials: list[FrozenTrial], sign: float) -> bool:
        """Feed the trials finished since the last look; False: the list is not dense."""
        key = (study._study_id, id(study._storage), sign)
        if key != self._key or len(trials) < self._cursor:
            self._key, self._cursor, self._seen, self._best = key, 0, set(), []
        if trials and trials[-1].number != len(trials) - 1:
            self._key = None
            return False
        for trial in trials[self._cursor:]:
            if trial.state.is_finished() and trial.number not in self._seen:
                self._seen.add(trial.number)
                if trial.state == TrialState.COMPLETE:
                    entry = (-sign * float(trial.values[0]), -trial.number)
                    if len(self._best) < KEEP_BEST:
                        heapq.heappush(self._best, entry)
                    else:
                        heapq.heappushpop(self._best, entry)
        while self._cursor < len(trials) and trials[self._cursor].state.is_finished():
            self._seen.discard(self._cursor)
            self._cursor += 1
        return True

    def _choose(self, trials: list[FrozenTrial], history: int) -> list[FrozenTrial]:
        """The best, the last `history` finished and every unfinished trial, by number."""
        start, finished = len(trials), 0
        while start > 0 and finished < history:  # back to the history-th last finished one
            start -= 1
            finished += trials[start].state.is_finished()
        if finished < history:  # no more than `history` finished trials: all of them
            return trials
        low = min(start, self._cursor)  # unfinished trials are all at or past the cursor
        best = {-number for _, number in self._best}
        head = [trials[n] for n in sorted(best) if n < low]
        tail = [t for i, t in enumerate(trials[low:], low)
                if i >= start or not t.state.is_finished() or i in best]
        return head + tail
