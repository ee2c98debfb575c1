"""``binance demo``: the seed's quick start, run for real on a local exchange, step by step.

Without options the demo starts the embedded exchange (`binance.sim.LocalExchange`) in this
process, so it needs no account, no keys and no network, and walks through the quick start of
the python-binance documentation in its order: the order book, a test order, all prices, a
withdrawal and the withdrawal history, a deposit address, live aggregated trades, klines
history; plus a real limit order and its cancellation, the account balance and a depth cache.
Each step shows the code it runs and what came back. It ends by itself (about half a minute;
``--fast`` for tests and the impatient).

``--live`` runs the public-data steps (no keys needed) against Binance itself: server time,
order book, prices, a few seconds of trades, a depth cache, klines. They need market data only,
so by default they use Binance's public market-data hosts (``https://data-api.binance.vision``
and ``wss://data-stream.binance.vision``, NOTES.md section 1.1); ``--base-url``/``--stream-url``
(or ``--testnet``) point them elsewhere, e.g. at a ``binance sim``. Without network it stops at
once with a clear message (exit status 1).

Imports only the standard library at module level (``binance --help`` stays fast).
"""

from __future__ import annotations

import argparse
import queue
import time
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

from binance.cli._common import (
    DATA_API_URL,
    DATA_STREAM_URL,
    CommandError,
    Connection,
    UsageError,
    add_connection_options,
    console,
    describe_error,
    format_ms,
    parse_symbol,
    positive_float,
)

__all__ = ["register", "run"]

#: Seconds between steps (default pacing), and of live trades.
DEFAULT_PACE_S = 1.5
DEFAULT_TRADES_S = 5.0
#: Seconds to wait for the exchange when --live probes it (then: no network).
LIVE_PROBE_TIMEOUT_S = 5.0
#: An address the local exchange accepts for ETH withdrawals (the seed wrote '<eth_address>').
DEMO_ETH_ADDRESS = "0x" + "5a0b54d5dc17e0aadc383d2db43b0a0d3e029c4c"


def register(subparsers: Any) -> None:
    """Add the ``demo`` sub-command."""
    parser = subparsers.add_parser(
        "demo",
        help="a guided tour of the library on a local exchange (or --live)",
        description=(
            "Run the python-binance quick start for real, step by step, on a local exchange "
            "started in this process: order book, test order, prices, a limit order and its "
            "cancel, balances, a withdrawal and its history, a deposit address, live trades, "
            "a depth cache and a klines download. No account, keys or network needed. With "
            "--live, the public-data steps run against Binance itself."
        ),
        epilog=(
            f"--live uses Binance's public market-data hosts unless told otherwise: REST "
            f"{DATA_API_URL}, streams {DATA_STREAM_URL}. --base-url (and --stream-url) point "
            "it at another exchange, e.g. `binance demo --live --base-url "
            "http://127.0.0.1:PORT` at a `binance sim`; --testnet at Binance's Spot testnet."
        ),
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="run the public-data steps against the real exchange (no keys needed)",
    )
    parser.add_argument(
        "--symbol",
        type=parse_symbol,
        default="BNBBTC",
        metavar="SYMBOL",
        help="the market used (default BNBBTC, as in the quick start)",
    )
    parser.add_argument(
        "--fast",
        action="store_true",
        help="no pauses between steps and only one second of live trades",
    )
    parser.add_argument(
        "--pace",
        type=positive_float,
        default=None,
        metavar="SECONDS",
        help=f"pause between steps (default {DEFAULT_PACE_S:g})",
    )
    parser.add_argument(
        "--trades-for",
        type=positive_float,
        default=None,
        metavar="SECONDS",
        help=f"how long to show live trades (default {DEFAULT_TRADES_S:g})",
    )
    add_connection_options(
        parser,
        default_host=f"a local exchange; with --live, Binance's market-data host {DATA_API_URL}",
    )
    parser.set_defaults(func=run)


class _Tour:
    """Numbered steps with a title, the code they run, and paced output."""

    def __init__(self, out: Any, pace_s: float) -> None:
        self.out = out
        self.pace_s = pace_s
        self.number = 0

    def step(self, title: str, code: str) -> None:
        from rich.rule import Rule
        from rich.syntax import Syntax

        if self.number:
            time.sleep(self.pace_s)
        self.number += 1
        self.out.print()
        self.out.print(Rule(f"[bold]{self.number}. {title}", align="left"))
        self.out.print(
            Syntax(code.strip("\n"), "python", theme="ansi_dark", background_color="default")
        )

    def show(self, text: Any = "") -> None:
        self.out.print(text)


def _levels(rows: list[Any], n: int = 5) -> str:
    return ", ".join(
        f"{Decimal(str(p)).normalize():f} x {Decimal(str(q)).normalize():f}" for p, q in rows[:n]
    )


def _filters(info: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["filterType"]: f for f in info.get("filters", [])}


# -- the steps -------------------------------------------------------------------------------------


def _order_book(tour: _Tour, client: Any, symbol: str) -> dict[str, Any]:
    tour.step("Market depth", f"depth = client.get_order_book(symbol='{symbol}')")
    depth: dict[str, Any] = client.get_order_book(symbol=symbol)
    bids, asks = depth["bids"], depth["asks"]
    tour.show(f"lastUpdateId {depth['lastUpdateId']}, {len(bids)} bids, {len(asks)} asks")
    tour.show(f"  best bids: {_levels(depth['bids'])}")
    tour.show(f"  best asks: {_levels(depth['asks'])}")
    return depth


def _test_order(tour: _Tour, client: Any, symbol: str) -> None:
    tour.step(
        "A test market order (checked by the exchange, never executed)",
        f"""
order = client.create_test_order(
    symbol='{symbol}',
    side=Client.SIDE_BUY,
    type=Client.ORDER_TYPE_MARKET,
    quantity=100)""",
    )
    result = client.create_test_order(symbol=symbol, side="BUY", type="MARKET", quantity=100)
    tour.show(f"{result!r}  (an empty answer means the order was valid)")


def _prices(tour: _Tour, client: Any) -> None:
    from binance.cli.ticker import prices_table

    tour.step("Prices of every symbol", "prices = client.get_all_tickers()")
    prices = client.get_all_tickers()
    tour.show(f"{len(prices)} symbols")
    tour.show(prices_table(prices[:12]))


def _limit_order(tour: _Tour, client: Any, symbol: str, depth: dict[str, Any]) -> None:
    from binance.helpers import round_step_size, round_tick_size

    info = client.get_symbol_info(symbol)
    filters = _filters(info)
    tick = Decimal(filters["PRICE_FILTER"]["tickSize"])
    step = Decimal(filters["LOT_SIZE"]["stepSize"])
    min_qty = Decimal(filters["LOT_SIZE"]["minQty"])
    notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
    min_notional = Decimal(notional.get("minNotional", "0"))
    best_bid = Decimal(depth["bids"][0][0])
    # 5% under the best bid: it rests in the book instead of trading.
    price = round_tick_size(best_bid * Decimal("0.95"), tick, ROUND_DOWN)
    qty = max(min_qty, round_step_size(min_notional * 2 / price, step, ROUND_UP))
    quote = info["quoteAsset"]
    tour.step(
        "A real limit order, then its cancellation",
        f"""
order = client.order_limit_buy(symbol='{symbol}', quantity='{qty}', price='{price}')
client.get_asset_balance(asset='{quote}')
client.cancel_order(symbol='{symbol}', orderId=order['orderId'])""",
    )
    order = client.order_limit_buy(symbol=symbol, quantity=str(qty), price=str(price))
    tour.show(
        f"order {order['orderId']}: {order['status']} {order['side']} {order['origQty']} at "
        f"{order['price']}"
    )
    balance = client.get_asset_balance(asset=quote)
    tour.show(f"{quote} while it rests: free {balance['free']}, locked {balance['locked']}")
    cancelled = client.cancel_order(symbol=symbol, orderId=order["orderId"])
    tour.show(f"order {cancelled['orderId']}: {cancelled['status']}")
    balance = client.get_asset_balance(asset=quote)
    tour.show(f"{quote} after the cancel: free {balance['free']}, locked {balance['locked']}")


def _balances(tour: _Tour, client: Any) -> None:
    from rich.table import Table

    tour.step(
        "Account balances",
        """
account = client.get_account()
balances = [b for b in account['balances'] if Decimal(b['free']) or Decimal(b['locked'])]""",
    )
    account = client.get_account()
    table = Table(box=None)
    table.add_column("asset")
    table.add_column("free", justify="right")
    table.add_column("locked", justify="right")
    shown = 0
    for b in account["balances"]:
        if Decimal(b["free"]) or Decimal(b["locked"]):
            table.add_row(b["asset"], b["free"], b["locked"])
            shown += 1
    tour.show(table if shown else "(no balances)")


def _withdraw(tour: _Tour, client: Any) -> None:
    from binance.exceptions import BinanceAPIException, BinanceWithdrawException

    tour.step(
        "Withdraw 100 ETH, then the withdrawal history",
        """
from binance.exceptions import BinanceAPIException, BinanceWithdrawException
try:
    result = client.withdraw(
        asset='ETH',
        address='<eth_address>',
        amount=100)
except BinanceWithdrawException as e:
    print(e)
except BinanceAPIException as e:
    print(e)
else:
    print("Success")

withdraws = client.get_withdraw_history()
eth_withdraws = client.get_withdraw_history(asset='ETH')""",
    )
    try:
        result = client.withdraw(asset="ETH", address=DEMO_ETH_ADDRESS, amount=100)
    except BinanceWithdrawException as e:  # a subclass: caught first
        tour.show(f"refused: {e}")
    except BinanceAPIException as e:
        tour.show(f"refused: {e}")
    else:
        tour.show(f"Success: withdrawal id {result['id']}")
    withdraws = client.get_withdraw_history()
    eth = client.get_withdraw_history(asset="ETH")
    tour.show(f"{len(withdraws)} withdrawal(s), {len(eth)} in ETH")
    for w in eth[:3]:
        tour.show(
            f"  {w['applyTime']}  {w['amount']} {w['coin']} to {w['address'][:12]}...  "
            f"fee {w['transactionFee']}  status {w['status']}"
        )


def _deposit_address(tour: _Tour, client: Any) -> None:
    tour.step("A deposit address", "address = client.get_deposit_address(asset='BTC')")
    address = client.get_deposit_address(asset="BTC")
    tour.show(f"{address['coin']}: {address['address']}")


def _trades(tour: _Tour, client: Any, symbol: str, seconds: float) -> None:
    from binance.websockets import BinanceSocketManager

    tour.step(
        f"Live aggregated trades ({seconds:g} s)",
        f"""
def process_message(msg):
    print("message type: {{}}".format(msg['e']))
    print(msg)

from binance.websockets import BinanceSocketManager
bm = BinanceSocketManager(client)
bm.start_aggtrade_socket('{symbol}', process_message)
bm.start()""",
    )
    received: queue.Queue[Any] = queue.Queue()
    bm = BinanceSocketManager(client)
    try:
        bm.start_aggtrade_socket(symbol, received.put)
        bm.start()
        ends = time.monotonic() + seconds
        count = 0
        while True:
            left = ends - time.monotonic()
            if left <= 0:
                break
            try:
                msg = received.get(timeout=left)
            except queue.Empty:
                break
            if msg.get("e") == "error":
                raise CommandError(f"trade stream failed: {msg.get('m')}")
            count += 1
            if count <= 8:
                side = "sell" if msg.get("m") else "buy "
                tour.show(
                    f"  {msg['e']}  {format_ms(int(msg['T']))}  {side} {msg['q']} at {msg['p']}"
                )
    finally:
        bm.close()
    more = f" ({count - 8} more not shown)" if count > 8 else ""
    tour.show(f"{count} aggregated trade(s) in {seconds:g} s{more}; bm.close() stopped the socket")


def _depth_cache(tour: _Tour, conn: Connection, symbol: str) -> None:
    from binance.cli.book import book_status, render_book
    from binance.depthcache import DepthCacheManager

    tour.step(
        "A depth cache: the order book kept up to date locally",
        f"""
from binance.depthcache import DepthCacheManager
dcm = DepthCacheManager(client, '{symbol}', callback=process_depth)
depth_cache = dcm.get_depth_cache()
print(depth_cache.get_bids()[:5])
print(depth_cache.get_asks()[:5])""",
    )
    client = conn.client()
    updates = 0

    def process_depth(depth_cache: Any) -> None:
        nonlocal updates
        if depth_cache is not None:
            updates += 1

    # The seed's manager, as shown: it returns once the cache is synced (NOTES.md section 10).
    dcm = DepthCacheManager(client, symbol, callback=process_depth, use_decimal=True)
    try:
        # Let a few diff events land on top of the snapshot.
        time.sleep(1.0)
        cache = dcm.get_depth_cache()
        if cache is None:
            raise CommandError("the depth cache failed; see the message above")
        if not cache.synced:  # the constructor gave up waiting: say so rather than show no book
            reason = cache.transitions[-1].reason if cache.transitions else "no snapshot"
            raise CommandError(f"the depth cache did not sync: {reason}")
        with cache.lock:  # one consistent book: the status and the levels shown together
            status = book_status(
                cache,
                now_ms=client.timestamp_ms(),
                governor=client.governor,
                source=conn.label,
            )
            tour.show(render_book(cache, status, 5))
        tour.show(f"{updates} callback(s) so far; `binance book {symbol}` shows it live")
    finally:
        dcm.close()
        client.close()


def _klines(tour: _Tour, client: Any, symbol: str) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    start = "1 day ago UTC"
    tour.step(
        "Klines history, with a progress bar",
        f"""
# 1 minute klines from a day ago until now
klines = client.get_historical_klines('{symbol}', Client.KLINE_INTERVAL_1MINUTE, '{start}')
# 30 minute klines of December 2017
klines = client.get_historical_klines('ETHBTC', Client.KLINE_INTERVAL_30MINUTE,
                                      '1 Dec, 2017', '1 Jan, 2018')""",
    )
    jobs = [
        (symbol, "1m", start, None, 1441),
        ("ETHBTC", "30m", "1 Dec, 2017", "1 Jan, 2018", 1489),
    ]
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeRemainingColumn(),
        console=tour.out,
    ) as progress:
        results = []
        for sym, interval, begin, end, estimate in jobs:
            task = progress.add_task(f"{sym} {interval}", total=estimate)
            rows = []
            for row in client.get_historical_klines_generator(sym, interval, begin, end):
                rows.append(row)
                if len(rows) % 200 == 0:
                    progress.update(task, completed=len(rows))
            progress.update(task, completed=len(rows), total=max(len(rows), 1))
            results.append((sym, interval, rows))
    for sym, interval, rows in results:
        if rows:
            first, last = rows[0], rows[-1]
            tour.show(
                f"{sym} {interval}: {len(rows)} klines, {format_ms(first[0])} to "
                f"{format_ms(last[0])}; last close {last[4]}"
            )
        else:
            tour.show(f"{sym} {interval}: no klines")
    tour.show("To save history to CSV or Parquet, resumably: binance klines --help")


def _server_time(tour: _Tour, client: Any) -> None:
    tour.step("The exchange's clock", "client.get_server_time()")
    server = client.get_server_time()["serverTime"]
    tour.show(f"server time {format_ms(int(server))}")


# -- the tours -------------------------------------------------------------------------------------


def _pacing(args: argparse.Namespace) -> tuple[float, float]:
    pace = args.pace if args.pace is not None else (0.0 if args.fast else DEFAULT_PACE_S)
    trades = (
        args.trades_for if args.trades_for is not None else (1.0 if args.fast else DEFAULT_TRADES_S)
    )
    return pace, trades


def _local_tour(args: argparse.Namespace, out: Any) -> int:
    if args.testnet or args.base_url or args.stream_url or args.ws_api_url:
        raise UsageError(
            "the demo starts its own local exchange; --testnet and the --*-url options are "
            "for --live"
        )
    pace, trades = _pacing(args)
    out.print("[bold]binance demo[/]: the python-binance quick start, run on a local exchange.")
    out.print("Starting the local exchange (binance.sim.LocalExchange) in this process...")
    args.sim = True
    with Connection(args) as conn:
        ex = conn.exchange
        assert ex is not None
        out.print(f"It serves Binance's API at {ex.rest_url}; the client is created with it:")
        tour = _Tour(out, pace)
        tour.step(
            "A client",
            """
from binance.client import Client
from binance.sim import LocalExchange

ex = LocalExchange().start()      # or Client(api_key, api_secret) for Binance itself
client = Client(ex.api_key, ex.api_secret, base_url=ex.rest_url,
                stream_url=ex.stream_url, ws_api_url=ex.ws_api_url)""",
        )
        client = conn.client()
        tour.show(repr(client))
        depth = _order_book(tour, client, args.symbol)
        _test_order(tour, client, args.symbol)
        _prices(tour, client)
        _limit_order(tour, client, args.symbol, depth)
        _balances(tour, client)
        _withdraw(tour, client)
        _deposit_address(tour, client)
        _trades(tour, client, args.symbol, trades)
        _depth_cache(tour, conn, args.symbol)
        _klines(tour, client, args.symbol)
    out.print()
    out.print("[bold green]Done.[/] The local exchange has stopped. Next: `binance sim` serves it")
    out.print("for your own programs, `binance book SYMBOL --sim` shows a live order book.")
    return 0


def _live_endpoints(args: argparse.Namespace) -> None:
    """Binance's public market-data hosts unless ``--base-url`` or ``--testnet`` says otherwise
    (the steps only read market data, which is all those hosts serve)."""
    if not (args.testnet or args.base_url):
        # `Connection` pairs it with its stream host (`derive_stream_urls`), unless --stream-url.
        args.base_url = DATA_API_URL


def _live_tour(args: argparse.Namespace, out: Any) -> int:
    if args.sim:
        raise UsageError("--live talks to the real exchange: drop --sim")
    _live_endpoints(args)
    pace, trades = _pacing(args)
    # Fail fast without network: one short probe before anything else.
    args.timeout = min(args.timeout, LIVE_PROBE_TIMEOUT_S)
    with Connection(args) as conn:
        client = conn.client()
        out.print(f"[bold]binance demo --live[/]: public market data from {conn.label}")
        try:
            client.get_server_time()
        except Exception as exc:
            message = describe_error(exc, conn.label, hint=False)
            if message is None:
                raise
            raise CommandError(
                f"{message}. --live needs network access to the exchange; without it, run "
                "`binance demo` (on a local exchange) instead"
            ) from None
        tour = _Tour(out, pace)
        _server_time(tour, client)
        _order_book(tour, client, args.symbol)
        _prices(tour, client)
        _trades(tour, client, args.symbol, trades)
        _depth_cache(tour, conn, args.symbol)
        _klines(tour, client, args.symbol)
    out.print()
    out.print("[bold green]Done.[/] No keys were used: these are public market-data endpoints.")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the tour; returns the exit status."""
    out = console()
    step: Callable[[argparse.Namespace, Any], int] = _live_tour if args.live else _local_tour
    return step(args, out)
