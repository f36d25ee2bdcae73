"""The `da-bridge` command line: one module per command, each with `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from da_bridge._version import __version__
from da_bridge.cli import _output
from da_bridge.errors import DABridgeError

COMMANDS = ("search", "worker", "proxy", "show", "count", "draw", "report", "export", "estimate",
            "predict")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="da-bridge",
        description="Architecture search with DeepArchitect's language on Optuna, "
                    "Hyperopt and scikit-optimize.")
    parser.add_argument("--version", action="version", version=f"da_bridge {__version__}")
    _add_common_options(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"da_bridge.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"da_bridge.cli.{name}":
                continue
            raise
        module.register(subparsers)
    for command_parser in subparsers.choices.values():
        _add_common_options(command_parser)
    return parser


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    """Options every command takes, before or after its name (SUPPRESS: the last one given wins,
    an absent one does not reset the other)."""
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show the frameworks' log lines (Optuna's per-trial lines, "
                             "TensorFlow's) and full tracebacks of failed trials")
    parser.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback on errors")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (also the console script)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = None
    try:
        args, extra = parser.parse_known_args(argv)
        if extra and not getattr(args, "accepts_extra", False):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        verbose = getattr(args, "verbose", False)
        traceback = getattr(args, "traceback", False) or bool(os.environ.get("DA_BRIDGE_DEBUG"))
        with _output.console_logging(verbose, traceback=traceback):
            return int(args.run(args, extra, parser) or 0)
    except KeyboardInterrupt:
        _output.error("interrupted")
        return 130
    except (DABridgeError, ValueError, TypeError, LookupError, ImportError, OSError) as exc:
        if getattr(args, "traceback", False) or os.environ.get("DA_BRIDGE_DEBUG"):
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        _output.error(f"error: {message}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
