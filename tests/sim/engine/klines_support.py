"""Shared listings and helpers for the kline and stats tests (not collected: no ``test_`` name)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from binance.sim.engine.klines import Kline, Klines, Listing

D = Decimal
SECOND = 1000
MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000

#: 2025-01-01 00:00:00 UTC plus 30.5 s: history ends mid-minute, mid-second.
LIVE_SINCE = 1_735_689_600_000 + 30_500
BTC = Listing("BTCUSDT", 1_502_942_400_000, D("4261.48"), D("95000.00"), D("0.01"), D("0.00001"))
NEO = Listing("NEOBTC", 1_500_000_000_000, D("0.0002"), D("0.000094"), D("0.000001"), D("0.01"))
# Listed mid-day, delisted in 2018: history stops at the delisting.
BCC = Listing(
    "BCCBTC", 1_501_590_000_000, D("0.12"), D("0.07"), D("0.000001"), D("0.001"),
    delisted_ms=1_542_240_000_000,
)  # fmt: skip
LISTINGS = (BTC, NEO, BCC)


def make_klines(seed: int = 11) -> Klines:
    return Klines(seed, LISTINGS, LIVE_SINCE)


def combine(fines: Sequence[Kline]) -> tuple[object, ...] | None:
    """Binance's aggregation of consecutive klines, over those with trades (None if none)."""
    active = [k for k in fines if k.trades > 0]
    if not active:
        return None
    return (
        active[0].open,
        max(k.high for k in active),
        min(k.low for k in active),
        active[-1].close,
        sum((k.volume for k in fines), D(0)),
        sum((k.quote_volume for k in fines), D(0)),
        sum(k.trades for k in fines),
        sum((k.taker_buy_base for k in fines), D(0)),
        sum((k.taker_buy_quote for k in fines), D(0)),
    )


def values(k: Kline) -> tuple[object, ...]:
    return (k.open, k.high, k.low, k.close, k.volume, k.quote_volume, k.trades, k.taker_buy_base,
            k.taker_buy_quote)  # fmt: skip


def check_kline(k: Kline, listing: Listing) -> None:
    """One kline's own invariants: ranges, steps, taker sums, average price inside the range."""
    assert k.low <= min(k.open, k.close) <= max(k.open, k.close) <= k.high
    assert k.low > 0
    for price in (k.open, k.high, k.low, k.close):
        assert price % listing.tick_size == 0
    assert k.volume % listing.step_size == 0 and k.volume >= 0
    assert k.taker_buy_base % listing.step_size == 0
    assert 0 <= k.taker_buy_base <= k.volume
    assert 0 <= k.taker_buy_quote <= k.quote_volume
    assert (k.trades == 0) == (k.volume == 0)
    if k.volume:
        assert k.low <= k.quote_volume / k.volume <= k.high
        # Buys and sells each average a price inside the kline's range.
        buys, sells = k.taker_buy_base, k.volume - k.taker_buy_base
        if buys:
            assert k.low <= k.taker_buy_quote / buys <= k.high, ("buys", k)
        else:
            assert k.taker_buy_quote == 0, k
        if sells:
            assert k.low <= (k.quote_volume - k.taker_buy_quote) / sells <= k.high, ("sells", k)
    else:
        assert k.open == k.high == k.low == k.close and k.quote_volume == 0


def assert_aggregates(big: Kline, small: Sequence[Kline]) -> None:
    """``big`` is the aggregation of ``small`` (flat at the last close when nothing traded)."""
    expected = combine(small)
    if expected is None:
        assert big.trades == 0 and big.volume == 0
        assert big.open == big.high == big.low == big.close == small[-1].close
    else:
        assert values(big) == expected
