"""Lazy imports of optional frameworks, with one clear error when one is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from da_bridge.errors import MissingExtraError


def require(module: str, extra: str) -> ModuleType:
    """Import `module`, or explain which da_bridge extra installs it.

    Example:
        >>> require("json", "optuna").__name__
        'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        hint = f"pip install 'da_bridge[{extra}]'"
        raise MissingExtraError(f"{module} is needed here: {hint}") from exc
