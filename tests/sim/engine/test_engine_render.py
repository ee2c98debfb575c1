"""Rendered payloads have the examples' keys and value types, and match spot_api.yaml."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from engine_support import Clock, req

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
from binance.sim.engine.exchange import Exchange, ExchangeConfig
from schemas_util import has_response, load_example, validate_response

D = Decimal

#: Keys Binance sends only under conditions (NOTES.md 11; order "conditional fields").
CONDITIONAL = {
    "stopPrice",
    "icebergQty",
    "strategyId",
    "strategyType",
    "preventedMatchId",
    "preventedQuantity",
    "v",
    "A",
    "B",
    "j",
    "J",
    "d",
    "D",
    "trailingDelta",
    "trailingTime",
}


def example(name: str) -> Any:
    return load_example(name)


def same_shape(ours: Any, theirs: Any, where: str = "") -> None:
    """Same keys (conditional ones aside) and the same JSON types, recursively."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        extra = set(ours) - set(theirs) - CONDITIONAL
        missing = set(theirs) - set(ours) - CONDITIONAL
        assert not extra and not missing, f"{where}: extra {extra}, missing {missing}"
        for key in set(ours) & set(theirs):
            same_shape(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list), where
        if theirs and ours:
            for item in ours:
                same_shape(item, theirs[0], f"{where}[]")
    elif theirs is None:
        assert ours is None or isinstance(ours, str), where  # "N": null or the asset
    else:
        assert type(ours) is type(theirs), f"{where}: {type(ours)} vs {type(theirs)}"
        if isinstance(ours, str) and isinstance(theirs, str) and theirs[:1].isdigit():
            assert "E" not in ours and "e" not in ours, f"{where}: exponent in {ours!r}"


@pytest.fixture
def world() -> dict[str, Any]:
    """An exchange with one of everything: resting, filled, stop and canceled orders, events."""
    clock = Clock()
    ex = Exchange(seed=4, now_ms=clock, config=ExchangeConfig(background_market=False))
    events: list[Any] = []
    ex.events.subscribe(events.append)
    maker = ex.create_account("maker")
    user = ex.create_account("user")
    ex.place_order(maker, req("SELL", price="95000.00", quantity="0.5", iceberg_qty="0.1"))
    ex.place_order(maker, req("SELL", price="95010.00", quantity="0.5"))
    full = ex.place_order(user, req("BUY", type="MARKET", quantity="0.15"))
    resting = ex.place_order(user, req("BUY", price="94000.00", quantity="0.1", strategy_id=7))
    stop = ex.place_order(
        user,
        req(
            "SELL", type="STOP_LOSS_LIMIT", quantity="0.1", price="90000.00", stop_price="91000.00"
        ),
    )
    canceled = ex.cancel_order(user, "BTCUSDT", order_id=resting.order.order_id)
    ex.deposit_funds(user, "BTC", D("1"))
    return {
        "ex": ex,
        "user": user,
        "full": full,
        "stop": stop,
        "canceled": canceled,
        "events": events,
    }


def test_new_order_responses(world: dict[str, Any]) -> None:
    full = world["full"]
    same_shape(_render.new_order(full, "ACK"), example("order_new_ack.json"))
    same_shape(_render.new_order(full, "RESULT"), example("order_new_result.json"))
    body = _render.new_order(full)
    same_shape(body, example("order_new_full.json"))
    assert body["fills"][0] == {
        "price": "95000.00000000",
        "qty": "0.10000000",
        "commission": "0.00010000",
        "commissionAsset": "BTC",
        "tradeId": full.fills[0].trade_id,
    }
    for kind in ("ACK", "RESULT", "FULL"):
        if has_response("POST", "/api/v3/order"):
            validate_response("POST", "/api/v3/order", _render.new_order(full, kind))


def test_query_and_cancel_responses(world: dict[str, Any]) -> None:
    ex, user = world["ex"], world["user"]
    stop = ex.get_order(user, "BTCUSDT", world["stop"].order.order_id)
    same_shape(_render.order(stop), example("order_query.json"))
    same_shape([_render.order(o) for o in ex.open_orders(user)], example("openOrders.json"))
    all_orders = [_render.order(o) for o in ex.all_orders(user, "BTCUSDT")]
    same_shape(all_orders, example("allOrders.json"))
    assert any("strategyId" in o for o in all_orders)
    same_shape(_render.canceled_order(world["canceled"]), example("order_cancel.json"))
    validate_response("GET", "/api/v3/order", _render.order(stop))
    validate_response("GET", "/api/v3/allOrders", all_orders)
    validate_response("DELETE", "/api/v3/order", _render.canceled_order(world["canceled"]))


def test_account_payloads(world: dict[str, Any]) -> None:
    ex, user = world["ex"], world["user"]
    body = _render.account(ex.account(user))
    same_shape(body, example("account.json"))
    assert body["makerCommission"] == 10
    assert body["commissionRates"]["maker"] == "0.00100000"
    validate_response("GET", "/api/v3/account", body)
    trades = [_render.my_trade(t) for t in ex.my_trades(user, "BTCUSDT")]
    same_shape(trades, example("myTrades.json"))
    validate_response("GET", "/api/v3/myTrades", trades)
    commission = _render.account_commission("BTCUSDT", ex.commission(user, "BTCUSDT"))
    same_shape(commission, example("account_commission.json"))
    same_shape(
        _render.order_test_commission(ex.commission(user, "BTCUSDT")),
        example("order_test_commission.json"),
    )


def test_market_data_payloads(world: dict[str, Any]) -> None:
    ex = world["ex"]
    depth = _render.depth(ex.depth("BTCUSDT"))
    same_shape(depth, example("depth.json"))
    validate_response("GET", "/api/v3/depth", depth)
    trades = [_render.trade(t) for t in ex.recent_trades("BTCUSDT")]
    same_shape(trades, example("trades.json"))
    validate_response("GET", "/api/v3/trades", trades)
    aggs = [_render.agg_trade(a) for a in ex.agg_trades("BTCUSDT")]
    same_shape(aggs, example("aggTrades.json"))
    validate_response("GET", "/api/v3/aggTrades", aggs)
    ticker = _render.book_ticker(ex.book_ticker("BTCUSDT"))
    same_shape(ticker, example("ticker_bookTicker.json"))


def test_stream_payloads(world: dict[str, Any]) -> None:
    events = world["events"]

    def first(kind: type) -> Any:
        return next(e for e in events if isinstance(e, kind))

    same_shape(_render.trade_event(first(TradeEvent)), example("ws/trade.json"))
    same_shape(_render.agg_trade_event(first(AggTradeEvent)), example("ws/aggTrade.json"))
    same_shape(_render.depth_event(first(DepthEvent)), example("ws/depthUpdate.json"))
    same_shape(_render.book_ticker_event(first(BookTickerEvent)), example("ws/bookTicker.json"))
    same_shape(
        _render.balance_event(first(BalanceEvent)), example("ws/user_outboundAccountPosition.json")
    )
    same_shape(
        _render.balance_update_event(first(BalanceUpdateEvent)),
        example("ws/user_balanceUpdate.json"),
    )
    template = example("ws/user_executionReport.json")
    reports = [e for e in events if isinstance(e, OrderEvent)]
    assert {r.execution_type for r in reports} >= {"NEW", "TRADE", "CANCELED"}
    for report in reports:
        same_shape(_render.execution_report(report), template)
    trade = next(r for r in reports if r.execution_type == "TRADE")
    body = _render.execution_report(trade)
    assert body["N"] in ("BTC", "USDT") and body["t"] == trade.trade_id
    assert body["Y"] == _render.decimal(trade.last_quote_qty)
    canceled = next(r for r in reports if r.execution_type == "CANCELED")
    body = _render.execution_report(canceled)
    assert body["C"] == canceled.order.client_order_id != body["c"]


def test_decimal_format() -> None:
    """Amounts have 8 decimals, no exponent, digits beyond the 8th cut."""
    assert _render.decimal(D("0")) == "0.00000000"
    assert _render.decimal(D("0E-7")) == "0.00000000"
    assert _render.decimal(D("1E+3")) == "1000.00000000"
    assert _render.decimal(D("0.123456789")) == "0.12345678"
    assert _render.decimal(D("-2.5")) == "-2.50000000"
    assert _render.decimal(D("1000000000000")) == "1000000000000.00000000"
