"""What the benchmark scripts share: quiet frameworks, the machine line, statistics, tables."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import warnings


def quiet() -> None:
    """Optuna's per-trial logs and experimental-feature warnings off."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def machine() -> str:
    """Python version, cores and load: absolute times only mean something next to these."""
    return (f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}")


def std(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def mean_se(values: list[float]) -> tuple[float, float]:
    """The mean and its standard error."""
    return statistics.fmean(values), std(values) / math.sqrt(len(values))


def mean_std(values: list[float], signed: bool = False) -> str:
    """`mean ± std`, with the sign shown when `signed` (gains)."""
    return f"{statistics.fmean(values):{'+' if signed else ''}.4f} ± {std(values):.4f}"


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """The lines of a markdown table."""
    return ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header),
            *("| " + " | ".join(row) + " |" for row in rows)]


def append_jsonl(path: str, record: dict) -> None:
    """Append one JSON record as a line, so a long run keeps what it finished."""
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def read_jsonl(path: str | None) -> list[dict]:
    """The records of a JSON-lines file; none when there is no path or file yet."""
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
