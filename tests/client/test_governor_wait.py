"""`Governor.delay_for`: "how long until this request would fit?", answered without reserving.

Each case compares the answer with what `Governor.try_acquire` does for the same request at the
same moment, on an injected clock.
"""

from __future__ import annotations

import threading

from binance._governor import DISCOVER, Governor, Ticket

MIN = 60_000
W = ("REQUEST_WEIGHT", MIN)


def gov(limit: int = 100) -> Governor:
    return Governor({W: limit}, headroom=1.0, pad_ms=500)


def test_a_request_that_fits_waits_nothing_and_reserves_nothing():
    """Asking twice, or for the whole budget, changes nothing: the budget is still whole."""
    g = gov(100)
    now = 10 * MIN + 1_000
    assert g.delay_for(now, weight=60) == 0.0
    assert g.delay_for(now, weight=60) == 0.0
    assert g.delay_for(now, weight=100) == 0.0
    assert g.usage(now) == (0, 100) and "0+0/100" in repr(g)
    assert isinstance(g.try_acquire(now, weight=100), Ticket)


def test_the_wait_is_the_one_try_acquire_would_answer():
    """With the budget taken (in flight or counted by the server), the answer is the time to
    the window's end plus the pad: exactly try_acquire's, which then succeeds on time."""
    g = gov(100)
    now = 10 * MIN + 1_000
    held = g.try_acquire(now, weight=70)
    assert isinstance(held, Ticket)
    wait = g.delay_for(now, weight=40)
    assert wait == (11 * MIN + 500 - now) / 1000
    assert g.try_acquire(now, weight=40) == wait
    assert g.delay_for(now, weight=30) == 0.0  # what is left still fits
    g.release(held, now + 10, {"x-mbx-used-weight-1m": "95"}, status=200)
    assert g.delay_for(now + 20, weight=6) == (11 * MIN + 500 - now - 20) / 1000
    later = 11 * MIN + 500
    assert g.delay_for(later, weight=100) == 0.0
    assert isinstance(g.try_acquire(later, weight=100), Ticket)


def test_asking_does_not_roll_the_window_over():
    """A question at a later time sees the new window's budget but leaves the counts alone:
    an answer that arrives late for the old window still counts in it."""
    g = gov(100)
    now = 10 * MIN + 1_000
    g.release(g.try_acquire(now, weight=1), now, {"x-mbx-used-weight-1m": "100"}, status=200)
    assert g.delay_for(11 * MIN + 500, weight=100) == 0.0
    assert g.usage() == (100, 100)  # the count of the old window is still there
    assert g.delay_for(now + 1, weight=1) == (11 * MIN + 500 - now - 1) / 1000


def test_retry_after_holds_every_request():
    """After a 429, the answer is the rest of the Retry-After block, whatever the weight."""
    g = gov(100)
    now = 3 * MIN
    g.release(g.try_acquire(now, weight=1), now, {}, status=429, retry_after_s=7)
    assert g.delay_for(now + 1_000, weight=1) == (7_000 + 500 - 1_000) / 1000
    assert g.delay_for(now + 1_000, weight=1) == g.try_acquire(now + 1_000, weight=1)
    assert g.delay_for(now + 7_500, weight=1) == 0.0


def test_sapi_orders_and_raw_requests_count_as_for_try_acquire():
    """/sapi weight, the per-account ORDERS count and RAW_REQUESTS limit the request they
    apply to, and only that one."""
    g = Governor(
        {W: 1_000, ("SAPI_IP_WEIGHT", MIN): 5, ("RAW_REQUESTS", 300_000): 2},
        headroom=1.0,
    )
    g.update_limits(
        [{"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 1}]
    )
    now = 5 * MIN + 1
    g.release(
        g.try_acquire(now, weight=1, orders=1, account="a"),
        now,
        {"x-mbx-order-count-10s": "1"},
        status=200,
        account="a",
    )
    assert g.delay_for(now, weight=1, orders=1, account="a") > 0
    assert g.delay_for(now, weight=1, orders=1, account="b") == 0.0
    assert g.delay_for(now, weight=6, sapi=True) == 0.0  # heavier than the limit: goes alone
    held = g.try_acquire(now, weight=5, sapi=True)
    assert isinstance(held, Ticket)
    assert g.delay_for(now, weight=1, sapi=True) > 0
    assert g.delay_for(now, weight=1) > 0  # RAW_REQUESTS: two in five minutes, both taken
    g.cancel(held)
    assert g.delay_for(now, weight=1, sapi=True) == 0.0


def test_the_discovery_rule_is_left_to_the_sender():
    """Unconfirmed limits make the second sender discover them first; the question is about
    budget only and leaves the discovery to whoever sends."""
    g = Governor(headroom=1.0)
    assert isinstance(g.try_acquire(MIN, weight=1), Ticket)
    assert g.delay_for(MIN, weight=1) == 0.0
    assert g.try_acquire(MIN, weight=1) is DISCOVER  # asking did not start a discovery


def test_questions_from_other_threads_never_let_acquires_overspend():
    """Concurrent questions and reservations: the reservations stay within the limit and a
    question never sees a wait while budget is left for it."""
    g = gov(1_000)
    granted: list[Ticket] = []
    wrong: list[float] = []
    lock = threading.Lock()

    def acquire() -> None:
        for _ in range(100):
            got = g.try_acquire(MIN + 1, weight=3)
            if isinstance(got, Ticket):
                with lock:
                    granted.append(got)

    def ask() -> None:
        for _ in range(300):
            wait = g.delay_for(MIN + 1, weight=1)
            used, _ = g.usage(MIN + 1)  # only grows: nothing is released here
            if wait > 0 and used + 1 <= 1_000:
                wrong.append(wait)

    threads = [threading.Thread(target=acquire) for _ in range(6)]
    threads += [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 1_000 // 3
    assert not wrong
