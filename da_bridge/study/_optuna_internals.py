"""Every Optuna internal the runtime relies on, in one place.

Optuna has no public API for these; each is used for a reason that says what breaks without
it. `tests/study/test_optuna_internals.py` exercises every one on the installed Optuna and
fails naming the Optuna version when one moves. (The sampler snapshot in
`da_bridge.adapters._snapshot` serves TPE's reads of `Study._get_trials`; its test is in
`tests/adapters/test_optuna.py`.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from da_bridge._imports import require


def cached_storage(rdb: Any) -> Any:
    """The caching layer `optuna.create_study` puts around an RDB storage.

    The retrying wrapper goes around this layer, so a retried call still reads the cache.
    """
    module = require("optuna.storages._cached_storage", "optuna")
    return module._CachedStorage(rdb)


def heartbeat_base() -> type:
    """Optuna's heartbeat interface: a storage that is one gets `fail_stale_trials`."""
    base: type = require("optuna.storages._heartbeat", "optuna").BaseHeartbeat
    return base


def heartbeat_enabled(storage: Any) -> bool:
    """Whether `storage` sends heartbeats for running trials (an RDB with an interval)."""
    return bool(require("optuna.storages._heartbeat", "optuna").is_heartbeat_enabled(storage))


def storage_location(storage: Any) -> str | None:
    """The journal file path or database URL behind an Optuna storage object, if any.

    Example:
        >>> import optuna
        >>> storage_location(optuna.storages.InMemoryStorage()) is None
        True
    """
    layer = storage
    for _ in range(3):  # a cached storage wraps an RDB storage; a JournalStorage a backend
        if isinstance(getattr(layer, "url", None), str):
            return str(layer.url)
        if isinstance(getattr(layer, "_file_path", None), str):
            return str(Path(layer._file_path).resolve())
        layer = getattr(layer, "_backend", None)
    return None


def storage_of(study: Any) -> Any:
    """The storage a study reads and writes (to fail another process's trial, or to ask our
    journal backend whether another process has it open)."""
    return study._storage


def trial_id(trial: Any) -> int:
    """A frozen trial's id in its storage (the storage's calls take ids, not numbers)."""
    return int(trial._trial_id)
