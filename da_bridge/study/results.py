"""Search results as data: one row per trial, exported to files and loaded as a DataFrame.

A row holds the study name, the trial number and state, its score(s), the
values map that identifies the architecture, the architecture's JSON graph,
and its timings. `export_results` writes the rows of a study as JSON lines,
CSV or Parquet; `load_results` reads a file or a study back as a pandas
DataFrame, so runs become data for offline research (the values maps
flatten with `pandas.json_normalize`). In CSV and Parquet files the values
map and the architecture are JSON strings; `load_results` decodes them.
pandas (and pyarrow for Parquet) are imported only here.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from da_bridge._imports import require
from da_bridge.errors import OptionError, OptionTypeError
from da_bridge.study._schema import ARCHITECTURE_ATTR, VALUES_ATTR
from da_bridge.study.store import load_study

if TYPE_CHECKING:
    import pandas

FORMATS = ("jsonl", "csv", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet",
             ".pq": "parquet"}
_FIRST = ["study", "number", "state", "direction"]
_LAST = ["values", "architecture", "datetime_start", "datetime_complete", "duration"]
_JSON_COLUMNS = ("values", "architecture")


def load_results(source: Any, *, storage: Any = None) -> pandas.DataFrame:
    """The trials of a study, or of an exported file, as a pandas DataFrame.

    Args:
        source: A `.jsonl`, `.csv` or `.parquet` file written by `export_results`
            (or `da-bridge export`), an Optuna study, or a study name.
        storage: Where a study named by `source` lives (default: the embedded store).

    Returns:
        One row per trial: `study`, `number`, `state`, `direction`, `score` (or
        `score_0`, `score_1`, ... for several objectives; NaN when the trial has
        none), `values` (dict), `architecture` (dict or None),
        `datetime_start`, `datetime_complete` and `duration` (seconds).

    Example:
        >>> import da_bridge
        >>> from da_bridge.spaces.examples import poster_space
        >>> result = da_bridge.search(poster_space(), lambda arch: len(arch.values),
        ...                           n_trials=3, seed=0, storage=":memory:")
        >>> frame = load_results(result.study)
        >>> list(frame.columns[:5])
        ['study', 'number', 'state', 'direction', 'score']
        >>> frame["values"][0]["conv.filters"] in (64, 128)
        True
    """
    path = _as_file(source)
    if path is not None:
        return _frame(_read(path, _format_of(path, None)))
    return _frame(_study_records(_as_study(source, storage)))


def export_results(source: Any, path: str | os.PathLike, *, format: str | None = None,
                   storage: Any = None) -> int:
    """Write one row per trial of a study to `path`; returns the number of rows.

    Args:
        source: An Optuna study or a study name.
        path: The file to write.
        format: "jsonl", "csv" or "parquet"; by default from the file's suffix.
        storage: Where a study named by `source` lives (default: the embedded store).

    Example:
        >>> import tempfile, da_bridge
        >>> from da_bridge.spaces.examples import poster_space
        >>> result = da_bridge.search(poster_space(), lambda arch: len(arch.values),
        ...                           n_trials=3, seed=0, storage=":memory:")
        >>> out = Path(tempfile.mkdtemp()) / "trials.csv"
        >>> export_results(result.study, out)
        3
        >>> load_results(out).equals(load_results(result.study))
        True
    """
    path = Path(path)
    fmt = _format_of(path, format)
    records = _study_records(_as_study(source, storage))
    path.parent.mkdir(parents=True, exist_ok=True)
    _WRITERS[fmt](records, path)
    return len(records)


def _as_file(source: Any) -> Path | None:
    if isinstance(source, os.PathLike) or (isinstance(source, str) and Path(source).suffix in
                                           _SUFFIXES):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no results file {str(path)!r}")
        return path
    return None


def _as_study(source: Any, storage: Any) -> Any:
    if hasattr(source, "get_trials"):
        return source
    if isinstance(source, str):
        return load_study(source, storage)
    raise OptionTypeError("results come from a file, an Optuna study or a study name; "
                          f"got {source!r}")


def _format_of(path: Path, format: str | None) -> str:
    if format is None:
        format = _SUFFIXES.get(path.suffix.lower())
        if format is None:
            raise OptionError(f"cannot tell the format of {str(path)!r} from its suffix; "
                             f"give one of {list(FORMATS)}")
    if format not in FORMATS:
        raise OptionError(f"format {format!r} is not supported; choose one of {list(FORMATS)}")
    return format


def _study_records(study: Any) -> list[dict[str, Any]]:
    directions = [d.name.lower() for d in study.directions]
    scores = ["score"] if len(directions) == 1 else [f"score_{i}" for i in range(len(directions))]
    records = []
    for t in study.get_trials(deepcopy=False):
        values = t.values or [None] * len(scores)
        record = {"study": study.study_name, "number": t.number, "state": t.state.name,
                  "direction": ",".join(directions), **dict(zip(scores, values)),
                  "values": t.user_attrs.get(VALUES_ATTR, t.params),
                  "architecture": t.user_attrs.get(ARCHITECTURE_ATTR),
                  "datetime_start": _iso(t.datetime_start),
                  "datetime_complete": _iso(t.datetime_complete),
                  "duration": t.duration.total_seconds() if t.duration is not None else None}
        records.append(record)
    return records


def _iso(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _frame(records: Iterable[dict[str, Any]]) -> pandas.DataFrame:
    """The one place rows become a DataFrame, so every source gives the same dtypes."""
    pd = require("pandas", "sklearn")
    records = list(records)
    scores = sorted({k for r in records for k in r if k.startswith("score")}) or ["score"]
    frame = pd.DataFrame.from_records(records, columns=_FIRST + scores + _LAST)
    frame["number"] = frame["number"].astype("int64")
    for column in [*scores, "duration"]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in ("datetime_start", "datetime_complete"):
        frame[column] = pd.to_datetime(frame[column], format="ISO8601")
    for column in _JSON_COLUMNS:
        frame[column] = [_decoded(v) for v in frame[column]]
    return frame


def _decoded(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value)
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value


def _flat(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records with the nested columns as JSON strings (CSV and Parquet cells)."""
    return [{k: json.dumps(v) if k in _JSON_COLUMNS and v is not None else v
             for k, v in r.items()} for r in records]


def _write_jsonl(records: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")


def _write_csv(records: list[dict[str, Any]], path: Path) -> None:
    pd = require("pandas", "sklearn")
    pd.DataFrame.from_records(_flat(records)).to_csv(path, index=False)


def _write_parquet(records: list[dict[str, Any]], path: Path) -> None:
    pd = require("pandas", "sklearn")
    require("pyarrow", "test")
    frame = pd.DataFrame.from_records(_flat(records))
    for column in frame.columns:  # all-None columns need a type Parquet can store
        if frame[column].isna().all():
            frame[column] = frame[column].astype("float64" if column == "duration" else "object")
    frame.to_parquet(path, index=False)


def _read(path: Path, fmt: str) -> list[dict[str, Any]]:
    if fmt == "jsonl":
        with path.open(encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    pd = require("pandas", "sklearn")
    if fmt == "csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        return [{k: (v if v != "" else None) for k, v in r.items()}
                for r in frame.to_dict("records")]
    require("pyarrow", "test")
    frame = pd.read_parquet(path).astype(object)
    return [{k: (None if _missing(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


_WRITERS = {"jsonl": _write_jsonl, "csv": _write_csv, "parquet": _write_parquet}
