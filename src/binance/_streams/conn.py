"""Asyncio connections that keep delivering: reconnect, rotation, watchdog, pacing, fan-out.

Three layers, all on one event loop:

- ``_Link``: one physical WebSocket (aiohttp ``ws_connect``) with a reader, a paced writer
  (pongs, pings and requests share Binance's 5-messages-a-second budget, NOTES.md §9) and a
  watchdog that pings a silent connection and aborts a stalled one.
- ``ManagedSocket`` and its two kinds, `MarketConnection` (combined ``/stream`` carrying up to
  1024 streams, changed live with ``SUBSCRIBE``/``UNSUBSCRIBE``) and `UserDataConnection` (the
  WebSocket API with ``userDataStream.subscribe.signature``, NOTES.md §11): one logical
  connection that reconnects with backoff after a drop, restores its subscriptions, and rotates
  to a fresh link before Binance's 24-hour cut or on ``serverShutdown`` with an overlap in which
  duplicates are dropped, so nothing is lost and nothing is delivered twice.
- `StreamPool`: places streams on connections, shares a stream between consumers, and hands
  each message to every consumer (``Subscriber``), whose queue applies the slow-consumer policy.
  Consumers also hear, in order with the messages, when a stream became live for them and when
  it is live again after a reconnect (`Subscriber.status`): what was sent while a connection was
  down is lost, and only the consumer can tell whether that matters (a depth cache does).

Every decision (delays, pacing, dedupe keys, placement, queue policy) comes from
:mod:`binance._streams.rules`; this module only does I/O, timers and tasks. It must not import
the client or the simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import urllib.parse
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal, Protocol

import aiohttp
import orjson
import yarl

from binance import errorcodes
from binance._streams import rules
from binance._streams.rules import DedupeResult, StreamConfig, StreamKind, WatchdogAction
from binance.exceptions import BinanceAPIException, BinanceConnectionException

__all__ = [
    "ControlError",
    "MarketConnection",
    "ReconnectError",
    "StreamPool",
    "Subscriber",
    "UserDataAuth",
    "UserDataConnection",
]

log = logging.getLogger(__name__)

_loads = orjson.loads
_dumps = orjson.dumps


class ReconnectError(BinanceConnectionException):
    """A connection could not be restored within ``max_retries`` attempts."""

    def __init__(self, message: str = rules.MAX_RETRIES_MESSAGE) -> None:
        super().__init__(message, sent=False)


class ControlError(BinanceAPIException):
    """The server refused a control message (``SUBSCRIBE``...) or a WebSocket API request.

    Attributes:
        code: Binance's error code (small positive numbers for stream control errors).
        message: Binance's message.
    """

    def __init__(self, code: Any, msg: str) -> None:
        super().__init__(code=code if isinstance(code, int) else 0, message=msg)


class _OpenFailed(Exception):
    pass


class Subscriber(Protocol):
    """A consumer of messages: the async `Stream` or the thread manager's socket."""

    def deliver(self, stream: str, kind: StreamKind, frame: Any, data: Any) -> None:
        """One new message: the whole frame (``{"stream", "data"}``) and its payload."""

    def fail(self, exc: BaseException) -> None:
        """The subscription ended for good (``ReconnectError`` after the last retry)."""

    def status(self, stream: str, status: str) -> None:
        """News about ``stream``, in order with its messages: `rules.STATUS_SUBSCRIBED` once it
        is live for this consumer, `rules.STATUS_RECONNECTED` each time it is live again after
        its connection dropped (messages sent meanwhile are lost)."""


class UserDataAuth(Protocol):
    """What the user data connection needs from the client: key, signer, clock."""

    @property
    def api_key(self) -> str:
        """The API key (read-only is enough: it is only read)."""

    def sign(self, payload: bytes) -> str:
        """Signature of ``payload`` (hex for HMAC, base64 for RSA/Ed25519)."""

    def timestamp_ms(self) -> int:
        """The current server-aligned time in milliseconds."""

    async def align_clock(self, stale: bool = False) -> None:
        """Measure the clock behind `timestamp_ms` if it never was, or again if ``stale``."""


# -- one physical WebSocket -----------------------------------------------------------------------
class _Out:
    __slots__ = ("method", "params", "futures", "coalesce", "kind")

    def __init__(
        self, kind: str, method: str = "", params: Any = None, coalesce: bool = False
    ) -> None:
        self.kind = kind  # "req", "pong", "ping"
        self.method = method
        self.params = params
        self.coalesce = coalesce
        self.futures: list[asyncio.Future[Any]] = []


class _Link:
    """One WebSocket plus its reader, paced writer and watchdog tasks."""

    def __init__(
        self,
        owner: ManagedSocket,
        ws: aiohttp.ClientWebSocketResponse[Literal[False]],  # decode_text=False: bytes
        lid: int,
    ):
        loop = asyncio.get_running_loop()
        self.owner = owner
        self.ws = ws
        self.id = lid
        self.opened_at = loop.time()
        self.rx_frames = 0
        self.rx_data = 0
        self.closed: asyncio.Future[str] = loop.create_future()
        self.active: set[str] = set()
        self.subscription_id: Any = None
        self.resuming: set[str] = set()  # streams to announce as reconnected once live here
        self.pending: dict[Any, list[asyncio.Future[Any]]] = {}
        self._outbox: deque[_Out] = deque()
        self._wake = asyncio.Event()
        self._ids = owner._ids
        cfg = owner._cfg
        self._pacer = rules.Pacer(cfg.max_messages_per_s)
        self._close_task: asyncio.Future[None] | None = None
        owner._links.add(self)
        self._tasks = [
            loop.create_task(self._read(), name=f"{owner._name}-read-{lid}"),
            loop.create_task(self._write(), name=f"{owner._name}-write-{lid}"),
            loop.create_task(self._watch(), name=f"{owner._name}-watch-{lid}"),
        ]

    # -- requests ---------------------------------------------------------------------------------
    def request(self, method: str, params: Any, *, coalesce: bool = False) -> asyncio.Future[Any]:
        """Queue a request; the future gets the server's ``result`` or a `ControlError`."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.closed.done():
            fut.set_exception(ConnectionError("connection closed"))
            return fut
        out = _Out("req", method, params, coalesce)
        out.futures.append(fut)
        self._outbox.append(out)
        self._wake.set()
        return fut

    def _queue_control(self, kind: str, payload: bytes) -> None:
        out = _Out(kind, params=payload)
        # Pongs and pings go before queued requests: a late pong gets the connection dropped.
        self._outbox.appendleft(out)
        self._wake.set()

    def on_response(self, obj: dict[str, Any]) -> None:
        futures = self.pending.pop(obj.get("id"), None)
        if not futures:
            return
        error = obj.get("error")
        if error is None and "code" in obj and "result" not in obj:
            error = obj
        for fut in futures:
            if fut.done():
                continue
            if error is not None:
                code = error.get("code") if isinstance(error, dict) else None
                msg = error.get("msg", "") if isinstance(error, dict) else str(error)
                fut.set_exception(ControlError(code, msg))
            else:
                fut.set_result(obj.get("result"))

    # -- tasks ------------------------------------------------------------------------------------
    async def _read(self) -> None:
        ws = self.ws
        owner = self.owner
        on_text = owner._on_text
        TEXT = aiohttp.WSMsgType.TEXT
        BINARY = aiohttp.WSMsgType.BINARY
        PING = aiohttp.WSMsgType.PING
        PONG = aiohttp.WSMsgType.PONG
        reason = "closed by server"
        try:
            while True:
                msg = await ws.receive()
                kind = msg.type
                self.rx_frames += 1
                if kind is TEXT or kind is BINARY:
                    self.rx_data += 1
                    try:
                        on_text(self, msg.data)
                    except Exception:  # a bad frame must not end the connection
                        log.exception("%s: could not handle a frame", owner._name)
                elif kind is PING:
                    self._queue_control("pong", msg.data)
                elif kind is PONG:
                    pass
                else:
                    if kind is aiohttp.WSMsgType.ERROR:
                        reason = f"error: {ws.exception()!r}"
                    break
        except asyncio.CancelledError:
            reason = "cancelled"
            raise
        except Exception as exc:  # network errors end the link; the owner reconnects
            reason = f"error: {exc!r}"
        finally:
            self._finish(reason)

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        ws = self.ws
        outbox = self._outbox
        cfg = self.owner._cfg
        try:
            while True:
                while not outbox:
                    self._wake.clear()
                    await self._wake.wait()
                delay = self._pacer.delay(loop.time())
                if delay > 0:
                    await asyncio.sleep(delay)
                    continue
                out = outbox.popleft()
                self._pacer.record(loop.time())
                if out.kind == "pong":
                    await ws.pong(out.params)
                    continue
                if out.kind == "ping":
                    await ws.ping(out.params)
                    continue
                params = out.params
                futures = out.futures
                if out.coalesce:
                    # Several SUBSCRIBE (or UNSUBSCRIBE) requests waiting for a slot travel as one
                    # message: the 5-per-second budget counts messages, not streams.
                    params = list(params)
                    while (
                        outbox
                        and outbox[0].coalesce
                        and outbox[0].method == out.method
                        and len(params) + len(outbox[0].params) <= cfg.max_streams_per_message
                    ):
                        nxt = outbox.popleft()
                        params.extend(nxt.params)
                        futures = futures + nxt.futures
                rid = self._ids.next()
                self.pending[rid] = futures
                # Binance reads control and API requests from text frames.
                await ws.send_str(
                    _dumps({"method": out.method, "params": params, "id": rid}).decode()
                )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.debug("%s: send failed on link %s: %r", self.owner._name, self.id, exc)
            self._finish(f"send failed: {exc!r}")

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        cfg = self.owner._cfg
        dog = rules.Watchdog(
            loop.time(), cfg.idle_timeout_s, cfg.pong_timeout_s, cfg.data_timeout_s
        )
        seen_frames = seen_data = 0
        while True:
            now = loop.time()
            if self.rx_frames != seen_frames:
                dog.on_frame(now, data=self.rx_data != seen_data)
                seen_frames, seen_data = self.rx_frames, self.rx_data
            action, next_check = dog.check(now)
            if action is WatchdogAction.PING:
                self._queue_control("ping", b"")
                dog.on_ping_sent(now)
            elif action is WatchdogAction.STALLED:
                log.info("%s: link %s stalled; reconnecting", self.owner._name, self.id)
                self.abort("stalled")
                return
            # Sleep to the next deadline, but wake often enough to notice frames in between.
            await asyncio.sleep(max(0.01, min(next_check - now, cfg.idle_timeout_s / 2)))

    # -- ending -----------------------------------------------------------------------------------
    def _finish(self, reason: str) -> None:
        if not self.closed.done():
            self.closed.set_result(reason)
        for futures in self.pending.values():
            for fut in futures:
                if not fut.done():
                    fut.set_exception(ConnectionError(f"connection lost ({reason})"))
        self.pending.clear()
        for out in self._outbox:
            for fut in out.futures:
                if not fut.done():
                    fut.set_exception(ConnectionError(f"connection lost ({reason})"))
        self._outbox.clear()

    def abort(self, reason: str) -> None:
        """End the link now; the closing handshake runs in the background."""
        self._finish(reason)
        self.owner._spawn(self.close(), "close")

    async def close(self) -> None:
        """Close the WebSocket (bounded by ``close_timeout_s``) and end the link's tasks.

        Idempotent; the work runs in a task of the owner's, so a cancelled caller cannot leave
        the socket half-closed.
        """
        if self._close_task is None:
            self._close_task = asyncio.ensure_future(self._close())
            self.owner._background.add(self._close_task)
            self._close_task.add_done_callback(self.owner._background.discard)
        await asyncio.shield(self._close_task)

    async def _close(self) -> None:
        self._finish("closed by us")
        reader, writer, watcher = self._tasks
        writer.cancel()
        watcher.cancel()
        with contextlib.suppress(Exception, asyncio.TimeoutError):
            await asyncio.wait_for(self.ws.close(), self.owner._cfg.close_timeout_s)
        reader.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.owner._links.discard(self)


# -- a connection that survives drops and rotations ------------------------------------------------
class ManagedSocket:
    """One logical connection: a supervisor task keeps a live `_Link` until closed.

    Subclasses say how to open and set up a link (`_setup`) and what to do with a text frame
    (`_on_text`).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        config: StreamConfig,
        *,
        name: str,
        rng: random.Random | None = None,
        on_exhausted: Callable[[ManagedSocket], None] | None = None,
    ) -> None:
        self._session = session
        self._cfg = config
        self._name = name
        self._rng = rng or random.Random()
        self._on_exhausted = on_exhausted
        self._ids = rules.RequestIds()
        self._dedupe = rules.Deduper(config.dedupe_window)
        self._link: _Link | None = None
        self._links: set[_Link] = set()
        self._link_seq = 0
        self._closing = False
        self.exhausted = False
        """True once the connection gave up after ``max_retries`` failed attempts."""
        self._task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._rotate_now = asyncio.Event()
        self._closed_event = asyncio.Event()
        self._overlap: tuple[_Link, _Link] | None = None
        self._traffic: set[str] = set()
        self._cross: set[str] = set()
        self._up = asyncio.Event()
        self.reconnects = 0
        """Links opened after the first one because the previous one dropped."""
        self.rotations = 0
        """Completed rotations (24-hour cut or ``serverShutdown``)."""

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the supervisor task."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._supervise(), name=f"{self._name}-supervisor"
            )

    def rotate(self) -> None:
        """Ask for a rotation now (as on ``serverShutdown``)."""
        self._rotate_now.set()

    async def close(self) -> None:
        """Close every link and task of this connection; idempotent."""
        self._closing = True
        # Wake the supervisor as well as cancelling it: before Python 3.12, asyncio.wait_for
        # can swallow a cancellation that races with its inner task finishing.
        self._rotate_now.set()
        self._closed_event.set()
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._link = None
        self._overlap = None
        await asyncio.gather(*(link.close() for link in list(self._links)))
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
        self._fail_waiters(ConnectionError("connection closed"))

    def _spawn(self, coro: Awaitable[Any], what: str) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @property
    def link_count(self) -> int:
        """Physical WebSockets open right now (2 only during a rotation overlap)."""
        return sum(1 for link in self._links if not link.closed.done())

    # -- the supervisor ---------------------------------------------------------------------------
    async def _supervise(self) -> None:
        cfg = self._cfg
        delays = rules.backoff_delays(
            cfg.reconnect_initial_s,
            cfg.reconnect_max_s,
            cfg.reconnect_factor,
            cfg.reconnect_jitter,
            self._rng,
        )
        failed = 0
        first = True
        try:
            while not self._closing:
                if failed:
                    if failed > cfg.max_retries:
                        self._give_up()
                        return
                    await self._pause(next(delays))
                    if self._closing:
                        return
                try:
                    link = await self._open(resumed=not first)
                except _OpenFailed as exc:
                    log.info("%s: connect failed: %s", self._name, exc)
                    failed += 1
                    continue
                if self._closing:
                    await link.close()
                    return
                if not first:
                    self.reconnects += 1
                first = False
                link = await self._serve(link)
                if self._closing:
                    return
                if link.rx_frames:
                    failed = 1
                    delays = rules.backoff_delays(
                        cfg.reconnect_initial_s,
                        cfg.reconnect_max_s,
                        cfg.reconnect_factor,
                        cfg.reconnect_jitter,
                        self._rng,
                    )
                else:
                    failed += 1
                log.info(
                    "%s: link %s dropped (%s); reconnecting",
                    self._name,
                    link.id,
                    link.closed.result() if link.closed.done() else "?",
                )
        except asyncio.CancelledError:
            raise
        except Exception:  # pragma: no cover - a bug; never leave consumers waiting forever
            log.exception("%s: supervisor failed", self._name)
            self._give_up()

    async def _pause(self, seconds: float) -> None:
        # Sleep, but wake at once when close() is called (it sets the closed event).
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._closed_event.wait(), seconds)

    def _give_up(self) -> None:
        self.exhausted = True
        self._closing = True
        self._fail_waiters(ReconnectError())
        if self._on_exhausted is not None:
            self._on_exhausted(self)

    async def _open(self, *, resumed: bool = False) -> _Link:
        """A new link, set up. ``resumed``: it replaces one that dropped (not a rotation)."""
        cfg = self._cfg
        self._link_seq += 1
        lid = self._link_seq
        try:
            ws = await asyncio.wait_for(
                self._session.ws_connect(
                    self._url(),
                    autoping=False,
                    heartbeat=None,
                    max_msg_size=0,
                    decode_text=False,
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=cfg.close_timeout_s),
                ),
                cfg.open_timeout_s,
            )
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError, ValueError) as exc:
            raise _OpenFailed(repr(exc)) from exc
        link = _Link(self, ws, lid)
        if resumed:
            # Before the link's reader runs: the news precedes every frame of the new link.
            self._resumed(link)
        try:
            await asyncio.wait_for(self._setup(link), cfg.open_timeout_s)
        except asyncio.CancelledError:
            await link.close()
            raise
        except (ControlError, ConnectionError, asyncio.TimeoutError, OSError) as exc:
            await link.close()
            raise _OpenFailed(repr(exc)) from exc
        return link

    async def _serve(self, link: _Link) -> _Link:
        """Run ``link`` (and its successors after rotations) until the current one drops."""
        loop = asyncio.get_running_loop()
        cfg = self._cfg
        self._link = link
        self._up.set()
        await self._after_up(link)
        rotate_at = link.opened_at + rules.rotation_delay(cfg, self._rng)
        rotation_failures = 0
        while True:
            waiter = loop.create_task(self._rotate_now.wait())
            watched: list[asyncio.Future[Any]] = [link.closed, waiter]
            try:
                await asyncio.wait(
                    watched,
                    timeout=max(0.0, rotate_at - loop.time()),
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                waiter.cancel()
                await asyncio.gather(waiter, return_exceptions=True)
            if link.closed.done() or self._closing:
                self._up.clear()
                if self._link is link:
                    self._link = None
                await link.close()
                return link
            self._rotate_now.clear()
            try:
                new = await self._open()
                if self._closing:
                    await new.close()
                    continue
            except _OpenFailed as exc:
                rotation_failures += 1
                log.info("%s: rotation connect failed: %s", self._name, exc)
                rotate_at = loop.time() + min(
                    cfg.reconnect_max_s, cfg.reconnect_initial_s * 2**rotation_failures
                )
                continue
            rotation_failures = 0
            await self._rotate(link, new)
            self.rotations += 1
            link = new
            await self._after_up(link)
            rotate_at = link.opened_at + rules.rotation_delay(cfg, self._rng)

    async def _rotate(self, old: _Link, new: _Link) -> None:
        """Overlap ``old`` and ``new`` until ``new`` provably covers ``old``, then close ``old``."""
        loop = asyncio.get_running_loop()
        cfg = self._cfg
        self._traffic = set()
        self._cross = set()
        self._overlap = (old, new)
        self._link = new
        start = loop.time()
        try:
            while not old.closed.done() and not new.closed.done():
                elapsed = loop.time() - start
                if elapsed >= cfg.overlap_max_s:
                    break
                # Every stream that moved during the overlap has been seen on both links: from
                # here on the new link alone delivers everything (each link is in order).
                if elapsed >= cfg.overlap_min_s and self._traffic <= self._cross:
                    break
                await asyncio.sleep(0.02)
        finally:
            self._overlap = None
        await old.close()

    async def _after_up(self, link: _Link) -> None:
        """Hook: a link became the current one (subclasses re-sync subscriptions)."""

    def _resumed(self, link: _Link) -> None:
        """Hook: ``link`` (just connected, not set up yet) replaces one that dropped."""

    def _fail_waiters(self, exc: BaseException) -> None:
        """Hook: wake everyone waiting for this connection with ``exc``."""

    # -- per-subclass -----------------------------------------------------------------------------
    def _url(self) -> str | yarl.URL:
        raise NotImplementedError

    async def _setup(self, link: _Link) -> None:
        raise NotImplementedError

    def _on_text(self, link: _Link, raw: bytes) -> None:
        raise NotImplementedError

    def _accept(self, stream: str, kind: StreamKind, data: Any, raw: bytes, link: _Link) -> bool:
        overlap = self._overlap
        if kind.overlap_only and overlap is None:
            return True
        result = self._dedupe.accept(stream, kind.key(data, raw), link.id, ordered=kind.ordered)
        if overlap is not None:
            if result is DedupeResult.DUP_OTHER_LINK:
                self._cross.add(stream)
            elif result is DedupeResult.NEW:
                self._traffic.add(stream)
        return result is DedupeResult.NEW


# -- market streams -------------------------------------------------------------------------------
class _Route:
    """A stream's kind and its consumers; shared between the pool and the connection."""

    __slots__ = ("kind", "subs", "was_live")

    def __init__(self, kind: StreamKind) -> None:
        self.kind = kind
        self.subs: list[Subscriber] = []
        self.was_live = False  # subscribed on some link at least once


def stream_base_url(url: str) -> str:
    """``wss://host:port`` from any of ``wss://host:port``, ``.../``, ``.../ws``, ``.../stream``."""
    url = url.rstrip("/")
    for suffix in ("/ws", "/stream"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    return url


class MarketConnection(ManagedSocket):
    """A combined-stream connection (``/stream``) carrying up to 1024 streams, changed live."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        stream_url: str,
        config: StreamConfig,
        *,
        name: str = "streams",
        rng: random.Random | None = None,
        on_exhausted: Callable[[ManagedSocket], None] | None = None,
    ) -> None:
        super().__init__(session, config, name=name, rng=rng, on_exhausted=on_exhausted)
        self._base = stream_base_url(stream_url) + "/stream?streams="
        self.routes: dict[str, _Route] = {}
        """Streams this connection should carry -> their route (kind and consumers)."""
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._sync_lock = asyncio.Lock()

    @property
    def streams(self) -> frozenset[str]:
        """The streams this connection carries (or will, once subscribed)."""
        return frozenset(self.routes)

    def _url(self) -> yarl.URL:
        names = list(self.routes)
        in_url, _ = rules.plan_url(
            names, len(self._base), self._cfg.max_url_chars, self._cfg.max_streams_per_message
        )
        quoted = "/".join(urllib.parse.quote(n, safe="@!_-.:~") for n in in_url)
        self._url_streams = in_url
        return yarl.URL(self._base + quoted, encoded=True)

    async def _setup(self, link: _Link) -> None:
        # The URL subscribed part of the set at the handshake; the rest goes by message.
        link.active.update(self._url_streams)
        self._resolve(self._url_streams)
        await self._sync(link)

    async def _after_up(self, link: _Link) -> None:
        await self._sync(link)

    async def ensure(self, streams: Iterable[str]) -> None:
        """Wait until every stream in ``streams`` (already in `routes`) is live."""
        loop = asyncio.get_running_loop()
        futs = []
        for name in streams:
            link = self._link
            if link is not None and name in link.active:
                continue
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(name, []).append(fut)
            futs.append(fut)
        if self.exhausted:
            raise ReconnectError()
        self.start()
        if self._link is not None:
            self._spawn(self._sync(self._link), "sync")
        if futs:
            await asyncio.gather(*futs)

    async def resync(self) -> None:
        """Send the ``SUBSCRIBE``/``UNSUBSCRIBE`` that bring the live link in line with routes."""
        link = self._link
        if link is not None:
            await self._sync(link)

    async def _sync(self, link: _Link) -> None:
        async with self._sync_lock:
            if link.closed.done():
                return
            wanted = self.routes
            add = [s for s in wanted if s not in link.active]
            remove = [s for s in link.active if s not in wanted]
            if not add and not remove:
                return
            step = self._cfg.max_streams_per_message
            jobs: list[tuple[str, list[str], asyncio.Future[Any]]] = []
            for i in range(0, len(remove), step):
                chunk = remove[i : i + step]
                jobs.append(("-", chunk, link.request("UNSUBSCRIBE", chunk, coalesce=True)))
            for i in range(0, len(add), step):
                chunk = add[i : i + step]
                jobs.append(("+", chunk, link.request("SUBSCRIBE", chunk, coalesce=True)))
            results = await asyncio.gather(*(j[2] for j in jobs), return_exceptions=True)
            for (op, chunk, _), result in zip(jobs, results, strict=True):
                if isinstance(result, ControlError):
                    if op == "+":
                        self._fail(chunk, result)
                    continue
                if isinstance(result, BaseException):
                    return  # the link dropped; the next link subscribes everything
                if op == "+":
                    link.active.update(chunk)
                    self._resolve(chunk)
                    if link.resuming:
                        self._announce(link, chunk)
                else:
                    link.active.difference_update(chunk)

    def _resolve(self, streams: Iterable[str]) -> None:
        for name in streams:
            route = self.routes.get(name)
            if route is not None:
                route.was_live = True
            for fut in self._waiters.pop(name, ()):
                if not fut.done():
                    fut.set_result(None)

    def _fail(self, streams: Iterable[str], exc: BaseException) -> None:
        for name in streams:
            for fut in self._waiters.pop(name, ()):
                if not fut.done():
                    fut.set_exception(exc)

    def _fail_waiters(self, exc: BaseException) -> None:
        self._fail(list(self._waiters), exc)

    def forget(self, stream: str) -> None:
        """Stop carrying ``stream`` (call `resync` to tell the server)."""
        self.routes.pop(stream, None)
        self._dedupe.forget(stream)

    def _resumed(self, link: _Link) -> None:
        # Streams carried before the drop hear of it once live on the new link: those in its
        # URL now (live since the handshake), the others when their SUBSCRIBE is answered.
        link.resuming = {name for name, route in self.routes.items() if route.was_live}
        self._announce(link, self._url_streams)

    def _announce(self, link: _Link, streams: Iterable[str]) -> None:
        for name in streams:
            if name in link.resuming:
                link.resuming.discard(name)
                route = self.routes.get(name)
                if route is not None:
                    _tell(route.subs, name, rules.STATUS_RECONNECTED)

    def _on_text(self, link: _Link, raw: bytes) -> None:
        obj = _loads(raw)
        if type(obj) is not dict:
            return
        stream = obj.get("stream")
        if stream is None:
            if "id" in obj:
                link.on_response(obj)
            return
        data = obj.get("data")
        route = self.routes.get(stream)
        if route is None:
            if stream == rules.SERVER_SHUTDOWN_STREAM:
                log.info("%s: serverShutdown on link %s; rotating", self._name, link.id)
                self._rotate_now.set()
            return
        kind = route.kind
        if not self._accept(stream, kind, data, raw, link):
            return
        for sub in route.subs:
            sub.deliver(stream, kind, obj, data)


def _tell(subs: Iterable[Subscriber], stream: str, status: str) -> None:
    for sub in list(subs):
        try:
            sub.status(stream, status)
        except Exception:  # one consumer's bug must not stop the connection or the others
            log.exception("a consumer of %s failed on its %s status", stream, status)


# -- user data through the WebSocket API -----------------------------------------------------------
class UserDataConnection(ManagedSocket):
    """The account's user data events through the WebSocket API (NOTES.md §11-12).

    Each link subscribes with ``userDataStream.subscribe.signature`` (``apiKey``, ``timestamp``,
    ``signature`` signed by the §2.3 rule; works for every key type), so a reconnect or rotation
    restores the subscription by itself. Events arrive as ``{"subscriptionId", "event"}`` and are
    handed on as the bare event dict, as the listenKey stream used to send them.
    """

    STREAM = "user"
    """The name user events are filed under (there is no stream name on the WebSocket API)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        ws_api_url: str,
        auth: UserDataAuth,
        config: StreamConfig,
        *,
        name: str = "user-data",
        rng: random.Random | None = None,
        on_exhausted: Callable[[ManagedSocket], None] | None = None,
    ) -> None:
        super().__init__(session, config, name=name, rng=rng, on_exhausted=on_exhausted)
        self._ws_api_url = ws_api_url
        self._auth = auth
        self.route = _Route(rules.KIND_USER)
        self._ready_waiters: list[asyncio.Future[None]] = []

    def _url(self) -> str:
        return self._ws_api_url

    def _signed_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "apiKey": self._auth.api_key,
            "timestamp": self._auth.timestamp_ms(),
        }
        if self._cfg.recv_window_ms is not None:
            params["recvWindow"] = self._cfg.recv_window_ms
        payload = rules.ws_api_payload(params).encode()
        params["signature"] = self._auth.sign(payload)
        return params

    async def _setup(self, link: _Link) -> None:
        await self._subscribe(link)

    async def _subscribe(self, link: _Link) -> None:
        # Every logon, first or after a reconnect: a clock never measured, or one that a -1021
        # showed stale, is measured first; then one retry (NOTES.md §1.4).
        await self._auth.align_clock()
        method = "userDataStream.subscribe.signature"
        try:
            result = await link.request(method, self._signed_params())
        except ControlError as exc:
            if exc.code != errorcodes.INVALID_TIMESTAMP.code:
                raise
            await self._auth.align_clock(stale=True)
            result = await link.request(method, self._signed_params())
        link.subscription_id = result.get("subscriptionId") if isinstance(result, dict) else None
        for fut in self._ready_waiters:
            if not fut.done():
                fut.set_result(None)
        self._ready_waiters.clear()

    async def ensure(self) -> None:
        """Start the connection and wait until the subscription is live."""
        if self.exhausted:
            raise ReconnectError()
        link = self._link
        if link is not None and link.subscription_id is not None:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ready_waiters.append(fut)
        self.start()
        await fut

    def _fail_waiters(self, exc: BaseException) -> None:
        for fut in self._ready_waiters:
            if not fut.done():
                fut.set_exception(exc)
        self._ready_waiters.clear()

    async def _resubscribe(self, link: _Link) -> None:
        try:
            await self._subscribe(link)
        except (ControlError, ConnectionError) as exc:
            log.info("%s: resubscribe failed (%r); reconnecting", self._name, exc)
            link.abort("resubscribe failed")

    def _on_text(self, link: _Link, raw: bytes) -> None:
        obj = _loads(raw)
        if type(obj) is not dict:
            return
        event = obj.get("event")
        if event is None:
            if "id" in obj:
                link.on_response(obj)
            return
        sid = obj.get("subscriptionId")
        name = event.get("e") if isinstance(event, dict) else None
        if sid is None:
            if name == "serverShutdown":
                log.info("%s: serverShutdown on link %s; rotating", self._name, link.id)
                self._rotate_now.set()
            return
        if link.subscription_id is not None and sid != link.subscription_id:
            return  # a subscription of ours that no longer counts
        route = self.route
        # The envelope differs per link (subscriptionId); the event itself is identical.
        if not self._accept(self.STREAM, route.kind, event, _dumps(event), link):
            return
        for sub in route.subs:
            sub.deliver(self.STREAM, route.kind, event, event)
        if name == "eventStreamTerminated" and not self._closing:
            link.subscription_id = None
            self._spawn(self._resubscribe(link), "resubscribe")


# -- the pool -------------------------------------------------------------------------------------
class StreamPool:
    """All connections of one manager: places streams, shares them, fans messages out.

    Args:
        stream_url: market stream base (``wss://stream.binance.com:9443``, or the simulator's).
        ws_api_url: WebSocket API URL for user data (``wss://ws-api.binance.com:443/ws-api/v3``).
        auth: key, signer and clock for user data; ``None`` if user data is not needed.
        config: the knobs (`StreamConfig`).
        rng: randomness for jitter (seed it in tests).
    """

    def __init__(
        self,
        stream_url: str,
        ws_api_url: str | None = None,
        auth: UserDataAuth | None = None,
        config: StreamConfig | None = None,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.stream_url = stream_url
        self.ws_api_url = ws_api_url
        self.auth = auth
        self.config = config or StreamConfig()
        self._rng = rng or random.Random()
        self._session: aiohttp.ClientSession | None = None
        self._routes: dict[str, _Route] = {}
        self._placement: dict[str, MarketConnection] = {}
        self._conns: list[MarketConnection] = []
        self._user: UserDataConnection | None = None
        self._lock: asyncio.Lock | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._conn_seq = 0

    # -- introspection ----------------------------------------------------------------------------
    @property
    def connections(self) -> list[ManagedSocket]:
        """Live logical connections (market ones, then user data)."""
        out: list[ManagedSocket] = list(self._conns)
        if self._user is not None:
            out.append(self._user)
        return out

    @property
    def streams(self) -> frozenset[str]:
        """Every market stream currently carried."""
        return frozenset(self._routes)

    # -- internals --------------------------------------------------------------------------------
    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    def _lock_now(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _new_conn(self) -> MarketConnection:
        self._conn_seq += 1
        conn = MarketConnection(
            self._session_now(),
            self.stream_url,
            self.config,
            name=f"streams-{self._conn_seq}",
            rng=self._rng,
            on_exhausted=self._exhausted,
        )
        self._conns.append(conn)
        return conn

    def _exhausted(self, conn: ManagedSocket) -> None:
        # The seed's contract: each consumer of the dead connection gets the error once, and its
        # subscription ends (all of it, also streams carried by healthy connections).
        if isinstance(conn, UserDataConnection):
            subs = list(conn.route.subs)
            conn.route.subs.clear()
            if self._user is conn:
                self._user = None
        else:
            assert isinstance(conn, MarketConnection)
            subs = []
            for route in conn.routes.values():
                for sub in route.subs:
                    if sub not in subs:
                        subs.append(sub)
            for name in list(conn.routes):
                self._routes.pop(name, None)
                self._placement.pop(name, None)
            conn.routes.clear()
            if conn in self._conns:
                self._conns.remove(conn)
        self._spawn(conn.close())
        error = ReconnectError()
        for sub in subs:
            sub.fail(error)
            if not isinstance(conn, UserDataConnection):
                self._spawn(self.remove(sub))

    # -- public -----------------------------------------------------------------------------------
    async def add(self, sub: Subscriber, streams: Iterable[str]) -> None:
        """Deliver ``streams`` to ``sub``; returns once all of them are live, after telling
        ``sub`` so (`Subscriber.status` with `rules.STATUS_SUBSCRIBED`).

        Raises:
            ReconnectError: a connection could not be (re)established.
            ControlError: the server refused a stream name.
        """
        if self._closed:
            raise RuntimeError("the stream pool is closed")
        names = [rules.normalize_stream(s) for s in streams]
        async with self._lock_now():
            new: list[str] = []
            for name in dict.fromkeys(names):
                route = self._routes.get(name)
                if route is None:
                    route = self._routes[name] = _Route(rules.classify(name))
                    new.append(name)
                if sub not in route.subs:
                    route.subs.append(sub)
            loads = {id(c): len(c.routes) for c in self._conns}
            by_id = {id(c): c for c in self._conns}
            for key, chunk in rules.place_streams(
                new, loads, self.config.max_streams_per_connection
            ):
                conn = by_id[key] if key is not None else self._new_conn()
                for name in chunk:
                    conn.routes[name] = self._routes[name]
                    self._placement[name] = conn
            waits: dict[int, tuple[MarketConnection, list[str]]] = {}
            for name in dict.fromkeys(names):
                conn = self._placement[name]
                waits.setdefault(id(conn), (conn, []))[1].append(name)
        try:
            await asyncio.gather(*(conn.ensure(chunk) for conn, chunk in waits.values()))
        except BaseException:
            await asyncio.shield(self.remove(sub, names))
            raise
        for name in dict.fromkeys(names):
            _tell((sub,), name, rules.STATUS_SUBSCRIBED)

    async def remove(self, sub: Subscriber, streams: Iterable[str] | None = None) -> None:
        """Stop delivering ``streams`` (default: all) to ``sub``; idle connections close."""
        async with self._lock_now():
            names = (
                [rules.normalize_stream(s) for s in streams]
                if streams is not None
                else [n for n, r in self._routes.items() if sub in r.subs]
            )
            touched: list[MarketConnection] = []
            for name in names:
                route = self._routes.get(name)
                if route is None or sub not in route.subs:
                    continue
                route.subs.remove(sub)
                if route.subs:
                    continue
                del self._routes[name]
                conn = self._placement.pop(name, None)
                if conn is not None:
                    conn.forget(name)
                    if conn not in touched:
                        touched.append(conn)
            closing = [c for c in touched if not c.routes]
            for conn in closing:
                if conn in self._conns:
                    self._conns.remove(conn)
        await asyncio.gather(*(c.close() for c in closing), return_exceptions=True)
        await asyncio.gather(*(c.resync() for c in touched if c.routes), return_exceptions=True)

    async def add_user(self, sub: Subscriber) -> None:
        """Deliver the account's user data events to ``sub``; returns once subscribed."""
        if self._closed:
            raise RuntimeError("the stream pool is closed")
        if self.auth is None or not self.ws_api_url:
            raise ValueError("user data needs an API key, a signer and the WebSocket API URL")
        async with self._lock_now():
            user = self._user
            if user is None:
                user = self._user = UserDataConnection(
                    self._session_now(),
                    self.ws_api_url,
                    self.auth,
                    self.config,
                    rng=self._rng,
                    on_exhausted=self._exhausted,
                )
            if sub not in user.route.subs:
                user.route.subs.append(sub)
        try:
            await user.ensure()
        except BaseException:
            await asyncio.shield(self.remove_user(sub))
            raise

    async def remove_user(self, sub: Subscriber) -> None:
        """Stop delivering user data to ``sub``; the connection closes with its last consumer."""
        async with self._lock_now():
            user = self._user
            if user is None or sub not in user.route.subs:
                return
            user.route.subs.remove(sub)
            if user.route.subs:
                return
            self._user = None
        await user.close()

    async def close(self) -> None:
        """Close every connection, task and the HTTP session; idempotent."""
        self._closed = True
        conns: list[ManagedSocket] = list(self._conns)
        if self._user is not None:
            conns.append(self._user)
        self._conns.clear()
        self._user = None
        self._routes.clear()
        self._placement.clear()
        await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def wall_ms() -> int:
    """Wall-clock milliseconds (gap events' ``E``)."""
    return time.time_ns() // 1_000_000
