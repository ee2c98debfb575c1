"""The seed's public methods, written once for both clients.

``_Api`` is generic over what a call returns: ``Client`` is ``_Api[Json, Iterator[Json]]`` (the
JSON itself), ``AsyncClient`` is ``_Api[Awaitable[Json], AsyncIterator[Json]]`` (a coroutine).
Every method builds Binance's wire parameters from the seed's argument names and hands a flow
(``_flows``) to the client's ``_run``, which drives it over requests or aiohttp. Argument names
are the seed's (Binance's camelCase, e.g. ``timeInForce``), so 2018 code runs unchanged; extra
keyword arguments pass through to Binance as they are, and ``requests_params=`` overrides
transport options for one call, as in the seed.

Each method is tagged with the endpoints it calls (``@_uses``) and its docstring names them; a
test checks the two agree.

No I/O here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from binance import _endpoints as E
from binance import _flows, enums
from binance._endpoints import Endpoint
from binance._types import DateLike, Json, NumberLike

__all__ = ["_Api", "EnumConstants"]

R = TypeVar("R")  # what a call returns: Json, or Awaitable[Json]
G = TypeVar("G")  # what a paging iterator is: Iterator[Json], or AsyncIterator[Json]
F = TypeVar("F", bound=Callable[..., Any])

#: The seed's constants as class attributes (``Client.SIDE_BUY``); one source: `binance.enums`.
EnumConstants: type = type(
    "EnumConstants",
    (),
    {name: getattr(enums, name) for name in dir(enums) if name.isupper()},
)


def _uses(*endpoints: Endpoint) -> Callable[[F], F]:
    """Tag a method with the endpoints it calls (read by the docstring test)."""

    def tag(fn: F) -> F:
        fn.__endpoints__ = endpoints  # type: ignore[attr-defined]
        return fn

    return tag


def _wire(named: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in named.items() if v is not None}
    for key, value in params.items():
        if value is not None:
            out[key] = value
    return out


def _coin(asset: str | None, coin: str | None) -> str | None:
    # The seed's wallet calls took ``asset``; /sapi's successors call it ``coin`` (NOTES.md §4.4).
    if asset is not None and coin is not None and asset != coin:
        raise ValueError(f"asset={asset!r} and coin={coin!r} disagree: give one of them")
    return coin if coin is not None else asset


def _first_balance(asset: str) -> Callable[[Json], Json]:
    def pick(account: Json) -> Json:
        for balance in account.get("balances", ()):
            if balance.get("asset") == asset:
                return balance
        return None

    return pick


class _Api(EnumConstants, Generic[R, G]):  # type: ignore[misc]
    """The seed's methods; subclasses provide ``_ctx`` and ``_run`` (and the history drivers)."""

    _ctx: _flows.Context

    # -- plumbing (subclasses implement _run and the two history hooks) ----------------------------

    def _run(self, flow: _flows.Flow) -> R:
        raise NotImplementedError

    def _call(self, endpoint: Endpoint, params: dict[str, Any], **named: Any) -> R:
        options = params.pop("requests_params", None)
        return self._run(_flows.call(self._ctx, endpoint, _wire(named, params), options))

    def _order(self, endpoint: Endpoint, params: dict[str, Any], **named: Any) -> R:
        options = params.pop("requests_params", None)
        return self._run(_flows.place_order(self._ctx, endpoint, _wire(named, params), options))

    def _historical_klines(
        self, symbol: str, interval: str, start: DateLike | None, end: DateLike | None, limit: int
    ) -> R:
        raise NotImplementedError

    def _historical_klines_iter(
        self, symbol: str, interval: str, start: DateLike | None, end: DateLike | None, limit: int
    ) -> G:
        raise NotImplementedError

    def _agg_trades_iter(
        self,
        symbol: str,
        start: DateLike | None,
        end: DateLike | None,
        last_id: int | None,
    ) -> G:
        raise NotImplementedError

    # -- general -----------------------------------------------------------------------------------

    @_uses(E.PING)
    def ping(self, **params: Any) -> R:
        """Test connectivity; returns ``{}``.

        Calls ``GET /api/v3/ping`` (weight 1).
        """
        return self._call(E.PING, params)

    @_uses(E.TIME)
    def get_server_time(self, **params: Any) -> R:
        """The server's time: ``{"serverTime": 1499827319559}``.

        Calls ``GET /api/v3/time`` (weight 1).
        """
        return self._call(E.TIME, params)

    @_uses(E.TIME)
    def sync_clock(self) -> R:
        """Measure the exchange's clock now; signed requests and `timestamp_ms` use it from here
        on. Returns ``{"serverTime": ...}``.

        Round-trip corrected (NOTES.md §1.4) and shared by every client of the same host in this
        process. Signed calls measure by themselves before their first request and again after
        a ``-1021``; call this to align the clock earlier, e.g. before a socket manager's user
        data logon, which is signed with `timestamp_ms`.

        Calls ``GET /api/v3/time`` (weight 1).
        """
        return self._run(_flows.sync_clock(self._ctx))

    @_uses(E.EXCHANGE_INFO)
    def get_exchange_info(
        self,
        symbol: str | None = None,
        symbols: Iterable[str] | None = None,
        permissions: str | Iterable[str] | None = None,
        **params: Any,
    ) -> R:
        """Trading rules: rate limits, and every symbol with its filters.

        Calls ``GET /api/v3/exchangeInfo`` (weight 20). The answer also updates the client's
        weight governor with the live ``rateLimits``.

        Args:
            symbol: only this symbol.
            symbols: only these symbols (sent as a JSON array).
            permissions: only symbols with these permissions (``"SPOT"``, ``["MARGIN"]``).
        """
        if symbols is not None:
            symbols = list(symbols)
        if permissions is not None and not isinstance(permissions, str):
            permissions = list(permissions)
        return self._call(
            E.EXCHANGE_INFO, params, symbol=symbol, symbols=symbols, permissions=permissions
        )

    @_uses(E.EXCHANGE_INFO)
    def get_symbol_info(self, symbol: str, **params: Any) -> R:
        """One symbol's entry of exchangeInfo (status, precisions, filters), or None if unknown.

        Calls ``GET /api/v3/exchangeInfo`` with ``symbol`` (weight 20).
        """
        options = params.pop("requests_params", None)
        return self._run(_flows.symbol_info(self._ctx, symbol, options))

    @_uses(E.EXCHANGE_INFO)
    def get_products(self, **params: Any) -> R:
        """Deprecated: the list of symbol dicts from exchangeInfo.

        The seed read ``https://www.binance.com/exchange/public/product``, a web-site endpoint
        that no longer exists. This now calls ``GET /api/v3/exchangeInfo`` (weight 20) and returns
        its ``symbols`` list (one dict per symbol: ``symbol``, ``status``, ``baseAsset``,
        ``quoteAsset``, ``filters``...), and emits a ``DeprecationWarning``. Use
        `get_exchange_info` or `get_symbol_info`.
        """
        warnings.warn(
            "get_products() is deprecated: Binance removed the products endpoint; it now returns "
            "get_exchange_info()['symbols']",
            DeprecationWarning,
            stacklevel=2,
        )
        options = params.pop("requests_params", None)
        flow = _flows.call(self._ctx, E.EXCHANGE_INFO, params, options)
        return self._run(_flows.mapped(flow, lambda info: info.get("symbols", [])))

    @_uses(E.SYSTEM_STATUS)
    def get_system_status(self, **params: Any) -> R:
        """Whether Binance is up: ``{"status": 0, "msg": "normal"}`` (1 = maintenance).

        Calls ``GET /sapi/v1/system/status`` (weight 1).
        """
        return self._call(E.SYSTEM_STATUS, params)

    # -- market data -------------------------------------------------------------------------------

    @_uses(E.DEPTH)
    def get_order_book(self, symbol: str, limit: int | None = None, **params: Any) -> R:
        """The order book: ``{"lastUpdateId", "bids": [[price, qty]...], "asks": [...]}``.

        Calls ``GET /api/v3/depth`` (weight 5-250 by ``limit``: up to 100: 5, 500: 25,
        1000: 50, 5000: 250).

        Args:
            symbol: e.g. ``"BNBBTC"``.
            limit: levels per side, 1 to 5000 (default 100).
        """
        return self._call(E.DEPTH, params, symbol=symbol, limit=limit)

    @_uses(E.TRADES)
    def get_recent_trades(self, symbol: str, limit: int | None = None, **params: Any) -> R:
        """The most recent trades (default 500, max 1000).

        Calls ``GET /api/v3/trades`` (weight 25).
        """
        return self._call(E.TRADES, params, symbol=symbol, limit=limit)

    @_uses(E.HISTORICAL_TRADES)
    def get_historical_trades(
        self, symbol: str, limit: int | None = None, fromId: int | None = None, **params: Any
    ) -> R:
        """Older trades, from trade id ``fromId`` on (default: the most recent).

        Calls ``GET /api/v3/historicalTrades`` (weight 25). Since 2023 it needs no API key.
        """
        return self._call(E.HISTORICAL_TRADES, params, symbol=symbol, limit=limit, fromId=fromId)

    @_uses(E.AGG_TRADES)
    def get_aggregate_trades(
        self,
        symbol: str,
        fromId: int | None = None,
        startTime: int | None = None,
        endTime: int | None = None,
        limit: int | None = None,
        **params: Any,
    ) -> R:
        """Aggregate trades (fills of one taker order at one price, merged).

        Calls ``GET /api/v3/aggTrades`` (weight 4). Each item is ``{"a": id, "p": price,
        "q": qty, "f": first trade id, "l": last trade id, "T": time, "m": buyer is maker,
        "M": best match}``.
        """
        return self._call(
            E.AGG_TRADES,
            params,
            symbol=symbol,
            fromId=fromId,
            startTime=startTime,
            endTime=endTime,
            limit=limit,
        )

    @_uses(E.AGG_TRADES)
    def aggregate_trade_iter(
        self,
        symbol: str,
        start_str: DateLike | None = None,
        end_str: DateLike | None = None,
        last_id: int | None = None,
    ) -> G:
        """Every aggregate trade of a time range (or after ``last_id``), oldest first.

        Calls ``GET /api/v3/aggTrades`` (weight 4) page by page: the first page by
        ``startTime``/``endTime``, then by ``fromId``, so no trade is skipped or repeated.

        Args:
            symbol: e.g. ``"BNBBTC"``.
            start_str: first trade time, any form `binance.helpers.date_to_milliseconds` reads.
            end_str: last trade time (inclusive); default: until the newest trade.
            last_id: start after this aggregate trade id instead of at ``start_str``.

        Returns:
            An iterator (``Client``) or async iterator (``AsyncClient``) of aggTrade dicts.
        """
        return self._agg_trades_iter(symbol, start_str, end_str, last_id)

    @_uses(E.KLINES)
    def get_klines(
        self,
        symbol: str,
        interval: str,
        startTime: int | None = None,
        endTime: int | None = None,
        limit: int | None = None,
        timeZone: str | None = None,
        **params: Any,
    ) -> R:
        """Klines (candlesticks), keyed by open time; default 500, max 1000.

        Calls ``GET /api/v3/klines`` (weight 2). Each kline is ``[open time, open, high, low,
        close, volume, close time, quote volume, trades, taker buy base volume, taker buy quote
        volume, ignore]``.

        Args:
            interval: ``Client.KLINE_INTERVAL_1MINUTE``... (``1s`` to ``1M``).
            timeZone: interpret day/week/month boundaries in this offset (``"+08:00"``).
        """
        return self._call(
            E.KLINES,
            params,
            symbol=symbol,
            interval=interval,
            startTime=startTime,
            endTime=endTime,
            limit=limit,
            timeZone=timeZone,
        )

    @_uses(E.UI_KLINES)
    def get_ui_klines(
        self,
        symbol: str,
        interval: str,
        startTime: int | None = None,
        endTime: int | None = None,
        limit: int | None = None,
        timeZone: str | None = None,
        **params: Any,
    ) -> R:
        """Klines tuned for charts (same shape as `get_klines`).

        Calls ``GET /api/v3/uiKlines`` (weight 2).
        """
        return self._call(
            E.UI_KLINES,
            params,
            symbol=symbol,
            interval=interval,
            startTime=startTime,
            endTime=endTime,
            limit=limit,
            timeZone=timeZone,
        )

    @_uses(E.KLINES)
    def get_historical_klines(
        self,
        symbol: str,
        interval: str,
        start_str: DateLike | None = None,
        end_str: DateLike | None = None,
        limit: int = 1000,
    ) -> R:
        """Every kline between two dates, as one list, in order, without gaps or repeats.

        Calls ``GET /api/v3/klines`` (weight 2 per 1000 klines): one request finds the first
        kline Binance has (so a start before the listing costs nothing), then the range is cut
        into windows of ``limit`` klines fetched concurrently within the weight budget.

        Example::

            client.get_historical_klines("BNBBTC", Client.KLINE_INTERVAL_1MINUTE, "1 day ago UTC")
            client.get_historical_klines("ETHBTC", "30m", "1 Dec, 2017", "1 Jan, 2018")

        Args:
            symbol: e.g. ``"BNBBTC"``.
            interval: a kline interval (``1s`` ... ``1M``).
            start_str: first open time (any form `binance.helpers.date_to_milliseconds` reads:
                ``"1 Dec, 2017"``, ``"1 day ago UTC"``, ISO dates, ms, datetime); default: the
                first kline ever.
            end_str: last open time, inclusive; default: now.
            limit: klines per request (max 1000).
        """
        return self._historical_klines(symbol, interval, start_str, end_str, limit)

    @_uses(E.KLINES)
    def get_historical_klines_generator(
        self,
        symbol: str,
        interval: str,
        start_str: DateLike | None = None,
        end_str: DateLike | None = None,
        limit: int = 1000,
    ) -> G:
        """The klines of `get_historical_klines`, yielded one by one, in order.

        Calls ``GET /api/v3/klines`` (weight 2 per request); windows are fetched concurrently
        ahead of the consumer and yielded in order.

        Returns:
            An iterator (``Client``) or async iterator (``AsyncClient``) of klines.
        """
        return self._historical_klines_iter(symbol, interval, start_str, end_str, limit)

    @_uses(E.AVG_PRICE)
    def get_avg_price(self, symbol: str, **params: Any) -> R:
        """Current average price: ``{"mins": 5, "price": "9.357", "closeTime": ...}``.

        Calls ``GET /api/v3/avgPrice`` (weight 2).
        """
        return self._call(E.AVG_PRICE, params, symbol=symbol)

    @_uses(E.TICKER_24HR)
    def get_ticker(
        self,
        symbol: str | None = None,
        symbols: Iterable[str] | None = None,
        type: str | None = None,
        **params: Any,
    ) -> R:
        """24-hour price change statistics of one symbol (a dict) or all symbols (a list).

        Calls ``GET /api/v3/ticker/24hr`` (weight 2 for one symbol, 2-80 for a list, 80 for
        all).

        Args:
            type: ``"FULL"`` (default) or ``"MINI"``.
        """
        return self._call(
            E.TICKER_24HR,
            params,
            symbol=symbol,
            symbols=None if symbols is None else list(symbols),
            type=type,
        )

    @_uses(E.TICKER)
    def get_rolling_window_ticker(
        self,
        symbol: str | None = None,
        symbols: Iterable[str] | None = None,
        windowSize: str | None = None,
        type: str | None = None,
        **params: Any,
    ) -> R:
        """Price change statistics over a rolling window (``1m``..``59m``, ``1h``..``23h``,
        ``1d``..``7d``; default ``1d``).

        Calls ``GET /api/v3/ticker`` (weight 4 per symbol, at most 200).
        """
        return self._call(
            E.TICKER,
            params,
            symbol=symbol,
            symbols=None if symbols is None else list(symbols),
            windowSize=windowSize,
            type=type,
        )

    @_uses(E.TICKER_TRADING_DAY)
    def get_trading_day_ticker(
        self,
        symbol: str | None = None,
        symbols: Iterable[str] | None = None,
        timeZone: str | None = None,
        type: str | None = None,
        **params: Any,
    ) -> R:
        """Price change statistics of the current trading day (in ``timeZone``, default UTC).

        Calls ``GET /api/v3/ticker/tradingDay`` (weight 4 per symbol, at most 200).
        """
        return self._call(
            E.TICKER_TRADING_DAY,
            params,
            symbol=symbol,
            symbols=None if symbols is None else list(symbols),
            timeZone=timeZone,
            type=type,
        )

    @_uses(E.TICKER_PRICE)
    def get_all_tickers(self, **params: Any) -> R:
        """Latest price of every symbol: ``[{"symbol": "LTCBTC", "price": "4.00000200"}, ...]``.

        Calls ``GET /api/v3/ticker/price`` without a symbol (weight 4); the seed's
        ``/api/v1/ticker/allPrices`` was retired.
        """
        return self._call(E.TICKER_PRICE, params)

    @_uses(E.TICKER_PRICE)
    def get_symbol_ticker(
        self, symbol: str | None = None, symbols: Iterable[str] | None = None, **params: Any
    ) -> R:
        """Latest price of one symbol (a dict) or several (a list).

        Calls ``GET /api/v3/ticker/price`` (weight 2 for one symbol, else 4).
        """
        return self._call(
            E.TICKER_PRICE,
            params,
            symbol=symbol,
            symbols=None if symbols is None else list(symbols),
        )

    @_uses(E.TICKER_BOOK_TICKER)
    def get_orderbook_tickers(self, **params: Any) -> R:
        """Best bid and ask of every symbol.

        Calls ``GET /api/v3/ticker/bookTicker`` without a symbol (weight 4); the seed's
        ``/api/v1/ticker/allBookTickers`` was retired.
        """
        return self._call(E.TICKER_BOOK_TICKER, params)

    @_uses(E.TICKER_BOOK_TICKER)
    def get_orderbook_ticker(
        self, symbol: str | None = None, symbols: Iterable[str] | None = None, **params: Any
    ) -> R:
        """Best bid and ask of one symbol (a dict) or several (a list).

        Calls ``GET /api/v3/ticker/bookTicker`` (weight 2 for one symbol, else 4).
        """
        return self._call(
            E.TICKER_BOOK_TICKER,
            params,
            symbol=symbol,
            symbols=None if symbols is None else list(symbols),
        )

    # -- orders ------------------------------------------------------------------------------------

    @_uses(E.ORDER, E.EXCHANGE_INFO, E.GET_ORDER)
    def create_order(
        self,
        symbol: str,
        side: str,
        type: str,
        timeInForce: str | None = None,
        quantity: NumberLike | None = None,
        price: NumberLike | None = None,
        newClientOrderId: str | None = None,
        stopPrice: NumberLike | None = None,
        icebergQty: NumberLike | None = None,
        newOrderRespType: str | None = None,
        recvWindow: int | None = None,
        quoteOrderQty: NumberLike | None = None,
        trailingDelta: int | None = None,
        selfTradePreventionMode: str | None = None,
        strategyId: int | None = None,
        strategyType: int | None = None,
        **params: Any,
    ) -> R:
        """Place an order; it is never duplicated and never silently lost.

        Calls ``POST /api/v3/order`` (weight 1, 0 when it succeeds; adds 1 to the unfilled
        order count). Before sending, the order is checked against the symbol's filters from
        ``GET /api/v3/exchangeInfo`` (cached; turn off with ``Client(validate_orders=False)``).
        A ``newClientOrderId`` is always set. If no answer arrives (timeout, dropped connection,
        5xx), the order is looked up with ``GET /api/v3/order`` by ``origClientOrderId``: if it
        exists you get it (reshaped like the answer you asked for); if it provably never will
        (its ``timestamp + recvWindow`` has passed) it is sent again with the same id;
        otherwise `BinanceOrderStatusUnknownException` carries the id.

        Prices and quantities may be ``Decimal``, ``str``, ``int`` or ``float``; they are sent
        as plain decimal strings.

        Args:
            symbol: e.g. ``"BNBBTC"``.
            side: ``Client.SIDE_BUY`` / ``SIDE_SELL``.
            type: ``Client.ORDER_TYPE_LIMIT``, ``ORDER_TYPE_MARKET``...
            timeInForce: required for limit orders (``GTC``, ``IOC``, ``FOK``).
            quantity: base quantity.
            price: limit price.
            newClientOrderId: your id for the order (generated when absent).
            stopPrice: trigger price of stop orders.
            icebergQty: visible quantity of an iceberg order (needs ``GTC``).
            newOrderRespType: ``ACK``, ``RESULT`` or ``FULL`` (default FULL for MARKET and
                LIMIT, ACK otherwise).
            recvWindow: milliseconds the request stays valid (default 5000, max 60000).
            quoteOrderQty: for MARKET orders: spend or receive this much quote asset.

        Raises:
            BinanceOrderException: a subclass naming the failed filter, before sending.
            BinanceAPIException: Binance rejected the order.
            BinanceOrderStatusUnknownException: the order's fate could not be established.
        """
        return self._order(
            E.ORDER,
            params,
            symbol=symbol,
            side=side,
            type=type,
            timeInForce=timeInForce,
            quantity=quantity,
            quoteOrderQty=quoteOrderQty,
            price=price,
            newClientOrderId=newClientOrderId,
            stopPrice=stopPrice,
            trailingDelta=trailingDelta,
            icebergQty=icebergQty,
            newOrderRespType=newOrderRespType,
            selfTradePreventionMode=selfTradePreventionMode,
            strategyId=strategyId,
            strategyType=strategyType,
            recvWindow=recvWindow,
        )

    @_uses(E.ORDER, E.EXCHANGE_INFO, E.GET_ORDER)
    def order_limit(
        self,
        symbol: str,
        side: str,
        quantity: NumberLike,
        price: NumberLike,
        timeInForce: str = enums.TIME_IN_FORCE_GTC,
        **params: Any,
    ) -> R:
        """Place a limit order (good till cancelled unless ``timeInForce`` says otherwise).

        Calls ``POST /api/v3/order`` with ``type=LIMIT``; see `create_order`.
        """
        return self.create_order(
            symbol=symbol,
            side=side,
            type=enums.ORDER_TYPE_LIMIT,
            timeInForce=timeInForce,
            quantity=quantity,
            price=price,
            **params,
        )

    @_uses(E.ORDER, E.EXCHANGE_INFO, E.GET_ORDER)
    def order_limit_buy(
        self,
        symbol: str,
        quantity: NumberLike,
        price: NumberLike,
        timeInForce: str = enums.TIME_IN_FORCE_GTC,
        **params: Any,
    ) -> R:
        """Place a limit buy order.

        Calls ``POST /api/v3/order`` with ``side=BUY``, ``type=LIMIT``; see `create_order`.
        """
        return self.order_limit(symbol, enums.SIDE_BUY, quantity, price, timeInForce, **params)

    @_uses(E.ORDER, E.EXCHANGE_INFO, E.GET_ORDER)
    def order_limit_sell(
        self,
        symbol: str,
        quantity: NumberLike,
        price: NumberLike,
        timeInForce: str = enums.TIME_IN_FORCE_GTC,
        **params: Any,
    ) -> R:
        """Place a limit sell order.

        Calls ``POST /api/v3/order`` with ``side=SELL``, ``type=LIMIT``; see `create_order`.
        """
        return self.order_limit(symbol, enums.SIDE_SELL, quantity, price, timeInForce, **params)

    @_uses(E.ORDER, E.EXCHANGE_INFO, E.GET_ORDER)
    def order_market(
        self,
        symbol: str,
        side: str,
        quantity: NumberLike | None = None,
        quoteOrderQty: NumberLike | None = None,
        **params: Any,
    ) -> R:
        """Place a market order, by base ``quantity`` or by ``quoteOrderQty``.

        Calls ``POST /api/v3/order`` with ``type=MARKET``; see `create_order`.
        """
        return self.create_order(
            symbol=symbol,
            side=side,
            type=enums.ORDER_TYPE_MARKET,
            quantity=quantity,
            quoteOrderQty=quoteOrderQty,
            **params,
        )

    @_uses(E.ORDER, E.EXCHANGE_INFO, E.GET_ORDER)
    def order_market_buy(
        self,
        symbol: str,
        quantity: NumberLike | None = None,
        quoteOrderQty: NumberLike | None = None,
        **params: Any,
    ) -> R:
        """Place a market buy order.

        Calls ``POST /api/v3/order`` with ``side=BUY``, ``type=MARKET``; see `create_order`.
        """
        return self.order_market(symbol, enums.SIDE_BUY, quantity, quoteOrderQty, **params)

    @_uses(E.ORDER, E.EXCHANGE_INFO, E.GET_ORDER)
    def order_market_sell(
        self,
        symbol: str,
        quantity: NumberLike | None = None,
        quoteOrderQty: NumberLike | None = None,
        **params: Any,
    ) -> R:
        """Place a market sell order.

        Calls ``POST /api/v3/order`` with ``side=SELL``, ``type=MARKET``; see `create_order`.
        """
        return self.order_market(symbol, enums.SIDE_SELL, quantity, quoteOrderQty, **params)

    @_uses(E.ORDER_TEST, E.EXCHANGE_INFO)
    def create_test_order(
        self,
        symbol: str,
        side: str,
        type: str,
        timeInForce: str | None = None,
        quantity: NumberLike | None = None,
        price: NumberLike | None = None,
        newClientOrderId: str | None = None,
        stopPrice: NumberLike | None = None,
        icebergQty: NumberLike | None = None,
        newOrderRespType: str | None = None,
        recvWindow: int | None = None,
        quoteOrderQty: NumberLike | None = None,
        computeCommissionRates: bool | None = None,
        **params: Any,
    ) -> R:
        """Validate an order (signature, filters, balance rules) without placing it.

        Calls ``POST /api/v3/order/test`` (weight 1; 20 with ``computeCommissionRates``), after
        the same client-side filter checks as `create_order`. Returns ``{}`` (or the commission
        rates).
        """
        return self._order(
            E.ORDER_TEST,
            params,
            symbol=symbol,
            side=side,
            type=type,
            timeInForce=timeInForce,
            quantity=quantity,
            quoteOrderQty=quoteOrderQty,
            price=price,
            newClientOrderId=newClientOrderId,
            stopPrice=stopPrice,
            icebergQty=icebergQty,
            newOrderRespType=newOrderRespType,
            computeCommissionRates=computeCommissionRates,
            recvWindow=recvWindow,
        )

    @_uses(E.GET_ORDER)
    def get_order(
        self,
        symbol: str,
        orderId: int | None = None,
        origClientOrderId: str | None = None,
        recvWindow: int | None = None,
        **params: Any,
    ) -> R:
        """One order's state, by ``orderId`` or by ``origClientOrderId``.

        Calls ``GET /api/v3/order`` (weight 4).
        """
        return self._call(
            E.GET_ORDER,
            params,
            symbol=symbol,
            orderId=orderId,
            origClientOrderId=origClientOrderId,
            recvWindow=recvWindow,
        )

    @_uses(E.CANCEL_ORDER)
    def cancel_order(
        self,
        symbol: str,
        orderId: int | None = None,
        origClientOrderId: str | None = None,
        newClientOrderId: str | None = None,
        recvWindow: int | None = None,
        cancelRestrictions: str | None = None,
        **params: Any,
    ) -> R:
        """Cancel an active order, by ``orderId`` or ``origClientOrderId``.

        Calls ``DELETE /api/v3/order`` (weight 1, 0 when it succeeds).
        """
        return self._call(
            E.CANCEL_ORDER,
            params,
            symbol=symbol,
            orderId=orderId,
            origClientOrderId=origClientOrderId,
            newClientOrderId=newClientOrderId,
            cancelRestrictions=cancelRestrictions,
            recvWindow=recvWindow,
        )

    @_uses(E.CANCEL_OPEN_ORDERS)
    def cancel_all_open_orders(
        self, symbol: str, recvWindow: int | None = None, **params: Any
    ) -> R:
        """Cancel every open order (and order list) on a symbol; returns what was cancelled.

        Calls ``DELETE /api/v3/openOrders`` (weight 1, 0 when it succeeds).
        """
        return self._call(E.CANCEL_OPEN_ORDERS, params, symbol=symbol, recvWindow=recvWindow)

    @_uses(E.CANCEL_REPLACE, E.EXCHANGE_INFO)
    def cancel_replace_order(
        self,
        symbol: str,
        side: str,
        type: str,
        cancelReplaceMode: str,
        cancelOrderId: int | None = None,
        cancelOrigClientOrderId: str | None = None,
        timeInForce: str | None = None,
        quantity: NumberLike | None = None,
        price: NumberLike | None = None,
        newClientOrderId: str | None = None,
        stopPrice: NumberLike | None = None,
        recvWindow: int | None = None,
        **params: Any,
    ) -> R:
        """Cancel an order and place a new one in one request.

        Calls ``POST /api/v3/order/cancelReplace`` (weight 1, 0 when it succeeds). The new
        order is checked against the filters and gets a ``newClientOrderId``; when the outcome
        is unknown `BinanceOrderStatusUnknownException` carries that id (nothing is resent).

        Args:
            cancelReplaceMode: ``STOP_ON_FAILURE`` or ``ALLOW_FAILURE``.
            cancelOrderId: the order to cancel (or ``cancelOrigClientOrderId``).
        """
        options = params.pop("requests_params", None)
        wire = _wire(
            {
                "symbol": symbol,
                "side": side,
                "type": type,
                "cancelReplaceMode": cancelReplaceMode,
                "cancelOrderId": cancelOrderId,
                "cancelOrigClientOrderId": cancelOrigClientOrderId,
                "timeInForce": timeInForce,
                "quantity": quantity,
                "price": price,
                "newClientOrderId": newClientOrderId,
                "stopPrice": stopPrice,
                "recvWindow": recvWindow,
            },
            params,
        )
        return self._run(_flows.cancel_replace(self._ctx, wire, options))

    @_uses(E.OPEN_ORDERS)
    def get_open_orders(
        self, symbol: str | None = None, recvWindow: int | None = None, **params: Any
    ) -> R:
        """Open orders on one symbol, or on all symbols.

        Calls ``GET /api/v3/openOrders`` (weight 6 with a symbol, 80 without).
        """
        return self._call(E.OPEN_ORDERS, params, symbol=symbol, recvWindow=recvWindow)

    @_uses(E.ALL_ORDERS)
    def get_all_orders(
        self,
        symbol: str,
        orderId: int | None = None,
        startTime: int | None = None,
        endTime: int | None = None,
        limit: int | None = None,
        recvWindow: int | None = None,
        **params: Any,
    ) -> R:
        """All orders of a symbol: open, cancelled or filled (from ``orderId`` on).

        Calls ``GET /api/v3/allOrders`` (weight 20).
        """
        return self._call(
            E.ALL_ORDERS,
            params,
            symbol=symbol,
            orderId=orderId,
            startTime=startTime,
            endTime=endTime,
            limit=limit,
            recvWindow=recvWindow,
        )

    @_uses(E.RATE_LIMIT_ORDER)
    def get_current_order_count(self, recvWindow: int | None = None, **params: Any) -> R:
        """The account's unfilled-order counts against each ORDERS limit.

        Calls ``GET /api/v3/rateLimit/order`` (weight 40).
        """
        return self._call(E.RATE_LIMIT_ORDER, params, recvWindow=recvWindow)

    # -- account -----------------------------------------------------------------------------------

    @_uses(E.ACCOUNT)
    def get_account(
        self,
        recvWindow: int | None = None,
        omitZeroBalances: bool | None = None,
        **params: Any,
    ) -> R:
        """Account information: commissions, permissions and ``balances``.

        Calls ``GET /api/v3/account`` (weight 20).
        """
        return self._call(
            E.ACCOUNT, params, omitZeroBalances=omitZeroBalances, recvWindow=recvWindow
        )

    @_uses(E.ACCOUNT)
    def get_asset_balance(self, asset: str, recvWindow: int | None = None, **params: Any) -> R:
        """One asset's balance ``{"asset", "free", "locked"}``, or None if the account has none.

        Calls ``GET /api/v3/account`` (weight 20) and picks the asset.
        """
        options = params.pop("requests_params", None)
        wire = _wire({"recvWindow": recvWindow}, params)
        flow = _flows.call(self._ctx, E.ACCOUNT, wire, options)
        return self._run(_flows.mapped(flow, _first_balance(asset)))

    @_uses(E.MY_TRADES)
    def get_my_trades(
        self,
        symbol: str,
        orderId: int | None = None,
        startTime: int | None = None,
        endTime: int | None = None,
        fromId: int | None = None,
        limit: int | None = None,
        recvWindow: int | None = None,
        **params: Any,
    ) -> R:
        """The account's trades on a symbol.

        Calls ``GET /api/v3/myTrades`` (weight 20; 5 with ``orderId``).
        """
        return self._call(
            E.MY_TRADES,
            params,
            symbol=symbol,
            orderId=orderId,
            startTime=startTime,
            endTime=endTime,
            fromId=fromId,
            limit=limit,
            recvWindow=recvWindow,
        )

    @_uses(E.ACCOUNT_COMMISSION)
    def get_account_commission(
        self, symbol: str, recvWindow: int | None = None, **params: Any
    ) -> R:
        """The account's commission rates on a symbol (standard, tax, discount).

        Calls ``GET /api/v3/account/commission`` (weight 20).
        """
        return self._call(E.ACCOUNT_COMMISSION, params, symbol=symbol, recvWindow=recvWindow)

    @_uses(E.ACCOUNT_STATUS)
    def get_account_status(self, recvWindow: int | None = None, **params: Any) -> R:
        """Account status: ``{"data": "Normal"}``.

        Calls ``GET /sapi/v1/account/status`` (weight 1); the seed's
        ``/wapi/v3/accountStatus.html`` was delisted in 2021. Failures raise
        `BinanceWithdrawException` as the seed's did.
        """
        return self._call(E.ACCOUNT_STATUS, params, recvWindow=recvWindow)

    @_uses(E.API_TRADING_STATUS)
    def get_account_api_trading_status(self, recvWindow: int | None = None, **params: Any) -> R:
        """Whether API trading is locked for the account, and the indicators behind it.

        Calls ``GET /sapi/v1/account/apiTradingStatus`` (weight 1).
        """
        return self._call(E.API_TRADING_STATUS, params, recvWindow=recvWindow)

    @_uses(E.ASSET_DETAIL)
    def get_asset_details(
        self, asset: str | None = None, recvWindow: int | None = None, **params: Any
    ) -> R:
        """Deposit/withdraw status, minimum withdrawal and fee, per asset.

        Calls ``GET /sapi/v1/asset/assetDetail`` (weight 1).
        """
        return self._call(E.ASSET_DETAIL, params, asset=asset, recvWindow=recvWindow)

    @_uses(E.ASSET_TRADE_FEE)
    def get_trade_fee(
        self, symbol: str | None = None, recvWindow: int | None = None, **params: Any
    ) -> R:
        """Maker and taker commission per symbol.

        Calls ``GET /sapi/v1/asset/tradeFee`` (weight 1).
        """
        return self._call(E.ASSET_TRADE_FEE, params, symbol=symbol, recvWindow=recvWindow)

    @_uses(E.CAPITAL_CONFIG_GETALL)
    def get_all_coins_info(self, recvWindow: int | None = None, **params: Any) -> R:
        """Every coin the account can hold: balances, networks, fees, withdraw limits.

        Calls ``GET /sapi/v1/capital/config/getall`` (weight 10).
        """
        return self._call(E.CAPITAL_CONFIG_GETALL, params, recvWindow=recvWindow)

    # -- wallet ------------------------------------------------------------------------------------

    @_uses(E.CAPITAL_WITHDRAW_APPLY, E.CAPITAL_WITHDRAW_HISTORY)
    def withdraw(
        self,
        asset: str | None = None,
        address: str | None = None,
        amount: NumberLike | None = None,
        addressTag: str | None = None,
        name: str | None = None,
        recvWindow: int | None = None,
        *,
        coin: str | None = None,
        network: str | None = None,
        withdrawOrderId: str | None = None,
        **params: Any,
    ) -> R:
        """Withdraw ``amount`` of ``asset`` to ``address``; returns ``{"id": ...}``.

        Calls ``POST /sapi/v1/capital/withdraw/apply`` (weight 900 per account); the seed's
        ``/wapi/v3/withdraw.html`` was delisted in 2021. The seed's ``asset`` is sent as today's
        ``coin``; ``name`` (the address label) defaults to the asset, as in the seed. A
        ``withdrawOrderId`` is always set; if no answer arrives, the withdrawal is looked up in
        ``GET /sapi/v1/capital/withdraw/history`` by that id and never sent twice (if it cannot
        be found, `BinanceOrderStatusUnknownException` carries the id).

        Example::

            client.withdraw(asset="ETH", address="<eth_address>", amount=100)
            client.withdraw(asset="XRP", address="<xrp_address>", addressTag="<tag>",
                            amount=10000)

        Raises:
            BinanceWithdrawException: Binance refused the withdrawal.
        """
        coin_name = _coin(asset, coin)
        if coin_name is None or address is None or amount is None:
            raise ValueError("withdraw needs asset (or coin), address and amount")
        options = params.pop("requests_params", None)
        wire = _wire(
            {
                "coin": coin_name,
                "address": address,
                "amount": amount,
                "addressTag": addressTag,
                "name": name if name is not None else coin_name,
                "network": network,
                "withdrawOrderId": withdrawOrderId,
                "recvWindow": recvWindow,
            },
            params,
        )
        return self._run(_flows.withdraw(self._ctx, wire, options))

    @_uses(E.CAPITAL_DEPOSIT_HISREC)
    def get_deposit_history(
        self,
        asset: str | None = None,
        status: int | None = None,
        startTime: int | None = None,
        endTime: int | None = None,
        recvWindow: int | None = None,
        *,
        coin: str | None = None,
        **params: Any,
    ) -> R:
        """Deposits, newest first, as a list (the seed's ``{"depositList": [...]}`` is gone).

        Calls ``GET /sapi/v1/capital/deposit/hisrec`` (weight 1); the seed's
        ``/wapi/v3/depositHistory.html`` was delisted in 2021. ``asset`` is sent as ``coin``.
        """
        return self._call(
            E.CAPITAL_DEPOSIT_HISREC,
            params,
            coin=_coin(asset, coin),
            status=status,
            startTime=startTime,
            endTime=endTime,
            recvWindow=recvWindow,
        )

    @_uses(E.CAPITAL_WITHDRAW_HISTORY)
    def get_withdraw_history(
        self,
        asset: str | None = None,
        status: int | None = None,
        startTime: int | None = None,
        endTime: int | None = None,
        recvWindow: int | None = None,
        *,
        coin: str | None = None,
        **params: Any,
    ) -> R:
        """Withdrawals as a list (the seed's ``{"withdrawList": [...]}`` is gone).

        Calls ``GET /sapi/v1/capital/withdraw/history`` (weight 18000 per account, at most
        10 per second); the seed's ``/wapi/v3/withdrawHistory.html`` was delisted in 2021.
        ``asset`` is sent as ``coin``.
        """
        return self._call(
            E.CAPITAL_WITHDRAW_HISTORY,
            params,
            coin=_coin(asset, coin),
            status=status,
            startTime=startTime,
            endTime=endTime,
            recvWindow=recvWindow,
        )

    @_uses(E.CAPITAL_DEPOSIT_ADDRESS)
    def get_deposit_address(
        self,
        asset: str | None = None,
        recvWindow: int | None = None,
        *,
        coin: str | None = None,
        network: str | None = None,
        **params: Any,
    ) -> R:
        """A deposit address: ``{"address", "coin", "tag", "url"}`` (the seed's ``addressTag``
        is now ``tag``).

        Calls ``GET /sapi/v1/capital/deposit/address`` (weight 10); the seed's
        ``/wapi/v3/depositAddress.html`` was delisted in 2021. ``asset`` is sent as ``coin``.
        """
        return self._call(
            E.CAPITAL_DEPOSIT_ADDRESS,
            params,
            coin=_coin(asset, coin),
            network=network,
            recvWindow=recvWindow,
        )

    # -- user data stream (legacy) -----------------------------------------------------------------

    @_uses(E.USER_DATA_STREAM_START)
    def stream_get_listen_key(self, **params: Any) -> R:
        """Dead on Binance since 2026-02-20: start a listenKey user data stream.

        Calls ``POST /api/v3/userDataStream`` (weight 2) and returns the ``listenKey`` string.
        Binance switched the Spot listenKey endpoints off on 2026-02-20; they only work against
        servers that still offer them (such as ``binance.sim``). The replacement is the
        WebSocket API's ``userDataStream.subscribe`` (after ``session.logon``) or
        ``userDataStream.subscribe.signature``, which ``BinanceSocketManager.start_user_socket``
        uses. Emits a ``DeprecationWarning``.
        """
        _warn_listen_key("stream_get_listen_key")
        options = params.pop("requests_params", None)
        flow = _flows.call(self._ctx, E.USER_DATA_STREAM_START, params, options)
        return self._run(_flows.mapped(flow, lambda data: data.get("listenKey")))

    @_uses(E.USER_DATA_STREAM_KEEPALIVE)
    def stream_keepalive(self, listenKey: str, **params: Any) -> R:
        """Dead on Binance since 2026-02-20: extend a listenKey by 60 minutes.

        Calls ``PUT /api/v3/userDataStream`` (weight 2). See `stream_get_listen_key` for
        what replaced listenKeys (the WebSocket API's ``userDataStream.subscribe``).
        """
        _warn_listen_key("stream_keepalive")
        return self._call(E.USER_DATA_STREAM_KEEPALIVE, params, listenKey=listenKey)

    @_uses(E.USER_DATA_STREAM_CLOSE)
    def stream_close(self, listenKey: str, **params: Any) -> R:
        """Dead on Binance since 2026-02-20: close a listenKey.

        Calls ``DELETE /api/v3/userDataStream`` (weight 2). See `stream_get_listen_key` for
        what replaced listenKeys (the WebSocket API's ``userDataStream.subscribe``).
        """
        _warn_listen_key("stream_close")
        return self._call(E.USER_DATA_STREAM_CLOSE, params, listenKey=listenKey)


def _warn_listen_key(name: str) -> None:
    warnings.warn(
        f"{name}(): Binance retired Spot listenKeys on 2026-02-20; use the WebSocket API's "
        "userDataStream.subscribe (BinanceSocketManager.start_user_socket does)",
        DeprecationWarning,
        stacklevel=3,
    )
