"""The seed's code samples (the 2018 python-binance docs) run unchanged against the simulator.

Each test is one section of the seed's docs: the quick start, request settings, the general,
market data, account and withdraw endpoints, the helper functions and the exceptions. The
samples are copied as written (only Python 2's ``print e.x`` became ``print(e.x)``); the client is
made as the seed makes it, ``Client(api_key, api_secret)``, and pointed at the simulator the
seed's way, by assigning ``client.API_URL`` (the seed's ``https://api.binance.com/api`` becomes
the simulator's ``http://127.0.0.1:PORT/api``). Every sample's answer is checked against what the
simulator decided.

Samples with placeholders (``'<eth_address>'``, ``orderId='orderId'``) run as written and get
the exchange's refusal, then run again with real values. Samples that cannot work as they did
in 2018 check today's documented behaviour instead: a limit price of ``'0.00001'`` BTC for BNB
is now outside Binance's PERCENT_PRICE_BY_SIDE band (-1013), ``get_products`` warns and returns
``exchangeInfo``'s symbols, ``interval_to_milliseconds`` raises ``ValueError`` rather than
returning None, and the exceptions sample's ``client.get_all_orders()`` (no symbol) is a
``TypeError``, because our methods have real signatures (docs/architecture.md, STYLE.md §3).
"""

from __future__ import annotations

import http.client
import http.server
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from binance import errorcodes
from binance.client import Client
from binance.enums import (
    KLINE_INTERVAL_1WEEK,
    ORDER_TYPE_LIMIT,
    SIDE_BUY,
    TIME_IN_FORCE_GTC,
)
from waiting import deadline

MINUTE_MS = 60_000
WEEK_MS = 7 * 24 * 60 * MINUTE_MS
#: A well-formed Ethereum address of nobody in particular (for the withdraw placeholders).
ETH_ADDRESS = "0x" + "ab" * 20


@pytest.fixture
def seed_client(sim: Any, account: Any) -> Iterator[Client]:
    """``client = Client(api_key, api_secret)`` on a fresh funded account, pointed at the
    simulator the seed's way (``client.API_URL``)."""
    api_key, api_secret = account.api_key, account.api_secret
    client = Client(api_key, api_secret)
    client.API_URL = sim.rest_url + "/api"
    try:
        yield client
    finally:
        client.close()


def _symbols(sim: Any) -> list[str]:
    return sim.call(lambda: list(sim.exchange.markets))


def _spec(sim: Any, symbol: str) -> Any:
    return sim.call(lambda: sim.exchange.markets[symbol])


def _api_error(error: errorcodes.ErrorCode, *args: object) -> str:
    """``str()`` of our BinanceAPIException for Binance's ``error`` (the seed's format)."""
    return f"APIError(code={error.code}): {error.msg(*args)}"


def _low_price(client: Client, symbol: str = "BNBBTC") -> Decimal:
    # Far below the market, so the order rests, but inside PERCENT_PRICE_BY_SIDE's band.
    bid = Decimal(client.get_orderbook_ticker(symbol=symbol)["bidPrice"])
    return (bid * Decimal("0.6")).quantize(Decimal("0.000001"))


def _check_contiguous(klines: list[Any], step_ms: int) -> None:
    opens = [k[0] for k in klines]
    assert [b - a for a, b in zip(opens, opens[1:], strict=False)] == [step_ms] * (len(opens) - 1)


# -- quick start -----------------------------------------------------------------------------------


def test_quick_start_rest_samples(sim, seed_client, capsys):
    """The quick start's REST calls: book, test order, prices, a refused withdrawal, histories
    and a deposit address, each as the simulator answers them."""
    client = seed_client

    # マーケットデプスの取得
    depth = client.get_order_book(symbol="BNBBTC")
    bids, asks = depth["bids"], depth["asks"]
    assert depth["lastUpdateId"] > 0 and 0 < len(bids) <= 100 and 0 < len(asks) <= 100
    assert Decimal(bids[0][0]) < Decimal(asks[0][0])

    # テスト成行注文　実際の注文を送信するには、create_order関数を使用
    order = client.create_test_order(
        symbol="BNBBTC", side=Client.SIDE_BUY, type=Client.ORDER_TYPE_MARKET, quantity=100
    )
    assert order == {}
    assert client.get_all_orders(symbol="BNBBTC") == []  # validated by the exchange, not placed

    # 全ての仮想通貨ペアの価格取得
    prices = client.get_all_tickers()
    assert [p["symbol"] for p in prices] == _symbols(sim)
    assert Decimal(next(p["price"] for p in prices if p["symbol"] == "BNBBTC")) > 0

    # 100 ETH出金
    from binance.exceptions import BinanceAPIException, BinanceWithdrawException

    try:
        result = client.withdraw(asset="ETH", address="<eth_address>", amount=100)  # noqa: F841
    except BinanceAPIException as e:
        print(e)
    except BinanceWithdrawException as e:
        print(e)
    else:
        print("Success")
    assert capsys.readouterr().out == _api_error(errorcodes.WALLET_INVALID_ADDRESS) + "\n"

    # 出金履歴リストの取得
    withdraws = client.get_withdraw_history()
    # ETH出金のリストを取得
    eth_withdraws = client.get_withdraw_history(asset="ETH")
    assert withdraws == eth_withdraws == []  # the refused withdrawal left nothing behind

    # BTCのデポジットアドレスを取得
    address = client.get_deposit_address(asset="BTC")
    btc = next(c for c in client.get_all_coins_info() if c["coin"] == "BTC")
    network = next(n for n in btc["networkList"] if n["isDefault"])
    assert address["coin"] == "BTC"
    assert re.fullmatch(network["addressRegex"], address["address"])
    assert client.get_deposit_address(asset="BTC") == address  # one address per account


def test_quick_start_trade_socket(sim, seed_client, capsys):
    """The quick start's aggregate-trade socket calls back with the simulator's aggTrades (the
    stream host is swapped like the REST one)."""
    client = seed_client
    client.STREAM_URL = sim.stream_url
    received: list[Any] = []
    got_one = threading.Event()

    # BNBBTC用のトレードウェブソケットの開始
    def process_message(msg):
        print("message type: {}".format(msg["e"]))
        print(msg)
        # 処理を記述
        received.append(msg)
        got_one.set()

    from binance.websockets import BinanceSocketManager

    bm = BinanceSocketManager(client)
    try:
        bm.start_aggtrade_socket("BNBBTC", process_message)
        bm.start()
        end = deadline(20)
        while not got_one.wait(0.5):
            # A trade of our own makes sure there is one to report on a quiet market.
            client.order_market_buy(symbol="BNBBTC", quantity=1)
            assert time.monotonic() < end, "no aggTrade message arrived"
    finally:
        bm.close()
    msg = received[0]
    assert msg["e"] == "aggTrade" and msg["s"] == "BNBBTC" and Decimal(msg["p"]) > 0
    assert capsys.readouterr().out.startswith("message type: aggTrade\n")


def test_historical_klines_samples(sim, seed_client):
    """The three get_historical_klines samples (quick start and market data): the last day of
    1-minute klines, December 2017 in 30-minute klines, and weekly klines since listing."""
    client = seed_client

    # 前日から現在までの1 minute klinesを取得
    klines = client.get_historical_klines("BNBBTC", Client.KLINE_INTERVAL_1MINUTE, "1 day ago UTC")
    assert 1440 <= len(klines) <= 1441
    _check_contiguous(klines, MINUTE_MS)
    assert time.time() * 1000 - klines[-1][0] < 2 * MINUTE_MS  # up to the current minute

    # klineの2017年12月のデータを取得
    klines = client.get_historical_klines(
        "ETHBTC", Client.KLINE_INTERVAL_30MINUTE, "1 Dec, 2017", "1 Jan, 2018"
    )
    _check_contiguous(klines, 30 * MINUTE_MS)
    # Both ends inclusive: 1 Dec 00:00 UTC to the kline opening at 1 Jan 00:00 UTC.
    assert (klines[0][0], klines[-1][0]) == (1512086400000, 1514764800000)
    assert len(klines) == 31 * 48 + 1

    # 上場以来のweekly klinesを取得
    klines = client.get_historical_klines("NEOBTC", KLINE_INTERVAL_1WEEK, "1 Jan, 2017")
    _check_contiguous(klines, WEEK_MS)
    listed = _spec(sim, "NEOBTC").listed_ms
    # Weekly klines open on Mondays 00:00 UTC: the first is the week NEOBTC was listed in.
    assert klines[0][0] <= listed < klines[0][0] + WEEK_MS
    assert time.gmtime(klines[0][0] / 1000).tm_wday == 0
    assert time.time() * 1000 - klines[-1][0] < WEEK_MS


# -- request settings ------------------------------------------------------------------------------


def test_requests_params_samples(sim, account):
    """``requests_params`` for every call and per call reach the exchange: the seed's made-up
    key gets Binance's -2014; the same settings with a real key list the orders."""
    from binance.exceptions import BinanceAPIException

    # get_all_ordersのコールはverify: False and timeout: 5 の結果になることがあります。
    client = Client("api-key", "api-secret", {"verify": False, "timeout": 20})
    client.API_URL = sim.rest_url + "/api"
    try:
        with pytest.raises(BinanceAPIException) as info:
            client.get_all_orders(symbol="BNBBTC", requests_params={"timeout": 5})
        assert (info.value.status_code, info.value.code) == (401, errorcodes.BAD_API_KEY_FMT.code)
    finally:
        client.close()

    client = Client(account.api_key, account.api_secret, {"verify": False, "timeout": 20})
    client.API_URL = sim.rest_url + "/api"
    try:
        assert client.get_all_orders(symbol="BNBBTC", requests_params={"timeout": 5}) == []
    finally:
        client.close()


class _ForwardProxy(http.server.ThreadingHTTPServer):
    """A plain-HTTP forward proxy on 127.0.0.1 that records what it forwarded."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.forwarded: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ForwardProxy
    _HOP = {"connection", "proxy-connection", "keep-alive", "transfer-encoding", "host"}

    def _forward(self) -> None:
        url = urllib.parse.urlsplit(self.path)  # a proxy gets the absolute URL
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        self.server.forwarded.append(f"{self.command} {url.path}")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in self._HOP}
        upstream = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
        try:
            target = url.path + (f"?{url.query}" if url.query else "")
            upstream.request(self.command, target, body=body, headers=headers)
            reply = upstream.getresponse()
            data = reply.read()
        finally:
            upstream.close()
        self.send_response(reply.status)
        for name, value in reply.getheaders():
            if name.lower() not in self._HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _forward

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def forward_proxy() -> Iterator[_ForwardProxy]:
    proxy = _ForwardProxy()
    thread = threading.Thread(target=proxy.serve_forever, name="test-proxy")
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join()


def test_proxies_samples(sim, forward_proxy):
    """The seed's ``proxies`` (for the client and per call) route requests through the proxy
    (a local one stands in for the seed's 10.10.1.10)."""
    from binance.exceptions import BinanceAPIException

    proxies = {"http": forward_proxy.url, "https": forward_proxy.url}

    # クライアント初期化
    client = Client("api-key", "api-secret", {"proxies": proxies})
    client.API_URL = sim.rest_url + "/api"
    try:
        server_time = client.get_server_time()["serverTime"]
        assert abs(server_time - sim.server.ctx.now_ms()) < 60_000
        # または、個別のコール
        with pytest.raises(BinanceAPIException) as info:
            client.get_all_orders(symbol="BNBBTC", requests_params={"proxies": proxies})
        assert info.value.code == errorcodes.BAD_API_KEY_FMT.code
    finally:
        client.close()
    assert "GET /api/v3/time" in forward_proxy.forwarded
    assert "GET /api/v3/allOrders" in forward_proxy.forwarded


# -- general endpoints -----------------------------------------------------------------------------


def test_general_endpoint_samples(sim, seed_client):
    """ping, server time, exchange info, symbol info, and the retired get_products."""
    client = seed_client

    # サーバーへPing送信
    assert client.ping() == {}

    # サーバー時間を取得
    before = sim.server.ctx.now_ms()
    time_res = client.get_server_time()
    after = sim.server.ctx.now_ms()
    assert before <= time_res["serverTime"] <= after

    # 取引所情報を取得
    info = client.get_exchange_info()
    assert [s["symbol"] for s in info["symbols"]] == _symbols(sim)
    assert {
        "rateLimitType": "REQUEST_WEIGHT",
        "interval": "MINUTE",
        "intervalNum": 1,
        "limit": sim.config.request_weight_per_minute,
    } in info["rateLimits"]

    # Symbol（通貨ペア）情報を取得
    info = client.get_symbol_info("BNBBTC")
    spec = _spec(sim, "BNBBTC")
    filters = {f["filterType"]: f for f in info["filters"]}
    assert (info["symbol"], info["baseAsset"], info["quoteAsset"]) == ("BNBBTC", "BNB", "BTC")
    assert Decimal(filters["PRICE_FILTER"]["tickSize"]) == spec.tick_size
    assert Decimal(filters["LOT_SIZE"]["stepSize"]) == spec.step_size

    # 現在のProductsを取得 (deprecated in the seed; Binance removed the endpoint)
    with pytest.warns(DeprecationWarning, match="get_products"):
        products = client.get_products()
    assert [p["symbol"] for p in products] == _symbols(sim)


# -- market data -----------------------------------------------------------------------------------


def test_market_data_samples(sim, seed_client):
    """Book, trades (recent, historical, aggregate), klines and tickers; a trade of our own is
    found in each trade list."""
    client = seed_client
    fill = client.order_market_buy(symbol="BNBBTC", quantity=1)["fills"][0]
    ours = fill["tradeId"]

    # マーケットデプスの取得
    depth = client.get_order_book(symbol="BNBBTC")
    prices = [Decimal(p) for p, _ in depth["bids"]]
    assert prices == sorted(prices, reverse=True) and len(prices) <= 100

    # 最近のトレードを取得
    trades = client.get_recent_trades(symbol="BNBBTC")
    ids = [t["id"] for t in trades]
    assert ids == sorted(ids) and len(trades) <= 500
    mine = next(t for t in trades if t["id"] == ours)
    assert (mine["price"], mine["qty"]) == (fill["price"], fill["qty"])

    # トレードのヒストリカルデータを取得
    trades = client.get_historical_trades(symbol="BNBBTC")
    assert ours in [t["id"] for t in trades]

    # トレード集計を取得
    trades = client.get_aggregate_trades(symbol="BNBBTC")
    assert any(t["f"] <= ours <= t["l"] for t in trades)

    # Kline/ローソク足を取得
    candles = client.get_klines(symbol="BNBBTC", interval=Client.KLINE_INTERVAL_30MINUTE)
    assert len(candles) == 500
    _check_contiguous(candles, 30 * MINUTE_MS)
    assert candles[-1][0] <= time.time() * 1000 < candles[-1][6] + 60_000

    # 24hr Tickerを取得
    tickers = client.get_ticker()
    assert [t["symbol"] for t in tickers] == _symbols(sim)

    # 全ての価格を取得
    prices = client.get_all_tickers()
    assert [p["symbol"] for p in prices] == _symbols(sim)

    # Orderbook Tickersを取得
    tickers = client.get_orderbook_tickers()
    bnb = next(t for t in tickers if t["symbol"] == "BNBBTC")
    assert Decimal(bnb["bidPrice"]) < Decimal(bnb["askPrice"])


# -- account endpoints -----------------------------------------------------------------------------


def _seed_create_order(client):
    # (the seed imports these with ``from binance.enums import *``; this module imports them)
    return client.create_order(
        symbol="BNBBTC",
        side=SIDE_BUY,
        type=ORDER_TYPE_LIMIT,
        timeInForce=TIME_IN_FORCE_GTC,
        quantity=100,
        price="0.00001",
    )


SEED_LIMIT_ORDERS = {
    "create_order": _seed_create_order,
    "order_limit_buy": lambda client: client.order_limit_buy(
        symbol="BNBBTC", quantity=100, price="0.00001"
    ),
    "order_limit_sell": lambda client: client.order_limit_sell(
        symbol="BNBBTC", quantity=100, price="0.00001"
    ),
    "create_test_order": lambda client: client.create_test_order(
        symbol="BNBBTC",
        side=SIDE_BUY,
        type=ORDER_TYPE_LIMIT,
        timeInForce=TIME_IN_FORCE_GTC,
        quantity=100,
        price="0.00001",
    ),
}


@pytest.mark.parametrize("sample", SEED_LIMIT_ORDERS.values(), ids=SEED_LIMIT_ORDERS.keys())
def test_limit_order_samples_meet_todays_price_band(sample, seed_client):
    """The seed's limit price (0.00001 BTC for BNB, about 1/1000 of today's) is refused with
    -1013 PERCENT_PRICE_BY_SIDE, as Binance does today; nothing is placed."""
    from binance.exceptions import BinanceAPIException

    client = seed_client
    with pytest.raises(BinanceAPIException) as info:
        sample(client)
    assert str(info.value) == _api_error(errorcodes.INVALID_MESSAGE, "PERCENT_PRICE_BY_SIDE")
    assert client.get_all_orders(symbol="BNBBTC") == []


def test_account_endpoint_samples(sim, seed_client):
    """Orders (market, then a resting limit looked up and cancelled), open and all orders,
    the account, a balance, the account status and our trades, as the simulator keeps them."""
    from binance.exceptions import BinanceAPIException

    client = seed_client

    # 全注文の読み込み
    orders = client.get_all_orders(symbol="BNBBTC", limit=10)
    assert orders == []

    # 成行注文
    order = client.order_market_buy(symbol="BNBBTC", quantity=100)
    assert (order["status"], order["side"], Decimal(order["executedQty"])) == ("FILLED", "BUY", 100)
    bought = order
    order = client.order_market_sell(symbol="BNBBTC", quantity=100)
    assert (order["status"], order["side"], Decimal(order["executedQty"])) == (
        "FILLED",
        "SELL",
        100,
    )
    sold = order
    fills = [f["tradeId"] for o in (bought, sold) for f in o["fills"]]
    assert sum(Decimal(f["qty"]) for f in bought["fills"]) == 100

    # 注文状況確認 / 注文キャンセル, as written: 'orderId' is not a number.
    illegal = _api_error(errorcodes.ILLEGAL_CHARS, "orderId", "^[0-9]{1,20}$")
    with pytest.raises(BinanceAPIException) as info:
        order = client.get_order(symbol="BNBBTC", orderId="orderId")
    assert str(info.value) == illegal
    with pytest.raises(BinanceAPIException) as info:
        result = client.cancel_order(symbol="BNBBTC", orderId="orderId")
    assert str(info.value) == illegal

    # ... and with a real order id.
    resting = client.order_limit_buy(symbol="BNBBTC", quantity=100, price=_low_price(client))
    order = client.get_order(symbol="BNBBTC", orderId=resting["orderId"])
    assert (order["status"], order["clientOrderId"]) == ("NEW", resting["clientOrderId"])

    # 全てのオープン注文の取得
    orders = client.get_open_orders(symbol="BNBBTC")
    assert [o["orderId"] for o in orders] == [resting["orderId"]]

    result = client.cancel_order(symbol="BNBBTC", orderId=resting["orderId"])
    assert (result["orderId"], result["status"]) == (resting["orderId"], "CANCELED")
    assert client.get_open_orders(symbol="BNBBTC") == []

    # 全ての注文の取得
    orders = client.get_all_orders(symbol="BNBBTC")
    assert [(o["orderId"], o["status"]) for o in orders] == [
        (bought["orderId"], "FILLED"),
        (sold["orderId"], "FILLED"),
        (resting["orderId"], "CANCELED"),
    ]

    # アカウント情報の取得
    info = client.get_account()
    btc = next(b for b in info["balances"] if b["asset"] == "BTC")
    # 口座残高の取得
    balance = client.get_asset_balance(asset="BTC")
    assert balance == btc and Decimal(balance["locked"]) == 0  # the cancel unlocked it all

    # 口座状況の取得
    status = client.get_account_status()
    assert status == {"data": "Normal"}

    # 取引情報の取得
    trades = client.get_my_trades(symbol="BNBBTC")
    assert sorted(t["id"] for t in trades) == sorted(fills)


# -- withdraw endpoints ----------------------------------------------------------------------------


def test_withdraw_samples(sim, seed_client, account, capsys):
    """The three withdraw samples as written (refused: placeholder address, no XRP here), then
    with a real address (accepted, in the history once); deposits and the deposit address."""
    from binance.exceptions import BinanceAPIException, BinanceWithdrawException

    client = seed_client

    try:
        # ネームパラメータを渡していない場合は、クライアントからアセットバリューに渡される
        result = client.withdraw(asset="ETH", address="<eth_address>", amount=100)  # noqa: F841
    except BinanceAPIException as e:
        print(e)
    except BinanceWithdrawException as e:
        print(e)
    else:
        print("Success")
    assert capsys.readouterr().out == _api_error(errorcodes.WALLET_INVALID_ADDRESS) + "\n"

    # ネームパラメータを渡す
    with pytest.raises(BinanceWithdrawException) as info:
        result = client.withdraw(asset="ETH", address="<eth_address>", amount=100, name="Withdraw")
    assert info.value.code == errorcodes.WALLET_INVALID_ADDRESS.code

    # XRPやXMRのように、コインが追加のタグまたは名前を必要とする場合、`addressTag`を渡す
    with pytest.raises(BinanceWithdrawException) as info:
        result = client.withdraw(  # noqa: F841 - the sample as written
            asset="XRP", address="<xrp_address>", addressTag="<xrp_address_tag>", amount=10000
        )
    assert info.value.code == errorcodes.WALLET_UNKNOWN_COIN.code  # the simulator lists no XRP

    # With a real address the first two samples go through.
    before = Decimal(client.get_asset_balance(asset="ETH")["free"])
    first = client.withdraw(asset="ETH", address=ETH_ADDRESS, amount=100)
    second = client.withdraw(asset="ETH", address=ETH_ADDRESS, amount=100, name="Withdraw")
    assert Decimal(client.get_asset_balance(asset="ETH")["free"]) == before - 200

    # 出金の履歴を渡す
    withdraws = client.get_withdraw_history()
    btc_withdraws = client.get_withdraw_history(asset="BTC")
    assert sorted(w["id"] for w in withdraws) == sorted([first["id"], second["id"]])
    assert all(
        (w["coin"], w["address"], Decimal(w["amount"]) + Decimal(w["transactionFee"]))
        == ("ETH", ETH_ADDRESS, 100)
        for w in withdraws
    )
    assert btc_withdraws == []

    # デポジットの履歴を取得
    assert client.get_deposit_history() == []
    credited = sim.credit_deposit("BTC", "0.5", account_id=account.account_id)
    deposits = client.get_deposit_history()
    btc_deposits = client.get_deposit_history(asset="BTC")
    assert [d["id"] for d in deposits] == [d["id"] for d in btc_deposits] == [credited["id"]]
    assert Decimal(btc_deposits[0]["amount"]) == Decimal("0.5")

    # デポジットアドレスを取得
    address = client.get_deposit_address(asset="BTC")
    assert (address["coin"], address["address"]) == ("BTC", credited["address"])


# -- helper functions ------------------------------------------------------------------------------


def test_helper_function_samples():
    """date_to_milliseconds and interval_to_milliseconds on the seed's documented inputs."""
    from binance.helpers import date_to_milliseconds, interval_to_milliseconds

    assert date_to_milliseconds("January 01, 2018") == 1514764800000
    now = time.time() * 1000
    assert abs(date_to_milliseconds("now UTC") - now) < MINUTE_MS
    assert abs(date_to_milliseconds("11 hours ago UTC") - (now - 11 * 60 * MINUTE_MS)) < MINUTE_MS

    minutes = {"1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "2h": 120, "4h": 240}
    minutes |= {"6h": 360, "8h": 480, "12h": 720, "1d": 1440, "3d": 3 * 1440, "1w": 7 * 1440}
    for interval, count in minutes.items():
        assert interval_to_milliseconds(interval) == count * MINUTE_MS, interval
    # The seed returned None for these; a silent None is easy to misuse, so we raise.
    for bad in ("1x", "m", "abc"):
        with pytest.raises(ValueError, match="invalid kline interval"):
            interval_to_milliseconds(bad)


# -- exceptions ------------------------------------------------------------------------------------


def test_exception_samples(sim, seed_client):
    """The BinanceAPIException sample: attributes of Binance's refusal; its symbol-less call
    is a TypeError before anything is sent. A non-JSON answer is BinanceResponseException."""
    from binance.exceptions import BinanceAPIException, BinanceResponseException

    client = seed_client
    with pytest.raises(TypeError, match="symbol"):
        try:
            client.get_all_orders()
        except BinanceAPIException as e:
            print(e.status_code)
            print(e.message)

    try:
        client.get_all_orders(symbol="NOPE")
    except BinanceAPIException as e:
        assert (e.status_code, e.code, e.message) == (400, -1121, errorcodes.BAD_SYMBOL.message)
        assert e.response.status == 400 and e.request.url.startswith(
            sim.rest_url + "/api/v3/allOrders"
        )
    else:
        pytest.fail("Binance accepted an unknown symbol")

    # BinanceResponseException: JSONレスポンス以外が返された時に発生
    sim.faults.fail_next(1, status=502, error=None, path="/api/v3/ticker/price")
    with pytest.raises(BinanceResponseException) as info:
        client.get_all_tickers()
    assert info.value.status_code == 502
