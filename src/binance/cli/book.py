"""``binance book SYMBOL``: a live view of the top of a symbol's order book.

The book comes from a `binance.depthcache.AsyncDepthCacheManager`, the one place Binance's
order-book procedure lives (NOTES.md section 10: diff-depth stream + REST snapshot, resync on a
gap); this command only reads it. The view shows the best levels of each side with cumulative
totals, the spread, and the cache's health: its `DepthCacheState`, the update id, the lag between
the last applied event's time and now (on the exchange's clock), the request weight used this
minute (the client's governor), and why it last resynced.

On a terminal the view redraws in place (``rich.live.Live``). When the output is not a terminal
(a pipe, a file), each frame is printed in full after the previous one, like ``top -b``, from
the first frame with a synced book on. ``--frames N`` (and ``--once``, which is ``--frames 1``)
waits for the book to sync, shows N frames and quits, for scripts and tests.

`render_book` and `book_status` are the pure part: a DepthCache-like object and a `BookStatus`
in, a ``rich`` renderable out, so the view is tested without a terminal or a network.

Imports only the standard library at module level (``binance --help`` stays fast).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from binance.cli._common import (
    EXIT_INTERRUPTED,
    CommandError,
    Connection,
    add_connection_options,
    console,
    format_ms,
    parse_symbol,
    positive_float,
    positive_int,
)

__all__ = ["BookStatus", "book_status", "register", "render_book", "run", "weight_usage"]

#: Levels shown per side by default.
DEFAULT_DEPTH = 10
#: Levels of the REST snapshot (weight 50 on Binance; deeper levels stay unknown, NOTES.md §10).
DEFAULT_SNAPSHOT_LIMIT = 1000
#: Screen refreshes per second by default.
DEFAULT_REFRESH_HZ = 4.0
#: Seconds ``--once``/``--frames`` wait for a first sync at least (else 3x ``--timeout``).
MIN_SYNC_WAIT_S = 15.0
#: Longest pause between checks while waiting for the first sync (or for Ctrl-C).
_POLL_S = 0.05


def register(subparsers: Any) -> None:
    """Add the ``book`` sub-command."""
    parser = subparsers.add_parser(
        "book",
        help="live view of a symbol's order book (depth cache)",
        description=(
            "Show the top of SYMBOL's order book, live, from a local depth cache kept in step "
            "with the exchange (binance.depthcache.AsyncDepthCacheManager: diff-depth stream + "
            "REST snapshot), with its sync state, lag and the request weight used. Ctrl-C to "
            "quit. When the output is not a terminal, each frame is printed after the previous "
            "one, from the first synced book on."
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
    count = parser.add_mutually_exclusive_group()
    count.add_argument(
        "--once",
        action="store_true",
        help="print the book once, as soon as the cache is in sync, and quit (= --frames 1)",
    )
    count.add_argument(
        "--frames",
        type=positive_int,
        metavar="N",
        help="once the cache is in sync, show N frames (one per refresh) and quit",
    )
    parser.add_argument(
        "--refresh",
        type=positive_float,
        default=DEFAULT_REFRESH_HZ,
        metavar="HZ",
        help=f"screen refreshes per second (default {DEFAULT_REFRESH_HZ:g})",
    )
    add_connection_options(parser)
    parser.set_defaults(func=run)


# -- the pure view ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookStatus:
    """The depth cache's health, shown above the book."""

    state: str
    """The cache's `DepthCacheState` value: ``SYNCING``, ``SYNCED``, ``RESYNCING``, ``STOPPED``."""
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
    """The last notable thing (why it resynced, a snapshot being retried)."""
    source: str = ""
    """Where the data comes from (the exchange's URL)."""


_STATE_STYLE = {"SYNCED": "bold green", "SYNCING": "yellow", "RESYNCING": "bold yellow"}


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


def book_status(
    cache: Any,
    *,
    now_ms: int | None = None,
    governor: Any = None,
    source: str = "",
    note: tuple[int, str] | None = None,
) -> BookStatus:
    """The health of a `binance.depthcache.DepthCache` kept by a manager, as the view shows it.

    Everything comes from the cache itself (``state``, ``last_update_id``, ``update_time``,
    ``counters()``, ``transitions``), read under its lock so the numbers belong together.

    Args:
        cache: the depth cache.
        now_ms: now on the exchange's clock (lag and the weight minute); None: no lag shown.
        governor: the client's weight governor (``client.governor``); None: no weight shown.
        source: where the data comes from, for the status line.
        note: ``(wall-clock ms, text)`` of the latest warning about the cache (a snapshot being
            retried), shown when it is newer than the cache's last state change.

    Returns:
        The status; ``message`` says why the cache is not synced, or that it is in sync again
        after a resync.
    """
    with cache.lock:
        state = str(getattr(cache.state, "value", cache.state))
        update_id = cache.last_update_id
        event_time = cache.update_time
        counters = cache.counters()
        last = cache.transitions[-1] if cache.transitions else None
    lag = None
    if now_ms is not None and event_time is not None and state == "SYNCED":
        lag = max(0, now_ms - int(event_time))
    usage = weight_usage(governor, now_ms) if governor is not None else None
    resyncs = int(counters.get("resyncs", 0))
    message = None
    if state == "RESYNCING" and last is not None:
        message = f"resynchronising: {last.reason}"
    elif state == "STOPPED" and last is not None:
        message = f"stopped: {last.reason}"
    elif state == "SYNCED" and resyncs:
        message = f"in sync again (last resync: {counters.get('last_resync_reason')})"
    if note is not None and (last is None or note[0] >= last.time_ms):
        message = note[1]
    return BookStatus(
        state=state,
        update_id=update_id,
        event_time_ms=event_time,
        lag_ms=lag,
        weight_used=usage[0] if usage else None,
        weight_limit=usage[1] if usage else None,
        events=int(counters.get("events_applied", 0)),
        resyncs=resyncs,
        message=message,
        source=source,
    )


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
        A ``rich.console.Group``: a status line, the counters, the source, then the asks
        (highest at the top), the spread, and the bids, each level with its cumulative
        quantity, and last the status message if any.
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
    parts: list[Any] = [header, details]
    if status.source:
        # A line of its own: a live view crops lines to the terminal's width.
        parts.append(Text(f"from {status.source}", style="dim"))
    parts.append(table)
    if status.message:
        parts.append(Text(status.message, style="yellow"))
    return Group(*parts)


# -- the command -----------------------------------------------------------------------------------


class _Notes(logging.Handler):
    """Keeps the library's latest warning (a snapshot retried, a stream reconnecting) for the
    view's message line. Being a handler on ``binance`` also keeps logging's last-resort
    printer from writing over the live view."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.latest: tuple[int, str] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.latest = (int(record.created * 1000), record.getMessage())
        except Exception:  # a malformed record must not break the view
            self.handleError(record)


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


class _Screen:
    """Where frames go: redrawn in place on a terminal, appended one after another elsewhere."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.live: Any = None
        self.printed = 0
        self.last: Any = None
        if out.is_terminal:
            from rich.live import Live

            # Refreshed by us at each frame: no refresh thread of rich's own.
            self.live = Live(console=out, auto_refresh=False, transient=False)
            self.live.start()

    def show(self, frame: Any, *, counted: bool) -> None:
        """Draw ``frame``; off a terminal only ``counted`` frames (those from the first sync
        on) are printed."""
        self.last = frame
        if self.live is not None:
            self.live.update(frame, refresh=True)
        elif counted:
            if self.printed:
                self.out.print()
            self.out.print(frame)
            self.printed += 1

    def close(self, *, ended: bool) -> None:
        """Stop drawing; ``ended`` (quit by time or Ctrl-C, not an error) prints the last frame
        off a terminal if none was printed, so the output says where the cache stood."""
        if self.live is not None:
            self.live.stop()  # leaves the last frame on the screen
        elif ended and not self.printed and self.last is not None:
            self.out.print(self.last)


class _BookView:
    """The view's loop: a frame per refresh, read from the manager's cache, until done."""

    def __init__(
        self,
        args: argparse.Namespace,
        conn: Connection,
        client: Any,
        manager: Any,
        notes: _Notes,
        stop: asyncio.Event,
    ) -> None:
        self.args = args
        self.conn = conn
        self.client = client
        self.manager = manager
        self.cache = manager.caches[args.symbol]
        self.notes = notes
        self.stop = stop
        self.wanted: int | None = 1 if args.once else args.frames
        """Frames to show once synced; None: until Ctrl-C or ``--duration``."""
        self.period = 1.0 / args.refresh
        self.started = time.monotonic()
        self.ends = None if args.duration is None else self.started + args.duration
        self.sync_by = self.started + max(MIN_SYNC_WAIT_S, 3 * conn.timeout_s)
        self.in_sync = False
        """A synced frame was shown: frames count from there on (later resyncs included)."""

    def frame(self) -> Any:
        """The book and its health now, read under the cache's lock (one consistent book)."""
        now_ms = self.client.timestamp_ms()  # the exchange's clock, as sync_clock measured it
        cache = self.cache
        with cache.lock:
            status = book_status(
                cache,
                now_ms=now_ms,
                governor=self.client.governor,
                source=self.conn.label,
                note=self.notes.latest,
            )
            return render_book(cache, status, self.args.depth)

    def check_stopped(self) -> None:
        from binance.depthcache import DepthCacheState

        cache = self.cache
        if cache.state is DepthCacheState.STOPPED:
            if cache.error is not None:
                raise cache.error  # the exchange's refusal, or the stream given up
            reason = cache.transitions[-1].reason if cache.transitions else "?"
            raise CommandError(f"the depth cache stopped: {reason}")

    async def pause(self) -> str:
        """Wait for the next frame: ``"frame"``, or ``"end"`` (``--duration`` is over) or
        ``"stop"`` (Ctrl-C). Before the first sync, a synced book is shown at once."""
        due = time.monotonic() + self.period
        while not self.stop.is_set():
            now = time.monotonic()
            if self.ends is not None and now >= self.ends:
                return "end"
            if self.wanted is not None and not self.in_sync and now >= self.sync_by:
                raise CommandError(
                    f"the depth cache did not sync within {self.sync_by - self.started:g} s"
                )
            if now >= due:
                return "frame"
            if not self.in_sync:
                timeout = min(_POLL_S, due - now)
                if await self.manager.wait_synced(timeout=timeout) or self.cache.state == "STOPPED":
                    return "frame"
            else:
                try:
                    await asyncio.wait_for(self.stop.wait(), due - now)
                except asyncio.TimeoutError:
                    pass
        return "stop"

    async def run(self) -> int:
        screen = _Screen(console())
        ended = False
        try:
            shown = 0
            while True:
                self.check_stopped()
                self.in_sync = self.in_sync or self.cache.synced
                screen.show(self.frame(), counted=self.in_sync)
                shown += 1 if self.in_sync else 0
                if self.wanted is not None and shown >= self.wanted:
                    ended = True
                    return 0
                why = await self.pause()
                if why == "end":
                    ended = True
                    return 0
                if why == "stop":
                    ended = True
                    if self.wanted is not None:  # asked for N frames, interrupted before
                        sys.stderr.write(f"{self.args._parser.prog}: interrupted\n")
                        return EXIT_INTERRUPTED
                    return 0  # Ctrl-C is how the live view is meant to end
        finally:
            screen.close(ended=ended)


async def _view(args: argparse.Namespace, conn: Connection, stop: asyncio.Event) -> int:
    from binance.depthcache import AsyncDepthCacheManager

    client = conn.async_client()
    notes = _Notes()
    library_log = logging.getLogger("binance")
    library_log.addHandler(notes)
    try:
        # Measures the exchange's clock for the lag, and is the first contact: an unreachable
        # exchange fails here, before any stream is opened.
        await client.sync_clock()
        manager = AsyncDepthCacheManager(
            client, args.symbol, limit=args.snapshot_limit, use_decimal=True, update_speed_ms=100
        )
        async with manager:
            view = _BookView(args, conn, client, manager, notes, stop)
            return await view.run()
    finally:
        library_log.removeHandler(notes)
        await client.close()


async def _show(args: argparse.Namespace, conn: Connection) -> int:
    stop = asyncio.Event()
    installed = _install_stop(stop)
    try:
        return await _view(args, conn, stop)
    finally:
        loop = asyncio.get_running_loop()
        for sig in installed:
            loop.remove_signal_handler(sig)


def run(args: argparse.Namespace) -> int:
    """Show the book until Ctrl-C, ``--duration``, ``--once`` or ``--frames``; returns the exit
    status."""
    with Connection(args) as conn:
        return asyncio.run(_show(args, conn))
