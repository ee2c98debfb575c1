"""``binance book SYMBOL``: a live view of the top of a symbol's order book.

The book is a local depth cache kept in step with the exchange by Binance's procedure
(NOTES.md section 10: diff-depth stream + REST snapshot, `binance._depthsync.DepthSync`). The view
shows the best levels of each side with cumulative totals, the spread, and the cache's health:
its sync state, the update id, the lag between the exchange's event time and now, and the
request weight used this minute.

`render_book` is the pure part: it turns a DepthCache-like object and a `BookStatus` into a
``rich`` renderable, so the view is tested without a terminal or a network.

Note on wiring: this command keeps its own small feed (`LiveBook`: `StreamManager` depth
stream, `AsyncClient` snapshots, `DepthSync` into a `DepthCache`), written before
``binance.depthcache.AsyncDepthCacheManager`` existed; it runs the same procedure, and should
become a thin reader of that manager.

Imports only the standard library at module level (``binance --help`` stays fast).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from binance.cli._common import (
    CommandError,
    Connection,
    add_connection_options,
    console,
    format_ms,
    parse_symbol,
    positive_float,
    positive_int,
)

__all__ = ["BookStatus", "LiveBook", "register", "render_book", "run", "weight_usage"]

#: Levels shown per side by default.
DEFAULT_DEPTH = 10
#: Levels of the REST snapshot (weight 50 on Binance; deeper levels stay unknown, NOTES.md §10).
DEFAULT_SNAPSHOT_LIMIT = 1000


def register(subparsers: Any) -> None:
    """Add the ``book`` sub-command."""
    parser = subparsers.add_parser(
        "book",
        help="live view of a symbol's order book (depth cache)",
        description=(
            "Show the top of SYMBOL's order book, live, from a local depth cache kept in step "
            "with the exchange (diff-depth stream + REST snapshot), with its sync state, lag "
            "and the request weight used. Ctrl-C to quit."
        ),
    )
    parser.add_argument("symbol", type=parse_symbol, metavar="SYMBOL", help="e.g. BTCUSDT")
    parser.add_argument(
        "-n",
        "--depth",
        type=positive_int,
        default=DEFAULT_DEPTH,
        metavar="N",
        help=f"levels shown per side (default {DEFAULT_DEPTH})",
    )
    parser.add_argument(
        "--snapshot-limit",
        type=int,
        default=DEFAULT_SNAPSHOT_LIMIT,
        choices=(5, 10, 20, 50, 100, 500, 1000, 5000),
        metavar="N",
        help=f"levels per side of the REST snapshot (default {DEFAULT_SNAPSHOT_LIMIT})",
    )
    parser.add_argument(
        "--duration",
        type=positive_float,
        metavar="SECONDS",
        help="quit after this many seconds (default: run until Ctrl-C)",
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="print the book once, as soon as the cache is in sync, and quit",
    )
    parser.add_argument(
        "--refresh",
        type=positive_float,
        default=4.0,
        metavar="HZ",
        help="screen refreshes per second (default 4)",
    )
    add_connection_options(parser)
    parser.set_defaults(func=run)


# -- the pure view ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookStatus:
    """The depth cache's health, shown above the book."""

    state: str
    """``CONNECTING``, ``SYNCING``, ``SYNCED``, ``RESYNCING``, or ``STOPPED``."""
    update_id: int | None = None
    """Binance's update id the book reflects."""
    event_time_ms: int | None = None
    """Event time (``E``) of the last applied diff, exchange clock."""
    lag_ms: int | None = None
    """Now (on the exchange's clock) minus ``event_time_ms``."""
    weight_used: int | None = None
    """Request weight used in the current minute (the client's governor)."""
    weight_limit: int | None = None
    """The request-weight limit per minute in force."""
    events: int = 0
    """Diff events applied since start."""
    resyncs: int = 0
    """Times the cache was discarded and rebuilt."""
    message: str | None = None
    """The last notable thing (why it resynced, a connection problem)."""
    source: str = ""
    """Where the data comes from (the exchange's URL)."""


_STATE_STYLE = {"SYNCED": "bold green", "SYNCING": "yellow", "RESYNCING": "bold yellow"}


def _text(value: Decimal, places: int) -> str:
    return f"{value:,.{places}f}"


def _places(values: Sequence[Decimal]) -> int:
    places = 0
    for value in values:
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < 0:
            places = max(places, -exponent)
    return min(places, 12)


def render_book(cache: Any, status: BookStatus, depth: int = DEFAULT_DEPTH) -> Any:
    """The book view as a ``rich`` renderable.

    Args:
        cache: a DepthCache-like object: ``symbol`` and ``get_bids(n)``/``get_asks(n)``
            returning ``[price, quantity]`` pairs, best first (numbers or Decimal).
        status: the cache's health.
        depth: levels per side.

    Returns:
        A ``rich.console.Group``: a status line, then the asks (highest at the top), the spread,
        and the bids, each level with its cumulative quantity.
    """
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    bids = [(Decimal(str(p)), Decimal(str(q))) for p, q in cache.get_bids(depth)]
    asks = [(Decimal(str(p)), Decimal(str(q))) for p, q in cache.get_asks(depth)]
    price_places = _places([p for p, _ in bids + asks])
    qty_places = _places([q for _, q in bids + asks])

    header = Text()
    header.append(f"{cache.symbol}  ", style="bold")
    header.append(status.state, style=_STATE_STYLE.get(status.state, "bold red"))
    if status.update_id is not None:
        header.append(f"  update id {status.update_id}")
    if status.lag_ms is not None:
        header.append(f"  lag {status.lag_ms} ms")
    if status.weight_used is not None:
        limit = f"/{status.weight_limit}" if status.weight_limit else ""
        header.append(f"  weight {status.weight_used}{limit} per minute")
    details = Text(style="dim")
    if status.event_time_ms is not None:
        details.append(f"last event {format_ms(status.event_time_ms)}  ")
    details.append(f"events {status.events}  resyncs {status.resyncs}")
    if status.source:
        details.append(f"  from {status.source}")

    table = Table(box=None, pad_edge=False, show_edge=False, expand=False)
    table.add_column("side")
    table.add_column("price", justify="right")
    table.add_column("quantity", justify="right")
    table.add_column("total", justify="right")

    totals: list[Decimal] = []
    running = Decimal(0)
    for _, qty in asks:
        running += qty
        totals.append(running)
    for (price, qty), total in reversed(list(zip(asks, totals, strict=True))):
        table.add_row(
            Text("ask", style="red"),
            Text(_text(price, price_places), style="red"),
            _text(qty, qty_places),
            _text(total, qty_places),
        )
    if bids and asks:
        spread = asks[0][0] - bids[0][0]
        mid = (asks[0][0] + bids[0][0]) / 2
        pct = spread / mid * 100 if mid else Decimal(0)
        table.add_row(
            Text("spread", style="dim"),
            Text(_text(spread, price_places), style="dim"),
            Text(f"{pct:.4f}%", style="dim"),
            "",
        )
    elif not bids and not asks:
        table.add_row(Text("(no levels yet)", style="dim"), "", "", "")
    running = Decimal(0)
    for price, qty in bids:
        running += qty
        table.add_row(
            Text("bid", style="green"),
            Text(_text(price, price_places), style="green"),
            _text(qty, qty_places),
            _text(running, qty_places),
        )
    parts: list[Any] = [header, details, table]
    if status.message:
        parts.append(Text(status.message, style="yellow"))
    return Group(*parts)


def weight_usage(governor: Any, now_ms: int | None = None) -> tuple[int, int] | None:
    """``(used, limit)`` of the 1-minute request-weight budget from a client's governor.

    The governor holds the exchange's own count (``X-MBX-USED-WEIGHT-1M`` of the last answer)
    plus weight in flight, and Binance's limit (`Governor.usage`). Returns None when given
    something that is not a governor.
    """
    from binance._governor import Governor

    if not isinstance(governor, Governor):
        return None
    return governor.usage(now_ms)


# -- the live feed ---------------------------------------------------------------------------------


class LiveBook:
    """A depth cache for one symbol fed by the diff-depth stream and REST snapshots.

    Runs on the caller's event loop: ``await feed.run(stop)`` until ``stop`` is set. Read
    `cache` and `status` at any time from the same loop.

    The first snapshot is asked for as soon as the stream is subscribed (not at the first
    event), so a quiet market shows its book at once; `DepthSync` drops the events the snapshot
    already holds and resynchronises on any gap (NOTES.md section 10). A snapshot that fails for
    lack of network is retried; one the exchange refuses ends `run` with that error.

    Args:
        client: an ``AsyncClient`` (snapshots, and the stream URL).
        symbol: the symbol.
        snapshot_limit: levels per side of each snapshot.
    """

    def __init__(self, client: Any, symbol: str, snapshot_limit: int) -> None:
        from binance._depthsync import DepthSync
        from binance.depthcache import DepthCache

        self.client = client
        self.symbol = symbol
        self.snapshot_limit = snapshot_limit
        self.cache = DepthCache(symbol, use_decimal=True)
        """The book, readable with the seed's ``get_bids``/``get_asks``."""
        self.sync = DepthSync(symbol, book=self.cache.book, snapshot_limit=snapshot_limit)
        self.connected = False
        self.message: str | None = None
        self.offset_ms = 0
        """Local clock minus the exchange's (measured at start)."""
        self.synced = asyncio.Event()
        """Set whenever the cache is SYNCED."""
        self._snapshot_task: asyncio.Task[None] | None = None
        self._fatal: BaseException | None = None

    def server_now_ms(self) -> int:
        """Now, on the exchange's clock (estimated)."""
        return time.time_ns() // 1_000_000 - self.offset_ms

    def status(self, source: str = "") -> BookStatus:
        """The cache's health now."""
        sync = self.sync
        state = sync.state.value if self.connected else "CONNECTING"
        event_time = sync.last_event_time
        lag = None
        if event_time is not None and state == "SYNCED":
            lag = max(0, self.server_now_ms() - int(event_time))
        usage = weight_usage(self.client.governor, self.server_now_ms())
        return BookStatus(
            state=state,
            update_id=sync.last_update_id,
            event_time_ms=event_time,
            lag_ms=lag,
            weight_used=usage[0] if usage else None,
            weight_limit=usage[1] if usage else None,
            events=sync.events_applied,
            resyncs=sync.resyncs,
            message=self.message,
            source=source,
        )

    async def _prepare(self) -> None:
        # An unknown symbol fails here (-1121) rather than waiting for events that never come;
        # exchangeInfo also gives the governor the live rate limits.
        await self.client.get_exchange_info(symbol=self.symbol)
        sent = time.time_ns() // 1_000_000
        server = int((await self.client.get_server_time())["serverTime"])
        received = time.time_ns() // 1_000_000
        self.offset_ms = (sent + received) // 2 - server

    def _need_snapshot(self) -> None:
        if self._snapshot_task is None or self._snapshot_task.done():
            self._snapshot_task = asyncio.ensure_future(self._snapshot())

    async def _snapshot(self) -> None:
        from binance._depthsync import NeedSnapshot, SyncState
        from binance.exceptions import BinanceTransportException

        delay = 0.2
        while True:
            try:
                snap = await self.client.get_order_book(
                    symbol=self.symbol, limit=self.snapshot_limit
                )
            except BinanceTransportException as exc:
                self.message = f"snapshot failed ({exc.message}); retrying"
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            except Exception as exc:  # the exchange refused: nothing to retry
                self._fatal = exc
                return
            action = self.sync.on_snapshot(snap)
            if not isinstance(action, NeedSnapshot):
                break
            # The snapshot predates the first buffered event: newer ones are on their way.
            await asyncio.sleep(0.2)
        if self.sync.state is SyncState.SYNCED:
            self.synced.set()
            if self.message is not None:
                self.message = f"in sync again (last problem: {self.message})"

    def _feed(self, event: Any) -> None:
        from binance._depthsync import NeedSnapshot, Resync, SyncState

        if not isinstance(event, dict) or event.get("e") != "depthUpdate":
            return  # gap notices: the next event's ids reveal the gap to DepthSync
        action = self.sync.on_event(event)
        if isinstance(action, Resync):
            self.synced.clear()
            self.message = f"resynchronising: {action.reason}"
        if isinstance(action, NeedSnapshot):
            self._need_snapshot()
        elif self.sync.state is SyncState.SYNCED:
            self.synced.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the cache in step until ``stop`` is set.

        Raises:
            The exchange's refusal (unknown symbol...), or the stream's `ReconnectError` once
            reconnecting has failed; the caller reports them.
        """
        from binance.streams import StreamManager

        await self._prepare()
        manager = StreamManager(self.client)
        try:
            stream = manager.depth_socket(self.symbol, update_speed_ms=100)
            await stream.open()
            try:
                self.connected = True
                self._need_snapshot()
                while not stop.is_set():
                    if self._fatal is not None:
                        raise self._fatal
                    try:
                        event = await stream.recv(timeout=0.25)
                    except asyncio.TimeoutError:
                        continue
                    self._feed(event)
            finally:
                await stream.close()
        finally:
            task = self._snapshot_task
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            await manager.close()


# -- the command -----------------------------------------------------------------------------------


def _install_stop(stop: asyncio.Event) -> list[int]:
    loop = asyncio.get_running_loop()
    installed: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread / Windows
            pass
    return installed


async def _show(args: argparse.Namespace, conn: Connection) -> int:
    from rich.live import Live

    client = conn.async_client()
    out = console()
    stop = asyncio.Event()
    installed = _install_stop(stop)
    feed = LiveBook(client, args.symbol, args.snapshot_limit)
    runner = asyncio.ensure_future(feed.run(stop))
    try:
        if args.once:
            waiter = asyncio.ensure_future(feed.synced.wait())
            deadline = max(conn.timeout_s, 5.0) * 3
            done, _ = await asyncio.wait(
                {waiter, runner}, timeout=deadline, return_when=asyncio.FIRST_COMPLETED
            )
            waiter.cancel()
            await asyncio.gather(waiter, return_exceptions=True)
            if runner in done:
                runner.result()  # raises the feed's error
            if waiter not in done:
                raise CommandError(f"the depth cache did not sync within {deadline:g} s")
            out.print(render_book(feed.cache, feed.status(conn.label), args.depth))
            return 0
        ends = None if args.duration is None else time.monotonic() + args.duration
        with Live(
            render_book(feed.cache, feed.status(conn.label), args.depth),
            console=out,
            refresh_per_second=args.refresh,
            transient=False,
        ) as live:
            while not stop.is_set() and not runner.done():
                if ends is not None and time.monotonic() >= ends:
                    break
                live.update(render_book(feed.cache, feed.status(conn.label), args.depth))
                await asyncio.sleep(1 / args.refresh)
            live.update(render_book(feed.cache, feed.status(conn.label), args.depth))
        if runner.done():
            runner.result()
        return 0
    finally:
        stop.set()
        await asyncio.gather(runner, return_exceptions=True)
        await client.close()
        loop = asyncio.get_running_loop()
        for sig in installed:
            loop.remove_signal_handler(sig)


def run(args: argparse.Namespace) -> int:
    """Show the book until Ctrl-C, ``--duration`` or ``--once``; returns the exit status."""
    with Connection(args) as conn:
        return asyncio.run(_show(args, conn))
