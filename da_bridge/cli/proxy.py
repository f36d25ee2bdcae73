"""`da-bridge proxy --storage URL --port N`: one storage proxy in front of the database.

Workers then use `--storage grpc://HOST:N` instead of the database URL (see
`da_bridge.study.proxy`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from da_bridge.cli import _output
from da_bridge.errors import OptionError
from da_bridge.study.proxy import DEFAULT_PORT, DEFAULT_THREADS, start_proxy


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "proxy", help="serve a database to many workers through one caching proxy",
        description="Serve the database --storage to workers through Optuna's gRPC storage "
                    "proxy, with heartbeats and the workers' creation lock. Workers use "
                    "--storage grpc://HOST:PORT. Runs until SIGINT/SIGTERM.")
    p.add_argument("--storage", required=True, metavar="URL",
                   help="the database (postgresql://..., mysql://...)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; 0.0.0.0: every interface, "
                        "and the proxy has no authentication: allow only the workers' "
                        "machines)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port to listen on (default {DEFAULT_PORT}; 0: a free one)")
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                   help=f"calls served at once (default {DEFAULT_THREADS})")
    p.add_argument("--connect-timeout", type=float, metavar="SECONDS",
                   help="seconds to wait for the database server")
    p.add_argument("--db-retry", type=float, metavar="SECONDS",
                   help="seconds to retry while the database cannot be reached (default: 60)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, extra: list[str], parser: argparse.ArgumentParser) -> int:
    import signal
    import threading

    if not 0 <= args.port < 65536:
        raise OptionError(f"--port must be a port number (0 for a free one); got {args.port}")
    if args.threads < 1:
        raise OptionError(f"--threads must be at least 1; got {args.threads}")
    proxy = start_proxy(args.storage, host=args.host, port=args.port, threads=args.threads,
                        connect_timeout=args.connect_timeout, db_retry=args.db_retry)
    stopped = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stopped.set())
                for s in (signal.SIGINT, signal.SIGTERM)}
    # the line a script waits for (the port, when --port 0 picked one): one unwrapped line
    sys.stdout.write(f"proxy: serving {proxy.location} at grpc://{args.host}:{proxy.port}\n")
    sys.stdout.flush()
    try:
        while not stopped.wait(0.5):
            pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        proxy.stop()
    _output.info("proxy: stopped")
    return 0
