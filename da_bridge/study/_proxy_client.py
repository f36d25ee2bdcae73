"""The workers' side of the storage proxy (`da_bridge.study.proxy`): Optuna's gRPC client,
with heartbeats, the creation lock and one-call trial writes."""

from __future__ import annotations

import contextlib
import functools
import json
import warnings
from collections.abc import Iterator
from typing import Any

from da_bridge._imports import require
from da_bridge.errors import OptionError, StoreError
from da_bridge.study._optuna_internals import heartbeat_base
from da_bridge.study._retry import retrying_storage

SCHEME = "grpc://"
SERVICE = "da_bridge.Workers"
#: The calls the proxy adds to Optuna's.
CALLS = ("Heartbeat", "StaleTrials", "Lock", "Unlock", "WriteTrial")


def proxy_address(url: str) -> tuple[str, int]:
    """Host and port of a `grpc://HOST:PORT` storage URL.

    Example:
        >>> proxy_address("grpc://10.0.0.5:13000")
        ('10.0.0.5', 13000)
    """
    host, _, port = url.removeprefix(SCHEME).rstrip("/").rpartition(":")
    if not url.startswith(SCHEME) or not host or not port.isdigit():
        raise OptionError(f"a storage proxy URL is grpc://HOST:PORT; got {url!r}")
    return host.strip("[]"), int(port)


def open_proxy(url: str, *, heartbeat: bool = True, heartbeat_interval: float = 10,
               grace_period: float = 30, connect_timeout: float = 10,
               db_retry: float = 60) -> Any:
    """A worker's storage behind the proxy at `grpc://HOST:PORT`, with heartbeats.

    Raises:
        StoreError: no proxy answers there within `connect_timeout` seconds.
    """
    host, port = proxy_address(url)
    client = _client_class()(host, port, heartbeat_interval if heartbeat else None,
                             grace_period)
    try:
        client.wait_server_ready(timeout=connect_timeout)
    except ConnectionError:
        client.close()
        raise StoreError(f"no storage proxy answers at {url} (after {connect_timeout} s); "
                         "start one with `da-bridge proxy --storage URL --port PORT`") from None
    return retrying_storage(client, client, repr(url), db_retry, what="the storage proxy")


@functools.cache
def _client_class() -> type:
    optuna = require("optuna", "optuna")

    class ProxyClient(optuna.storages.GrpcStorageProxy, heartbeat_base()):  # type: ignore[misc,name-defined]
        """Optuna's proxy client, with the heartbeats, lock and writes of `_Service`."""

        def __init__(self, host: str, port: int, interval: float | None,
                     grace: float) -> None:
            self.heartbeat_interval, self.grace_period = interval, grace
            self.url = f"{SCHEME}{host}:{port}"
            with _quiet(optuna):
                super().__init__(host=host, port=port)

        def _setup(self) -> None:
            super()._setup()
            codec = {"request_serializer": lambda value: json.dumps(value).encode(),
                     "response_deserializer": json.loads}
            self._calls = {name: self._channel.unary_unary(f"/{SERVICE}/{name}", **codec)
                           for name in CALLS}

        def __getstate__(self) -> dict[Any, Any]:
            state = super().__getstate__()
            state.pop("_calls", None)
            return state

        def _call(self, name: str, **request: Any) -> Any:
            grpc = require("grpc", "postgres")
            try:
                return self._calls[name](request)
            except grpc.RpcError as exc:
                code = exc.code()
                if code == grpc.StatusCode.NOT_FOUND:
                    raise KeyError(exc.details()) from exc
                if code == grpc.StatusCode.FAILED_PRECONDITION:
                    raise optuna.exceptions.UpdateFinishedTrialError(exc.details()) from exc
                if code == grpc.StatusCode.INVALID_ARGUMENT:
                    raise ValueError(exc.details()) from exc
                raise

        def record_heartbeat(self, trial_id: int) -> None:
            self._call("Heartbeat", trial_id=trial_id)

        def _get_stale_trial_ids(self, study_id: int) -> list[int]:
            return list(self._call("StaleTrials", study_id=study_id,
                                   interval=self.heartbeat_interval, grace=self.grace_period))

        def get_heartbeat_interval(self) -> Any:
            return self.heartbeat_interval

        def get_heartbeat_stale_trial_callback(self) -> Any:
            if self.heartbeat_interval is None:
                return None
            with _quiet(optuna):
                return optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)

        def write_trial(self, trial_id: int, params: list[tuple[str, float, Any]],
                        user_attrs: list[tuple[str, Any]],
                        system_attrs: list[tuple[str, Any]]) -> None:
            dist_json = optuna.distributions.distribution_to_json
            self._call("WriteTrial", trial_id=trial_id,
                       params=[(n, v, dist_json(d)) for n, v, d in params],
                       user_attrs=user_attrs, system_attrs=system_attrs)

        def remote_lock(self, study_name: str) -> str | None:
            token = self._call("Lock", study_name=study_name)
            return str(token) if token else None  # "": another worker holds it

        def remote_unlock(self, token: str) -> None:
            self._call("Unlock", token=token)

        def remove_session(self) -> None:
            """Nothing to reset between retries (the channel reconnects by itself)."""

    return ProxyClient


@contextlib.contextmanager
def _quiet(optuna: Any) -> Iterator[None]:
    """Optuna marks its proxy experimental; da_bridge tests it, so the warning is noise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield
