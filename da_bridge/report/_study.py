"""What a report reads from a study: its space, its storage's location, its trials."""

from __future__ import annotations

import argparse
import json
import os
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from da_bridge.errors import SpaceError
from da_bridge.space import SearchSpace
from da_bridge.study import CLI_ATTR, ERROR_ATTR, SPACE_ATTR, VALUES_ATTR
from da_bridge.study.noise import Spread, score_spread
from da_bridge.study.store import MEMORY, journal_path, redact_url, storage_location
from da_bridge.study.tasks import (
    TASKS,
    Task,
    add_task_arguments,
    load_space,
    make_task,
    recorded_space,
)

if TYPE_CHECKING:
    import optuna



def study_space(study: optuna.Study) -> SearchSpace:
    """The search space a study was searched on, rebuilt from what `da-bridge search` recorded.

    `da-bridge search SPACE [task options]` stores SPACE and the task options in
    the study's user attribute `da_bridge.cli`; this rebuilds the space from them when
    SPACE is a built-in name. A recorded `module:attribute` is code, which is never
    imported because a store names it: that raises `SpaceError` showing it.

    Raises:
        SpaceError: the study has no such record, or the space cannot be rebuilt here.

    Example:
        >>> import optuna
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study()
        >>> study.set_user_attr("da_bridge.cli", {"space": "poster", "options": []})
        >>> study_space(study).count()
        25008
    """
    return study_task(study).space


def study_task(study: optuna.Study) -> Task:
    """The task a study was searched with (its space, and for built-in tasks the domain's
    report hooks), rebuilt from what `da-bridge search` recorded.

    Raises:
        SpaceError: the study has no such record, or the task cannot be rebuilt here.
    """
    record = study.user_attrs.get(CLI_ATTR)
    if not isinstance(record, dict) or not isinstance(record.get("space"), str):
        recorded = study.user_attrs.get(SPACE_ATTR)
        raise SpaceError("the study does not record how to rebuild its space (it was not made by "
                         "`da-bridge search`" + (f"; it was searched on {recorded}" if recorded
                                                  else "") + "); give the space explicitly")
    name, options = recorded_space(study.study_name, study.user_attrs)
    try:
        if name not in TASKS:
            return Task(load_space(name))
        parser = argparse.ArgumentParser(prog=f"da-bridge search {name}", add_help=False)
        add_task_arguments(parser, name)
        return make_task(name, parser.parse_args(options))
    except SystemExit as exc:  # argparse rejected the recorded options
        raise SpaceError(f"the options {options} recorded for space {name!r} are not accepted "
                         "by this version") from exc
    except Exception as exc:
        raise SpaceError(f"space {name!r} cannot be rebuilt here: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}") from exc


def dashboard_command(storage: Any, study_name: str) -> str | None:
    """The `optuna-dashboard` command that opens a store, or None for an in-memory one.

    optuna-dashboard 0.21 takes a journal file's path or a database URL.

    Example:
        >>> dashboard_command("sqlite:///runs.db", "s")
        'optuna-dashboard sqlite:///runs.db'
        >>> dashboard_command("journal:///tmp/a b.journal", "s")
        "optuna-dashboard '/tmp/a b.journal'"
    """
    target: str | None
    if storage == MEMORY:
        return None
    if storage is None:
        target = str(journal_path(study_name).resolve())
    elif not isinstance(storage, (str, os.PathLike)):
        target = storage_location(storage)
        if target is None:
            return None
    else:
        text = os.fspath(storage)
        text = text.removeprefix("journal://") if text.startswith("journal://") else text
        target = redact_url(text) if "://" in text else str(Path(text).resolve())
    return f"optuna-dashboard {shlex.quote(target)}"



@dataclass
class TrialRow:
    """One trial as the report shows it."""

    number: int
    state: str
    scores: list[float] | None
    values: dict[str, Any] | None
    params: dict[str, Any]
    started: str
    seconds: float | None
    spread: Spread | None = None
    columns: dict[str, str] = field(default_factory=dict)
    error: str | None = None


def trial_rows(trials: list[optuna.trial.FrozenTrial],
               columns: Callable[[Mapping[str, Any]], dict[str, str]] | None = None
               ) -> list[TrialRow]:
    """The report's view of each trial; `columns` gives a values map's key columns."""
    repeats: dict[str, list[float]] = {}
    for t in trials:
        if t.state.name == "COMPLETE" and len(t.values or ()) == 1:
            key = json.dumps(t.user_attrs.get(VALUES_ATTR), sort_keys=True)
            repeats.setdefault(key, []).append(float(t.values[0]))
    rows = []
    for t in trials:
        duration = t.duration.total_seconds() if t.duration is not None else None
        started = t.datetime_start.strftime("%Y-%m-%d %H:%M:%S") if t.datetime_start else ""
        values = t.user_attrs.get(VALUES_ATTR)
        values = values if isinstance(values, dict) else None
        same = repeats.get(json.dumps(values, sort_keys=True))
        spread = score_spread(t, same) if t.state.name == "COMPLETE" else None
        rows.append(TrialRow(t.number, t.state.name, list(t.values) if t.values else None,
                             values, dict(t.params), started, duration, spread,
                             (columns or key_columns)(values or t.params),
                             t.user_attrs.get(ERROR_ATTR)))
    return rows


def key_columns(values: Mapping[str, Any]) -> dict[str, str]:
    """The default key columns of a trial: its top-level choices (paths without a `/`).

    Example:
        >>> key_columns({"model.choice": "svc", "model/svc/svc.C": 1.0})
        {'model.choice': 'svc'}
    """
    return {path: _cell(value) for path, value in values.items() if "/" not in path}


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def best_trials(study: optuna.Study, top: int) -> list[optuna.trial.FrozenTrial]:
    """The `top` best complete trials (single objective) or the Pareto front, best first."""
    import optuna

    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        return []
    # Pareto-optimal trials are ordered by the first objective, in its direction
    candidates = study.best_trials if len(study.directions) > 1 else complete
    maximize = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE
    return sorted(candidates, key=lambda t: float(t.values[0]), reverse=maximize)[:top]


def objective_names(study: optuna.Study) -> list[str]:
    """The study's metric names, or "objective 0", "objective 1", ...; "score" for one."""
    names = study.metric_names
    if names:
        return list(names)
    n = len(study.directions)
    return ["score"] if n == 1 else [f"objective {i}" for i in range(n)]
