"""No architecture is evaluated twice in one study.

Searchers repeat themselves on small or well-explored spaces: Hyperopt's TPE proposed one
architecture for trials 19-29 of 30 on a small space, and a RandAugment search ran one
setting 4 times in a space of 33. The runner keeps the scores of the study's finished
architectures by values map and

- asks an ask/tell searcher again when it proposes one of them (telling it the known score,
  which is true information: a model-based searcher learns that the point is done), at most
  `REASKS` times, then draws uniformly among the unexplored (`RANDOM_DRAWS` draws at most);
- records a trial whose architecture is still a repeat (an Optuna sampler's, which cannot
  be asked again inside its trial, or a space with nothing left) with the earlier trial's
  score and measurements, and `SAME_AS_ATTR` naming that trial, without evaluating it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from typing import Any

from da_bridge._imports import require
from da_bridge.architecture import Architecture
from da_bridge.errors import DABridgeError
from da_bridge.searchers.base import Proposal, Searcher
from da_bridge.space import SearchSpace
from da_bridge.study._schema import (
    ARCHITECTURE_ATTR,
    ERROR_ATTR,
    INTERRUPTED_ATTR,
    OWNER_ATTR,
    SAME_AS_ATTR,
    VALUES_ATTR,
)

#: Times a searcher is asked again after proposing an architecture the study has scored.
REASKS = 10
#: Uniform draws, after that, looking for an architecture the study has not scored.
RANDOM_DRAWS = 200
_NOT_COPIED = {VALUES_ATTR, ARCHITECTURE_ATTR, OWNER_ATTR, ERROR_ATTR, INTERRUPTED_ATTR,
               SAME_AS_ATTR}


def values_key(values: Mapping[str, Any]) -> str:
    """A values map (JSON form) as a string that is equal exactly for equal maps."""
    return json.dumps(values, sort_keys=True)


class Scored:
    """The study's completed trials, by the values map of their architecture."""

    def __init__(self) -> None:
        self._by_key: dict[str, Any] = {}
        self._read: set[int] = set()
        self._cursor = 0  # below it, every trial of a whole list was finished and read

    def refresh(self, study: Any, trials: Iterable[Any] | None = None) -> None:
        """Index the completed trials not seen yet (the first of each architecture), of
        `trials` if given (a list of the study's trials already read), else of the study."""
        complete = require("optuna", "optuna").trial.TrialState.COMPLETE
        if trials is None:
            trials = study.get_trials(deepcopy=False)
        trials = list(trials)
        # the study's whole list (numbered 0, 1, 2...): start where finished trials end
        whole = bool(trials) and trials[-1].number == len(trials) - 1
        for t in trials[self._cursor:] if whole else trials:
            if t.number in self._read or t.state != complete:
                continue
            self._read.add(t.number)
            values = t.user_attrs.get(VALUES_ATTR)
            if values is not None:
                self._by_key.setdefault(values_key(values), t)
        while whole and self._cursor < len(trials) and trials[self._cursor].state.is_finished():
            self._cursor += 1

    def of(self, arch: Architecture) -> Any:
        """The completed trial that evaluated `arch`, or None."""
        return self._by_key.get(values_key(arch.json_values()))

    def __len__(self) -> int:
        return len(self._by_key)


class Distinct:
    """Asks a searcher for architectures the study has not scored (see the module's text)."""

    def __init__(self, searcher: Searcher, space: SearchSpace, seed: int | None) -> None:
        self.searcher, self.space, self.scored = searcher, space, Scored()
        self._rng = random.Random(seed)
        self._exhausted_at = -1  # how many were scored when the last search for new ones failed

    def ask(self) -> Proposal:
        """The searcher's proposal, asked again while it repeats a scored architecture."""
        proposal = self.searcher.ask()
        if self._exhausted_at == len(self.scored):  # nothing new since the last full search:
            return proposal  # the space is (nearly) exhausted; do not pay for re-asks again
        for _ in range(REASKS):
            done = self.scored.of(proposal.architecture)
            if done is None:
                return proposal
            self.searcher.tell(proposal, done.value)
            proposal = self.searcher.ask()
        if self.scored.of(proposal.architecture) is None:
            return proposal
        found = self._unexplored()
        if found is None:
            self._exhausted_at = len(self.scored)
        return found or proposal

    def _unexplored(self) -> Proposal | None:
        for _ in range(RANDOM_DRAWS):
            try:
                arch = self.space.sample(self._rng)
            except DABridgeError:  # a space that rejects most draws: keep the searcher's repeat
                return None
            if self.scored.of(arch) is None:
                return Proposal(arch, dict(arch.values))
        return None


def copy_result(trial: Any, done: Any, n_objectives: int) -> Any:
    """Record on `trial` the score and measurements of `done`, the trial it repeats."""
    for name, value in done.user_attrs.items():
        if name not in _NOT_COPIED:
            trial.set_user_attr(name, value)
    trial.set_user_attr(SAME_AS_ATTR, done.number)
    return list(done.values) if n_objectives > 1 else done.value
