"""Ticker statistics: 24hr, rolling window and trading-day tickers, and the average price.

Everything is derived from :class:`~binance.sim.engine.klines.Klines`: generated history at
one-second resolution before the live period, exact per-second sums of recorded trades after it.
Trade ids follow ``Klines.trade_count_before``: the n-th trade since listing has id ``n - 1``, so
the engine must number live trades from ``klines.trade_count_before(symbol,
klines.history_end_ms(symbol))``. Bid/ask fields are the renderer's (from the book), not ours.

No I/O here; must not import asyncio, aiohttp, json or the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from binance import errorcodes
from binance.sim.engine import EngineError
from binance.sim.engine.klines import DAY, HOUR, MINUTE, SECOND, Klines

__all__ = ["Stats", "TickerStats", "WINDOW_SIZES_MS", "AVG_PRICE_MINS"]

#: ``windowSize`` values of ``GET /api/v3/ticker``: 1m..59m, 1h..23h, 1d..7d (NOTES.md §4.1).
WINDOW_SIZES_MS = frozenset(
    [m * MINUTE for m in range(1, 60)]
    + [h * HOUR for h in range(1, 24)]
    + [d * DAY for d in range(1, 8)]
)
#: Binance's default ``avgPriceMins`` (PERCENT_PRICE filters, ``GET /api/v3/avgPrice``).
AVG_PRICE_MINS = 5

_ZERO = Decimal(0)
_PERCENT = Decimal("0.001")


@dataclass(frozen=True)
class TickerStats:
    """One symbol's statistics over a window (the fields of ``/api/v3/ticker/24hr`` but bid/ask).

    ``first_id``/``last_id`` are -1 and ``count`` 0 when nothing traded in the window.
    """

    symbol: str
    price_change: Decimal
    price_change_percent: Decimal
    weighted_avg_price: Decimal
    prev_close_price: Decimal
    last_price: Decimal
    last_qty: Decimal
    open_price: Decimal
    high_price: Decimal
    low_price: Decimal
    volume: Decimal
    quote_volume: Decimal
    open_time: int
    close_time: int
    first_id: int
    last_id: int
    count: int


class Stats:
    """Tickers and average price computed from the kline history and the live trades.

    Args:
        klines: the history and live aggregation (also fed the live trades by the engine).
    """

    def __init__(self, klines: Klines) -> None:
        self.klines = klines

    def ticker_24hr(self, symbol: str, now_ms: int) -> TickerStats:
        """Statistics of the last 24 hours (``GET /api/v3/ticker/24hr``).

        ``openTime`` is exactly 24 h before ``closeTime`` = ``now_ms``; trades are counted with
        one-second resolution at the window's start.

        Raises:
            EngineError: -1121 unknown symbol.
        """
        return self._window(symbol, now_ms - DAY, now_ms, now_ms)

    def rolling(self, symbol: str, window_ms: int, now_ms: int) -> TickerStats:
        """Statistics of a rolling window (``GET /api/v3/ticker``, ``windowSize``).

        Binance opens the window on a minute boundary, so it is up to 59,999 ms wider than
        asked (NOTES.md §4.1).

        Raises:
            EngineError: -1121 unknown symbol, -1130 a window size Binance does not offer.
        """
        if window_ms not in WINDOW_SIZES_MS:
            bad = errorcodes.INVALID_PARAMETER
            raise EngineError(bad, bad.msg("windowSize"))
        start = now_ms - window_ms
        start -= start % MINUTE
        return self._window(symbol, start, now_ms, now_ms)

    def trading_day(self, symbol: str, tz_offset_ms: int, now_ms: int) -> TickerStats:
        """Statistics of the current trading day in a time zone (``GET /api/v3/ticker/tradingDay``).

        The day runs from local midnight; ``closeTime`` is the day's last millisecond, while the
        data stop at ``now_ms``.

        Raises:
            EngineError: -1121 unknown symbol, -1130 an offset outside -12 h..+14 h.
        """
        if not -12 * HOUR <= tz_offset_ms <= 14 * HOUR:
            bad = errorcodes.INVALID_PARAMETER
            raise EngineError(bad, bad.msg("timeZone"))
        local = now_ms + tz_offset_ms
        start = local - local % DAY - tz_offset_ms
        return self._window(symbol, start, start + DAY - 1, now_ms)

    def avg_price(self, symbol: str, mins: int, now_ms: int) -> tuple[Decimal, int] | None:
        """Volume-weighted average price of the last ``mins`` minutes and the last trade's time.

        NOTES.md §6: sum(price*qty) / sum(qty) over the window; with no trade in the window, the
        last trade before it; ``None`` if the symbol never traded (``GET /api/v3/avgPrice``).

        Raises:
            EngineError: -1121 unknown symbol.
        """
        last = self.klines.last_trade(symbol, now_ms)
        if last is None:
            return None
        if mins > 0:
            start = _ceil_second(now_ms - mins * MINUTE)
            agg = self.klines.range_agg(symbol, start, _end_of_second(now_ms))
            if agg is not None and agg.v > 0:
                return self._round_price(symbol, agg.q / agg.v), last[0]
        return last[1], last[0]

    # -- internals -----------------------------------------------------------------------------
    def _round_price(self, symbol: str, price: Decimal) -> Decimal:
        tick = self.klines._series_of(symbol).tick
        exponent = tick.as_tuple().exponent
        places = min(-8, exponent) if isinstance(exponent, int) else -8
        return price.quantize(Decimal(1).scaleb(places), rounding=ROUND_HALF_EVEN)

    def _window(self, symbol: str, open_time: int, close_time: int, now_ms: int) -> TickerStats:
        klines = self.klines
        series = klines._series_of(symbol)
        zero_price = series.tick * 0
        zero_qty = series.step * 0
        start = _ceil_second(open_time)
        end = _end_of_second(min(now_ms, close_time))
        agg = klines.range_agg(symbol, start, end) if start < end else None
        last = klines.last_trade(symbol, now_ms)
        before = klines.last_trade(symbol, start - 1) if start > series.start else None
        prev_close = before[1] if before is not None else zero_price
        if agg is None or agg.n == 0:
            price = last[1] if last is not None else zero_price
            return TickerStats(
                symbol, zero_price, _ZERO.quantize(_PERCENT), zero_price, prev_close, price,
                zero_qty, price, price, price, zero_qty, series.unit * 0, open_time,
                close_time, -1, -1, 0,
            )  # fmt: skip
        change = agg.c - agg.o
        percent = (change * 100 / agg.o).quantize(_PERCENT) if agg.o else _ZERO.quantize(_PERCENT)
        first_id = klines.trade_count_before(symbol, start)
        last_qty = last[2] if last is not None else zero_qty
        return TickerStats(
            symbol=symbol,
            price_change=change,
            price_change_percent=percent,
            weighted_avg_price=self._round_price(symbol, agg.q / agg.v),
            prev_close_price=prev_close,
            last_price=agg.c,
            last_qty=last_qty,
            open_price=agg.o,
            high_price=agg.h,
            low_price=agg.l,
            volume=agg.v,
            quote_volume=agg.q,
            open_time=open_time,
            close_time=close_time,
            first_id=first_id,
            last_id=first_id + agg.n - 1,
            count=agg.n,
        )


def _ceil_second(ms: int) -> int:
    return -(-ms // SECOND) * SECOND


def _end_of_second(ms: int) -> int:
    """The end (exclusive) of the second containing ``ms``."""
    return ms - ms % SECOND + SECOND
