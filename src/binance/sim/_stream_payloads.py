"""Stream and WebSocket API payloads: engine events and engine reads -> Binance's JSON shapes.

The market streams and the WebSocket API render through this module only. The payloads
``binance.sim._render`` owns (trade, aggTrade, depthUpdate, bookTicker, partial depth,
executionReport, outboundAccountPosition, balanceUpdate) are delegated to it; the rest (klines,
tickers, average price, ``serverShutdown``, ``eventStreamTerminated``, ``listenKeyExpired``) are
written here. Shapes follow ``shared/binance-api/examples/ws/*.json`` and NOTES.md §9, §11:
every price and quantity is a plain decimal string with at least 8 decimals, never scientific
notation; times are integer milliseconds.

No I/O here; aiohttp and the client are not imported. Functions taking ``exchange`` only read it
and must run on the server's loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from binance.sim import _render
from binance.sim.engine.events import (
    AggTradeEvent,
    BalanceEvent,
    BalanceUpdateEvent,
    BookTickerEvent,
    DepthEvent,
    OrderEvent,
    TradeEvent,
)

__all__ = [
    "agg_trade",
    "avg_price",
    "book_ticker",
    "depth_update",
    "dumps",
    "event_stream_terminated",
    "fmt",
    "klines",
    "listen_key_expired",
    "mini_ticker",
    "partial_depth",
    "server_shutdown",
    "ticker",
    "trade",
    "time_zone_offset_ms",
    "user_event",
    "window_ticker",
]


def fmt(value: Decimal) -> str:
    """A price or quantity as Binance streams it (``_render.decimal``: exactly 8 decimals)."""
    return _render.decimal(value)


#: The simulator's one serialiser (Decimals as plain strings).
dumps = _render.dumps


# -- connection events ----------------------------------------------------------------------------


def server_shutdown(now: int) -> dict[str, Any]:
    """``serverShutdown`` (NOTES.md §9), sent before a planned disconnect."""
    return {"e": "serverShutdown", "E": now}


def listen_key_expired(listen_key: str, now: int) -> dict[str, Any]:
    """``listenKeyExpired`` (legacy user data stream, NOTES.md §11)."""
    return {"e": "listenKeyExpired", "E": now, "listenKey": listen_key}


def event_stream_terminated(now: int) -> dict[str, Any]:
    """``eventStreamTerminated`` (NOTES.md §11): a user-data subscription ended."""
    return {"e": "eventStreamTerminated", "E": now}


# -- event-driven market streams ------------------------------------------------------------------


def trade(event: TradeEvent, now: int) -> dict[str, Any]:
    """``<symbol>@trade`` (no ``b``/``a`` since 2024-06-18, NOTES.md §0)."""
    return _render.trade_event(event, max(now, event.time))


def agg_trade(event: AggTradeEvent, now: int) -> dict[str, Any]:
    """``<symbol>@aggTrade``."""
    return _render.agg_trade_event(event, max(now, event.time))


def book_ticker(event: BookTickerEvent) -> dict[str, Any]:
    """``<symbol>@bookTicker`` (no ``e``/``E``)."""
    return _render.book_ticker_event(event)


Levels = Sequence[tuple[Decimal, Decimal]]


def depth_update(
    symbol: str, first: int, last: int, bids: Levels, asks: Levels, now: int
) -> dict[str, Any]:
    """``depthUpdate`` for the merged changes ``first..last`` (NOTES.md §10)."""
    return _render.depth_event(DepthEvent(symbol, first, last, tuple(bids), tuple(asks), now))


def partial_depth(snapshot: Any) -> dict[str, Any]:
    """``<symbol>@depth<N>``: ``{lastUpdateId, bids, asks}`` (no symbol, no event type)."""
    return _render.depth(snapshot)


# -- user data ------------------------------------------------------------------------------------


def user_event(event: OrderEvent | BalanceEvent | BalanceUpdateEvent) -> dict[str, Any]:
    """The bare user-data event (``executionReport``, ``outboundAccountPosition``,
    ``balanceUpdate``) for an engine event."""
    if isinstance(event, OrderEvent):
        return _render.execution_report(event)
    if isinstance(event, BalanceEvent):
        return _render.balance_event(event)
    return _render.balance_update_event(event)


# -- periodic streams (klines, tickers, average price) -------------------------------------------


def time_zone_offset_ms(time_zone: str | None) -> int:
    """``"+08:00"`` -> 28 800 000; None -> 0."""
    if not time_zone:
        return 0
    sign = -1 if time_zone.startswith("-") else 1
    hours, _, minutes = time_zone.lstrip("+-").partition(":")
    return sign * (int(hours) * 3_600_000 + int(minutes or 0) * 60_000)


def _kline_payload(
    klines_: Any, symbol: str, interval: str, kline: Any, closed: bool, now: int
) -> dict[str, Any]:
    count = kline.trades
    if count:
        # Trade ids are numbered from the listing (klines.trade_count_before).
        first = klines_.trade_count_before(symbol, kline.open_time)
        last = first + count - 1
    else:
        first = last = -1
    return {
        "e": "kline",
        "E": now,
        "s": symbol,
        "k": {
            "t": kline.open_time,
            "T": kline.close_time,
            "s": symbol,
            "i": interval,
            "f": first,
            "L": last,
            "o": fmt(kline.open),
            "c": fmt(kline.close),
            "h": fmt(kline.high),
            "l": fmt(kline.low),
            "v": fmt(kline.volume),
            "n": count,
            "x": closed,
            "q": fmt(kline.quote_volume),
            "V": fmt(kline.taker_buy_base),
            "Q": fmt(kline.taker_buy_quote),
            "B": "0",
        },
    }


def klines(
    exchange: Any,
    symbol: str,
    interval: str,
    time_zone: str | None,
    now: int,
    last_open: int | None,
) -> list[tuple[int, dict[str, Any], bool]]:
    """Kline frames for ``<symbol>@kline_<interval>[@+08:00]`` as ``(open_time, payload,
    closed)``: the final state (``x`` true) of the kline opened at ``last_open`` if it has closed
    since, then the kline containing ``now`` (``x`` false). Nothing for a symbol whose klines
    ended (not trading).
    """
    source = getattr(exchange, "klines", None)
    if source is None:
        return []
    offset = time_zone_offset_ms(time_zone)
    rows = source.query(symbol, interval, limit=2, tz_offset_ms=offset, now_ms=now)
    if not rows or rows[-1].close_time < now:
        return []
    current = rows[-1]
    frames: list[tuple[int, dict[str, Any], bool]] = []
    if last_open is not None and last_open != current.open_time:
        previous = [k for k in rows[:-1] if k.open_time == last_open]
        if not previous:
            previous = source.query(
                symbol, interval, start_ms=last_open, limit=1, tz_offset_ms=offset, now_ms=now
            )
        if previous and previous[0].open_time == last_open:
            payload = _kline_payload(source, symbol, interval, previous[0], True, now)
            frames.append((last_open, payload, True))
    frames.append(
        (current.open_time, _kline_payload(source, symbol, interval, current, False, now), False)
    )
    return frames


def _stats(exchange: Any) -> Any:
    return getattr(exchange, "stats", None)


def _tail(t: Any) -> dict[str, Any]:
    """The fields every rolling ticker stream ends with: volumes, window and trade ids."""
    return {
        "v": fmt(t.volume),
        "q": fmt(t.quote_volume),
        "O": t.open_time,
        "C": t.close_time,
        "F": t.first_id,
        "L": t.last_id,
        "n": t.count,
    }


def mini_ticker(exchange: Any, symbol: str, now: int) -> dict[str, Any] | None:
    """``24hrMiniTicker`` (``<symbol>@miniTicker``, ``!miniTicker@arr``)."""
    stats = _stats(exchange)
    if stats is None:
        return None
    t = stats.ticker_24hr(symbol, now)
    return {
        "e": "24hrMiniTicker",
        "E": now,
        "s": symbol,
        "c": fmt(t.last_price),
        "o": fmt(t.open_price),
        "h": fmt(t.high_price),
        "l": fmt(t.low_price),
        "v": fmt(t.volume),
        "q": fmt(t.quote_volume),
    }


def ticker(exchange: Any, symbol: str, now: int) -> dict[str, Any] | None:
    """``24hrTicker`` (``<symbol>@ticker``): rolling 24 h statistics plus the best bid/ask."""
    stats = _stats(exchange)
    if stats is None:
        return None
    t = stats.ticker_24hr(symbol, now)
    book = exchange.book_ticker(symbol)
    return {
        "e": "24hrTicker",
        "E": now,
        "s": symbol,
        "p": fmt(t.price_change),
        "P": _render.percent(t.price_change_percent),
        "w": fmt(t.weighted_avg_price),
        "x": fmt(t.prev_close_price),
        "c": fmt(t.last_price),
        "Q": fmt(t.last_qty),
        "b": fmt(book.bid_price),
        "B": fmt(book.bid_qty),
        "a": fmt(book.ask_price),
        "A": fmt(book.ask_qty),
        "o": fmt(t.open_price),
        "h": fmt(t.high_price),
        "l": fmt(t.low_price),
        **_tail(t),
    }


#: Rolling-window stream sizes (NOTES.md §9) in ms.
WINDOW_MS = {"1h": 3_600_000, "4h": 4 * 3_600_000, "1d": 24 * 3_600_000}


def window_ticker(exchange: Any, symbol: str, window: str, now: int) -> dict[str, Any] | None:
    """``1hTicker`` / ``4hTicker`` / ``1dTicker`` (``<symbol>@ticker_<window>``,
    ``!ticker_<window>@arr``)."""
    stats = _stats(exchange)
    if stats is None:
        return None
    t = stats.rolling(symbol, WINDOW_MS[window], now)
    return {
        "e": f"{window}Ticker",
        "E": now,
        "s": symbol,
        "p": fmt(t.price_change),
        "P": _render.percent(t.price_change_percent),
        "o": fmt(t.open_price),
        "h": fmt(t.high_price),
        "l": fmt(t.low_price),
        "c": fmt(t.last_price),
        "w": fmt(t.weighted_avg_price),
        **_tail(t),
    }


def avg_price(exchange: Any, symbol: str, now: int) -> dict[str, Any] | None:
    """``avgPrice`` (``<symbol>@avgPrice``); nothing for a symbol that never traded."""
    stats = _stats(exchange)
    if stats is None:
        return None
    mins = exchange.symbol(symbol).avg_price_mins
    result = stats.avg_price(symbol, mins, now)
    if result is None:
        return None
    price, last_time = result
    return {
        "e": "avgPrice",
        "E": now,
        "s": symbol,
        "i": f"{mins}m",
        "w": fmt(price),
        "T": last_time,
    }
