"""Live klines: recorded trades extend the history, merging in the kline that straddles them."""

from __future__ import annotations

import pytest
from klines_support import (
    BTC,
    DAY,
    HOUR,
    LIVE_SINCE,
    MINUTE,
    SECOND,
    D,
    assert_aggregates,
    check_kline,
    combine,
    make_klines,
    values,
)

HIST_END = LIVE_SINCE - LIVE_SINCE % SECOND  # history ends at the second containing LIVE_SINCE
MIN0 = LIVE_SINCE - LIVE_SINCE % MINUTE  # the minute that holds both history and live trades

# (time, price, qty, buyer is maker)
TRADES = [
    (LIVE_SINCE, "95000.00", "0.01000", False),
    (LIVE_SINCE + 200, "95010.50", "0.00500", True),
    (LIVE_SINCE + 1_700, "94990.00", "0.12000", False),
    (MIN0 + MINUTE + 5_000, "95100.00", "0.00100", True),
    (MIN0 + 3 * MINUTE + 59_999, "94950.01", "1.00000", False),
]


@pytest.fixture
def kl():
    klines = make_klines()
    for t, price, qty, maker in TRADES:
        p, q = D(price), D(qty)
        klines.record_trade("BTCUSDT", t, p, q, p * q, maker)
    return klines


NOW = MIN0 + 10 * MINUTE + 1


def test_history_ends_where_live_trading_starts(kl):
    """History stops at the second containing live_since; the live market starts at present."""
    assert kl.history_end_ms("BTCUSDT") == HIST_END
    assert kl.price_at("BTCUSDT", HIST_END - 1) == BTC.present_price


def test_straddling_minute_merges_history_and_live_trades(kl):
    """The 1m kline containing live_since = its history seconds + the live trades."""
    [minute] = kl.query("BTCUSDT", "1m", start_ms=MIN0, limit=1, now_ms=NOW)
    seconds = kl.query("BTCUSDT", "1s", start_ms=MIN0, end_ms=MIN0 + 59_999, limit=60, now_ms=NOW)
    hist = [k for k in seconds if k.open_time < HIST_END]
    live = [k for k in seconds if k.open_time >= HIST_END]
    assert len(hist) == 30 and len(live) == 30
    quote = sum(D(p) * D(qty) for t, p, qty, _ in TRADES[:3])
    assert sum(k.quote_volume for k in live) == quote
    assert sum(k.trades for k in live) == 3
    assert minute.trades == sum(k.trades for k in hist) + 3
    assert minute.close == D("94990.00")
    assert values(minute) == combine(seconds)
    check_kline(minute, BTC)


def test_live_seconds_are_exact(kl):
    """A live 1s kline holds exactly its trades: open first, close last, taker sums by side."""
    [sec] = kl.query("BTCUSDT", "1s", start_ms=HIST_END, limit=1, now_ms=NOW)
    assert sec.open_time == HIST_END
    assert (sec.open, sec.high, sec.low, sec.close) == (
        D("95000.00"), D("95010.50"), D("95000.00"), D("95010.50"),
    )  # fmt: skip
    assert sec.volume == D("0.01500") and sec.trades == 2
    assert sec.taker_buy_base == D("0.01000")  # the buyer-maker trade is a taker sell
    assert sec.taker_buy_quote == D("950.0000000")


def test_tradeless_live_kline_repeats_previous_close(kl):
    """A live kline without trades is flat at the previous close with zero volume."""
    [empty] = kl.query("BTCUSDT", "1m", start_ms=MIN0 + 2 * MINUTE, limit=1, now_ms=NOW)
    assert (empty.open, empty.high, empty.low, empty.close) == (D("95100.00"),) * 4
    assert empty.volume == 0 and empty.trades == 0 and empty.quote_volume == 0


@pytest.mark.parametrize(
    ("coarse", "fine"), [("1h", "1m"), ("1d", "1h"), ("5m", "1m"), ("1m", "1s")]
)
def test_live_coarse_klines_aggregate_fine_ones(kl, coarse, fine):
    """Across the history/live boundary a coarse kline is the aggregation of its fine klines."""
    for big in kl.query("BTCUSDT", coarse, end_ms=MIN0 + 4 * MINUTE, limit=3, now_ms=NOW):
        small = kl.query(
            "BTCUSDT", fine, start_ms=big.open_time, end_ms=big.close_time, limit=1000, now_ms=NOW
        )
        assert_aggregates(big, small)


def test_open_kline_holds_data_so_far(kl):
    """The kline containing now is included with the trades up to now."""
    now = MIN0 + 3 * MINUTE + 59_999
    rows = kl.query("BTCUSDT", "1h", limit=1, now_ms=now)
    assert rows[-1].open_time <= now <= rows[-1].close_time
    assert rows[-1].close == D("94950.01")
    before = kl.query("BTCUSDT", "1m", limit=1, now_ms=MIN0 + 3 * MINUTE + 30_000)
    assert before[-1].trades == 0


def test_trade_counts_include_live_trades(kl):
    """trade_count_before continues from history into the live trades."""
    hist = kl.trade_count_before("BTCUSDT", HIST_END)
    assert kl.trade_count_before("BTCUSDT", HIST_END + SECOND) == hist + 2
    assert kl.trade_count_before("BTCUSDT", NOW) == hist + len(TRADES)


def test_price_and_last_trade_follow_live_trades(kl):
    """price_at and last_trade report the newest live trade at or before a time."""
    assert kl.price_at("BTCUSDT", MIN0 + MINUTE + 5_000) == D("95100.00")
    assert kl.price_at("BTCUSDT", MIN0 + 2 * MINUTE) == D("95100.00")
    assert kl.last_trade("BTCUSDT", NOW) == (
        MIN0 + 3 * MINUTE + 59_999,
        D("94950.01"),
        D("1.00000"),
    )


def test_trade_inside_history_is_refused(kl):
    """A live trade cannot be recorded before the end of history (an engine bug)."""
    with pytest.raises(ValueError):
        kl.record_trade("BTCUSDT", HIST_END - 1, D("1"), D("1"), D("1"), False)


def test_trades_after_delisting_are_refused(kl):
    """A delisted symbol takes no trades."""
    with pytest.raises(ValueError):
        kl.record_trade("BCCBTC", LIVE_SINCE, D("1"), D("1"), D("1"), False)


def test_out_of_order_trade_sets_open(kl):
    """A trade recorded late but timed earlier in its second becomes the second's open."""
    t = MIN0 + 5 * MINUTE
    kl.record_trade("BTCUSDT", t + 500, D("95001.00"), D("0.1"), D("9500.1"), False)
    kl.record_trade("BTCUSDT", t + 100, D("95002.00"), D("0.1"), D("9500.2"), False)
    [sec] = kl.query("BTCUSDT", "1s", start_ms=t, limit=1, now_ms=NOW)
    assert (sec.open, sec.close, sec.trades) == (D("95002.00"), D("95001.00"), 2)


def test_symbol_listed_after_live_start_has_only_live_klines():
    """A symbol listed after history ends starts flat at its listing price."""
    from binance.sim.engine.klines import Klines, Listing

    new = Listing("NEWUSDT", LIVE_SINCE + HOUR, D("1.5"), D("1.5"), D("0.0001"), D("0.1"))
    kl = Klines(3, [new], LIVE_SINCE)
    assert kl.query("NEWUSDT", "1m", now_ms=LIVE_SINCE + 30 * MINUTE) == []
    rows = kl.query("NEWUSDT", "1h", now_ms=LIVE_SINCE + 2 * HOUR)
    assert len(rows) == 2 and rows[0].close == D("1.5") and rows[0].trades == 0
    kl.record_trade("NEWUSDT", LIVE_SINCE + HOUR + 5, D("1.6"), D("1"), D("1.6"), True)
    assert kl.query("NEWUSDT", "1d", now_ms=LIVE_SINCE + DAY)[-1].close == D("1.6")
