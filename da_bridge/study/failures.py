"""Stop a search whose trials mostly fail, and say why in one message.

A search whose trials all fail for the same reason (text columns a scaler
cannot read, a target of the wrong kind, a budget too small per trial) is
better stopped after a few trials than run to its budget. `FailureStop` is
the Optuna callback `da_bridge.search(stop_on_failures=...)` adds; it reads
each failed trial's `ERROR_ATTR`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from da_bridge.errors import SearchFailedError
from da_bridge.study._schema import ERROR_ATTR

#: The trials finished in this call before a search may be stopped.
MIN_TRIALS = 10
#: The share of failed trials (of those finished in this call) that stops a search: high
#: enough that an objective failing half its architectures by design runs on.
RATE = 0.9
NO_MESSAGE = "the objective raised (no message recorded)"


class FailureStop:
    """An Optuna callback: stop the study once most of this call's trials have failed.

    Args:
        min_trials: Trials finished in this call before stopping is considered.
        rate: The share of failures among them that stops the search.

    Example:
        >>> from da_bridge import search
        >>> from da_bridge.spaces.examples import poster_space
        >>> def broken(arch):
        ...     raise ValueError("could not convert string to float: 'south'")
        >>> stop = FailureStop()
        >>> result = search(poster_space(), broken, n_trials=50, storage=":memory:",
        ...                 callbacks=[stop], stop_on_failures=False)
        >>> stop.stopped, len(result.trials)
        (True, 10)
    """

    def __init__(self, *, min_trials: int = MIN_TRIALS, rate: float = RATE) -> None:
        self.min_trials, self.rate = min_trials, rate
        self.finished: list[int] = []
        self.failed: list[int] = []
        self.stopped = False

    def __call__(self, study: Any, trial: Any) -> None:
        if trial.state.name not in ("COMPLETE", "FAIL", "PRUNED"):
            return
        self.finished.append(trial.number)
        if trial.state.name == "FAIL":
            self.failed.append(trial.number)
        if len(self.finished) >= self.min_trials and \
                len(self.failed) >= self.rate * len(self.finished):
            self.stopped = True
            study.stop()

    def error(self, study: Any, hint: Callable[[list[str]], str | None] | None = None
              ) -> SearchFailedError:
        """The `SearchFailedError` that says why (the distinct errors, grouped) and, from
        `hint(errors)`, what fixes it."""
        failed = set(self.failed)
        errors = [t.user_attrs.get(ERROR_ATTR, NO_MESSAGE)
                  for t in study.get_trials(deepcopy=False) if t.number in failed]
        return SearchFailedError(failure_message(errors, len(self.finished),
                                                 hint(errors) if hint else None))


def failure_message(errors: list[str], n_trials: int, fix: str | None = None) -> str:
    """One message: how many trials failed, each distinct error once with its count, the fix.

    Example:
        >>> message = failure_message(["ValueError: bad", "ValueError: bad", "KeyError: 'x'"],
        ...                           3, "pass x=")
        >>> message.split(": ", 1)[1]
        "ValueError: bad (2 trials); KeyError: 'x' (1 trial). Fix: pass x="
    """
    groups: dict[str, int] = {}
    for error in errors:
        first = error.strip().splitlines()[0][:300] if error.strip() else NO_MESSAGE
        groups[first] = groups.get(first, 0) + 1
    shown = "; ".join(f"{error} ({count} trial{'s' if count > 1 else ''})"
                      for error, count in list(groups.items())[:3])
    more = f"; and {len(groups) - 3} other errors" if len(groups) > 3 else ""
    fix_text = f". Fix: {fix}" if fix else ""
    return (f"{len(errors)} of {n_trials} trials failed, so the search stopped: "
            f"{shown}{more}{fix_text}")
