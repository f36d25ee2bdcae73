"""`da-bridge predict --study NAME VALUES_JSON`: a surrogate's guess at an unseen architecture."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from da_bridge._imports import require
from da_bridge.adapters.surrogate import ESTIMATORS
from da_bridge.cli import _output
from da_bridge.errors import DomainError, OptionError
from da_bridge.study.store import load_study
from da_bridge.study.surrogate import fit, training_data


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "predict", help="predict a score from a study's surrogate",
        description="Train a surrogate on the finished trials of a study and predict the "
                    "score of the architecture VALUES_JSON identifies (a JSON object "
                    "{path: value}, or a file holding one), with a held-out error report.")
    p.add_argument("values", metavar="VALUES_JSON", help="values map as JSON text or a file")
    p.add_argument("--study", required=True, help="study name")
    p.add_argument("--storage", help="storage URL or journal path (default: ./da_runs)")
    p.add_argument("--estimator", choices=ESTIMATORS, default="rf",
                   help="surrogate regressor (default: rf, a random forest)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and the forest")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, extra: list[str], parser: Any) -> int:
    values = _values(args.values)
    _check_domains(values, load_study(args.study, args.storage))
    history = training_data(args.study, storage=args.storage)
    model = fit(history, estimator=args.estimator, seed=args.seed)
    mean, std = model.predict(values, return_std=True)
    _output.info(f"predicted score: {mean:.6g} +- {std:.3g} "
                 f"(surrogate on {model.n_trials} trials of study {args.study!r})")
    _output.info(str(model.report))
    known = {path for trial_values, _ in history for path in trial_values}
    unknown = sorted(set(values) - known)
    if unknown:
        _output.info(f"note: no trial of the study has {unknown[:5]}; they do not inform "
                     "the prediction")
    return 0


def _values(text: str) -> dict[str, Any]:
    source = text
    if not text.lstrip().startswith("{") and Path(text).is_file():
        source = Path(text).read_text(encoding="utf-8")
    try:
        values = json.loads(source)
    except json.JSONDecodeError as exc:
        raise OptionError(f"VALUES_JSON is not JSON ({exc.msg}); give a {{path: value}} "
                         "object or a file holding one") from None
    if not isinstance(values, dict) or not values:
        raise OptionError(f"VALUES_JSON must be a non-empty {{path: value}} object; got {text!r}")
    return values


def _check_domains(values: dict[str, Any], study: Any) -> None:
    """`DomainError` for a value outside the domain its path has in the study's trials."""
    domains: dict[str, Any] = {}
    for trial in study.get_trials(deepcopy=False):
        domains.update(trial.distributions)
    for path, value in values.items():
        if path in domains and not _inside(value, domains[path]):
            raise DomainError(path, value, _describe(domains[path]))


def _inside(value: Any, distribution: Any) -> bool:
    choices = getattr(distribution, "choices", None)
    if choices is not None:
        if isinstance(value, dict) and isinstance(value.get("index"), int):  # an object's JSON
            return 0 <= value["index"] < len(choices)
        return any(c is value if isinstance(value, bool) else
                   (not isinstance(c, bool) and c == value) for c in choices)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    integral = _is_int(distribution)
    return (not integral or float(value).is_integer()) and \
        distribution.low <= value <= distribution.high


def _is_int(distribution: Any) -> bool:
    return isinstance(distribution, require("optuna", "optuna").distributions.IntDistribution)


def _describe(distribution: Any) -> str:
    choices = getattr(distribution, "choices", None)
    if choices is not None:
        return f"one of {list(choices)}"
    kind = "Int" if _is_int(distribution) else "Float"
    return f"{kind}({distribution.low}, {distribution.high})"
