"""The seed's ``BinanceSocketManager``: callbacks fed by the asyncio stream core in a thread.

::

    from binance.websockets import BinanceSocketManager

    def process_message(msg):
        if msg["e"] == "error":          # {'e': 'error', 'm': 'Max reconnect retries reached'}
            ...
        print(msg)

    bm = BinanceSocketManager(client)     # URLs come from the client (the simulator's too)
    conn_key = bm.start_trade_socket("BNBBTC", process_message)
    bm.start()                            # the manager's thread
    ...
    bm.stop_socket(conn_key)
    bm.close()                            # every socket, task and thread ends

The manager is a ``threading.Thread`` as in the seed. Its thread runs an asyncio event loop with
the stream core (:mod:`binance._streams.conn`): shared connections, reconnects, rotation,
watchdog. Callbacks run on one more thread, the dispatcher, so a slow callback never stops the
connections from reading, answering pings or reconnecting; what piles up for it is bounded per
socket by the policy of docs/streams.md. Both threads are daemons and an ``atexit`` hook closes a
forgotten manager, so a program whose main thread is done exits by itself; to keep a program
alive just for its callbacks, call ``bm.join()``.

This module must not import the simulator.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import concurrent.futures
import logging
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from binance import enums
from binance._streams import rules
from binance._streams.conn import ControlError, ReconnectError, StreamPool, wall_ms
from binance._streams.rules import StreamConfig, StreamKind
from binance.streams import DEFAULT_STREAM_URL, DEFAULT_WS_API_URL, UserAuth

__all__ = ["BinanceSocketManager"]

log = logging.getLogger(__name__)

Callback = Callable[[Any], Any]

_USER_CONN_KEY = "user"
_BATCH = 256
_STOP_TIMEOUT_S = 30.0


class _Socket:
    """One ``start_*`` call: its streams, callback and bounded backlog (guarded by a lock)."""

    __slots__ = (
        "conn_key",
        "streams",
        "combined",
        "user",
        "callback",
        "backlog",
        "lock",
        "scheduled",
        "stopped",
        "manager",
        "status_events",
    )

    def __init__(
        self,
        manager: BinanceSocketManager,
        conn_key: str,
        streams: list[str],
        callback: Callback,
        *,
        combined: bool,
        user: bool = False,
        status_events: bool = False,
    ) -> None:
        self.manager = manager
        self.conn_key = conn_key
        self.streams = streams
        self.combined = combined
        self.user = user
        self.callback = callback
        self.backlog = rules.Backlog(
            manager.config.max_queue, combined=combined and not user, now_ms=wall_ms
        )
        self.lock = threading.Lock()
        self.scheduled = False
        self.stopped = False
        self.status_events = status_events and not user

    # Called on the event loop thread by the connections.
    def deliver(self, stream: str, kind: StreamKind, frame: Any, data: Any) -> None:
        with self.lock:
            self.backlog.put(stream, kind, frame if self.combined else data, data)
            if self.scheduled:
                return
            self.scheduled = True
        self.manager._dispatcher.schedule(self)

    def fail(self, exc: BaseException) -> None:
        message = rules.MAX_RETRIES_MESSAGE if isinstance(exc, ReconnectError) else str(exc)
        with self.lock:
            self.backlog.put_terminal(rules.error_event(message))
            schedule = not self.scheduled
            self.scheduled = True
        self.manager._forget(self)
        if schedule:
            self.manager._dispatcher.schedule(self)

    def status(self, stream: str, status: str) -> None:
        if not self.status_events or self.stopped:
            return
        event = rules.status_event(status, stream, wall_ms())
        item = {"stream": stream, "data": event} if self.combined else event
        with self.lock:
            self.backlog.put_status(stream, status, item)
            if self.scheduled:
                return
            self.scheduled = True
        self.manager._dispatcher.schedule(self)


class _Dispatcher:
    """The thread that runs callbacks, socket by socket, in arrival order per socket."""

    def __init__(self, name: str) -> None:
        self._ready: collections.deque[_Socket] = collections.deque()
        self._cond = threading.Condition(threading.Lock())
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def schedule(self, sock: _Socket) -> None:
        with self._cond:
            self._ready.append(sock)
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._ready.clear()
            self._cond.notify()

    def join(self, timeout: float | None = None) -> None:
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def _run(self) -> None:
        ready = self._ready
        cond = self._cond
        while True:
            with cond:
                while not ready and not self._stopping:
                    cond.wait()
                if self._stopping:
                    return
                sock = ready.popleft()
            with sock.lock:
                items = sock.backlog.pop_many(_BATCH)
                more = bool(sock.backlog)
                if not more:
                    sock.scheduled = False
            if more:
                with cond:
                    ready.append(sock)
            callback = sock.callback
            for item in items:
                if sock.stopped or self._stopping:
                    break
                try:
                    callback(item)
                except Exception:
                    log.exception("callback of socket %s raised", sock.conn_key)


#: Managers not yet garbage-collected; closed at interpreter exit if the program forgot to.
_LIVE: weakref.WeakSet[BinanceSocketManager] = weakref.WeakSet()


@atexit.register
def _close_forgotten_managers() -> None:
    for manager in list(_LIVE):
        manager.close()


class BinanceSocketManager(threading.Thread):
    """The seed's socket manager: ``start_*_socket(..., callback)``, ``start()``, ``close()``.

    Each ``start_*`` returns a connection key (``False`` if that socket already runs) and the
    callback receives each message as a dict. Sockets started before `start` connect when it
    runs; after it they connect at once. Connections are shared (up to 1024 streams each),
    reconnect with exponential backoff and jitter (0.1 s, doubling, at most 10 s, 5 retries by
    default; see `StreamConfig`), restore subscriptions, rotate before the 24-hour cut or on
    ``serverShutdown`` without losing or repeating messages, and are replaced when stalled.
    After the last failed retry each affected callback receives
    ``{'e': 'error', 'm': 'Max reconnect retries reached'}`` and its socket ends. Depth and
    multiplex sockets started with ``status_events=True`` are also told, in order with their
    messages, when their streams are live and when they are live again after a reconnect
    (``{"e": "subscribed"}``, ``{"e": "reconnected"}``; docs/streams.md).

    Args:
        client: the ``Client`` whose ``stream_url``/``ws_api_url`` (and key and signer, for the
            user socket) are used.
        config: knobs of the stream core (`binance._streams.rules.StreamConfig`).
    """

    STREAM_URL = DEFAULT_STREAM_URL + "/"
    WEBSOCKET_DEPTH_5 = enums.WEBSOCKET_DEPTH_5
    WEBSOCKET_DEPTH_10 = enums.WEBSOCKET_DEPTH_10
    WEBSOCKET_DEPTH_20 = enums.WEBSOCKET_DEPTH_20

    def __init__(self, client: Any, *, config: StreamConfig | None = None) -> None:
        super().__init__(name="BinanceSocketManager", daemon=True)
        self._client = client
        self.config = config or StreamConfig()
        """The knobs in force."""
        stream_url = getattr(client, "stream_url", None)
        self.stream_url: str = stream_url if isinstance(stream_url, str) else DEFAULT_STREAM_URL
        """Market stream base URL (the client's)."""
        ws_api_url = getattr(client, "ws_api_url", None)
        self.ws_api_url: str = ws_api_url if isinstance(ws_api_url, str) else DEFAULT_WS_API_URL
        """WebSocket API URL (the client's), for the user socket."""
        self._lock = threading.RLock()
        self._sockets: dict[str, _Socket] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool: StreamPool | None = None
        self._stop_event: asyncio.Event | None = None
        self._accepting = False
        self._ready = threading.Event()
        self._dispatcher = _Dispatcher("BinanceSocketManager-callbacks")
        self._auth: UserAuth | None = None
        self._tasks_on_loop: set[asyncio.Task[Any]] = set()
        _LIVE.add(self)

    # -- the seed's interface ---------------------------------------------------------------------
    def start_aggtrade_socket(self, symbol: str, callback: Callback) -> str | bool:
        """Aggregated trades of ``symbol`` (``<symbol>@aggTrade``); returns the connection key."""
        return self._start_stream(rules.aggtrade_stream(symbol), callback)

    def start_trade_socket(self, symbol: str, callback: Callback) -> str | bool:
        """Every trade of ``symbol`` (``<symbol>@trade``); returns the connection key."""
        return self._start_stream(rules.trade_stream(symbol), callback)

    def start_depth_socket(
        self,
        symbol: str,
        callback: Callback,
        depth: str | int | None = None,
        *,
        update_speed_ms: int | None = None,
        status_events: bool = False,
    ) -> str | bool:
        """Diff depth of ``symbol``, or with ``depth`` (``WEBSOCKET_DEPTH_5/10/20``) its partial
        book (``<symbol>@depth`` / ``<symbol>@depth<N>``); returns the connection key.

        Args:
            symbol: the market.
            callback: called with each message dict.
            depth: ``None`` for diffs (``depthUpdate``), else the partial book's levels.
            update_speed_ms: ``100`` for 100 ms pushes (default 1000).
            status_events: also call back with ``{"e": "subscribed", ...}`` once the stream is
                live and ``{"e": "reconnected", ...}`` each time it is live again after a
                reconnect (diffs sent meanwhile are lost: a local book must be checked, NOTES.md
                §10), in order with the messages.
        """
        stream = rules.depth_stream(symbol, depth, update_speed_ms)
        return self._start(stream, [stream], callback, combined=False, status_events=status_events)

    def start_kline_socket(
        self, symbol: str, callback: Callback, interval: str = enums.KLINE_INTERVAL_1MINUTE
    ) -> str | bool:
        """Klines of ``symbol`` (``<symbol>@kline_<interval>``); returns the connection key."""
        return self._start_stream(rules.kline_stream(symbol, interval), callback)

    def start_symbol_ticker_socket(self, symbol: str, callback: Callback) -> str | bool:
        """The 24h ticker of ``symbol`` every second (``<symbol>@ticker``)."""
        return self._start_stream(rules.symbol_ticker_stream(symbol), callback)

    def start_ticker_socket(self, callback: Callback) -> str | bool:
        """All markets' tickers as arrays, every second.

        The seed's ``!ticker@arr`` was retired on 2026-03-26 (NOTES.md §0). This serves
        ``!ticker_1d@arr``: arrays of ``1dTicker`` events with the same statistics fields
        (``s, p, P, w, o, h, l, c, v, q, O, C, F, L, n``) but no best bid/ask (``b, B, a, A``),
        previous close (``x``) or last quantity (``Q``). See docs/streams.md.
        """
        return self._start_stream(rules.ALL_MARKET_TICKERS_STREAM, callback)

    def start_multiplex_socket(
        self, streams: Iterable[str], callback: Callback, *, status_events: bool = False
    ) -> str | bool:
        """Several streams on one socket; messages are ``{"stream": name, "data": payload}``.

        Args:
            streams: stream names (``"bnbbtc@aggTrade"``...); symbols are lower-cased.
            callback: called with each wrapped message.
            status_events: also call back with ``subscribed``/``reconnected`` status events
                per stream, wrapped the same way (see `start_depth_socket`).
        """
        names = [rules.normalize_stream(s) for s in streams]
        if not names:
            raise ValueError("streams must name at least one stream")
        conn_key = "streams=" + "/".join(names)
        return self._start(conn_key, names, callback, combined=True, status_events=status_events)

    def start_user_socket(self, callback: Callback) -> str | bool:
        """The account's user data events (``executionReport``, ``outboundAccountPosition``,
        ``balanceUpdate``, ``listStatus``...) as bare event dicts.

        Binance retired the listenKey stream the seed used (NOTES.md §0, §11); this subscribes
        through the WebSocket API with ``userDataStream.subscribe.signature`` (the client's key
        and signer) and resubscribes after every reconnect or rotation.
        """
        if self._auth is None:
            self._auth = UserAuth.from_client(self._client)
        return self._start(_USER_CONN_KEY, [], callback, combined=False, user=True)

    def stop_socket(self, conn_key: str) -> None:
        """Stop the socket ``conn_key``; its connection closes if nothing else uses it.

        Returns once the unsubscription is done (at most a few seconds).
        """
        with self._lock:
            sock = self._sockets.pop(conn_key, None)
            loop = self._loop if self._accepting else None
        if sock is None:
            return
        sock.stopped = True
        if loop is not None:
            self._run_on_loop(loop, self._remove(sock), wait=True)

    def close(self) -> None:
        """Close every socket, connection and thread of this manager.

        Call `start` again (after new ``start_*`` calls) to reconnect, as in the seed.
        """
        with self._lock:
            for sock in self._sockets.values():
                sock.stopped = True
            self._sockets.clear()
            loop, stop = self._loop, self._stop_event
            self._accepting = False
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop closed meanwhile
                pass
        if self.is_alive() and threading.current_thread() is not self:
            self.join(_STOP_TIMEOUT_S)
        self._dispatcher.stop()
        self._dispatcher.join(_STOP_TIMEOUT_S)

    def start(self) -> None:
        """Start the manager's thread; sockets started so far connect now.

        Like the seed, a manager can be started again after `close`.
        """
        if self._started.is_set():  # type: ignore[attr-defined]
            if self.is_alive():
                return
            # A finished thread cannot run twice: set the Thread part up afresh.
            threading.Thread.__init__(self, name="BinanceSocketManager", daemon=True)
            self._ready = threading.Event()
            self._dispatcher = _Dispatcher("BinanceSocketManager-callbacks")
        super().start()
        self._ready.wait(_STOP_TIMEOUT_S)

    def run(self) -> None:
        """The manager thread: an event loop running the stream core until `close`."""
        loop = asyncio.new_event_loop()
        self._dispatcher.start()
        try:
            loop.run_until_complete(self._main(loop))
        except Exception:  # pragma: no cover - a bug; keep the thread's end visible
            log.exception("BinanceSocketManager loop failed")
        finally:
            with self._lock:
                self._accepting = False
                self._loop = None
                self._stop_event = None
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
                self._ready.set()

    # -- introspection ----------------------------------------------------------------------------
    @property
    def pool(self) -> StreamPool | None:
        """The connection pool while running (``pool.connections``, ``pool.streams``)."""
        return self._pool

    @property
    def conn_keys(self) -> list[str]:
        """Keys of the sockets currently started."""
        with self._lock:
            return list(self._sockets)

    def threads(self) -> list[threading.Thread]:
        """The threads this manager runs (manager thread and callback dispatcher)."""
        return [t for t in (self, self._dispatcher.thread) if t.is_alive()]

    # -- internals --------------------------------------------------------------------------------
    def _start_stream(self, stream: str, callback: Callback) -> str | bool:
        return self._start(stream, [stream], callback, combined=False)

    def _start(
        self,
        conn_key: str,
        streams: list[str],
        callback: Callback,
        *,
        combined: bool,
        user: bool = False,
        status_events: bool = False,
    ) -> str | bool:
        if not callable(callback):
            raise TypeError("callback must be callable")
        sock = _Socket(
            self,
            conn_key,
            streams,
            callback,
            combined=combined,
            user=user,
            status_events=status_events,
        )
        with self._lock:
            if conn_key in self._sockets:
                return False
            self._sockets[conn_key] = sock
            loop = self._loop if self._accepting else None
        if loop is not None:
            self._run_on_loop(loop, self._add(sock), wait=False)
        return conn_key

    def _forget(self, sock: _Socket) -> None:
        with self._lock:
            if self._sockets.get(sock.conn_key) is sock:
                del self._sockets[sock.conn_key]

    def _run_on_loop(self, loop: asyncio.AbstractEventLoop, coro: Any, *, wait: bool) -> None:
        try:
            fut = asyncio.run_coroutine_threadsafe(coro, loop)
        except RuntimeError:  # loop closed between the check and the call
            coro.close()
            return
        if wait and threading.current_thread() is not self:
            try:
                fut.result(_STOP_TIMEOUT_S)
            except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
                pass
            except Exception:
                log.exception("stopping a socket failed")

    async def _main(self, loop: asyncio.AbstractEventLoop) -> None:
        pool = StreamPool(self.stream_url, self.ws_api_url, self._auth, self.config)
        stop = asyncio.Event()
        pending = self._tasks_on_loop = set()
        with self._lock:
            self._loop = loop
            self._pool = pool
            self._stop_event = stop
            self._accepting = True
            sockets = list(self._sockets.values())
        self._ready.set()
        for sock in sockets:
            loop.create_task(self._add(sock))
        try:
            await stop.wait()
        finally:
            # Closing the pool wakes every socket still connecting; then nothing is left.
            await pool.close()
            for task in list(pending):
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            self._pool = None

    async def _add(self, sock: _Socket) -> None:
        task = asyncio.current_task()
        tasks = self._tasks_on_loop
        if task is not None:
            tasks.add(task)
        pool = self._pool
        try:
            if pool is None or sock.stopped:
                return
            if sock.user:
                if pool.auth is None:
                    pool.auth = self._auth
                await pool.add_user(sock)
            else:
                await pool.add(sock, sock.streams)
        except ReconnectError:
            pass  # the pool already told the socket (error event) and dropped it
        except ConnectionError:
            pass  # the manager is closing
        except (ControlError, ValueError, RuntimeError) as exc:
            sock.fail(exc)
        except asyncio.CancelledError:
            raise
        finally:
            if task is not None:
                tasks.discard(task)
        if sock.stopped and pool is not None:  # stopped while connecting
            await self._remove(sock)

    async def _remove(self, sock: _Socket) -> None:
        pool = self._pool
        if pool is None:
            return
        if sock.user:
            await pool.remove_user(sock)
        else:
            await pool.remove(sock)


# The seed exposed every enum on the manager too (``BinanceSocketManager.KLINE_INTERVAL_1MINUTE``).
for _name in dir(enums):
    if _name.isupper() and not hasattr(BinanceSocketManager, _name):
        setattr(BinanceSocketManager, _name, getattr(enums, _name))
del _name
