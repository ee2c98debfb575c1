"""WebSocket API requests over loopback: frames, market data, errors and weights like REST.

Each market-data method is checked against its REST twin on the same LocalExchange: the same
result shape (or the same value, for values that do not move), the same error codes for the same
mistakes, and the same request weight in ``rateLimits``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import orjson
import pytest

from binance._endpoints import BY_WS_METHOD
from binance.sim import LocalExchange
from waiting import TIMEOUT_SCALE as SCALE

DEADLINE = 10.0 * SCALE


@pytest.fixture(scope="module")
def sim() -> Iterator[LocalExchange]:
    with LocalExchange(seed=0, activity=2.0) as exchange:
        yield exchange


@pytest.fixture(autouse=True)
def fresh_limits(sim: LocalExchange) -> Iterator[None]:
    sim.call(sim.limits.reset)
    yield


class Api:
    """A minimal WebSocket API client: one request, its response (events are kept aside)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[Any] = []

    async def call(self, method: str, params: dict[str, Any] | None = None, **extra: Any) -> Any:
        self.next_id += 1
        request: dict[str, Any] = {"id": self.next_id, "method": method, **extra}
        if params is not None:
            request["params"] = params
        return await self.raw(orjson.dumps(request).decode(), self.next_id)

    async def raw(self, text: str, request_id: Any) -> Any:
        await self.ws.send_str(text)

        async def reply() -> Any:
            while True:
                msg = await self.ws.receive()
                assert msg.type is aiohttp.WSMsgType.TEXT, msg
                data = orjson.loads(msg.data)
                if "status" in data and data.get("id") == request_id:
                    return data
                self.events.append(data)

        return await asyncio.wait_for(reply(), DEADLINE)


@contextlib.asynccontextmanager
async def api(sim: LocalExchange, query: str = "") -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(sim.ws_api_url + query) as ws:
            yield Api(ws)


async def rest(sim: LocalExchange, path: str, params: dict[str, Any]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.get(sim.rest_url + path, params=params) as response:
            return response.status, await response.json()


def weight_count(reply: dict[str, Any]) -> int:
    [weight] = [r for r in reply["rateLimits"] if r["rateLimitType"] == "REQUEST_WEIGHT"]
    assert weight["interval"] == "MINUTE" and weight["intervalNum"] == 1
    return int(weight["count"])


async def test_time_response_frame_matches_binance(sim):
    """{"id", "status": 200, "result": {"serverTime"}, "rateLimits": [...]} like the example."""
    async with api(sim) as client:
        reply = await client.call("time")
    assert set(reply) == {"id", "status", "result", "rateLimits"}
    assert reply["id"] == 1 and reply["status"] == 200
    assert isinstance(reply["result"]["serverTime"], int)
    [limit] = reply["rateLimits"]
    assert set(limit) == {"rateLimitType", "interval", "intervalNum", "limit", "count"}
    assert limit["limit"] == 6000


async def test_return_rate_limits_false_hides_them(sim):
    """returnRateLimits=false per request or on the URL drops rateLimits."""
    async with api(sim) as client:
        reply = await client.call("time", {"returnRateLimits": False})
        assert set(reply) == {"id", "status", "result"}
    async with api(sim, "?returnRateLimits=false") as client:
        reply = await client.call("ping")
        assert reply == {"id": 1, "status": 200, "result": {}}
        status = await client.call("session.status")
        assert status["result"]["returnRateLimits"] is False


async def test_ids_are_echoed_and_v3_prefix_is_accepted(sim):
    """String and null ids come back as sent; "v3/time" is "time"."""
    async with api(sim) as client:
        reply = await client.raw('{"id":"e2a85d9f-07a5","method":"v3/time"}', "e2a85d9f-07a5")
        assert reply["status"] == 200
        reply = await client.raw('{"id":null,"method":"ping"}', None)
        assert reply["result"] == {}


MARKET_METHODS = [
    ("ping", "/api/v3/ping", {}),
    ("exchangeInfo", "/api/v3/exchangeInfo", {"symbol": "BTCUSDT"}),
    ("depth", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5}),
    ("trades.recent", "/api/v3/trades", {"symbol": "BTCUSDT", "limit": 3}),
    ("trades.aggregate", "/api/v3/aggTrades", {"symbol": "BTCUSDT", "limit": 3}),
    (
        "klines",
        "/api/v3/klines",
        {"symbol": "BTCUSDT", "interval": "1h", "limit": 3, "endTime": 1_600_000_000_000},
    ),
    ("avgPrice", "/api/v3/avgPrice", {"symbol": "BTCUSDT"}),
    ("ticker.24hr", "/api/v3/ticker/24hr", {"symbol": "BTCUSDT"}),
    ("ticker", "/api/v3/ticker", {"symbol": "BTCUSDT", "windowSize": "1h"}),
    ("ticker.tradingDay", "/api/v3/ticker/tradingDay", {"symbol": "BTCUSDT"}),
    ("ticker.price", "/api/v3/ticker/price", {"symbol": "BTCUSDT"}),
    ("ticker.book", "/api/v3/ticker/bookTicker", {"symbols": ["BTCUSDT", "ETHUSDT"]}),
]
STABLE = {"ping", "exchangeInfo", "klines"}


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


@pytest.mark.parametrize(
    ("method", "path", "params"), MARKET_METHODS, ids=[m[0] for m in MARKET_METHODS]
)
async def test_market_data_methods_answer_like_rest(sim, method, path, params):
    """Same result as the REST endpoint (same value where it does not move) and same weight."""
    async with api(sim) as client:
        before = weight_count(await client.call("ping"))
        reply = await client.call(method, params)
        assert reply["status"] == 200, reply
        endpoint = BY_WS_METHOD[method]
        assert weight_count(reply) - before == endpoint.weight_for(params)
    wire = {
        k: orjson.dumps(v).decode() if isinstance(v, list) else str(v) for k, v in params.items()
    }
    status, body = await rest(sim, path, wire)
    assert status == 200
    if method == "exchangeInfo":
        # NOTES.md §3: the WebSocket API lists CONNECTIONS where REST lists RAW_REQUESTS.
        ws_limits = {r["rateLimitType"] for r in reply["result"].pop("rateLimits")}
        rest_limits = {r["rateLimitType"] for r in body.pop("rateLimits")}
        assert ws_limits == rest_limits - {"RAW_REQUESTS"} | {"CONNECTIONS"}
        reply["result"].pop("serverTime")
        body.pop("serverTime")
    if method in STABLE:
        assert reply["result"] == body
    else:
        assert shape(reply["result"]) == shape(body)


ERRORS = [
    ("depth", {"symbol": "NOPE"}, 400, -1121),
    ("depth", {}, 400, -1102),
    ("depth", {"symbol": "BTCUSDT", "limit": "x"}, 400, -1100),
    ("klines", {"symbol": "BTCUSDT", "interval": "2m"}, 400, -1120),
    ("ticker.24hr", {"symbol": "BTCUSDT", "type": "HUGE"}, 400, -1139),
    ("trades.recent", {"symbol": "BTCUSDT", "bogus": 1}, 400, -1104),
]


@pytest.mark.parametrize(
    ("method", "params", "status", "code"), ERRORS, ids=[f"{e[0]}{e[3]}" for e in ERRORS]
)
async def test_errors_match_rest(sim, method, params, status, code):
    """A bad request gets the same status, code and message as over REST."""
    async with api(sim) as client:
        reply = await client.call(method, params)
    assert set(reply) == {"id", "status", "error", "rateLimits"}
    assert reply["status"] == status
    assert reply["error"]["code"] == code
    path = BY_WS_METHOD[method].path
    rest_status, body = await rest(sim, path, {k: str(v) for k, v in params.items()})
    assert rest_status == status
    assert body == reply["error"]


async def test_malformed_requests(sim):
    """Bad JSON, non-object params, unknown or missing methods get Binance-style errors."""
    async with api(sim) as client:
        reply = await client.raw("{nope", None)
        assert reply["status"] == 400 and reply["error"]["code"] == -1135
        reply = await client.raw('{"id":5,"method":"depth","params":["BTCUSDT"]}', 5)
        assert reply["error"] == {
            "code": -1135,
            "msg": "Invalid 'params' in JSON request; expected an object.",
        }
        reply = await client.raw('{"id":6,"method":"order.teleport","params":{}}', 6)
        assert reply["status"] == 400 and reply["error"]["code"] == -1020
        reply = await client.raw('{"id":7,"params":{}}', 7)
        assert reply["error"]["code"] == -1102
        # the connection is still usable
        assert (await client.call("ping"))["status"] == 200


async def test_weight_limit_gives_429_with_retry_after(sim):
    """Over REQUEST_WEIGHT the method answers 429 -1003 with data.retryAfter (epoch ms)."""
    saved = sim.limits.config.request_weight_per_minute
    sim.limits.config.request_weight_per_minute = 30
    try:
        async with api(sim) as client:
            reply = None
            for _ in range(10):
                reply = await client.call("depth", {"symbol": "BTCUSDT", "limit": 5})
                if reply["status"] != 200:
                    break
            assert reply is not None and reply["status"] == 429
            assert reply["error"]["code"] == -1003
            data = reply["error"]["data"]
            assert data["retryAfter"] > data["serverTime"]
    finally:
        sim.limits.config.request_weight_per_minute = saved


async def test_ignoring_429s_gets_a_418_ban_that_closes_the_connection(sim):
    """Requests sent through a 429 earn a 418 -1003 ban, and the connection is closed."""
    config = sim.limits.config
    saved = config.request_weight_per_minute
    config.request_weight_per_minute = 10
    try:
        async with api(sim) as client:
            statuses = []
            reply: Any = None
            while 418 not in statuses and len(statuses) < 20:
                reply = await client.call("depth", {"symbol": "BTCUSDT", "limit": 5})
                statuses.append(reply["status"])
            assert 429 in statuses and statuses[-1] == 418
            assert reply["error"]["code"] == -1003
            assert reply["error"]["data"]["retryAfter"] > reply["error"]["data"]["serverTime"]
            msg = await asyncio.wait_for(client.ws.receive(), DEADLINE)
            assert msg.type is aiohttp.WSMsgType.CLOSE
    finally:
        config.request_weight_per_minute = saved
        sim.call(sim.limits.reset)
