"""Historical klines and aggregate trades against the local exchange, for both clients:
contiguous, no repeats, exact boundaries, listing dates honoured."""

from __future__ import annotations

import datetime as dt

import pytest

from binance.helpers import date_to_milliseconds

from .conftest import call, collect

SYMBOL = "BNBBTC"
MINUTE = 60_000
DAY = 86_400_000


async def _reference(client, symbol, interval, start_ms, end_ms):
    """The same klines fetched one page after another with get_klines."""
    rows, cursor = [], start_ms
    while True:
        page = await call(
            client,
            "get_klines",
            symbol=symbol,
            interval=interval,
            startTime=cursor,
            endTime=end_ms,
            limit=1000,
        )
        rows += page
        if len(page) < 1000:
            return rows
        cursor = page[-1][0] + 1


async def test_minutes_across_many_windows_are_contiguous_and_exact(client):
    """Two days of 1m klines in windows of 100: the exact sequence of get_klines, boundaries
    inclusive, nothing repeated or missing."""
    start = "2019-03-01T00:00:30Z"  # not on a minute: the first kline opens at 00:01
    end = "2019-03-03T00:00:00Z"  # on a minute: that kline is included
    rows = await call(client, "get_historical_klines", SYMBOL, "1m", start, end, limit=100)
    start_ms, end_ms = date_to_milliseconds(start), date_to_milliseconds(end)
    assert rows[0][0] == start_ms + 30_000 and rows[-1][0] == end_ms
    assert all(b[0] - a[0] == MINUTE for a, b in zip(rows, rows[1:], strict=False))
    assert len(rows) == 2 * 1440
    assert rows == await _reference(client, SYMBOL, "1m", start_ms, end_ms)


async def test_start_before_listing_begins_at_the_first_kline(client):
    """'1 Jan, 2017' on a symbol listed later starts at its first kline."""
    first = await call(client, "get_klines", symbol="BNBUSDT", interval="1d", startTime=0, limit=1)
    rows = await call(
        client,
        "get_historical_klines",
        "BNBUSDT",
        client.KLINE_INTERVAL_1DAY,
        "1 Jan, 2017",
        "1 Feb, 2018",
    )
    assert rows[0][0] == first[0][0] > date_to_milliseconds("1 Jan, 2017")
    assert rows[-1][0] == date_to_milliseconds("1 Feb, 2018")
    assert all(b[0] - a[0] == DAY for a, b in zip(rows, rows[1:], strict=False))


async def test_weekly_klines_open_on_mondays(client):
    """1w windows tile correctly although weeks do not start at multiples of 7 days."""
    rows = await call(
        client, "get_historical_klines", SYMBOL, "1w", "1 Jan, 2018", "1 Jan, 2019", limit=7
    )
    opens = [dt.datetime.fromtimestamp(r[0] / 1000, dt.timezone.utc) for r in rows]
    assert all(o.weekday() == 0 for o in opens)
    assert all(b[0] - a[0] == 7 * DAY for a, b in zip(rows, rows[1:], strict=False))
    assert len(rows) == 53  # 2018-01-01 and 2018-12-31 are both Mondays


async def test_monthly_klines_are_calendar_months(client):
    """1M pages one after another: every first of the month, in order."""
    rows = await call(
        client, "get_historical_klines", SYMBOL, "1M", "1 Jan, 2018", "1 Dec, 2018", limit=5
    )
    opens = [dt.datetime.fromtimestamp(r[0] / 1000, dt.timezone.utc) for r in rows]
    assert [(o.year, o.month, o.day) for o in opens] == [(2018, m, 1) for m in range(1, 13)]


async def test_generator_yields_the_same_klines(client):
    """get_historical_klines_generator yields exactly get_historical_klines' list."""
    args = (SYMBOL, "5m", "2019-06-01", "2019-06-02")
    rows = await call(client, "get_historical_klines", *args, limit=50)
    generated = await collect(client.get_historical_klines_generator(*args, limit=50))
    assert generated == rows and len(rows) == 289


async def test_generator_closed_early_leaves_nothing_running(client):
    """Stopping after a few klines cancels the rest (the hygiene fixture checks threads)."""
    iterator = client.get_historical_klines_generator(SYMBOL, "1m", "2019-01-01", "2019-02-01")
    taken = []
    if hasattr(iterator, "__anext__"):
        async for row in iterator:
            taken.append(row)
            if len(taken) == 3:
                break
        await iterator.aclose()
    else:
        for row in iterator:
            taken.append(row)
            if len(taken) == 3:
                break
        iterator.close()
    assert [r[0] for r in taken] == [
        date_to_milliseconds("2019-01-01") + i * MINUTE for i in range(3)
    ]


async def test_empty_range_and_bad_arguments(client):
    """An end before the listing gives nothing; a bad interval or limit is a ValueError."""
    assert (
        await call(client, "get_historical_klines", "BNBUSDT", "1d", "1 Jan, 2015", "1 Feb, 2015")
        == []
    )
    with pytest.raises(ValueError):
        await call(client, "get_historical_klines", SYMBOL, "7x", "1 Jan, 2018")
    with pytest.raises(ValueError):
        await call(client, "get_historical_klines", SYMBOL, "1m", "1 Jan, 2018", limit=5000)


async def _recent_agg_trades(client, at_least):
    """The last aggregate trades, after trading ourselves until there are ``at_least`` (a
    freshly started simulator's background market may not have traded that much yet)."""
    while True:
        recent = await call(client, "get_aggregate_trades", symbol=SYMBOL, limit=1000)
        if len(recent) >= at_least:
            return recent
        # A market order of ours is at least one new aggregate trade (one taker order).
        await call(client, "order_market_buy", symbol=SYMBOL, quantity=1)


async def test_aggregate_trade_iterator_over_a_time_range(client):
    """Every aggregate trade of a time range, ids consecutive, times inside the range."""
    recent = await _recent_agg_trades(client, 5)
    start_ms, end_ms = recent[1]["T"], recent[-2]["T"]
    trades = await collect(client.aggregate_trade_iter(SYMBOL, start_str=start_ms, end_str=end_ms))
    ids = [t["a"] for t in trades]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert all(start_ms <= t["T"] <= end_ms for t in trades)
    assert ids == [t["a"] for t in recent if start_ms <= t["T"] <= end_ms]
    after = await collect(client.aggregate_trade_iter(SYMBOL, last_id=ids[0], end_str=end_ms))
    assert [t["a"] for t in after] == ids[1:]


async def test_aggregate_trades_page_by_id(client, kind):
    """With pages of 2, the iterator pages by fromId and still yields each trade once."""
    from binance import history

    recent = await _recent_agg_trades(client, 5)
    flow = history.agg_trades_flow(
        client._ctx, SYMBOL, start=recent[0]["T"], end=recent[-1]["T"], limit=2
    )
    if kind == "sync":
        trades = list(history.iterate_sync(client, flow, 1))
    else:
        trades = [t async for t in history.iterate_async(client, flow, 1)]
    assert [t["a"] for t in trades] == [t["a"] for t in recent]
