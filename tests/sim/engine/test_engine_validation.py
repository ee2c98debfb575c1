"""New-order validation: Binance's codes and exact messages, in Binance's order."""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_support import check_consistent, req

from binance.sim.engine import EngineError
from binance.sim.engine.exchange import Exchange

D = Decimal


@pytest.fixture
def user(ex: Exchange) -> str:
    return ex.create_account("user")


CASES = [
    # (request, code, message)
    (
        req("BUY", symbol="NOPEUSDT", price="1.00", quantity="1"),
        -1121,
        "Invalid symbol.",
    ),
    (
        req("BUY", type="LIMIT", quantity="0.1", time_in_force=None),
        -1102,
        "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
    ),
    (
        req("BUY", type="LIMIT", quantity="0.1"),
        -1102,
        "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
    ),
    (
        req("BUY", type="STOP_LOSS_LIMIT", quantity="0.1", price="90000.00"),
        -1102,
        "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed.",
    ),
    (
        req("BUY", type="MARKET"),
        -1102,
        "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
    ),
    (
        req("BUY", type="MARKET", quantity="0.1", time_in_force="GTC"),
        -1106,
        "Parameter 'timeInForce' sent when not required.",
    ),
    (
        req("BUY", type="MARKET", quantity="0.1", price="90000.00"),
        -1106,
        "Parameter 'price' sent when not required.",
    ),
    (
        req("BUY", type="LIMIT", quantity="0.1", price="90000.00", stop_price="1.00"),
        -1106,
        "Parameter 'stopPrice' sent when not required.",
    ),
    (
        req("BUY", type="LIMIT", price="90000.00", quote_order_qty="100"),
        -1102,
        "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.",
    ),
    (req("BUY", type="OCO", quantity="1"), -1116, "Invalid orderType."),
    (req("UP", price="90000.00", quantity="0.1"), -1117, "Invalid side."),
    (
        req("BUY", price="90000.00", quantity="0.1", time_in_force="GTX"),
        -1115,
        "Invalid timeInForce.",
    ),
    (
        req("BUY", price="90000.00", quantity="0.123456"),
        -1013,
        "Filter failure: LOT_SIZE",
    ),
    (
        req("BUY", price="90000.001", quantity="0.1"),
        -1013,
        "Filter failure: PRICE_FILTER",
    ),
    (
        req("BUY", price="90000.00", quantity="0.00001"),
        -1013,
        "Filter failure: NOTIONAL",
    ),
    (
        req("BUY", price="1000.00", quantity="0.1"),
        -1013,
        "Filter failure: PERCENT_PRICE_BY_SIDE",
    ),
    (
        req("BUY", price="90000.00", quantity="1", iceberg_qty="0.001"),
        -1013,
        "Filter failure: ICEBERG_PARTS",
    ),
    (
        req("BUY", price="90000.00", quantity="100"),
        -2010,
        "Account has insufficient balance for requested action.",
    ),
    (
        req("BUY", type="STOP_LOSS", quantity="0.1", trailing_delta=5),
        -1013,
        "Filter failure: TRAILING_DELTA",
    ),
    (
        req("BUY", price="90000.00", quantity="0.1", trailing_delta=100),
        -1106,
        "Parameter 'trailingDelta' sent when not required.",
    ),
    (
        req("BUY", price="90000.00", quantity="0.1", strategy_type=5),
        -1134,
        "`strategyType` was less than 1000000.",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[1]}:{c[2][:40]}")
def test_rejections(ex: Exchange, user: str, case: tuple[object, int, str]) -> None:
    """Each malformed or unaffordable order gets Binance's code and message, and no state."""
    request, code, message = case
    seq = ex.events.seq
    with pytest.raises(EngineError) as info:
        ex.place_order(user, request)  # type: ignore[arg-type]
    assert (info.value.code, info.value.message) == (code, message)
    assert info.value.payload() == {"code": code, "msg": message}
    assert ex.events.seq == seq
    check_consistent(ex)


def test_market_closed(ex: Exchange, user: str) -> None:
    """A non-TRADING symbol answers -1013 "Market is closed."; reopening restores trading."""
    with pytest.raises(EngineError) as info:
        ex.place_order(user, req("BUY", symbol="BCCBTC", price="0.070000", quantity="1"))
    assert (info.value.code, info.value.message) == (-1013, "Market is closed.")
    ex.set_symbol_status("BTCUSDT", "HALT")
    with pytest.raises(EngineError):
        ex.place_order(user, req("BUY", price="90000.00", quantity="0.1"))
    ex.set_symbol_status("BTCUSDT", "TRADING")
    assert ex.place_order(user, req("BUY", price="90000.00", quantity="0.1")).order.status == "NEW"


def test_duplicate_open_client_order_id(ex: Exchange, user: str) -> None:
    """A client order id already used by an open order is -2010; once closed it is free."""
    first = ex.place_order(
        user, req("BUY", price="90000.00", quantity="0.1", new_client_order_id="mine-1")
    )
    assert first.order.client_order_id == "mine-1"
    with pytest.raises(EngineError) as info:
        ex.place_order(
            user, req("BUY", price="90000.00", quantity="0.1", new_client_order_id="mine-1")
        )
    assert (info.value.code, info.value.message) == (-2010, "Duplicate order sent.")
    ex.cancel_order(user, "BTCUSDT", orig_client_order_id="mine-1")
    again = ex.place_order(
        user, req("BUY", price="90000.00", quantity="0.1", new_client_order_id="mine-1")
    )
    assert again.order.order_id != first.order.order_id
    assert ex.get_order(user, "BTCUSDT", orig_client_order_id="mine-1").order_id == (
        again.order.order_id
    )


def test_max_num_algo_orders(ex: Exchange, user: str) -> None:
    """Open stop orders are counted by MAX_NUM_ALGO_ORDERS (5 per symbol by default)."""
    for i in range(5):
        ex.place_order(
            user,
            req("SELL", type="STOP_LOSS", quantity="0.01", stop_price=f"{90000 - i}.00"),
        )
    with pytest.raises(EngineError) as info:
        ex.place_order(user, req("SELL", type="STOP_LOSS", quantity="0.01", stop_price="80000.00"))
    assert info.value.message == "Filter failure: MAX_NUM_ALGO_ORDERS"
    check_consistent(ex)


def test_new_order_resp_type_defaults(ex: Exchange, user: str) -> None:
    """FULL for MARKET and LIMIT, ACK for the other types; an explicit choice wins."""
    assert ex.place_order(user, req("BUY", price="90000.00", quantity="0.1")).resp_type == "FULL"
    maker = ex.place_order(user, req("BUY", type="LIMIT_MAKER", price="90000.00", quantity="0.1"))
    assert maker.resp_type == "ACK"
    chosen = ex.place_order(
        user, req("BUY", price="90000.00", quantity="0.1", new_order_resp_type="RESULT")
    )
    assert chosen.resp_type == "RESULT"


def test_account_that_cannot_trade(ex: Exchange, user: str) -> None:
    """canTrade false: new orders are -2010 "This account may not place or cancel orders.\""""
    ex.set_account_flags(user, can_trade=False)
    assert not ex.account(user).can_trade
    with pytest.raises(EngineError) as info:
        ex.place_order(user, req("BUY", price="90000.00", quantity="0.1"))
    assert (info.value.code, info.value.message) == (
        -2010,
        "This account may not place or cancel orders.",
    )
