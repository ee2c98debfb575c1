"""The engine's records and events as Binance's JSON objects (plain dicts, ready to serialise).

One renderer per payload shape, shared by the REST routes, the WebSocket API and the streams, so a
field name or format is written once. Field names, order and types follow
``shared/binance-api/examples`` and ``spot_api.yaml``: amounts are strings with 8 decimals
(``"0.10000000"``), never exponents; ids and times are ints; flags are bools.

Binance adds some fields to order responses only when they apply ("conditional fields": stop price,
iceberg quantity, strategy ids, STP results); the renderers follow that.

Pure functions and `dumps`, the one serialiser every simulator answer and frame goes through
(orjson; Decimals in plain notation). No I/O. Imports only the engine's record types.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_DOWN, Context, Decimal
from typing import Any

import orjson

from binance import enums
from binance.sim.engine.accounts import AccountInfo, AccountTrade, CommissionRates
from binance.sim.engine.book import AggTrade, BookTicker, DepthSnapshot, Fill, Order, Trade
from binance.sim.engine.events import (
    AggTradeEvent,
    BalanceEvent,
    BalanceUpdateEvent,
    BookTickerEvent,
    DepthEvent,
    OrderEvent,
    TradeEvent,
)
from binance.sim.engine.matching import CancelReplaceResult, PlaceResult
from binance.sim.engine.stats import TickerStats

__all__ = [
    "account",
    "account_commission",
    "agg_trade",
    "agg_trade_event",
    "JsonNumber",
    "dumps",
    "api_trading_status",
    "asset_detail",
    "avg_price",
    "balance_event",
    "balance_update_event",
    "book_ticker",
    "book_ticker_event",
    "cancel_replace",
    "canceled_order",
    "decimal",
    "depth",
    "depth_event",
    "execution_report",
    "fill",
    "merge_depth_events",
    "my_trade",
    "new_order",
    "order",
    "order_test_commission",
    "percent",
    "price_ticker",
    "sapi_rate",
    "ticker",
    "trade",
    "trade_event",
    "trade_fee",
]

Json = dict[str, Any]

_Q8 = Decimal("1e-8")
_CTX = Context(prec=60)
_ZERO = Decimal(0)


def decimal(value: Decimal) -> str:
    """``value`` with exactly 8 decimals, as Binance writes amounts (``"0.10000000"``).

    Digits beyond the 8th are cut (never rounded up: the simulator never shows more than
    exists).
    """
    return format(value.quantize(_Q8, rounding=ROUND_DOWN, context=_CTX), "f")


class JsonNumber(Decimal):
    """A Decimal that Binance sends as a JSON number, not a string (``withdrawFee`` of
    ``assetDetail``): the serialisers write it in plain notation, ``0.0005``."""


def _default(value: Any) -> Any:
    if isinstance(value, JsonNumber):  # a number on the wire, still never an exponent
        return orjson.Fragment(format(value, "f").encode())
    if isinstance(value, Decimal):
        return format(value, "f")  # never scientific notation on the wire
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(payload: Any) -> bytes:
    """Serialise a payload the way the simulator sends it: Decimals as plain strings, a
    `JsonNumber` as a plain number (REST bodies, WebSocket API answers, stream frames)."""
    return orjson.dumps(payload, default=_default)


def percent(value: Decimal) -> str:
    """A percentage as the tickers write it (``priceChangePercent``, ``P``): as computed,
    ``"-1.250"``, never an exponent."""
    return format(value, "f")


def sapi_rate(value: Decimal) -> str:
    """A rate as ``/sapi`` writes it: ``"0.001"`` (no padding, never an exponent)."""
    text = format(value.normalize(), "f")
    return text if value else "0"


def _bips(rate: Decimal) -> int:
    """A rate as the legacy integer basis points of ``makerCommission`` (0.001 -> 10)."""
    return int((rate * 10000).to_integral_value(context=_CTX))


# -- orders -----------------------------------------------------------------------------------
def _conditional(o: Order, out: Json, *, stop_and_iceberg: bool) -> Json:
    """Add the conditional order fields that apply to ``o``."""
    if stop_and_iceberg:
        if o.type in enums.STOP_ORDER_TYPES:
            out["stopPrice"] = decimal(o.stop_price)
        if o.iceberg_qty > 0:
            out["icebergQty"] = decimal(o.iceberg_qty)
    if o.trailing_delta is not None:
        out["trailingDelta"] = o.trailing_delta
        out["trailingTime"] = o.trailing_time
    if o.strategy_id is not None:
        out["strategyId"] = o.strategy_id
    if o.strategy_type is not None:
        out["strategyType"] = o.strategy_type
    if o.prevented_match_id is not None:
        out["preventedMatchId"] = o.prevented_match_id
        out["preventedQuantity"] = decimal(o.prevented_quantity)
    return out


def _result_fields(o: Order, transact_time: int) -> Json:
    out: Json = {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": o.order_list_id,
        "clientOrderId": o.client_order_id,
        "transactTime": transact_time,
        "price": decimal(o.price),
        "origQty": decimal(o.orig_qty),
        "executedQty": decimal(o.executed_qty),
        "origQuoteOrderQty": decimal(o.orig_quote_order_qty),
        "cummulativeQuoteQty": decimal(o.cummulative_quote_qty),
        "status": o.status,
        "timeInForce": o.time_in_force,
        "type": o.type,
        "side": o.side,
        "workingTime": o.working_time,
        "selfTradePreventionMode": o.self_trade_prevention_mode,
    }
    return _conditional(o, out, stop_and_iceberg=True)


def fill(f: Fill) -> Json:
    """One entry of a FULL response's ``fills``."""
    return {
        "price": decimal(f.price),
        "qty": decimal(f.qty),
        "commission": decimal(f.commission),
        "commissionAsset": f.commission_asset,
        "tradeId": f.trade_id,
    }


def new_order(result: PlaceResult, resp_type: str | None = None) -> Json:
    """``POST /api/v3/order`` response in ``resp_type`` (default: the result's own) form:
    ``order_new_ack.json``, ``order_new_result.json`` or ``order_new_full.json``."""
    kind = resp_type or result.resp_type
    o = result.order
    if kind == enums.ORDER_RESP_TYPE_ACK:
        return {
            "symbol": o.symbol,
            "orderId": o.order_id,
            "orderListId": o.order_list_id,
            "clientOrderId": o.client_order_id,
            "transactTime": result.transact_time,
        }
    out = _result_fields(o, result.transact_time)
    if kind == enums.ORDER_RESP_TYPE_FULL:
        out["fills"] = [fill(f) for f in result.fills]
    return out


def order(o: Order) -> Json:
    """An order as queried: ``GET /api/v3/order``, ``openOrders``, ``allOrders`` entries."""
    out: Json = {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": o.order_list_id,
        "clientOrderId": o.client_order_id,
        "price": decimal(o.price),
        "origQty": decimal(o.orig_qty),
        "executedQty": decimal(o.executed_qty),
        "cummulativeQuoteQty": decimal(o.cummulative_quote_qty),
        "status": o.status,
        "timeInForce": o.time_in_force,
        "type": o.type,
        "side": o.side,
        "stopPrice": decimal(o.stop_price),
        "icebergQty": decimal(o.iceberg_qty),
        "time": o.time,
        "updateTime": o.update_time,
        "isWorking": o.is_working,
        "workingTime": o.working_time,
        "origQuoteOrderQty": decimal(o.orig_quote_order_qty),
        "selfTradePreventionMode": o.self_trade_prevention_mode,
    }
    return _conditional(o, out, stop_and_iceberg=False)


def canceled_order(o: Order) -> Json:
    """A canceled order as ``DELETE /api/v3/order`` (and each ``DELETE openOrders`` entry)
    returns it: ``clientOrderId`` is the cancel's id, ``origClientOrderId`` the order's."""
    out: Json = {
        "symbol": o.symbol,
        "origClientOrderId": o.client_order_id,
        "orderId": o.order_id,
        "orderListId": o.order_list_id,
        "clientOrderId": o.cancel_client_order_id or o.client_order_id,
        "transactTime": o.transact_time,
        "price": decimal(o.price),
        "origQty": decimal(o.orig_qty),
        "executedQty": decimal(o.executed_qty),
        "origQuoteOrderQty": decimal(o.orig_quote_order_qty),
        "cummulativeQuoteQty": decimal(o.cummulative_quote_qty),
        "status": o.status,
        "timeInForce": o.time_in_force,
        "type": o.type,
        "side": o.side,
        "selfTradePreventionMode": o.self_trade_prevention_mode,
    }
    return _conditional(o, out, stop_and_iceberg=True)


def cancel_replace(result: CancelReplaceResult) -> tuple[int, Json]:
    """``POST /api/v3/order/cancelReplace``: ``(http_status, body)``.

    200 with both responses on success; otherwise the -2021 (409) or -2022 (400) error with the
    outcome in ``data`` (``examples/order_cancelReplace_*.json``).
    """
    if result.canceled is not None:
        cancel_response: Json | None = canceled_order(result.canceled)
    elif result.cancel_error is not None:
        cancel_response = result.cancel_error.payload()
    else:  # pragma: no cover - the cancel is always attempted
        cancel_response = None
    if result.new_order is not None:
        new_response: Json | None = new_order(result.new_order)
    elif result.new_order_error is not None:
        new_response = result.new_order_error.payload()
    else:
        new_response = None
    body: Json = {
        "cancelResult": result.cancel_result,
        "newOrderResult": result.new_order_result,
        "cancelResponse": cancel_response,
        "newOrderResponse": new_response,
    }
    error = result.error
    if error is None:
        return 200, body
    payload = error.payload()
    payload["data"] = body
    return error.error.http_status, payload


def order_test_commission(rates: CommissionRates) -> Json:
    """``POST /api/v3/order/test`` with ``computeCommissionRates=true``."""
    zero = decimal(_ZERO)
    return {
        "standardCommissionForOrder": {
            "maker": decimal(rates.maker),
            "taker": decimal(rates.taker),
        },
        "specialCommissionForOrder": {"maker": zero, "taker": zero},
        "taxCommissionForOrder": {"maker": zero, "taker": zero},
        "discount": _discount(),
    }


def _discount() -> Json:
    # The simulator has no BNB fee discount: shown as not enabled for the account.
    return {
        "enabledForAccount": False,
        "enabledForSymbol": True,
        "discountAsset": "BNB",
        "discount": decimal(Decimal("0.75")),
    }


# -- account ----------------------------------------------------------------------------------
def account(info: AccountInfo, omit_zero_balances: bool = False) -> Json:
    """``GET /api/v3/account`` (``account.json``)."""
    rates = info.commission_rates
    balances = [
        {"asset": asset, "free": decimal(free), "locked": decimal(locked)}
        for asset, free, locked in info.balances
        if not (omit_zero_balances and free == 0 and locked == 0)
    ]
    return {
        "makerCommission": _bips(rates.maker),
        "takerCommission": _bips(rates.taker),
        "buyerCommission": _bips(rates.buyer),
        "sellerCommission": _bips(rates.seller),
        "commissionRates": _rates(rates),
        "canTrade": info.can_trade,
        "canWithdraw": info.can_withdraw,
        "canDeposit": info.can_deposit,
        "brokered": info.brokered,
        "requireSelfTradePrevention": info.require_self_trade_prevention,
        "preventSor": info.prevent_sor,
        "updateTime": info.update_time,
        "accountType": info.account_type,
        "balances": balances,
        "permissions": list(info.permissions),
        "uid": info.uid,
    }


def _rates(rates: CommissionRates) -> Json:
    return {
        "maker": decimal(rates.maker),
        "taker": decimal(rates.taker),
        "buyer": decimal(rates.buyer),
        "seller": decimal(rates.seller),
    }


def account_commission(symbol: str, rates: CommissionRates) -> Json:
    """``GET /api/v3/account/commission`` (``account_commission.json``)."""
    zero = CommissionRates(_ZERO, _ZERO)
    return {
        "symbol": symbol,
        "standardCommission": _rates(rates),
        "specialCommission": _rates(zero),
        "taxCommission": _rates(zero),
        "discount": _discount(),
    }


def my_trade(t: AccountTrade) -> Json:
    """One ``GET /api/v3/myTrades`` entry."""
    return {
        "symbol": t.symbol,
        "id": t.id,
        "orderId": t.order_id,
        "orderListId": t.order_list_id,
        "price": decimal(t.price),
        "qty": decimal(t.qty),
        "quoteQty": decimal(t.quote_qty),
        "commission": decimal(t.commission),
        "commissionAsset": t.commission_asset,
        "time": t.time,
        "isBuyer": t.is_buyer,
        "isMaker": t.is_maker,
        "isBestMatch": t.is_best_match,
    }


# -- market data ------------------------------------------------------------------------------
def _levels(levels: Iterable[tuple[Decimal, Decimal]]) -> list[list[str]]:
    return [[decimal(price), decimal(qty)] for price, qty in levels]


def depth(snapshot: DepthSnapshot) -> Json:
    """``GET /api/v3/depth`` (and the partial-depth stream payload)."""
    return {
        "lastUpdateId": snapshot.last_update_id,
        "bids": _levels(snapshot.bids),
        "asks": _levels(snapshot.asks),
    }


def ticker(t: TickerStats, *, mini: bool = False, book: BookTicker | None = None) -> Json:
    """A REST ticker object: ``GET /api/v3/ticker/24hr`` with ``book`` (the best bid and ask),
    ``GET /api/v3/ticker`` and ``ticker/tradingDay`` without it (``ticker_24hr*.json``,
    ``ticker_window*.json``, ``ticker_tradingDay*.json``); ``mini``: the ``MINI`` type."""
    d = decimal
    out: Json = {"symbol": t.symbol}
    if not mini:
        out["priceChange"] = d(t.price_change)
        out["priceChangePercent"] = percent(t.price_change_percent)
        out["weightedAvgPrice"] = d(t.weighted_avg_price)
        if book is not None:
            out["prevClosePrice"] = d(t.prev_close_price)
            out["lastPrice"] = d(t.last_price)
            out["lastQty"] = d(t.last_qty)
            out["bidPrice"] = d(book.bid_price)
            out["bidQty"] = d(book.bid_qty)
            out["askPrice"] = d(book.ask_price)
            out["askQty"] = d(book.ask_qty)
    out["openPrice"] = d(t.open_price)
    out["highPrice"] = d(t.high_price)
    out["lowPrice"] = d(t.low_price)
    if mini or book is None:
        out["lastPrice"] = d(t.last_price)
    out["volume"] = d(t.volume)
    out["quoteVolume"] = d(t.quote_volume)
    out["openTime"] = t.open_time
    out["closeTime"] = t.close_time
    out["firstId"] = t.first_id
    out["lastId"] = t.last_id
    out["count"] = t.count
    return out


def price_ticker(symbol: str, price: Decimal) -> Json:
    """One ``GET /api/v3/ticker/price`` entry."""
    return {"symbol": symbol, "price": decimal(price)}


def avg_price(mins: int, found: tuple[Decimal, int] | None) -> Json:
    """``GET /api/v3/avgPrice``: ``found`` is the engine's ``(price, last trade time)``, None
    for a symbol that never traded (price 0, closeTime 0)."""
    price, close_time = found if found is not None else (_ZERO, 0)
    return {"mins": mins, "price": decimal(price), "closeTime": close_time}


def trade_fee(symbol: str, rates: CommissionRates) -> Json:
    """One ``GET /sapi/v1/asset/tradeFee`` entry."""
    return {
        "symbol": symbol,
        "makerCommission": sapi_rate(rates.maker),
        "takerCommission": sapi_rate(rates.taker),
    }


def asset_detail(details: Mapping[str, Mapping[str, Any]]) -> Json:
    """``GET /sapi/v1/asset/assetDetail`` from the wallet's per-coin details: ``withdrawFee``
    as a JSON number, as Binance sends it (``"withdrawFee": 0.01``)."""
    return {
        coin: {**item, "withdrawFee": JsonNumber(item["withdrawFee"])}
        for coin, item in details.items()
    }


def api_trading_status() -> Json:
    """``GET /sapi/v1/account/apiTradingStatus``: the simulator never locks API trading;
    Binance's default trigger thresholds."""
    return {
        "data": {
            "isLocked": False,
            "plannedRecoverTime": 0,
            "triggerCondition": {"GCR": 150, "IFER": 150, "UFR": 300},
            "indicators": {},
            "updateTime": 0,
        }
    }


def trade(t: Trade) -> Json:
    """One ``GET /api/v3/trades`` / ``historicalTrades`` entry."""
    return {
        "id": t.id,
        "price": decimal(t.price),
        "qty": decimal(t.qty),
        "quoteQty": decimal(t.quote_qty),
        "time": t.time,
        "isBuyerMaker": t.is_buyer_maker,
        "isBestMatch": t.is_best_match,
    }


def agg_trade(a: AggTrade) -> Json:
    """One ``GET /api/v3/aggTrades`` entry."""
    return {
        "a": a.id,
        "p": decimal(a.price),
        "q": decimal(a.qty),
        "f": a.first_trade_id,
        "l": a.last_trade_id,
        "T": a.time,
        "m": a.is_buyer_maker,
        "M": a.is_best_match,
    }


def book_ticker(t: BookTicker) -> Json:
    """``GET /api/v3/ticker/bookTicker`` for one symbol."""
    return {
        "symbol": t.symbol,
        "bidPrice": decimal(t.bid_price),
        "bidQty": decimal(t.bid_qty),
        "askPrice": decimal(t.ask_price),
        "askQty": decimal(t.ask_qty),
    }


# -- market streams ---------------------------------------------------------------------------
def _stream_header(
    event_type: str, e: TradeEvent | AggTradeEvent | DepthEvent, event_time: int | None
) -> Json:
    """The fields a market-stream payload opens with: event type, event time, symbol.

    ``event_time`` is when the stream sends the event (its adapter passes the clock, which may be
    later than the event's own time); None means the event's own time.
    """
    return {"e": event_type, "E": e.time if event_time is None else event_time, "s": e.symbol}


def trade_event(e: TradeEvent, event_time: int | None = None) -> Json:
    """``<symbol>@trade`` payload (``ws/trade.json``)."""
    return {
        **_stream_header("trade", e, event_time),
        "t": e.trade_id,
        "p": decimal(e.price),
        "q": decimal(e.qty),
        "T": e.time,
        "m": e.is_buyer_maker,
        "M": True,
    }


def agg_trade_event(e: AggTradeEvent, event_time: int | None = None) -> Json:
    """``<symbol>@aggTrade`` payload (``ws/aggTrade.json``)."""
    return {
        **_stream_header("aggTrade", e, event_time),
        "a": e.agg_trade_id,
        "p": decimal(e.price),
        "q": decimal(e.qty),
        "f": e.first_trade_id,
        "l": e.last_trade_id,
        "T": e.time,
        "m": e.is_buyer_maker,
        "M": True,
    }


def depth_event(e: DepthEvent, event_time: int | None = None) -> Json:
    """``<symbol>@depth`` payload (``ws/depthUpdate.json``)."""
    return {
        **_stream_header("depthUpdate", e, event_time),
        "U": e.first_update_id,
        "u": e.last_update_id,
        "b": _levels(e.bids),
        "a": _levels(e.asks),
    }


def merge_depth_events(events: Sequence[DepthEvent]) -> DepthEvent:
    """Several consecutive diffs of one symbol as one (for the 100 ms / 1000 ms streams):
    ``U`` of the first, ``u`` of the last, each level's latest quantity."""
    bids: dict[Decimal, Decimal] = {}
    asks: dict[Decimal, Decimal] = {}
    for e in events:
        bids.update(e.bids)
        asks.update(e.asks)
    first, last = events[0], events[-1]
    return DepthEvent(
        first.symbol,
        first.first_update_id,
        last.last_update_id,
        tuple(bids.items()),
        tuple(asks.items()),
        last.time,
    )


def book_ticker_event(e: BookTickerEvent) -> Json:
    """``<symbol>@bookTicker`` payload (``ws/bookTicker.json``)."""
    return {
        "u": e.update_id,
        "s": e.symbol,
        "b": decimal(e.bid_price),
        "B": decimal(e.bid_qty),
        "a": decimal(e.ask_price),
        "A": decimal(e.ask_qty),
    }


# -- user data --------------------------------------------------------------------------------
def execution_report(e: OrderEvent) -> Json:
    """User-data ``executionReport`` (``ws/user_executionReport.json``; NOTES.md section 11)."""
    o = e.order
    canceled = e.execution_type == enums.EXECUTION_TYPE_CANCELED
    out: Json = {
        "e": "executionReport",
        "E": e.time,
        "s": o.symbol,
        "c": (o.cancel_client_order_id or o.client_order_id) if canceled else o.client_order_id,
        "S": o.side,
        "o": o.type,
        "f": o.time_in_force,
        "q": decimal(o.orig_qty),
        "p": decimal(o.price),
        "P": decimal(o.stop_price),
        "F": decimal(o.iceberg_qty),
        "g": o.order_list_id,
        "C": e.orig_client_order_id,
        "x": e.execution_type,
        "X": o.status,
        "r": e.reject_reason,
        "i": o.order_id,
        "l": decimal(e.last_qty),
        "z": decimal(o.executed_qty),
        "L": decimal(e.last_price),
        "n": decimal(e.commission) if e.commission_asset is not None else "0",
        "N": e.commission_asset,
        "T": e.time,
        "t": e.trade_id,
        "I": e.execution_id,
        "w": o.on_book,
        "m": e.is_maker,
        "M": False,
        "O": o.time,
        "Z": decimal(o.cummulative_quote_qty),
        "Y": decimal(e.last_quote_qty),
        "Q": decimal(o.orig_quote_order_qty),
        "W": o.working_time,
        "V": o.self_trade_prevention_mode,
    }
    if o.trailing_delta is not None:
        out["d"] = o.trailing_delta
        out["D"] = o.trailing_time
    if o.strategy_id is not None:
        out["j"] = o.strategy_id
    if o.strategy_type is not None:
        out["J"] = o.strategy_type
    if e.prevented_match_id is not None:
        out["v"] = e.prevented_match_id
        out["A"] = decimal(o.prevented_quantity)
        out["B"] = decimal(e.last_prevented_qty if e.last_prevented_qty is not None else _ZERO)
    return out


def balance_event(e: BalanceEvent) -> Json:
    """User-data ``outboundAccountPosition`` (``ws/user_outboundAccountPosition.json``)."""
    return {
        "e": "outboundAccountPosition",
        "E": e.time,
        "u": e.time,
        "B": [
            {"a": asset, "f": decimal(free), "l": decimal(locked)}
            for asset, free, locked in e.balances
        ],
    }


def balance_update_event(e: BalanceUpdateEvent) -> Json:
    """User-data ``balanceUpdate`` (``ws/user_balanceUpdate.json``)."""
    return {
        "e": "balanceUpdate",
        "E": e.time,
        "a": e.asset,
        "d": decimal(e.delta),
        "T": e.time,
    }
