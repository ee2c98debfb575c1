"""Dates, kline intervals and decimal rounding, shared by the clients and the simulator.

``date_to_milliseconds`` understands the seed's documented date strings ("1 day ago UTC",
"1 Dec, 2017", "now UTC", "11 hours ago UTC", "January 01, 2018") and ISO dates, with a small
exact parser instead of the seed's ``dateparser`` dependency: a string it cannot read raises
``ValueError`` naming the accepted forms, rather than being guessed. ``interval_to_milliseconds``
knows every Binance kline interval. The decimal helpers turn prices and quantities into the plain
strings Binance expects (never scientific notation) and round them to a symbol's step or tick.

No I/O here; this module imports nothing from the client or the simulator.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
import time
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from binance._types import DateLike, NumberLike

__all__ = [
    "date_to_milliseconds",
    "interval_to_milliseconds",
    "add_interval",
    "to_decimal",
    "format_decimal",
    "round_step_size",
    "round_tick_size",
    "MONTH_NOMINAL_MS",
]

_SECOND = 1000
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_WEEK = 7 * _DAY

#: What ``interval_to_milliseconds("1M")`` returns: a nominal 30-day month. Months are calendar
#: months on Binance (a 1M kline opens at 00:00 UTC on the 1st and lasts 28 to 31 days), so this
#: value is only an estimate; use `add_interval` for exact month arithmetic.
MONTH_NOMINAL_MS = 30 * _DAY

_UNIT_MS = {"s": _SECOND, "m": _MINUTE, "h": _HOUR, "d": _DAY, "w": _WEEK, "M": MONTH_NOMINAL_MS}
_INTERVAL_RE = re.compile(r"^([1-9][0-9]*)([smhdwM])$")


def interval_to_milliseconds(interval: str) -> int:
    """Length of a kline interval in milliseconds.

    Every Binance interval is accepted (``1s``, ``1m`` ... ``12h``, ``1d``, ``3d``, ``1w``,
    ``1M``), as is any ``<n><unit>`` built from the same units. ``s/m/h/d/w`` are exact. ``M``
    (month) is a calendar month on Binance, 28 to 31 days long; it is reported as the nominal
    `MONTH_NOMINAL_MS` (30 days) per month, and code that needs exact month boundaries should use
    `add_interval` (the kline downloader pages monthly klines one after another instead).

    Args:
        interval: e.g. ``"1m"``, ``Client.KLINE_INTERVAL_1WEEK``.

    Returns:
        Milliseconds.

    Raises:
        ValueError: not an interval (the seed returned None; a silent None is easy to misuse).
    """
    match = _INTERVAL_RE.match(interval) if isinstance(interval, str) else None
    if match is None:
        raise ValueError(
            f"invalid kline interval {interval!r}: expected <number><unit>, unit one of "
            "s, m, h, d, w, M (e.g. '1m', '4h', '1w', '1M')"
        )
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def _add_months(moment: _dt.datetime, months: int) -> _dt.datetime:
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def add_interval(ms: int, interval: str, count: int = 1) -> int:
    """``ms`` moved by ``count`` intervals; months are calendar months (day clamped to the month).

    >>> add_interval(1514764800000, "1M")  # 2018-01-01 -> 2018-02-01
    1517443200000
    """
    match = _INTERVAL_RE.match(interval)
    if match is None:
        raise ValueError(f"invalid kline interval {interval!r}")
    n, unit = int(match.group(1)), match.group(2)
    if unit != "M":
        return ms + count * n * _UNIT_MS[unit]
    moment = _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.timezone.utc)
    return _to_ms(_add_months(moment, n * count))


# -- dates -----------------------------------------------------------------------------------------

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9

_RELATIVE_UNITS = {
    "second": _SECOND,
    "sec": _SECOND,
    "minute": _MINUTE,
    "min": _MINUTE,
    "hour": _HOUR,
    "day": _DAY,
    "week": _WEEK,
    "month": None,  # calendar arithmetic
    "year": None,
}
_UTC_SUFFIX = re.compile(r"\s*(?:utc|gmt|z|\+00:?00)$", re.IGNORECASE)
_RELATIVE_RE = re.compile(
    r"^(\d+)\s*(second|sec|minute|min|hour|day|week|month|year)s?\s+ago$", re.IGNORECASE
)
_TIME = r"(?:[ ,T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
# "1 Dec, 2017", "1 December 2017", "01 Jan 2018 10:30"
_DAY_MONTH_YEAR = re.compile(
    r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})" + _TIME + "$", re.IGNORECASE
)
# "Dec 1, 2017", "January 01, 2018", "January 1 2018 10:30"
_MONTH_DAY_YEAR = re.compile(
    r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})" + _TIME + "$", re.IGNORECASE
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ].*)?$")

_ACCEPTED = (
    "'now UTC', 'today UTC', 'yesterday UTC', '<n> <second|minute|hour|day|week|month|year>s "
    "ago UTC', '1 Dec, 2017', 'Dec 1, 2017', 'January 01, 2018' (optionally followed by "
    "HH:MM[:SS]), ISO 8601 ('2017-12-01', '2017-12-01T10:00:00Z', '...+02:00'), epoch "
    "milliseconds (int or a string of 10+ digits), or a datetime/date"
)


def _to_ms(moment: _dt.datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)  # naive means UTC, as in the seed
    delta = moment - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _utc_midnight(ms: int) -> int:
    return ms - ms % _DAY


def _clock_ms() -> int:
    return time.time_ns() // 1_000_000


def _absolute(text: str) -> int | None:
    for regex, order in ((_DAY_MONTH_YEAR, "dmy"), (_MONTH_DAY_YEAR, "mdy")):
        match = regex.match(text)
        if match is None:
            continue
        first, second, year, hour, minute, sec = match.groups()
        day, month_name = (first, second) if order == "dmy" else (second, first)
        month = _MONTHS.get(month_name.lower())
        if month is None:
            return None
        return _to_ms(
            _dt.datetime(
                int(year), month, int(day), int(hour or 0), int(minute or 0), int(sec or 0)
            )
        )
    if _ISO_DATE.match(text):
        iso = text[:-1] + "+00:00" if text[-1:] in "zZ" else text
        return _to_ms(_dt.datetime.fromisoformat(iso))
    return None


def date_to_milliseconds(date: DateLike, *, now_ms: Callable[[], int] | None = None) -> int:
    """Milliseconds since the epoch (UTC) for a date in one of the seed's forms.

    Accepted: ``"now UTC"``, ``"today UTC"`` (00:00 UTC), ``"yesterday UTC"``,
    ``"<n> <unit>s ago UTC"`` with unit second/minute/hour/day/week/month/year (months and years
    are calendar ones), ``"1 Dec, 2017"``, ``"Dec 1, 2017"``, ``"January 01, 2018"`` (optionally
    with ``HH:MM[:SS]``), ISO 8601 dates and times (a missing offset means UTC), an ``int`` (already
    milliseconds), a string of 10 or more digits (milliseconds), and ``datetime``/``date`` objects
    (naive means UTC). The ``UTC`` suffix is optional everywhere; no other time zone name is
    accepted.

    >>> date_to_milliseconds("1 Jan, 2017")
    1483228800000

    Args:
        date: the date.
        now_ms: clock for relative forms (default: the system clock).

    Returns:
        Milliseconds since 1970-01-01 00:00 UTC.

    Raises:
        ValueError: the string is in none of the accepted forms (the message lists them).
    """
    if isinstance(date, bool):
        raise ValueError(f"not a date: {date!r}")
    if isinstance(date, int):
        return date
    if isinstance(date, _dt.datetime):
        return _to_ms(date)
    if isinstance(date, _dt.date):
        return _to_ms(_dt.datetime(date.year, date.month, date.day))
    if not isinstance(date, str):
        raise ValueError(f"not a date: {date!r} (accepted: {_ACCEPTED})")
    text = " ".join(date.strip().split())
    if text.isdigit() and len(text) >= 10:
        return int(text)
    bare = _UTC_SUFFIX.sub("", text) if not _ISO_DATE.match(text) else text
    lowered = bare.lower()
    clock = now_ms or _clock_ms
    if lowered == "now":
        return clock()
    if lowered == "today":
        return _utc_midnight(clock())
    if lowered == "yesterday":
        return _utc_midnight(clock()) - _DAY
    match = _RELATIVE_RE.match(bare)
    if match is not None:
        count, unit = int(match.group(1)), match.group(2).lower()
        step = _RELATIVE_UNITS[unit]
        now = clock()
        if step is not None:
            return now - count * step
        moment = _dt.datetime.fromtimestamp(now / 1000, tz=_dt.timezone.utc)
        months = count * (12 if unit == "year" else 1)
        # Keep the millisecond part exact: datetime carries microseconds, we want ms.
        return _to_ms(_add_months(moment.replace(microsecond=0), -months)) + now % 1000
    try:
        result = _absolute(bare)
    except ValueError as exc:  # e.g. "31 Feb, 2018", or a malformed ISO string
        raise ValueError(f"invalid date {date!r}: {exc}") from None
    if result is None:
        raise ValueError(f"cannot read date {date!r}; accepted: {_ACCEPTED}")
    return result


# -- decimals --------------------------------------------------------------------------------------


def to_decimal(value: NumberLike) -> Decimal:
    """``value`` as an exact ``Decimal``; floats go through their shortest ``repr``.

    Raises:
        ValueError: not a finite number (bools are refused too).
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    elif isinstance(value, int):
        return Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    else:
        raise ValueError(f"not a number: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def format_decimal(value: NumberLike) -> str:
    """The plain decimal string Binance expects: no exponent, no trailing zeros.

    >>> format_decimal(1e-7), format_decimal(Decimal("1E+3")), format_decimal("0.10000000")
    ('0.0000001', '1000', '0.1')
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    number = to_decimal(value)
    if number == 0:
        return "0"
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _round_to(value: NumberLike, step: NumberLike, rounding: str) -> Decimal:
    number, unit = to_decimal(value), to_decimal(step)
    if unit <= 0:
        return number
    steps = (number / unit).to_integral_value(rounding=rounding)
    result = steps * unit
    # Show the result with the step's own number of decimals ("0.00100000" -> 3).
    exponent = unit.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < 0:
        return result.quantize(Decimal(1).scaleb(exponent))
    return result.quantize(Decimal(1))


def round_step_size(
    quantity: NumberLike, step_size: NumberLike, rounding: str = ROUND_DOWN
) -> Decimal:
    """``quantity`` rounded down (by default) to a multiple of ``step_size`` (LOT_SIZE).

    >>> round_step_size("1.23456", "0.00100000")
    Decimal('1.234')

    Args:
        quantity: the wanted quantity.
        step_size: the filter's ``stepSize`` (0 means no step: returned unchanged).
        rounding: a ``decimal`` rounding mode; rounding down never buys or sells more than asked.
    """
    return _round_to(quantity, step_size, rounding)


def round_tick_size(
    price: NumberLike, tick_size: NumberLike, rounding: str = ROUND_HALF_UP
) -> Decimal:
    """``price`` rounded (half up by default) to a multiple of ``tick_size`` (PRICE_FILTER).

    >>> round_tick_size("0.123456", "0.0001")
    Decimal('0.1235')

    Use ``rounding=ROUND_DOWN`` for a buy that must not pay more, ``ROUND_UP`` for a sell that
    must not receive less.
    """
    return _round_to(price, tick_size, rounding)
