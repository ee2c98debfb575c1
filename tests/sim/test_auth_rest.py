"""Authentication over real HTTP: key types, where the signature travels, and every refusal."""

from __future__ import annotations

import time

import pytest

from binance import errorcodes


def _key(sim, key_type: str, permissions: list[str]) -> dict:
    return next(
        k for k in sim.keys if k["key_type"] == key_type and k["permissions"] == permissions
    )


def _error(reply) -> tuple[int, int, str]:
    body = reply.json()
    return reply.status_code, body["code"], body["msg"]


FULL = ["read", "trade", "withdraw"]


@pytest.mark.parametrize("key_type", ["HMAC", "RSA", "Ed25519"])
def test_each_key_type_signs_account_requests(sim, sim_rest, key_type):
    """HMAC, RSA and Ed25519 keys authenticate GET /api/v3/account."""
    creds = _key(sim, key_type, FULL)
    reply = sim_rest.signed("GET", "/api/v3/account", creds, {"omitZeroBalances": "true"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["canTrade"] is True


@pytest.mark.parametrize(
    ("query", "body", "signature_in"),
    [
        (
            {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"},
            None,
            "query",
        ),
        ({}, {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}, "body"),
        ({"symbol": "BTCUSDT", "side": "BUY"}, {"type": "MARKET", "quantity": "0.001"}, "body"),
        ({"symbol": "BTCUSDT", "side": "BUY"}, {"type": "MARKET", "quantity": "0.001"}, "query"),
    ],
    ids=["all-query", "all-body", "mixed-sig-in-body", "mixed-sig-in-query"],
)
@pytest.mark.parametrize("key_type", ["HMAC", "Ed25519"])
def test_signature_over_query_and_body_as_sent(sim, sim_rest, query, body, signature_in, key_type):
    """NOTES.md §2.1: the payload is the query string then the body; either may hold the
    signature."""
    creds = _key(sim, key_type, FULL)
    reply = sim_rest.signed(
        "POST", "/api/v3/order/test", creds, query, body, signature_in=signature_in
    )
    assert (reply.status_code, reply.json()) == (200, {})


def test_hmac_hex_signature_is_case_insensitive(sim_rest, account):
    """An upper-case HMAC hex signature is accepted."""
    ts = int(time.time() * 1000)
    payload = f"timestamp={ts}".encode()
    sig = sim_rest.sign(account, payload).upper()
    reply = sim_rest.signed("GET", "/api/v3/account", account, timestamp=ts, signature=sig)
    assert reply.status_code == 200, reply.text


def test_non_ascii_is_signed_percent_encoded(sim_rest, account):
    """Since 2026-01-15 the payload is signed after percent-encoding: signing the percent-encoded
    bytes passes authentication (then -1121 for the unknown symbol), signing the raw UTF-8
    text is -1022."""
    symbol = "这是测试币456"
    good = sim_rest.signed(
        "POST",
        "/api/v3/order/test",
        account,
        {"symbol": symbol, "side": "BUY", "type": "MARKET", "quantity": "1"},
    )
    assert _error(good) == (400, -1121, "Invalid symbol.")
    ts = int(time.time() * 1000)
    raw_text = f"symbol={symbol}&side=BUY&type=MARKET&quantity=1&timestamp={ts}"
    bad = sim_rest.signed(
        "POST",
        "/api/v3/order/test",
        account,
        {"symbol": symbol, "side": "BUY", "type": "MARKET", "quantity": "1"},
        timestamp=ts,
        signature=sim_rest.sign(account, raw_text.encode()),
    )
    assert _error(bad) == (400, -1022, errorcodes.INVALID_SIGNATURE.message)


def test_wrong_signature_is_1022(sim_rest, account):
    """A signature made with another secret is -1022 (HTTP 400)."""
    other = dict(account.as_dict(), api_secret="x" * 64)
    reply = sim_rest.signed("GET", "/api/v3/account", other)
    assert _error(reply) == (400, -1022, "Signature for this request is not valid.")


def test_rsa_signature_with_wrong_key_is_1022(sim, sim_rest):
    """An RSA key's request signed by the Ed25519 key's private key is refused."""
    rsa_key = _key(sim, "RSA", FULL)
    ed_key = _key(sim, "Ed25519", FULL)
    impostor = dict(ed_key, api_key=rsa_key["api_key"])
    reply = sim_rest.signed("GET", "/api/v3/account", impostor)
    assert _error(reply)[:2] == (400, -1022)


@pytest.mark.parametrize(
    ("api_key", "code", "message"),
    [
        ("", -2014, "API-key format invalid."),
        ("not-a-key", -2014, "API-key format invalid."),
        ("A" * 64, -2015, "Invalid API-key, IP, or permissions for action."),
    ],
)
def test_bad_or_unknown_api_key(sim_rest, account, api_key, code, message):
    """Malformed keys are -2014, unknown ones -2015, both with HTTP 401."""
    reply = sim_rest.signed("GET", "/api/v3/account", account, api_key=api_key)
    assert _error(reply) == (401, code, message)


def test_missing_key_header_is_2014(sim_rest):
    """A signed endpoint without X-MBX-APIKEY is -2014."""
    reply = sim_rest.get("/api/v3/account", params={"timestamp": 1, "signature": "00"})
    assert _error(reply)[:2] == (401, -2014)


def test_read_only_key_cannot_trade_and_trade_key_cannot_withdraw(sim, sim_rest):
    """Permissions: TRADE needs "trade", withdrawals need "withdraw" (-2015)."""
    read_only = _key(sim, "HMAC", ["read"])
    assert sim_rest.signed("GET", "/api/v3/account", read_only).status_code == 200
    reply = sim_rest.signed(
        "POST",
        "/api/v3/order/test",
        read_only,
        {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"},
    )
    assert _error(reply)[:2] == (401, -2015)
    trader = _key(sim, "HMAC", ["read", "trade"])
    reply = sim_rest.signed(
        "POST",
        "/sapi/v1/capital/withdraw/apply",
        trader,
        {"coin": "USDT", "address": "x", "amount": "1"},
    )
    assert _error(reply)[:2] == (401, -2015)


def test_missing_signature_and_timestamp_are_1102(sim_rest, account):
    """-1102 names the missing ``signature`` or ``timestamp``."""
    headers = {"X-MBX-APIKEY": account.api_key}
    reply = sim_rest.get(
        "/api/v3/account", params={"timestamp": int(time.time() * 1000)}, headers=headers
    )
    assert _error(reply) == (
        400,
        -1102,
        "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
    )
    reply = sim_rest.get("/api/v3/account", params={"signature": "ab"}, headers=headers)
    assert _error(reply) == (
        400,
        -1102,
        "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
    )


def test_timestamp_rule(sim_rest, account):
    """NOTES.md §1.4: 1000 ms ahead or older than recvWindow is -1021; recvWindow ≤ 60000."""
    now = int(time.time() * 1000)
    ahead = sim_rest.signed("GET", "/api/v3/account", account, timestamp=now + 5000)
    assert _error(ahead) == (400, -1021, errorcodes.TIMESTAMP_AHEAD.message)
    old = sim_rest.signed("GET", "/api/v3/account", account, timestamp=now - 20_000)
    assert _error(old) == (400, -1021, errorcodes.INVALID_TIMESTAMP.message)
    wide = sim_rest.signed(
        "GET", "/api/v3/account", account, {"recvWindow": "30000.5"}, timestamp=now - 20_000
    )
    assert wide.status_code == 200, wide.text
    micro = sim_rest.signed("GET", "/api/v3/account", account, timestamp=now * 1000)
    assert micro.status_code == 200, micro.text
    too_wide = sim_rest.signed("GET", "/api/v3/account", account, {"recvWindow": "60001"})
    assert _error(too_wide)[:2] == (400, -1102)


def test_public_endpoints_ignore_the_key_header(sim_rest):
    """NONE-security endpoints answer whatever X-MBX-APIKEY says."""
    reply = sim_rest.get("/api/v3/ping", headers={"X-MBX-APIKEY": "garbage"})
    assert (reply.status_code, reply.json()) == (200, {})
