"""Every market stream's payload has Binance's shape, and engine events reach the streams.

Shapes are checked against ``shared/binance-api/examples/ws/*.json``: the same keys and the same
JSON value types at every level. A plain aiohttp client talks to a real LocalExchange.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
import pytest

from binance.sim import LocalExchange
from schemas_util import load_example
from waiting import TIMEOUT_SCALE as SCALE

DEADLINE = 15.0 * SCALE


def example(name: str) -> Any:
    return load_example(f"ws/{name}.json")


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    return "dict"


def assert_shape(expected: Any, actual: Any, where: str = "$") -> None:
    """Same keys and value types as Binance's example, recursively (lists: every item against
    the example's first item). ``null`` in the example also admits a string."""
    if expected is None:
        assert actual is None or isinstance(actual, str), f"{where}: {actual!r}"
        return
    assert json_type(actual) == json_type(expected), f"{where}: {actual!r} vs {expected!r}"
    if isinstance(expected, dict):
        assert set(actual) == set(expected), f"{where}: keys {sorted(actual)} vs {sorted(expected)}"
        for key, value in expected.items():
            assert_shape(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list) and expected:
        for index, item in enumerate(actual):
            assert_shape(expected[0], item, f"{where}[{index}]")


def assert_decimal_strings(payload: Any, keys: str) -> None:
    """Amounts are plain decimal strings (never exponents)."""
    for key in keys:
        text = payload[key]
        assert "e" not in text.lower() and text.replace(".", "", 1).lstrip("-").isdigit(), text


@pytest.fixture(scope="module")
def sim() -> Iterator[LocalExchange]:
    with LocalExchange(seed=0, activity=10.0) as exchange:
        yield exchange


STREAMS = {
    # stream name -> example file
    "btcusdt@trade": "trade",
    "btcusdt@aggTrade": "aggTrade",
    "btcusdt@kline_1s": "kline",
    "btcusdt@kline_1m": "kline",
    "btcusdt@kline_1d@+08:00": "kline_timezone",
    "btcusdt@miniTicker": "miniTicker",
    "!miniTicker@arr": "miniTicker_arr",
    "btcusdt@ticker": "ticker",
    "btcusdt@ticker_1h": "ticker_window",
    "!ticker_4h@arr": "ticker_window_arr",
    "btcusdt@bookTicker": "bookTicker",
    "btcusdt@avgPrice": "avgPrice",
    "btcusdt@depth5": "depth_partial",
    "btcusdt@depth10@100ms": "depth_partial",
    "btcusdt@depth20": "depth_partial",
    "btcusdt@depth": "depthUpdate",
    "btcusdt@depth@100ms": "depthUpdate",
}


async def test_every_stream_payload_has_binance_shape(sim):
    """One frame of each stream matches its example's keys and value types."""
    url = sim.stream_url + "/stream?streams=" + "/".join(STREAMS)
    seen: dict[str, Any] = {}
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:

        async def collect() -> None:
            while len(seen) < len(STREAMS):
                msg = await ws.receive()
                assert msg.type is aiohttp.WSMsgType.TEXT, msg
                frame = orjson.loads(msg.data)
                assert set(frame) == {"stream", "data"}
                seen.setdefault(frame["stream"], frame["data"])

        await asyncio.wait_for(collect(), DEADLINE)
    for stream, name in STREAMS.items():
        assert_shape(example(name), seen[stream], stream)
    trade = seen["btcusdt@trade"]
    assert trade["e"] == "trade" and trade["s"] == "BTCUSDT" and trade["M"] is True
    assert_decimal_strings(trade, "pq")
    kline = seen["btcusdt@kline_1d@+08:00"]["k"]
    # +08:00 daily klines open at 16:00 UTC; times stay UTC epoch ms.
    assert kline["t"] % 86_400_000 == 16 * 3_600_000
    assert kline["T"] == kline["t"] + 86_400_000 - 1
    assert seen["btcusdt@kline_1m"]["k"]["i"] == "1m"
    assert seen["btcusdt@ticker_1h"]["e"] == "1hTicker"
    assert {t["e"] for t in seen["!ticker_4h@arr"]} == {"4hTicker"}
    assert seen["btcusdt@avgPrice"]["i"] == "5m"
    for name in ("btcusdt@depth5", "btcusdt@depth10@100ms", "btcusdt@depth20"):
        book = seen[name]
        levels = int(name.split("@")[1][5:])
        assert len(book["bids"]) == len(book["asks"]) == levels
        bids = [float(p) for p, _ in book["bids"]]
        asks = [float(p) for p, _ in book["asks"]]
        assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
        assert bids[0] < asks[0]
    diff = seen["btcusdt@depth@100ms"]
    assert diff["U"] <= diff["u"]


async def test_combined_frames_wrap_raw_payloads_exactly(sim):
    """The combined wrapper carries exactly the payload a raw connection gets."""
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(sim.stream_url + "/ws/btcusdt@aggTrade") as raw_ws:
            url = sim.stream_url + "/stream?streams=btcusdt@aggTrade"
            async with session.ws_connect(url) as combined_ws:
                msg = await asyncio.wait_for(combined_ws.receive(), DEADLINE)
                frame = orjson.loads(msg.data)
                assert set(frame) == set(example("combined_wrapper"))  # {"stream", "data"}
                assert frame["stream"] == "btcusdt@aggTrade"
                assert_shape(example("aggTrade"), frame["data"])

                async def same_id() -> Any:
                    while True:
                        raw = orjson.loads((await raw_ws.receive()).data)
                        if raw["a"] == frame["data"]["a"]:
                            return raw

                raw = await asyncio.wait_for(same_id(), DEADLINE)
                assert raw == frame["data"]


def _sign(params: dict[str, Any], secret: str) -> str:
    query = urlencode(params)
    signature = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{query}&signature={signature}"


async def test_rest_trade_shows_up_on_trade_and_agg_trade_streams(sim):
    """A MARKET order placed over REST appears on @trade (same trade ids) and @aggTrade."""
    creds = sim.new_account({"USDT": "100000", "BTC": "1"})
    streams = "btcusdt@trade/btcusdt@aggTrade"
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(sim.stream_url + "/stream?streams=" + streams) as ws:
            # a frame first: the subscription is live before the order
            await asyncio.wait_for(ws.receive(), DEADLINE)
            params = {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "MARKET",
                "quantity": "0.01",
                "newOrderRespType": "FULL",
                "timestamp": int(time.time() * 1000),
            }
            async with session.post(
                sim.rest_url + "/api/v3/order?" + _sign(params, creds.api_secret),
                headers={"X-MBX-APIKEY": creds.api_key},
            ) as response:
                order = await response.json()
                assert response.status == 200, order
            trade_ids = {fill["tradeId"] for fill in order["fills"]}
            assert trade_ids
            found: set[int] = set()
            agg_covers: set[int] = set()

            async def watch() -> None:
                while not (trade_ids <= found and trade_ids <= agg_covers):
                    frame = orjson.loads((await ws.receive()).data)
                    data = frame["data"]
                    if frame["stream"] == "btcusdt@trade" and data["t"] in trade_ids:
                        found.add(data["t"])
                        # the taker bought: the maker was the seller
                        assert data["m"] is False
                    elif frame["stream"] == "btcusdt@aggTrade":
                        agg_covers.update(range(data["f"], data["l"] + 1))

            await asyncio.wait_for(watch(), DEADLINE)


async def test_legacy_listen_key_stream_until_it_expires():
    """/ws/<listenKey> (POST /api/v3/userDataStream) carries bare user events, then
    listenKeyExpired when the key runs out (NOTES.md §11)."""
    with LocalExchange(seed=0, background_market=False, listen_key_lifetime_ms=1500) as ex:
        creds = ex.new_account({"USDT": "1000"})
        async with aiohttp.ClientSession() as session:
            headers = {"X-MBX-APIKEY": creds.api_key}
            async with session.post(
                ex.rest_url + "/api/v3/userDataStream", headers=headers
            ) as response:
                assert response.status == 200
                key = (await response.json())["listenKey"]
            async with session.ws_connect(f"{ex.stream_url}/ws/{key}") as ws:
                params = {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "price": "20000",
                    "quantity": "0.001",
                    "timestamp": int(time.time() * 1000),
                }
                async with session.post(
                    ex.rest_url + "/api/v3/order?" + _sign(params, creds.api_secret),
                    headers=headers,
                ) as response:
                    assert response.status == 200

                async def events() -> list[Any]:
                    seen: list[Any] = []
                    while not seen or seen[-1]["e"] != "listenKeyExpired":
                        msg = await ws.receive()
                        assert msg.type is aiohttp.WSMsgType.TEXT, msg
                        seen.append(orjson.loads(msg.data))
                    return seen

                seen = await asyncio.wait_for(events(), DEADLINE)
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect(f"{ex.stream_url}/ws/{key}"):
                    pass
        assert info.value.status == 400  # an expired key is not a stream any more
    kinds = [e["e"] for e in seen]
    assert kinds[0] == "executionReport" and "outboundAccountPosition" in kinds
    # the example carries "v" (prevented match id), which Binance sends only after STP
    assert "v" not in seen[0]
    assert_shape(example("user_executionReport"), {**seen[0], "v": 0})
    assert_shape(example("user_listenKeyExpired"), seen[-1])
    assert seen[-1]["listenKey"] == key
