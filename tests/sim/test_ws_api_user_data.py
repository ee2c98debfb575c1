"""The user data stream over the WebSocket API, after real orders and deposits (NOTES.md §11).

Events arrive as ``{"subscriptionId": n, "event": {...}}``; their shapes are checked against
``shared/binance-api/examples/ws/wsapi_event_*.json`` (same keys, same value types).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
import pytest
from cryptography.hazmat.primitives import serialization

from binance.sim import Credentials, LocalExchange
from schemas_util import load_example
from waiting import TIMEOUT_SCALE as SCALE

DEADLINE = 10.0 * SCALE
#: executionReport fields Binance sends only when they apply (NOTES.md §11).
CONDITIONAL = {
    "v",
    "A",
    "B",
    "d",
    "D",
    "j",
    "J",
    "u",
    "U",
    "Cs",
    "pl",
    "pL",
    "pY",
    "b",
    "a",
    "k",
    "uS",
    "gP",
    "gOT",
    "gOV",
    "gp",
    "eR",
}


def example(name: str) -> Any:
    return load_example(f"ws/{name}.json")


def kind(value: Any) -> str:
    return type(value).__name__ if value is not None else "null"


def assert_shape(expected: Any, actual: Any, where: str = "$", optional: frozenset = frozenset()):
    if expected is None:
        assert actual is None or isinstance(actual, str), f"{where}: {actual!r}"
        return
    assert kind(actual) == kind(expected), f"{where}: {actual!r} vs {expected!r}"
    if isinstance(expected, dict):
        assert set(expected) - optional <= set(actual), f"{where}: missing keys"
        assert set(actual) <= set(expected) | optional, (
            f"{where}: extra {set(actual) - set(expected)}"
        )
        for key, value in expected.items():
            if key in actual:
                assert_shape(value, actual[key], f"{where}.{key}", optional)
    elif isinstance(expected, list) and expected:
        for index, item in enumerate(actual):
            assert_shape(expected[0], item, f"{where}[{index}]", optional)


@pytest.fixture(scope="module")
def sim() -> Iterator[LocalExchange]:
    with LocalExchange(seed=0, activity=2.0) as exchange:
        yield exchange


def ws_sign(creds: Credentials, params: dict[str, Any]) -> dict[str, Any]:
    signed = {"apiKey": creds.api_key, "timestamp": int(time.time() * 1000), **params}
    data = "&".join(f"{k}={v}" for k, v in sorted(signed.items())).encode()
    if creds.key_type == "HMAC":
        assert creds.api_secret is not None
        signed["signature"] = hmac.new(creds.api_secret.encode(), data, hashlib.sha256).hexdigest()
    else:
        assert creds.private_key is not None
        key: Any = serialization.load_pem_private_key(creds.private_key.encode(), None)
        signed["signature"] = base64.b64encode(key.sign(data)).decode()
    return signed


class Api:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[Any] = []

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        self.next_id += 1
        request: dict[str, Any] = {"id": self.next_id, "method": method}
        if params is not None:
            request["params"] = params
        await self.ws.send_str(orjson.dumps(request).decode())
        return await self._read(lambda d: d.get("id") == request["id"] and "status" in d)

    async def event(self, predicate: Callable[[Any], bool]) -> Any:
        """The first event (kept or new) that satisfies ``predicate``."""
        for index, event in enumerate(self.events):
            if predicate(event):
                return self.events.pop(index)
        return await self._read(lambda d: "event" in d and predicate(d), keep=False)

    async def _read(self, predicate: Callable[[Any], bool], keep: bool = True) -> Any:
        async def run() -> Any:
            while True:
                msg = await self.ws.receive()
                assert msg.type is aiohttp.WSMsgType.TEXT, msg
                data = orjson.loads(msg.data)
                if predicate(data):
                    return data
                if "event" in data:
                    self.events.append(data)

        return await asyncio.wait_for(run(), DEADLINE)


@contextlib.asynccontextmanager
async def api(sim: LocalExchange) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(sim.ws_api_url) as ws:
            yield Api(ws)


async def rest_order(sim: LocalExchange, creds: Credentials, **params: Any) -> Any:
    params["timestamp"] = int(time.time() * 1000)
    query = urlencode(params)
    assert creds.api_secret is not None
    signature = hmac.new(creds.api_secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{sim.rest_url}/api/v3/order?{query}&signature={signature}",
            headers={"X-MBX-APIKEY": creds.api_key},
        ) as response:
            body = await response.json()
            assert response.status == 200, body
            return body


def of(name: str, **fields: Any) -> Callable[[Any], bool]:
    return lambda d: (
        d["event"]["e"] == name and all(d["event"].get(k) == v for k, v in fields.items())
    )


async def test_logon_subscription_delivers_execution_reports_and_balances(sim):
    """After session.logon + userDataStream.subscribe, a REST order produces executionReport
    (NEW, then TRADE) and outboundAccountPosition for the account, shaped like Binance's."""
    creds = sim.new_account({"USDT": "100000", "BTC": "1"}, key_type="Ed25519")
    rest_creds = sim.call(sim.server.ctx.keys.create, creds.account_id, "HMAC")
    rest = Credentials.from_record(rest_creds)
    async with api(sim) as client:
        assert (await client.call("session.logon", ws_sign(creds, {})))["status"] == 200
        reply = await client.call("userDataStream.subscribe")
        assert reply["result"] == {"subscriptionId": 0}
        assert (await client.call("session.status"))["result"]["userDataStream"] is True
        order = await rest_order(
            sim, rest, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01"
        )
        new = await client.event(of("executionReport", x="NEW", i=order["orderId"]))
        trade = await client.event(of("executionReport", x="TRADE", i=order["orderId"]))
        position = await client.event(of("outboundAccountPosition"))
    assert new["subscriptionId"] == 0
    report = example("wsapi_event_executionReport")
    assert_shape(report, new, optional=frozenset(CONDITIONAL))
    assert_shape(report, trade, optional=frozenset(CONDITIONAL))
    assert trade["event"]["X"] in ("FILLED", "PARTIALLY_FILLED")
    assert trade["event"]["t"] == order["fills"][0]["tradeId"]
    assert_shape(example("wsapi_event_outboundAccountPosition"), position)
    assets = {b["a"] for b in position["event"]["B"]}
    assert {"BTC", "USDT"} <= assets


async def test_signature_subscription_and_balance_update(sim):
    """userDataStream.subscribe.signature works with an HMAC key; a deposit is balanceUpdate."""
    creds = sim.new_account({"USDT": "10"})
    async with api(sim) as client:
        reply = await client.call("userDataStream.subscribe.signature", ws_sign(creds, {}))
        assert reply["status"] == 200 and reply["result"] == {"subscriptionId": 0}
        again = await client.call("userDataStream.subscribe.signature", ws_sign(creds, {}))
        assert again["error"]["code"] == -2035  # one subscription per account per connection
        sim.credit_deposit("USDT", "25", account_id=creds.account_id)
        update = await client.event(of("balanceUpdate", a="USDT"))
    assert_shape(example("wsapi_event_balanceUpdate"), update)
    assert update["event"]["d"] == "25.00000000"


async def test_events_only_reach_the_accounts_subscriptions(sim):
    """Another account's orders never show on this subscription."""
    mine = sim.new_account({"USDT": "1000"})
    other = sim.new_account({"USDT": "100000"})
    async with api(sim) as client:
        await client.call("userDataStream.subscribe.signature", ws_sign(mine, {}))
        await rest_order(
            sim,
            other,
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            price="20000",
            quantity="0.001",
        )
        placed = await rest_order(
            sim,
            mine,
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            price="20000",
            quantity="0.001",
        )
        report = await client.event(of("executionReport", x="NEW"))
    assert report["event"]["i"] == placed["orderId"]


async def test_subscriptions_list_and_unsubscribe(sim):
    """session.subscriptions lists ids; unsubscribe ends each with eventStreamTerminated."""
    first = sim.new_account({"USDT": "10"})
    second = sim.new_account({"USDT": "10"})
    async with api(sim) as client:
        await client.call("userDataStream.subscribe.signature", ws_sign(first, {}))
        await client.call("userDataStream.subscribe.signature", ws_sign(second, {}))
        listed = await client.call("session.subscriptions")
        assert listed["result"] == [{"subscriptionId": 0}, {"subscriptionId": 1}]
        reply = await client.call("userDataStream.unsubscribe", {"subscriptionId": 1})
        assert reply["result"] == {}
        ended = await client.event(of("eventStreamTerminated"))
        assert ended["subscriptionId"] == 1
        assert_shape(example("wsapi_event_eventStreamTerminated"), ended)
        missing = await client.call("userDataStream.unsubscribe", {"subscriptionId": 1})
        assert missing["error"]["code"] == -2036
        assert (await client.call("userDataStream.unsubscribe"))["result"] == {}
        ended = await client.event(of("eventStreamTerminated"))
        assert ended["subscriptionId"] == 0
        assert (await client.call("session.subscriptions"))["result"] == []


async def test_logout_ends_logon_subscriptions_only(sim):
    """session.logout terminates the subscription made through the session, not the others."""
    ed = sim.new_account({"USDT": "10"}, key_type="Ed25519")
    other = sim.new_account({"USDT": "10"})
    async with api(sim) as client:
        await client.call("session.logon", ws_sign(ed, {}))
        assert (await client.call("userDataStream.subscribe"))["result"] == {"subscriptionId": 0}
        await client.call("userDataStream.subscribe.signature", ws_sign(other, {}))
        await client.call("session.logout")
        ended = await client.event(of("eventStreamTerminated"))
        assert ended["subscriptionId"] == 0
        listed = await client.call("session.subscriptions")
        assert listed["result"] == [{"subscriptionId": 1}]
        refused = await client.call("userDataStream.subscribe")
        assert refused["error"]["code"] == -2015  # no session any more
