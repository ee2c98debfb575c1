"""``binance time``: the exchange's clock, and how far this machine's clock is from it.

Signed requests are refused when the local clock is more than 1000 ms ahead of the server or
older than ``recvWindow`` (NOTES.md section 1.4); this shows the offset before it bites.

Imports only the standard library at module level (``binance --help`` stays fast).
"""

from __future__ import annotations

import argparse
import json
import sys
import time as _time
from typing import Any

from binance.cli._common import Connection, add_connection_options, format_ms

__all__ = ["register", "run", "measure"]


def register(subparsers: Any) -> None:
    """Add the ``time`` sub-command."""
    parser = subparsers.add_parser(
        "time",
        help="the exchange's time and this machine's clock offset",
        description=(
            "Print the exchange's time (GET /api/v3/time) and how far the local clock is from "
            "it, corrected for the round trip."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    add_connection_options(parser)
    parser.set_defaults(func=run)


def measure(client: Any) -> dict[str, int]:
    """One ``GET /api/v3/time``: the server time, the local clock's offset and the round trip.

    Returns:
        ``{"server_time": ms, "offset_ms": local - server, "round_trip_ms": ms}``; a positive
        offset means the local clock is ahead.
    """
    sent = _time.time_ns() // 1_000_000
    server = int(client.get_server_time()["serverTime"])
    received = _time.time_ns() // 1_000_000
    # The server read its clock about half-way through the round trip.
    local_at_server_read = (sent + received) // 2
    return {
        "server_time": server,
        "offset_ms": local_at_server_read - server,
        "round_trip_ms": received - sent,
    }


def run(args: argparse.Namespace) -> int:
    """Print the server time and the offset; returns the exit status."""
    with Connection(args) as conn:
        result = measure(conn.client())
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")
        return 0
    offset = result["offset_ms"]
    if offset == 0:
        drift = "in step with the server"
    else:
        drift = f"{abs(offset)} ms {'ahead of' if offset > 0 else 'behind'} the server"
    lines = [
        f"server time   {format_ms(result['server_time'])}  ({result['server_time']})",
        f"local clock   {drift} (round trip {result['round_trip_ms']} ms)",
    ]
    if offset > 1000:
        lines.append(
            "warning: signed requests will be refused (-1021) unless the client corrects "
            "for the offset; the library does this itself, other tools may not"
        )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
