"""Write an estimator as the scikit-learn code that builds it."""

from __future__ import annotations

import importlib
import inspect
import math
import numbers
from typing import Any

INDENT = "    "
FLOAT_DIGITS = 6
WIDTH = 72  # wrap constructor arguments when a call would pass this width


def pipeline_code(estimator: Any, *, variable: str = "pipeline") -> str:
    """Python source with the imports and the constructor calls that rebuild `estimator`.

    Only arguments that differ from the defaults are written; floats are
    rounded to 6 significant digits (the study's values map keeps them exact).

    Example:
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn.preprocessing import StandardScaler
        >>> from sklearn.svm import SVC
        >>> from da_bridge.spaces.sklearn import pipeline_code
        >>> print(pipeline_code(make_pipeline(StandardScaler(), SVC(C=12.3456789))))
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC
        <BLANKLINE>
        pipeline = Pipeline([
            ("standardscaler", StandardScaler()),
            ("svc", SVC(C=12.3457)),
        ])
    """
    imports: set[tuple[str, str]] = set()
    body = _format(estimator, 0, imports)
    lines = [f"from {module} import {', '.join(sorted(n for m, n in imports if m == module))}"
             for module in sorted({m for m, _ in imports})]
    return "\n".join([*lines, "", f"{variable} = {body}"]) if lines else f"{variable} = {body}"


def _format(value: Any, depth: int, imports: set[tuple[str, str]]) -> str:
    if hasattr(value, "get_params") and not inspect.isclass(value):
        return _format_estimator(value, depth, imports)
    if isinstance(value, (list, tuple)):
        return _format_sequence(value, depth, imports)
    if isinstance(value, dict):
        items = [f"{_format(k, depth, imports)}: {_format(v, depth, imports)}"
                 for k, v in value.items()]
        return "{" + ", ".join(items) + "}"
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return _quote(value) if isinstance(value, str) else repr(value)
    if isinstance(value, numbers.Integral):
        return repr(int(value))
    if isinstance(value, numbers.Real):
        return _format_float(float(value))
    if callable(value) and hasattr(value, "__qualname__"):
        return _import_name(value, imports)
    return repr(value)


def _format_estimator(estimator: Any, depth: int, imports: set[tuple[str, str]]) -> str:
    cls = type(estimator)
    name = _import_name(cls, imports)
    params = estimator.get_params(deep=False)
    signature = inspect.signature(cls.__init__).parameters
    args: list[str] = []
    for key, param in signature.items():
        if key == "self" or key not in params or param.kind in (param.VAR_POSITIONAL,
                                                                param.VAR_KEYWORD):
            continue
        value = params[key]
        if param.default is param.empty and not args:
            args.append(_format(value, depth, imports))  # Pipeline(steps) reads best positionally
        elif param.default is param.empty or _changed(value, param.default):
            args.append(f"{key}={_format(value, depth + 1, imports)}")
    one_line = f"{name}({', '.join(args)})"
    if len(one_line) + len(INDENT) * (depth + 2) <= WIDTH or len(args) < 2 or "\n" in one_line:
        return one_line
    pad = INDENT * (depth + 1)
    return f"{name}(\n" + "".join(f"{pad}{arg},\n" for arg in args) + INDENT * depth + ")"


def _format_sequence(values: Any, depth: int, imports: set[tuple[str, str]]) -> str:
    open_, close = ("[", "]") if isinstance(values, list) else ("(", ")")
    nested = any(hasattr(v, "get_params") or isinstance(v, tuple) for v in values)
    if not nested or not isinstance(values, list):
        items = [_format(v, depth, imports) for v in values]
        tail = "," if isinstance(values, tuple) and len(values) == 1 else ""
        return open_ + ", ".join(items) + tail + close
    pad = INDENT * (depth + 1)
    items = [f"{pad}{_format(v, depth + 1, imports)},\n" for v in values]
    return open_ + "\n" + "".join(items) + INDENT * depth + close


def _changed(value: Any, default: Any) -> bool:
    if isinstance(value, float) and isinstance(default, float) and math.isnan(value):
        return not math.isnan(default)
    return repr(value) != repr(default)


def _format_float(value: float) -> str:
    if not math.isfinite(value):
        return f'float("{value}")'
    text = format(value, f".{FLOAT_DIGITS}g")
    return text if any(c in text for c in ".e") else text + ".0"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"' if "\n" not in text \
        else repr(text)


def _import_name(obj: Any, imports: set[tuple[str, str]]) -> str:
    """The name to write for a class or function, recording the shortest public import."""
    name, module = obj.__qualname__, getattr(obj, "__module__", None) or ""
    if "." in name or "<" in name or not module or module == "builtins":
        return name
    imports.add((_public_module(obj, module, name), name))
    return name


def _public_module(obj: Any, module: str, name: str) -> str:
    parts = module.split(".")
    for end in range(1, len(parts) + 1):
        candidate = ".".join(parts[:end])
        if any(p.startswith("_") for p in parts[1:end]):
            break
        try:
            if getattr(importlib.import_module(candidate), name, None) is obj and end > 1:
                return candidate
        except ImportError:
            break
    return module
