"""Tickers and average price agree with the klines and the recorded trades."""

from __future__ import annotations

from decimal import Decimal

import pytest
from klines_support import BTC, DAY, HOUR, LIVE_SINCE, MINUTE, SECOND, D, make_klines

from binance.sim.engine import EngineError
from binance.sim.engine.stats import Stats

T = LIVE_SINCE - LIVE_SINCE % MINUTE - 20 * DAY  # a minute boundary well inside history


@pytest.fixture(scope="module")
def kl():
    return make_klines()


@pytest.fixture(scope="module")
def stats(kl):
    return Stats(kl)


def _window_klines(kl, start, end_exclusive):
    """1m klines of [start, end) (minute-aligned), fetched in pages."""
    rows = []
    t = start
    while t < end_exclusive:
        page = kl.query("BTCUSDT", "1m", start_ms=t, end_ms=end_exclusive - 1, limit=1000,
                        now_ms=LIVE_SINCE)  # fmt: skip
        rows += page
        t = page[-1].close_time + 1
    return rows


def _expected(kl, start, now):
    """Klines covering [start, now] (start second-aligned): 1s at the edges, 1m between."""
    head_end = -(-start // MINUTE) * MINUTE
    minute = now - now % MINUTE
    rows = []
    if head_end > start:
        rows += kl.query("BTCUSDT", "1s", start_ms=start, end_ms=head_end - 1, limit=1000,
                         now_ms=now)  # fmt: skip
    rows += _window_klines(kl, head_end, minute)
    rows += kl.query("BTCUSDT", "1s", start_ms=minute, end_ms=now, limit=1000, now_ms=now)
    return [k for k in rows if k.trades]


def test_ticker_24hr_matches_klines_in_history(kl, stats):
    """24hr statistics over history equal the sums of the klines in the window."""
    now = T + 12 * SECOND
    ticker = stats.ticker_24hr("BTCUSDT", now)
    rows = _expected(kl, now - DAY, now)
    assert (ticker.open_time, ticker.close_time) == (now - DAY, now)
    assert ticker.open_price == rows[0].open
    assert ticker.last_price == rows[-1].close
    assert ticker.high_price == max(k.high for k in rows)
    assert ticker.low_price == min(k.low for k in rows)
    assert ticker.volume == sum(k.volume for k in rows)
    assert ticker.quote_volume == sum(k.quote_volume for k in rows)
    assert ticker.count == sum(k.trades for k in rows)
    assert ticker.price_change == ticker.last_price - ticker.open_price
    expected_pct = (ticker.price_change * 100 / ticker.open_price).quantize(Decimal("0.001"))
    assert ticker.price_change_percent == expected_pct
    assert ticker.low_price <= ticker.weighted_avg_price <= ticker.high_price
    assert ticker.weighted_avg_price == (ticker.quote_volume / ticker.volume).quantize(
        Decimal("0.00000001")
    )
    assert ticker.first_id == kl.trade_count_before("BTCUSDT", now - DAY)
    assert ticker.last_id == ticker.first_id + ticker.count - 1
    assert ticker.prev_close_price == kl.price_at("BTCUSDT", now - DAY - 1)
    assert ticker.last_qty > 0 and ticker.last_qty % BTC.step_size == 0


def test_rolling_window_opens_on_a_minute_boundary(kl, stats):
    """windowSize=2h opens at the minute boundary before now - 2h (up to 59,999 ms wider)."""
    now = T + 45_678
    ticker = stats.rolling("BTCUSDT", 2 * HOUR, now)
    assert ticker.open_time == T - 2 * HOUR and ticker.close_time == now
    rows = _expected(kl, T - 2 * HOUR, now)
    assert ticker.count == sum(k.trades for k in rows)
    assert ticker.volume == sum(k.volume for k in rows)


@pytest.mark.parametrize("window", [0, 60 * MINUTE + 1, 90 * MINUTE, 8 * DAY, 24 * HOUR + MINUTE])
def test_rolling_window_sizes_binance_does_not_offer(stats, window):
    """Only 1m..59m, 1h..23h and 1d..7d exist (-1130 otherwise)."""
    with pytest.raises(EngineError) as err:
        stats.rolling("BTCUSDT", window, T)
    assert err.value.code == -1130


def test_trading_day_runs_from_local_midnight(kl, stats):
    """tradingDay with timeZone +8 opens at 16:00 UTC and closes at the day's last ms."""
    now = T + 3 * HOUR
    ticker = stats.trading_day("BTCUSDT", 8 * HOUR, now)
    assert ticker.open_time % DAY == 16 * HOUR and ticker.open_time <= now
    assert ticker.close_time == ticker.open_time + DAY - 1
    rows = _expected(kl, ticker.open_time, now)
    assert ticker.count == sum(k.trades for k in rows)
    with pytest.raises(EngineError):
        stats.trading_day("BTCUSDT", 15 * HOUR, now)


def test_avg_price_is_volume_weighted_over_the_window(kl, stats):
    """avgPrice = sum(quote) / sum(volume) over the last 5 minutes, 8 decimals."""
    now = T + 7 * SECOND
    rows = _expected(kl, now - 5 * MINUTE, now)
    price, close_time = stats.avg_price("BTCUSDT", 5, now)
    quote = sum(k.quote_volume for k in rows)
    volume = sum(k.volume for k in rows)
    assert price == (quote / volume).quantize(Decimal("0.00000001"))
    last_time, _, _ = kl.last_trade("BTCUSDT", now)
    assert close_time == last_time <= now


def test_avg_price_without_trades_in_window_is_last_price():
    """No trade in the window: the last trade's price; never traded: None (NOTES.md §6)."""
    kl = make_klines()
    stats = Stats(kl)
    now = LIVE_SINCE + HOUR
    price, close_time = stats.avg_price("BTCUSDT", 5, now)
    assert price == BTC.present_price and close_time < LIVE_SINCE
    assert stats.avg_price("BTCUSDT", 5, BTC.listed_ms - 1) is None


def test_live_trades_drive_the_ticker():
    """After live trades the ticker's last price, quantity, count and ids follow them."""
    kl = make_klines()
    stats = Stats(kl)
    first_live_id = kl.trade_count_before("BTCUSDT", kl.history_end_ms("BTCUSDT"))
    t0 = LIVE_SINCE + HOUR
    trades = [(t0, "96000.00", "0.5"), (t0 + 10, "96100.00", "0.25"), (t0 + 2_000, "95900.00", "2")]
    for t, p, q in trades:
        kl.record_trade("BTCUSDT", t, D(p), D(q), D(p) * D(q), False)
    now = t0 + 3_000
    ticker = stats.rolling("BTCUSDT", 30 * MINUTE, now)
    assert ticker.count == 3
    assert (ticker.first_id, ticker.last_id) == (first_live_id, first_live_id + 2)
    assert (ticker.last_price, ticker.last_qty) == (D("95900.00"), D("2"))
    assert (ticker.open_price, ticker.high_price, ticker.low_price) == (
        D("96000.00"), D("96100.00"), D("95900.00"),
    )  # fmt: skip
    quote = sum(D(p) * D(q) for _, p, q in trades)
    assert ticker.quote_volume == quote and ticker.volume == D("2.75")
    assert stats.avg_price("BTCUSDT", 5, now)[0] == (quote / D("2.75")).quantize(D("1e-8"))
    quiet = stats.rolling("BTCUSDT", 30 * MINUTE, now + 2 * HOUR)
    assert (quiet.count, quiet.first_id, quiet.last_id) == (0, -1, -1)
    assert quiet.last_price == D("95900.00") and quiet.volume == 0


def test_unknown_symbol(stats):
    """Unknown symbols are -1121."""
    with pytest.raises(EngineError) as err:
        stats.ticker_24hr("NOPE", T)
    assert err.value.code == -1121
