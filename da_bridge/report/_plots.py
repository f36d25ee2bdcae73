"""Optuna's matplotlib plots of a study, as self-contained SVG data URIs."""

from __future__ import annotations

import base64
import io
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from da_bridge._imports import require

if TYPE_CHECKING:
    import optuna

logger = logging.getLogger(__name__)


@dataclass
class Plot:
    """A figure for the report: an `<img>` source, or why there is none."""

    title: str
    src: str | None = None
    note: str = ""


def study_plots(study: optuna.Study, names: list[str]) -> list[Plot]:
    """History, importances, Pareto front, intermediate values and timeline, where they apply."""
    vis = require("optuna.visualization.matplotlib", "viz")
    trials = study.get_trials(deepcopy=False)
    if not any(t.state.name == "COMPLETE" for t in trials):
        return [Plot("Plots", note="no trial has completed yet")]
    plots = []
    if len(names) == 1:
        plots.append(_plot("Optimization history", vis.plot_optimization_history, study,
                           target_name=names[0]))
    else:
        for i, name in enumerate(names):
            plots.append(_plot(f"Optimization history: {name}", vis.plot_optimization_history,
                               study, target=lambda t, i=i: t.values[i], target_name=name))
    plots.append(_plot("Parameter importances", vis.plot_param_importances, study,
                       **({"target_name": names[0]} if len(names) == 1 else {})))
    if len(names) in (2, 3):
        plots.append(_plot("Pareto front", vis.plot_pareto_front, study, target_names=names))
    if any(t.intermediate_values for t in trials):
        plots.append(_plot("Intermediate values", vis.plot_intermediate_values, study))
    plots.append(_plot("Timeline", vis.plot_timeline, study))
    return plots


def _plot(title: str, plot_fn: Callable[..., Any], study: optuna.Study, **kwargs: Any) -> Plot:
    matplotlib = require("matplotlib", "viz")
    plt = require("matplotlib.pyplot", "viz")
    with matplotlib.rc_context({"figure.figsize": (7.0, 4.2), "svg.hashsalt": "da_bridge"}), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optuna marks these plots experimental
        before = set(plt.get_fignums())
        try:
            drawn = plot_fn(study, **kwargs)
        except Exception as exc:  # a plot that does not apply must not sink the report
            logger.debug("plot %r failed", title, exc_info=True)
            for number in set(plt.get_fignums()) - before:
                plt.close(number)
            return Plot(title, note=f"not available: {str(exc).splitlines()[0] if str(exc) else ''}"
                        f" ({type(exc).__name__})")
        figure = _figure(drawn)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight")
        plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return Plot(title, src=f"data:image/svg+xml;base64,{data}")


def _figure(drawn: Any) -> Any:
    """The figure behind what a plot function returned (Axes, Figure, or an array of Axes)."""
    if hasattr(drawn, "savefig"):
        return drawn
    if hasattr(drawn, "figure"):
        return drawn.figure
    return drawn.flat[0].figure
