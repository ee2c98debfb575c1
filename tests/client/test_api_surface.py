"""The public surface: docstrings name their endpoints, both clients match, enums are exposed."""

from __future__ import annotations

import inspect

import pytest

import binance
from binance import enums
from binance._api import _Api
from binance.async_client import AsyncClient
from binance.client import Client

PUBLIC = sorted(
    name for name, member in vars(_Api).items() if callable(member) and not name.startswith("_")
)


@pytest.mark.parametrize("name", PUBLIC)
def test_docstring_names_its_endpoint(name):
    """Each public method is tagged with its endpoint, and its docstring names method and path."""
    method = getattr(_Api, name)
    endpoints = getattr(method, "__endpoints__", None)
    assert endpoints, f"{name} is not tagged with @_uses"
    primary = endpoints[0]
    assert f"``{primary.method} {primary.path}``" in method.__doc__, name
    assert "weight" in method.__doc__ or "see `create_order`" in method.__doc__, name


def test_seed_methods_exist():
    """Every method the seed documented is here, under its seed name."""
    seed = """ping get_server_time get_exchange_info get_symbol_info get_products get_order_book
    get_recent_trades get_historical_trades get_aggregate_trades get_klines get_historical_klines
    get_ticker get_all_tickers get_orderbook_tickers get_symbol_ticker get_orderbook_ticker
    create_order order_limit order_limit_buy order_limit_sell order_market order_market_buy
    order_market_sell create_test_order get_order cancel_order get_open_orders get_all_orders
    get_account get_asset_balance get_account_status get_my_trades withdraw get_deposit_history
    get_withdraw_history get_deposit_address stream_get_listen_key stream_keepalive
    stream_close""".split()
    for name in seed:
        assert name in PUBLIC, name


def test_both_clients_have_the_same_methods():
    """AsyncClient exposes the same public methods as Client."""
    sync = {n for n in dir(Client) if not n.startswith("_")}
    asyn = {n for n in dir(AsyncClient) if not n.startswith("_")}
    assert set(PUBLIC) <= sync and set(PUBLIC) <= asyn
    assert sync - asyn == set() or sync - asyn <= {"session"}


def test_enums_are_class_attributes():
    """Client.SIDE_BUY and friends come from binance.enums."""
    for name in ("SIDE_BUY", "ORDER_TYPE_LIMIT", "KLINE_INTERVAL_1MINUTE", "TIME_IN_FORCE_GTC"):
        assert getattr(Client, name) == getattr(enums, name)
        assert getattr(AsyncClient, name) == getattr(enums, name)


def test_lazy_exports():
    assert binance.Client is Client and binance.AsyncClient is AsyncClient


def test_constructor_sends_nothing_and_hides_secrets():
    """No network in the constructor; repr shows neither key nor secret."""
    client = Client("my-key", "my-secret", base_url="http://127.0.0.1:9")
    try:
        assert "my-key" not in repr(client) and "my-secret" not in repr(client)
        assert "my-secret" not in repr(client.signer)
        assert client.base_url == "http://127.0.0.1:9"
    finally:
        client.close()


def test_signatures_use_the_seed_argument_names():
    """create_order takes the seed's camelCase names as real parameters."""
    params = inspect.signature(Client.create_order).parameters
    for name in ("symbol", "side", "type", "timeInForce", "quantity", "price", "newClientOrderId"):
        assert name in params
    params = inspect.signature(Client.get_historical_klines).parameters
    assert list(params)[1:6] == ["symbol", "interval", "start_str", "end_str", "limit"]
