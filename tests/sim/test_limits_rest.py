"""Rate limits over real HTTP, on a LocalExchange with tiny limits: 429, 418, headers."""

from __future__ import annotations

import time

import pytest

from binance import errorcodes
from binance.sim import LocalExchange

WEIGHT = 10
FIVE_MINUTES = 300_000


@pytest.fixture(scope="module")
def tiny():
    """A LocalExchange with small limits (module-wide: starting one takes a second)."""
    with LocalExchange(
        seed=7,
        request_weight_per_minute=WEIGHT,
        orders_per_10s=2,
        ban_after_ignored_429s=2,
        sapi_ip_weight_per_minute=3,
    ) as exchange:
        yield exchange


@pytest.fixture
def rest(tiny, make_sim_rest):
    """SimRest on `tiny`, whose clock is set to just after a 5-minute boundary so no limit
    window rolls over during the test; counts and bans are forgotten before and after."""
    wall = int(time.time() * 1000)
    tiny.faults.set_clock_skew(FIVE_MINUTES - wall % FIVE_MINUTES + 50)
    tiny.limits.reset()
    try:
        yield make_sim_rest(tiny.rest_url)
    finally:
        tiny.faults.reset()
        tiny.limits.reset()


def server_now(tiny) -> int:
    return int(time.time() * 1000) + tiny.faults.clock_skew_ms


def _error(reply) -> tuple[int, int, str]:
    body = reply.json()
    return reply.status_code, body["code"], body["msg"]


def test_weight_429_then_418_ban(tiny, rest):
    """Over REQUEST_WEIGHT: 429 -1003 with Retry-After; ignoring it earns a 418 ban."""
    for n in range(1, WEIGHT + 1):
        reply = rest.get("/api/v3/ping")
        assert reply.status_code == 200
        assert reply.headers["X-MBX-USED-WEIGHT-1M"] == str(n)
    over = rest.get("/api/v3/ping")
    assert _error(over) == (429, -1003, errorcodes.TOO_MANY_REQUESTS.msg(WEIGHT, "1 MINUTE"))
    assert 55 <= int(over.headers["Retry-After"]) <= 60
    assert over.headers["X-MBX-USED-WEIGHT-1M"] == str(WEIGHT + 1)
    ignored = rest.get("/api/v3/ping")  # first request during the 429 period: still 429
    assert ignored.status_code == 429
    banned = rest.get("/api/v3/ping")  # second: banned
    status, code, message = _error(banned)
    assert (status, code) == (418, -1003)
    assert int(banned.headers["Retry-After"]) == 120
    until = int(message.split("banned until ")[1].split(".")[0])
    assert message == errorcodes.IP_BANNED.msg(until)
    assert 119_000 <= until - server_now(tiny) <= 120_500
    still = rest.get("/api/v3/time")
    assert still.status_code == 418 and int(still.headers["Retry-After"]) <= 120


def test_successful_orders_are_free_and_failures_pay(tiny, rest):
    """Order placement weighs 0 when it succeeds (NOTES.md §3), 1 when it fails."""
    account = tiny.new_account()
    order = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.001",
        "price": "50000",
    }
    ok = rest.signed("POST", "/api/v3/order", account, order, timestamp=server_now(tiny))
    assert ok.status_code == 200 and ok.headers["X-MBX-USED-WEIGHT-1M"] == "0"
    bad = rest.signed(
        "POST", "/api/v3/order", account, dict(order, price="1.001"), timestamp=server_now(tiny)
    )
    assert bad.status_code == 400 and bad.headers["X-MBX-USED-WEIGHT-1M"] == "1"


def test_orders_limit_is_429_1015(tiny, rest):
    """The third order in 10 seconds is refused with -1015 and Retry-After."""
    account = tiny.new_account()
    order = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.001",
        "price": "50000",
    }
    for n in (1, 2):
        reply = rest.signed("POST", "/api/v3/order", account, order, timestamp=server_now(tiny))
        assert reply.headers["X-MBX-ORDER-COUNT-10S"] == str(n)
    third = rest.signed("POST", "/api/v3/order", account, order, timestamp=server_now(tiny))
    assert _error(third) == (429, -1015, errorcodes.TOO_MANY_ORDERS.msg(2, "10 SECOND"))
    assert 1 <= int(third.headers["Retry-After"]) <= 10
    # Per account: a fresh account may still place.
    other = tiny.new_account()
    assert (
        rest.signed("POST", "/api/v3/order", other, order, timestamp=server_now(tiny)).status_code
        == 200
    )


def test_sapi_has_its_own_budget_and_never_bans(tiny, rest):
    """/sapi answers X-SAPI-USED-IP-WEIGHT-1M, not the /api weight, and only ever 429."""
    for n in range(1, 4):
        reply = rest.get("/sapi/v1/system/status")
        assert reply.headers["X-SAPI-USED-IP-WEIGHT-1M"] == str(n)
        assert "X-MBX-USED-WEIGHT-1M" not in reply.headers
    for _ in range(4):
        reply = rest.get("/sapi/v1/system/status")
        assert reply.status_code == 429 and "Retry-After" in reply.headers
    assert rest.get("/api/v3/ping").status_code == 200


def test_exchange_info_shows_the_configured_limits(tiny, rest):
    """exchangeInfo's rateLimits are the configured values."""
    info = rest.get("/api/v3/exchangeInfo")
    # exchangeInfo weighs 20 > 10: over the limit at once, so ask for it after a reset.
    if info.status_code == 429:
        tiny.limits.reset()
        tiny.limits.config.request_weight_per_minute = 100
        try:
            info = rest.get("/api/v3/exchangeInfo")
        finally:
            tiny.limits.config.request_weight_per_minute = WEIGHT
    limits = {
        (r["rateLimitType"], r["interval"], r["intervalNum"]): r["limit"]
        for r in info.json()["rateLimits"]
    }
    assert limits[("ORDERS", "SECOND", 10)] == 2
    assert limits[("RAW_REQUESTS", "MINUTE", 5)] == 300_000
