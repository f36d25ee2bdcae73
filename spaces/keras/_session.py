"""Free what a trained Keras model leaves behind, so memory stays flat over many trials.

`keras.backend.clear_session()` resets Keras's global state, but on the TensorFlow
backend every traced training step also registers a `CustomGradient-<n>` function
(from the optimizer's gradient all-reduce) in TensorFlow's global gradient registry,
and that entry keeps the whole traced graph alive: about 10 MB per small model
(tensorflow/tensorflow#97697, keras-team/tf-keras#898). `fresh_session` drops the
entries registered while trainings were running, once none is running any more.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from da_bridge._imports import require

_PREFIX = "CustomGradient-"
_LOCK = threading.Lock()
_STATE: dict[str, Any] = {"active": 0, "baseline": frozenset()}


@contextlib.contextmanager
def fresh_session() -> Iterator[None]:
    """Clear Keras's session around the block and drop TensorFlow's leaked gradients."""
    keras = require("keras", "keras")
    registry = _gradient_registry(keras)
    with _LOCK:
        if _STATE["active"] == 0:
            _STATE["baseline"] = frozenset(list(registry))
        _STATE["active"] += 1
    keras.backend.clear_session()
    try:
        yield
    finally:
        keras.backend.clear_session(free_memory=False)
        with _LOCK:
            _STATE["active"] -= 1
            if _STATE["active"] == 0:
                _drop_new_gradients(registry, _STATE["baseline"])
        keras.backend.clear_session()


def _gradient_registry(keras: Any) -> dict[str, Any]:
    """TensorFlow's gradient registry, or an empty dict on other backends or versions."""
    if keras.backend.backend() != "tensorflow":
        return {}
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
    except (ImportError, AttributeError):
        return {}
    return registry if isinstance(registry, dict) else {}


def _drop_new_gradients(registry: dict[str, Any], baseline: frozenset[str]) -> None:
    for name in [n for n in list(registry) if n.startswith(_PREFIX) and n not in baseline]:
        registry.pop(name, None)
