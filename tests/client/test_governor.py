"""Governor arithmetic with an injected clock: budgets, window roll-over, headers, Retry-After."""

from __future__ import annotations

import threading

from binance._governor import Governor, Ticket

MIN = 60_000
W = ("REQUEST_WEIGHT", MIN)


def gov(limit=100, **kwargs):
    return Governor({W: limit}, headroom=1.0, pad_ms=500, **kwargs)


def test_reserves_until_the_budget_is_spent_then_waits_for_the_next_window():
    """In-flight weight counts; the wait ends at the window's end plus the pad."""
    g = gov(100)
    now = 10 * MIN + 1_000
    tickets = [g.try_acquire(now, weight=40) for _ in range(2)]
    assert all(isinstance(t, Ticket) for t in tickets)
    wait = g.try_acquire(now, weight=40)
    assert wait == (11 * MIN + 500 - now) / 1000
    # After the roll-over (and the pad) the budget is fresh, but in-flight weight still counts.
    later = 11 * MIN + 500
    assert isinstance(g.try_acquire(later, weight=20), Ticket)
    assert isinstance(g.try_acquire(later + 1, weight=40), float)


def test_server_count_replaces_the_reservation():
    """X-MBX-USED-WEIGHT-1M is the truth: it includes other clients on the same IP."""
    g = gov(100)
    now = 5 * MIN + 10
    ticket = g.try_acquire(now, weight=5)
    g.release(ticket, now + 20, {"x-mbx-used-weight-1m": "90"}, status=200)
    assert isinstance(g.try_acquire(now + 30, weight=10), Ticket)
    assert isinstance(g.try_acquire(now + 30, weight=1), float)


def test_no_answer_charges_our_estimate():
    """A request that got no answer may have been counted: charge its weight."""
    g = gov(10)
    now = MIN + 10
    g.release(g.try_acquire(now, weight=6), now, None)
    assert isinstance(g.try_acquire(now, weight=5), float)
    assert isinstance(g.try_acquire(now, weight=4), Ticket)


def test_cancel_returns_the_reservation_without_charge():
    """A request never sent costs nothing."""
    g = gov(10)
    ticket = g.try_acquire(MIN, weight=10)
    g.cancel(ticket)
    assert isinstance(g.try_acquire(MIN, weight=10), Ticket)


def test_answer_from_the_previous_window_is_charged_to_the_new_one():
    """A request in flight at the roll-over may be counted in either window: assume the new."""
    g = gov(100)
    ticket = g.try_acquire(MIN - 100, weight=30)
    g.release(ticket, 2 * MIN + 600, {"x-mbx-used-weight-1m": "99"}, status=200)
    assert isinstance(g.try_acquire(2 * MIN + 600, weight=70), Ticket)
    assert isinstance(g.try_acquire(2 * MIN + 600, weight=1), float)


def test_retry_after_blocks_every_request():
    """429 with Retry-After holds all requests until it has passed (plus the pad)."""
    g = gov(100)
    now = 3 * MIN
    g.release(g.try_acquire(now, weight=1), now, {}, status=429, retry_after_s=7)
    assert g.rejections[429] == 1
    assert g.try_acquire(now + 1_000, weight=1) == (7_000 + 500 - 1_000) / 1000
    assert isinstance(g.try_acquire(now + 7_500, weight=1), Ticket)


def test_limits_come_from_exchange_info_and_429_messages():
    """rateLimits replace the defaults; a 429 message teaches the limit too."""
    g = Governor(headroom=1.0)
    g.update_limits(
        [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 50,
            },
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 3},
            {"rateLimitType": "CONNECTIONS", "interval": "MINUTE", "intervalNum": 5, "limit": 9},
        ]
    )
    assert g.limits()[W] == 50
    assert g.limits()[("ORDERS", 10_000)] == 3
    g.note_limit_message(
        "Too much request weight used; current limit is 20 request weight per 1 MINUTE."
    )
    assert g.limits()[W] == 20


def test_order_count_is_per_account():
    """ORDERS budgets (from exchangeInfo) are kept per API key."""
    g = Governor(headroom=1.0)
    g.update_limits(
        [{"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 2}]
    )
    now = 100_000
    for count in ("1", "2"):
        ticket = g.try_acquire(now, weight=1, orders=1, account="a")
        g.release(ticket, now, {"x-mbx-order-count-10s": count}, status=200, account="a")
    assert isinstance(g.try_acquire(now, weight=1, orders=1, account="a"), float)
    assert isinstance(g.try_acquire(now, weight=1, orders=1, account="b"), Ticket)


def test_sapi_weight_has_its_own_budget():
    """/sapi calls are counted apart from /api weight."""
    g = Governor({W: 10, ("SAPI_IP_WEIGHT", MIN): 5}, headroom=1.0)
    assert isinstance(g.try_acquire(MIN, weight=5, sapi=True), Ticket)
    assert isinstance(g.try_acquire(MIN, weight=1, sapi=True), float)
    assert isinstance(g.try_acquire(MIN, weight=10), Ticket)


def test_a_request_heavier_than_the_limit_goes_alone():
    """A single request over the limit is not blocked forever, only made to go alone."""
    g = gov(10)
    first = g.try_acquire(MIN, weight=50)
    assert isinstance(first, Ticket)
    assert isinstance(g.try_acquire(MIN, weight=50), float)


def test_threads_never_overspend():
    """Concurrent acquires never reserve more than the limit in one window."""
    g = gov(1000)
    granted = []
    lock = threading.Lock()

    def worker():
        for _ in range(100):
            got = g.try_acquire(MIN + 1, weight=3)
            if isinstance(got, Ticket):
                with lock:
                    granted.append(got)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 1000 // 3


def test_shared_per_host():
    """for_host returns one governor per host."""
    assert Governor.for_host("http://127.0.0.1:1") is Governor.for_host("http://127.0.0.1:1")
    assert Governor.for_host("http://127.0.0.1:1") is not Governor.for_host("http://127.0.0.1:2")


def test_unconfirmed_limits_allow_one_request_then_ask_for_discovery():
    """With guessed limits, a second concurrent request first fetches the live ones."""
    from binance._governor import DISCOVER

    g = Governor(headroom=1.0)
    assert not g.confirmed
    first = g.try_acquire(MIN, weight=1)
    assert isinstance(first, Ticket)
    assert g.try_acquire(MIN, weight=1) is DISCOVER
    assert g.try_acquire(MIN, weight=1) == 0.02  # someone else is discovering: poll
    probe = g.try_acquire(MIN, weight=20, discovery=True)
    assert isinstance(probe, Ticket)
    g.update_limits(
        [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 99}]
    )
    assert g.confirmed and isinstance(g.try_acquire(MIN, weight=1), Ticket)


def test_failed_discovery_falls_back_to_documented_limits():
    from binance._governor import DISCOVER

    g = Governor()
    g.try_acquire(MIN, weight=1)
    assert g.try_acquire(MIN, weight=1) is DISCOVER
    g.discovery_failed()
    assert isinstance(g.try_acquire(MIN, weight=1), Ticket)


def test_usage_is_the_servers_count_against_binances_limit():
    """usage(): the server's 1-minute count plus weight in flight, and the limit before
    headroom; read-only, and 0 once the minute of the last answer is over."""
    g = Governor({W: 6000}, headroom=0.9)
    now = 7 * MIN + 100
    assert g.usage(now) == (0, 6000)
    ticket = g.try_acquire(now, weight=5)
    assert g.usage(now) == (5, 6000)
    g.release(ticket, now + 5, {"x-mbx-used-weight-1m": "123"}, status=200)
    assert g.usage(now + 10) == (123, 6000)
    assert g.usage(8 * MIN) == (0, 6000)
    assert g.usage() == (123, 6000)  # no clock: the last count; usage() rolled nothing over
    g.update_limits(
        [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 1200}]
    )
    assert g.usage(now + 10) == (123, 1200)
    assert g.limits()[W] == 1080  # the governor itself still keeps its headroom


def test_usage_without_a_weight_limit_reports_binances_default():
    """A governor built without a REQUEST_WEIGHT limit reports nothing used against 6000."""
    g = Governor({("RAW_REQUESTS", 300_000): 61_000})
    assert g.usage(MIN) == (0, 6000)
