"""The report's plots: inline SVG charts (hover shows full names), Optuna's for the rest."""

from __future__ import annotations

import base64
import io
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from da_bridge._imports import require
from da_bridge.report import _charts

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)

#: At most this many hyperparameters in the importance chart and score-by-choice charts.
MAX_PARAMS = 12


@dataclass
class Plot:
    """A figure for the report: inline SVG, an `<img>` source, or why there is none."""

    title: str
    svg: str | None = None
    src: str | None = None
    note: str = ""
    caveat: str = ""
    ident: str = ""
    full_title: str = ""
    paths: tuple[str, ...] = ()


def study_plots(study: optuna.Study, names: list[str]) -> list[Plot]:
    """History, importances, Pareto front and intermediate values, where they apply."""
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    if not complete:
        return [Plot("Plots", note="no trial has completed yet", ident="none")]
    directions = [d.name.lower() for d in study.directions]
    plots = [history(complete, i, name, directions[i]) for i, name in enumerate(names)]
    plots.append(importances(study, complete, names))
    if len(names) >= 2:
        plots.append(pareto(study, complete, names))
    if any(t.intermediate_values for t in trials):
        plots.append(_optuna_plot("Intermediate values", "intermediate",
                                  "plot_intermediate_values", study))
    return plots


def history(trials: Sequence[Any], index: int, name: str, direction: str) -> Plot:
    """Each trial's score by trial number, and the best so far."""
    maximize = direction == "maximize"
    ordered = sorted(trials, key=lambda t: t.number)
    points, line, best = [], [], None
    for t in ordered:
        score = t.values[index]
        points.append(_charts.Point(t.number, score, f"trial {t.number}: {name} {score:.6g}"))
        if best is None or (score > best if maximize else score < best):
            best = score
        line.append((t.number, best))
    title = "Score by trial" if len(points) and name == "score" else f"{name} by trial"
    svg = _charts.scatter(points, "trial", name, line=line, label=title)
    return Plot(title, svg=svg, ident=f"history-{index}",
                caveat=f"Dots: completed trials; line: the best {name} so far ({direction}).")


def importances(study: optuna.Study, complete: Sequence[Any], names: list[str]) -> Plot:
    """fANOVA importances of the hyperparameters every completed trial has."""
    optuna = require("optuna", "optuna")
    title = "Hyperparameter importances"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = optuna.importance.get_param_importances(
                study, target=(lambda t: t.values[0]) if len(names) > 1 else None)
    except Exception as exc:  # too few trials, one value only, ...: the report goes on
        logger.debug("importances failed", exc_info=True)
        return Plot(title, note=f"not available: {_first_line(exc)}", ident="importance")
    if not found:
        return Plot(title, note="not available: no hyperparameter is shared by every "
                                "completed trial", ident="importance")
    paths = list(found)[:MAX_PARAMS]
    shown = _charts.short_names(paths)
    tips = [f"{path}: {found[path]:.3f}" for path in paths]
    svg = _charts.bars(shown, [found[p] for p in paths], tips, label=title, max_label=40)
    return Plot(title, svg=svg, ident="importance", paths=tuple(paths), caveat=(
        f"Optuna's default estimate (PED-ANOVA) over {len(complete)} completed trials, for "
        f"{names[0]}. A hyperparameter behind a choice is judged only on the trials that "
        "took that choice; with few trials the ranking is rough; it says how much a "
        "hyperparameter matters, not which value is better (see the score by choice)."))


def importance_order(plots: Sequence[Plot]) -> list[str]:
    """The paths of the importance chart, most important first (for ordering other charts)."""
    for plot in plots:
        if plot.ident == "importance" and plot.paths:
            return list(plot.paths)
    return []


def pareto(study: optuna.Study, complete: Sequence[Any], names: list[str]) -> Plot:
    """The first two objectives of every completed trial, the Pareto front highlighted."""
    front = {t.number for t in study.best_trials}
    points = [_charts.Point(t.values[0], t.values[1],
                            f"trial {t.number}: {names[0]} {t.values[0]:.6g}, "
                            f"{names[1]} {t.values[1]:.6g}"
                            + (" (Pareto-optimal)" if t.number in front else ""),
                            color="#1a7f37" if t.number in front else "#9aa4ae",
                            radius=4.2 if t.number in front else 3.0) for t in complete]
    line = sorted((p.x, p.y) for p in points if p.color == "#1a7f37")
    svg = _charts.scatter(points, names[0], names[1], line=line, label="Pareto front")
    return Plot("Pareto front", svg=svg, ident="pareto",
                caveat=f"Green: the {len(front)} Pareto-optimal trials (no other trial is "
                       "better on every objective).")


def choice_plots(complete: Sequence[Any], values: dict[int, dict[str, Any]], name: str,
                 maximize: bool, order: Sequence[str] = ()) -> list[Plot]:
    """For each categorical hyperparameter, the scores of the trials that took each choice.

    Args:
        complete: Completed trials.
        values: Each trial's values map, by trial number.
        name: The score's name.
        maximize: Which scores are better.
        order: Paths to show first (e.g. by importance); then top-level paths first.
    """
    by_path: dict[str, dict[str, list[tuple[float, str]]]] = {}
    for t in complete:
        for path, value in (values.get(t.number) or {}).items():
            if isinstance(value, (str, bool)) or value is None:
                tip = f"trial {t.number}: {name} {t.values[0]:.6g}"
                by_path.setdefault(path, {}).setdefault(_label(value), []).append(
                    (float(t.values[0]), tip))
    varied = [p for p, groups in by_path.items() if len(groups) >= 2]
    rank = {p: i for i, p in enumerate(order)}
    varied.sort(key=lambda p: (rank.get(p, len(rank)), p.count("/"), p))
    shown = varied[:MAX_PARAMS]
    short = _charts.short_names(shown)
    plots: list[Plot] = []
    for path, label in zip(shown, short):
        groups = sorted(by_path[path].items())
        svg = _charts.strips(groups, name, maximize=maximize, label=f"{name} by {path}")
        plots.append(Plot(label, svg=svg, ident=f"choice-{len(plots)}", full_title=path))
    return plots


def _label(value: Any) -> str:
    return {True: "true", False: "false", None: "none"}.get(value, str(value)) \
        if not isinstance(value, str) else value


def _optuna_plot(title: str, ident: str, function: str, study: optuna.Study) -> Plot:
    vis = require("optuna.visualization.matplotlib", "viz")
    matplotlib = require("matplotlib", "viz")
    plt = require("matplotlib.pyplot", "viz")
    with matplotlib.rc_context({"figure.figsize": (7.0, 4.2), "svg.hashsalt": "da_bridge"}), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optuna marks these plots experimental
        before = set(plt.get_fignums())
        try:
            drawn = getattr(vis, function)(study)
        except Exception as exc:  # a plot that does not apply must not sink the report
            logger.debug("plot %r failed", title, exc_info=True)
            for number in set(plt.get_fignums()) - before:
                plt.close(number)
            return Plot(title, note=f"not available: {_first_line(exc)}", ident=ident)
        figure = _figure(drawn)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight")
        plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return Plot(title, src=f"data:image/svg+xml;base64,{data}", ident=ident)


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{text} ({type(exc).__name__})"


def _figure(drawn: Any) -> Any:
    """The figure behind what a plot function returned (Axes, Figure, or an array of Axes)."""
    if hasattr(drawn, "savefig"):
        return drawn
    if hasattr(drawn, "figure"):
        return drawn.figure
    return drawn.flat[0].figure


