"""Market-stream connections over loopback: control messages, limits, pings, lifetime.

A plain aiohttp WebSocket client talks to a real LocalExchange; nothing of ours is mocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import orjson
import pytest

from binance.sim import LocalExchange
from binance.sim.market_streams import MarketStreams
from waiting import TIMEOUT_SCALE as SCALE

DEADLINE = 10.0 * SCALE


@pytest.fixture(scope="module")
def sim() -> Iterator[LocalExchange]:
    with LocalExchange(seed=0, activity=5.0) as exchange:
        yield exchange


def adapter(sim: LocalExchange) -> MarketStreams:
    return next(a for a in sim.server.adapters if isinstance(a, MarketStreams))


@contextlib.contextmanager
def settings(sim: LocalExchange, **changes: Any) -> Iterator[None]:
    """Run with some WsSettings changed (connections opened inside use them)."""
    streams = adapter(sim)
    saved = streams.settings
    streams.settings = dataclasses.replace(saved, **changes)
    try:
        yield
    finally:
        streams.settings = saved


@contextlib.asynccontextmanager
async def connect(
    sim: LocalExchange, path: str, **kwargs: Any
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(sim.stream_url + path, **kwargs) as ws:
            yield ws


async def receive(ws: aiohttp.ClientWebSocketResponse) -> aiohttp.WSMessage:
    return await asyncio.wait_for(ws.receive(), DEADLINE)


async def next_json(
    ws: aiohttp.ClientWebSocketResponse, predicate: Callable[[Any], bool] = lambda d: True
) -> Any:
    """The next text frame's JSON that satisfies ``predicate`` (within the deadline)."""

    async def run() -> Any:
        while True:
            msg = await ws.receive()
            assert msg.type is aiohttp.WSMsgType.TEXT, msg
            data = orjson.loads(msg.data)
            if predicate(data):
                return data

    return await asyncio.wait_for(run(), DEADLINE)


def is_reply(request_id: Any) -> Callable[[Any], bool]:
    return lambda d: (
        isinstance(d, dict) and d.get("id") == request_id and ("result" in d or "error" in d)
    )


async def request(ws: aiohttp.ClientWebSocketResponse, doc: Any, request_id: Any = None) -> Any:
    await ws.send_str(doc if isinstance(doc, str) else orjson.dumps(doc).decode())
    return await next_json(ws, is_reply(request_id if request_id is not None else doc["id"]))


async def test_ws_without_streams_then_live_subscribe_and_unsubscribe(sim):
    """/ws opens with no stream; SUBSCRIBE starts data, LIST_SUBSCRIPTIONS lists, UNSUBSCRIBE
    stops it."""
    async with connect(sim, "/ws") as ws:
        reply = await request(
            ws, {"method": "SUBSCRIBE", "params": ["btcusdt@bookTicker"], "id": 1}
        )
        assert reply == {"result": None, "id": 1}
        ticker = await next_json(ws, lambda d: "u" in d and "e" not in d)
        assert ticker["s"] == "BTCUSDT"
        reply = await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 2})
        assert reply == {"result": ["btcusdt@bookTicker"], "id": 2}
        await asyncio.sleep(0.2)  # pacing: Binance allows 5 messages per second
        reply = await request(
            ws, {"method": "UNSUBSCRIBE", "params": ["btcusdt@bookTicker"], "id": 312}
        )
        assert reply == {"result": None, "id": 312}
        # Frames after the reply must belong to the new stream only.
        await ws.send_str(
            orjson.dumps(
                {"method": "SUBSCRIBE", "params": ["ethusdt@bookTicker"], "id": 4}
            ).decode()
        )
        seen = await next_json(ws, lambda d: d.get("s") == "ETHUSDT")
        assert seen["s"] == "ETHUSDT"
        reply = await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 5})
        assert reply["result"] == ["ethusdt@bookTicker"]


async def test_raw_path_with_several_streams_sends_unwrapped_payloads(sim):
    """/ws/a/b serves both streams without the combined wrapper."""
    async with connect(sim, "/ws/btcusdt@bookTicker/ethusdt@bookTicker") as ws:
        symbols = set()
        while symbols != {"BTCUSDT", "ETHUSDT"}:
            data = await next_json(ws)
            assert "stream" not in data
            symbols.add(data["s"])
        reply = await request(ws, {"method": "GET_PROPERTY", "params": ["combined"], "id": 9})
        assert reply == {"result": False, "id": 9}


async def test_combined_property_wraps_frames(sim):
    """/stream wraps as {"stream", "data"}; SET_PROPERTY combined false unwraps."""
    async with connect(sim, "/stream?streams=btcusdt@bookTicker") as ws:
        data = await next_json(ws, lambda d: "stream" in d)
        assert data["stream"] == "btcusdt@bookTicker"
        assert data["data"]["s"] == "BTCUSDT"
        assert await request(ws, {"method": "GET_PROPERTY", "params": ["combined"], "id": 2}) == {
            "result": True,
            "id": 2,
        }
        reply = await request(
            ws, {"method": "SET_PROPERTY", "params": ["combined", False], "id": 5}
        )
        assert reply == {"result": None, "id": 5}
        raw = await next_json(ws, lambda d: "s" in d)
        assert raw["s"] == "BTCUSDT" and "stream" not in raw


CONTROL_ERRORS = [
    ("{not json", {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 2"}, None),
    (
        '{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":1.5}',
        {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"},
        None,
    ),
    (
        '{"params":["btcusdt@trade"],"id":7}',
        {"code": 2, "msg": "Invalid request: missing field `method` at line 1 column 35"},
        7,
    ),
    (
        '{"method":"SUBSCRIBE","params":["btcusdt@trades"],"id":8}',
        {"code": 2, "msg": "Invalid request: invalid stream"},
        8,
    ),
    (
        '{"method":"SUBSCRIBE","params":["!ticker@arr"],"id":9}',
        {"code": 2, "msg": "Invalid request: invalid stream"},
        9,
    ),
    (
        '{"method":"SET_PROPERTY","params":["speed",true],"id":10}',
        {"code": 0, "msg": "Unknown property"},
        10,
    ),
    (
        '{"method":"SET_PROPERTY","params":["combined","yes"],"id":11}',
        {"code": 1, "msg": "Invalid value type: expected Boolean"},
        11,
    ),
    (
        '{"method":"GET_PROPERTY","params":[1],"id":12}',
        {"code": 2, "msg": "Invalid request: property name must be a string"},
        12,
    ),
    (
        '{"method":"SET_PROPERTY","params":["combined",true,1],"id":13}',
        {"code": 2, "msg": "Invalid request: too many parameters"},
        13,
    ),
]


@pytest.mark.parametrize(
    ("text", "error", "request_id"), CONTROL_ERRORS, ids=[e[1]["msg"][:40] for e in CONTROL_ERRORS]
)
async def test_control_errors_use_binance_payloads(sim, text, error, request_id):
    """Bad control messages get {"error": {"code", "msg"}, "id"} and the connection lives on."""
    async with connect(sim, "/ws") as ws:
        await ws.send_str(text)
        reply = await next_json(ws, lambda d: "error" in d)
        assert reply == {"error": error, "id": request_id}
        ok = await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 99})
        assert ok == {"result": [], "id": 99}


async def test_unknown_method_names_the_variants(sim):
    """An unknown method is Binance's serde message with the five variants."""
    async with connect(sim, "/ws") as ws:
        await ws.send_str('{"method":"PING","id":3}')
        reply = await next_json(ws, lambda d: "error" in d)
        assert reply["id"] == 3 and reply["error"]["code"] == 2
        assert reply["error"]["msg"].startswith(
            "Invalid request: unknown variant `PING`, expected one of `SUBSCRIBE`"
        )


@pytest.mark.parametrize(
    "path", ["/ws/btcusdt@trades", "/ws/!ticker@arr", "/stream?streams=btcusdt@trade/!bookTicker"]
)
async def test_invalid_stream_in_url_is_refused_at_handshake(sim, path):
    """An invalid or retired stream in the URL gets HTTP 400, as on Binance."""
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        async with connect(sim, path):
            pass
    assert info.value.status == 400


async def test_unknown_and_upper_case_symbols_are_accepted_silently(sim):
    """Well-formed names for unlisted or upper-case symbols subscribe fine (and stay silent)."""
    async with connect(sim, "/ws/nosuchcoin@trade") as ws:
        reply = await request(ws, {"method": "SUBSCRIBE", "params": ["BTCUSDT@trade"], "id": 1})
        assert reply == {"result": None, "id": 1}
        reply = await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 2})
        assert reply["result"] == ["nosuchcoin@trade", "BTCUSDT@trade"]


async def test_stream_limit_per_connection(sim):
    """1024 streams fit; one more is {"code": 4, "msg": "Too many subscriptions"}."""
    names = [f"coin{i}usdt@trade" for i in range(1025)]
    async with connect(sim, "/ws") as ws:
        reply = await request(ws, {"method": "SUBSCRIBE", "params": names, "id": 1})
        assert reply == {"error": {"code": 4, "msg": "Too many subscriptions"}, "id": 1}
        reply = await request(ws, {"method": "SUBSCRIBE", "params": names[:1024], "id": 2})
        assert reply == {"result": None, "id": 2}
        await asyncio.sleep(0.25)
        reply = await request(ws, {"method": "SUBSCRIBE", "params": names[1024:], "id": 3})
        assert reply == {"error": {"code": 4, "msg": "Too many subscriptions"}, "id": 3}
        reply = await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 4})
        assert len(reply["result"]) == 1024


async def test_too_many_incoming_messages_close_the_connection(sim):
    """A sixth message within a second closes the connection with 1008 Too many requests."""
    async with connect(sim, "/ws") as ws:
        for i in range(6):
            await ws.send_str(orjson.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}).decode())
        replies = []
        while True:
            msg = await receive(ws)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            replies.append(orjson.loads(msg.data))
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert ws.close_code == 1008
        assert msg.extra == "Too many requests"
        assert [r["id"] for r in replies] == [0, 1, 2, 3, 4]


async def test_server_pings_and_expects_the_payload_back(sim):
    """The server pings with a payload; echoing it keeps the connection; silence ends it."""
    with settings(sim, ping_interval_s=0.25 * SCALE, pong_timeout_s=0.6 * SCALE):
        async with connect(sim, "/ws", autoping=False) as ws:
            pongs = 0
            while pongs < 4:  # 1 s of answered pings (> pong_timeout_s): still open
                msg = await receive(ws)
                assert msg.type is aiohttp.WSMsgType.PING
                assert msg.data  # a payload to echo
                await ws.pong(msg.data)
                pongs += 1
            # now stay silent: the server gives up
            while True:
                msg = await receive(ws)
                if msg.type is not aiohttp.WSMsgType.PING:
                    break
            assert msg.type is aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 1008


async def test_unsolicited_pongs_do_not_keep_the_connection(sim):
    """Pongs that do not echo a ping's payload are ignored (NOTES.md §9)."""
    with settings(
        sim, ping_interval_s=0.1 * SCALE, pong_timeout_s=0.4 * SCALE, max_incoming_per_s=100
    ):
        async with connect(sim, "/ws", autoping=False) as ws:
            while True:
                msg = await receive(ws)
                if msg.type is not aiohttp.WSMsgType.PING:
                    break
                await ws.pong(b"")
            assert msg.type is aiohttp.WSMsgType.CLOSE


async def test_client_ping_gets_pong_with_same_payload(sim):
    """A client's ping is answered with a pong echoing it."""
    async with connect(sim, "/ws", autoping=False) as ws:
        await ws.ping(b"hello")
        msg = await receive(ws)
        assert msg.type is aiohttp.WSMsgType.PONG
        assert msg.data == b"hello"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/ws", {"e": "serverShutdown"}),
        ("/stream?streams=btcusdt@trade", {"stream": "!serverShutdown"}),
    ],
)
async def test_lifetime_cut_is_announced_with_server_shutdown(sim, path, expected):
    """Before the lifetime cut the server sends serverShutdown, then closes (1001)."""
    with settings(sim, lifetime_s=1.0, shutdown_notice_s=0.5):
        async with connect(sim, path) as ws:
            notice = await next_json(ws, lambda d: "serverShutdown" in orjson.dumps(d).decode())
            for key, value in expected.items():
                assert notice[key] == value
            event = notice.get("data", notice)
            assert event["e"] == "serverShutdown" and isinstance(event["E"], int)
            while True:
                msg = await receive(ws)
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    break
            assert msg.type is aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 1001


async def test_compressed_connection_gets_the_same_frames(sim):
    """With permessage-deflate negotiated, frames go through aiohttp's compressing writer."""
    async with connect(sim, "/stream?streams=btcusdt@bookTicker", compress=15) as ws:
        assert ws.compress == 15
        frame = await next_json(ws, lambda d: "stream" in d)
        assert frame["stream"] == "btcusdt@bookTicker" and frame["data"]["s"] == "BTCUSDT"
        reply = await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 1})
        assert reply == {"result": ["btcusdt@bookTicker"], "id": 1}


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_client_hanging_up_during_the_handshake_is_not_a_server_error(sim, no_simulator_errors):
    """A client that sends the upgrade request and leaves at once costs a debug line, not an
    error log (on both the market streams and the WebSocket API)."""
    port = int(sim.stream_url.rsplit(":", 1)[1])
    paths = ("/ws/btcusdt@trade", "/ws-api/v3")
    logger = logging.getLogger("binance.sim.market_streams")
    handler = _Records()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        for _ in range(10):
            for path in paths:
                with socket.create_connection(("127.0.0.1", port)) as raw:
                    raw.sendall(
                        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode()
                    )
        deadline = time.monotonic() + DEADLINE

        def left(path: str) -> bool:
            return any(path in r.getMessage() for r in handler.records)

        while not all(left(p) for p in paths):
            assert time.monotonic() < deadline, [r.getMessage() for r in handler.records]
            time.sleep(0.01)
        assert all(r.levelno == logging.DEBUG for r in handler.records)
        assert not no_simulator_errors.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
