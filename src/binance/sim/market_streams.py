"""Market streams of the local exchange: ``/ws``, ``/ws/<streams>`` and ``/stream?streams=...``.

Binance's market-stream server (NOTES.md §9) rebuilt over aiohttp and fed by the engine's events:

- **Names.** :func:`parse_stream` knows every documented stream name. A malformed or retired name
  (``!ticker@arr``, ``!bookTicker``) is refused like Binance refuses it: HTTP 400 at the
  handshake, ``{"error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": ...}`` for a
  live ``SUBSCRIBE``. A well-formed name for a symbol that is not listed (or not lower-case) is
  accepted and stays silent, as on Binance.
- **Control messages.** ``SUBSCRIBE``, ``UNSUBSCRIBE``, ``LIST_SUBSCRIPTIONS``, ``SET_PROPERTY``,
  ``GET_PROPERTY`` (property ``combined``) with Binance's replies and error payloads.
- **Limits.** At most 1024 streams per connection (``{"code": 4, "msg": "Too many
  subscriptions"}``), 5 incoming frames per second (pings, pongs and control messages count;
  above it the connection is closed with 1008 "Too many requests"), a ping every 20 s whose
  payload the client must echo within 60 s, and a 24-hour lifetime announced by
  ``serverShutdown`` 10 minutes before the cut. All of them are :class:`WsSettings`.
- **Fan-out.** Each engine event is rendered once per stream name, serialized once (orjson) and
  framed once; the same bytes (or the same combined wrapper) are queued for every subscriber, and
  each connection's writer sends its queue in batches (one socket write per batch). Diff depth is
  batched per 100 ms or 1000 ms, merging consecutive events so ``U``/``u`` continue exactly from
  the REST snapshot's ``lastUpdateId`` (NOTES.md §10).
- **Legacy user data.** An active listenKey (``POST /api/v3/userDataStream``) is a stream name
  too: bare user events, then ``listenKeyExpired`` (NOTES.md §11).
- **Slow consumers.** Binance does not document it; its servers drop connections that fall too far
  behind. Here each connection has a bounded outgoing queue (:attr:`WsSettings.max_queued_frames`
  and ``max_queued_bytes``); a connection that overflows it is aborted (TCP closed, no close
  frame), so one slow client never slows the others nor grows the server's memory.
- **Faults.** ``ctx.faults.streams`` (:class:`~binance.sim._stream_faults.StreamFaults`) drops,
  stalls and cuts connections and skips, duplicates or reorders diff-depth events.

:class:`WsConnection` (bounded queue, writer task, pings, lifetime, stall/drop) is shared with
the WebSocket API (``ws_api.py``). The engine is only read here, on the server's loop (engine
events raised from another thread are handed over to the loop). Must not import the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import orjson
from aiohttp import WSCloseCode, WSMsgType, web

from binance import enums
from binance.sim import _stream_payloads as payloads
from binance.sim._context import WsSettings
from binance.sim._stream_faults import (
    DEPTH_DUPLICATE,
    DEPTH_HOLD,
    DEPTH_SKIP,
    ConnectionFault,
    StreamFaults,
)
from binance.sim.engine import EngineError
from binance.sim.engine.events import (
    AggTradeEvent,
    BalanceEvent,
    BalanceUpdateEvent,
    BookTickerEvent,
    DepthEvent,
    OrderEvent,
    TradeEvent,
)

if TYPE_CHECKING:  # pragma: no cover
    from binance.sim._context import SimContext

__all__ = [
    "MarketStreams",
    "WsAdapter",
    "accept",
    "StreamSpec",
    "WsConnection",
    "WsSettings",
    "parse_stream",
]

logger = logging.getLogger(__name__)

# -- settings -------------------------------------------------------------------------------------


# -- stream names ---------------------------------------------------------------------------------

KIND_TRADE = "trade"
KIND_AGG_TRADE = "aggTrade"
KIND_BLOCK_TRADE = "blockTrade"
KIND_KLINE = "kline"
KIND_MINI_TICKER = "miniTicker"
KIND_TICKER = "ticker"
KIND_WINDOW_TICKER = "windowTicker"
KIND_BOOK_TICKER = "bookTicker"
KIND_AVG_PRICE = "avgPrice"
KIND_REFERENCE_PRICE = "referencePrice"
KIND_DEPTH = "depth"
KIND_PARTIAL_DEPTH = "partialDepth"
KIND_ALL_MINI_TICKERS = "allMiniTickers"
KIND_ALL_WINDOW_TICKERS = "allWindowTickers"
KIND_LISTEN_KEY = "listenKey"  # legacy user data stream (NOTES.md §11), keyed by account

#: The only kline time zone Binance documents for streams (NOTES.md §9).
KLINE_TIME_ZONES = ("+08:00",)
PARTIAL_DEPTH_LEVELS = (5, 10, 20)

_SIMPLE_KINDS = {
    "trade": KIND_TRADE,
    "aggTrade": KIND_AGG_TRADE,
    "blockTrade": KIND_BLOCK_TRADE,
    "miniTicker": KIND_MINI_TICKER,
    "ticker": KIND_TICKER,
    "bookTicker": KIND_BOOK_TICKER,
    "avgPrice": KIND_AVG_PRICE,
    "referencePrice": KIND_REFERENCE_PRICE,
}
_SYMBOL_RE = re.compile(r"^[^\s@/!]{1,50}$")
_PARTIAL_RE = re.compile(r"^depth(5|10|20)$")


@dataclass(frozen=True)
class StreamSpec:
    """A parsed stream name.

    Attributes:
        name: the name exactly as subscribed (the ``stream`` of combined frames).
        kind: one of the ``KIND_*`` constants.
        symbol: the exchange symbol (upper case) the name refers to; None for ``!`` streams;
            the account id for a legacy listenKey. A name whose symbol part is not lower case
            gets a symbol that never matches (Binance stays silent on such streams).
        interval: kline interval (``1m``...), else None.
        time_zone: kline time zone (``+08:00``), else None.
        window: rolling-window ticker size (``1h``, ``4h``, ``1d``), else None.
        levels: partial-depth levels (5, 10, 20), else None.
        speed_ms: push period of batched streams (depth: 100 or 1000), else 0.
    """

    name: str
    kind: str
    symbol: str | None = None
    interval: str | None = None
    time_zone: str | None = None
    window: str | None = None
    levels: int | None = None
    speed_ms: int = 0


def _symbol_of(part: str) -> str | None:
    if not _SYMBOL_RE.match(part):
        return None
    # "All symbols for streams are lowercase" (NOTES.md §9): another case never matches a symbol.
    return part.upper() if part == part.lower() else "\x00" + part


def parse_stream(name: str) -> StreamSpec:
    """Parse one stream name.

    Raises:
        ValueError: the name is not a stream Binance serves today (invalid or retired).
    """
    if not isinstance(name, str) or not name or len(name) > 200:
        raise ValueError("invalid stream")
    if name.startswith("!"):
        if name == "!miniTicker@arr":
            return StreamSpec(name, KIND_ALL_MINI_TICKERS, speed_ms=1000)
        match = re.fullmatch(r"!ticker_(1h|4h|1d)@arr", name)
        if match:
            return StreamSpec(name, KIND_ALL_WINDOW_TICKERS, window=match.group(1), speed_ms=1000)
        # !ticker@arr retired 2026-03-26, !bookTicker removed 2022-12-07 (NOTES.md §0).
        raise ValueError("invalid stream")
    parts = name.split("@")
    if len(parts) < 2 or len(parts) > 3:
        raise ValueError("invalid stream")
    symbol = _symbol_of(parts[0])
    if symbol is None:
        raise ValueError("invalid stream")
    head, tail = parts[1], parts[2] if len(parts) == 3 else None
    if tail is None and head in _SIMPLE_KINDS:
        kind = _SIMPLE_KINDS[head]
        speed = 1000 if kind in (KIND_MINI_TICKER, KIND_TICKER, KIND_AVG_PRICE) else 0
        return StreamSpec(name, kind, symbol, speed_ms=speed)
    if head.startswith("ticker_") and tail is None:
        window = head[len("ticker_") :]
        if window in enums.TICKER_WINDOWS:
            return StreamSpec(name, KIND_WINDOW_TICKER, symbol, window=window, speed_ms=1000)
        raise ValueError("invalid stream")
    if head.startswith("kline_"):
        interval = head[len("kline_") :]
        if interval not in enums.KLINE_INTERVALS:
            raise ValueError("invalid stream")
        if tail is not None and tail not in KLINE_TIME_ZONES:
            raise ValueError("invalid stream")
        speed = 1000 if interval == enums.KLINE_INTERVAL_1SECOND else 2000
        return StreamSpec(
            name, KIND_KLINE, symbol, interval=interval, time_zone=tail, speed_ms=speed
        )
    if head == "depth":
        if tail is None:
            return StreamSpec(name, KIND_DEPTH, symbol, speed_ms=1000)
        if tail == "100ms":
            return StreamSpec(name, KIND_DEPTH, symbol, speed_ms=100)
        raise ValueError("invalid stream")
    match = _PARTIAL_RE.match(head)
    if match and tail in (None, "100ms"):
        speed = 100 if tail == "100ms" else 1000
        return StreamSpec(
            name, KIND_PARTIAL_DEPTH, symbol, levels=int(match.group(1)), speed_ms=speed
        )
    raise ValueError("invalid stream")


# -- one WebSocket connection ---------------------------------------------------------------------

_SEND_FRAME = hasattr(web.WebSocketResponse, "send_frame")  # aiohttp >= 3.11


def frame(data: bytes) -> bytes:
    """``data`` as one unmasked, uncompressed RFC 6455 text frame (server to client).

    Stream payloads are framed once and the same bytes queued for every subscriber.
    """
    length = len(data)
    if length < 126:
        return bytes((0x81, length)) + data
    if length < 65536:
        return b"\x81\x7e" + length.to_bytes(2, "big") + data
    return b"\x81\x7f" + length.to_bytes(8, "big") + data


def _unframe(framed: bytes) -> bytes:
    """The payload of a frame built by :func:`frame`."""
    marker = framed[1]
    return framed[2 + (2 if marker == 126 else 8 if marker == 127 else 0) :]


# Socket write buffer marks for the batched writer, and the size of one batch.
_WRITE_HIGH = 256 * 1024
_WRITE_LOW = 64 * 1024
_BATCH_BYTES = 64 * 1024


async def accept(ws: web.WebSocketResponse, request: web.Request) -> bool:
    """Complete the WebSocket handshake of ``request``; False if the client is already gone.

    A client that hangs up during the handshake is ordinary (a closed tab, a cancelled connect,
    a health check): it is logged at debug, never as a server error, and the connection is
    closed; the handler then returns any response (aiohttp drops it quietly).
    """
    try:
        await ws.prepare(request)
    except ConnectionError as exc:  # aiohttp's ClientConnectionResetError is one
        logger.debug(
            "client %s left during the %s handshake: %r", request.remote, request.path, exc
        )
        transport = request.transport
        if transport is not None:
            transport.close()
        return False
    return True


class WsConnection:
    """One server-side WebSocket: a bounded outgoing queue drained by a writer task, Binance's
    ping/pong rule, the lifetime cut and the connection faults. Shared by both adapters.

    Frames are queued with :meth:`send` from anywhere on the loop (engine callbacks included) and
    never block; a connection whose queue exceeds the limits is aborted.

    Args:
        ws: the prepared aiohttp WebSocket.
        request: its HTTP request (for the transport and the peer address).
        settings: the adapter's live settings.
        kind: ``"streams"`` or ``"ws_api"`` (which faults apply).
        now_ms: the server clock (event times).
    """

    def __init__(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        settings: WsSettings,
        kind: str,
        now_ms: Callable[[], int],
    ) -> None:
        self.ws = ws
        self.request = request
        self.settings = settings
        self.kind = kind
        self.peer = request.remote or "127.0.0.1"
        self.closed = False
        """True once the connection is closing or gone; sends are ignored."""
        self._loop = asyncio.get_running_loop()
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        self._max_frames = settings.max_queued_frames
        self._max_bytes = settings.max_queued_bytes
        self._control: deque[tuple[WSMsgType, bytes]] = deque()
        self._wake = asyncio.Event()
        self._stalled_until = 0.0
        self._unstalled = asyncio.Event()
        self._unstalled.set()
        self._pings: deque[tuple[bytes, float]] = deque()
        self._now_ms = now_ms
        self._handles: list[asyncio.TimerHandle] = []
        self._writer = self._loop.create_task(self._write_loop())
        self._closer: asyncio.Task[None] | None = None
        self._aborted = False
        self.close_reason = ""
        """Why the server ended the connection (``""`` when the client did)."""
        now = self._loop.time()
        self.opened_at = now
        self._schedule_lifetime(now)
        self._next_ping_at = now + settings.ping_interval_s
        self._handles.append(self._loop.call_at(self._next_ping_at, self._ping))

    # -- sending -------------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Queue one text frame of JSON bytes. Never blocks; drops the connection on overflow."""
        self.send_framed(frame(data))

    def send_framed(self, framed: bytes) -> None:
        """Queue a frame already built by :func:`frame` (shared by every subscriber)."""
        if self.closed:
            return
        queue = self._queue
        queue.append(framed)
        self._queued_bytes += len(framed)
        if self._queued_bytes > self._max_bytes or len(queue) > self._max_frames:
            logger.info(
                "dropping slow %s client %s: %d frames queued", self.kind, self.peer, len(queue)
            )
            self.abort("slow consumer")
            return
        if not self._wake.is_set():
            self._wake.set()

    @property
    def queued(self) -> int:
        """Frames waiting to be written."""
        return len(self._queue)

    def _send_control(self, opcode: WSMsgType, payload: bytes) -> None:
        if self.closed:
            return
        self._control.append((opcode, payload))
        if not self._wake.is_set():
            self._wake.set()

    async def _write_loop(self) -> None:
        ws = self.ws
        queue = self._queue
        control = self._control
        # Without permessage-deflate, queued frames are framed here and written in batches:
        # one transport write per batch instead of one syscall per frame (the fan-out's cost).
        raw = self.request.transport if not ws.compress else None
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while queue or control:
                    if self._stalled_until and not self.closed:
                        break  # _unstall() wakes us again
                    if control:
                        opcode, payload = control.popleft()
                        if opcode is WSMsgType.PING:
                            await ws.ping(payload)
                        else:
                            await ws.pong(payload)
                        continue
                    if raw is not None:
                        if raw.is_closing():
                            return
                        raw.write(self._take_batch())
                        if raw.get_write_buffer_size() > _WRITE_HIGH:
                            await self._wait_writable(raw)
                        continue
                    framed = queue.popleft()
                    self._queued_bytes -= len(framed)
                    data = _unframe(framed)  # aiohttp frames (and compresses) it again
                    if _SEND_FRAME:
                        await ws.send_frame(data, WSMsgType.TEXT)
                    else:  # pragma: no cover - aiohttp < 3.11
                        await ws.send_str(data.decode())
                if self.closed:
                    return  # drained: a pending close may go ahead
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            # The peer went away or the socket is closing; the reader side cleans up.
            pass
        except Exception:  # pragma: no cover - a bug: log it, drop the connection
            logger.exception("stream writer failed")
            self.abort("internal error")

    def _take_batch(self) -> bytes:
        """Pop queued frames, up to about 64 KiB, as one buffer."""
        queue = self._queue
        parts: list[bytes] = []
        size = 0
        while queue and size < _BATCH_BYTES:
            framed = queue.popleft()
            parts.append(framed)
            size += len(framed)
        self._queued_bytes -= size
        return b"".join(parts)

    async def _wait_writable(self, transport: asyncio.WriteTransport) -> None:
        """Wait until the socket buffer drained below the low mark (the client reads slowly;
        meanwhile frames pile up in the bounded queue)."""
        while (
            transport.get_write_buffer_size() > _WRITE_LOW
            and not transport.is_closing()
            and not self._aborted
        ):
            await asyncio.sleep(0.005)

    # -- pings, lifetime ------------------------------------------------------------------------

    def _ping(self) -> None:
        """Timer: ping every ``ping_interval_s``; disconnect when the oldest ping is unanswered
        after ``pong_timeout_s`` (NOTES.md §9: every 20 s, a minute to answer)."""
        if self.closed:
            return
        now = self._loop.time()
        settings = self.settings
        pings = self._pings
        if pings and now - pings[0][1] > settings.pong_timeout_s:
            self.close_soon(WSCloseCode.POLICY_VIOLATION, "Pong timeout")
            return
        if now >= self._next_ping_at:
            self._next_ping_at = now + settings.ping_interval_s
            if not self._stalled_until:  # a stalled server sends nothing, pings included
                payload = str(int(now * 1000)).encode()
                pings.append((payload, now))
                self._send_control(WSMsgType.PING, payload)
        wake_at = self._next_ping_at
        if pings:
            wake_at = min(wake_at, pings[0][1] + settings.pong_timeout_s + 0.001)
        self._handles.append(self._loop.call_at(wake_at, self._ping))
        self._prune_handles()

    def pong_received(self, payload: bytes) -> None:
        """A pong arrived; it counts only if it echoes an outstanding ping (unsolicited pongs
        do not keep the connection alive)."""
        for index, (sent, _) in enumerate(self._pings):
            if sent == payload:
                for _ in range(index + 1):
                    self._pings.popleft()
                return

    def ping_received(self, payload: bytes) -> None:
        """Answer a client's ping (unless stalled: a stalled server answers nothing)."""
        if not self._stalled_until:
            self._send_control(WSMsgType.PONG, payload)

    def _schedule_lifetime(self, now: float) -> None:
        settings = self.settings
        notice_at = max(0.0, settings.lifetime_s - settings.shutdown_notice_s)
        if settings.shutdown_notice_s > 0:
            self._handles.append(self._loop.call_later(notice_at, self._notice))
        self._handles.append(
            self._loop.call_later(
                settings.lifetime_s,
                self.close_soon,
                WSCloseCode.GOING_AWAY,
                "Connection lifetime reached",
            )
        )

    def shutdown_frame(self) -> bytes:
        """The ``serverShutdown`` message (WebSocket API form: ``{"event": {...}}``)."""
        return b'{"event":' + orjson.dumps(payloads.server_shutdown(self._now_ms())) + b"}"

    def _notice(self) -> None:
        if not self.closed:
            self.send(self.shutdown_frame())

    def shutdown(self, notice_s: float) -> None:
        """Announce ``serverShutdown`` now and cut the connection after ``notice_s``."""
        self._notice()
        self._handles.append(
            self._loop.call_later(
                notice_s, self.close_soon, WSCloseCode.GOING_AWAY, "Server shutdown"
            )
        )

    def _prune_handles(self) -> None:
        if len(self._handles) > 16:
            self._handles = [
                h for h in self._handles if not h.cancelled() and h.when() > self._loop.time()
            ]

    # -- faults ---------------------------------------------------------------------------------

    def stall(self, seconds: float) -> None:
        """Go silent for ``seconds``: no frames, no pings, no pongs, control messages wait."""
        if self.closed:
            return
        until = self._loop.time() + seconds
        if until > self._stalled_until:
            self._stalled_until = until
            self._unstalled.clear()
            self._handles.append(self._loop.call_at(until, self._unstall, until))

    def _unstall(self, until: float) -> None:
        if self._stalled_until != until:
            return  # a longer stall replaced this one
        self._stalled_until = 0.0
        # pings unanswered because we were silent do not count against the client
        self._pings.clear()
        self._unstalled.set()
        self._wake.set()

    @property
    def stalled(self) -> bool:
        """True while a stall fault holds the connection."""
        return bool(self._stalled_until)

    async def wait_unstalled(self) -> None:
        """Return once no stall holds the connection."""
        await self._unstalled.wait()

    def apply_fault(self, fault: ConnectionFault, faults: StreamFaults) -> None:
        """Apply one connection fault (drop, stall or shutdown)."""
        if self.closed:
            return
        faults._count(fault.kind)
        if fault.kind == "drop":
            self.abort("fault: drop")
        elif fault.kind == "stall":
            self.stall(fault.seconds)
        elif fault.kind == "shutdown":
            self.shutdown(fault.seconds)

    # -- closing --------------------------------------------------------------------------------

    def abort(self, reason: str) -> None:
        """Close the TCP connection at once, with no close frame; queued frames are lost."""
        if self._aborted:
            return
        self._aborted = True
        if not self.close_reason:
            self.close_reason = reason
        self._mark_closed()
        self._queue.clear()
        self._control.clear()
        self._queued_bytes = 0
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    def close_soon(self, code: int, reason: str) -> None:
        """Send what is queued, then close with ``code``; abort if that takes too long."""
        if self.closed:
            return
        self.close_reason = reason
        self._mark_closed()
        self._closer = self._loop.create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        timeout = self.settings.close_timeout_s
        try:
            await asyncio.wait_for(asyncio.shield(self._writer), timeout)
            await asyncio.wait_for(self.ws.close(code=code, message=reason.encode()), timeout)
        except (asyncio.TimeoutError, ConnectionError, RuntimeError):
            self.abort(reason)

    def _mark_closed(self) -> None:
        """No new frames, no timers; the writer drains what is queued and stops."""
        self.closed = True
        for handle in self._handles:
            handle.cancel()
        self._handles.clear()
        self._unstalled.set()
        self._wake.set()

    async def finish(self) -> None:
        """Release everything (call when the reader loop ended)."""
        self._mark_closed()
        if self._closer is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._closer
        if not self._writer.done():
            self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._writer


# -- per-connection incoming rate ---------------------------------------------------------------


class _IncomingRate:
    """Counts incoming frames over the last second (NOTES.md §9: at most 5 per second)."""

    __slots__ = ("_times",)

    def __init__(self) -> None:
        self._times: deque[float] = deque()

    def admit(self, now: float, limit: int) -> bool:
        times = self._times
        while times and now - times[0] >= 1.0:
            times.popleft()
        if len(times) >= limit:
            return False
        times.append(now)
        return True


# -- topics -------------------------------------------------------------------------------------


class _Topic:
    """One stream name and its subscribers; publishes the same bytes to all of them."""

    __slots__ = ("spec", "subscribers", "_subs", "_prefix", "key")

    def __init__(self, spec: StreamSpec) -> None:
        self.spec = spec
        self.subscribers: dict[_StreamConnection, None] = {}
        self._subs: tuple[_StreamConnection, ...] = ()
        self._prefix = b'{"stream":' + orjson.dumps(spec.name) + b',"data":'
        self.key: tuple[str, str | None, Any] = _topic_key(spec)

    def add(self, conn: _StreamConnection) -> None:
        self.subscribers[conn] = None
        self._subs = tuple(self.subscribers)

    def remove(self, conn: _StreamConnection) -> None:
        self.subscribers.pop(conn, None)
        self._subs = tuple(self.subscribers)

    def publish(self, raw: bytes) -> None:
        """Send ``raw`` (a serialized payload) to every subscriber, wrapped for combined ones.

        Each variant is wrapped and framed at most once; subscribers share the bytes.
        """
        plain = combined = None
        for conn in self._subs:
            if conn.combined:
                if combined is None:
                    combined = frame(self._prefix + raw + b"}")
                conn.send_framed(combined)
            else:
                if plain is None:
                    plain = frame(raw)
                conn.send_framed(plain)


def _topic_key(spec: StreamSpec) -> tuple[str, str | None, Any]:
    """What the publishers look topics up by: (kind, symbol, variant)."""
    variant: Any = None
    if spec.kind == KIND_KLINE:
        variant = (spec.interval, spec.time_zone)
    elif spec.kind in (KIND_WINDOW_TICKER, KIND_ALL_WINDOW_TICKERS):
        variant = spec.window
    elif spec.kind == KIND_DEPTH:
        variant = spec.speed_ms
    elif spec.kind == KIND_PARTIAL_DEPTH:
        variant = (spec.levels, spec.speed_ms)
    return (spec.kind, spec.symbol, variant)


class _StreamConnection(WsConnection):
    """A market-stream connection: its subscriptions and its ``combined`` property."""

    def __init__(self, *args: Any, combined: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.combined = combined
        self.topics: dict[str, _Topic] = {}
        self.rate = _IncomingRate()

    def shutdown_frame(self) -> bytes:
        """``serverShutdown``: bare, or wrapped as stream ``!serverShutdown`` when combined."""
        raw = orjson.dumps(payloads.server_shutdown(self._now_ms()))
        if self.combined:
            return b'{"stream":"!serverShutdown","data":' + raw + b"}"
        return raw


# -- diff-depth batches -----------------------------------------------------------------------


class _DepthBatch:
    """Diff-depth changes of one symbol for one push period, merged (NOTES.md §10)."""

    __slots__ = ("first", "last", "bids", "asks", "held")

    def __init__(self) -> None:
        self.first = 0
        self.last = 0
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.held: bytes | None = None  # a reordered event waiting for the next one

    def add(self, event: DepthEvent) -> None:
        if not self.first:
            self.first = event.first_update_id
        self.last = event.last_update_id
        bids, asks = self.bids, self.asks
        for price, qty in event.bids:
            bids[price] = qty
        for price, qty in event.asks:
            asks[price] = qty

    def take(self) -> tuple[int, int, list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        out = (
            self.first,
            self.last,
            sorted(self.bids.items(), reverse=True),
            sorted(self.asks.items()),
        )
        self.first = self.last = 0
        self.bids = {}
        self.asks = {}
        return out


# -- control-message errors (NOTES.md §9) --------------------------------------------------------

_METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
_PROPERTIES = ("combined",)
_ID_RE = re.compile(r"^[A-Za-z0-9]{1,36}$")
_INT64 = (-(2**63), 2**63 - 1)


class _ControlError(Exception):
    def __init__(self, code: int, msg: str, request_id: Any = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.request_id = request_id


def _json_position(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, column


def _end_position(text: str) -> tuple[int, int]:
    # serde reports the column of the last character it consumed
    return _json_position(text, len(text.rstrip()) - 1)


def _valid_id(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return _INT64[0] <= value <= _INT64[1]
    if isinstance(value, str):
        return bool(_ID_RE.match(value))
    return False


def _parse_control(text: str) -> tuple[Any, str, list[Any] | None]:
    """``(id, method, params)`` of a control message, or raise ``_ControlError``."""
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        line, column = _json_position(text, getattr(exc, "pos", 0) or 0)
        raise _ControlError(
            3, f"Invalid JSON: expected value at line {line} column {column}"
        ) from None
    if not isinstance(doc, dict):
        line, column = _end_position(text)
        raise _ControlError(
            2, f"Invalid request: expected a JSON object at line {line} column {column}"
        )
    request_id = doc.get("id")
    if not _valid_id(request_id):
        raise _ControlError(2, "Invalid request: request ID must be an unsigned integer")
    if "method" not in doc:
        line, column = _end_position(text)
        raise _ControlError(
            2, f"Invalid request: missing field `method` at line {line} column {column}", request_id
        )
    method = doc["method"]
    if method not in _METHODS:
        shown = method if isinstance(method, str) else orjson.dumps(method).decode()
        pos = text.find(orjson.dumps(method).decode())
        end = pos + len(orjson.dumps(method)) - 1 if pos >= 0 else 0
        line, column = _json_position(text, end)
        expected = ", ".join(f"`{m}`" for m in _METHODS)
        raise _ControlError(
            2,
            f"Invalid request: unknown variant `{shown}`, expected one of {expected} "
            f"at line {line} column {column}",
            request_id,
        )
    params = doc.get("params")
    if params is not None and not isinstance(params, list):
        raise _ControlError(2, "Invalid request: params must be an array", request_id)
    return request_id, method, params


# -- the adapters ---------------------------------------------------------------------------------


class WsAdapter:
    """What the market streams and the WebSocket API share: live settings, the open
    connections, connection faults, engine events handed over to the server's loop, one
    background task, and an orderly close.

    Subclasses set ``fault_target`` and provide ``routes()``, ``_background()`` (the task,
    started with the first connection) and ``_handle_event(event)`` (on the server's loop).

    Args:
        ctx: the server's shared context (engine, keys, limits, faults, config, clock).
        settings: limits and timers; default ``WsSettings.from_config(ctx.config)``.
    """

    #: Which connection faults apply here (``ConnectionFault.applies_to``).
    fault_target = "all"

    def __init__(self, ctx: SimContext, settings: WsSettings | None = None) -> None:
        self.ctx = ctx
        self.settings = settings if settings is not None else WsSettings.from_config(ctx.config)
        """Live limits and timers (changes apply to later connections and messages)."""
        self.connections: set[Any] = set()
        """Open connections."""
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._detach_faults: Callable[[], None] | None = None
        self._closing = False
        self._unsubscribe_events = ctx.exchange.events.subscribe(self._on_event)

    def routes(self) -> list[web.RouteDef]:  # pragma: no cover - every subclass has routes
        raise NotImplementedError

    async def close(self) -> None:
        """Close every connection (1001 going away) and stop listening to the engine."""
        self._closing = True
        self._unsubscribe_events()
        if self._detach_faults is not None:
            self._detach_faults()
            self._detach_faults = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        conns = list(self.connections)
        for conn in conns:
            conn.close_soon(WSCloseCode.GOING_AWAY, "Server shutdown")
        for conn in conns:
            await conn.finish()

    @property
    def faults(self) -> StreamFaults:
        """The stream faults of the server (``ctx.faults.streams``)."""
        return self.ctx.faults.streams

    def _ensure_started(self) -> None:
        if self._task is None:
            loop = asyncio.get_running_loop()
            self._loop = loop
            self._loop_thread = threading.get_ident()
            self._task = loop.create_task(self._background())
            self._detach_faults = self.faults._attach(loop, self._apply_fault)

    async def _background(self) -> None:  # pragma: no cover - every subclass has one
        raise NotImplementedError

    def _apply_fault(self, fault: ConnectionFault) -> None:
        if not fault.applies_to(self.fault_target):
            return
        for conn in list(self.connections):
            conn.apply_fault(fault, self.faults)

    def _random_faults(self) -> None:
        """Draw this second's random connection faults (``StreamFaults.set_random``)."""
        faults = self.faults
        if not self.connections:
            return
        conns = list(self.connections)
        for index, fault in faults._random_connection_faults(len(conns)):
            conns[index].apply_fault(fault, faults)

    def _on_event(self, event: object) -> None:
        loop = self._loop
        if loop is None:
            return  # no connection was ever opened: nobody to tell
        if threading.get_ident() != self._loop_thread:
            # the engine was called from another thread: handle it on the server's loop
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._on_event, event)
            return
        try:
            self._handle_event(event)
        except Exception:  # pragma: no cover - a bug must not break the engine call
            logger.exception("%s failed to handle %s", type(self).__name__, type(event).__name__)

    def _handle_event(self, event: object) -> None:  # pragma: no cover - see subclasses
        raise NotImplementedError


class MarketStreams(WsAdapter):
    """The market-stream routes of the local exchange, fed by the engine's event log.

    Args:
        ctx: the server's shared context (engine, config, faults, clock).
        settings: limits and timers; default ``WsSettings.from_config(ctx.config)``.
    """

    fault_target = "streams"

    def __init__(self, ctx: SimContext, settings: WsSettings | None = None) -> None:
        self._topics: dict[str, _Topic] = {}
        self._by_key: dict[tuple[str, str | None, Any], _Topic] = {}
        # event-driven topics by (kind, symbol): trade, aggTrade, bookTicker
        self._depth_batches: dict[tuple[str, int], _DepthBatch] = {}
        self._changed_symbols: set[str] = set()
        self._user_topics: dict[str, list[_Topic]] = {}  # account id -> listenKey topics
        self._klines_sent: dict[tuple[str, str, str | None], int] = {}
        self.published = 0
        """Frames handed to connections so far (for benchmarks)."""
        super().__init__(ctx, settings)
        self.connections: set[_StreamConnection] = set()

    # -- routes ---------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """``/ws``, ``/ws/{streams}`` and ``/stream`` (aiohttp route definitions)."""
        return [
            web.get("/ws", self._handle_raw),
            web.get("/ws/{streams:.*}", self._handle_raw),
            web.get("/stream", self._handle_combined),
        ]

    # -- connection handling ----------------------------------------------------------------------

    async def _handle_raw(self, request: web.Request) -> web.StreamResponse:
        raw = request.match_info.get("streams", "")
        names = [n for n in raw.split("/") if n] if raw else []
        return await self._serve(request, names, combined=False)

    async def _handle_combined(self, request: web.Request) -> web.StreamResponse:
        # Read the raw query: "+" in "@+08:00" is a plus here, not a form-encoded space.
        raw = ""
        for pair in request.rel_url.raw_query_string.split("&"):
            key, _, value = pair.partition("=")
            if unquote(key) == "streams":
                raw = unquote(value)
        names = [n for n in raw.split("/") if n] if raw else []
        return await self._serve(request, names, combined=True)

    async def _serve(
        self, request: web.Request, names: list[str], combined: bool
    ) -> web.StreamResponse:
        if self._closing:
            raise web.HTTPServiceUnavailable(text="Server shutdown")
        settings = self.settings
        try:
            specs = [self._parse(n) for n in dict.fromkeys(names)]
        except ValueError:
            raise web.HTTPBadRequest(text="Invalid request") from None
        if len(specs) > settings.max_streams:
            raise web.HTTPBadRequest(text="Too many subscriptions")
        self._ensure_started()
        ws = web.WebSocketResponse(
            autoping=False,
            timeout=settings.close_timeout_s,
            max_msg_size=settings.max_message_bytes,
        )
        if not await accept(ws, request):
            return web.Response()  # never delivered: the connection is closed
        conn = _StreamConnection(
            ws, request, settings, "streams", self.ctx.now_ms, combined=combined
        )
        self.connections.add(conn)
        for spec in specs:
            self._subscribe(conn, spec)
        try:
            await self._read_loop(conn)
        finally:
            self.connections.discard(conn)
            for topic in list(conn.topics.values()):
                self._unsubscribe(conn, topic)
            await conn.finish()
        return ws

    async def _read_loop(self, conn: _StreamConnection) -> None:
        ws = conn.ws
        loop = asyncio.get_running_loop()
        while not conn.closed:
            msg = await ws.receive()
            kind = msg.type
            if kind in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                break
            # NOTES.md §9: pings, pongs and control messages all count towards 5/s.
            if not conn.rate.admit(loop.time(), self.settings.max_incoming_per_s):
                conn.close_soon(WSCloseCode.POLICY_VIOLATION, "Too many requests")
                break
            if kind is WSMsgType.PING:
                conn.ping_received(msg.data)
            elif kind is WSMsgType.PONG:
                conn.pong_received(msg.data)
            elif kind is WSMsgType.TEXT:
                if conn.stalled:
                    await conn.wait_unstalled()
                self._control(conn, msg.data)
            elif kind is WSMsgType.BINARY:
                if conn.stalled:
                    await conn.wait_unstalled()
                self._control(conn, msg.data.decode("utf-8", "replace"))

    # -- control messages -------------------------------------------------------------------------

    def _control(self, conn: _StreamConnection, text: str) -> None:
        request_id: Any = None
        try:
            request_id, method, params = _parse_control(text)
            result = self._run_control(conn, method, params)
        except _ControlError as exc:
            error_id = exc.request_id if exc.request_id is not None else request_id
            conn.send(orjson.dumps({"error": {"code": exc.code, "msg": exc.msg}, "id": error_id}))
            return
        conn.send(orjson.dumps({"result": result, "id": request_id}))

    def _run_control(self, conn: _StreamConnection, method: str, params: list[Any] | None) -> Any:
        if method == "SUBSCRIBE" or method == "UNSUBSCRIBE":
            if not params:
                raise _ControlError(2, "Invalid request: missing field `params`")
            specs = []
            for name in params:
                try:
                    specs.append(self._parse(name))
                except ValueError:
                    raise _ControlError(2, "Invalid request: invalid stream") from None
            if method == "SUBSCRIBE":
                new = {s.name for s in specs} - set(conn.topics)
                if len(conn.topics) + len(new) > self.settings.max_streams:
                    raise _ControlError(4, "Too many subscriptions")
                for spec in specs:
                    self._subscribe(conn, spec)
            else:
                for spec in specs:
                    topic = conn.topics.get(spec.name)
                    if topic is not None:
                        self._unsubscribe(conn, topic)
            return None
        if method == "LIST_SUBSCRIPTIONS":
            if params:
                raise _ControlError(2, "Invalid request: too many parameters")
            return list(conn.topics)
        # SET_PROPERTY / GET_PROPERTY
        expected = 2 if method == "SET_PROPERTY" else 1
        if not params:
            raise _ControlError(2, "Invalid request: missing field `params`")
        if len(params) > expected:
            raise _ControlError(2, "Invalid request: too many parameters")
        name = params[0]
        if not isinstance(name, str):
            raise _ControlError(2, "Invalid request: property name must be a string")
        if name not in _PROPERTIES:
            raise _ControlError(0, "Unknown property")
        if method == "GET_PROPERTY":
            return conn.combined
        if len(params) < 2 or not isinstance(params[1], bool):
            raise _ControlError(1, "Invalid value type: expected Boolean")
        conn.combined = params[1]
        return None

    # -- subscriptions ----------------------------------------------------------------------------

    def _parse(self, name: Any) -> StreamSpec:
        """A market stream name, or an active legacy listenKey (NOTES.md §11)."""
        try:
            return parse_stream(name)
        except ValueError:
            account = self._listen_key_account(name)
            if account is None:
                raise
            return StreamSpec(name, KIND_LISTEN_KEY, symbol=account)

    def _listen_key_account(self, name: Any) -> str | None:
        keys = self.ctx.listen_keys
        if keys is None or not isinstance(name, str) or not name.isalnum():
            return None
        return keys.account_for(name, self.ctx.now_ms())

    def on_listen_keys_expired(self, expired: list[tuple[str, str]]) -> None:
        """Legacy listenKeys ran out: send ``listenKeyExpired`` and nothing more on them
        (NOTES.md §11). Called by the server's clock on its loop."""
        now = self.ctx.now_ms()
        for key, _account in expired:
            topic = self._topics.get(key)
            if topic is None or topic.spec.kind != KIND_LISTEN_KEY:
                continue
            self._publish(topic, payloads.listen_key_expired(key, now))
            for conn in list(topic.subscribers):
                self._unsubscribe(conn, topic)

    def _subscribe(self, conn: _StreamConnection, spec: StreamSpec) -> None:
        if spec.name in conn.topics:
            return
        topic = self._topics.get(spec.name)
        if topic is None:
            topic = _Topic(spec)
            self._topics[spec.name] = topic
            self._by_key.setdefault(topic.key, topic)
            if spec.kind == KIND_DEPTH and spec.symbol:
                self._depth_batches.setdefault((spec.symbol, spec.speed_ms), _DepthBatch())
            if spec.kind == KIND_LISTEN_KEY and spec.symbol:
                self._user_topics.setdefault(spec.symbol, []).append(topic)
        topic.add(conn)
        conn.topics[spec.name] = topic

    def _unsubscribe(self, conn: _StreamConnection, topic: _Topic) -> None:
        topic.remove(conn)
        conn.topics.pop(topic.spec.name, None)
        if topic.subscribers:
            return
        del self._topics[topic.spec.name]
        if self._by_key.get(topic.key) is topic:
            del self._by_key[topic.key]
        spec = topic.spec
        if spec.kind == KIND_DEPTH and spec.symbol and self._by_key.get(topic.key) is None:
            self._depth_batches.pop((spec.symbol, spec.speed_ms), None)
        if spec.kind == KIND_LISTEN_KEY and spec.symbol:
            topics = self._user_topics.get(spec.symbol, [])
            if topic in topics:
                topics.remove(topic)
            if not topics:
                self._user_topics.pop(spec.symbol, None)
        if spec.kind == KIND_KLINE and spec.symbol:
            self._klines_sent.pop((spec.symbol, spec.interval or "", spec.time_zone), None)

    # -- engine events (called synchronously inside engine calls, on the loop) -------------------

    def _handle_event(self, event: object) -> None:
        by_key = self._by_key
        if isinstance(event, (OrderEvent, BalanceEvent, BalanceUpdateEvent)):
            if self._user_topics:
                self._publish_user(event)
            return
        if isinstance(event, DepthEvent):
            symbol = event.symbol
            if not by_key:
                return
            for speed in (100, 1000):
                batch = self._depth_batches.get((symbol, speed))
                if batch is not None:
                    batch.add(event)
            return
        if isinstance(event, TradeEvent):
            # NOTES.md §9: the ticker arrays carry the symbols whose ticker changed (traded).
            self._changed_symbols.add(event.symbol)
            topic = by_key.get((KIND_TRADE, event.symbol, None)) if by_key else None
            if topic is not None:
                self._publish(topic, payloads.trade(event, self.ctx.now_ms()))
        elif isinstance(event, AggTradeEvent):
            topic = by_key.get((KIND_AGG_TRADE, event.symbol, None)) if by_key else None
            if topic is not None:
                self._publish(topic, payloads.agg_trade(event, self.ctx.now_ms()))
        elif isinstance(event, BookTickerEvent):
            topic = by_key.get((KIND_BOOK_TICKER, event.symbol, None)) if by_key else None
            if topic is not None:
                self._publish(topic, payloads.book_ticker(event))

    def _publish_user(self, event: OrderEvent | BalanceEvent | BalanceUpdateEvent) -> None:
        topics = self._user_topics.get(event.account_id)
        if not topics:
            return
        raw = payloads.dumps(payloads.user_event(event))
        for topic in list(topics):
            # a key closed with DELETE /api/v3/userDataStream stops its stream at once
            if self._listen_key_account(topic.spec.name) is None:
                continue
            self._publish(topic, raw)

    def _publish(self, topic: _Topic, payload: object) -> None:
        raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        self.published += len(topic.subscribers)
        topic.publish(raw)

    # -- the pump: batched and periodic streams ---------------------------------------------------

    async def _background(self) -> None:
        """Every tick (100 ms): flush diff depth and push the periodic streams that are due;
        every second of wall time: draw the random connection faults."""
        loop = asyncio.get_running_loop()
        tick = 0
        next_at = loop.time()
        next_faults = next_at + 1.0
        while True:
            next_at += max(0.001, self.settings.stream_tick_ms / 1000.0)
            delay = next_at - loop.time()
            if delay < -1.0:  # the loop was blocked: do not replay missed ticks
                next_at = loop.time()
                delay = 0.0
            await asyncio.sleep(max(0.0, delay))
            tick += 1
            try:
                self._tick(tick)
                if loop.time() >= next_faults:
                    next_faults += 1.0
                    self._random_faults()
            except Exception:  # pragma: no cover - a bug: log it, keep streaming
                logger.exception("market stream pump failed")

    def _tick(self, tick: int) -> None:
        if not self._topics:
            if tick % 10 == 0:
                self._changed_symbols.clear()
            return
        now = self.ctx.now_ms()
        self._flush_depth(100, now)
        self._push_partial(100)
        if tick % 10 == 0:
            self._flush_depth(1000, now)
            self._push_partial(1000)
            self._push_tickers(now)
            self._push_klines(now, every_2s=tick % 20 == 0)
            self._changed_symbols.clear()

    def _flush_depth(self, speed: int, now: int) -> None:
        faults = self.faults
        for (symbol, batch_speed), batch in self._depth_batches.items():
            if batch_speed != speed:
                continue
            topic = self._by_key.get((KIND_DEPTH, symbol, speed))
            if topic is None:
                continue
            if not batch.first:
                continue
            first, last, bids, asks = batch.take()
            raw = orjson.dumps(payloads.depth_update(symbol, first, last, bids, asks, now))
            decision = faults._depth_decision(symbol)
            if decision == DEPTH_SKIP:
                continue
            if decision == DEPTH_HOLD and batch.held is None:
                batch.held = raw
                continue
            self._publish(topic, raw)
            if decision == DEPTH_DUPLICATE:
                self._publish(topic, raw)
            if batch.held is not None:
                held, batch.held = batch.held, None
                self._publish(topic, held)

    def _push_partial(self, speed: int) -> None:
        exchange = self.ctx.exchange
        for topic in list(self._topics.values()):
            spec = topic.spec
            if spec.kind != KIND_PARTIAL_DEPTH or spec.speed_ms != speed or not spec.symbol:
                continue
            if spec.symbol not in self._listed():
                continue
            try:
                snapshot = exchange.depth(spec.symbol, spec.levels or 5)
            except EngineError:
                continue
            self._publish(topic, payloads.partial_depth(snapshot))

    def _push_tickers(self, now: int) -> None:
        listed = self._listed()
        arrays: dict[tuple[str, Any], list[object]] = {}
        for topic in list(self._topics.values()):
            spec = topic.spec
            kind = spec.kind
            if kind in (KIND_ALL_MINI_TICKERS, KIND_ALL_WINDOW_TICKERS):
                key = (kind, spec.window)
                if key not in arrays:
                    # NOTES.md §9: the arrays carry only the symbols that changed.
                    symbols = sorted(s for s in self._changed_symbols if s in listed)
                    arrays[key] = [
                        p
                        for p in (self._ticker_payload(kind, s, spec.window, now) for s in symbols)
                        if p is not None
                    ]
                if arrays[key]:
                    self._publish(topic, arrays[key])
                continue
            if kind not in (KIND_MINI_TICKER, KIND_TICKER, KIND_WINDOW_TICKER, KIND_AVG_PRICE):
                continue
            if spec.symbol not in listed:
                continue
            payload = self._ticker_payload(kind, spec.symbol, spec.window, now)
            if payload is not None:
                self._publish(topic, payload)

    def _ticker_payload(
        self, kind: str, symbol: str | None, window: str | None, now: int
    ) -> object | None:
        assert symbol is not None
        try:
            return self._compute_ticker(kind, symbol, window, now)
        except EngineError:  # e.g. a symbol with no history: nothing to push
            return None

    def _compute_ticker(self, kind: str, symbol: str, window: str | None, now: int) -> object:
        exchange = self.ctx.exchange
        if kind in (KIND_MINI_TICKER, KIND_ALL_MINI_TICKERS):
            return payloads.mini_ticker(exchange, symbol, now)
        if kind == KIND_TICKER:
            return payloads.ticker(exchange, symbol, now)
        if kind in (KIND_WINDOW_TICKER, KIND_ALL_WINDOW_TICKERS):
            return payloads.window_ticker(exchange, symbol, window or "1d", now)
        return payloads.avg_price(exchange, symbol, now)

    def _push_klines(self, now: int, every_2s: bool) -> None:
        """Every second: a kline that closed is pushed at once (``x`` true); the open kline
        every 1000 ms for 1s klines and every 2000 ms for the others (NOTES.md §9)."""
        listed = self._listed()
        for topic in list(self._topics.values()):
            spec = topic.spec
            if spec.kind != KIND_KLINE or spec.symbol not in listed:
                continue
            assert spec.symbol is not None and spec.interval is not None
            key = (spec.symbol, spec.interval, spec.time_zone)
            try:
                frames = payloads.klines(
                    self.ctx.exchange,
                    spec.symbol,
                    spec.interval,
                    spec.time_zone,
                    now,
                    self._klines_sent.get(key),
                )
            except EngineError:
                continue
            due = every_2s or spec.interval == enums.KLINE_INTERVAL_1SECOND
            for open_time, payload, closed in frames:
                if closed or due or key not in self._klines_sent:
                    self._publish(topic, payload)
                    self._klines_sent[key] = open_time

    # -- helpers --------------------------------------------------------------------------------

    def _listed(self) -> Collection[str]:
        return self.ctx.exchange.markets
