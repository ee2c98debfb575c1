"""Kline queries follow Binance's rules: keyed by open time, start/end/limit, timeZone, 1w, 1M."""

from __future__ import annotations

import datetime as dt

import pytest
from klines_support import BCC, BTC, DAY, HOUR, LIVE_SINCE, MINUTE, make_klines

from binance import enums
from binance.sim.engine import EngineError
from binance.sim.engine.klines import Kline
from schemas_util import load_example

T0 = LIVE_SINCE - LIVE_SINCE % MINUTE  # a minute boundary inside history's last day
NOW = LIVE_SINCE + 3 * DAY + 5 * HOUR + 17 * MINUTE + 4_321


@pytest.fixture(scope="module")
def kl():
    return make_klines()


def q(kl, interval="1m", **kw):
    kw.setdefault("now_ms", NOW)
    return kl.query("BTCUSDT", interval, **kw)


def utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)


@pytest.mark.parametrize("interval", enums.KLINE_INTERVALS)
def test_no_start_or_end_gives_most_recent_ending_with_the_open_kline(kl, interval):
    """Without start/end: the newest ``limit`` klines, the last one containing now."""
    rows = q(kl, interval, limit=3)
    assert len(rows) == 3
    assert rows[-1].open_time <= NOW <= rows[-1].close_time
    assert all(a.close_time + 1 == b.open_time for a, b in zip(rows, rows[1:], strict=False))


def test_default_limit_is_500_and_limit_is_capped_at_1000(kl):
    """``limit`` defaults to 500; more than 1000 is served as 1000."""
    assert len(q(kl)) == 500
    assert len(q(kl, limit=5000)) == 1000


@pytest.mark.parametrize("limit", [0, -1])
def test_limit_below_one_is_rejected(kl, limit):
    """``limit`` < 1 is -1130."""
    with pytest.raises(EngineError) as err:
        q(kl, limit=limit)
    assert err.value.code == -1130


def test_start_only_gives_oldest_klines_opening_at_or_after_start(kl):
    """Klines are keyed by open time: a start inside a kline skips that kline."""
    t = T0 - 10 * DAY
    on = q(kl, start_ms=t, limit=2)
    inside = q(kl, start_ms=t + 1, limit=2)
    assert [k.open_time for k in on] == [t, t + MINUTE]
    assert [k.open_time for k in inside] == [t + MINUTE, t + 2 * MINUTE]


def test_end_only_gives_newest_klines_opening_at_or_before_end(kl):
    """Only end: the newest ``limit`` klines with open time <= end."""
    t = T0 - 10 * DAY + 30_000
    rows = q(kl, end_ms=t, limit=3)
    assert [k.open_time for k in rows] == [t - 30_000 - 2 * MINUTE, t - 30_000 - MINUTE, t - 30_000]


def test_start_and_end_from_start_not_beyond_end(kl):
    """Both: from start, at most ``limit``, never past end."""
    t = T0 - 10 * DAY
    assert len(q(kl, start_ms=t, end_ms=t + 9 * MINUTE, limit=100)) == 10
    assert len(q(kl, start_ms=t, end_ms=t + 9 * MINUTE, limit=4)) == 4
    assert q(kl, start_ms=t, end_ms=t + 9 * MINUTE, limit=4)[0].open_time == t


def test_start_equal_end(kl):
    """start == end on an open time gives that kline; inside a kline it gives nothing."""
    t = T0 - 10 * DAY
    assert [k.open_time for k in q(kl, start_ms=t, end_ms=t)] == [t]
    assert q(kl, start_ms=t + 5, end_ms=t + 5) == []


def test_end_before_start_is_empty(kl):
    """start > end answers an empty list (Binance spot; futures would say -1023)."""
    t = T0 - 10 * DAY
    assert q(kl, start_ms=t + MINUTE, end_ms=t) == []


def test_nothing_before_listing(kl):
    """Before the listing there are no klines; the first one contains the listing time."""
    first_day = kl.first_open_time("BTCUSDT", "1d")
    assert first_day == 1_502_928_000_000  # 2017-08-17 00:00 UTC, listing at 04:00
    assert q(kl, "1d", end_ms=first_day - 1) == []
    assert q(kl, "1d", start_ms=0, limit=1)[0].open_time == first_day
    assert q(kl, "1d", start_ms=first_day + 1, limit=1)[0].open_time == first_day + DAY
    assert q(kl, "1m", start_ms=0, end_ms=BTC.listed_ms - 1) == []
    assert kl.query("BTCUSDT", "1m", now_ms=BTC.listed_ms - 1) == []


def test_start_after_now_is_empty(kl):
    """No kline opens in the future."""
    assert q(kl, start_ms=NOW + MINUTE) == []


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"interval": "2m"}, -1120),
        ({"interval": "1H"}, -1120),
        ({"interval": "1m", "tz_offset_ms": 15 * HOUR}, -1130),
        ({"interval": "1m", "tz_offset_ms": -13 * HOUR}, -1130),
    ],
)
def test_bad_interval_or_time_zone(kl, kwargs, code):
    """Unknown intervals are -1120; a timeZone outside -12:00..+14:00 is -1130."""
    interval = kwargs.pop("interval")
    with pytest.raises(EngineError) as err:
        q(kl, interval, **kwargs)
    assert err.value.code == code


def test_unknown_symbol(kl):
    """An unknown symbol is -1121."""
    with pytest.raises(EngineError) as err:
        kl.query("XYZUSDT", "1m", now_ms=NOW)
    assert err.value.code == -1121


def test_weeks_start_monday_and_3d_is_epoch_aligned(kl):
    """1w opens on Monday 00:00 UTC; 3d opens on multiples of 3 days since 1970-01-01."""
    for k in q(kl, "1w", limit=20):
        assert utc(k.open_time).weekday() == 0 and k.open_time % DAY == 0
        assert k.close_time - k.open_time + 1 == 7 * DAY
    for k in q(kl, "3d", limit=20):
        assert k.open_time % (3 * DAY) == 0


def test_months_follow_the_calendar(kl):
    """1M klines open on the 1st and close at the month's last millisecond (29 days in Feb 2024)."""
    rows = q(kl, "1M", start_ms=1_704_067_200_000, limit=3)  # 2024-01-01
    opens = [utc(k.open_time) for k in rows]
    assert [(o.year, o.month, o.day) for o in opens] == [(2024, 1, 1), (2024, 2, 1), (2024, 3, 1)]
    feb = rows[1]
    assert feb.close_time - feb.open_time + 1 == 29 * DAY


def test_time_zone_shifts_boundaries_but_times_stay_utc(kl):
    """timeZone=+8 opens daily klines at 16:00 UTC; -1:00 opens months at 01:00 UTC on the 1st."""
    days = q(kl, "1d", limit=5, tz_offset_ms=8 * HOUR)
    assert all(k.open_time % DAY == 16 * HOUR for k in days)
    months = q(kl, "1M", limit=3, tz_offset_ms=-HOUR)
    for k in months:
        local = utc(k.open_time - HOUR)
        assert (local.day, local.hour, local.minute) == (1, 0, 0)
    quarter = q(kl, "1h", limit=5, tz_offset_ms=5 * HOUR + 45 * MINUTE)
    assert all(k.open_time % HOUR == 15 * MINUTE for k in quarter)
    # The same instant's 1m klines do not depend on the zone (minute boundaries coincide).
    assert q(kl, "1m", limit=5, tz_offset_ms=5 * HOUR + 45 * MINUTE) == q(kl, "1m", limit=5)


def test_delisted_symbol_has_no_klines_after_delisting(kl):
    """A delisted symbol's klines stop at its delisting."""
    rows = kl.query("BCCBTC", "1d", limit=3, now_ms=NOW)
    assert rows[-1].open_time < BCC.delisted_ms <= rows[-1].close_time + 1
    assert kl.query("BCCBTC", "1d", start_ms=BCC.delisted_ms, now_ms=NOW) == []


def test_row_format_matches_binance_example(kl):
    """``to_row`` gives the 12 items of /api/v3/klines with the example's types."""
    [example] = load_example("klines.json")
    [k] = q(kl, "1h", end_ms=LIVE_SINCE - 5 * DAY, limit=1)
    row = k.to_row()
    assert [type(x) for x in row] == [type(x) for x in example]
    assert row[-1] == "0"
    assert row[1] == f"{k.open:.8f}" and "E" not in row[5]
    assert Kline(*[getattr(k, f) for f in Kline.FIELDS]) == k


def test_first_open_time_per_interval(kl):
    """first_open_time is the open of the kline containing the listing."""
    assert kl.first_open_time("BTCUSDT", "1M") == 1_501_545_600_000  # 2017-08-01
    assert kl.first_open_time("BTCUSDT", "1h") == BTC.listed_ms - BTC.listed_ms % HOUR
    assert kl.first_open_time("BTCUSDT", "1w") == 1_502_668_800_000  # Monday 2017-08-14


@pytest.mark.parametrize("start_ms", [253_402_300_800_000, 2**63 - 1])
def test_a_start_past_the_calendar_is_an_empty_answer(kl, start_ms):
    """A startTime after the newest kline answers [] for every interval, the calendar ones
    included (month arithmetic past year 9999 would overflow)."""
    for interval in ("1M", "1w", "1d", "1m"):
        assert q(kl, interval, start_ms=start_ms) == []


@pytest.mark.parametrize(("before_s", "after_s"), [(1, 1), (20, 5), (40, 13), (59, 59)])
def test_seconds_of_history_across_a_midnight_build_every_interval(before_s, after_s):
    """A symbol listed seconds before a UTC midnight (not a month's first) whose history ends
    seconds after it: the month and day klines cover under 1/1024 of a day of data, and
    still build, consistent with the seconds they hold."""
    from decimal import Decimal

    from binance.sim.engine.klines import Klines, Listing

    midnight = 1_710_460_800_000  # 2024-03-15 00:00 UTC
    listing = Listing(
        "XUSDT", midnight - before_s * 1000, Decimal("1.00"), Decimal("1.10"),
        Decimal("0.01"), Decimal("0.001"),
    )  # fmt: skip
    klines = Klines(3, (listing,), midnight + after_s * 1000)
    now = midnight + after_s * 1000 + 5_000
    seconds = klines.query("XUSDT", "1s", start_ms=0, now_ms=now)
    for interval in ("1M", "1w", "1d", "1h", "1m"):
        rows = klines.query("XUSDT", interval, start_ms=0, now_ms=now)
        assert rows and sum(k.trades for k in rows) == sum(k.trades for k in seconds)
        assert max(k.high for k in rows) == max(k.high for k in seconds)
