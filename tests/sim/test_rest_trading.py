"""Orders and account endpoints over real HTTP: shapes, state changes and engine errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from schemas_util import validate_response

BUY_LIMIT = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.001",
    "price": "50000",
}
BUY_MARKET = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}


def _error(reply) -> tuple[int, int, str]:
    body = reply.json()
    return reply.status_code, body["code"], body["msg"]


def _ok(reply, method: str, path: str):
    assert reply.status_code == 200, reply.text
    payload = reply.json()
    validate_response(method, path, payload)
    return payload


def test_limit_order_lifecycle(sim_rest, account):
    """A resting LIMIT order is NEW, queryable, listed as open, cancelable, then CANCELED."""
    placed = _ok(
        sim_rest.signed("POST", "/api/v3/order", account, BUY_LIMIT), "POST", "/api/v3/order"
    )
    assert placed["status"] == "NEW" and placed["fills"] == []  # FULL is LIMIT's default
    order_id = placed["orderId"]
    query = {"symbol": "BTCUSDT", "orderId": order_id}
    got = _ok(sim_rest.signed("GET", "/api/v3/order", account, query), "GET", "/api/v3/order")
    assert (got["status"], got["price"], got["origQty"]) == ("NEW", "50000.00000000", "0.00100000")
    opened = _ok(
        sim_rest.signed("GET", "/api/v3/openOrders", account, {"symbol": "BTCUSDT"}),
        "GET",
        "/api/v3/openOrders",
    )
    assert [o["orderId"] for o in opened] == [order_id]
    by_client_id = sim_rest.signed(
        "GET",
        "/api/v3/order",
        account,
        {"symbol": "BTCUSDT", "origClientOrderId": placed["clientOrderId"]},
    )
    assert by_client_id.json()["orderId"] == order_id
    canceled = _ok(
        sim_rest.signed("DELETE", "/api/v3/order", account, query), "DELETE", "/api/v3/order"
    )
    assert canceled["status"] == "CANCELED"
    assert canceled["origClientOrderId"] == placed["clientOrderId"]
    assert sim_rest.signed("GET", "/api/v3/openOrders", account).json() == []
    history = _ok(
        sim_rest.signed("GET", "/api/v3/allOrders", account, {"symbol": "BTCUSDT"}),
        "GET",
        "/api/v3/allOrders",
    )
    assert [(o["orderId"], o["status"]) for o in history] == [(order_id, "CANCELED")]


def test_market_order_fills_and_moves_balances(sim, sim_rest, account):
    """A MARKET buy fills against the book; myTrades and the account show it."""
    before = sim.call(sim.exchange.balance, account.account_id, "BTC")
    placed = _ok(
        sim_rest.signed("POST", "/api/v3/order", account, BUY_MARKET), "POST", "/api/v3/order"
    )
    assert placed["status"] == "FILLED" and placed["executedQty"] == "0.00100000"
    filled = sum(Decimal(f["qty"]) for f in placed["fills"])
    commission = sum(Decimal(f["commission"]) for f in placed["fills"])
    assert filled == Decimal("0.001")
    after = sim.call(sim.exchange.balance, account.account_id, "BTC")
    assert after[0] - before[0] == filled - commission
    trades = _ok(
        sim_rest.signed("GET", "/api/v3/myTrades", account, {"symbol": "BTCUSDT"}),
        "GET",
        "/api/v3/myTrades",
    )
    assert {t["orderId"] for t in trades} == {placed["orderId"]}
    assert sum(Decimal(t["qty"]) for t in trades) == filled
    acct = _ok(
        sim_rest.signed("GET", "/api/v3/account", account, {"omitZeroBalances": "true"}),
        "GET",
        "/api/v3/account",
    )
    btc = next(b for b in acct["balances"] if b["asset"] == "BTC")
    assert Decimal(btc["free"]) == after[0]


@pytest.mark.parametrize(
    ("resp_type", "keys"),
    [
        ("ACK", {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}),
        ("RESULT", None),
    ],
)
def test_response_types(sim_rest, account, resp_type, keys):
    """newOrderRespType ACK and RESULT answer their documented shapes."""
    reply = sim_rest.signed(
        "POST", "/api/v3/order", account, dict(BUY_LIMIT, newOrderRespType=resp_type)
    )
    payload = _ok(reply, "POST", "/api/v3/order")
    if keys is not None:
        assert set(payload) == keys
    else:
        assert "fills" not in payload and payload["status"] == "NEW"


def test_order_count_headers_and_rate_limit_endpoint(sim_rest, account):
    """Successful placements carry X-MBX-ORDER-COUNT-10S/-1D; rateLimit/order agrees."""
    first = sim_rest.signed("POST", "/api/v3/order", account, BUY_LIMIT)
    second = sim_rest.signed("POST", "/api/v3/order", account, BUY_LIMIT)
    assert first.headers["X-MBX-ORDER-COUNT-1D"] == "1"
    assert second.headers["X-MBX-ORDER-COUNT-1D"] == "2"
    assert int(second.headers["X-MBX-ORDER-COUNT-10S"]) in (1, 2)  # window may roll over
    status = _ok(
        sim_rest.signed("GET", "/api/v3/rateLimit/order", account), "GET", "/api/v3/rateLimit/order"
    )
    assert [(s["interval"], s["count"]) for s in status][1] == ("DAY", 2)
    refused = sim_rest.signed("POST", "/api/v3/order", account, dict(BUY_LIMIT, price="1.001"))
    assert refused.status_code == 400 and "X-MBX-ORDER-COUNT-1D" not in refused.headers


def test_cancel_all_open_orders(sim_rest, account):
    """DELETE /api/v3/openOrders cancels every open order and lists them; then -2011."""
    ids = {
        sim_rest.signed("POST", "/api/v3/order", account, BUY_LIMIT).json()["orderId"]
        for _ in range(2)
    }
    canceled = _ok(
        sim_rest.signed("DELETE", "/api/v3/openOrders", account, {"symbol": "BTCUSDT"}),
        "DELETE",
        "/api/v3/openOrders",
    )
    assert {o["orderId"] for o in canceled} == ids
    again = sim_rest.signed("DELETE", "/api/v3/openOrders", account, {"symbol": "BTCUSDT"})
    assert _error(again) == (400, -2011, "Unknown order sent.")


def test_test_order_and_commission(sim_rest, account):
    """order/test answers {} or the commission object; account/commission validates."""
    plain = sim_rest.signed("POST", "/api/v3/order/test", account, BUY_MARKET)
    assert (plain.status_code, plain.json()) == (200, {})
    rates = _ok(
        sim_rest.signed(
            "POST", "/api/v3/order/test", account, dict(BUY_MARKET, computeCommissionRates="true")
        ),
        "POST",
        "/api/v3/order/test",
    )
    assert set(rates) == {
        "standardCommissionForOrder",
        "specialCommissionForOrder",
        "taxCommissionForOrder",
        "discount",
    }
    commission = _ok(
        sim_rest.signed("GET", "/api/v3/account/commission", account, {"symbol": "BTCUSDT"}),
        "GET",
        "/api/v3/account/commission",
    )
    assert commission["symbol"] == "BTCUSDT"
    assert sim_rest.signed("GET", "/api/v3/openOrders", account).json() == []


def test_cancel_replace_outcomes(sim_rest, account):
    """cancelReplace: both succeed (200); cancel fails -2022 (400) or -2021 (409) with data."""
    order_id = sim_rest.signed("POST", "/api/v3/order", account, BUY_LIMIT).json()["orderId"]
    replace = dict(
        BUY_LIMIT, price="49000", cancelReplaceMode="STOP_ON_FAILURE", cancelOrderId=order_id
    )
    done = _ok(
        sim_rest.signed("POST", "/api/v3/order/cancelReplace", account, replace),
        "POST",
        "/api/v3/order/cancelReplace",
    )
    assert (done["cancelResult"], done["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert done["cancelResponse"]["orderId"] == order_id
    assert done["newOrderResponse"]["price"] == "49000.00000000"
    failed = sim_rest.signed("POST", "/api/v3/order/cancelReplace", account, replace)
    assert _error(failed) == (400, -2022, "Order cancel-replace failed.")
    assert failed.json()["data"]["cancelResponse"] == {"code": -2011, "msg": "Unknown order sent."}
    partial = sim_rest.signed(
        "POST",
        "/api/v3/order/cancelReplace",
        account,
        dict(replace, cancelReplaceMode="ALLOW_FAILURE"),
    )
    assert _error(partial) == (409, -2021, "Order cancel-replace partially failed.")
    assert partial.json()["data"]["newOrderResult"] == "SUCCESS"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"price": "50000.001"}, (400, -1013, "Filter failure: PRICE_FILTER")),
        ({"quantity": "0.000001"}, (400, -1013, "Filter failure: LOT_SIZE")),
        (
            {"quantity": "0.0000000001"},
            (400, -1111, "Parameter 'quantity' has too much precision."),
        ),
        (
            {"timeInForce": None},
            (
                400,
                -1102,
                "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
            ),
        ),
        ({"side": "HOLD"}, (400, -1117, "Invalid side.")),
        ({"type": "LIMITED"}, (400, -1116, "Invalid orderType.")),
        ({"timeInForce": "GTX"}, (400, -1115, "Invalid timeInForce.")),
        ({"symbol": "NOPE"}, (400, -1121, "Invalid symbol.")),
        (
            {"quantity": "1e-3"},
            (
                400,
                -1100,
                "Illegal characters found in parameter 'quantity'; legal range is "
                "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
            ),
        ),
        (
            {"quantity": "100"},
            (400, -2010, "Account has insufficient balance for requested action."),
        ),
        ({"newClientOrderId": ""}, (400, -1118, "New client order ID was empty.")),
        (
            {"unknownParam": "1"},
            (
                400,
                -1104,
                "Not all sent parameters were read; read '8' parameter(s) but was sent '9'.",
            ),
        ),
    ],
    ids=lambda v: str(v) if isinstance(v, dict) else None,
)
def test_order_errors(sim_rest, account, change, expected):
    """Bad orders get Binance's codes and messages, and nothing is placed."""
    params = {k: v for k, v in dict(BUY_LIMIT, **change).items() if v is not None}
    reply = sim_rest.signed("POST", "/api/v3/order", account, params)
    assert _error(reply) == expected
    assert sim_rest.signed("GET", "/api/v3/openOrders", account).json() == []


def test_market_order_with_time_in_force_is_1106(sim_rest, account):
    """MARKET orders take no timeInForce (-1106)."""
    reply = sim_rest.signed("POST", "/api/v3/order", account, dict(BUY_MARKET, timeInForce="GTC"))
    assert _error(reply) == (400, -1106, "Parameter 'timeInForce' sent when not required.")


def test_unknown_orders(sim_rest, account):
    """Querying an unknown order is -2013; canceling one is -2011; neither id is -1102."""
    query = {"symbol": "BTCUSDT", "orderId": 987654321}
    assert _error(sim_rest.signed("GET", "/api/v3/order", account, query)) == (
        400,
        -2013,
        "Order does not exist.",
    )
    assert _error(sim_rest.signed("DELETE", "/api/v3/order", account, query)) == (
        400,
        -2011,
        "Unknown order sent.",
    )
    reply = sim_rest.signed("DELETE", "/api/v3/order", account, {"symbol": "BTCUSDT"})
    assert _error(reply) == (
        400,
        -1102,
        "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!",
    )


def test_my_trades_parameter_combinations(sim_rest, account):
    """myTrades refuses combinations Binance does not allow (-1128) and spans over 24 h."""
    bad = sim_rest.signed(
        "GET", "/api/v3/myTrades", account, {"symbol": "BTCUSDT", "fromId": 1, "startTime": 1}
    )
    assert _error(bad)[:2] == (400, -1128)
    wide = sim_rest.signed(
        "GET",
        "/api/v3/myTrades",
        account,
        {"symbol": "BTCUSDT", "startTime": 0, "endTime": 90_000_000},
    )
    assert _error(wide) == (400, -1127, "More than 24 hours between startTime and endTime.")


def test_legacy_listen_key_flow(sim_rest, account):
    """POST/PUT/DELETE /api/v3/userDataStream with the key header only; unknown keys -1125."""
    headers = {"X-MBX-APIKEY": account.api_key}
    url = sim_rest.base_url + "/api/v3/userDataStream"
    first = sim_rest.session.post(url, headers=headers)
    assert first.status_code == 200
    key = first.json()["listenKey"]
    assert sim_rest.session.post(url, headers=headers).json() == {"listenKey": key}
    assert sim_rest.session.put(url, params={"listenKey": key}, headers=headers).json() == {}
    assert sim_rest.session.delete(url, params={"listenKey": key}, headers=headers).json() == {}
    gone = sim_rest.session.put(url, params={"listenKey": key}, headers=headers)
    assert _error(gone) == (400, -1125, "This listenKey does not exist.")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT_MAKER",
                "quantity": "0.001",
                "price": "150000",
            },
            (400, -2010, "Order would immediately match and take."),
        ),
        (
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "STOP_LOSS_LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.001",
                "price": "50000",
                "stopPrice": "50000",
            },
            (400, -2010, "Order would trigger immediately."),
        ),
        (
            {
                "symbol": "BCCBTC",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "1",
                "price": "0.07",
            },
            (400, -1013, "Market is closed."),
        ),
    ],
    ids=["limit-maker-takes", "stop-triggers-now", "market-closed"],
)
def test_engine_rejections(sim_rest, account, params, expected):
    """The engine's refusals keep Binance's codes and exact texts (NOTES.md §7.2)."""
    assert _error(sim_rest.signed("POST", "/api/v3/order", account, params)) == expected


def test_duplicate_client_id_and_cancel_restrictions(sim_rest, account):
    """A client id in use is -2010 "Duplicate order sent."; unmet cancelRestrictions -2011."""
    order = dict(BUY_LIMIT, newClientOrderId="dup-1")
    assert sim_rest.signed("POST", "/api/v3/order", account, order).status_code == 200
    assert _error(sim_rest.signed("POST", "/api/v3/order", account, order)) == (
        400,
        -2010,
        "Duplicate order sent.",
    )
    cancel = {
        "symbol": "BTCUSDT",
        "origClientOrderId": "dup-1",
        "cancelRestrictions": "ONLY_PARTIALLY_FILLED",
    }
    assert _error(sim_rest.signed("DELETE", "/api/v3/order", account, cancel)) == (
        400,
        -2011,
        "Order was not canceled due to cancel restrictions.",
    )
    bad = dict(cancel, cancelRestrictions="SOMETIMES")
    assert _error(sim_rest.signed("DELETE", "/api/v3/order", account, bad))[:2] == (400, -1145)
