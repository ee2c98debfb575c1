"""Kline history: every coarse kline is exactly the aggregation of the finer klines it covers."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from klines_support import (
    BTC,
    DAY,
    HOUR,
    LIVE_SINCE,
    MINUTE,
    NEO,
    assert_aggregates,
    check_kline,
    make_klines,
)

from binance.sim.engine.klines import Klines

KLINES = make_klines()
NOW = LIVE_SINCE + 10 * DAY

# (coarse, fine, time zone offset): each coarse kline is a whole number of fine ones.
PAIRS = [
    ("1m", "1s", 0),
    ("3m", "1m", 0),
    ("5m", "1m", 0),
    ("15m", "1m", 0),
    ("30m", "1m", 0),
    ("1h", "1m", 0),
    ("2h", "1h", 0),
    ("4h", "1h", 0),
    ("6h", "1h", 0),
    ("8h", "1h", 0),
    ("12h", "1h", 0),
    ("1d", "1h", 0),
    ("1d", "1h", 8 * HOUR),
    ("1d", "1h", -(5 * HOUR + 45 * MINUTE)),
    ("1h", "15m", 5 * HOUR + 45 * MINUTE),
    ("3d", "1d", 0),
    ("1w", "1d", 0),
    ("1w", "1d", 14 * HOUR),
    ("1M", "1d", 0),
    ("1M", "1d", -12 * HOUR),
]
SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _check_pair(klines: Klines, listing, coarse: str, fine: str, tz: int, t: int) -> None:
    symbol = listing.symbol
    [big] = klines.query(symbol, coarse, end_ms=t, limit=1, tz_offset_ms=tz, now_ms=NOW)
    check_kline(big, listing)
    small = klines.query(
        symbol, fine, start_ms=big.open_time, end_ms=big.close_time, limit=1000,
        tz_offset_ms=tz, now_ms=NOW,
    )  # fmt: skip
    assert small, (coarse, fine, t)
    for k in small:
        check_kline(k, listing)
    # The fine klines tile the coarse one (the first one may open before it, at the listing).
    if big.close_time < NOW:
        assert small[-1].close_time == big.close_time
    else:  # the kline still open: its fine klines run up to now
        assert small[-1].open_time <= NOW <= small[-1].close_time
    assert all(a.close_time + 1 == b.open_time for a, b in zip(small, small[1:], strict=False))
    assert_aggregates(big, small)


@pytest.mark.parametrize(("coarse", "fine", "tz"), PAIRS, ids=[f"{c}/{f}@{z}" for c, f, z in PAIRS])
@SETTINGS
@given(t=st.integers(min_value=BTC.listed_ms, max_value=LIVE_SINCE - 1))
@example(t=BTC.listed_ms)  # the first kline starts before the listing
@example(t=LIVE_SINCE - 1)  # the last one reaches into the live period
def test_coarse_kline_equals_aggregation_of_fine_klines(coarse, fine, tz, t):
    """Open, high, low, close, volumes, trades and taker sums of a coarse kline are exact."""
    _check_pair(KLINES, BTC, coarse, fine, tz, t)


@SETTINGS
@given(t=st.integers(min_value=NEO.listed_ms, max_value=LIVE_SINCE - 1))
def test_small_tick_symbol_aggregates_exactly(t):
    """A symbol priced in satoshis (tick 1e-6) keeps the same exactness from 1d down to 1s."""
    for coarse, fine in (("1d", "1h"), ("1h", "1m"), ("1m", "1s")):
        _check_pair(KLINES, NEO, coarse, fine, 0, t)


def test_first_month_opens_at_listing_price_and_history_ends_at_present_price():
    """History starts at the listing price and ends exactly at the present price."""
    [first] = KLINES.query("BTCUSDT", "1M", start_ms=0, limit=1, now_ms=NOW)
    assert first.open == BTC.listing_price
    assert KLINES.price_at("BTCUSDT", LIVE_SINCE - 1) == BTC.present_price
    assert KLINES.price_at("BTCUSDT", 0) == BTC.listing_price


def test_monthly_volumes_sum_to_the_whole_history():
    """The months add up to the total trade count since listing (trade ids are continuous)."""
    months = KLINES.query("BTCUSDT", "1M", start_ms=0, limit=1000, now_ms=LIVE_SINCE)
    total = sum(k.trades for k in months)
    assert total == KLINES.trade_count_before("BTCUSDT", LIVE_SINCE)
    assert KLINES.trade_count_before("BTCUSDT", BTC.listed_ms) == 0


def test_same_seed_same_history_and_other_seed_other_history():
    """History is a function of the seed only."""
    t = LIVE_SINCE - 400 * DAY
    a = make_klines(5).query("BTCUSDT", "1m", start_ms=t, limit=50, now_ms=NOW)
    b = make_klines(5).query("BTCUSDT", "1m", start_ms=t, limit=50, now_ms=NOW)
    c = make_klines(6).query("BTCUSDT", "1m", start_ms=t, limit=50, now_ms=NOW)
    assert [x.to_row() for x in a] == [x.to_row() for x in b]
    assert [x.to_row() for x in a] != [x.to_row() for x in c]


def test_history_does_not_depend_on_what_was_asked_before():
    """A kline is the same whether computed cold or after other queries warmed the caches."""
    t = LIVE_SINCE - 123 * DAY + 7 * HOUR
    warm = make_klines()
    warm.query("BTCUSDT", "1w", limit=1000, now_ms=NOW)
    warm.query("BTCUSDT", "1s", start_ms=t, limit=1000, now_ms=NOW)
    cold = make_klines()
    assert warm.query("BTCUSDT", "1h", end_ms=t, limit=30, now_ms=NOW) == cold.query(
        "BTCUSDT", "1h", end_ms=t, limit=30, now_ms=NOW
    )
