"""Every seed call and today's additions against the local exchange, for both clients.

One table (CASES) drives read-only calls; orders, wallet and streams have their own tests
below. Each case checks something the simulator decided (a value, a shape it filled in, an
error code), never just "no exception".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from binance import enums
from binance.exceptions import BinanceAPIException

from .conftest import call

SYMBOL = "BNBBTC"


@dataclass
class Case:
    method: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    check: Callable[[Any, Any], None] = lambda result, sim: None
    args: tuple[Any, ...] = ()
    id: str = ""

    def __str__(self) -> str:
        return self.id or self.method


def _is_sorted(levels, reverse):
    prices = [Decimal(p) for p, _ in levels]
    return prices == sorted(prices, reverse=reverse)


def _check_book(book, sim):
    assert book["lastUpdateId"] > 0
    assert 0 < len(book["bids"]) <= 5 and 0 < len(book["asks"]) <= 5
    assert _is_sorted(book["bids"], True) and _is_sorted(book["asks"], False)
    assert Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0])


def _check_klines(rows, sim, step=3_600_000, count=3):
    assert len(rows) == count
    assert [b[0] - a[0] for a, b in zip(rows, rows[1:], strict=False)] == [step] * (count - 1)
    assert all(row[6] == row[0] + step - 1 for row in rows)


def _symbols(sim):
    return set(sim.call(lambda: list(sim.exchange.markets)))


CASES = [
    Case("ping", check=lambda r, sim: r == {}),
    Case(
        "get_server_time",
        check=lambda r, sim: abs(r["serverTime"] - time.time() * 1000) < 60_000,
    ),
    Case(
        "get_exchange_info",
        check=lambda r, sim: (
            {s["symbol"] for s in r["symbols"]} == _symbols(sim)
            and {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": sim.config.request_weight_per_minute,
            }
            in r["rateLimits"]
        ),
    ),
    Case(
        "get_exchange_info",
        {"symbols": ["BNBBTC", "ETHBTC"]},
        lambda r, sim: [s["symbol"] for s in r["symbols"]] == ["BNBBTC", "ETHBTC"],
        id="get_exchange_info-symbols",
    ),
    Case(
        "get_symbol_info",
        args=(SYMBOL,),
        check=lambda r, sim: r["symbol"] == SYMBOL and r["baseAsset"] == "BNB",
    ),
    Case(
        "get_symbol_info",
        args=("NOPE",),
        check=lambda r, sim: r is None,
        id="get_symbol_info-unknown",
    ),
    Case("get_order_book", {"symbol": SYMBOL, "limit": 5}, _check_book),
    Case(
        "get_recent_trades",
        {"symbol": SYMBOL, "limit": 3},
        lambda r, sim: 1 <= len(r) <= 3 and [t["id"] for t in r] == sorted(t["id"] for t in r),
    ),
    Case(
        "get_aggregate_trades",
        {"symbol": SYMBOL, "limit": 4},
        lambda r, sim: (
            1 <= len(r) <= 4 and [t["a"] for t in r] == list(range(r[0]["a"], r[0]["a"] + len(r)))
        ),
    ),
    Case("get_klines", {"symbol": SYMBOL, "interval": "1h", "limit": 3}, _check_klines),
    Case("get_ui_klines", {"symbol": SYMBOL, "interval": "1h", "limit": 3}, _check_klines),
    Case(
        "get_avg_price",
        {"symbol": SYMBOL},
        lambda r, sim: r["mins"] == 5 and Decimal(r["price"]) > 0,
    ),
    Case(
        "get_ticker",
        {"symbol": SYMBOL},
        lambda r, sim: r["symbol"] == SYMBOL and "priceChangePercent" in r,
    ),
    Case(
        "get_ticker",
        {},
        lambda r, sim: {t["symbol"] for t in r} == _symbols(sim),
        id="get_ticker-all",
    ),
    Case(
        "get_rolling_window_ticker",
        {"symbol": SYMBOL, "windowSize": "1h"},
        lambda r, sim: r["symbol"] == SYMBOL and r["closeTime"] - r["openTime"] <= 3_660_000,
    ),
    Case(
        "get_trading_day_ticker",
        {"symbols": [SYMBOL, "ETHBTC"], "type": "MINI"},
        lambda r, sim: [t["symbol"] for t in r] == [SYMBOL, "ETHBTC"],
    ),
    Case(
        "get_all_tickers",
        check=lambda r, sim: (
            {t["symbol"] for t in r} == _symbols(sim) and all(Decimal(t["price"]) >= 0 for t in r)
        ),
    ),
    Case(
        "get_symbol_ticker",
        {"symbol": SYMBOL},
        lambda r, sim: r["symbol"] == SYMBOL and Decimal(r["price"]) > 0,
    ),
    Case(
        "get_orderbook_tickers",
        check=lambda r, sim: {t["symbol"] for t in r} == _symbols(sim),
    ),
    Case(
        "get_orderbook_ticker",
        {"symbol": SYMBOL},
        lambda r, sim: Decimal(r["bidPrice"]) < Decimal(r["askPrice"]),
    ),
    Case("get_system_status", check=lambda r, sim: r["status"] == 0),
    Case(
        "get_account",
        check=lambda r, sim: (
            {b["asset"]: Decimal(b["free"]) for b in r["balances"]}["BTC"] > 0 and r["canTrade"]
        ),
    ),
    Case(
        "get_asset_balance",
        args=("BTC",),
        check=lambda r, sim: r["asset"] == "BTC" and Decimal(r["free"]) > 0,
    ),
    Case(
        "get_asset_balance",
        args=("XYZ",),
        check=lambda r, sim: r is None,
        id="get_asset_balance-none",
    ),
    Case("get_account_status", check=lambda r, sim: r == {"data": "Normal"}),
    Case(
        "get_account_api_trading_status",
        check=lambda r, sim: r["data"]["isLocked"] is False,
    ),
    Case(
        "get_asset_details",
        {"asset": "BTC"},
        lambda r, sim: "withdrawFee" in r["BTC"],
    ),
    Case(
        "get_trade_fee",
        {"symbol": SYMBOL},
        lambda r, sim: [f["symbol"] for f in r] == [SYMBOL],
    ),
    Case(
        "get_all_coins_info",
        check=lambda r, sim: any(c["coin"] == "BNB" and c["networkList"] for c in r),
    ),
    Case(
        "get_account_commission",
        {"symbol": SYMBOL},
        lambda r, sim: r["symbol"] == SYMBOL and "standardCommission" in r,
    ),
    Case(
        "get_current_order_count",
        check=lambda r, sim: (
            {(x["interval"], x["count"]) for x in r} == {("SECOND", 0), ("DAY", 0)}
        ),
    ),
    Case(
        "get_deposit_address",
        {"asset": "BTC"},
        lambda r, sim: r["coin"] == "BTC" and r["address"],
    ),
    Case(
        "get_deposit_address",
        {"coin": "BNB", "network": "BSC"},
        lambda r, sim: r["coin"] == "BNB" and r["address"].startswith("0x"),
        id="get_deposit_address-coin",
    ),
    Case("get_deposit_history", check=lambda r, sim: r == []),
    Case("get_withdraw_history", {"asset": "BNB"}, lambda r, sim: r == []),
    Case(
        "get_open_orders",
        {"symbol": SYMBOL},
        lambda r, sim: r == [],
    ),
    Case("get_all_orders", {"symbol": SYMBOL}, lambda r, sim: r == []),
    Case("get_my_trades", {"symbol": SYMBOL}, lambda r, sim: r == []),
]


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_call(client, sim, case):
    """The call reaches the right endpoint and returns the simulator's answer."""
    result = await call(client, case.method, *case.args, **case.kwargs)
    verdict = case.check(result, sim)
    assert verdict is None or verdict, f"{case}: {result!r}"[:2000]


async def test_historical_trades_from_id(client):
    """historicalTrades starts at fromId (an id the simulator reported as recent)."""
    recent = await call(client, "get_recent_trades", symbol=SYMBOL, limit=2)
    first = recent[0]["id"]
    older = await call(client, "get_historical_trades", symbol=SYMBOL, limit=2, fromId=first)
    assert [t["id"] for t in older] == [t["id"] for t in recent]


async def test_get_products_is_deprecated_and_returns_symbols(client, sim):
    """get_products warns and returns exchangeInfo's symbol dicts."""
    with pytest.warns(DeprecationWarning, match="get_products"):
        result = await call(client, "get_products")
    assert {s["symbol"] for s in result} == _symbols(sim)


async def test_api_error_carries_code_and_message(client):
    """An unknown symbol is Binance's -1121, with status 400 and the message."""
    with pytest.raises(BinanceAPIException) as info:
        await call(client, "get_order_book", symbol="NOPE")
    assert (info.value.status_code, info.value.code) == (400, -1121)
    assert info.value.message == "Invalid symbol."


async def test_extra_params_pass_through_and_requests_params_apply(client):
    """**params reach Binance as they are; requests_params= is a per-call transport option."""
    book = await call(
        client, "get_order_book", symbol=SYMBOL, limit=7, requests_params={"timeout": 5}
    )
    assert len(book["bids"]) == 7
    klines = await call(client, "get_klines", symbol=SYMBOL, interval="1m", **{"limit": 2})
    assert len(klines) == 2


async def test_enums_on_the_client(client):
    assert client.SIDE_BUY == enums.SIDE_BUY == "BUY"
    assert client.KLINE_INTERVAL_1MINUTE == "1m"


async def test_seed_style_api_url_assignment(kind, sim):
    """Pointing a client elsewhere the seed's way (API_URL = '.../api') works."""
    from .conftest import close, make_client

    client = make_client(kind, sim)
    try:
        client.API_URL = "http://127.0.0.1:9/api"
        client.API_URL = sim.rest_url + "/api"
        assert client.API_URL == client.base_url == sim.rest_url
        assert (await call(client, "get_server_time"))["serverTime"] > 0
    finally:
        await close(client)
