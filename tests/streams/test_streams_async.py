"""The async stream API against the simulator over loopback: every socket type, multiplexing,
live subscriptions, user data after real orders, recovery from each injected fault, rotation
with nothing lost or repeated, the error after the last retry, and a clean close."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest

from binance._streams.rules import StreamConfig
from binance.streams import ControlError, ReconnectError, Stream, StreamManager, UserAuth

from .conftest import (
    FAST,
    SYMBOL,
    async_client_for,
    async_wait_until,
    cancel_order,
    check_depth_continuity,
    client_for,
    place_order,
    ws_settings,
)

RECV_S = 10.0


async def recv(stream: Stream) -> Any:
    return await stream.recv(timeout=RECV_S)


async def collect_depth(stream: Stream, count: int) -> list[dict[str, Any]]:
    """``count`` diff events (gap events are not expected here)."""
    out = []
    while len(out) < count:
        msg = await recv(stream)
        assert msg.get("e") == "depthUpdate", msg
        out.append(msg)
    return out


# -- every socket type ----------------------------------------------------------------------------


SOCKETS = [
    ("trade", lambda sm: sm.trade_socket(SYMBOL), lambda m: m["e"] == "trade" and "t" in m),
    ("aggTrade", lambda sm: sm.aggtrade_socket(SYMBOL), lambda m: m["e"] == "aggTrade"),
    ("depth", lambda sm: sm.depth_socket(SYMBOL), lambda m: m["e"] == "depthUpdate"),
    (
        "depth5",
        lambda sm: sm.depth_socket(SYMBOL, StreamManager.WEBSOCKET_DEPTH_5),
        lambda m: "lastUpdateId" in m and len(m["bids"]) <= 5,
    ),
    (
        "depth20@100ms",
        lambda sm: sm.depth_socket(SYMBOL, 20, update_speed_ms=100),
        lambda m: "lastUpdateId" in m and len(m["asks"]) <= 20,
    ),
    ("kline", lambda sm: sm.kline_socket(SYMBOL, "1m"), lambda m: m["e"] == "kline"),
    ("symbolTicker", lambda sm: sm.symbol_ticker_socket(SYMBOL), lambda m: m["e"] == "24hrTicker"),
    (
        "tickerArray",
        lambda sm: sm.ticker_socket(),
        lambda m: isinstance(m, list) and m and m[0]["e"] == "1dTicker",
    ),
    ("bookTicker", lambda sm: sm.socket("btcusdt@bookTicker"), lambda m: m["s"] == SYMBOL),
]


@pytest.mark.parametrize(("name", "make", "check"), SOCKETS, ids=[s[0] for s in SOCKETS])
async def test_each_socket_type_delivers_binance_payloads(sim, name, make, check) -> None:
    """Every seed socket type yields the bare payload dicts Binance sends for it."""
    async with StreamManager(client_for(sim), config=FAST) as sm:
        async with make(sm) as stream:
            msg = await recv(stream)
            assert check(msg), msg


async def test_multiplex_wraps_each_frame_with_its_stream(sim) -> None:
    """A multiplex socket yields {"stream", "data"} frames, every named stream represented."""
    names = ["btcusdt@aggTrade", "btcusdt@depth@100ms"]
    async with StreamManager(client_for(sim), config=FAST) as sm:
        async with sm.multiplex_socket(["BTCUSDT@aggTrade", "btcusdt@depth@100ms"]) as ms:
            seen: set[str] = set()
            while seen != set(names):
                frame = await recv(ms)
                assert set(frame) == {"stream", "data"}
                seen.add(frame["stream"])
            assert len(sm.pool.connections) == 1


async def test_live_subscribe_and_unsubscribe_on_the_open_connection(sim) -> None:
    """Streams are added and removed on the same connection, with no reconnect."""
    async with StreamManager(client_for(sim), config=FAST) as sm:
        async with sm.multiplex_socket(["btcusdt@depth@100ms"]) as ms:
            (conn,) = sm.pool.connections
            await ms.subscribe("btcusdt@aggTrade", "ethusdt@depth@100ms")
            assert sm.pool.connections == [conn] and conn.reconnects == 0
            seen: set[str] = set()
            while not {"btcusdt@aggTrade", "ethusdt@depth@100ms"} <= seen:
                seen.add((await recv(ms))["stream"])
            await ms.unsubscribe("ethusdt@depth@100ms")
            # The UNSUBSCRIBE was acknowledged: from now on that stream never shows up again.
            later = [(await recv(ms))["stream"] for _ in range(15)]
            assert "ethusdt@depth@100ms" not in later
            assert conn.streams == {"btcusdt@depth@100ms", "btcusdt@aggTrade"}
            assert conn.reconnects == 0


async def test_bursts_of_subscriptions_stay_under_five_messages_a_second(sim) -> None:
    """Eight SUBSCRIBEs in a row are paced (the simulator drops a client above 5 messages a
    second, NOTES.md §9), and concurrent ones travel as one message; nothing reconnects."""
    names = [
        f"{s}@{k}"
        for s in ("btcusdt", "ethusdt", "bnbusdt", "ethbtc")
        for k in ("aggTrade", "depth5@100ms")
    ]
    async with StreamManager(client_for(sim), config=FAST) as sm:
        async with sm.multiplex_socket(["btcusdt@depth@100ms"]) as ms:
            (conn,) = sm.pool.connections
            for name in names:
                await ms.subscribe(name)
            await asyncio.gather(*(ms.subscribe(f"{n}@trade") for n in ("ethbtc", "bnbbtc")))
            seen: set[str] = set()
            while not {n for n in names if "depth5" in n} <= seen:
                seen.add((await recv(ms))["stream"])
            assert conn.reconnects == 0 and conn.link_count == 1
            assert len(conn.streams) == 11


async def test_streams_spread_over_connections_at_the_per_connection_cap(sim) -> None:
    """With a cap of 2 streams per connection, 5 streams take 3 connections and all flow."""
    config = StreamConfig(max_streams_per_connection=2, reconnect_initial_s=0.05)
    symbols = ["btcusdt", "ethusdt", "bnbusdt", "ethbtc", "bnbbtc"]
    names = [f"{s}@depth5@100ms" for s in symbols]
    async with StreamManager(client_for(sim), config=config) as sm:
        async with sm.multiplex_socket(names) as ms:
            assert sorted(len(c.streams) for c in sm.pool.connections) == [1, 2, 2]
            seen: set[str] = set()
            while seen != set(names):
                seen.add((await recv(ms))["stream"])


async def test_two_consumers_share_one_stream(sim) -> None:
    """Two subscriptions to one stream share its connection; closing one keeps the other."""
    async with StreamManager(client_for(sim), config=FAST) as sm:
        first = await sm.depth_socket(SYMBOL, update_speed_ms=100).open()
        second = await sm.depth_socket(SYMBOL, update_speed_ms=100).open()
        assert len(sm.pool.connections) == 1
        assert (await recv(first))["e"] == (await recv(second))["e"] == "depthUpdate"
        await first.close()
        assert (await recv(second))["e"] == "depthUpdate"
        await second.close()
        assert sm.pool.connections == []


async def test_refused_stream_name_raises(sim) -> None:
    """A live SUBSCRIBE of a retired stream is refused with the server's error."""
    async with StreamManager(client_for(sim), config=FAST) as sm:
        async with sm.depth_socket(SYMBOL) as stream:
            with pytest.raises(ControlError):
                await stream.subscribe("!ticker@arr")
            assert (await recv(stream))["e"] == "depthUpdate"


# -- user data ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key_type", ["HMAC", "Ed25519", "RSA"])
async def test_user_data_events_after_real_orders(sim, sim_rest, key_type) -> None:
    """Orders placed over REST show up as bare executionReport / account events."""
    credentials = sim.new_account({"USDT": "10000", "BTC": "1"}, key_type=key_type)
    async with StreamManager(client_for(sim, credentials), config=FAST) as sm:
        async with sm.user_socket() as user:
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
            cancel_order(sim_rest, credentials, SYMBOL, order["orderId"])
            reports = []
            kinds = set()
            while len(reports) < 2:
                event = await recv(user)
                assert "subscriptionId" not in event and "event" not in event
                kinds.add(event["e"])
                if event["e"] == "executionReport":
                    assert event["i"] == order["orderId"]
                    reports.append(event["x"])
            assert reports == ["NEW", "CANCELED"]
            assert "outboundAccountPosition" in kinds or len(kinds) == 1


async def test_user_data_is_stamped_with_the_clients_server_clock(sim) -> None:
    """With the server's clock 3 s behind this machine's, the user subscription still passes the
    timing check: UserAuth takes its timestamps from Client.timestamp_ms (NOTES.md §1.4)."""
    client = client_for(sim)
    sim.faults.set_clock_skew(-3_000)
    try:
        assert (await asyncio.to_thread(client.get_account))["canTrade"]  # measures the clock
        auth = UserAuth.from_client(client)
        assert abs(auth.timestamp_ms() - client.timestamp_ms()) < 1_000
        assert client.timestamp_ms() < int(time.time() * 1000) - 2_000
        async with StreamManager(client, config=FAST) as sm:
            user = await asyncio.wait_for(sm.user_socket().open(), RECV_S)
            await user.close()
    finally:
        sim.faults.reset()
        client._ctx.clock.invalidate()  # the shared estimate now carries the skew
        client.close()


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_user_data_logon_measures_a_never_measured_clock(sim, kind) -> None:
    """A client that never made a signed call opens user data with the server's clock 30 s
    behind this machine's: the manager measures the clock first, so the logon passes."""
    client = client_for(sim) if kind == "sync" else async_client_for(sim)
    client._ctx.clock.invalidate()
    sim.faults.set_clock_skew(-30_000)
    try:
        async with StreamManager(client, config=FAST) as sm:
            user = await asyncio.wait_for(sm.user_socket().open(), RECV_S)
            await user.close()
        assert abs(client.timestamp_ms() - (time.time() * 1000 - 30_000)) < 5_000
    finally:
        sim.faults.reset()
        client._ctx.clock.invalidate()  # the shared estimate now carries the skew
        if kind == "sync":
            client.close()
        else:
            await client.close_connection()


async def test_user_data_relogon_after_the_server_clock_stepped(sim) -> None:
    """The server's clock steps 30 s back while the user subscription is live, then the
    connection drops: the re-logon gets -1021, re-measures the clock and passes (NOTES.md
    §1.4), instead of failing until the retries run out."""
    client = client_for(sim)
    try:
        await asyncio.to_thread(client.sync_clock)
        async with StreamManager(client, config=FAST) as sm:
            user = await asyncio.wait_for(sm.user_socket().open(), RECV_S)
            (conn,) = sm.pool.connections
            sim.faults.set_clock_skew(-30_000)
            sim.faults.streams.drop_connections(target="ws_api")
            await async_wait_until(
                lambda: (
                    conn.reconnects == 1
                    and conn._link is not None
                    and conn._link.subscription_id is not None
                ),
                what="the user subscription on the new connection",
            )
            assert abs(client.timestamp_ms() - (time.time() * 1000 - 30_000)) < 5_000
            await user.close()
    finally:
        sim.faults.reset()
        sim.faults.streams.reset()
        client._ctx.clock.invalidate()  # the shared estimate now carries the skew
        client.close()


async def test_user_stream_without_a_key_fails_at_once(sim) -> None:
    """A manager without an API key refuses the user socket before connecting."""
    async with StreamManager(stream_url=sim.stream_url, ws_api_url=sim.ws_api_url) as sm:
        with pytest.raises(ValueError):
            await sm.user_socket().open()


# -- faults and recovery --------------------------------------------------------------------------


async def test_drop_reconnects_and_restores_streams_and_user_data(
    sim, sim_rest, stream_faults
) -> None:
    """After every connection is cut, market streams and the user subscription come back."""
    credentials = sim.new_account({"USDT": "10000"})
    async with StreamManager(client_for(sim, credentials), config=FAST) as sm:
        async with sm.multiplex_socket(["btcusdt@depth@100ms", "ethusdt@aggTrade"]) as ms:
            async with sm.user_socket() as user:
                await recv(ms)
                conns = sm.pool.connections
                stream_faults.drop_connections()
                await async_wait_until(
                    lambda: all(c.reconnects >= 1 and c.link_count == 1 for c in conns),
                    what="reconnects",
                )
                assert conns == sm.pool.connections  # the same logical connections
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
                while True:
                    event = await recv(user)
                    if event["e"] == "executionReport":
                        break
                assert event["i"] == order["orderId"] and event["x"] == "NEW"
                streams = set()
                while streams != {"btcusdt@depth@100ms", "ethusdt@aggTrade"}:
                    streams.add((await recv(ms))["stream"])


async def test_status_events_mark_the_live_stream_and_each_reconnect(sim, stream_faults) -> None:
    """A stream that asks for status events gets ``subscribed`` once it is live and
    ``reconnected`` when its dropped connection is back, in order with its diffs: the diffs
    after it continue among themselves, and it arrives once the reconnect is counted. A stream
    of the same name that did not ask gets diffs only."""
    async with StreamManager(client_for(sim), config=FAST) as sm:
        told = sm.depth_socket(SYMBOL, update_speed_ms=100, status_events=True)
        plain = sm.depth_socket(SYMBOL, update_speed_ms=100)
        async with told, plain:
            (conn,) = sm.pool.connections
            items = [await recv(told)]
            while items[-1].get("e") != "depthUpdate":
                items.append(await recv(told))
            assert [i["e"] for i in items].count("subscribed") == 1
            assert all(i["stream"] == "btcusdt@depth@100ms" for i in items if "stream" in i)
            stream_faults.drop_connections(target="streams")
            while (item := await recv(told)).get("e") != "reconnected":
                assert item["e"] == "depthUpdate", item
            await async_wait_until(lambda: conn.reconnects == 1, what="the reconnect count")
            assert item["stream"] == "btcusdt@depth@100ms" and "lost" in item["m"]
            after = await collect_depth(told, 3)
            check_depth_continuity(after)
            while (msg := await recv(plain))["u"] < after[-1]["u"]:
                assert msg["e"] == "depthUpdate", msg
            assert told.status_events and not plain.status_events


async def test_watchdog_replaces_a_stalled_connection(sim, stream_faults) -> None:
    """A connection that sends nothing and answers no ping is replaced; data flows again."""
    config = StreamConfig(
        reconnect_initial_s=0.05, idle_timeout_s=0.3, pong_timeout_s=0.3, close_timeout_s=0.3
    )
    async with StreamManager(client_for(sim), config=config) as sm:
        async with sm.depth_socket(SYMBOL, update_speed_ms=100) as stream:
            await recv(stream)
            (conn,) = sm.pool.connections
            stream_faults.stall(30.0, target="streams")
            await async_wait_until(lambda: conn.reconnects >= 1, what="the watchdog")
            # drain what the stalled link delivered, then the new link's events arrive
            msg = await recv(stream)
            assert msg["e"] == "depthUpdate"
            assert conn.link_count == 1


async def test_duplicated_depth_events_are_delivered_once(sim, stream_faults) -> None:
    """A server repeating diff events still yields a gapless, repeat-free U/u chain."""
    async with StreamManager(client_for(sim), config=FAST) as sm:
        async with sm.depth_socket(SYMBOL, update_speed_ms=100) as stream:
            first = await collect_depth(stream, 1)
            before = stream_faults.injected["duplicate"]  # counters last the session's sim
            stream_faults.duplicate_depth_events(5, symbol=SYMBOL)
            events = first + await collect_depth(stream, 12)
            await async_wait_until(lambda: stream_faults.injected["duplicate"] >= before + 5)
            check_depth_continuity(events)


async def test_reordered_depth_events_all_arrive(sim, stream_faults) -> None:
    """Swapped diff events are both delivered (the depth cache decides), none twice."""
    async with StreamManager(client_for(sim), config=FAST) as sm:
        async with sm.depth_socket(SYMBOL, update_speed_ms=100) as stream:
            start = (await collect_depth(stream, 1))[0]["u"]
            stream_faults.reorder_depth_events(2, symbol=SYMBOL)
            events = await collect_depth(stream, 12)
            ids = [e["u"] for e in events]
            assert len(set(ids)) == len(ids)
            covered = sorted(u for e in events for u in range(e["U"], e["u"] + 1))
            assert covered == list(range(start + 1, start + 1 + len(covered)))


async def test_skipped_depth_events_stay_visible_as_a_break(sim, stream_faults) -> None:
    """The stream layer does not hide a server-side gap: U jumps past the previous u + 1."""
    async with StreamManager(client_for(sim), config=FAST) as sm:
        async with sm.depth_socket(SYMBOL, update_speed_ms=100) as stream:
            (first,) = await collect_depth(stream, 1)
            before = stream_faults.injected["gap"]  # counters last the session's sim
            stream_faults.skip_depth_events(1, symbol=SYMBOL)
            events = await collect_depth(stream, 8)
            assert stream_faults.injected["gap"] == before + 1
            chain = [first] + events
            breaks = [(a["u"], b["U"]) for a, b in zip(chain, chain[1:], strict=False)]
            breaks = [(u, U) for u, U in breaks if U != u + 1]
            assert len(breaks) == 1 and breaks[0][1] > breaks[0][0] + 1


async def test_server_shutdown_rotates_with_nothing_lost_or_repeated(sim, stream_faults) -> None:
    """serverShutdown opens a new connection, overlaps, then closes the old: U/u unbroken, and
    a stream asking for status events hears of no reconnect (nothing was lost)."""
    async with StreamManager(client_for(sim), config=FAST) as sm:
        async with sm.depth_socket(SYMBOL, update_speed_ms=100, status_events=True) as stream:

            async def diffs(count: int) -> list[dict[str, Any]]:
                out = []
                while len(out) < count:
                    msg = await recv(stream)
                    assert msg["e"] in ("depthUpdate", "subscribed"), msg
                    if msg["e"] == "depthUpdate":
                        out.append(msg)
                return out

            events = await diffs(2)
            (conn,) = sm.pool.connections
            stream_faults.server_shutdown(notice_s=2.0, target="streams")
            while conn.rotations < 1:
                events += await diffs(1)
            events += await diffs(10)
            check_depth_continuity(events)
            assert conn.reconnects == 0 and conn.link_count == 1


async def test_user_data_rotates_on_server_shutdown(sim, sim_rest, stream_faults) -> None:
    """The WebSocket API's serverShutdown moves the user subscription to a new connection."""
    credentials = sim.new_account({"USDT": "10000"})
    async with StreamManager(client_for(sim, credentials), config=FAST) as sm:
        async with sm.user_socket() as user:
            (conn,) = sm.pool.connections
            stream_faults.server_shutdown(notice_s=3.0, target="ws_api")
            await async_wait_until(lambda: conn.rotations >= 1, what="the rotation")
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
            events = []
            while not any(e["e"] == "executionReport" for e in events):
                events.append(await recv(user))
            reports = [e for e in events if e["e"] == "executionReport"]
            assert [r["i"] for r in reports] == [order["orderId"]]
            assert conn.link_count == 1 and conn.reconnects == 0


async def test_scheduled_rotation_before_the_24_hour_cut(sim) -> None:
    """Connections rotate ahead of their lifetime, never more than two live at once."""
    config = StreamConfig(
        max_connection_age_s=1.2,
        rotate_before_s=0.4,
        rotate_jitter_s=0.0,
        overlap_min_s=0.2,
        overlap_max_s=2.0,
        close_timeout_s=0.5,
    )
    async with StreamManager(client_for(sim), config=config) as sm:
        async with sm.depth_socket(SYMBOL, update_speed_ms=100) as stream:
            (conn,) = sm.pool.connections
            events: list[dict[str, Any]] = []
            most_links = 0
            while conn.rotations < 3:
                events += await collect_depth(stream, 1)
                most_links = max(most_links, conn.link_count)
            events += await collect_depth(stream, 5)
            check_depth_continuity(events)
            assert most_links <= 2 and conn.reconnects == 0
        assert conn.link_count == 0 and sm.pool.connections == []


async def test_lifetime_cut_by_the_server_is_rotated_ahead(sim) -> None:
    """The server's own 24-hour notice (shortened) triggers rotations that lose nothing."""
    with ws_settings(sim, lifetime_s=2.5, shutdown_notice_s=1.5):
        async with StreamManager(client_for(sim), config=FAST) as sm:
            async with sm.depth_socket(SYMBOL, update_speed_ms=100) as stream:
                (conn,) = sm.pool.connections
                events: list[dict[str, Any]] = []
                while conn.rotations < 2:
                    events += await collect_depth(stream, 1)
                events += await collect_depth(stream, 3)
                check_depth_continuity(events)
                assert conn.reconnects == 0


# -- giving up, and closing -----------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_error_after_the_last_retry() -> None:
    """With nothing listening, the stream fails with the seed's message after max_retries."""
    url = f"ws://127.0.0.1:{_closed_port()}"
    config = StreamConfig(reconnect_initial_s=0.01, reconnect_max_s=0.05, max_retries=3)
    async with StreamManager(stream_url=url, config=config) as sm:
        stream = sm.trade_socket(SYMBOL)
        with pytest.raises(ReconnectError, match="Max reconnect retries reached"):
            await stream.open()
        assert sm.pool.connections == []


async def test_error_after_the_server_goes_away(sim) -> None:
    """A live stream whose server vanishes ends with ReconnectError once retries run out."""
    from binance.sim import LocalExchange

    config = StreamConfig(reconnect_initial_s=0.02, reconnect_max_s=0.1, max_retries=2)
    with LocalExchange(seed=3) as gone:
        sm = StreamManager(stream_url=gone.stream_url, config=config)
        stream = await sm.depth_socket(SYMBOL, update_speed_ms=100).open()
        await recv(stream)
    try:
        with pytest.raises(ReconnectError):
            while True:
                await recv(stream)
        assert sm.pool.connections == []
    finally:
        await sm.close()


async def test_close_leaves_no_task_or_socket(sim) -> None:
    """After close, every link's WebSocket is closed and no task of ours is left."""
    before = asyncio.all_tasks()
    sm = StreamManager(client_for(sim), config=FAST)
    market = await sm.multiplex_socket(["btcusdt@depth@100ms", "btcusdt@aggTrade"]).open()
    user = await sm.user_socket().open()
    await recv(market)
    pool = sm.pool
    links = [link for conn in pool.connections for link in conn._links]
    session = pool._session
    assert links and session is not None
    await sm.close()
    assert all(link.ws.closed for link in links)
    assert session.closed and pool.connections == []
    assert asyncio.all_tasks() <= before | {asyncio.current_task()}
    with pytest.raises(Exception):  # noqa: B017 - closed stream: StreamClosed
        await user.recv(timeout=0.1)


async def test_user_auth_hides_secrets() -> None:
    """The signer and secret never show in UserAuth's repr."""
    from binance._signing import HmacSigner

    auth = UserAuth("k" * 64, HmacSigner("s3cr3t"))
    assert "s3cr3t" not in repr(auth) and "k" * 64 not in repr(auth)
