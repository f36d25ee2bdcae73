"""What the benchmark scripts share: quiet frameworks, the machine line, mean and spread."""

from __future__ import annotations

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
