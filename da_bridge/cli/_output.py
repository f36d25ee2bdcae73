"""Tables and lines the commands print (rich when installed, plain text otherwise)."""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

from da_bridge.architecture import Architecture
from da_bridge.study import CONFIRMED_ATTR, ERROR_ATTR, VALUES_ATTR
from da_bridge.study.noise import rank, samples_spread, score_spread


def console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True, markup=False)


def info(line: str) -> None:
    console().print(line)


def error(line: str) -> None:
    """One line on stderr, like every message the command line prints there (above the
    progress bar, when one is running)."""
    try:
        from tqdm import tqdm
    except ImportError:
        sys.stderr.write(f"da-bridge: {line}\n")
    else:
        tqdm.write(f"da-bridge: {line}", file=sys.stderr)
    sys.stderr.flush()


class _Lines(logging.Handler):
    """Log records as `da-bridge: warning: message`, one line each (stderr looked up late,
    so redirections made after the handler still apply)."""

    def __init__(self, verbose: bool) -> None:
        super().__init__(logging.DEBUG if verbose else logging.WARNING)
        self.verbose = verbose

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if self.verbose and record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
        elif message:
            message = message.splitlines()[0]
        error(f"{record.levelname.lower()}: {message}")


@contextlib.contextmanager
def console_logging(verbose: bool, *, traceback: bool = False) -> Iterator[None]:
    """Quiet frameworks for one command: no Optuna per-trial lines nor TensorFlow's
    start-up chatter, and a failed trial is one line (`failed_trial_line`), unless `verbose`
    (then everything at INFO, with tracebacks); `traceback` keeps Optuna's warnings with the
    traceback of each failed trial."""
    if not verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # read when TensorFlow loads
    root = logging.getLogger()
    handler, level = _Lines(verbose), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    quiet = {name: logging.getLogger(name).level for name in _CHATTY}
    for name in quiet:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.ERROR)
    optuna_level = _optuna_verbosity(logging.INFO if verbose else
                                     logging.WARNING if traceback else logging.ERROR)
    database = logging.getLogger("optuna.storages._rdb.storage")
    database.addFilter(_first_line)
    muter = None if verbose else _NativeStartupMuted(_NATIVE_CHATTY)
    if muter is not None:
        sys.meta_path.insert(0, muter)
    _state["one_line_failures"] = not (verbose or traceback)
    try:
        yield
    finally:
        _state["one_line_failures"] = False
        if muter is not None:
            sys.meta_path.remove(muter)
        database.removeFilter(_first_line)
        root.removeHandler(handler)
        root.setLevel(level)
        for name, previous in quiet.items():
            logging.getLogger(name).setLevel(previous)
        if optuna_level is not None:
            _optuna_verbosity(optuna_level)


#: Whether `failed_trial_line` speaks (Optuna's own warnings do when they are shown).
_state = {"one_line_failures": False}


def _first_line(record: logging.LogRecord) -> bool:
    """Optuna's database warnings quote the SQL; the first line says what happened."""
    record.msg, record.args = record.getMessage().strip().split("\n")[0], ()
    return True


#: Modules whose C++ start-up lines (oneDNN, absl's "before InitializeLog") are written
#: straight to file descriptor 2, past TF_CPP_MIN_LOG_LEVEL and Python's logging.
_NATIVE_CHATTY = frozenset({"tensorflow"})


class _NativeStartupMuted(importlib.abc.MetaPathFinder):
    """Imports the chatty modules with file descriptor 2 pointed at /dev/null; everything
    else, and those modules once loaded, write to stderr as usual."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names, self.busy = names, False

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in self.names or self.busy:
            return None
        self.busy = True  # the import below finds the module the ordinary way
        try:
            with _fd2_muted():
                module = importlib.import_module(fullname)
        finally:
            self.busy = False
        return importlib.util.spec_from_loader(fullname, _Loaded(module))


class _Loaded(importlib.abc.Loader):
    """Hands the import system a module that is already loaded."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def create_module(self, spec: Any) -> Any:
        return self.module

    def exec_module(self, module: Any) -> None:
        return None


@contextlib.contextmanager
def _fd2_muted() -> Iterator[None]:
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


#: Framework loggers whose warnings are start-up chatter, not news about the user's search.
_CHATTY = ("tensorflow", "absl", "h5py", "matplotlib")


def _optuna_verbosity(level: int) -> int | None:
    """Set Optuna's verbosity (its failed-trial tracebacks are warnings; the runner logs a
    one-line reason itself); returns the previous one, None without Optuna."""
    try:
        import optuna
    except ImportError:
        return None
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(level)
    return previous


def failed_trial_line(study: Any, trial: Any) -> None:
    """An Optuna callback: one line on stderr for each failed trial, with its error (Optuna's
    own warning with the traceback shows with --verbose)."""
    error_text = trial.user_attrs.get(ERROR_ATTR)
    if trial.state.name == "FAIL" and error_text and _state["one_line_failures"]:
        error(f"trial {trial.number} failed: {error_text.splitlines()[0]}")


def trials_table(trials: list, title: str, directions: list[str], limit: int = 10) -> Any:
    from rich.table import Table


    table = Table(title=title, show_lines=False)
    table.add_column("trial", justify="right")
    table.add_column("state")
    for d in directions:
        table.add_column(f"score ({d[:3]})", justify="right")
    spreads = [score_spread(t) if t.state.name == "COMPLETE" else None for t in trials[:limit]]
    if any(spreads):
        table.add_column("± SE", justify="right")
    table.add_column("values")
    for t, spread in zip(trials[:limit], spreads):
        scores = t.values or [None] * len(directions)
        extra = [("" if spread is None else f"{spread.se:.2g}")] if any(spreads) else []
        table.add_row(str(t.number), t.state.name,
                      *[("-" if s is None else f"{s:.5g}") for s in scores], *extra,
                      _short(json.dumps(t.user_attrs.get(VALUES_ATTR, t.params))))
    return table


def summary(result: Any, describe: Callable[[Architecture], str] | None, seconds: float) -> None:
    """The best trials, the best architecture and the time taken."""
    out = console()
    study = result.study
    directions = [d.name.lower() for d in study.directions]
    finished = [t for t in result.trials if t.state.is_finished()]
    # enqueued trials the budget left unrun (WAITING) were never trials the user saw run
    shown = [t for t in result.trials if t.state.name != "WAITING"]
    counts: dict[str, int] = {}
    for t in shown:
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    out.print(f"study {study.study_name!r}: {len(shown)} trials "
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
        confirmed = study.user_attrs.get(CONFIRMED_ATTR)
        if confirmed:
            out.print(confirmed_table(result.trials, confirmed, directions[0]))
        for line in best_lines(result.trials, directions[0], confirmed):
            out.print(line)
        out.print(f"best architecture (trial {result.best_trial.number}):")
        out.print(describe(arch) if describe else json.dumps(arch.json_values(), indent=2))


def best_lines(trials: list, direction: str, confirmed: dict | None = None) -> list[str]:
    """`best score: 0.9554 ± 0.012 (...)` and, when something measures the noise, whether the
    next best trials are within it (on the re-evaluations of `--confirm` if there are some)."""
    ranking = rank(trials, direction == "maximize", confirmed=confirmed)
    if ranking is None:
        return []
    label = "best score on re-evaluation" if ranking.confirmed else "best score"
    score = f"{label}: {ranking.score:.6g} (trial {ranking.best.number})"
    if ranking.spread is not None:
        score += f" {ranking.spread.text()}"
    note = ranking.note()
    return [score, *([note] if note else [])]


def confirmed_table(trials: list, confirmed: dict, direction: str) -> Any:
    """The re-evaluated trials: their search score beside the mean of their re-evaluations."""
    from rich.table import Table

    by_number = {str(t.number): t for t in trials}
    rows = []
    for number, entry in confirmed.items():
        samples = entry["samples"]
        mean = sum(samples) / len(samples)
        spread = samples_spread(samples)
        rows.append((mean, number, by_number[number].value, spread and spread.se, entry["what"]))
    rows.sort(reverse=direction == "maximize")
    table = Table(title=f"re-evaluated ({rows[0][4]})" if rows else "re-evaluated")
    for column in ("trial", "search score", "re-evaluated", "± SE"):
        table.add_column(column, justify="right")
    for mean, number, value, se, _ in rows:
        table.add_row(number, f"{value:.5g}", f"{mean:.5g}", "" if se is None else f"{se:.2g}")
    return table


def _short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."
