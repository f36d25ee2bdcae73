"""How a worker stops: signals, and the objective wrapper that turns them into a FAIL.

A signal during an evaluation raises `KeyboardInterrupt` inside it (Optuna
records the trial as FAIL, the worker marks it `da_bridge.interrupted`); a
signal between evaluations only ends the worker's loop, so no trial is ever
left half-created. A second signal gets the handler that was there before.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from da_bridge._imports import require
from da_bridge.errors import OptionTypeError
from da_bridge.study._objective import takes_trial
from da_bridge.study._schema import ERROR_ATTR, INTERRUPTED_ATTR
from da_bridge.study.timeouts import with_trial_timeout

_SIGNALS = ("SIGINT", "SIGTERM")


class Stop:
    """Signal state: a signal during an evaluation interrupts it, otherwise the loop ends."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal: str | None = None
        self.trial: Any = None
        self.in_objective = False
        self.on_signal: Callable[[], None] = lambda: None
        self._previous: dict[int, Any] = {}

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> None:
        self._event.wait(seconds)

    def interrupted(self, name: str = "SIGINT") -> None:
        self.signal = self.signal or name
        self._event.set()

    def handle(self, signum: int, frame: Any) -> None:
        self.interrupted(signal.Signals(signum).name)
        signal.signal(signum, self._previous.get(signum, signal.SIG_DFL))  # a 2nd one hits hard
        self.on_signal()
        if self.in_objective:
            raise KeyboardInterrupt(f"worker stopped by {self.signal}")

    @contextmanager
    def installed(self, enabled: bool) -> Iterator[None]:
        if not enabled or threading.current_thread() is not threading.main_thread():
            yield
            return
        for name in _SIGNALS:
            number = getattr(signal, name)
            self._previous[number] = signal.signal(number, self.handle)
        try:
            yield
        finally:
            for number, previous in self._previous.items():
                signal.signal(number, previous)


@contextmanager
def terminate_as_interrupt() -> Iterator[list[str]]:
    """SIGTERM raises `KeyboardInterrupt`, as Ctrl-C does (main thread only).

    Yields a list that receives the name of each signal caught, so the caller can
    tell SIGTERM from SIGINT.
    """
    caught: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return

    def handle(signum: int, frame: Any) -> None:
        caught.append(signal.Signals(signum).name)
        raise KeyboardInterrupt(f"stopped by {caught[-1]}")

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield caught
    finally:
        signal.signal(signal.SIGTERM, previous)


def guard(objective: Callable[..., Any], stop: Stop, trial_timeout: float | None) -> Callable:
    """The objective, interruptible by `stop`, optionally under a per-trial time limit."""
    if not callable(objective):
        raise OptionTypeError(f"objective must be callable; got {objective!r}")
    if trial_timeout is not None:
        objective = with_trial_timeout(objective, trial_timeout)
    pass_trial = takes_trial(objective)
    pruned = require("optuna", "optuna").TrialPruned

    def guarded(arch: Any, trial: Any) -> Any:
        stop.trial, stop.in_objective = trial, True
        try:
            if stop.is_set():
                raise KeyboardInterrupt(f"worker stopped by {stop.signal}")
            return objective(arch, trial) if pass_trial else objective(arch)
        except KeyboardInterrupt:
            stop.in_objective = False
            stop.interrupted()
            trial.set_user_attr(INTERRUPTED_ATTR, stop.signal)
            raise
        except Exception as exc:
            if not isinstance(exc, pruned):  # the other workers' owners want to know why
                trial.set_user_attr(ERROR_ATTR, f"{type(exc).__name__}: {exc}"[:1000])
            raise
        finally:
            stop.in_objective = False

    return guarded
