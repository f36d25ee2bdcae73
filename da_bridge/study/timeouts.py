"""A time limit per trial: the objective runs in a child process that is killed at the deadline.

`with_trial_timeout(objective, seconds)` wraps an objective for `da_bridge.search`
or `run_worker(trial_timeout=...)`. Each call forks a child process that
evaluates the architecture and sends the score back through a pipe; if no score
arrives within `seconds`, the child's whole process group is killed (SIGKILL)
and the trial fails with `TrialTimeoutError`. Killing a process is the only way
to stop code stuck in C, in I/O or in an endless loop: a thread cannot be
stopped from outside.

Limits:
    - POSIX only (it needs `fork`); the architecture reaches the child by
      fork, so nothing needs to pickle except the score and any exception.
    - State the objective changes in the child (globals, caches, models
      trained in place) does not come back to the worker: return what you need.
    - An objective that takes the trial gets a stand-in with `number`,
      `params`, `user_attrs`, `report`, `should_prune` and `set_user_attr`,
      forwarded to the real trial; raising `optuna.TrialPruned` prunes it.
    - Processes the objective starts in a new session or process group escape
      the kill; GPU memory and similar resources are freed by the operating
      system when the child dies. On Linux the child also dies with its
      worker (even one killed by SIGKILL); elsewhere it runs to its end.
    - Forking a process that runs threads is safe as long as the objective
      does not need a lock another thread held at the fork; frameworks that
      start thread pools at import (TensorFlow) are best imported inside the
      objective.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import pickle
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from da_bridge.errors import ObjectiveCrashError, OptionError, OptionTypeError, TrialTimeoutError
from da_bridge.study._objective import takes_trial

_FORWARDED = ("report", "should_prune", "set_user_attr")


def with_trial_timeout(objective: Callable[..., Any], seconds: float) -> Callable[..., Any]:
    """`objective` run in a child process that is killed after `seconds`.

    Args:
        objective: `objective(arch)` or `objective(arch, trial)`.
        seconds: The time limit of one evaluation.

    Returns:
        An objective `(arch, trial) -> score` for `da_bridge.search`; a trial
        that runs out of time fails with `TrialTimeoutError`.

    Example:
        >>> import time
        >>> from da_bridge import search
        >>> from da_bridge.spaces.examples import poster_space
        >>> def slow(arch):
        ...     time.sleep(0 if arch.values["conv.filters"] == 64 else 60)
        ...     return 1.0
        >>> result = search(poster_space(), with_trial_timeout(slow, 0.5), n_trials=4,
        ...                 searcher="random", seed=1, storage=":memory:")
        >>> sorted({t.state.name for t in result.trials})
        ['COMPLETE', 'FAIL']
    """
    if not callable(objective):
        raise OptionTypeError(f"objective must be callable; got {objective!r}")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not math.isfinite(seconds) or seconds <= 0:
        raise OptionError("the trial timeout must be a positive number of seconds; "
                          f"got {seconds!r}")
    if not hasattr(os, "fork"):
        raise OptionError("a per-trial timeout needs fork (POSIX); it is not available here")
    pass_trial = takes_trial(objective)

    def timed(arch: Any, trial: Any = None) -> Any:
        return run_with_timeout(objective, arch, trial, seconds, pass_trial=pass_trial)

    # Not functools.wraps: the runner must see that `timed` takes the trial.
    timed.__name__ = timed.__qualname__ = getattr(objective, "__name__", "objective")
    return timed


def run_with_timeout(objective: Callable[..., Any], arch: Any, trial: Any, seconds: float, *,
                     pass_trial: bool = False) -> Any:
    """Evaluate `objective` on `arch` in a forked child; kill it after `seconds`.

    `trial` (may be None) names the trial in errors; the objective gets it
    (as a stand-in forwarding to it) only with `pass_trial`.
    """
    parent, child = multiprocessing.Pipe()
    proxy = _TrialProxy(child, trial) if pass_trial else None
    # os.fork, not multiprocessing.Process: the objective may start processes of its own
    # (a daemonic Process may not), and the child must leave with os._exit.
    pid = os.fork()
    if pid == 0:
        parent.close()
        _child_main(objective, arch, proxy, child)
    child.close()
    child_process = _Child(pid)
    try:
        return _serve(parent, child_process, trial, seconds)
    finally:
        child_process.kill()
        parent.close()


class _Child:
    """The forked evaluation: killed with its whole process group, then reaped."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.exitcode: int | None = None

    def wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.exitcode is None and time.monotonic() < deadline:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.exitcode = os.waitstatus_to_exitcode(status)
            else:
                time.sleep(0.01)

    def kill(self) -> None:
        if self.exitcode is not None:
            return
        for kill in (lambda: os.killpg(self.pid, signal.SIGKILL),
                     lambda: os.kill(self.pid, signal.SIGKILL)):
            try:
                kill()
            except (ProcessLookupError, PermissionError):
                pass
        _, status = os.waitpid(self.pid, 0)
        self.exitcode = os.waitstatus_to_exitcode(status)


def _serve(conn: Any, child: _Child, trial: Any, seconds: float) -> Any:
    """Answer the child's trial calls until it sends its result or the deadline passes."""
    deadline = time.monotonic() + seconds
    number = getattr(trial, "number", None)
    label = "the objective" if number is None else f"trial {number}: the objective"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TrialTimeoutError(f"{label} ran longer than {seconds:g} s (its trial "
                                    "timeout) and was stopped")
        if not conn.poll(min(left, 0.5)):
            continue
        try:
            kind, *payload = conn.recv()
        except (EOFError, OSError):
            child.wait(1)
            raise ObjectiveCrashError(f"{label} process died (exit code {child.exitcode}) "
                                      "before returning a score") from None
        if kind == "result":
            return payload[0]
        if kind == "raise":
            raise _rebuild(*payload)
        conn.send(_forward(trial, kind, payload))


def _forward(trial: Any, method: str, args: list[Any]) -> Any:
    """Run a trial call the child made; return its result or the exception it raised."""
    if method not in _FORWARDED:
        return ("error", TypeError(f"the trial stand-in has no method {method!r}"))
    try:
        return ("ok", getattr(trial, method)(*args))
    except Exception as exc:
        return ("error", exc if _pickled(exc) else RuntimeError(f"{type(exc).__name__}: {exc}"))


def _rebuild(pickled: bytes | None, text: str, trace: str) -> BaseException:
    if pickled is not None:
        exc = pickle.loads(pickled)
        if hasattr(exc, "add_note"):
            exc.add_note(f"raised in the objective's process:\n{trace}")
        return exc
    return ObjectiveCrashError(f"the objective raised {text}")


def _child_main(objective: Callable[..., Any], arch: Any, proxy: Any, conn: Any) -> None:
    """The child: its own process group (so the kill reaches what it starts), no Ctrl-C."""
    code = 0
    try:
        _die_with_parent()
        os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            score = objective(arch, proxy) if proxy is not None else objective(arch)
            message: tuple = ("result", score)
        except BaseException as exc:  # noqa: B036 - everything goes back to the worker
            message = ("raise", _pickled(exc), f"{type(exc).__name__}: {exc}",
                       traceback.format_exc())
        try:
            conn.send(message)
        except Exception:  # a score that does not pickle: the runner rejects it by name
            conn.send(("result", repr(message[1])) if message[0] == "result"
                      else ("raise", None, *message[2:]))
    except BaseException:  # noqa: B036 - never return into the worker's code
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _die_with_parent() -> None:
    """On Linux, have the kernel kill the child when the worker dies (even by SIGKILL)."""
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the worker died before prctl took effect
        os._exit(1)


def _pickled(exc: BaseException) -> bytes | None:
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
    except Exception:
        return None
    return data


class _TrialProxy:
    """What the objective sees as its trial in the child: calls go to the real trial."""

    def __init__(self, conn: Any, trial: Any) -> None:
        self._conn = conn
        self.number = trial.number
        self.params = dict(trial.params)
        self.user_attrs = dict(trial.user_attrs)

    def _call(self, method: str, *args: Any) -> Any:
        self._conn.send((method, *args))
        status, value = self._conn.recv()
        if status == "error":
            raise value
        return value

    def report(self, value: float, step: int) -> None:
        self._call("report", value, step)

    def should_prune(self) -> bool:
        return bool(self._call("should_prune"))

    def set_user_attr(self, key: str, value: Any) -> None:
        self._call("set_user_attr", key, value)
        self.user_attrs[key] = value
