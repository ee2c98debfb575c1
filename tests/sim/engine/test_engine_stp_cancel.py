"""Self-trade prevention modes, cancels, cancel-all and cancel-replace outcomes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_support import check_consistent, req

from binance.sim import _render
from binance.sim.engine import EngineError
from binance.sim.engine.events import OrderEvent
from binance.sim.engine.exchange import Exchange

D = Decimal


@pytest.fixture
def user(ex: Exchange) -> str:
    return ex.create_account("user")


def _book_self_trade(ex: Exchange, user: str, mode: str, taker_qty: str = "0.1"):
    """The user rests an ask, then sends a crossing buy with STP ``mode``."""
    maker = ex.place_order(user, req("SELL", price="95000.00", quantity="0.1")).order
    taker = ex.place_order(
        user,
        req(
            "BUY",
            price="95000.00",
            quantity=taker_qty,
            self_trade_prevention_mode=mode,
        ),
    )
    return ex.get_order(user, "BTCUSDT", maker.order_id), taker.order


def test_stp_none_trades_with_itself(ex: Exchange, user: str) -> None:
    """Mode NONE lets an account's orders match each other."""
    maker, taker = _book_self_trade(ex, user, "NONE")
    assert maker.status == taker.status == "FILLED"
    check_consistent(ex)


def test_stp_expire_maker_is_the_default(ex: Exchange, user: str) -> None:
    """The default mode (EXPIRE_MAKER) expires the resting order; the taker rests."""
    maker = ex.place_order(user, req("SELL", price="95000.00", quantity="0.1")).order
    taker = ex.place_order(user, req("BUY", price="95000.00", quantity="0.1")).order
    assert taker.self_trade_prevention_mode == "EXPIRE_MAKER"
    expired = ex.get_order(user, "BTCUSDT", maker.order_id)
    assert expired.status == "EXPIRED_IN_MATCH"
    assert expired.prevented_match_id == taker.prevented_match_id is not None
    assert expired.prevented_quantity == D("0.1")
    assert taker.status == "NEW" and ex.depth("BTCUSDT").bids == [(D("95000.00"), D("0.1"))]
    assert ex.recent_trades("BTCUSDT") == []
    check_consistent(ex)


def test_stp_expire_taker(ex: Exchange, user: str) -> None:
    """EXPIRE_TAKER expires the incoming order and keeps the resting one."""
    maker, taker = _book_self_trade(ex, user, "EXPIRE_TAKER")
    assert maker.status == "NEW" and taker.status == "EXPIRED_IN_MATCH"
    check_consistent(ex)


def test_stp_expire_both(ex: Exchange, user: str) -> None:
    """EXPIRE_BOTH expires both orders."""
    maker, taker = _book_self_trade(ex, user, "EXPIRE_BOTH")
    assert maker.status == taker.status == "EXPIRED_IN_MATCH"
    assert ex.depth("BTCUSDT").asks == ex.depth("BTCUSDT").bids == []
    check_consistent(ex)


def test_stp_decrement_expires_the_smaller(ex: Exchange, user: str) -> None:
    """DECREMENT takes the prevented quantity off both; the one left with none expires."""
    maker, taker = _book_self_trade(ex, user, "DECREMENT", taker_qty="0.3")
    assert maker.status == "EXPIRED_IN_MATCH" and maker.prevented_quantity == D("0.1")
    assert taker.status == "NEW" and taker.prevented_quantity == D("0.1")
    # The taker rests with 0.2 left and holds exactly 0.2 * price.
    assert ex.depth("BTCUSDT").bids == [(D("95000.00"), D("0.2"))]
    assert ex.balance(user, "USDT")[1] == D("19000.000")
    check_consistent(ex)


def test_stp_reports_trade_prevention(ex: Exchange, user: str) -> None:
    """Both orders get a TRADE_PREVENTION report carrying the prevented match id."""
    seen: list[object] = []
    ex.events.subscribe(seen.append)
    _book_self_trade(ex, user, "EXPIRE_BOTH")
    reports = [e for e in seen if isinstance(e, OrderEvent)]
    prevention = [r for r in reports if r.execution_type == "TRADE_PREVENTION"]
    assert len(prevention) == 2
    assert {r.order.status for r in prevention} == {"EXPIRED_IN_MATCH"}
    payload = _render.execution_report(prevention[0])
    assert payload["v"] == prevention[0].prevented_match_id and payload["B"] == "0.10000000"


def test_stp_only_between_same_account(ex: Exchange, user: str) -> None:
    """Orders of different accounts always trade."""
    other = ex.create_account("other")
    ex.place_order(other, req("SELL", price="95000.00", quantity="0.1"))
    result = ex.place_order(user, req("BUY", price="95000.00", quantity="0.1"))
    assert result.order.status == "FILLED"


# -- cancels ----------------------------------------------------------------------------------
def test_cancel_errors(ex: Exchange, user: str) -> None:
    """Unknown, closed or unnamed orders cannot be canceled (Binance's codes)."""
    with pytest.raises(EngineError) as info:
        ex.cancel_order(user, "BTCUSDT", order_id=424242)
    assert (info.value.code, info.value.message) == (-2011, "Unknown order sent.")
    with pytest.raises(EngineError) as info:
        ex.cancel_order(user, "BTCUSDT")
    assert info.value.code == -1102
    placed = ex.place_order(user, req("BUY", price="90000.00", quantity="0.1")).order
    ex.cancel_order(user, "BTCUSDT", order_id=placed.order_id)
    with pytest.raises(EngineError) as info:
        ex.cancel_order(user, "BTCUSDT", order_id=placed.order_id)
    assert info.value.code == -2011
    with pytest.raises(EngineError) as info:
        ex.get_order(user, "BTCUSDT", order_id=999999)
    assert (info.value.code, info.value.message) == (-2013, "Order does not exist.")


def test_cancel_restrictions(ex: Exchange, user: str) -> None:
    """ONLY_PARTIALLY_FILLED refuses a NEW order; ONLY_NEW cancels it; bad values are -1145."""
    placed = ex.place_order(user, req("BUY", price="90000.00", quantity="0.1")).order
    with pytest.raises(EngineError) as info:
        ex.cancel_order(
            user, "BTCUSDT", order_id=placed.order_id, cancel_restrictions="ONLY_PARTIALLY_FILLED"
        )
    assert (info.value.code, info.value.message) == (
        -2011,
        "Order was not canceled due to cancel restrictions.",
    )
    with pytest.raises(EngineError) as info:
        ex.cancel_order(user, "BTCUSDT", order_id=placed.order_id, cancel_restrictions="SOMETIMES")
    assert info.value.code == -1145
    done = ex.cancel_order(
        user,
        "BTCUSDT",
        order_id=placed.order_id,
        cancel_restrictions="ONLY_NEW",
        new_client_order_id="cancel-1",
    )
    assert done.status == "CANCELED" and done.cancel_client_order_id == "cancel-1"
    body = _render.canceled_order(done)
    assert body["clientOrderId"] == "cancel-1"
    assert body["origClientOrderId"] == placed.client_order_id


def test_cancel_all(ex: Exchange, user: str) -> None:
    """cancel_all cancels every open order of the symbol, and -2011 when there is none."""
    with pytest.raises(EngineError) as info:
        ex.cancel_all(user, "BTCUSDT")
    assert (info.value.code, info.value.message) == (-2011, "Unknown order sent.")
    ex.place_order(user, req("BUY", price="90000.00", quantity="0.1"))
    ex.place_order(user, req("SELL", price="99000.00", quantity="0.1"))
    ex.place_order(user, req("SELL", type="STOP_LOSS", quantity="0.1", stop_price="80000.00"))
    ex.place_order(user, req("BUY", symbol="ETHUSDT", price="3000.00", quantity="1"))
    canceled = ex.cancel_all(user, "BTCUSDT")
    assert [o.status for o in canceled] == ["CANCELED"] * 3
    assert [o.symbol for o in ex.open_orders(user)] == ["ETHUSDT"]
    assert ex.balance(user, "BTC")[1] == 0
    check_consistent(ex)


# -- cancel-replace ---------------------------------------------------------------------------
def test_cancel_replace_success(ex: Exchange, user: str) -> None:
    """Both steps succeed: HTTP 200 with both responses."""
    old = ex.place_order(user, req("BUY", price="90000.00", quantity="0.1")).order
    result = ex.cancel_replace(
        user,
        "BTCUSDT",
        "STOP_ON_FAILURE",
        req("BUY", price="91000.00", quantity="0.2"),
        cancel_order_id=old.order_id,
    )
    assert result.error is None
    status, body = _render.cancel_replace(result)
    assert status == 200
    assert (body["cancelResult"], body["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert body["cancelResponse"]["status"] == "CANCELED"
    assert body["newOrderResponse"]["price"] == "91000.00000000"
    assert ex.balance(user, "USDT")[1] == D("18200.000")
    check_consistent(ex)


def test_cancel_replace_stop_on_failure_does_nothing(ex: Exchange, user: str) -> None:
    """STOP_ON_FAILURE with an unknown order: -2022, new order NOT_ATTEMPTED."""
    result = ex.cancel_replace(
        user,
        "BTCUSDT",
        "STOP_ON_FAILURE",
        req("BUY", price="91000.00", quantity="0.2"),
        cancel_order_id=12345,
    )
    status, body = _render.cancel_replace(result)
    assert status == 400
    assert body == {
        "code": -2022,
        "msg": "Order cancel-replace failed.",
        "data": {
            "cancelResult": "FAILURE",
            "newOrderResult": "NOT_ATTEMPTED",
            "cancelResponse": {"code": -2011, "msg": "Unknown order sent."},
            "newOrderResponse": None,
        },
    }
    assert ex.open_orders(user) == []


def test_cancel_replace_allow_failure_places_anyway(ex: Exchange, user: str) -> None:
    """ALLOW_FAILURE with an unknown order: -2021 (409) and the new order placed."""
    result = ex.cancel_replace(
        user,
        "BTCUSDT",
        "ALLOW_FAILURE",
        req("BUY", price="91000.00", quantity="0.2", new_order_resp_type="ACK"),
        cancel_order_id=12345,
    )
    status, body = _render.cancel_replace(result)
    assert (status, body["code"]) == (409, -2021)
    assert body["data"]["newOrderResult"] == "SUCCESS"
    assert set(body["data"]["newOrderResponse"]) == {
        "symbol",
        "orderId",
        "orderListId",
        "clientOrderId",
        "transactTime",
    }
    assert len(ex.open_orders(user)) == 1


def test_cancel_replace_new_order_fails_after_cancel(ex: Exchange, user: str) -> None:
    """The cancel succeeds and the new order fails in the engine: -2021 with both halves."""
    other = ex.create_account("other")
    ex.place_order(other, req("BUY", price="94000.00", quantity="1"))
    old = ex.place_order(user, req("SELL", type="LIMIT_MAKER", price="96000.00", quantity="0.1"))
    result = ex.cancel_replace(
        user,
        "BTCUSDT",
        "STOP_ON_FAILURE",
        req("SELL", type="LIMIT_MAKER", price="94000.00", quantity="0.1"),
        cancel_order_id=old.order.order_id,
    )
    status, body = _render.cancel_replace(result)
    assert (status, body["code"]) == (409, -2021)
    assert body["data"]["cancelResult"] == "SUCCESS"
    assert body["data"]["newOrderResponse"] == {
        "code": -2010,
        "msg": "Order would immediately match and take.",
    }
    assert ex.open_orders(user) == []
    check_consistent(ex)


def test_cancel_replace_both_fail(ex: Exchange, user: str) -> None:
    """ALLOW_FAILURE where both steps fail: -2022 with both errors."""
    other = ex.create_account("other")
    ex.place_order(other, req("BUY", price="94000.00", quantity="1"))
    result = ex.cancel_replace(
        user,
        "BTCUSDT",
        "ALLOW_FAILURE",
        req("SELL", type="LIMIT_MAKER", price="94000.00", quantity="0.1"),
        cancel_orig_client_order_id="nope",
    )
    status, body = _render.cancel_replace(result)
    assert status == 400 and body["code"] == -2022
    assert body["data"]["cancelResponse"] == {"code": -2011, "msg": "Unknown order sent."}
    assert body["data"]["newOrderResponse"]["code"] == -2010


def test_cancel_replace_filter_failure_raises_before_cancel(ex: Exchange, user: str) -> None:
    """A new order breaking a filter is rejected outright and the old order stays."""
    old = ex.place_order(user, req("BUY", price="90000.00", quantity="0.1")).order
    with pytest.raises(EngineError) as info:
        ex.cancel_replace(
            user,
            "BTCUSDT",
            "STOP_ON_FAILURE",
            req("BUY", price="90000.00", quantity="0.1234567"),
            cancel_order_id=old.order_id,
        )
    assert info.value.message == "Filter failure: LOT_SIZE"
    assert ex.get_order(user, "BTCUSDT", old.order_id).status == "NEW"
