"""A worker's writes to a running trial, sent in one round trip instead of a dozen.

Choosing an architecture writes each parameter and attribute on its own: on a database that
is a transaction each (about a dozen per trial, most of a worker's CPU and of the server's
load). `batched` holds these writes and sends them together at the next call that is not one
of them (Optuna's tell, a heartbeat...; not the sampler's read of the study) or when
`flush()` is called: the worker
flushes before the objective starts, so a trial whose worker dies during the evaluation has
its architecture in the store, as before. A worker that dies while choosing it leaves a
trial with no parameters, which is failed as always and not retried (there is nothing to
retry).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from da_bridge._imports import require
from da_bridge.study._optuna_internals import heartbeat_base

#: The writes that are held.
_HELD = ("set_trial_param", "set_trial_user_attr", "set_trial_system_attr")
#: Calls that do not send the held writes first: the sampler's read of the study (it needs
#: the other trials, not this one's owner) and the heartbeat settings.
_PASS = ("get_all_trials", "get_heartbeat_interval", "get_heartbeat_stale_trial_callback")


def batched(storage: Any) -> Any:
    """`storage` with a running trial's writes held and sent together (see the module)."""
    if not callable(getattr(storage, "write_trial", None)):
        return storage
    return _storage_class()(storage)


class _Pending:
    """The writes held for one trial."""

    def __init__(self) -> None:
        self.params: list[tuple[str, float, Any]] = []
        self.user_attrs: list[tuple[str, Any]] = []
        self.system_attrs: list[tuple[str, Any]] = []


def _flush(self: Any) -> None:
    """Send every held write (one call per trial)."""
    with self._batch_lock:
        pending, self._pending = self._pending, {}
        for trial_id, writes in pending.items():
            self._inner.write_trial(trial_id, writes.params, writes.user_attrs,
                                    writes.system_attrs)


def _hold(name: str) -> Callable[..., Any]:
    def method(self: Any, trial_id: int, *args: Any, **kwargs: Any) -> None:
        values = list(args) + list(kwargs.values())
        with self._batch_lock:
            writes = self._pending.setdefault(trial_id, _Pending())
            if name == "set_trial_param":
                writes.params.append((values[0], values[1], values[2]))
            else:
                target = writes.user_attrs if name == "set_trial_user_attr" else \
                    writes.system_attrs
                target.append((values[0], values[1]))

    method.__name__ = name
    return method


def _forward(name: str) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self._pending and name not in _PASS:
            _flush(self)
        return getattr(self._inner, name)(*args, **kwargs)

    method.__name__ = name
    return method


@functools.cache
def _storage_class() -> type:
    storages = require("optuna.storages", "optuna")
    bases = (storages.BaseStorage, heartbeat_base())

    def init(self: Any, inner: Any) -> None:
        self._inner, self._pending, self._batch_lock = inner, {}, threading.RLock()

    def getattr_(self: Any, name: str) -> Any:  # engine, outage, url...: the inner storage's
        if name.startswith("__") or name in ("_inner", "_pending", "_batch_lock"):
            raise AttributeError(name)
        return getattr(self._inner, name)

    names = sorted({name for cls in bases for name, value in vars(cls).items()
                    if callable(value) and not name.startswith("__")})
    namespace: dict[str, Any] = {name: _forward(name) for name in names}
    namespace.update({name: _hold(name) for name in _HELD})
    namespace.update(__init__=init, __getattr__=getattr_, flush=_flush, __module__=__name__,
                     __doc__="An Optuna storage that sends a running trial's writes together.")
    cls: Any = type("BatchedStorage", bases, namespace)
    cls.__abstractmethods__ = frozenset()  # every abstract method is forwarded above
    return cls
