"""WebSocket API authentication: per-request signatures (NOTES.md §2.3) and session logon.

Signatures are computed here independently: parameters sorted by name, ``name=value`` joined
with ``&``, no percent-encoding; HMAC hex, RSA and Ed25519 base64.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import orjson
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from binance.sim import Credentials, LocalExchange
from waiting import TIMEOUT_SCALE as SCALE

DEADLINE = 10.0 * SCALE


@pytest.fixture(scope="module")
def sim() -> Iterator[LocalExchange]:
    with LocalExchange(seed=0, activity=1.0) as exchange:
        yield exchange


def payload(params: dict[str, Any]) -> bytes:
    def text(value: Any) -> str:
        return "true" if value is True else "false" if value is False else str(value)

    items = sorted((k, v) for k, v in params.items() if k != "signature")
    return "&".join(f"{k}={text(v)}" for k, v in items).encode()


def sign(creds: Credentials, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` plus apiKey, timestamp (if absent) and signature."""
    signed = {"apiKey": creds.api_key, "timestamp": int(time.time() * 1000), **params}
    data = payload(signed)
    if creds.key_type == "HMAC":
        assert creds.api_secret is not None
        signed["signature"] = hmac.new(creds.api_secret.encode(), data, hashlib.sha256).hexdigest()
        return signed
    assert creds.private_key is not None
    key: Any = serialization.load_pem_private_key(creds.private_key.encode(), password=None)
    if creds.key_type == "RSA":
        raw = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raw = key.sign(data)
    signed["signature"] = base64.b64encode(raw).decode()
    return signed


class Api:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0
        self.frames: list[Any] = []

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        self.next_id += 1
        request: dict[str, Any] = {"id": self.next_id, "method": method}
        if params is not None:
            request["params"] = params
        await self.ws.send_str(orjson.dumps(request).decode())
        return await self.frame(lambda d: d.get("id") == request["id"] and "status" in d)

    async def frame(self, predicate: Any) -> Any:
        async def run() -> Any:
            while True:
                msg = await self.ws.receive()
                assert msg.type is aiohttp.WSMsgType.TEXT, msg
                data = orjson.loads(msg.data)
                if predicate(data):
                    return data
                self.frames.append(data)

        return await asyncio.wait_for(run(), DEADLINE)


@contextlib.asynccontextmanager
async def api(sim: LocalExchange) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(sim.ws_api_url) as ws:
            yield Api(ws)


ORDER = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "price": "20000",
    "quantity": "0.001",
}


@pytest.mark.parametrize("key_type", ["HMAC", "RSA", "Ed25519"])
async def test_signed_order_place_with_every_key_type(sim, key_type):
    """order.place signed per request rests an order and reports ORDERS limits."""
    creds = sim.new_account({"USDT": "1000"}, key_type=key_type)
    async with api(sim) as client:
        reply = await client.call("order.place", sign(creds, ORDER))
    assert reply["status"] == 200, reply
    result = reply["result"]
    assert result["status"] == "NEW" and result["symbol"] == "BTCUSDT"
    kinds = [r["rateLimitType"] for r in reply["rateLimits"]]
    assert kinds == ["ORDERS", "ORDERS", "REQUEST_WEIGHT"]
    orders = sim.call(sim.exchange.open_orders, creds.account_id, "BTCUSDT")
    assert [o.order_id for o in orders] == [result["orderId"]]


async def test_order_test_status_cancel_and_open_orders(sim):
    """order.test, order.status, openOrders.status, order.cancel and account.status work."""
    creds = sim.new_account({"USDT": "1000"})
    async with api(sim) as client:
        assert (await client.call("order.test", sign(creds, ORDER)))["result"] == {}
        placed = (await client.call("order.place", sign(creds, ORDER)))["result"]
        status = await client.call(
            "order.status", sign(creds, {"symbol": "BTCUSDT", "orderId": placed["orderId"]})
        )
        assert status["result"]["status"] == "NEW"
        open_orders = await client.call("openOrders.status", sign(creds, {"symbol": "BTCUSDT"}))
        assert [o["orderId"] for o in open_orders["result"]] == [placed["orderId"]]
        canceled = await client.call(
            "order.cancel", sign(creds, {"symbol": "BTCUSDT", "orderId": placed["orderId"]})
        )
        assert canceled["result"]["status"] == "CANCELED"
        account = await client.call("account.status", sign(creds, {}))
        usdt = [b for b in account["result"]["balances"] if b["asset"] == "USDT"]
        assert usdt == [{"asset": "USDT", "free": "1000.00000000", "locked": "0.00000000"}]


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (lambda p: p | {"signature": "0" * 64}, -1022),
        (lambda p: p | {"quantity": "0.002"}, -1022),  # signed params changed after signing
        (lambda p: {k: v for k, v in p.items() if k != "signature"}, -1102),
        (lambda p: p | {"apiKey": "x" * 10}, -2014),
        (lambda p: p | {"apiKey": "A" * 64}, -2015),
    ],
    ids=["bad-signature", "altered", "no-signature", "bad-key-format", "unknown-key"],
)
async def test_signature_errors(sim, tamper, code):
    """Wrong or missing signatures and keys get REST's codes."""
    creds = sim.new_account({"USDT": "1000"})
    async with api(sim) as client:
        reply = await client.call("order.place", tamper(sign(creds, ORDER)))
    assert reply["error"]["code"] == code
    assert reply["status"] == (401 if code in (-2014, -2015) else 400)


async def test_stale_timestamp_is_rejected(sim):
    """A timestamp older than recvWindow gets -1021."""
    creds = sim.new_account({"USDT": "1000"})
    params = sign(creds, {**ORDER, "timestamp": int(time.time() * 1000) - 60_000})
    async with api(sim) as client:
        reply = await client.call("order.place", params)
    assert reply["error"]["code"] == -1021


async def test_read_only_key_cannot_trade(sim):
    """A key without the trade permission gets -2015 on order.place."""
    creds = sim.new_account({"USDT": "1000"}, permissions=("read",))
    async with api(sim) as client:
        reply = await client.call("order.place", sign(creds, ORDER))
    assert reply["status"] == 401 and reply["error"]["code"] == -2015


async def test_session_logon_status_logout(sim):
    """Ed25519 logon authorizes later requests without apiKey/signature; logout forgets it."""
    creds = sim.new_account({"USDT": "1000"}, key_type="Ed25519")
    async with api(sim) as client:
        status = (await client.call("session.status"))["result"]
        assert status["apiKey"] is None and status["authorizedSince"] is None
        logon = await client.call("session.logon", sign(creds, {}))
        assert logon["status"] == 200
        result = logon["result"]
        assert set(result) == {
            "apiKey",
            "authorizedSince",
            "connectedSince",
            "returnRateLimits",
            "serverTime",
            "userDataStream",
        }
        assert result["apiKey"] == creds.api_key and result["userDataStream"] is False
        assert result["authorizedSince"] >= result["connectedSince"]
        placed = await client.call("order.place", {**ORDER, "timestamp": int(time.time() * 1000)})
        assert placed["status"] == 200, placed
        # the timing rule still applies to a logged-on session
        missing = await client.call("account.status", {})
        assert missing["error"]["code"] == -1102
        logout = await client.call("session.logout")
        assert logout["result"]["apiKey"] is None
        again = await client.call("order.place", {**ORDER, "timestamp": int(time.time() * 1000)})
        assert again["error"]["code"] == -1102  # apiKey required again


@pytest.mark.parametrize("key_type", ["HMAC", "RSA"])
async def test_session_logon_needs_an_ed25519_key(sim, key_type):
    """session.logon refuses HMAC and RSA keys (NOTES.md §12: Ed25519 only)."""
    creds = sim.new_account({"USDT": "1000"}, key_type=key_type)
    async with api(sim) as client:
        reply = await client.call("session.logon", sign(creds, {}))
        assert reply["status"] == 400 and reply["error"]["code"] == -1020
        assert (await client.call("session.status"))["result"]["apiKey"] is None


async def test_revoked_session_key_ends_the_session(sim):
    """After the logged-on key is deleted, the next request gets {"id": null, 401, -2015}."""
    creds = sim.new_account({"USDT": "1000"}, key_type="Ed25519")
    async with api(sim) as client:
        assert (await client.call("session.logon", sign(creds, {})))["status"] == 200
        sim.call(sim.server.ctx.keys.revoke, creds.api_key)
        await client.ws.send_str(
            orjson.dumps(
                {
                    "id": 9,
                    "method": "account.status",
                    "params": {"timestamp": int(time.time() * 1000)},
                }
            ).decode()
        )
        revoked = await client.frame(lambda d: d.get("status") == 401)
        assert revoked == {
            "id": None,
            "status": 401,
            "error": {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
        }
        assert (await client.call("session.status"))["result"]["apiKey"] is None


async def test_return_rate_limits_is_part_of_the_signed_payload(sim):
    """returnRateLimits=false in a signed request is signed like any parameter and honoured."""
    creds = sim.new_account({"USDT": "1000"})
    async with api(sim) as client:
        reply = await client.call("account.status", sign(creds, {"returnRateLimits": False}))
    assert reply["status"] == 200, reply
    assert "rateLimits" not in reply
