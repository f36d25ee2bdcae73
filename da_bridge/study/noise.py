"""How sure a score is: the spread behind a trial's score, and whether the top trials differ.

A score is often the mean of several measurements: cross-validation folds,
seeds, or the items of a validation set (an accuracy is the mean of one
0-or-1 per image). An objective records them on its trial with
`record_samples` or `record_accuracy`; a study then knows each score's
standard error, and `ranking_note` says in plain words when the best trials
are closer than that noise. Trials of the same architecture evaluated more
than once count as repeated measurements too.

Nothing here imports Optuna: a trial is anything with `number`, `value` (or
`values`), `state` and `user_attrs`, and an Optuna trial to record on is
anything with `set_user_attr`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from da_bridge.errors import ObjectiveError, OptionError
from da_bridge.study._schema import SAMPLES_ATTR, SPREAD_ATTR, VALUES_ATTR

#: Two scores closer than this many standard errors of their difference are called a tie
#: (about a 95% two-sided test for a normal difference).
TIE_SE = 2.0


@dataclass(frozen=True)
class Spread:
    """The uncertainty of one score.

    Attributes:
        se: Standard error of the score (the mean of the samples).
        n: How many measurements the score averages.
        what: What they are, e.g. "CV folds" or "validation images".
        std: Standard deviation of the measurements (None when only `se` is known).
        samples: The measurements, when recorded (paired comparisons use them).
    """

    se: float
    n: int
    what: str
    std: float | None = None
    samples: tuple[float, ...] | None = None

    def text(self, digits: int = 4) -> str:
        """`± se (standard error over n what)`.

        Example:
            >>> Spread(0.0123, 5, "CV folds", 0.0275).text()
            '± 0.0123 (standard error over 5 CV folds, whose std is 0.0275)'
        """
        std = f", whose std is {self.std:.{digits - 1}g}" if self.std is not None else ""
        return f"± {self.se:.{digits - 1}g} (standard error over {self.n} {self.what}{std})"


def record_samples(trial: Any, samples: Sequence[float], what: str = "repeats") -> float:
    """Record the measurements a trial's score is the mean of; returns that mean.

    Args:
        trial: The Optuna trial (anything with `set_user_attr`).
        samples: One score per fold, seed or item; at least two.
        what: What one sample is, in the plural ("CV folds", "seeds").

    Example:
        >>> import optuna
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study()
        >>> trial = study.ask()
        >>> record_samples(trial, [0.9, 0.8, 1.0], "CV folds")
        0.9
        >>> round(score_spread(trial).se, 4)
        0.0577
    """
    values = [float(s) for s in samples]
    if len(values) < 2 or not all(math.isfinite(v) for v in values):
        raise ObjectiveError(f"record_samples needs at least two finite scores; got {samples!r}")
    trial.set_user_attr(SAMPLES_ATTR, {"what": str(what), "samples": values})
    return sum(values) / len(values)


def record_accuracy(trial: Any, accuracy: float, n: int, what: str = "validation images") -> float:
    """Record that a trial's score is an accuracy over `n` items; returns `accuracy`.

    Its standard error is the binomial one, `sqrt(p (1 - p) / n)`.

    Example:
        >>> import optuna
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> trial = optuna.create_study().ask()
        >>> record_accuracy(trial, 0.9, 400)
        0.9
        >>> score_spread(trial).text()
        '± 0.015 (standard error over 400 validation images)'
    """
    if not (0 <= accuracy <= 1) or int(n) < 1:
        raise ObjectiveError(f"record_accuracy needs 0 <= accuracy <= 1 and n >= 1; "
                         f"got {accuracy!r}, {n!r}")
    se = math.sqrt(max(accuracy * (1 - accuracy), 0.25 / n) / n)  # never 0: one item may flip
    trial.set_user_attr(SPREAD_ATTR, {"se": se, "n": int(n), "what": str(what)})
    return float(accuracy)


def score_spread(trial: Any, repeats: Sequence[float] | None = None) -> Spread | None:
    """The spread recorded on `trial`, else that of `repeats` (other scores of the same
    architecture, this trial's included), else None."""
    attrs = getattr(trial, "user_attrs", {}) or {}
    recorded = attrs.get(SAMPLES_ATTR)
    if isinstance(recorded, Mapping) and len(recorded.get("samples") or []) >= 2:
        return _from_samples(recorded["samples"], str(recorded.get("what", "repeats")))
    given = attrs.get(SPREAD_ATTR)
    if isinstance(given, Mapping) and "se" in given:
        return Spread(float(given["se"]), int(given.get("n", 0)), str(given.get("what", "")))
    if repeats is not None and len(repeats) >= 2:
        return _from_samples(repeats, "evaluations of this architecture")
    return None


def samples_spread(samples: Sequence[float], what: str = "repeats") -> Spread | None:
    """The spread of measurements whose mean is a score; None for fewer than two.

    Example:
        >>> round(samples_spread([0.8, 0.9, 1.0], "seeds").se, 4)
        0.0577
    """
    return _from_samples(samples, what) if len(samples) >= 2 else None


def _from_samples(samples: Sequence[float], what: str) -> Spread:
    values = tuple(float(s) for s in samples)
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return Spread(std / math.sqrt(n), n, what, std, values)


@dataclass(frozen=True)
class Ranking:
    """The best trial of a single-objective study, its spread, and the trials tied with it.

    Attributes:
        best: The best trial.
        score: Its score (with confirmations: the mean of its re-evaluations).
        spread: Its score's spread (None when nothing measures one).
        ties: Trials among the top whose scores are within `TIE_SE` standard errors of
            the difference from the best.
        compared: How many top trials were compared with the best.
        confirmed: True when the ranking is on re-evaluations (`confirm`), not on the search's
            own scores.
    """

    best: Any
    score: float
    spread: Spread | None
    ties: tuple[Any, ...]
    compared: int
    confirmed: bool = False

    def note(self) -> str | None:
        """A plain sentence on how sure the ranking is (None when nothing can be said)."""
        if self.spread is None:
            return None
        how = "After re-evaluation, t" if self.confirmed else "T"
        if not self.ties:
            return (f"{how}he best trial ({self.best.number}) is ahead of the next "
                    f"{self.compared} by more than {TIE_SE:g} standard errors.")
        numbers = _join([str(t.number) for t in self.ties])
        trials = "trial" if len(self.ties) == 1 else "trials"
        return (f"{how}he best trial ({self.best.number}) is not clearly better: {trials} "
                f"{numbers} score within {TIE_SE:g} standard errors of it, so the difference "
                f"may be noise ({self.spread.n} {self.spread.what}).")


def rank(trials: Sequence[Any], maximize: bool, top: int = 5,
         confirmed: Mapping[str, Any] | None = None) -> Ranking | None:
    """Compare the best of `trials` (finished ones with a score) with the next `top - 1`.

    Args:
        trials: The study's trials.
        maximize: Whether higher scores are better.
        top: How many distinct architectures to compare, the best included.
        confirmed: Re-evaluations by trial number (as `confirm` returns them); when given,
            only the re-evaluated trials compete, on the mean of their re-evaluations.

    Example:
        >>> from types import SimpleNamespace as T
        >>> folds = lambda *s: {SAMPLES_ATTR: {"what": "CV folds", "samples": list(s)}}
        >>> trials = [T(number=0, value=0.90, user_attrs=folds(0.88, 0.90, 0.92)),
        ...           T(number=1, value=0.89, user_attrs=folds(0.86, 0.91, 0.90)),
        ...           T(number=2, value=0.70, user_attrs=folds(0.69, 0.70, 0.71))]
        >>> ranking = rank(trials, maximize=True)
        >>> [t.number for t in ranking.ties]
        [1]
        >>> ranking.note().startswith("The best trial (0) is not clearly better: trial 1")
        True
    """
    scored = [t for t in trials if _score(t) is not None]
    if confirmed:
        scored = [t for t in scored if str(t.number) in confirmed]
    if not scored:
        return None
    repeats = _repeats(scored)

    def score_of(trial: Any) -> float:
        if confirmed:
            samples = confirmed[str(trial.number)]["samples"]
            return float(sum(samples) / len(samples))
        return _value(trial)

    def spread_of(trial: Any) -> Spread | None:
        if confirmed:
            entry = confirmed[str(trial.number)]
            if len(entry["samples"]) < 2:
                return None
            return _from_samples(entry["samples"], str(entry["what"]))
        return score_spread(trial, repeats.get(_key(trial)))

    ordered = sorted(scored, key=score_of, reverse=maximize)
    best = ordered[0]
    spread = spread_of(best)
    others = _distinct_architectures(ordered[1:], best)[:top - 1]
    ties = tuple(t for t in others if spread is not None
                 and _tied(score_of(best), spread, score_of(t), spread_of(t)))
    return Ranking(best, score_of(best), spread, ties, len(others), bool(confirmed))


def confirm(trials: Sequence[Any], maximize: bool, k: int,
            evaluate: Callable[[Any, int], Sequence[float]],
            seeds: Sequence[int]) -> dict[str, dict[str, Any]]:
    """Re-evaluate the `k` best distinct architectures of a search on more seeds.

    Args:
        trials: The study's trials.
        maximize: Whether higher scores are better.
        k: How many of the best distinct architectures to re-evaluate.
        evaluate: `evaluate(trial, seed)` returns the measurements of one re-evaluation
            (e.g. the fold scores of a cross-validation with folds drawn from `seed`).
        seeds: The seeds; each architecture is re-evaluated once per seed.

    Returns:
        `{str(trial number): {"seeds": [...], "samples": [...], "what": "..."}}`, ready to be
        stored as the study's `CONFIRMED_ATTR` and passed to `rank(confirmed=...)`.

    Example:
        >>> from types import SimpleNamespace as T
        >>> trials = [T(number=n, value=v, user_attrs={VALUES_ATTR: {"x": n}})
        ...           for n, v in enumerate([0.9, 0.8, 0.7])]
        >>> found = confirm(trials, True, 2, lambda t, seed: [t.value - seed / 100], [1, 2])
        >>> sorted(found), found["0"]["samples"]
        (['0', '1'], [0.89, 0.88])
    """
    if k < 1 or not seeds:
        raise OptionError(f"confirm needs k >= 1 and at least one seed; got k={k!r}, "
                          f"seeds={list(seeds)!r}")
    scored = sorted((t for t in trials if _score(t) is not None), key=_value, reverse=maximize)
    if not scored:
        return {}
    chosen = [scored[0], *_distinct_architectures(scored[1:], scored[0])][:k]
    found = {}
    for trial in chosen:
        runs = [[float(s) for s in evaluate(trial, seed)] for seed in seeds]
        what = f"measurements on {len(seeds)} seeds"
        found[str(trial.number)] = {"seeds": list(seeds), "what": what,
                                    "samples": [s for run in runs for s in run]}
    return found


def _tied(best_score: float, spread: Spread, other_score: float,
          other_spread: Spread | None) -> bool:
    difference = abs(best_score - other_score)
    paired = (other_spread is not None and spread.samples is not None
              and other_spread.samples is not None and other_spread.what == spread.what
              and len(other_spread.samples) == len(spread.samples))
    if paired and spread.samples is not None and other_spread is not None \
            and other_spread.samples is not None:  # same folds or seeds: paired differences
        differences = [a - b for a, b in zip(spread.samples, other_spread.samples)]
        se = _from_samples(differences, spread.what).se
    else:
        se = math.hypot(spread.se, other_spread.se if other_spread else spread.se)
    return difference <= TIE_SE * se


def _score(trial: Any) -> float | None:
    state = getattr(getattr(trial, "state", None), "name", "COMPLETE")
    value = getattr(trial, "value", None)
    if state != "COMPLETE" or value is None:
        return None
    return float(value)


def _value(trial: Any) -> float:
    """The score of a trial known to have one."""
    return float(trial.value)


def _key(trial: Any) -> str:
    values = (getattr(trial, "user_attrs", {}) or {}).get(VALUES_ATTR)
    return json.dumps(values, sort_keys=True) if values is not None else f"#{trial.number}"


def _repeats(trials: Sequence[Any]) -> dict[str, list[float]]:
    """Scores per architecture, for architectures evaluated more than once."""
    by_key: dict[str, list[float]] = {}
    for trial in trials:
        by_key.setdefault(_key(trial), []).append(_value(trial))
    return {k: v for k, v in by_key.items() if len(v) > 1}


def _distinct_architectures(trials: Sequence[Any], best: Any) -> list[Any]:
    seen, kept = {_key(best)}, []
    for trial in trials:
        if _key(trial) not in seen:
            seen.add(_key(trial))
            kept.append(trial)
    return kept


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
