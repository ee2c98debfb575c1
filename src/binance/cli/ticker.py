"""``binance ticker [SYMBOL ...]``: latest prices, or 24-hour statistics of some symbols.

Without a symbol: the latest price of every symbol (``GET /api/v3/ticker/price``, weight 4).
With symbols: their 24-hour statistics in one request (``GET /api/v3/ticker/24hr?symbols=``).
Prices are shown exactly as Binance sends them (strings), never through floats.

Imports only the standard library at module level (``binance --help`` stays fast).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from binance.cli._common import Connection, add_connection_options, console, parse_symbols

__all__ = ["register", "run", "prices_table", "stats_table"]


def register(subparsers: Any) -> None:
    """Add the ``ticker`` sub-command."""
    parser = subparsers.add_parser(
        "ticker",
        help="latest prices, or 24-hour statistics of some symbols",
        description=(
            "Without SYMBOL: the latest price of every symbol. With one or more symbols "
            "(separated by spaces or commas): their 24-hour statistics."
        ),
    )
    parser.add_argument(
        "symbols",
        nargs="*",
        type=parse_symbols,
        metavar="SYMBOL",
        help="e.g. BTCUSDT (or BTCUSDT,ETHUSDT)",
    )
    parser.add_argument("--json", action="store_true", help="print Binance's JSON answer")
    add_connection_options(parser)
    parser.set_defaults(func=run)


def _plain(value: Any) -> str:
    """A Binance decimal string without trailing zeros: ``"0.01000000"`` -> ``"0.01"``."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if number == 0:
        return "0"
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def prices_table(rows: Iterable[Mapping[str, Any]]) -> Any:
    """A ``rich`` table of ``[{"symbol", "price"}]`` rows, sorted by symbol."""
    from rich.table import Table

    table = Table(title="Latest prices", title_justify="left")
    table.add_column("symbol")
    table.add_column("price", justify="right")
    for row in sorted(rows, key=lambda r: r["symbol"]):
        table.add_row(row["symbol"], _plain(row["price"]))
    return table


def stats_table(rows: Iterable[Mapping[str, Any]]) -> Any:
    """A ``rich`` table of 24-hour ticker rows (``GET /api/v3/ticker/24hr``)."""
    from rich.table import Table

    table = Table(title="24-hour statistics", title_justify="left")
    for name in ("symbol", "last", "change", "high", "low", "volume", "quote volume", "trades"):
        table.add_column(name, justify="left" if name == "symbol" else "right")
    for row in rows:
        pct = Decimal(str(row.get("priceChangePercent", "0")))
        style = "green" if pct > 0 else "red" if pct < 0 else ""
        change = f"[{style}]{pct:+.2f}%[/]" if style else f"{pct:+.2f}%"
        table.add_row(
            row["symbol"],
            _plain(row["lastPrice"]),
            change,
            _plain(row["highPrice"]),
            _plain(row["lowPrice"]),
            _plain(row["volume"]),
            _plain(row["quoteVolume"]),
            str(row.get("count", "")),
        )
    return table


def _natural_width(out: Any, renderable: Any) -> int:
    from rich.measure import Measurement

    return Measurement.get(out, out.options.update(max_width=10_000), renderable).maximum


_STATS_FIELDS = (
    ("last", "lastPrice"),
    ("high", "highPrice"),
    ("low", "lowPrice"),
    ("volume", "volume"),
    ("quote volume", "quoteVolume"),
)


def stats_lines(rows: Iterable[Mapping[str, Any]]) -> str:
    """The 24-hour statistics as plain lines, for screens too narrow for the table (numbers
    are never cut short)."""
    lines = []
    for row in rows:
        pct = Decimal(str(row.get("priceChangePercent", "0")))
        fields = "  ".join(f"{name} {_plain(row[key])}" for name, key in _STATS_FIELDS)
        lines.append(
            f"{row['symbol']}  change {pct:+.2f}%  {fields}  trades {row.get('count', '')}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the table (or JSON); returns the exit status."""
    symbols = [s for group in args.symbols for s in group]
    symbols = list(dict.fromkeys(symbols))
    with Connection(args) as conn:
        client = conn.client()
        if not symbols:
            data: Any = client.get_all_tickers()
        elif len(symbols) == 1:
            data = [client.get_ticker(symbol=symbols[0])]
        else:
            data = client.get_ticker(symbols=symbols)
    if args.json:
        sys.stdout.write(json.dumps(data) + "\n")
        return 0
    out = console()
    table = prices_table(data) if not symbols else stats_table(data)
    if symbols and _natural_width(out, table) > out.width:
        out.print(stats_lines(data))
    else:
        out.print(table)
    return 0
