"""Stream faults (``LocalExchange.faults.streams``): each one is observable by a plain client.

Drops, stalls, gaps, duplicated and reordered diff events, early cuts with ``serverShutdown``,
slow REST snapshots, slow-consumer disconnects, and the same faults drawn at random from a seed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import orjson
import pytest

from binance.sim import LocalExchange
from binance.sim._stream_faults import StreamFaults
from binance.sim.market_streams import MarketStreams
from binance.sim.ws_api import WsApi
from waiting import TIMEOUT_SCALE as SCALE

DEADLINE = 10.0 * SCALE
ABNORMAL = (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)


@pytest.fixture(scope="module")
def sim() -> Iterator[LocalExchange]:
    # 20 ms stream ticks: diff events arrive fast enough to see faults within a second.
    with LocalExchange(
        seed=0, activity=20.0, tick_interval_ms=20, ws_stream_tick_ms=20.0
    ) as exchange:
        yield exchange


@pytest.fixture(autouse=True)
def clean_faults(sim: LocalExchange) -> Iterator[None]:
    yield
    sim.faults.reset()


def market_streams(sim: LocalExchange) -> MarketStreams:
    return next(a for a in sim.server.adapters if isinstance(a, MarketStreams))


def faults(sim: LocalExchange) -> StreamFaults:
    streams = sim.faults.streams
    assert isinstance(streams, StreamFaults)
    return streams


async def wait_until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def connect(sim: LocalExchange, url: str, **kwargs: Any) -> AsyncIterator[Any]:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, **kwargs) as ws:
            yield ws


async def receive(ws: aiohttp.ClientWebSocketResponse) -> aiohttp.WSMessage:
    return await asyncio.wait_for(ws.receive(), DEADLINE)


async def next_text(ws: aiohttp.ClientWebSocketResponse) -> Any:
    msg = await receive(ws)
    assert msg.type is aiohttp.WSMsgType.TEXT, msg
    return orjson.loads(msg.data)


async def until_closed(ws: aiohttp.ClientWebSocketResponse) -> aiohttp.WSMessage:
    while True:
        msg = await receive(ws)
        if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.PING):
            return msg


async def test_drop_aborts_connections_without_close_frame(sim):
    """drop_connections() cuts the TCP connection: the client sees an abnormal closure."""
    before = faults(sim).injected["drop"]
    async with connect(sim, sim.stream_url + "/ws/btcusdt@depth@100ms") as ws:
        await next_text(ws)
        faults(sim).drop_connections()
        msg = await until_closed(ws)
        assert msg.type in ABNORMAL
        assert ws.close_code in (None, 1006)
    assert faults(sim).injected["drop"] > before


async def test_drop_targets_one_kind_of_connection(sim):
    """drop_connections("ws_api") leaves market-stream connections alone."""
    async with connect(sim, sim.stream_url + "/ws/btcusdt@depth@100ms") as stream_ws:
        async with connect(sim, sim.ws_api_url) as api_ws:
            await api_ws.send_str('{"id":1,"method":"ping"}')
            assert (await next_text(api_ws))["status"] == 200
            faults(sim).drop_connections("ws_api")
            msg = await until_closed(api_ws)
            assert msg.type in ABNORMAL
            # the stream connection still delivers
            for _ in range(3):
                assert (await next_text(stream_ws))["e"] == "depthUpdate"


async def test_stall_sends_nothing_and_answers_no_ping(sim):
    """During a stall no frame and no pong leave the server; afterwards data resumes."""
    streams = market_streams(sim)
    async with connect(sim, sim.stream_url + "/ws/btcusdt@depth@100ms", autoping=False) as ws:
        await next_text(ws)
        faults(sim).stall(0.5)
        await wait_until(lambda: sim.call(lambda: any(c.stalled for c in streams.connections)))
        await ws.ping(b"during")
        while True:  # the first frame after the ping arrives only once the stall is over
            msg = await receive(ws)
            assert msg.type is not aiohttp.WSMsgType.PONG, "pong sent while stalled"
            if msg.type is aiohttp.WSMsgType.TEXT:
                break
        assert not sim.call(lambda: any(c.stalled for c in streams.connections))
        await ws.ping(b"after")
        while True:
            msg = await receive(ws)
            if msg.type is aiohttp.WSMsgType.PONG:
                break
        assert msg.data == b"after"
    assert faults(sim).injected["stall"] >= 1


def pairs(items: list[Any]) -> list[tuple[Any, Any]]:
    """Consecutive pairs: (items[0], items[1]), (items[1], items[2])..."""
    return [(items[i], items[i + 1]) for i in range(len(items) - 1)]


async def read_depth(
    ws: aiohttp.ClientWebSocketResponse, until: Callable[[list[Any]], bool]
) -> list[Any]:
    events: list[Any] = []

    async def run() -> None:
        while not until(events):
            events.append(await next_text(ws))

    await asyncio.wait_for(run(), DEADLINE)
    return events


async def test_gap_skips_diff_events(sim):
    """skip_depth_events(1) makes the next event start past previous u + 1, once."""
    async with connect(sim, sim.stream_url + "/ws/btcusdt@depth@100ms") as ws:
        first = await next_text(ws)
        before = faults(sim).injected["gap"]  # counters last the session's sim
        faults(sim).skip_depth_events(1, symbol="BTCUSDT")
        events = await read_depth(
            ws, lambda ev: len(ev) >= 5 and faults(sim).injected["gap"] > before
        )
    chain = [first, *events]
    jumps = [b["U"] - a["u"] - 1 for a, b in pairs(chain) if b["U"] != a["u"] + 1]
    assert len(jumps) == 1 and jumps[0] > 0  # exactly one gap: ids were skipped


async def test_duplicate_sends_an_event_twice(sim):
    """duplicate_depth_events(1): one event arrives twice in a row."""
    async with connect(sim, sim.stream_url + "/ws/ethusdt@depth@100ms") as ws:
        await next_text(ws)
        faults(sim).duplicate_depth_events(1, symbol="ETHUSDT")
        events = await read_depth(ws, lambda ev: len(ev) >= 4 and any(a == b for a, b in pairs(ev)))
    repeats = [a for a, b in pairs(events) if a == b]
    assert len(repeats) == 1


async def test_reorder_swaps_consecutive_events(sim):
    """reorder_depth_events(1): an event arrives after the one that follows it."""
    async with connect(sim, sim.stream_url + "/ws/bnbusdt@depth@100ms") as ws:
        await next_text(ws)
        faults(sim).reorder_depth_events(1, symbol="BNBUSDT")
        events = await read_depth(
            ws, lambda ev: len(ev) >= 2 and any(b["u"] < a["U"] for a, b in pairs(ev))
        )
    swapped = [(a, b) for a, b in pairs(events) if b["u"] < a["U"]]
    assert len(swapped) == 1
    later, earlier = swapped[0]
    assert later["U"] == earlier["u"] + 1  # sorted back, they are continuous


@pytest.mark.parametrize("kind", ["streams", "ws_api"])
async def test_early_cut_sends_server_shutdown_then_closes(sim, kind):
    """server_shutdown(notice_s): serverShutdown now, close (1001) after the notice."""
    url = sim.stream_url + "/ws/btcusdt@trade" if kind == "streams" else sim.ws_api_url
    async with connect(sim, url) as ws:
        if kind == "ws_api":
            await ws.send_str('{"id":1,"method":"ping"}')
        await next_text(ws)
        faults(sim).server_shutdown(notice_s=0.2, target=kind)

        async def notice() -> Any:
            while True:
                data = await next_text(ws)
                event = data.get("event", data) if isinstance(data, dict) else {}
                if event.get("e") == "serverShutdown":
                    return data

        data = await asyncio.wait_for(notice(), DEADLINE)
        if kind == "ws_api":
            assert set(data) == {"event"}
        msg = await until_closed(ws)
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert ws.close_code == 1001


async def test_slow_snapshots_delay_rest_depth(sim):
    """slow_snapshots(ms) delays GET /api/v3/depth by at least that long."""
    faults(sim).slow_snapshots(300)
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        async with session.get(sim.rest_url + "/api/v3/depth?symbol=BTCUSDT") as response:
            assert response.status == 200
            book = await response.json()
        assert time.monotonic() - started >= 0.3
    assert book["lastUpdateId"] > 0


async def test_slow_consumer_is_dropped_when_its_queue_overflows(sim):
    """A connection whose queue exceeds max_queued_frames is aborted; others are unaffected."""
    streams = market_streams(sim)
    saved = streams.settings
    streams.settings = dataclasses.replace(saved, max_queued_frames=20)
    names = "/".join(f"{s}@depth@100ms" for s in ("btcusdt", "ethusdt", "bnbusdt", "ethbtc"))
    try:
        async with connect(sim, sim.stream_url + "/stream?streams=" + names) as slow:
            await next_text(slow)
            # A 30 s stall stands in for a client that stops reading: the queue fills up.
            faults(sim).stall(30.0, target="streams")
            msg = await until_closed(slow)  # long before the stall would end
            assert msg.type in ABNORMAL
    finally:
        streams.settings = saved


async def test_random_depth_faults_from_a_seed(sim):
    """set_random(seed=..., gap, duplicate, reorder) produces each anomaly on a busy stream."""
    faults(sim).set_random(seed=5, gap=0.1, duplicate=0.1, reorder=0.1)
    names = "/".join(f"{s}@depth@100ms" for s in ("btcusdt", "ethusdt", "bnbusdt", "ethbtc"))
    async with connect(sim, sim.stream_url + "/stream?streams=" + names) as ws:
        by_stream: dict[str, list[Any]] = {}
        kinds: set[str] = set()

        async def run() -> None:
            while kinds != {"gap", "duplicate", "reorder"}:
                frame = await next_text(ws)
                chain = by_stream.setdefault(frame["stream"], [])
                event = frame["data"]
                if chain:
                    prev = chain[-1]
                    if event == prev:
                        kinds.add("duplicate")
                    elif event["u"] < prev["U"]:
                        kinds.add("reorder")
                    elif event["U"] > prev["u"] + 1:
                        kinds.add("gap")
                chain.append(event)

        await asyncio.wait_for(run(), DEADLINE)
    injected = faults(sim).injected
    assert injected["gap"] and injected["duplicate"] and injected["reorder"]


async def test_random_drops_from_a_seed(sim):
    """set_random(drop=1.0) drops every connection within a second or so."""
    faults(sim).set_random(seed=9, drop=1.0)
    async with connect(sim, sim.stream_url + "/ws/btcusdt@trade") as ws:
        msg = await until_closed(ws)
        assert msg.type in ABNORMAL


def test_ws_api_adapter_is_mounted(sim):
    """Both WebSocket adapters are served by the LocalExchange."""
    assert any(isinstance(a, WsApi) for a in sim.server.adapters)
