"""Dates in the seed's forms, kline intervals, decimal formatting and rounding."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_UP, Decimal

import pytest

from binance.helpers import (
    MONTH_NOMINAL_MS,
    add_interval,
    date_to_milliseconds,
    format_decimal,
    interval_to_milliseconds,
    round_step_size,
    round_tick_size,
    to_decimal,
)

NOW = 1_514_764_800_123  # 2018-01-01 00:00:00.123 UTC


def now():
    return NOW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 Jan, 2017", 1_483_228_800_000),
        ("1 Dec, 2017", 1_512_086_400_000),
        ("1 Jan, 2018", 1_514_764_800_000),
        ("January 01, 2018", 1_514_764_800_000),
        ("Dec 1, 2017", 1_512_086_400_000),
        ("1 December 2017 10:30", 1_512_124_200_000),
        ("1 Dec, 2017 UTC", 1_512_086_400_000),
        ("now UTC", NOW),
        ("now", NOW),
        ("1 day ago UTC", NOW - 86_400_000),
        ("11 hours ago UTC", NOW - 11 * 3_600_000),
        ("30 minutes ago UTC", NOW - 1_800_000),
        ("2 weeks ago", NOW - 14 * 86_400_000),
        ("1 month ago UTC", 1_512_086_400_123),
        ("1 year ago UTC", 1_483_228_800_123),
        ("today UTC", 1_514_764_800_000),
        ("yesterday UTC", 1_514_678_400_000),
        ("2017-12-01", 1_512_086_400_000),
        ("2017-12-01T10:00:00Z", 1_512_122_400_000),
        ("2017-12-01T12:00:00+02:00", 1_512_122_400_000),
        ("2017-12-01 10:00:00.250", 1_512_122_400_250),
        ("1499827319559", 1_499_827_319_559),
    ],
)
def test_seed_date_forms(text, expected):
    """Every documented seed form and ISO dates give exact UTC milliseconds."""
    assert date_to_milliseconds(text, now_ms=now) == expected


def test_dates_from_objects_and_ints():
    """int ms pass through; naive datetimes and dates are UTC."""
    assert date_to_milliseconds(1_499_827_319_559) == 1_499_827_319_559
    assert date_to_milliseconds(dt.date(2017, 1, 1)) == 1_483_228_800_000
    assert date_to_milliseconds(dt.datetime(2017, 1, 1, 0, 0, 0, 5000)) == 1_483_228_800_005
    aware = dt.datetime(2017, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert date_to_milliseconds(aware) == 1_483_228_800_000


@pytest.mark.parametrize(
    "text", ["tomorrow", "1 Foo, 2017", "5 days ago PST", "31 Feb, 2018", "2017-13-01", "", "12"]
)
def test_unreadable_dates_raise_a_clear_value_error(text):
    """No guessing: an unknown form raises ValueError naming the problem or the accepted forms."""
    with pytest.raises(ValueError, match="date"):
        date_to_milliseconds(text, now_ms=now)


@pytest.mark.parametrize(
    ("interval", "ms"),
    [
        ("1s", 1_000),
        ("1m", 60_000),
        ("3m", 180_000),
        ("5m", 300_000),
        ("15m", 900_000),
        ("30m", 1_800_000),
        ("1h", 3_600_000),
        ("2h", 7_200_000),
        ("4h", 14_400_000),
        ("6h", 21_600_000),
        ("8h", 28_800_000),
        ("12h", 43_200_000),
        ("1d", 86_400_000),
        ("3d", 259_200_000),
        ("1w", 604_800_000),
        ("1M", MONTH_NOMINAL_MS),
    ],
)
def test_every_interval(interval, ms):
    """Every Binance interval has its length; 1M is the nominal 30-day month."""
    assert interval_to_milliseconds(interval) == ms


@pytest.mark.parametrize("bad", ["", "1y", "0m", "m", "1 m", None, 5])
def test_bad_interval(bad):
    with pytest.raises(ValueError, match="interval"):
        interval_to_milliseconds(bad)


def test_months_are_calendar_months_in_add_interval():
    """Jan 31 + 1M is Feb 28 (clamped); fixed units add exactly."""
    jan31 = date_to_milliseconds("2018-01-31")
    assert add_interval(jan31, "1M") == date_to_milliseconds("2018-02-28")
    assert add_interval(jan31, "1M", 2) == date_to_milliseconds("2018-03-31")
    assert add_interval(0, "1w", 2) == 2 * 604_800_000


def test_format_decimal_is_plain():
    """No exponent, no trailing zeros, for every accepted type."""
    assert format_decimal(1e-7) == "0.0000001"
    assert format_decimal(Decimal("1E+3")) == "1000"
    assert format_decimal("0.10000000") == "0.1"
    assert format_decimal(0.1) == "0.1"
    assert format_decimal(100) == "100"
    assert format_decimal(Decimal("-0")) == "0"
    with pytest.raises(ValueError):
        to_decimal("nan")
    with pytest.raises(ValueError):
        to_decimal(True)


def test_rounding_to_step_and_tick():
    """Quantities round down to the step; prices half-up to the tick; the step's decimals show."""
    assert round_step_size("1.23456", "0.00100000") == Decimal("1.234")
    assert round_step_size(0.00123, "0.001") == Decimal("0.001")
    assert round_step_size(Decimal("5"), "1.0") == Decimal("5")
    assert round_step_size("7", "0") == Decimal("7")
    assert round_tick_size("0.123456", "0.0001") == Decimal("0.1235")
    assert round_tick_size("0.12341", "0.0001", rounding=ROUND_UP) == Decimal("0.1235")
    assert round_tick_size("65000.126", "0.01") == Decimal("65000.13")
