"""Orders, wallet and the legacy user stream against the local exchange, for both clients."""

from __future__ import annotations

from decimal import Decimal

import pytest

from binance.exceptions import (
    BinanceAPIException,
    BinanceOrderException,
    BinanceOrderInactiveSymbolException,
    BinanceOrderMinAmountException,
    BinanceOrderMinPriceException,
    BinanceOrderMinTotalException,
    BinanceOrderUnknownSymbolException,
    BinanceWithdrawException,
)

from .conftest import call, close, make_client

SYMBOL = "BNBBTC"


async def _mid(client, symbol=SYMBOL):
    book = await call(client, "get_orderbook_ticker", symbol=symbol)
    return (Decimal(book["bidPrice"]) + Decimal(book["askPrice"])) / 2


def _low_price(mid):
    # Far below the market (it rests) but inside PERCENT_PRICE_BY_SIDE's 0.2x band.
    return (mid * Decimal("0.6")).quantize(Decimal("0.000001"))


async def _balance(client, asset):
    return await call(client, "get_asset_balance", asset)


async def test_limit_order_lifecycle(client):
    """Place, look up, list, cancel: the simulator's order and balances agree at each step."""
    price = _low_price(await _mid(client))
    order = await call(client, "order_limit_buy", symbol=SYMBOL, quantity="2", price=price)
    assert order["status"] == "NEW" and order["side"] == "BUY" and order["type"] == "LIMIT"
    assert Decimal(order["price"]) == price and Decimal(order["origQty"]) == 2
    assert len(order["clientOrderId"]) == 22  # always set by the client
    locked = Decimal((await _balance(client, "BTC"))["locked"])
    assert locked == price * 2

    by_cid = await call(
        client, "get_order", symbol=SYMBOL, origClientOrderId=order["clientOrderId"]
    )
    assert by_cid["orderId"] == order["orderId"] and by_cid["status"] == "NEW"
    assert [o["orderId"] for o in await call(client, "get_open_orders", symbol=SYMBOL)] == [
        order["orderId"]
    ]
    assert order["orderId"] in [
        o["orderId"] for o in await call(client, "get_all_orders", symbol=SYMBOL)
    ]

    cancelled = await call(client, "cancel_order", symbol=SYMBOL, orderId=order["orderId"])
    assert cancelled["status"] == "CANCELED"
    assert Decimal((await _balance(client, "BTC"))["locked"]) == 0
    assert await call(client, "get_open_orders", symbol=SYMBOL) == []


@pytest.mark.parametrize(
    ("method", "kwargs", "side"),
    [
        ("order_market_buy", {"quantity": "0.5"}, "BUY"),
        ("order_market_sell", {"quantity": "0.5"}, "SELL"),
        ("order_market", {"side": "BUY", "quoteOrderQty": "0.001"}, "BUY"),
    ],
)
async def test_market_orders_fill(client, method, kwargs, side):
    """Market orders fill against the book; fills add up and show in get_my_trades."""
    order = await call(client, method, symbol=SYMBOL, **kwargs)
    assert order["status"] == "FILLED" and order["side"] == side
    filled = sum(Decimal(f["qty"]) for f in order["fills"])
    assert filled == Decimal(order["executedQty"]) > 0
    trades = await call(client, "get_my_trades", symbol=SYMBOL, orderId=order["orderId"])
    assert sum(Decimal(t["qty"]) for t in trades) == filled


async def test_order_limit_and_sell_helpers(client):
    """order_limit(side=SELL) and order_limit_sell place resting sells above the market."""
    high = ((await _mid(client)) * Decimal("1.5")).quantize(Decimal("0.000001"))
    a = await call(client, "order_limit", symbol=SYMBOL, side="SELL", quantity=1, price=high)
    b = await call(client, "order_limit_sell", symbol=SYMBOL, quantity=1.5, price=str(high))
    assert (a["side"], b["side"]) == ("SELL", "SELL")
    assert Decimal(b["origQty"]) == Decimal("1.5")
    cancelled = await call(client, "cancel_all_open_orders", symbol=SYMBOL)
    assert sorted(o["orderId"] for o in cancelled) == sorted([a["orderId"], b["orderId"]])
    assert await call(client, "get_open_orders", symbol=SYMBOL) == []


async def test_create_order_with_own_client_id_and_decimal_types(client):
    """The caller's newClientOrderId is kept; Decimal and float reach the wire exactly."""
    price = _low_price(await _mid(client))
    order = await call(
        client,
        "create_order",
        symbol=SYMBOL,
        side=client.SIDE_BUY,
        type=client.ORDER_TYPE_LIMIT,
        timeInForce=client.TIME_IN_FORCE_GTC,
        quantity=0.1,
        price=price,
        newClientOrderId="my-order-1",
        newOrderRespType="ACK",
    )
    assert order["clientOrderId"] == "my-order-1"
    assert set(order) >= {"symbol", "orderId", "clientOrderId", "transactTime"}
    found = await call(client, "get_order", symbol=SYMBOL, orderId=order["orderId"])
    assert Decimal(found["origQty"]) == Decimal("0.1") and Decimal(found["price"]) == price


async def test_test_order_places_nothing(client):
    """create_test_order validates and returns {} without an order."""
    price = _low_price(await _mid(client))
    result = await call(
        client,
        "create_test_order",
        symbol=SYMBOL,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity=1,
        price=price,
    )
    assert result == {}
    assert await call(client, "get_all_orders", symbol=SYMBOL) == []


async def test_cancel_replace(client):
    """cancelReplace cancels the old order and places the new one."""
    price = _low_price(await _mid(client))
    old = await call(client, "order_limit_buy", symbol=SYMBOL, quantity=1, price=price)
    result = await call(
        client,
        "cancel_replace_order",
        symbol=SYMBOL,
        side="BUY",
        type="LIMIT",
        cancelReplaceMode="STOP_ON_FAILURE",
        cancelOrderId=old["orderId"],
        timeInForce="GTC",
        quantity=2,
        price=price,
    )
    assert result["cancelResult"] == "SUCCESS" and result["newOrderResult"] == "SUCCESS"
    open_orders = await call(client, "get_open_orders", symbol=SYMBOL)
    assert [o["orderId"] for o in open_orders] == [result["newOrderResponse"]["orderId"]]
    assert Decimal(open_orders[0]["origQty"]) == 2


# -- client-side validation ------------------------------------------------------------------------


VALIDATION = [
    # (exception, filter, order kwargs (price given as a multiple of the mid price))
    (BinanceOrderMinAmountException, "LOT_SIZE", {"quantity": "0.0001", "price_x": "0.6"}),
    (BinanceOrderMinAmountException, "LOT_SIZE", {"quantity": "1.0001", "price_x": "0.6"}),
    (BinanceOrderMinPriceException, "PRICE_FILTER", {"quantity": "1", "price": "0.0050001"}),
    (BinanceOrderMinTotalException, "NOTIONAL", {"quantity": "0.001", "price_x": "0.6"}),
]


@pytest.mark.parametrize(("exc", "filter_type", "order"), VALIDATION, ids=lambda v: str(v))
async def test_validation_error_is_raised_before_sending(client, sim, exc, filter_type, order):
    """Each filter failure raises the seed's exception naming the filter; nothing is sent; with
    validation off, the simulator rejects the same order with the same filter."""
    order = dict(order)
    if "price_x" in order:
        order["price"] = (
            _low_price(await _mid(client)) / Decimal("0.6") * Decimal(order.pop("price_x"))
        )
        order["price"] = order["price"].quantize(Decimal("0.000001"))
    with pytest.raises(exc) as info:
        await call(client, "order_limit_buy", symbol=SYMBOL, **order)
    assert info.value.filter_type == filter_type
    assert isinstance(info.value, ValueError) and isinstance(info.value, BinanceOrderException)
    assert filter_type in str(info.value)
    assert await call(client, "get_all_orders", symbol=SYMBOL) == []

    client.validate_orders = False
    with pytest.raises(BinanceAPIException) as server:
        await call(client, "order_limit_buy", symbol=SYMBOL, **order)
    assert server.value.code == -1013
    assert server.value.message == f"Filter failure: {filter_type}"
    # The server disagreed with what the cache allowed: the cached rules are dropped.
    assert client._ctx.rules.get(SYMBOL, client._ctx.mono_ms()) is None


async def test_unknown_and_inactive_symbols(client):
    """An unknown symbol and a symbol in BREAK are refused locally with the seed's classes."""
    with pytest.raises(BinanceOrderUnknownSymbolException) as unknown:
        await call(client, "order_market_buy", symbol="NOPENOPE", quantity=1)
    assert unknown.value.code == -1121
    with pytest.raises(BinanceOrderInactiveSymbolException) as inactive:
        await call(client, "order_market_buy", symbol="BCCBTC", quantity=1)
    assert "BREAK" in str(inactive.value)


# -- wallet ---------------------------------------------------------------------------------------


ADDRESS = "0x" + "ab" * 20


async def test_withdraw_with_the_seed_arguments(client, sim):
    """withdraw(asset=..., address=..., amount=...) is today's coin=...; history shows it once."""
    before = Decimal((await _balance(client, "BNB"))["free"])
    result = await call(client, "withdraw", asset="BNB", address=ADDRESS, amount=2)
    assert result["id"]
    history = await call(client, "get_withdraw_history", asset="BNB")
    assert [w["id"] for w in history] == [result["id"]]
    assert history[0]["coin"] == "BNB" and history[0]["address"] == ADDRESS
    assert history[0]["withdrawOrderId"]  # always set, so a lost answer can be looked up
    after = Decimal((await _balance(client, "BNB"))["free"])
    assert before - after == 2


async def test_withdraw_failure_is_a_withdraw_exception(client):
    """The wallet's refusal raises BinanceWithdrawException (a BinanceAPIException)."""
    with pytest.raises(BinanceWithdrawException) as info:
        await call(client, "withdraw", asset="BNB", address=ADDRESS, amount=10**9)
    assert info.value.code < 0 and isinstance(info.value, BinanceAPIException)
    with pytest.raises(ValueError):
        await call(client, "withdraw", asset="BNB", coin="BTC", address=ADDRESS, amount=1)


async def test_deposit_history_by_seed_asset(client, sim, account):
    """A credited deposit appears in get_deposit_history(asset=...)."""
    sim.credit_deposit("BTC", "0.5", account_id=account.account_id)
    deposits = await call(client, "get_deposit_history", asset="BTC")
    assert [(d["coin"], Decimal(d["amount"])) for d in deposits] == [("BTC", Decimal("0.5"))]
    assert await call(client, "get_deposit_history", asset="ETH") == []


# -- legacy user data stream ----------------------------------------------------------------------


async def test_listen_key_calls_warn_and_work_where_still_served(client):
    """The listenKey calls say they are retired, and still work against the simulator."""
    with pytest.warns(DeprecationWarning, match="2026-02-20"):
        key = await call(client, "stream_get_listen_key")
    assert isinstance(key, str) and len(key) >= 20
    with pytest.warns(DeprecationWarning):
        assert await call(client, "stream_keepalive", key) == {}
    with pytest.warns(DeprecationWarning):
        assert await call(client, "stream_close", key) == {}
    with pytest.warns(DeprecationWarning), pytest.raises(BinanceAPIException) as info:
        await call(client, "stream_keepalive", key)
    assert info.value.code == -1125


# -- key types ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key_type", ["HMAC", "RSA", "Ed25519"])
async def test_each_signing_type(kind, sim, key_type):
    """HMAC, RSA and Ed25519 keys all sign reads and orders the simulator accepts."""
    credentials = sim.new_account(key_type=key_type)
    client = make_client(kind, sim, credentials)
    try:
        assert client.signer.key_type.upper() == key_type.upper()
        account = await call(client, "get_account")
        assert any(Decimal(b["free"]) > 0 for b in account["balances"])
        order = await call(client, "order_market_buy", symbol=SYMBOL, quantity="0.2")
        assert order["status"] == "FILLED"
    finally:
        await close(client)
