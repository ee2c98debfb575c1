"""Binance's WebSocket streams for asyncio: ``async with`` and ``async for`` per stream.

::

    from binance.streams import StreamManager

    async with StreamManager(client) as sm:            # client.stream_url / client.ws_api_url
        async with sm.trade_socket("BNBBTC") as trades:
            async for msg in trades:                   # dicts, as Binance sends them
                print(msg["p"], msg["q"])

        async with sm.multiplex_socket(["bnbbtc@aggTrade", "ethbtc@depth"]) as ms:
            await ms.subscribe("ltcbtc@trade")         # live, on the open connection
            msg = await ms.recv()                      # {"stream": ..., "data": {...}}

        async with sm.user_socket() as user:           # account events (WebSocket API)
            event = await user.recv()                  # {"e": "executionReport", ...}

Streams of one manager share connections: up to 1024 streams per connection, new streams added
with paced ``SUBSCRIBE`` messages (under 5 a second). Connections reconnect with backoff after a
drop (restoring their subscriptions), rotate without a gap before Binance's 24-hour cut or on
``serverShutdown``, and a watchdog replaces stalled ones. Each stream has a bounded queue: a slow
consumer gets gap events (``{"e": "gap", ...}``) for lossless streams and the latest value for
tickers; see docs/streams.md. With ``status_events=True`` a stream also yields, in order with its
messages, ``{"e": "subscribed", ...}`` once it is live and ``{"e": "reconnected", ...}`` each time
it is live again after a reconnect (messages sent meanwhile are lost). After the last failed
reconnect attempt ``recv`` raises `ReconnectError`.

The thread-and-callback interface of the seed is :class:`binance.websockets.BinanceSocketManager`.
This module must not import the simulator.
"""

from __future__ import annotations

import asyncio
import logging
import random
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any

from binance import enums
from binance._streams import rules
from binance._streams.conn import (
    ControlError,
    ReconnectError,
    StreamPool,
    UserDataConnection,
    wall_ms,
)
from binance._streams.rules import StreamConfig, StreamKind

log = logging.getLogger(__name__)

__all__ = [
    "ControlError",
    "ReconnectError",
    "Stream",
    "StreamClosed",
    "StreamConfig",
    "StreamManager",
    "UserAuth",
]

#: Production market stream host (NOTES.md §1.1); clients normally supply their own.
DEFAULT_STREAM_URL = "wss://stream.binance.com:9443"
#: Production WebSocket API (NOTES.md §1.1).
DEFAULT_WS_API_URL = "wss://ws-api.binance.com:443/ws-api/v3"


class StreamClosed(Exception):
    """``recv`` on a stream that was closed (``async for`` simply ends)."""


class UserAuth:
    """What the user data subscription needs: the API key, a signer and the server clock.

    The signature follows the WebSocket API rule (NOTES.md §2.3): the signer's bytes over the
    sorted, unencoded parameters, placed in JSON as is (hex for HMAC, base64 for RSA and
    Ed25519, never percent-encoded). Secrets stay inside the signer; ``repr`` shows none.

    Args:
        api_key: the API key.
        signer: an object with ``sign(payload: bytes) -> str`` (``binance._signing`` signers;
            their REST output is percent-encoded, which is undone here).
        timestamp_ms: the server-aligned clock in ms (default: this machine's wall clock).
        align_clock: ``async (stale: bool) -> None`` that measures that clock if it never was
            (or, with ``stale``, after a -1021); `from_client` builds it from the client.
    """

    def __init__(
        self,
        api_key: str,
        signer: Any,
        timestamp_ms: Callable[[], int] | None = None,
        align_clock: Callable[[bool], Awaitable[None]] | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("user data needs an API key")
        self.api_key = api_key
        self._signer = signer
        self._clock = timestamp_ms or wall_ms
        self._align = align_clock

    def sign(self, payload: bytes) -> str:
        """The WebSocket API signature of ``payload``."""
        return urllib.parse.unquote(self._signer.sign(payload))

    def timestamp_ms(self) -> int:
        """Milliseconds on the server's clock."""
        return self._clock()

    async def align_clock(self, stale: bool = False) -> None:
        """Before a logon: measure the server clock if it never was, or again if ``stale``
        (the logon got -1021). The logon is signed with `timestamp_ms`, which is this machine's
        clock until a measurement (NOTES.md §1.4). Failures are logged: the logon still tries."""
        if self._align is None:
            return
        try:
            await self._align(stale)
        except Exception as exc:  # noqa: BLE001 - the logon still tries, with this clock
            log.warning("could not measure the exchange clock before user data logon: %s", exc)

    def __repr__(self) -> str:
        return f"UserAuth(api_key={self.api_key[:6]}..., signer=<redacted>)"

    @classmethod
    def from_client(cls, client: Any) -> UserAuth:
        """Key, signer and clock of a ``Client``/``AsyncClient`` (or any object alike).

        Looks for ``api_key`` (or the seed's ``API_KEY``); a signer as ``signer`` or ``_signer``
        (else an HMAC signer over ``api_secret``); the clock ``timestamp_ms()`` (the client's
        server-time-corrected milliseconds), else this machine's wall time.
        """
        api_key = getattr(client, "api_key", None) or getattr(client, "API_KEY", None)
        if not api_key:
            raise ValueError("the client has no API key: user data needs one")
        signer = getattr(client, "signer", None) or getattr(client, "_signer", None)
        if signer is None:
            secret = getattr(client, "api_secret", None) or getattr(client, "API_SECRET", None)
            if not secret:
                raise ValueError("the client has no signer or API secret: user data needs one")
            from binance._signing import HmacSigner

            signer = HmacSigner(secret)
        # Client.timestamp_ms: the server clock estimate (round-trip corrected, re-measured
        # after -1021), so WebSocket API timestamps pass the recvWindow check (NOTES.md §1.4).
        clock = getattr(client, "timestamp_ms", None)
        if not callable(clock):
            clock = None
        return cls(api_key, signer, clock, _clock_aligner(client))


def _clock_aligner(client: Any) -> Callable[[bool], Awaitable[None]] | None:
    """`UserAuth.align_clock` for a ``Client``/``AsyncClient``: its ``sync_clock`` (in a worker
    thread for the sync client), only when its clock never was measured or is stale."""
    ctx = getattr(client, "_ctx", None)
    sync_clock = getattr(client, "sync_clock", None)
    if ctx is None or not callable(sync_clock):
        return None
    from binance.async_client import AsyncClient

    is_async = isinstance(client, AsyncClient)

    async def align(stale: bool) -> None:
        if stale:
            ctx.clock.invalidate()
        if not ctx.clock.needs_sync(ctx.mono_ms()):
            return
        if is_async:
            await sync_clock()
        else:
            await asyncio.get_running_loop().run_in_executor(None, sync_clock)

    return align


def _client_url(client: Any, name: str) -> str | None:
    value = getattr(client, name, None) if client is not None else None
    return value if isinstance(value, str) and value else None


class Stream:
    """One subscription: an async context manager and an async iterator of message dicts.

    Get one from a `StreamManager` factory (``trade_socket``, ``multiplex_socket``...). Messages
    are the payload dicts Binance sends; with ``combined`` they are ``{"stream", "data"}``
    frames, as the seed's multiplex socket delivered them. User data streams yield bare event
    dicts. Gap events (``{"e": "gap", ...}``) tell about messages dropped for a slow consumer.

    With ``status_events`` the stream also yields `binance._streams.rules.status_event` items
    (wrapped like the messages when ``combined``): ``{"e": "subscribed", "stream": ...}`` once a
    stream is live, and ``{"e": "reconnected", "stream": ...}`` each time it is live again after
    its connection dropped. Messages sent while the connection was down are lost and no gap
    event counts them; whatever follows the ``reconnected`` item came over the new connection.
    """

    def __init__(
        self,
        manager: StreamManager,
        streams: Iterable[str] = (),
        *,
        combined: bool | None = None,
        user: bool = False,
        status_events: bool = False,
    ) -> None:
        names = list(dict.fromkeys(rules.normalize_stream(s) for s in streams))
        if not user and not names:
            raise ValueError("a stream needs at least one stream name")
        self._manager = manager
        self._streams = names
        self._user = user
        self.combined = bool(combined) if combined is not None else len(names) > 1
        """Items are ``{"stream", "data"}`` frames (True) or bare payloads (False)."""
        self.status_events = status_events and not user
        """Status events (subscribed, reconnected) are yielded among the messages."""
        self._backlog = rules.Backlog(
            manager.config.max_queue, combined=self.combined and not user, now_ms=wall_ms
        )
        self._waiter: asyncio.Future[None] | None = None
        self._error: BaseException | None = None
        self._opened = False
        self._closed = False

    # -- subscriber side (called by the pool) ----------------------------------------------------
    def deliver(self, stream: str, kind: StreamKind, frame: Any, data: Any) -> None:
        """Queue one message (called on the event loop by the connection)."""
        self._backlog.put(stream, kind, frame if self.combined else data, data)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def fail(self, exc: BaseException) -> None:
        """End the stream with ``exc`` once the queued messages are read."""
        self._error = exc
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def status(self, stream: str, status: str) -> None:
        """Queue a status event, if this stream asked for them (called on the event loop)."""
        if not self.status_events or self._closed:
            return
        event = rules.status_event(status, stream, wall_ms())
        item = {"stream": stream, "data": event} if self.combined else event
        self._backlog.put_status(stream, status, item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- user side -------------------------------------------------------------------------------
    @property
    def streams(self) -> list[str]:
        """The stream names currently subscribed (empty for user data)."""
        return list(self._streams)

    @property
    def pending(self) -> int:
        """Messages queued and not yet read."""
        return len(self._backlog)

    @property
    def dropped(self) -> int:
        """Messages dropped for this consumer (each announced by a gap event)."""
        return self._backlog.dropped

    @property
    def conflated(self) -> int:
        """Messages replaced by a newer value before they were read (tickers, books...)."""
        return self._backlog.conflated

    async def open(self) -> Stream:
        """Subscribe; returns once every stream is live on a connection.

        Raises:
            ReconnectError: no connection could be established.
            ControlError: the server refused a stream name.
        """
        if self._closed:
            raise StreamClosed("this stream was closed")
        if not self._opened:
            self._opened = True
            pool = self._manager._pool_now()
            if self._user:
                self._manager._user_auth()  # fail now, not inside the connection, if no key
                await pool.add_user(self)
            else:
                await pool.add(self, self._streams)
        return self

    async def close(self) -> None:
        """Unsubscribe; connections left without streams close. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._backlog.clear()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        pool = self._manager._pool
        if self._opened and pool is not None:
            if self._user:
                await pool.remove_user(self)
            else:
                await pool.remove(self)

    async def subscribe(self, *streams: str) -> None:
        """Add streams to this open subscription, live (a paced ``SUBSCRIBE``)."""
        if self._user:
            raise TypeError("a user data stream has no stream names")
        names = [rules.normalize_stream(s) for s in streams if s]
        new = [n for n in dict.fromkeys(names) if n not in self._streams]
        if not new:
            return
        if self._opened:
            await self._manager._pool_now().add(self, new)
        self._streams.extend(new)

    async def unsubscribe(self, *streams: str) -> None:
        """Remove streams from this subscription, live (a paced ``UNSUBSCRIBE``)."""
        if self._user:
            raise TypeError("a user data stream has no stream names")
        names = [rules.normalize_stream(s) for s in streams]
        gone = [n for n in names if n in self._streams]
        for name in gone:
            self._streams.remove(name)
        if gone and self._opened and self._manager._pool is not None:
            await self._manager._pool.remove(self, gone)

    async def recv(self, timeout: float | None = None) -> Any:
        """The next message.

        Args:
            timeout: seconds to wait; ``None`` waits for ever.

        Raises:
            ReconnectError: the connection was lost for good (after the queued messages).
            StreamClosed: the stream was closed.
            asyncio.TimeoutError: nothing arrived within ``timeout``.
        """
        if not self._opened:
            await self.open()
        backlog = self._backlog
        while True:
            if backlog:
                return backlog.pop()
            if self._closed:
                raise StreamClosed("this stream was closed")
            if self._error is not None:
                raise self._error
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                if timeout is None:
                    await waiter
                else:
                    await asyncio.wait_for(waiter, timeout)
            finally:
                self._waiter = None

    async def __aenter__(self) -> Stream:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __aiter__(self) -> Stream:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.recv()
        except StreamClosed:
            raise StopAsyncIteration from None

    def __repr__(self) -> str:
        what = "user data" if self._user else ",".join(self._streams[:3])
        more = "" if len(self._streams) <= 3 else f",+{len(self._streams) - 3}"
        state = "closed" if self._closed else ("open" if self._opened else "new")
        return f"<Stream {what}{more} {state}>"


class StreamManager:
    """The asyncio socket manager: factories for streams that share connections.

    Args:
        client: a ``Client``/``AsyncClient`` (or anything with ``stream_url``, ``ws_api_url``,
            ``api_key`` and a signer); a client pointed at the local exchange streams from it.
        stream_url: market stream base URL (overrides the client's).
        ws_api_url: WebSocket API URL for user data (overrides the client's).
        auth: `UserAuth` for user data (default: built from ``client`` when first needed).
        config: the knobs (`StreamConfig`: reconnect delays, limits, queue sizes...).
        rng: randomness for jitter (tests seed it).

    Use ``async with StreamManager(...) as sm`` or call `close` when done: it closes every
    connection and task the manager opened.
    """

    WEBSOCKET_DEPTH_5 = enums.WEBSOCKET_DEPTH_5
    WEBSOCKET_DEPTH_10 = enums.WEBSOCKET_DEPTH_10
    WEBSOCKET_DEPTH_20 = enums.WEBSOCKET_DEPTH_20

    def __init__(
        self,
        client: Any = None,
        *,
        stream_url: str | None = None,
        ws_api_url: str | None = None,
        auth: UserAuth | None = None,
        config: StreamConfig | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self.stream_url = stream_url or _client_url(client, "stream_url") or DEFAULT_STREAM_URL
        """Market stream base URL in use."""
        self.ws_api_url = ws_api_url or _client_url(client, "ws_api_url") or DEFAULT_WS_API_URL
        """WebSocket API URL in use (user data)."""
        self._auth = auth
        self.config = config or StreamConfig()
        """The knobs in force."""
        self._rng = rng
        self._pool: StreamPool | None = None
        self._closed = False

    def _pool_now(self) -> StreamPool:
        if self._closed:
            raise RuntimeError("this StreamManager is closed")
        if self._pool is None:
            self._pool = StreamPool(
                self.stream_url,
                self.ws_api_url,
                _LazyAuth(self),
                self.config,
                rng=self._rng,
            )
        return self._pool

    def _user_auth(self) -> UserAuth:
        if self._auth is None:
            self._auth = UserAuth.from_client(self._client)
        return self._auth

    @property
    def pool(self) -> StreamPool:
        """The connection pool (introspection: ``pool.connections``, ``pool.streams``)."""
        return self._pool_now()

    async def close(self) -> None:
        """Close every connection and task of this manager. Idempotent."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def __aenter__(self) -> StreamManager:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- factories --------------------------------------------------------------------------------
    def socket(
        self, *streams: str, combined: bool | None = None, status_events: bool = False
    ) -> Stream:
        """A stream over any stream names (``combined`` defaults to "more than one name").

        ``status_events``: also yield ``subscribed``/``reconnected`` items (see `Stream`).
        """
        return Stream(self, streams, combined=combined, status_events=status_events)

    def aggtrade_socket(self, symbol: str) -> Stream:
        """Aggregated trades of ``symbol`` (``<symbol>@aggTrade``)."""
        return Stream(self, [rules.aggtrade_stream(symbol)])

    def trade_socket(self, symbol: str) -> Stream:
        """Every trade of ``symbol`` (``<symbol>@trade``)."""
        return Stream(self, [rules.trade_stream(symbol)])

    def depth_socket(
        self,
        symbol: str,
        depth: str | int | None = None,
        *,
        update_speed_ms: int | None = None,
        status_events: bool = False,
    ) -> Stream:
        """Diff depth (``<symbol>@depth``) or, with ``depth`` 5/10/20, the partial book.

        ``status_events``: also yield ``subscribed``/``reconnected`` items (see `Stream`), as a
        local order book needs to know when diffs may have been lost (NOTES.md §10).
        """
        return Stream(
            self, [rules.depth_stream(symbol, depth, update_speed_ms)], status_events=status_events
        )

    def kline_socket(self, symbol: str, interval: str = enums.KLINE_INTERVAL_1MINUTE) -> Stream:
        """Klines of ``symbol`` (``<symbol>@kline_<interval>``)."""
        return Stream(self, [rules.kline_stream(symbol, interval)])

    def symbol_ticker_socket(self, symbol: str) -> Stream:
        """The 24h ticker of ``symbol``, every second (``<symbol>@ticker``)."""
        return Stream(self, [rules.symbol_ticker_stream(symbol)])

    def ticker_socket(self) -> Stream:
        """Every market's rolling 1-day ticker, as arrays, every second.

        The seed's ``!ticker@arr`` was retired on 2026-03-26 (NOTES.md §0); this serves
        ``!ticker_1d@arr``, whose elements carry the same statistics fields (see
        ``rules.ALL_MARKET_TICKERS_STREAM`` and docs/streams.md for what differs).
        """
        return Stream(self, [rules.ALL_MARKET_TICKERS_STREAM])

    def multiplex_socket(self, streams: Iterable[str], *, status_events: bool = False) -> Stream:
        """Several streams in one subscription; items are ``{"stream", "data"}`` frames.

        ``status_events``: also yield ``subscribed``/``reconnected`` items (see `Stream`).
        """
        return Stream(self, list(streams), combined=True, status_events=status_events)

    def user_socket(self) -> Stream:
        """The account's user data events (``executionReport``, ``outboundAccountPosition``...)
        through the WebSocket API (``userDataStream.subscribe.signature``, NOTES.md §11)."""
        return Stream(self, (), user=True)


class _LazyAuth:
    """Defers building `UserAuth` from the client until user data is first asked for."""

    def __init__(self, manager: StreamManager) -> None:
        self._manager = manager

    @property
    def api_key(self) -> str:
        return self._manager._user_auth().api_key

    def sign(self, payload: bytes) -> str:
        return self._manager._user_auth().sign(payload)

    def timestamp_ms(self) -> int:
        return self._manager._user_auth().timestamp_ms()

    async def align_clock(self, stale: bool = False) -> None:
        await self._manager._user_auth().align_clock(stale)


# Re-exported for users who import everything stream-related from here.
USER_STREAM = UserDataConnection.STREAM
