"""Tables and lines the commands print (rich when installed, plain text otherwise)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from da_bridge.architecture import Architecture
from da_bridge.study import VALUES_ATTR


def console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True, markup=False)


def info(line: str) -> None:
    console().print(line)


def trials_table(trials: list, title: str, directions: list[str], limit: int = 10) -> Any:
    from rich.table import Table


    table = Table(title=title, show_lines=False)
    table.add_column("trial", justify="right")
    table.add_column("state")
    for d in directions:
        table.add_column(f"score ({d[:3]})", justify="right")
    table.add_column("values")
    for t in trials[:limit]:
        scores = t.values or [None] * len(directions)
        table.add_row(str(t.number), t.state.name,
                      *[("-" if s is None else f"{s:.5g}") for s in scores],
                      _short(json.dumps(t.user_attrs.get(VALUES_ATTR, t.params))))
    return table


def summary(result: Any, describe: Callable[[Architecture], str] | None, seconds: float) -> None:
    """The best trials, the best architecture and the time taken."""
    out = console()
    study = result.study
    directions = [d.name.lower() for d in study.directions]
    finished = [t for t in result.trials if t.state.is_finished()]
    counts: dict[str, int] = {}
    for t in result.trials:
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    out.print(f"study {study.study_name!r}: {len(result.trials)} trials "
              f"({', '.join(f'{n} {s.lower()}' for s, n in sorted(counts.items()))}) "
              f"in {seconds:.1f} s")
    if not any(t.state.name == "COMPLETE" for t in finished):
        out.print("no trial completed")
        return
    best = result.top(5) if len(directions) == 1 else result.best_trials
    title = "best trials" if len(directions) == 1 else "Pareto front"
    out.print(trials_table(best, title, directions))
    if len(directions) == 1:
        arch = result.best_architecture
        out.print(f"best score: {result.best_score:.6g}")
        out.print("best architecture:")
        out.print(describe(arch) if describe else json.dumps(arch.json_values(), indent=2))


def _short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."
