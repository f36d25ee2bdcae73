"""Drive da_bridge search spaces from Hyperopt.

Hyperopt wants the whole space before the first trial, as a pyll expression.
`to_hyperopt(space)` explores the lazily unfolding space and compiles it into
nested `hp.choice` nodes labelled by path: a structural choice (one whose
value reveals other hyperparameters) becomes an `hp.choice` whose options
hold what each value reveals, so TPE models every hyperparameter only on the
trials where it was live. Structural hyperparameters that interact (two
repeats driven by one count, a shared flag used inside a revealed block)
become one joint choice labelled `a+b`. `Int` and `Float` become
`hp.quniform`, `hp.qloguniform`, `hp.uniform` or `hp.loguniform`; dependent
hyperparameters stay out of the expression and are recomputed on replay.

A space whose tree is too large to compile (more than `max_states` fresh
instances to explore) falls back, with one warning, to a flat union: every
hyperparameter that can appear becomes a top-level parameter and the ones
that are not live are ignored when decoding.

The objective `fmin` calls receives a dict `{path: value}` of the live
hyperparameters that have a choice (objects by index, as in the Optuna
adapter; one-value hyperparameters stay out of the expression);
`from_hyperopt(space, point)` turns it, or `fmin`'s index-style result, into
the architecture. `HyperoptSearcher` is the ask/tell searcher on Hyperopt's
low-level `Domain`, `algo.suggest` and `Trials`, for `da_bridge.search`.
"""

from __future__ import annotations

import math
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from da_bridge import _domains, _flat, _tree
from da_bridge._imports import require
from da_bridge.architecture import Architecture
from da_bridge.errors import (
    InvalidArchitectureError,
    NoValidArchitectureError,
    OptionError,
    OptionTypeError,
    ReplayError,
    SpaceError,
    SpaceTooLargeError,
)
from da_bridge.hyperparameters import Discrete, Float, Hyperparameter, Int
from da_bridge.searchers.base import PROPOSAL_REJECTIONS, Proposal, Searcher, until_valid
from da_bridge.space import SearchSpace

ALGORITHMS = ("tpe", "rand", "anneal")
_POINT_SYMBOL = "da_bridge_point"


def to_hyperopt(space: SearchSpace, *, flat: bool = False,
                max_states: int = _tree.MAX_STATES) -> Any:
    """Compile `space` into a native Hyperopt expression for `hyperopt.fmin`.

    Args:
        space: The search space.
        flat: Compile a flat union of every hyperparameter that can appear
            instead of the tree of nested `hp.choice`.
        max_states: Fresh instances exploration may build; past it the
            compiler warns once and falls back to the flat union.

    Returns:
        A pyll expression; it evaluates to `{path: value}` of the live hyperparameters
        with more than one value (`from_hyperopt` fills in the others).

    Example:
        >>> import numpy as np
        >>> from hyperopt import fmin, tpe
        >>> from da_bridge.spaces.examples import poster_space
        >>> space = poster_space()
        >>> def objective(point):
        ...     return len(from_hyperopt(space, point).values)
        >>> best = fmin(objective, to_hyperopt(space), algo=tpe.suggest, max_evals=10,
        ...             rstate=np.random.default_rng(0), show_progressbar=False)
        >>> len(from_hyperopt(space, best).values) >= 5
        True
    """
    return _compile(space, flat, max_states).expr


def from_hyperopt(space: SearchSpace, point: Mapping[str, Any], *, flat: bool = False,
                  max_states: int = _tree.MAX_STATES) -> Architecture:
    """The architecture a Hyperopt point stands for.

    Args:
        space: The space given to `to_hyperopt`.
        point: What `fmin` passed to the objective, or `fmin`'s result (labels
            to choice indices and raw values, decoded here with `space_eval`).
        flat: As given to `to_hyperopt`.
        max_states: As given to `to_hyperopt`.

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> arch = from_hyperopt(poster_space(), {"conv.filters": 1, "optional.include": 0,
        ...                                      "chain1.n": 0, "chain1/0/conv.filters": 0,
        ...                                      "chain2/0/conv.filters": 1,
        ...                                      "chain2/1/conv.filters": 0})
        >>> arch.values["conv.filters"], arch.values["chain1.n"]
        (128, 1)
    """
    compiled = _compile(space, flat, max_states)
    if not getattr(point, "is_da_bridge_point", False):
        point = compiled.evaluate(point)
    return compiled.decode(point)


class HyperoptSearcher(Searcher):
    """Ask/tell with a Hyperopt algorithm on the compiled space.

    Args:
        space: The search space.
        algo: "tpe", "rand", "anneal", or a Hyperopt `suggest` function (e.g.
            `functools.partial(tpe.suggest, n_startup_jobs=10)`).
        seed: Seeds `np.random.default_rng`, which seeds every suggestion.
        direction: "minimize" or "maximize"; `da_bridge.search` sets it.
        flat: Use the flat union instead of the tree (see `to_hyperopt`).
        max_states: Exploration budget (see `to_hyperopt`).
        max_rejections: Hyperopt proposals the space may reject in a row before `ask`
            proposes a random valid architecture instead (see `ask`).

    Attributes:
        trials: Hyperopt's `Trials`, one document per proposal told or restored.

    Example:
        >>> from da_bridge.spaces.examples import poster_space
        >>> searcher = HyperoptSearcher(poster_space(), seed=0)
        >>> proposal = searcher.ask()
        >>> searcher.tell(proposal, 1.5)
        >>> searcher.trials.losses()
        [1.5]
    """

    def __init__(self, space: SearchSpace, *, algo: str | Callable = "tpe",
                 seed: int | None = None, direction: str = "minimize", flat: bool = False,
                 max_states: int = _tree.MAX_STATES,
                 max_rejections: int = PROPOSAL_REJECTIONS) -> None:
        super().__init__(space, seed=seed, direction=direction)
        self.max_rejections = max_rejections
        hyperopt = _hyperopt()
        self.algo = _algorithm(hyperopt, algo)
        self._compiled = _compile(space, flat, max_states)
        self.domain = hyperopt.Domain(_not_called, self._compiled.expr)
        self.trials = hyperopt.Trials()
        self._rng = np.random.default_rng(seed)
        self._running: dict[int, tuple[dict, dict[str, Any]]] = {}

    def ask(self) -> Proposal:
        """Hyperopt's next point; a point the space rejects is told as failed and redrawn.

        After `max_rejections` rejected points in a row the proposal is a random valid
        architecture (drawn as `SearchSpace.sample` draws, rejections redrawn), entered in
        `trials` as if Hyperopt had proposed it. Hyperopt cannot be told to avoid what the
        space rejects: before its first success TPE's "good" trials are the rejected ones,
        and where valid architectures are rare its proposals stay invalid.

        Raises:
            NoValidArchitectureError: the random fallback found nothing valid either.
        """
        try:
            return until_valid(self._ask, self.space, on_reject=self._reject,
                               max_rejections=self.max_rejections)
        except NoValidArchitectureError:
            return self._propose(self.space.sample(self._rng))

    def _reject(self, exc: InvalidArchitectureError) -> None:
        _finish(_hyperopt(), self._rejected, None)
        self.trials.refresh()

    def _ask(self) -> Proposal:
        trials = self.trials
        ids = trials.new_trial_ids(1)
        trials.refresh()
        docs = self.algo(ids, self.domain, trials, int(self._rng.integers(2**31 - 1)))
        trials.insert_trial_docs(docs)
        trials.refresh()
        # `trials.trials` lists the stored documents themselves (not copies): `tell` updates it
        doc = next(d for d in trials.trials if d["tid"] == ids[0])
        config = {label: vals[0] for label, vals in doc["misc"]["vals"].items() if vals}
        self._rejected = doc
        arch = self._compiled.decode(self._compiled.evaluate(config))
        self._running[doc["tid"]] = doc, arch.values
        return Proposal(arch, dict(arch.values), token=doc["tid"])

    def _propose(self, arch: Architecture) -> Proposal:
        """Enter `arch` in `trials` as a running Hyperopt trial and propose it."""
        doc = self._doc(self._compiled.raw(arch.values))
        self.trials.insert_trial_docs([doc])
        self.trials.refresh()
        doc = next(d for d in self.trials.trials if d["tid"] == doc["tid"])
        self._running[doc["tid"]] = doc, arch.values
        return Proposal(arch, dict(arch.values), token=doc["tid"])

    def _doc(self, config: Mapping[str, Any]) -> dict:
        """A new Hyperopt trial document holding `config` ({label: raw value})."""
        tid = self.trials.new_trial_ids(1)[0]
        labels = list(self.domain.params)
        misc = {"tid": tid, "cmd": self.domain.cmd, "workdir": self.domain.workdir,
                "idxs": {k: [tid] if k in config else [] for k in labels},
                "vals": {k: [config[k]] if k in config else [] for k in labels}}
        return self.trials.new_trial_docs([tid], [None], [self.domain.new_result()], [misc])[0]

    def tell(self, proposal: Proposal, score: float | None) -> None:
        token = proposal.token
        tid = token if isinstance(token, int) and token in self._running else next(
            (t for t, (_, values) in self._running.items() if values == proposal.values), None)
        if tid is None:  # not asked here: another worker's, or a copy made elsewhere
            self.restore([(proposal.values, score)])
            return
        _finish(_hyperopt(), self._running.pop(tid)[0], self.loss(score))
        self.trials.refresh()

    def restore(self, history: Iterable[tuple[Mapping[str, Any], float | None]]) -> None:
        """Add finished evaluations as Hyperopt trial documents (resume, other workers)."""
        hyperopt, docs = _hyperopt(), []
        for values, score in history:
            doc = self._doc(self._compiled.raw(values))
            _finish(hyperopt, doc, self.loss(score))
            docs.append(doc)
        if docs:
            self.trials.insert_trial_docs(docs)
            self.trials.refresh()


def _finish(hyperopt: Any, doc: dict, loss: float | None) -> None:
    """Mark a trial done; a failure is `fmin`'s STATUS_FAIL, which TPE counts as the worst."""
    doc["state"] = hyperopt.JOB_STATE_DONE
    doc["result"] = {"status": hyperopt.STATUS_FAIL} if loss is None else {
        "status": hyperopt.STATUS_OK, "loss": loss}


def _not_called(point: Any) -> float:
    raise RuntimeError("HyperoptSearcher evaluates through ask/tell, not through the Domain")


def _algorithm(hyperopt: Any, algo: str | Callable) -> Callable:
    if callable(algo):
        return algo
    if algo not in ALGORITHMS:
        raise OptionError(f"algo must be one of {list(ALGORITHMS)} or a suggest function; "
                         f"got {algo!r}")
    return getattr(hyperopt, algo).suggest


def _hyperopt() -> Any:
    return require("hyperopt", "hyperopt")


# Compilation --------------------------------------------------------------------------------

class _Point(dict):
    """The `{path: value}` dict the compiled expression evaluates to."""

    # Checked by attribute, not class: the pyll symbol is registered once per process, and
    # a second import of this file (pytest's doctests) has its own class.
    is_da_bridge_point = True


def _point(tree: dict) -> _Point:
    out = _Point()

    def walk(d: dict) -> None:
        for key, value in d.items():
            if isinstance(value, dict):
                walk(value)
            else:
                out[key] = value.item() if isinstance(value, np.generic) else value

    walk(tree)
    return out


_point.__name__ = _POINT_SYMBOL

# One compilation per space and options; `_Compiled` holds its space weakly so entries can go.
_CACHE: weakref.WeakKeyDictionary[SearchSpace, dict[tuple, _Compiled]] = \
    weakref.WeakKeyDictionary()


def _compile(space: SearchSpace, flat: bool, max_states: int) -> _Compiled:
    if not isinstance(space, SearchSpace):
        raise OptionTypeError(f"a SearchSpace is needed; got {space!r}")
    by_options = _CACHE.setdefault(space, {})
    if (flat, max_states) not in by_options:
        by_options[flat, max_states] = _Compiled(space, flat, max_states)
    return by_options[flat, max_states]


class _Compiled:
    """A space compiled to a pyll expression, with its decoder and encoder."""

    def __init__(self, space: SearchSpace, flat: bool, max_states: int) -> None:
        hyperopt = _hyperopt()
        self._space = weakref.ref(space)
        self.hp, self.scope = hyperopt.hp, hyperopt.pyll.scope
        if not hasattr(self.scope, _POINT_SYMBOL):
            self.scope.define(_point)
        self.slots = _flat.slots(space)
        self.labels = _flat.label_slots(self.slots)
        self.root = None if flat else _tree_or_none(space, max_states)
        self._names = set(self.labels.values())  # a Hyperopt label must not be another's name
        self._claimed: set[str] = set()
        self._leaves: dict[tuple, tuple[str | None, Any]] = {}
        # the labels of each hyperparameter (identity, domain): one shared by two branches is
        # named after the module that uses it first, so the tree may list it under another
        # path than the architecture uses (a joint choice that reveals a later branch first)
        self._shared: dict[tuple, list[str]] = {}
        self._choices: dict[_tree.Choice, tuple[str, Any]] = {}
        body = self._flat() if self.root is None else self._node(self.root)
        self.expr = getattr(self.scope, _POINT_SYMBOL)(body)

    # building -------------------------------------------------------------------------------
    def _flat(self) -> dict:
        return self._leaf_exprs(self.slots)

    def _node(self, node: _tree.Node) -> dict:
        out = self._leaf_exprs(node.leaves)
        for choice in node.choices:
            label, expr = self._choice(choice)
            out[label] = expr
        return out

    def _leaf_exprs(self, leaves: Iterable[_domains.Slot]) -> dict:
        """`{label: expression}` of the leaves that have a choice.

        A one-value leaf stays out: the decoder gives it its only value. NASNet's cells
        have 7,000 of them (DeepArchitect's `D([v])` constants) beside 40 choices; in the
        expression they made every TPE suggestion clone a graph 170 times larger.
        """
        out = {}
        for slot in leaves:
            expr = self._leaf(slot)
            if expr is not None:
                out[self.labels[slot.key]] = expr
        return out

    def _leaf(self, slot: _domains.Slot) -> Any:
        """The expression of a leaf, None for one with a single value (see `_leaf_exprs`)."""
        if slot.key not in self._leaves:
            name = self.labels[slot.key]
            if slot.hyperparameter.size() == 1:
                self._leaves[slot.key] = None, None
            else:
                label = self._claim(name, name)
                self._leaves[slot.key] = label, _leaf_expr(self.hp, self.scope, label, slot)
                self._shared.setdefault(_shared_key(slot.hyperparameter), []).append(label)
        return self._leaves[slot.key][1]

    def _choice(self, choice: _tree.Choice) -> tuple[str, Any]:
        if choice not in self._choices:
            names = [self.labels[s.key] for s in choice.slots]
            label = self._claim("+".join(names), names[0] if len(names) == 1 else None)
            options = [self._option(choice, branch) for branch in choice.branches]
            self._choices[choice] = label, self.hp.choice(label, options)
        return self._choices[choice]

    def _option(self, choice: _tree.Choice, branch: _tree.Branch) -> dict:
        values = {self.labels[s.key]: _sample_form(s.hyperparameter,
                                                   _domains.values_of(s.hyperparameter)[i])
                  for s, i in zip(choice.slots, branch.indices)}
        return {**values, **self._node(branch.node)}

    def _claim(self, base: str, own: str | None) -> str:
        """A Hyperopt label: unique, and no slot's name but its own (`own`)."""
        label, k = base, 2
        while label in self._claimed or (label != own and label in self._names):
            label, k = f"{base}#{k}", k + 1
        self._claimed.add(label)
        return label

    @property
    def space(self) -> SearchSpace:
        space = self._space()
        if space is None:  # users reach this by dropping the space and keeping the expression
            raise SpaceError("the SearchSpace this Hyperopt expression was compiled from no "
                             "longer exists; keep a reference to it while decoding points")
        return space

    # decoding and encoding ------------------------------------------------------------------
    def evaluate(self, config: Mapping[str, Any]) -> _Point:
        """`space_eval` of a `{label: index or raw value}` config (what `fmin` returns)."""
        config = {k: v[0] if isinstance(v, list) and len(v) == 1 else v
                  for k, v in config.items() if not (isinstance(v, list) and not v)}
        if self.root is None:
            self._check_leaves(self.slots, config)
        else:
            self._check_node(self.root, config)
        return _hyperopt().space_eval(self.expr, config)

    def _check_leaves(self, leaves: Iterable[_domains.Slot], config: Mapping[str, Any]) -> None:
        for slot in leaves:
            label = self._leaves[slot.key][0]
            if label is not None and label not in config:
                raise ReplayError(f"{label!r} has no value; allowed: {slot.hyperparameter!r}")

    def _check_node(self, node: _tree.Node, config: Mapping[str, Any]) -> None:
        """Raise for a missing label or choice index before pyll would sample it."""
        self._check_leaves(node.leaves, config)
        for choice in node.choices:
            label = self._choices[choice][0]
            position = config.get(label)
            if not isinstance(position, (int, np.integer)) or \
                    not 0 <= position < len(choice.branches):
                raise ReplayError(f"{label!r} got {position!r}; allowed: a choice index below "
                                  f"{len(choice.branches)}")
            self._check_node(choice.branches[int(position)].node, config)

    def decode(self, point: Mapping[str, Any]) -> Architecture:
        labels = self.labels

        def value_of(key: _domains.SlotKey, h: Hyperparameter) -> Any:
            if key in labels and labels[key] in point:
                return _from_sample(h, point[labels[key]])
            # listed under the path of another branch that uses it (see `_shared`)
            label = next((la for la in self._shared.get(_shared_key(h), ()) if la in point),
                         None)
            if label is not None:
                return _from_sample(h, point[label])
            # a slot exploration did not reach, or not live in that tree branch
            return _domains.default_value(h)

        return _flat.replay(self.space, value_of)

    def raw(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The `{label: raw value}` config Hyperopt stores for a values map."""
        live: dict[_domains.SlotKey, Any] = {}
        shared: dict[tuple, Any] = {}
        for named, value in self.space.live(values):
            live[named.name, _domains.domain_key(named.hyperparameter)] = value
            shared[_shared_key(named.hyperparameter)] = value
        out: dict[str, Any] = {}
        if self.root is not None:
            self._raw_node(self.root, live, shared, out)
            return out
        for slot in self.slots:
            label, h = self._leaves[slot.key][0], slot.hyperparameter
            if label is not None:
                out[label] = _raw(h, _live_value(slot, live, shared))
        return out

    def _raw_node(self, node: _tree.Node, live: dict, shared: dict, out: dict) -> None:
        # A slot the tree lists but the values map lacks is a shared hyperparameter the map
        # names after another branch (`_shared`), or one the tree merged from what a
        # multi-hyperparameter substitution reveals: that one gets its default.
        for slot in node.leaves:
            label = self._leaves[slot.key][0]
            if label is not None:
                out[label] = _raw(slot.hyperparameter, _live_value(slot, live, shared))
        for choice in node.choices:
            indices = tuple(_domains.index_of(s.hyperparameter, _live_value(s, live, shared))
                            for s in choice.slots)
            position = next((i for i, b in enumerate(choice.branches) if b.indices == indices),
                            0)
            out[self._choices[choice][0]] = position
            self._raw_node(choice.branches[position].node, live, shared, out)


def _shared_key(h: Hyperparameter) -> tuple:
    """The same for one hyperparameter under any of its names (where it was created, and
    its domain)."""
    return h.identity, _domains.domain_key(h)


def _live_value(slot: _domains.Slot, live: dict, shared: dict) -> Any:
    """The slot's value in a values map: by its path, else by the hyperparameter under
    another name (`_shared`), else its default."""
    if slot.key in live:
        return live[slot.key]
    return shared.get(_shared_key(slot.hyperparameter),
                      _domains.default_value(slot.hyperparameter))


def _tree_or_none(space: SearchSpace, max_states: int) -> _tree.Node | None:
    try:
        return _tree.tree(space, max_states=max_states)
    except SpaceTooLargeError:
        warnings.warn(f"{space!r} is too large to compile as a tree of hp.choice within "
                      f"max_states={max_states}; using a flat union of its hyperparameters "
                      "(inactive ones are ignored)", UserWarning, stacklevel=4)
        return None


def _leaf_expr(hp: Any, scope: Any, label: str, slot: _domains.Slot) -> Any:
    h = slot.hyperparameter
    if isinstance(h, Discrete):
        return hp.choice(label, list(h.values) if h.is_plain() else list(range(len(h.values))))
    if isinstance(h, Int):
        if h.log:
            return scope.int(hp.qloguniform(label, math.log(h.low - 0.5),
                                            math.log(h.high + 0.5), 1))
        if h.low % h.step == 0:
            return scope.int(hp.quniform(label, h.low - h.step / 2, h.high + h.step / 2, h.step))
        return scope.int(h.low + h.step * hp.quniform(label, -0.5, h.size() - 0.5, 1))
    if isinstance(h, Float):
        if h.log:
            return hp.loguniform(label, math.log(h.low), math.log(h.high))
        return hp.uniform(label, h.low, h.high)
    raise OptionTypeError(f"{slot.path!r}: no Hyperopt distribution for {h!r}")


def _sample_form(h: Hyperparameter, value: Any) -> Any:
    if isinstance(h, Discrete) and not h.is_plain():
        return h.index(value)
    return value


def _from_sample(h: Hyperparameter, data: Any) -> Any:
    if isinstance(data, np.generic):
        data = data.item()
    if isinstance(h, Discrete):
        return h.values[int(data)] if not h.is_plain() else data
    if isinstance(h, Int):
        steps = round((min(max(data, h.low), h.high) - h.low) / h.step)
        return h.low + h.step * int(steps)
    if isinstance(h, Float):
        return min(max(float(data), h.low), h.high)
    return data


def _raw(h: Hyperparameter, value: Any) -> Any:
    """What Hyperopt stores for `value`: a choice index or the sampled number."""
    if isinstance(h, Discrete):
        return _domains.index_of(h, value)
    if isinstance(h, Int) and not h.log and h.low % h.step:
        return float((value - h.low) // h.step)
    return float(value)

