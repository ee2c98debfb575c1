"""The seed's BinanceSocketManager against the simulator: every start_* socket, conn keys,
stop_socket, opt-in status events, user data, the error after the last retry, a stalled
callback's bounded memory, close and restart, and a forgotten close that must not keep the
interpreter alive."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import types
from typing import Any

import pytest

from binance import enums
from binance._streams.rules import StreamConfig
from binance.websockets import BinanceSocketManager

from .conftest import FAST, SYMBOL, TIMEOUT_SCALE, client_for, place_order, wait_until


class Inbox:
    """A callback that files messages per socket, thread-safely."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: dict[str, list[Any]] = {}

    def callback(self, name: str):
        def receive(msg: Any) -> None:
            assert threading.current_thread().name == "BinanceSocketManager-callbacks"
            with self.lock:
                self.messages.setdefault(name, []).append(msg)

        return receive

    def of(self, name: str) -> list[Any]:
        with self.lock:
            return list(self.messages.get(name, ()))


@pytest.fixture
def manager(sim):
    bm = BinanceSocketManager(client_for(sim), config=FAST)
    try:
        yield bm
    finally:
        bm.close()


def test_seed_sockets_deliver_dicts(manager) -> None:
    """Each seed start_* socket calls back with Binance's message dicts."""
    inbox = Inbox()
    keys = {
        "trade": manager.start_trade_socket(SYMBOL, inbox.callback("trade")),
        "agg": manager.start_aggtrade_socket(SYMBOL, inbox.callback("agg")),
        "diff": manager.start_depth_socket(SYMBOL, inbox.callback("diff")),
        "partial": manager.start_depth_socket(
            SYMBOL, inbox.callback("partial"), depth=BinanceSocketManager.WEBSOCKET_DEPTH_5
        ),
        "multi": manager.start_multiplex_socket(
            ["ethusdt@aggTrade", "ethusdt@depth@100ms"], inbox.callback("multi")
        ),
    }
    assert keys == {
        "trade": "btcusdt@trade",
        "agg": "btcusdt@aggTrade",
        "diff": "btcusdt@depth",
        "partial": "btcusdt@depth5",
        "multi": "streams=ethusdt@aggTrade/ethusdt@depth@100ms",
    }
    manager.start()
    wait_until(lambda: all(inbox.of(k) for k in keys), what="a message on every socket")
    assert inbox.of("trade")[0]["e"] == "trade"
    assert inbox.of("agg")[0]["e"] == "aggTrade"
    assert inbox.of("diff")[0]["e"] == "depthUpdate"
    assert set(inbox.of("partial")[0]) == {"lastUpdateId", "bids", "asks"}
    frame = inbox.of("multi")[0]
    assert set(frame) == {"stream", "data"} and frame["stream"].startswith("ethusdt@")
    # all these sockets share one connection
    assert len(manager.pool.connections) == 1


def test_kline_and_ticker_sockets(manager) -> None:
    """Kline, symbol ticker and all-market ticker sockets deliver their events."""
    inbox = Inbox()
    manager.start_kline_socket(
        SYMBOL, inbox.callback("kline"), interval=enums.KLINE_INTERVAL_1MINUTE
    )
    manager.start_symbol_ticker_socket(SYMBOL, inbox.callback("ticker"))
    assert manager.start_ticker_socket(inbox.callback("all")) == "!ticker_1d@arr"
    manager.start()
    wait_until(lambda: all(inbox.of(k) for k in ("kline", "ticker", "all")), what="tickers")
    assert inbox.of("kline")[0]["e"] == "kline"
    assert inbox.of("ticker")[0]["e"] == "24hrTicker"
    assert isinstance(inbox.of("all")[0], list)


def test_same_socket_twice_returns_false_and_stop_socket_unsubscribes(manager) -> None:
    """A running socket cannot be started twice; stop_socket ends it and frees its key."""
    inbox = Inbox()
    manager.start()
    key = manager.start_depth_socket(SYMBOL, inbox.callback("a"), update_speed_ms=100)
    assert manager.start_depth_socket(SYMBOL, inbox.callback("b"), update_speed_ms=100) is False
    other = manager.start_aggtrade_socket(SYMBOL, inbox.callback("c"))
    wait_until(lambda: inbox.of("a") and inbox.of("c"), what="messages")
    manager.stop_socket(key)
    assert manager.conn_keys == [other]
    assert manager.pool.streams == {"btcusdt@aggTrade"}
    count = len(inbox.of("a"))
    wait_until(lambda: len(inbox.of("c")) >= 3, what="more trades")
    assert len(inbox.of("a")) == count  # nothing after stop_socket returned
    manager.stop_socket(other)
    assert manager.pool.connections == []
    # the key is free again
    assert manager.start_depth_socket(SYMBOL, inbox.callback("d"), update_speed_ms=100) == key
    wait_until(lambda: inbox.of("d"), what="the restarted socket")


def test_status_events_reach_only_the_sockets_that_ask(manager, sim) -> None:
    """A socket started with ``status_events`` is called back with ``subscribed`` once live and
    ``reconnected`` after a dropped connection, wrapped like its messages; a socket on the same
    stream without it gets diffs only."""
    inbox = Inbox()
    stream = f"{SYMBOL.lower()}@depth@100ms"
    manager.start_multiplex_socket([stream], inbox.callback("told"), status_events=True)
    manager.start_depth_socket(SYMBOL, inbox.callback("plain"), update_speed_ms=100)
    manager.start()
    try:

        def kinds() -> list[str]:
            return [m["data"]["e"] for m in inbox.of("told")]

        wait_until(lambda: {"subscribed", "depthUpdate"} <= set(kinds()), what="live diffs")
        (conn,) = manager.pool.connections
        sim.faults.streams.drop_connections(target="streams")
        wait_until(lambda: kinds()[-1:] == ["depthUpdate"] and "reconnected" in kinds())
        wait_until(lambda: conn.reconnects == 1, what="the reconnect count")
        told = inbox.of("told")
        status = next(m for m in told if m["data"]["e"] == "reconnected")
        assert status["stream"] == stream and status["data"]["stream"] == stream
        assert sorted(set(kinds())) == ["depthUpdate", "reconnected", "subscribed"]
        assert kinds().count("subscribed") == kinds().count("reconnected") == 1
        count = len(inbox.of("plain"))
        wait_until(lambda: len(inbox.of("plain")) > count + 2, what="diffs after the reconnect")
        assert {m["e"] for m in inbox.of("plain")} == {"depthUpdate"}
    finally:
        sim.faults.streams.reset()


def test_user_socket_logon_measures_a_never_measured_clock(sim) -> None:
    """The threaded manager's user socket, for a client that never made a signed call, with
    the server's clock 30 s behind this machine's: the logon measures the clock first, so the
    subscription goes through (NOTES.md §1.4)."""
    client = client_for(sim)
    client._ctx.clock.invalidate()
    sim.faults.set_clock_skew(-30_000)
    bm = BinanceSocketManager(client, config=FAST)
    try:
        bm.start_user_socket(lambda msg: None)
        bm.start()
        wait_until(
            lambda: (
                bm.pool is not None
                and bm.pool.connections
                and bm.pool.connections[0]._link is not None
                and bm.pool.connections[0]._link.subscription_id is not None
            ),
            what="the user subscription",
        )
        assert abs(client.timestamp_ms() - (time.time() * 1000 - 30_000)) < 5_000
    finally:
        bm.close()
        sim.faults.reset()
        client._ctx.clock.invalidate()  # the shared estimate now carries the skew
        client.close()


def test_user_socket_calls_back_with_bare_events(sim, sim_rest) -> None:
    """After a real order, the user socket's callback gets executionReport dicts."""
    credentials = sim.new_account({"USDT": "10000"})
    inbox = Inbox()
    bm = BinanceSocketManager(client_for(sim, credentials), config=FAST)
    try:
        assert bm.start_user_socket(inbox.callback("user")) == "user"
        bm.start()
        wait_until(lambda: bm.pool and bm.pool.connections, what="the user connection")
        wait_until(
            lambda: (
                bm.pool.connections[0].link_count == 1
                and bm.pool.connections[0]._link is not None
                and bm.pool.connections[0]._link.subscription_id is not None
            ),
            what="the user subscription",
        )
        order = place_order(
            sim_rest,
            credentials,
            symbol=SYMBOL,
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.001",
            price="50000",
        )
        reports = wait_until(
            lambda: [m for m in inbox.of("user") if m.get("e") == "executionReport"],
            what="the execution report",
        )
        assert reports[0]["i"] == order["orderId"] and reports[0]["X"] == "NEW"
    finally:
        bm.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_error_message_after_the_last_retry() -> None:
    """With no server, the callback gets the seed's error dict once and the socket ends."""
    client = types.SimpleNamespace(stream_url=f"ws://127.0.0.1:{_closed_port()}")
    config = StreamConfig(reconnect_initial_s=0.01, reconnect_max_s=0.05, max_retries=5)
    inbox = Inbox()
    bm = BinanceSocketManager(client, config=config)
    try:
        bm.start_trade_socket(SYMBOL, inbox.callback("t"))
        bm.start()
        wait_until(lambda: inbox.of("t"), what="the error")
        assert inbox.of("t") == [{"e": "error", "m": "Max reconnect retries reached"}]
        wait_until(lambda: bm.conn_keys == [], what="the socket to end")
    finally:
        bm.close()


def test_stalled_callback_keeps_memory_bounded(sim) -> None:
    """A callback stuck for a while never holds more than max_queue messages; drops are
    announced with a gap event and the stream then continues."""
    config = StreamConfig(max_queue=5, reconnect_initial_s=0.05)
    release = threading.Event()
    got: list[Any] = []

    def slow(msg: Any) -> None:
        release.wait(10 * TIMEOUT_SCALE)
        got.append(msg)

    bm = BinanceSocketManager(client_for(sim), config=config)
    try:
        bm.start_multiplex_socket(
            ["btcusdt@depth@100ms", "ethusdt@depth@100ms", "bnbusdt@depth@100ms"], slow
        )
        bm.start()
        (sock,) = bm._sockets.values()
        wait_until(lambda: sock.backlog.dropped > 0, what="an overflow")
        with sock.lock:
            assert len(sock.backlog) <= config.max_queue + 3
        release.set()
        wait_until(lambda: any(m["data"].get("e") == "gap" for m in got), what="a gap event")
        gap = next(m for m in got if m["data"].get("e") == "gap")
        assert gap["data"]["dropped"] >= 1 and gap["stream"].endswith("@depth@100ms")
        count = len(got)
        wait_until(lambda: len(got) > count + 3, what="the stream to continue")
    finally:
        release.set()
        bm.close()


def test_close_ends_every_thread_and_start_reconnects(sim) -> None:
    """close() ends both threads and every connection; start() after it works again."""
    inbox = Inbox()
    bm = BinanceSocketManager(client_for(sim), config=FAST)
    bm.start_aggtrade_socket(SYMBOL, inbox.callback("a"))
    bm.start()
    wait_until(lambda: inbox.of("a"), what="a trade")
    threads = bm.threads()
    assert len(threads) == 2
    pool = bm.pool
    bm.close()
    assert not any(t.is_alive() for t in threads)
    assert pool.connections == [] and bm.pool is None
    bm.start_trade_socket(SYMBOL, inbox.callback("b"))
    bm.start()
    try:
        wait_until(lambda: inbox.of("b"), what="a trade after restart")
    finally:
        bm.close()
    assert bm.threads() == []


def test_enums_and_depth_constants_on_the_class() -> None:
    """The seed exposed the enums on the manager class."""
    assert BinanceSocketManager.WEBSOCKET_DEPTH_5 == "5"
    assert BinanceSocketManager.WEBSOCKET_DEPTH_20 == "20"
    assert BinanceSocketManager.KLINE_INTERVAL_30MINUTE == "30m"
    assert BinanceSocketManager.SIDE_BUY == "BUY"
    assert issubclass(BinanceSocketManager, threading.Thread)


def test_forgotten_close_does_not_keep_the_interpreter_alive() -> None:
    """A program that starts a manager and never closes it still exits by itself."""
    script = textwrap.dedent(
        f"""
        import types
        from binance.websockets import BinanceSocketManager
        client = types.SimpleNamespace(stream_url="ws://127.0.0.1:{_closed_port()}")
        bm = BinanceSocketManager(client)
        bm.start_trade_socket("BTCUSDT", print)
        bm.start()
        print("started", flush=True)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=30 * TIMEOUT_SCALE,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("started")
