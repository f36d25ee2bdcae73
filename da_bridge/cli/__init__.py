"""The `da-bridge` command line: one module per command, each with `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys
from collections.abc import Sequence

from da_bridge._version import __version__
from da_bridge.errors import DABridgeError

COMMANDS = ("search", "worker", "show", "count", "draw", "report", "export", "predict")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="da-bridge",
        description="Architecture search with DeepArchitect's language on Optuna, "
                    "Hyperopt and scikit-optimize.")
    parser.add_argument("--version", action="version", version=f"da_bridge {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="show the full traceback on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"da_bridge.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"da_bridge.cli.{name}":
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (also the console script)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    _quiet_frameworks(traceback=args.traceback or bool(os.environ.get("DA_BRIDGE_DEBUG")))
    if extra and not getattr(args, "accepts_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.run(args, extra, parser) or 0)
    except KeyboardInterrupt:
        print("da-bridge: interrupted", file=sys.stderr)  # noqa: T201 - CLI output
        return 130
    except (DABridgeError, ValueError, TypeError, LookupError, ImportError, OSError) as exc:
        if args.traceback or os.environ.get("DA_BRIDGE_DEBUG"):
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"da-bridge: error: {message}", file=sys.stderr)  # noqa: T201 - CLI output
        return 2


def _quiet_frameworks(traceback: bool = False) -> None:
    """Our progress bar and tables replace Optuna's per-trial log lines.

    A failed trial gets one line with the reason, not Optuna's parameters, traceback and
    second line (unless `--traceback`).
    """
    try:
        import optuna
    except ImportError:
        return
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if not traceback:
        logging.getLogger("optuna.study._optimize").addFilter(_one_line_failures)
        logging.getLogger("optuna.storages._rdb.storage").addFilter(_first_line)


def _first_line(record: logging.LogRecord) -> bool:
    """Optuna's database warnings quote the SQL; the first line says what happened."""
    record.msg, record.args = record.getMessage().strip().split("\n")[0], ()
    return True


def _one_line_failures(record: logging.LogRecord) -> bool:
    text = record.getMessage()
    if not text.startswith("Trial ") or " failed" not in text:
        return True
    if " failed with value " in text:
        return False  # Optuna's second line about the same trial
    number = text.split()[1]
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        reason = re.sub(r"^trial \d+: ", "", str(exc).strip().split("\n")[0])
        reason = f"{type(exc).__name__}: {reason}"
    else:
        reason = text.split("because of the following error: ", 1)[-1].rstrip(".")
    record.msg, record.args = f"trial {number} failed: {reason}", ()
    record.exc_info = record.exc_text = None
    return True


if __name__ == "__main__":
    sys.exit(main())
