"""Workers as tasks on a Dask cluster, for users who already run one.

`run_on_dask(client, storage, study_name, objective, space, ...)` submits one
`run_worker` loop per Dask worker thread (or `n_workers`); each loop opens the
storage itself, so the storage must be a URL or a journal path every Dask
worker can reach (PostgreSQL for a cluster of machines). The objective and the
space travel to the workers with Dask's pickling (cloudpickle), so closures
work. Dask tasks run outside the main thread: the tasks do not catch signals;
stop them by cancelling (their trials then end by heartbeat, as a killed
worker's do). Nothing here imports Dask: you pass the `dask.distributed.Client`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from da_bridge.errors import OptionError
from da_bridge.space import SearchSpace
from da_bridge.study.store import MEMORY, load_study
from da_bridge.study.worker import WorkerResult, run_worker


def run_on_dask(client: Any, storage: str | os.PathLike, study_name: str,
                objective: Callable[..., Any], space: SearchSpace, *,
                n_workers: int | None = None, seed: int | None = None,
                **options: Any) -> WorkerResult:
    """Run worker loops of `study_name` as tasks of the Dask cluster behind `client`.

    Args:
        client: A `dask.distributed.Client`.
        storage: A storage URL or journal path every Dask worker can open.
        study_name: The shared study; created by the first task.
        objective: `objective(arch)` or `objective(arch, trial)`.
        space: The search space.
        n_workers: Worker loops to run (default: one per Dask worker thread).
        seed: Task `i` gets `seed + i`, so the loops propose different architectures.
        **options: Passed to `run_worker` (`max_trials`, `n_trials`, `searcher`,
            `direction`, `trial_timeout`, `heartbeat_interval`, ...).

    Returns:
        A `WorkerResult` over all tasks: the study and every trial they ran.

    Example:
        >>> import pathlib, tempfile
        >>> from dask.distributed import Client, LocalCluster
        >>> from da_bridge.spaces.examples import poster_space
        >>> def objective(arch):
        ...     return float(len(arch.values))
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "dask.journal"
        >>> with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
        ...                   dashboard_address=None) as cluster, Client(cluster) as client:
        ...     result = run_on_dask(client, path, "on-dask", objective, poster_space(),
        ...                          n_trials=2, searcher="random", seed=0)
        >>> result.trials
        [0, 1, 2, 3]
    """
    if not isinstance(storage, (str, os.PathLike)) or os.fspath(storage) == MEMORY:
        raise OptionError("run_on_dask needs a storage URL or journal path that every Dask "
                         f"worker can open; got {storage!r}")
    count = n_workers or sum(client.nthreads().values())
    if count < 1:
        raise OptionError(f"n_workers must be >= 1; got {count}")
    futures = [client.submit(_task, os.fspath(storage), study_name, objective, space,
                             None if seed is None else seed + i, options, pure=False)
               for i in range(count)]
    done = client.gather(futures)
    result = WorkerResult(load_study(study_name, os.fspath(storage)), space)
    result.trials = sorted(number for numbers in done for number in numbers)
    return result


def _task(storage: str, study_name: str, objective: Callable[..., Any], space: SearchSpace,
          seed: int | None, options: dict[str, Any]) -> list[int]:
    result = run_worker(storage, study_name, objective, space, seed=seed,
                        handle_signals=False, **options)
    return result.trials
