"""Unit tests of the simulator's rate limiter with an injected clock (no I/O)."""

from __future__ import annotations

import pytest

from binance import errorcodes
from binance.sim._context import SimConfig
from binance.sim._limits import RateLimited, RateLimiter

T0 = 1_700_000_080_000  # 40 s into a minute, 0 s into a 10 s window


def limiter(**kw) -> RateLimiter:
    return RateLimiter(SimConfig(**kw))


def test_weight_counts_per_ip_and_resets_on_the_clock_minute():
    """Weight adds up per IP inside a clock-aligned minute and restarts at :00."""
    lim = limiter(request_weight_per_minute=100)
    lim.admit("a", 60, T0)
    lim.admit("b", 60, T0)
    assert lim.used_weight("a", T0) == 60
    assert lim.weight_headers("a", T0) == {"X-MBX-USED-WEIGHT-1M": "60", "X-MBX-USED-WEIGHT": "60"}
    assert lim.used_weight("a", T0 + 19_999) == 60
    assert lim.used_weight("a", T0 + 20_000) == 0  # next minute


def test_over_the_limit_is_429_with_retry_after_until_the_window_ends():
    """The request that crosses REQUEST_WEIGHT gets 429 -1003 and Retry-After in seconds."""
    lim = limiter(request_weight_per_minute=100)
    lim.admit("a", 100, T0)
    with pytest.raises(RateLimited) as exc:
        lim.admit("a", 1, T0 + 500)
    err = exc.value
    assert err.error.http_status == 429 and err.code == -1003
    assert err.message == errorcodes.TOO_MANY_REQUESTS.msg(100, "1 MINUTE")
    assert err.retry_after_s == 20  # 19.5 s left, rounded up
    assert err.retry_at_ms == T0 + 20_000


def test_ignoring_429s_earns_a_418_ban_that_escalates():
    """Requests during the 429 period lead to a 418 ban: 2 minutes, then doubled."""
    lim = limiter(request_weight_per_minute=10, ban_after_ignored_429s=2)
    lim.admit("a", 10, T0)
    with pytest.raises(RateLimited) as exc:
        lim.admit("a", 1, T0 + 1)
    assert exc.value.error.http_status == 429
    with pytest.raises(RateLimited) as exc:  # first ignored 429: still 429
        lim.admit("a", 1, T0 + 2)
    assert exc.value.error.http_status == 429
    with pytest.raises(RateLimited) as exc:  # second: banned
        lim.admit("a", 1, T0 + 3)
    ban = exc.value
    assert ban.error.http_status == 418 and ban.code == -1003
    assert ban.retry_after_s == 120 and ban.retry_at_ms == T0 + 3 + 120_000
    assert ban.message == errorcodes.IP_BANNED.msg(T0 + 3 + 120_000)
    # Still banned later, with the remaining time; other IPs are unaffected.
    with pytest.raises(RateLimited) as exc:
        lim.admit("a", 1, T0 + 60_003)
    assert exc.value.error.http_status == 418 and exc.value.retry_after_s == 60
    lim.admit("b", 1, T0 + 60_003)
    # After the ban, normal service; a second ban lasts twice as long.
    t = T0 + 3 + 120_000
    lim.admit("a", 10, t)
    for _ in range(2):
        with pytest.raises(RateLimited):
            lim.admit("a", 1, t + 1)
    with pytest.raises(RateLimited) as exc:
        lim.admit("a", 1, t + 2)
    assert exc.value.error.http_status == 418 and exc.value.retry_after_s == 240


def test_ban_length_is_capped_at_three_days():
    """Escalation stops at ban_max_s."""
    lim = limiter(request_weight_per_minute=1, ban_after_ignored_429s=1, ban_first_s=100_000)
    t = T0
    lengths = []
    for _ in range(4):
        lim.admit("a", 1, t)
        with pytest.raises(RateLimited):
            lim.admit("a", 1, t)
        with pytest.raises(RateLimited) as exc:
            lim.admit("a", 1, t)
        lengths.append(exc.value.retry_after_s)
        t = exc.value.retry_at_ms
    assert lengths == [100_000, 200_000, 259_200, 259_200]


def test_refund_makes_successful_orders_free():
    """refund() gives weight back (free-on-success endpoints)."""
    lim = limiter()
    lim.admit("a", 1, T0)
    lim.refund("a", 1, T0)
    assert lim.used_weight("a", T0) == 0


def test_raw_requests_limit():
    """RAW_REQUESTS counts requests, not weight, over 5 minutes."""
    lim = limiter(raw_requests_per_5m=3)
    for _ in range(3):
        lim.admit("a", 0, T0)
    with pytest.raises(RateLimited) as exc:
        lim.admit("a", 0, T0)
    assert exc.value.message == errorcodes.TOO_MANY_RAW_REQUESTS.msg(3, "5 MINUTE")


def test_orders_limit_per_account_in_10s_and_day_windows():
    """ORDERS: -1015 naming the window; headers count per account."""
    lim = limiter(orders_per_10s=2, orders_per_day=3)
    lim.admit_orders("x", 1, T0)
    lim.add_orders("x", 1, T0)
    lim.add_orders("x", 1, T0 + 1)
    assert lim.order_headers("x", T0 + 1) == {
        "X-MBX-ORDER-COUNT-10S": "2",
        "X-MBX-ORDER-COUNT-1D": "2",
    }
    with pytest.raises(RateLimited) as exc:
        lim.admit_orders("x", 1, T0 + 2)
    assert exc.value.code == -1015 and exc.value.error.http_status == 429
    assert exc.value.message == errorcodes.TOO_MANY_ORDERS.msg(2, "10 SECOND")
    assert exc.value.retry_after_s == 10
    lim.admit_orders("y", 1, T0 + 2)  # other accounts unaffected
    lim.add_orders("x", 1, T0 + 10_000)  # next 10 s window
    with pytest.raises(RateLimited) as exc:
        lim.admit_orders("x", 1, T0 + 10_001)
    assert exc.value.message == errorcodes.TOO_MANY_ORDERS.msg(3, "1 DAY")
    status = lim.order_status("x", T0 + 10_001)
    assert [(s["interval"], s["intervalNum"], s["limit"], s["count"]) for s in status] == [
        ("SECOND", 10, 2, 1),
        ("DAY", 1, 3, 3),
    ]


def test_sapi_budgets_are_per_endpoint_and_never_ban():
    """Each /sapi endpoint has its own budget; going over is 429, never 418."""
    lim = limiter(sapi_ip_weight_per_minute=10, ban_after_ignored_429s=1)
    lim.admit_sapi("/sapi/v1/a", "ip", 10, False, T0)
    lim.admit_sapi("/sapi/v1/b", "ip", 10, False, T0)
    for _ in range(5):
        with pytest.raises(RateLimited) as exc:
            lim.admit_sapi("/sapi/v1/a", "ip", 1, False, T0)
        assert exc.value.error.http_status == 429
    assert lim.sapi_headers("/sapi/v1/b", "ip", False, T0) == {"X-SAPI-USED-IP-WEIGHT-1M": "10"}
    assert lim.sapi_headers("/sapi/v1/c", "acct", True, T0) == {"X-SAPI-USED-UID-WEIGHT-1M": "0"}


def test_rate_limits_reflect_the_configuration():
    """exchangeInfo's rateLimits show the configured values."""
    lim = limiter(
        request_weight_per_minute=77, orders_per_10s=5, orders_per_day=9, raw_requests_per_5m=11
    )
    assert lim.rate_limits() == [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 77},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 5},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 9},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 11},
    ]


def test_reset_forgets_counts_and_bans():
    """reset() clears weight, orders and bans."""
    lim = limiter(request_weight_per_minute=1, ban_after_ignored_429s=1)
    lim.admit("a", 1, T0)
    for _ in range(2):
        with pytest.raises(RateLimited):
            lim.admit("a", 1, T0)
    assert lim.ban_remaining_ms("a", T0) > 0
    lim.reset()
    assert lim.ban_remaining_ms("a", T0) == 0
    lim.admit("a", 1, T0)
