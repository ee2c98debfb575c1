"""``binance sim``: run the local exchange until interrupted.

The first line on stdout is one JSON object with everything a program needs to connect:
``rest_url``, ``stream_url``, ``ws_api_url``, ``api_key``, ``api_secret`` and ``keys`` (every
key with its permissions, key type and credentials; RSA/Ed25519 keys carry their PEM private
key). SIGINT or SIGTERM stops the server and the command exits with status 0.

The simulator is imported only when the command runs, so ``binance --help`` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``sim`` sub-command."""
    parser = subparsers.add_parser(
        "sim",
        help="run a local Binance-compatible exchange",
        description=(
            "Serve Binance's REST API, market streams and WebSocket API on loopback from a "
            "seeded simulator. Prints one JSON line (URLs and keys), then serves until "
            "interrupted."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    parser.add_argument("--seed", type=int, default=0, help="seed of history, keys, traders")
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=(
            "a LocalExchange setting, e.g. request_weight_per_minute=100 or "
            "background_market=false (VALUE is JSON, else a string); repeatable"
        ),
    )
    parser.set_defaults(func=run)


def _settings(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"binance sim: --set needs NAME=VALUE, got {pair!r}")
        try:
            out[name] = json.loads(raw)
        except json.JSONDecodeError:
            out[name] = raw
    return out


async def _serve(args: argparse.Namespace) -> int:
    from binance.sim import LocalExchange

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    exchange = LocalExchange(args.seed, host=args.host, port=args.port, **_settings(args.settings))
    async with exchange as ex:
        sys.stdout.write(json.dumps(ex.info()) + "\n")
        sys.stdout.flush()
        await stop.wait()
    return 0


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit status."""
    return asyncio.run(_serve(args))
