"""The end of history: the generated path reaches the present price as calmly as it moves.

History ends where live trading starts, at the listing's ``present_price``. The last hour must
look like any other hour: no close-to-close jump far beyond the minutes around it, and the
5-minute average price a client reads at start (``avgPrice``) near the live price.
"""

from __future__ import annotations

import statistics

import pytest
from klines_support import DAY, HOUR, MINUTE

from binance.sim.engine.klines import Klines, Listing
from binance.sim.engine.markets import DEFAULT_SYMBOLS

SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT")  # fine ticks: moves of a few ticks are measurable
LISTINGS = [
    Listing(s.symbol, s.listed_ms, s.listing_price, s.present_price, s.tick_size, s.step_size)
    for s in DEFAULT_SYMBOLS
    if s.symbol in SYMBOLS
]
#: 2025-11-13 02:13:20 UTC; each case moves the end of history by a different amount, so the
#: last day, hour and minute are cut at different points.
BASE = 1_763_000_000_000
STAGGER = 11 * HOUR + 23 * MINUTE + 7_777
CASES = [(seed, BASE + seed * 7 * HOUR + j * STAGGER) for seed in range(8) for j in range(2)]
#: The largest 1m close-to-close move of the last hour, in mean moves of the last four hours.
#: (Brownian paths stay well below it; the old pinned bridge made jumps of 30 to 100.)
MAX_JUMP = 20.0


@pytest.mark.parametrize(("seed", "end"), CASES, ids=[f"seed{s}-{e}" for s, e in CASES])
def test_last_hour_has_no_outsized_jump_and_avg_price_is_near_present(seed, end):
    """The last hour's 1m closes move like the hours before; the 5-minute average price is
    within 1% of the price live trading starts from."""
    klines = Klines(seed, LISTINGS, end)
    for listing in LISTINGS:
        symbol = listing.symbol
        hist_end = klines.history_end_ms(symbol)
        rows = klines.query(symbol, "1m", end_ms=hist_end - 1, limit=240, now_ms=hist_end - 1)
        assert rows[-1].close == listing.present_price
        closes = [k.close for k in rows]
        moves = [abs(b - a) for a, b in zip(closes, closes[1:], strict=False)]
        typical = statistics.fmean(moves)
        assert typical > 0, (symbol, "four hours without a price change")
        worst = max(moves[-60:])
        assert worst <= MAX_JUMP * typical, (symbol, worst, typical)
        last5 = rows[-5:]
        volume = sum(k.volume for k in last5)
        average = sum(k.quote_volume for k in last5) / volume
        assert abs(average / listing.present_price - 1) < 0.01, (symbol, average)


def test_a_day_cut_minutes_after_midnight_does_not_leap_to_the_present_price():
    """A last day only minutes long carries no coarse-level move: its price stays near the
    close of the day before (the path has already arrived)."""
    end = BASE - BASE % DAY + 7 * MINUTE + 36_777  # history ends 7.6 minutes into a day
    for seed in range(8):
        klines = Klines(seed, LISTINGS, end)
        for listing in LISTINGS:
            hist_end = klines.history_end_ms(listing.symbol)
            [before, last] = klines.query(
                listing.symbol, "1d", end_ms=hist_end - 1, limit=2, now_ms=hist_end - 1
            )
            assert last.open_time == end - end % DAY
            assert abs(last.open / last.close - 1) < 0.002, (seed, listing.symbol, before, last)
