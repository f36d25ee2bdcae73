"""Sequential model-based optimization (SMBO) with a scikit-learn surrogate.

DeepArchitect's SMBO searcher scored random samples with a surrogate built on
features hashed from counter-based names (`M.Conv2D-3`) with Python's
salted `hash()`, so a model saved in one process was meaningless in the next
and the names changed with construction order. Here:

- features are keyed by stable path names (`da_bridge.adapters.surrogate.Featurizer`):
  one-hot indicators of categorical choices, numeric values as they are,
  nothing for hyperparameters that are not live in an architecture, and
  counts of each value of a property across paths (how many `*.op` are
  `nor_conv_3x3`);
- the surrogate is a tree ensemble (random forest by default) whose spread
  across trees is the uncertainty that expected improvement needs;
- candidates are fresh samples of the unfolding space plus local mutations of
  the best architectures so far: one hyperparameter changed, what it reveals
  sampled, everything else kept;
- the history is values maps, so `restore` resumes from the results store
  without rebuilding anything.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from da_bridge._imports import require
from da_bridge.adapters.surrogate import SurrogateModel, make_estimator
from da_bridge.errors import (
    DomainError,
    InvalidArchitectureError,
    NoValidArchitectureError,
    OptionError,
)
from da_bridge.hyperparameters import Discrete, Float, Hyperparameter, Int
from da_bridge.searchers.base import Proposal, Searcher
from da_bridge.searchers.evolution import MUTATION_TRIES
from da_bridge.space import MAX_REJECTIONS, SearchSpace

Values = dict[str, Any]
Y_TRANSFORMS = ("log", "rank", None)
#: Trials without a new best after which most proposals refine the other structures.
STALL = 8
#: Trials without a new best after which one proposal in three is the surrogate's pick among
#: fresh samples alone: the variations of the best are stuck in one basin.
RESTART_STALL = 16
#: Changes of a path that left the live hyperparameters as they were after which a change of
#: it is taken to keep them (a candidate built without unfolding the space).
FLAT_AFTER = 3
#: Share of the pool drawn at the first model-based proposal.
FIRST_FILL = 0.5
#: Fresh candidates per unfolded one: the others redraw its hyperparameters that keep the
#: structure.
REDRAWS = 4
#: Candidates the surrogate ranks first that are unfolded before one is taken: a candidate
#: built without unfolding may be one the space rejects.
CHECKED = 8
#: Share of the trials that count as good when a structure to refine is chosen.
GOOD = 0.25


class SMBOSearcher(Searcher):
    """Ask/tell SMBO: a tree-ensemble surrogate and expected improvement.

    Args:
        space: The search space.
        seed: Seeds sampling and the surrogate: the same seed gives the same proposals.
        direction: "minimize" or "maximize" (`da_bridge.search` sets it).
        estimator: "rf" (random forest), "et" (extra trees) or a scikit-learn
            ensemble regressor with `estimators_`.
        n_trees: Trees of the "rf" or "et" ensemble.
        y_transform: How losses are rescaled before the surrogate sees them: "log"
            (`log(loss - best + eps)`, which spreads out the region near the best
            and squeezes catastrophic failures), "rank", or None.
        n_initial: Random architectures before the surrogate takes over.
        n_candidates: Fresh random samples added per proposal to the pool of candidates
            (`pool_size` of them, the first fill at once), all scored by the surrogate.
        pool_size: Random candidates kept from one proposal to the next.
        n_parents: How many of the best architectures are varied per proposal.
        max_mutations: Variations of the parents scored per proposal: one hyperparameter
            changed (and what it reveals sampled), or every number moved a little.
        xi: Improvement margin of expected improvement, in transformed units.
        random_fraction: Share of proposals after `n_initial` that are fresh random
            samples (SMAC's interleaved random configurations).
        branch_fraction: Share of proposals after `n_initial` that improve the best
            architecture of one structure (a set of live hyperparameters, e.g. one branch
            of a choice), by expected improvement over that structure's own best:
            expected improvement over the global best alone settles in the branch that
            looked best early and never refines the others. The structure is, in turn,
            the one a Thompson draw over each structure's share of good trials picks
            and one of the others that scored best (round robin).
            Once the best has not improved for `RESTART_STALL` trials, one proposal in
            three that refines no structure is the surrogate's pick among the fresh
            samples alone (a restart away from the best's basin).
        refit_growth: The surrogate is refit once the trials grow by this share since
            the last fit (at least one trial): every trial early on, every tenth of the
            trials later, which keeps the searcher's time per trial nearly flat.

    Unfolding the space is most of a proposal's cost on a space of many modules, so the
    variations of a parent are built without unfolding once a change of each changed
    hyperparameter has kept the live hyperparameters as they were `FLAT_AFTER` times (a
    hyperparameter that reveals others, such as a branch choice, is always unfolded), and
    one fresh candidate in `REDRAWS` is unfolded, the others redraw its hyperparameters
    known to keep the structure; the candidates the surrogate ranks first are unfolded
    before one is proposed (one the space rejects is skipped).

    Numbers are modelled on their own scale: a log-scaled `Int` or `Float` as its logarithm
    (its variations are steps on that scale too), so "1e-4 vs 1e-3" weighs what "0.1 vs 1"
    does.

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> searcher = SMBOSearcher(poster_space(), seed=0, n_initial=3)
        >>> for _ in range(5):
        ...     proposal = searcher.ask()
        ...     searcher.tell(proposal, proposal.values["conv.filters"] / 64)
        >>> len(searcher.history)
        5
    """

    def __init__(self, space: SearchSpace, *, seed: int | None = None,
                 direction: str = "minimize", estimator: str | Any = "rf",
                 n_trees: int = 24, y_transform: str | None = "log", n_initial: int = 10,
                 n_candidates: int = 16, pool_size: int = 128, n_parents: int = 3,
                 max_mutations: int = 16,
                 xi: float = 0.0, random_fraction: float = 0.1,
                 branch_fraction: float = 0.5, refit_growth: float = 0.1) -> None:
        super().__init__(space, seed=seed, direction=direction)
        for name, value in (("n_initial", n_initial), ("n_trees", n_trees),
                            ("n_candidates", n_candidates), ("n_parents", n_parents),
                            ("pool_size", pool_size),
                            ("max_mutations", max_mutations)):
            low = 1 if name in ("n_initial", "n_trees") else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise OptionError(f"{name} must be an integer >= {low}; got {value!r}")
        for name, share in (("random_fraction", random_fraction),
                            ("branch_fraction", branch_fraction),
                            ("refit_growth", refit_growth)):
            if not 0.0 <= share <= 1.0:
                raise OptionError(f"{name} must be in [0, 1]; got {share!r}")
        if y_transform not in Y_TRANSFORMS:
            raise OptionError(f"y_transform must be one of {list(Y_TRANSFORMS)}; "
                             f"got {y_transform!r}")
        make_estimator(estimator, seed, n_estimators=n_trees)  # fail now, not at trial 11
        self.estimator, self.n_trees, self.y_transform = estimator, n_trees, y_transform
        self.n_initial, self.n_candidates, self.pool_size = n_initial, n_candidates, pool_size
        self.n_parents, self.max_mutations, self.xi = n_parents, max_mutations, float(xi)
        self.random_fraction, self.branch_fraction = float(random_fraction), float(branch_fraction)
        self.refit_growth = float(refit_growth)
        self.history: list[tuple[Values, float | None]] = []  # (JSON values map, loss)
        self._rng = random.Random(seed)
        self._seen: set[str] = set()
        self._scales = _Scales(space)
        self._pool: list[Values] = []
        self._model: _Fitted | None = None
        self._model_asks = 0
        self._branch_turns = 0
        self._flat: dict[str, int] = {}  # path -> changes of it that kept the structure
        self._structural: set[str] = set()  # paths whose change revealed or hid others
        self._checked: dict[str, Any] = {}  # the unfolded winner: its key -> architecture

    def ask(self) -> Proposal:
        scored = [(v, loss) for v, loss in self.history if loss is not None]
        if len(scored) < self.n_initial or self._rng.random() < self.random_fraction:
            values = self._fresh_sample()
        else:
            values = self._most_promising(scored)
        key = _key(values)
        self._seen.add(key)
        arch = self._checked.pop(key, None)
        self._checked.clear()
        if arch is None:
            arch = self.space.replay(values)
        return Proposal(arch, dict(arch.values), token=values)

    def tell(self, proposal: Proposal, score: float | None) -> None:
        values = proposal.token if proposal.token is not None else \
            proposal.architecture.json_values()
        self._record(values, self.loss(score))

    def restore(self, history: Iterable[tuple[Mapping[str, Any], float | None]]) -> None:
        """Take finished trials from the store (values maps in JSON form) as told."""
        for values, score in history:
            self._record(dict(values), self.loss(score))

    def _record(self, values: Values, loss: float | None) -> None:
        self._seen.add(_key(values))
        self.history.append((values, loss))

    def _most_promising(self, scored: list[tuple[Values, float]]) -> Values:
        self._model_asks += 1
        structure = self._other_structure(scored)
        mine = scored if structure is None else \
            [(v, loss) for v, loss in scored if _structure(v) == structure]
        candidates = self._candidates(mine, structure)
        if structure is None and self._model_asks % 3 == 0 and _stalled(scored, RESTART_STALL):
            # the variations of the best outrank fresh samples on expected improvement even
            # when they find nothing (a basin of a rugged space such as NAS-Bench-Graph)
            candidates = [v for v in self._pool if _key(v) not in self._seen] or candidates
        if not candidates:  # nothing new near the best nor in the pool (a small space)
            return self._fresh_sample()
        model = self._fit(scored)
        mean, std = model.predict(self._scales, candidates)
        best = model.transform(min(loss for _, loss in mine))
        ei = expected_improvement(mean, std, best, self.xi)
        for index in np.argsort(-ei, kind="stable")[:CHECKED]:
            if (values := self._checked_candidate(candidates[int(index)])) is not None:
                return values
        return self._fresh_sample()

    def _checked_candidate(self, values: Values) -> Values | None:
        """`values` once unfolded (kept for `ask`), or None when the space rejects it or its
        live hyperparameters differ (a change thought to keep them did not)."""
        try:
            arch = self.space.sample(self._rng, keep=values, max_rejections=1)
        except (InvalidArchitectureError, NoValidArchitectureError):  # the space rejects it
            self._seen.add(_key(values))
            return None
        unfolded = arch.json_values()
        if unfolded != values:
            self._seen.add(_key(values))
            self._structural.update(p for p in values if unfolded.get(p) != values[p])
            return None
        self._checked[_key(values)] = arch
        return values

    def _fit(self, scored: list[tuple[Values, float]]) -> _Fitted:
        """The surrogate, refit when the trials grew by `refit_growth` since the last fit."""
        n = len(scored)
        if self._model is None or n - self._model.n >= max(1, int(self.refit_growth * n)):
            estimator = make_estimator(self.estimator, self._rng.randrange(2**31),
                                       n_estimators=self.n_trees)
            self._model = _Fitted(scored, self._scales, estimator, self.y_transform)
        return self._model

    def _other_structure(self, scored: list[tuple[Values, float]]) -> frozenset | None:
        """Every `1 / branch_fraction`-th proposal, and two in three once the best has not
        improved for `STALL` trials: the structure whose best this proposal refines. None
        otherwise, or when there is one structure.

        These turns alternate between two choices. One is Thompson sampling: a structure's
        chance that its trials land in the best `GOOD` share of all trials is a
        Beta(good + 1, others + 1), drawn once per structure, and the highest draw is refined,
        so a branch whose trials are often good gets many turns (a sharp optimum in it is
        found by refining it). The other is a round robin over the other structures that
        scored best, so a branch whose optimum is narrow (most of its trials bad) keeps its
        share of refinement.
        """
        if not self.branch_fraction:
            return None
        period = round(1 / self.branch_fraction)
        if self._model_asks % period and not (_stalled(scored) and self._model_asks % 3):
            return None
        threshold = sorted(loss for _, loss in scored)[max(1, int(GOOD * len(scored))) - 1]
        counts: dict[frozenset, list[int]] = {}  # structure -> [good, others]
        best: dict[frozenset, float] = {}
        for values, loss in scored:
            key = _structure(values)
            counts.setdefault(key, [0, 0])[int(loss > threshold)] += 1
            best[key] = min(loss, best.get(key, math.inf))
        if len(counts) < 2:
            return None
        self._branch_turns += 1
        if self._branch_turns % 2:
            draws = {key: self._rng.betavariate(good + 1, others + 1)
                     for key, (good, others) in counts.items()}
            return max(draws, key=draws.__getitem__)
        ranked = sorted(best, key=best.__getitem__)[1:self.n_parents + 1]
        return ranked[self._branch_turns // 2 % len(ranked)]

    def _candidates(self, scored: list[tuple[Values, float]],
                    structure: frozenset | None) -> list[Values]:
        parents = [v for v, _ in sorted(scored, key=lambda pair: pair[1])[:self.n_parents]]
        per_parent = max(1, self.max_mutations // max(1, len(parents)))
        local = [m for values in parents for m in self._variations(values, per_parent)]
        self._pool = [v for v in self._pool if _key(v) not in self._seen]
        self._pool += self._pool_draws(self.n_candidates if self._pool else
                                       max(self.n_candidates, int(FIRST_FILL * self.pool_size)))
        self._pool = self._pool[-max(1, self.pool_size):]
        pool = local + self._pool
        if structure is not None:
            pool = [v for v in pool if _structure(v) == structure]
        unique, keys = [], set(self._seen)
        for values in pool:
            key = _key(values)
            if key not in keys:
                keys.add(key)
                unique.append(values)
        return unique

    def _variations(self, parent: Values, n: int) -> list[Values]:
        """`n` variations of `parent`: one-hyperparameter mutations and, where it has
        numbers, small joint moves of all of them (a local search step)."""
        moves = [m for _ in range(2 * n // 3) if (m := self._nudge(parent)) is not None] \
            if self._scales.numeric(parent) else []
        return moves + self._mutations(parent, n - len(moves))

    def _nudge(self, parent: Values) -> Values | None:
        step = self._rng.choice((0.02, 0.05, 0.15))
        moved = {path: self._scales.perturb(path, value, self._rng, step)
                 for path, value in parent.items()}
        return self._vary(parent, moved)

    def _mutations(self, parent: Values, limit: int | None = None) -> list[Values]:
        """Architectures that differ from `parent` in one hyperparameter (and what it reveals)."""
        limit = self.max_mutations if limit is None else limit
        changes = [(path, value) for path, decl in self._scales.declarations(parent)
                   for value in _alternatives(decl, parent[path], self._rng)]
        if len(changes) > limit:
            changes = self._rng.sample(changes, limit)
        return [m for path, value in changes
                if (m := self._vary(parent, {**parent, path: value})) is not None]

    def _vary(self, parent: Values, keep: Values) -> Values | None:
        """`keep` (`parent` with some values changed) made whole: as it is when every changed
        path is known to keep the live hyperparameters, else unfolded (and learnt from)."""
        changed = [p for p, v in keep.items() if parent.get(p) != v]
        if changed and all(self._keeps_structure(p) for p in changed):
            return dict(keep)
        values = _mutation(self.space, self._rng, keep)
        if values is not None:
            if all(values.get(p) == v for p, v in keep.items()) and len(values) == len(keep):
                for p in changed:
                    self._flat[p] = self._flat.get(p, 0) + 1
            elif len(changed) == 1:
                self._structural.update(changed)
        return values

    def _pool_draws(self, n: int) -> list[Values]:
        """`n` fresh candidates for the pool: one in `REDRAWS` unfolded, the others its
        structure with every hyperparameter known to keep it drawn anew. Fewer where the
        space rejects most draws (a NAS-Bench cell): a candidate is optional, so a run of
        rejections ends the draws instead of failing the trial."""
        drawn: list[Values] = []
        base: Values | None = None
        for i in range(n):
            if i % REDRAWS and base is not None and (again := self._redraw(base)) is not None:
                drawn.append(again)
                continue
            try:
                base = _sample(self.space, self._rng)
            except NoValidArchitectureError:
                break
            drawn.append(base)
        return drawn

    def _redraw(self, values: Values) -> Values | None:
        """`values` with each hyperparameter known to keep the structure drawn uniformly
        (None when none is known yet)."""
        flat = [p for p in values if self._keeps_structure(p)]
        if not flat:
            return None
        redrawn = dict(values)
        for path in flat:
            decl = self._scales.decls[path]
            if decl is not None:
                redrawn[path] = decl.encode(decl.sample(self._rng))
        return redrawn

    def _keeps_structure(self, path: str) -> bool:
        return self._flat.get(path, 0) >= FLAT_AFTER and path not in self._structural

    def _fresh_sample(self) -> Values:
        values = _sample(self.space, self._rng)
        for _ in range(100):
            if _key(values) not in self._seen:
                break
            values = _sample(self.space, self._rng)
        return values


class _Scales:
    """The declaration behind each path of a space, learnt once per new path: numbers are
    modelled and varied on their own scale (the logarithm of a log-scaled `Int`/`Float`)."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.decls: dict[str, Hyperparameter | None] = {}

    def learn(self, values: Values) -> None:
        if all(path in self.decls for path in values):
            return
        for path, decl in _declarations(self.space, values):
            self.decls[path] = decl
        for path in values:
            self.decls.setdefault(path, None)

    def encode(self, values: Values) -> Values:
        """The values map the surrogate reads: logarithms for log-scaled numbers."""
        self.learn(values)
        return {path: math.log(value) if _is_log(self.decls[path]) and value > 0 else value
                for path, value in values.items()}

    def declarations(self, values: Values) -> list[tuple[str, Hyperparameter]]:
        """`(path, declaration)` of the hyperparameters of `values`: the learnt ones, or the
        space unfolded when one of them does not hold its value (a domain that depends on
        other values, such as a width computed from two choices)."""
        self.learn(values)
        known = [(path, decl) for path in values if (decl := self.decls[path]) is not None]
        try:
            for path, decl in known:
                decl.decode(values[path], path)
        except DomainError:
            return _declarations(self.space, values)
        return known

    def numeric(self, values: Values) -> bool:
        self.learn(values)
        return any(isinstance(self.decls[path], (Int, Float)) for path in values)

    def perturb(self, path: str, value: Any, rng: random.Random, step: float) -> Any:
        """`value` moved by a normal step of `step` times its range, on its own scale."""
        decl = self.decls.get(path)
        if isinstance(decl, Float) and decl.low < decl.high:
            return _perturb(decl, value, rng, step)
        if isinstance(decl, Int) and decl.low < decl.high:
            moved = _perturb(Float(decl.low, decl.high, log=decl.log), float(value), rng, step)
            snapped = decl.low + decl.step * round((moved - decl.low) / decl.step)
            return min(max(snapped, decl.low), decl.high)
        return value


class _Fitted:
    """A surrogate fitted on the scored trials, with the loss transform it was fitted with."""

    def __init__(self, scored: list[tuple[Values, float]], scales: _Scales, estimator: Any,
                 y_transform: str | None) -> None:
        losses = np.array([loss for _, loss in scored])
        self.n, self.y_transform = len(scored), y_transform
        self.low, self.spread = float(losses.min()), float(losses.max() - losses.min())
        self.order = np.sort(losses)
        target = np.array([self.transform(loss) for loss in losses])
        self.model = SurrogateModel.train(
            [(scales.encode(values), y) for (values, _), y in zip(scored, target)],
            estimator=estimator, quantile_target=False)

    def transform(self, loss: float) -> float:
        """`transform_losses` with the fit's parameters (a new best stays finite)."""
        if self.y_transform == "log":
            eps = 1e-3 * self.spread if self.spread > 0 else 1.0
            return math.log(max(loss - self.low, 0.0) + eps)
        if self.y_transform == "rank":
            rank = float(np.searchsorted(self.order, loss))
            return rank / max(len(self.order) - 1, 1)
        return loss

    def predict(self, scales: _Scales, candidates: list[Values]
                ) -> tuple[np.ndarray, np.ndarray]:
        return self.model.predict_many([scales.encode(values) for values in candidates])


def _stalled(scored: list[tuple[Values, float]], trials: int = STALL) -> bool:
    """Whether the last `trials` scored trials did not improve on the best before them."""
    if len(scored) <= trials:
        return False
    return min(loss for _, loss in scored[-trials:]) >= min(loss for _, loss in scored[:-trials])


def _structure(values: Mapping[str, Any]) -> frozenset:
    """Which hyperparameters are live: architectures of one branch share it."""
    return frozenset(values)


def _is_log(decl: Hyperparameter | None) -> bool:
    return isinstance(decl, (Int, Float)) and decl.log


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float,
                         xi: float = 0.0) -> np.ndarray:
    """Expected improvement below `best` of predictions `mean` +- `std` (minimization).

    Example:
        >>> expected_improvement(np.array([0.0, 1.0]), np.array([0.0, 1.0]), 0.5).round(3)
        array([0.5  , 0.198])
    """
    special = require("scipy.special", "sklearn")
    improvement = best - np.asarray(mean, dtype=float) - xi
    std = np.asarray(std, dtype=float)
    safe = np.where(std > 0, std, 1.0)
    z = improvement / safe
    ei = improvement * special.ndtr(z) + safe * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return np.where(std > 0, ei, np.maximum(improvement, 0.0))


def transform_losses(losses: np.ndarray, y_transform: str | None) -> np.ndarray:
    """Losses as the surrogate sees them (lower is still better).

    Example:
        >>> transform_losses(np.array([3.0, 1.0, 2.0]), "rank").tolist()
        [1.0, 0.0, 0.5]
        >>> transform_losses(np.array([1.0, 101.0]), "log").round(2).tolist()
        [-2.3, 4.61]
    """
    losses = np.asarray(losses, dtype=float)
    if y_transform == "rank":
        ranks = np.argsort(np.argsort(losses, kind="stable"), kind="stable")
        return ranks / max(len(losses) - 1, 1)
    if y_transform == "log":
        spread = float(losses.max() - losses.min())
        return np.log(losses - losses.min() + (1e-3 * spread if spread > 0 else 1.0))
    return losses


def _sample(space: SearchSpace, rng: random.Random, keep: Mapping[str, Any] | None = None
            ) -> Values:
    """A values map (JSON form): the values in `keep` where they are live, the rest drawn.

    A draw the space rejects is drawn again (`keep` stays; the rest is redrawn).
    """
    tries = MUTATION_TRIES if keep else MAX_REJECTIONS
    return space.sample(rng, keep=keep, max_rejections=tries).json_values()


def _mutation(space: SearchSpace, rng: random.Random, keep: Values) -> Values | None:
    """`_sample` with `keep`, or None when the space rejects every completion of it."""
    try:
        return _sample(space, rng, keep)
    except NoValidArchitectureError:
        return None


def _declarations(space: SearchSpace, values: Values) -> list[tuple[str, Hyperparameter]]:
    return [(h.name, h.hyperparameter) for h, _ in space.live(values)]


def _alternatives(decl: Hyperparameter, current: Any, rng: random.Random) -> list[Any]:
    """Values next to `current` (JSON form): every other choice, or nearby numbers."""
    if isinstance(decl, Discrete):
        index = decl.index(decl.decode(current, "mutation"))
        return [decl.encode(v) for i, v in enumerate(decl.values) if i != index]
    if isinstance(decl, Int):
        near = {current + k * decl.step for k in (-2, -1, 1, 2)} | {decl.sample(rng)}
        if decl.log:  # steps on the log scale: 1 -> 2 is as far as 100 -> 200
            near |= {round(current * f) for f in (0.5, 0.8, 1.25, 2.0)}
        return sorted(v for v in near if decl.low <= v <= decl.high and v != current
                      and (v - decl.low) % decl.step == 0)
    if isinstance(decl, Float) and decl.low < decl.high:
        return [_perturb(decl, current, rng) for _ in range(2)]
    return []


def _perturb(decl: Float, current: float, rng: random.Random, step: float = 0.1) -> float:
    low, high, x = decl.low, decl.high, current
    if decl.log:
        low, high, x = math.log(low), math.log(high), math.log(current)
    x = min(max(rng.gauss(x, step * (high - low)), low), high)
    return min(max(math.exp(x) if decl.log else x, decl.low), decl.high)


def _key(values: Mapping[str, Any]) -> str:
    return json.dumps(values, sort_keys=True)
