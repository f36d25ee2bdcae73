"""Write a study's static HTML report: one folder, viewable offline in any browser."""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from da_bridge._imports import require
from da_bridge.errors import DABridgeError, DomainError, MissingExtraError
from da_bridge.report import _html
from da_bridge.report._plots import choice_plots, importance_order, study_plots
from da_bridge.report._study import (
    TrialRow,
    best_trials,
    dashboard_command,
    objective_names,
    study_task,
    trial_rows,
)
from da_bridge.space import SearchSpace
from da_bridge.study import CLI_ATTR, CONFIRMED_ATTR, SPACE_ATTR
from da_bridge.study.noise import rank
from da_bridge.study.store import load_study, redact_url, storage_location
from da_bridge.study.tasks import Task
from da_bridge.viz import render

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)


def write_report(study: optuna.Study | str, out_dir: str | Path, *, storage: Any = None,
                 space: SearchSpace | None = None, task: Task | None = None, top: int = 3,
                 max_drawings: int = 200) -> Path:
    """Write a static HTML report of a study into `out_dir`; returns its `index.html`.

    The page holds the study's summary (the best score with its spread, and
    whether the top trials are within it), the best architectures with what
    their domain's users read (the task's panels: scikit-learn code, a policy
    and its pictures, a Keras layer summary, a cell drawing) beside their
    drawing and values map, charts (score by trial, hyperparameter
    importances, the Pareto front with several objectives, the score by
    choice of each categorical hyperparameter), a table of every trial with
    the domain's key columns, each linking to a page with its drawing
    (`trials/trial-<n>.html`, next to `trial-<n>.svg`), and the
    `optuna-dashboard` command that opens the same store. Nothing is loaded
    from the network; hovering shows full names and exact values.

    Args:
        study: An Optuna study, or the name of one in `storage`.
        out_dir: The report's folder; created if needed.
        storage: Where to find `study` by name (as in `da_bridge.search`); also
            what the optuna-dashboard command opens.
        space: The space the study searched; by default the task's.
        task: The task searched (its space, panels and key columns); by default
            rebuilt from what `da-bridge search` recorded. Without a space,
            values maps are shown without drawings and the report says why.
        top: How many best architectures to show on the main page (with
            several objectives: how many Pareto-optimal ones).
        max_drawings: Draw at most this many trials (the best ones first).

    Example:
        >>> import tempfile
        >>> from da_bridge import search
        >>> from da_bridge.spaces.examples import poster_space
        >>> result = search(poster_space(), lambda arch: len(arch.values), n_trials=3, seed=0,
        ...                 storage=":memory:")
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     index = write_report(result.study, folder, space=poster_space(), top=1)
        ...     text = index.read_text()
        ...     "Score by trial" in text, (index.parent / "trials").is_dir()
        (True, True)
    """
    require("optuna", "optuna")
    _check_count("top", top, 1)
    _check_count("max_drawings", max_drawings, 0)
    if isinstance(study, str):
        study = load_study(study, storage)
    out = Path(out_dir)
    (out / "trials").mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    task = _task(study, space, task, notes)
    space = space if space is not None else (task.space if task is not None else None)
    trials = study.get_trials(deepcopy=False)
    rows = trial_rows(trials, task.columns if task is not None else None)
    best = best_trials(study, top)
    order = [t.number for t in best] + [r.number for r in rows]
    drawings = _draw(space, {r.number: r for r in rows}, order, max_drawings, out / "trials",
                     notes)
    names = objective_names(study)
    plots = study_plots(study, names)
    _write_trial_pages(study.study_name, rows, names, drawings, out / "trials")
    sections = [
        _html.section("Summary", _summary(study, rows, space, storage, names)
                      + _html.notes(notes), "summary"),
        _html.section("Best architectures" if len(names) == 1 else
                      "Pareto-optimal architectures",
                      _best(best, rows, names, drawings, task, notes), "best"),
        _html.section("Plots", _html.plots_grid(plots), "plots"),
        _choices_section(study, rows, names, importance_order(plots)),
        _html.section(f"All trials ({len(rows)})", _html.trials_table(
            rows, names, {r.number: _trial_link(r.number) for r in rows},
            {t.number for t in best}, _columns(rows)), "trials"),
        _html.section("Browse it live in optuna-dashboard", _dashboard(storage, study),
                      "dashboard"),
    ]
    generated = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    index = out / "index.html"
    index.write_text(_html.page(f"Study {study.study_name}", f"architecture search report "
                                f"&middot; generated {generated}", sections), encoding="utf-8")
    return index


def _task(study: optuna.Study, space: SearchSpace | None, task: Task | None,
          notes: list[str]) -> Task | None:
    if task is not None:
        return task
    try:
        found = study_task(study)
    except DABridgeError as exc:
        if space is None:
            notes.append(f"The search space could not be rebuilt, so architectures are shown as "
                         f"values maps only, without drawings: {exc}")
        return None
    if space is not None and repr(space) != repr(found.space):
        return None  # a space given explicitly that is not the recorded one: no task hooks
    return found


def _choices_section(study: optuna.Study, rows: list[TrialRow], names: list[str],
                     order: list[str]) -> str:
    complete = study.get_trials(deepcopy=False, states=(_complete(),))
    if len(names) != 1 or not complete:
        return ""
    maximize = study.directions[0].name == "MAXIMIZE"
    plots = choice_plots(complete, {r.number: r.values or r.params for r in rows}, names[0],
                         maximize, order)
    if not plots:
        return ""
    return _html.section("Score by choice", _html.caveat(
        "Each dot is a completed trial that made this choice (hover for its number and "
        f"{names[0]}), the red bar their mean; the most important hyperparameters first. "
        "Choices made together are confounded: read these as hints, not effects.")
        + _html.choice_grid(plots), "choices")


def _complete() -> Any:
    return require("optuna", "optuna").trial.TrialState.COMPLETE


def _columns(rows: list[TrialRow], limit: int = 6) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row.columns))
    return list(seen)[:limit]


def _panels(task: Task | None, row: TrialRow, space: SearchSpace | None,
            notes: list[str]) -> list[Any]:
    if task is None or task.panels is None or row.values is None or space is None:
        return []
    try:
        return list(task.panels(space.replay(row.values)))
    except Exception as exc:  # a panel is a nicety: the report goes on without it
        logger.debug("panels of trial %d failed", row.number, exc_info=True)
        notes.append(f"trial {row.number}: the domain's panels failed: "
                     f"{type(exc).__name__}: {exc}")
        return []


class _Drawings:
    """SVG text per trial number, and why a trial has none."""

    def __init__(self) -> None:
        self.svgs: dict[int, str] = {}
        self.missing: dict[int, str] = {}
        self.default = "no drawing: the search space could not be rebuilt"


def _draw(space: SearchSpace | None, rows: dict[int, TrialRow], order: list[int], limit: int,
          folder: Path, notes: list[str]) -> _Drawings:
    drawings, by_values, failures = _Drawings(), {}, []
    if space is None:
        return drawings
    drawings.default = f"not drawn: the report draws at most {limit} trials"
    for number in dict.fromkeys(order):
        row = rows[number]
        if len(drawings.svgs) >= limit:
            break
        if row.values is None:
            drawings.missing[number] = "no drawing: the trial has no da_bridge values map"
            continue
        key = json.dumps(row.values, sort_keys=True)
        try:
            if key not in by_values:
                by_values[key] = render(space.replay(row.values), "svg", hyperparameters=False,
                                       port_labels=False).decode("utf-8")
        except MissingExtraError as exc:
            notes.append(f"Architectures are shown without drawings: {exc}")
            drawings.default = f"no drawing: {exc}"
            return drawings
        except DABridgeError as exc:
            failures.append(number)
            drawings.missing[number] = f"no drawing: the values map does not replay ({exc})"
            continue
        drawings.svgs[number] = by_values[key]
        (folder / f"trial-{number:05d}.svg").write_text(by_values[key], encoding="utf-8")
    if failures:
        notes.append(f"{len(failures)} trials do not replay in this space (e.g. trial "
                     f"{failures[0]}: {drawings.missing[failures[0]]})")
    if len(drawings.svgs) + len(drawings.missing) < len(rows):
        notes.append(f"Only {len(drawings.svgs)} trials, the best first, are drawn "
                     f"(max_drawings={limit}); the others show their values maps.")
    return drawings


def _check_count(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DomainError(name, value, f"an integer >= {minimum}")


def _trial_link(number: int) -> str:
    return f"trials/trial-{number:05d}.html"


def _write_trial_pages(study_name: str, rows: list[TrialRow], names: list[str],
                       drawings: _Drawings, folder: Path) -> None:
    for row in rows:
        svg = drawings.svgs.get(row.number)
        text = _html.trial_page(study_name, row, names, svg,
                                drawings.missing.get(row.number, drawings.default),
                                f"trial-{row.number:05d}.svg" if svg else None, row.error)
        (folder / f"trial-{row.number:05d}.html").write_text(text, encoding="utf-8")


def _best(best: Sequence[Any], rows: list[TrialRow], names: list[str],
          drawings: _Drawings, task: Task | None, notes: list[str]) -> str:
    if not best:
        return _html.notes(["No trial has completed yet."])
    by_number = {r.number: r for r in rows}
    space = task.space if task is not None else None
    return "".join(_html.best_card(
        rank, by_number[t.number], names, drawings.svgs.get(t.number),
        drawings.missing.get(t.number, drawings.default), _trial_link(t.number),
        _panels(task, by_number[t.number], space, notes))
        for rank, t in enumerate(best, 1))


def _summary(study: optuna.Study, rows: list[TrialRow], space: Any, storage: Any,
             names: list[str]) -> str:
    esc = _html.esc
    states: dict[str, int] = {}
    for row in rows:
        states[row.state.lower()] = states.get(row.state.lower(), 0) + 1
    directions = [d.name.lower() for d in study.directions]
    items = [("space", esc(_space_text(study, space))),
             ("objectives", esc(", ".join(f"{n} ({d})" for n, d in zip(names, directions)))),
             ("trials", esc(_states_text(len(rows), states))),
             ("best", _best_text(study, rows, names))]
    distinct = {json.dumps(r.values, sort_keys=True) for r in rows if r.values is not None}
    items.append(("distinct architectures tried", str(len(distinct))))
    size = _space_size(space)
    if size:
        items.append(("architectures in the space", esc(size)))
    starts = sorted(r.started for r in rows if r.started)
    if starts:
        items.append(("first trial started", esc(starts[0])))
    location = storage if isinstance(storage, str) else storage_location(
        storage if storage is not None else getattr(study, "_storage", None))
    if location:
        items.append(("storage", f"<code>{esc(_redacted(location))}</code>"))
    return _html.summary_list(items)


def _states_text(total: int, states: dict[str, int]) -> str:
    if not total:
        return "0"
    return f"{total} (" + ", ".join(f"{n} {s}" for s, n in sorted(states.items())) + ")"


def _space_text(study: optuna.Study, space: Any) -> str:
    record = study.user_attrs.get(CLI_ATTR)
    if isinstance(record, dict) and record.get("space"):
        options = " ".join(str(o) for o in record.get("options") or [])
        return f"{record['space']} {options}".strip()
    if space is not None:
        return repr(space)
    return str(study.user_attrs.get(SPACE_ATTR, "unknown"))


def _best_text(study: optuna.Study, rows: list[TrialRow], names: list[str]) -> str:
    if len(names) > 1:
        front = study.best_trials
        return f"{len(front)} trials on the Pareto front" if front else "no completed trial yet"
    ranking = rank(study.get_trials(deepcopy=False), study.directions[0].name == "MAXIMIZE",
                   confirmed=study.user_attrs.get(CONFIRMED_ATTR))
    if ranking is None:
        return "no completed trial yet"
    row = next(r for r in rows if r.number == ranking.best.number)
    if ranking.confirmed:
        row = dataclasses.replace(row, scores=[ranking.score], spread=ranking.spread)
    text = f"{_html.score_html(row, names)} (trial {ranking.best.number}"
    text += ", on re-evaluation)" if ranking.confirmed else ")"
    note = ranking.note()
    if note:
        text += f'<br><span class="{"noise" if ranking.ties else "sure"}">{_html.esc(note)}</span>'
    return text


def _space_size(space: Any) -> str | None:
    if space is None:
        return None
    try:
        n = space.count()
    except Exception:  # counting is a nicety; a space that cannot count still gets a report
        logger.debug("counting the space failed", exc_info=True)
        return None
    return "infinite (continuous hyperparameters)" if n == math.inf else f"{n:,}"


def _redacted(location: str) -> str:
    return redact_url(location)


def _dashboard(storage: Any, study: optuna.Study) -> str:
    opened = storage if storage is not None else getattr(study, "_storage", None)
    command = dashboard_command(opened, study.study_name) if opened is not None else None
    if command is None:
        return _html.notes(["This study lives in memory, so optuna-dashboard cannot open it; "
                            "search with a storage (the default ./da_runs journal, "
                            "sqlite:///runs.db or PostgreSQL) to browse it live."])
    return (f"<p>The trials are in an Optuna store, so "
            f'<a href="https://github.com/optuna/optuna-dashboard">optuna-dashboard</a> '
            f"browses them live (install it with <code>pip install optuna-dashboard</code>):</p>"
            f"<pre>{_html.esc(command)}</pre>"
            f"<p>then open <code>http://127.0.0.1:8080/</code>. It takes a journal file "
            f"(<code>./da_runs/NAME.journal</code>) as a path and a database as its URL "
            f"(<code>sqlite:///runs.db</code>, <code>postgresql://...</code>).</p>")
