"""Endpoint implementations shared by the REST adapter and the WebSocket API.

``handle(ctx, endpoint, params, account)`` runs one request after transport-level work (rate
limits, authentication, faults) is done: it type-checks the wire parameters (``_params.py``),
calls the engine and returns the Binance JSON payload plus headers to add. It raises
``EngineError`` for every refusal, so both transports render the same codes and messages.
Rendering engine objects to Binance's JSON shapes is ``_render.py``'s job.

No HTTP or WebSocket objects here: aiohttp is not imported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from binance import _endpoints as ep
from binance import enums, errorcodes
from binance._endpoints import Endpoint
from binance.sim import _render as render
from binance.sim._auth import AccountRef
from binance.sim._context import SimContext
from binance.sim._params import prepare
from binance.sim.engine import EngineError
from binance.sim.engine.matching import CancelReplaceResult, OrderRequest

__all__ = ["handle", "AccountRef", "ErrorWithData", "HANDLERS"]

Payload = Any
"""A JSON-ready value (dicts, lists, strings, ints) as Binance sends it."""
Args = dict[str, Any]
Handler = Callable[[SimContext, Args, "AccountRef | None"], Any]

# NOTES.md §4.1: limits per endpoint (default, max). Larger values are served as the max
# (documented for depth; the simulator does the same elsewhere).
_DEPTH_LIMIT = (100, 5000)
_TRADES_LIMIT = (500, 1000)
_KLINES_LIMIT = (500, 1000)
_SYMBOLS_MAX = 100


class ErrorWithData(EngineError):
    """An error answered with a ``data`` object next to ``code`` and ``msg`` (cancelReplace)."""

    def __init__(self, error: EngineError, data: dict[str, Any]) -> None:
        super().__init__(error.error, error.message)
        self.data = data


def handle(
    ctx: SimContext,
    endpoint: Endpoint,
    params: dict[str, str],
    account: AccountRef | None,
) -> tuple[Payload, dict[str, str]]:
    """Run one endpoint and return ``(payload, extra_headers)``.

    Args:
        ctx: the server's shared context.
        endpoint: the entry from ``binance._endpoints`` being called.
        params: wire parameters exactly as received and percent-decoded, after duplicate
            detection and query-over-body merging (``_params.parse_wire``). ``timestamp``,
            ``recvWindow`` and ``signature`` may be present; they are already checked.
        account: the authenticated caller for signed/keyed endpoints, else ``None``.

    Returns:
        The JSON payload and extra response headers (e.g. ``X-MBX-ORDER-COUNT-10S``).

    Raises:
        EngineError: any Binance error (-11xx parameter errors, -1013 filters, -2010...).
    """
    args = prepare(endpoint, params)
    handler = HANDLERS.get(endpoint.route)
    if handler is None:
        raise EngineError(errorcodes.UNSUPPORTED_OPERATION)
    result = handler(ctx, args, account)
    if isinstance(result, _WithHeaders):
        return result.payload, result.headers
    return result, {}


class _WithHeaders:
    __slots__ = ("payload", "headers")

    def __init__(self, payload: Any, headers: dict[str, str]) -> None:
        self.payload = payload
        self.headers = headers


# -- helpers ------------------------------------------------------------------------------------


def _bad_combo() -> EngineError:
    return EngineError(errorcodes.OPTIONAL_PARAMS_BAD_COMBO)


def _limit(args: Args, bounds: tuple[int, int]) -> int:
    default, maximum = bounds
    return min(int(args.get("limit", default)), maximum)


def _account_id(account: AccountRef | None) -> str:
    assert account is not None, "signed endpoint without an account"
    return account.account_id


def _check_status(ctx: SimContext, symbol: str, args: Args) -> None:
    """``symbolStatus`` with one ``symbol``: -1220 when the symbol is in another status."""
    wanted = args.get("symbolStatus")
    if wanted is not None and ctx.exchange.symbol(symbol).status != wanted:
        raise EngineError(errorcodes.SYMBOL_DOES_NOT_MATCH_STATUS)


def _symbols_for(
    ctx: SimContext, args: Args, *, all_if_none: bool = True
) -> tuple[list[str], bool]:
    """The symbols a ticker call is about, and whether one ``symbol`` was asked for (an object
    is answered instead of a list). Unknown symbols are -1121."""
    symbol, symbols = args.get("symbol"), args.get("symbols")
    if symbol is not None and symbols is not None:
        raise _bad_combo()
    exchange = ctx.exchange
    if symbol is not None:
        exchange.symbol(symbol)
        _check_status(ctx, symbol, args)
        return [symbol], True
    if symbols is not None:
        if len(symbols) > _SYMBOLS_MAX:
            raise EngineError(
                errorcodes.INVALID_PARAMETER, errorcodes.INVALID_PARAMETER.msg("symbols")
            )
        for name in symbols:
            exchange.symbol(name)
        chosen = list(symbols)
    elif all_if_none:
        chosen = list(exchange.markets)
    else:  # pragma: no cover - one_of makes this unreachable
        raise EngineError(errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED)
    wanted = args.get("symbolStatus")
    if wanted is not None:
        chosen = [s for s in chosen if exchange.symbol(s).status == wanted]
    return chosen, False


def _engine_now(ctx: SimContext) -> int:
    """The engine's clock (it never runs backwards, unlike the skewed protocol clock)."""
    return int(ctx.exchange.now_ms())


def _one_or_list(items: list[Any], single: bool) -> Any:
    return items[0] if single else items


def _recheck_recv_window(ctx: SimContext, account: AccountRef | None, orders: int = 0) -> None:
    """NOTES.md §1.4: the timestamp is checked again just before the matching engine; this
    rejection counts toward the unfilled-order count."""
    if account is not None and not account.within_recv_window(ctx.now_ms()):
        if orders:
            ctx.limits.add_orders(account.account_id, orders, ctx.now_ms())
        raise EngineError(errorcodes.INVALID_TIMESTAMP)


def _order_request(ctx: SimContext, args: Args) -> OrderRequest:
    """The engine's order request, after the precision check (-1111) against the symbol's
    asset precisions."""
    spec = ctx.exchange.symbol(args["symbol"])
    for names, places in (
        (("quantity", "icebergQty"), spec.base_asset_precision),
        (("price", "stopPrice", "quoteOrderQty"), spec.quote_asset_precision),
    ):
        for name in names:
            value = args.get(name)
            if value is not None:
                exponent = value.normalize().as_tuple().exponent
                if isinstance(exponent, int) and -exponent > places:
                    raise EngineError(errorcodes.BAD_PRECISION, errorcodes.BAD_PRECISION.msg(name))
    return OrderRequest(
        symbol=args["symbol"],
        side=args["side"],
        type=args["type"],
        time_in_force=args.get("timeInForce"),
        quantity=args.get("quantity"),
        quote_order_qty=args.get("quoteOrderQty"),
        price=args.get("price"),
        stop_price=args.get("stopPrice"),
        iceberg_qty=args.get("icebergQty"),
        new_client_order_id=args.get("newClientOrderId"),
        new_order_resp_type=args.get("newOrderRespType"),
        self_trade_prevention_mode=args.get("selfTradePreventionMode"),
        strategy_id=args.get("strategyId"),
        strategy_type=args.get("strategyType"),
        trailing_delta=args.get("trailingDelta"),
    )


# -- general and market data -------------------------------------------------------------------


def _ping(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    return {}


def _time(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    return {"serverTime": ctx.now_ms()}


def _exchange_info(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    from binance.sim.engine.markets import exchange_info

    if "symbol" in args and "symbols" in args:
        raise _bad_combo()
    exchange = ctx.exchange
    return exchange_info(
        args.get("symbols"),
        args.get("permissions"),
        args.get("symbolStatus"),
        now_ms=ctx.now_ms(),
        rate_limits=ctx.limits.rate_limits(),
        symbol=args.get("symbol"),
        show_permission_sets=args.get("showPermissionSets", True),
        markets=list(exchange.markets.values()),
    )


def _depth(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    symbol = args["symbol"]
    ctx.exchange.symbol(symbol)
    _check_status(ctx, symbol, args)
    # NOTES.md §4.1: limit above 5000 is served as 5000.
    return render.depth(ctx.exchange.depth(symbol, _limit(args, _DEPTH_LIMIT)))


def _trades(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    trades = ctx.exchange.recent_trades(args["symbol"], _limit(args, _TRADES_LIMIT))
    return [render.trade(t) for t in trades]


def _historical_trades(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    trades = ctx.exchange.historical_trades(
        args["symbol"], args.get("fromId"), _limit(args, _TRADES_LIMIT)
    )
    return [render.trade(t) for t in trades]


def _agg_trades(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    symbol = args["symbol"]
    ctx.exchange.symbol(symbol)
    if "fromId" in args and ("startTime" in args or "endTime" in args):
        raise _bad_combo()
    start, end = args.get("startTime"), args.get("endTime")
    if start is not None and end is not None and start > end:
        raise _bad_combo()
    trades = ctx.exchange.agg_trades(
        symbol, args.get("fromId"), start, end, _limit(args, _TRADES_LIMIT)
    )
    return [render.agg_trade(t) for t in trades]


def _klines(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    symbol = args["symbol"]
    ctx.exchange.symbol(symbol)
    history = ctx.exchange.klines
    query = {
        "start_ms": args.get("startTime"),
        "end_ms": args.get("endTime"),
        "limit": _limit(args, _KLINES_LIMIT),
        "tz_offset_ms": args.get("timeZone", 0) * 60_000,
        "now_ms": _engine_now(ctx),
    }
    interval = args["interval"]
    plan = history.plan(symbol, interval, **query)

    def build(first_open: int, count: int) -> list[list[object]]:
        part = {**query, "start_ms": first_open, "limit": count}
        return [k.to_row() for k in history.query(symbol, interval, **part)]

    # Settled history never changes: its rows are rendered once (binance.sim._kline_rows).
    key = (symbol, interval, query["tz_offset_ms"])
    return orjson.Fragment(ctx.kline_rows.page(key, plan, build))


def _stats(ctx: SimContext) -> Any:
    stats = getattr(ctx.exchange, "stats", None)
    if stats is None:  # pragma: no cover - the engine always has statistics
        raise EngineError(errorcodes.UNSUPPORTED_OPERATION)
    return stats


def _avg_price(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    symbol = args["symbol"]
    mins = ctx.exchange.symbol(symbol).avg_price_mins
    # None: never traded, no average (NOTES.md §6).
    return render.avg_price(mins, _stats(ctx).avg_price(symbol, mins, _engine_now(ctx)))


def _ticker_24hr(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    names, single = _symbols_for(ctx, args)
    mini = args.get("type") == enums.TICKER_TYPE_MINI
    now = _engine_now(ctx)
    stats = _stats(ctx)
    out = []
    for name in names:
        ticker = stats.ticker_24hr(name, now)
        book = None if mini else ctx.exchange.book_ticker(name)
        out.append(render.ticker(ticker, mini=mini, book=book))
    return _one_or_list(out, single)


def _ticker_window(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    names, single = _symbols_for(ctx, args, all_if_none=False)
    mini = args.get("type") == enums.TICKER_TYPE_MINI
    window_ms = args.get("windowSize", 86_400_000)
    now = _engine_now(ctx)
    stats = _stats(ctx)
    out = [render.ticker(stats.rolling(n, window_ms, now), mini=mini) for n in names]
    return _one_or_list(out, single)


def _ticker_trading_day(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    names, single = _symbols_for(ctx, args, all_if_none=False)
    mini = args.get("type") == enums.TICKER_TYPE_MINI
    tz_ms = args.get("timeZone", 0) * 60_000
    now = _engine_now(ctx)
    stats = _stats(ctx)
    out = [render.ticker(stats.trading_day(n, tz_ms, now), mini=mini) for n in names]
    return _one_or_list(out, single)


def _ticker_price(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    names, single = _symbols_for(ctx, args)
    exchange = ctx.exchange
    out = []
    for name in names:
        price = exchange.last_price(name)
        if price is None:  # not traded live yet: the price live trading starts from
            price = exchange.reference_price(name)
        out.append(render.price_ticker(name, price))
    return _one_or_list(out, single)


def _ticker_book(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    names, single = _symbols_for(ctx, args)
    exchange = ctx.exchange
    out = [render.book_ticker(exchange.book_ticker(n)) for n in names]
    return _one_or_list(out, single)


# -- trading ------------------------------------------------------------------------------------


def _new_order(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    account_id = _account_id(account)
    request = _order_request(ctx, args)
    limits = ctx.limits
    limits.admit_orders(account_id, 1, ctx.now_ms())
    _recheck_recv_window(ctx, account, orders=1)
    result = ctx.exchange.place_order(account_id, request)
    now = ctx.now_ms()
    limits.add_orders(account_id, 1, now)
    return _WithHeaders(render.new_order(result), limits.order_headers(account_id, now))


def _test_order(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    account_id = _account_id(account)
    request = _order_request(ctx, args)
    ctx.exchange.test_order(account_id, request)
    if args.get("computeCommissionRates"):
        rates = ctx.exchange.commission(account_id, request.symbol)
        return render.order_test_commission(rates)
    return {}


def _get_order(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    order = ctx.exchange.get_order(
        _account_id(account), args["symbol"], args.get("orderId"), args.get("origClientOrderId")
    )
    return render.order(order)


def _cancel_order(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    _recheck_recv_window(ctx, account)
    order = ctx.exchange.cancel_order(
        _account_id(account),
        args["symbol"],
        order_id=args.get("orderId"),
        orig_client_order_id=args.get("origClientOrderId"),
        new_client_order_id=args.get("newClientOrderId"),
        cancel_restrictions=args.get("cancelRestrictions"),
    )
    return render.canceled_order(order)


def _cancel_open_orders(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    _recheck_recv_window(ctx, account)
    orders = ctx.exchange.cancel_all(_account_id(account), args["symbol"])
    return [render.canceled_order(o) for o in orders]


def _cancel_replace(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    account_id = _account_id(account)
    symbol = args["symbol"]
    limits = ctx.limits
    now = ctx.now_ms()
    request = _order_request(ctx, args)
    cancel_kwargs = {
        "cancel_order_id": args.get("cancelOrderId"),
        "cancel_orig_client_order_id": args.get("cancelOrigClientOrderId"),
        "cancel_new_client_order_id": args.get("cancelNewClientOrderId"),
        "cancel_restrictions": args.get("cancelRestrictions"),
    }
    try:
        limits.admit_orders(account_id, 1, now)
    except EngineError as exceeded:
        # NOTES.md §4.1: DO_NOTHING (default) refuses everything with -1015; CANCEL_ONLY still
        # cancels and reports the new order's -1015 in ``data`` (HTTP 409, -2021).
        mode = args.get(
            "orderRateLimitExceededMode", enums.ORDER_RATE_LIMIT_EXCEEDED_MODE_DO_NOTHING
        )
        if mode != enums.ORDER_RATE_LIMIT_EXCEEDED_MODE_CANCEL_ONLY:
            raise
        _recheck_recv_window(ctx, account)
        ctx.exchange.test_order(account_id, request)
        try:
            canceled = ctx.exchange.cancel_order(
                account_id,
                symbol,
                order_id=cancel_kwargs["cancel_order_id"],
                orig_client_order_id=cancel_kwargs["cancel_orig_client_order_id"],
                new_client_order_id=cancel_kwargs["cancel_new_client_order_id"],
                cancel_restrictions=cancel_kwargs["cancel_restrictions"],
            )
        except EngineError as failed:
            outcome = CancelReplaceResult(
                "FAILURE", "FAILURE", cancel_error=failed, new_order_error=exceeded
            )
        else:
            outcome = CancelReplaceResult(
                "SUCCESS", "FAILURE", canceled=canceled, new_order_error=exceeded
            )
        _raise_cancel_replace(outcome)
    _recheck_recv_window(ctx, account, orders=1)
    result = ctx.exchange.cancel_replace(
        account_id, symbol, args["cancelReplaceMode"], request, **cancel_kwargs
    )
    now = ctx.now_ms()
    if result.new_order is not None:
        limits.add_orders(account_id, 1, now)
    _raise_cancel_replace(result)
    _, body = render.cancel_replace(result)
    return _WithHeaders(body, limits.order_headers(account_id, now))


def _raise_cancel_replace(result: CancelReplaceResult) -> None:
    """Raise -2021/-2022 with the outcome in ``data`` unless both steps succeeded."""
    error = result.error
    if error is not None:
        _, body = render.cancel_replace(result)
        raise ErrorWithData(error, body["data"])


def _open_orders(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    symbol = args.get("symbol")
    exchange = ctx.exchange
    if symbol is not None:
        exchange.symbol(symbol)
    orders = exchange.open_orders(_account_id(account), symbol)
    return [render.order(o) for o in orders]


def _all_orders(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    _check_time_span(args)
    orders = ctx.exchange.all_orders(
        _account_id(account),
        args["symbol"],
        order_id=args.get("orderId"),
        start_time=args.get("startTime"),
        end_time=args.get("endTime"),
        limit=_limit(args, _TRADES_LIMIT),
    )
    return [render.order(o) for o in orders]


def _check_time_span(args: Args) -> None:
    """NOTES.md §4.1: startTime..endTime at most 24 hours (-1127), start not after end."""
    start, end = args.get("startTime"), args.get("endTime")
    if start is not None and end is not None:
        if start > end:
            raise _bad_combo()
        if end - start > 24 * 3_600_000:
            raise EngineError(errorcodes.MORE_THAN_XX_HOURS, errorcodes.MORE_THAN_XX_HOURS.msg(24))


def _my_trades(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    symbol = args["symbol"]
    ctx.exchange.symbol(symbol)
    # NOTES.md §4.1: allowed combinations: symbol; +orderId; +startTime; +endTime; +fromId;
    # +startTime+endTime; +orderId+fromId.
    present = {k for k in ("orderId", "startTime", "endTime", "fromId") if k in args}
    allowed: tuple[set[str], ...] = (
        set(),
        {"orderId"},
        {"startTime"},
        {"endTime"},
        {"fromId"},
        {"startTime", "endTime"},
        {"orderId", "fromId"},
    )
    if present not in allowed:
        raise _bad_combo()
    _check_time_span(args)
    trades = ctx.exchange.my_trades(
        _account_id(account),
        symbol,
        order_id=args.get("orderId"),
        start_time=args.get("startTime"),
        end_time=args.get("endTime"),
        from_id=args.get("fromId"),
        limit=_limit(args, _TRADES_LIMIT),
    )
    return [render.my_trade(t) for t in trades]


def _account(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    info = ctx.exchange.account(_account_id(account))
    return render.account(info, omit_zero_balances=args.get("omitZeroBalances", False))


def _rate_limit_order(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    return ctx.limits.order_status(_account_id(account), ctx.now_ms())


def _account_commission(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    symbol = args["symbol"]
    rates = ctx.exchange.commission(_account_id(account), symbol)
    return render.account_commission(symbol, rates)


# -- legacy listenKey (NOTES.md §11) ------------------------------------------------------------


def _listen_keys(ctx: SimContext) -> Any:
    keys = ctx.listen_keys
    if keys is None:  # pragma: no cover - the server always sets it
        raise EngineError(errorcodes.UNSUPPORTED_OPERATION)
    return keys


def _user_stream_start(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    return {"listenKey": _listen_keys(ctx).create(_account_id(account), ctx.now_ms())}


def _user_stream_keepalive(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    _listen_keys(ctx).keepalive(args["listenKey"], ctx.now_ms(), _account_id(account))
    return {}


def _user_stream_close(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    _listen_keys(ctx).close(args["listenKey"], ctx.now_ms(), _account_id(account))
    return {}


# -- /sapi wallet ---------------------------------------------------------------------------------


def _wallet(ctx: SimContext) -> Any:
    wallet = getattr(ctx.exchange, "wallet", None)
    if wallet is None:
        raise EngineError(errorcodes.UNSUPPORTED_OPERATION)
    return wallet


def _system_status(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    # NOTES.md §4.3: 0 "normal" (1 "system_maintenance" is never simulated).
    return {"status": 0, "msg": "normal"}


def _account_status(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    ctx.exchange.account(_account_id(account))
    return {"data": "Normal"}


def _api_trading_status(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    return render.api_trading_status()


def _capital_config(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    account_id = _account_id(account)
    info = ctx.exchange.account(account_id)
    balances = {asset: (free, locked) for asset, free, locked in info.balances}
    return _wallet(ctx).coins_info(account_id, balances)


def _withdraw_apply(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    withdrawal_id = _wallet(ctx).withdraw(
        _account_id(account),
        coin=args["coin"],
        address=args["address"],
        amount=args["amount"],
        network=args.get("network"),
        address_tag=args.get("addressTag"),
        transaction_fee_flag=args.get("transactionFeeFlag", False),
        name=args.get("name"),
        withdraw_order_id=args.get("withdrawOrderId"),
        wallet_type=args.get("walletType", 0),
        now_ms=_engine_now(ctx),
    )
    return {"id": withdrawal_id}


def _withdraw_history(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    return _wallet(ctx).withdraw_history(
        _account_id(account),
        coin=args.get("coin"),
        withdraw_order_id=args.get("withdrawOrderId"),
        status=args.get("status"),
        offset=args.get("offset", 0),
        limit=args.get("limit", 1000),
        id_list=args.get("idList"),
        start_time=args.get("startTime"),
        end_time=args.get("endTime"),
        now_ms=_engine_now(ctx),
    )


def _deposit_history(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    return _wallet(ctx).deposit_history(
        _account_id(account),
        coin=args.get("coin"),
        status=args.get("status"),
        offset=args.get("offset", 0),
        limit=args.get("limit", 1000),
        start_time=args.get("startTime"),
        end_time=args.get("endTime"),
        tx_id=args.get("txId"),
        include_source=args.get("includeSource", False),
        now_ms=_engine_now(ctx),
    )


def _deposit_address(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    # ``amount`` only matters for LIGHTNING invoices, which the simulator does not offer.
    return _wallet(ctx).deposit_address(_account_id(account), args["coin"], args.get("network"))


def _asset_detail(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    return render.asset_detail(_wallet(ctx).asset_detail(args.get("asset")))


def _trade_fee(ctx: SimContext, args: Args, account: AccountRef | None) -> Any:
    symbol = args.get("symbol")
    exchange = ctx.exchange
    if symbol is not None:
        exchange.symbol(symbol)
    names = [symbol] if symbol is not None else list(exchange.markets)
    account_id = _account_id(account)
    return [render.trade_fee(name, exchange.commission(account_id, name)) for name in names]


HANDLERS: dict[tuple[str, str], Handler] = {
    ep.PING.route: _ping,
    ep.TIME.route: _time,
    ep.EXCHANGE_INFO.route: _exchange_info,
    ep.DEPTH.route: _depth,
    ep.TRADES.route: _trades,
    ep.HISTORICAL_TRADES.route: _historical_trades,
    ep.AGG_TRADES.route: _agg_trades,
    ep.KLINES.route: _klines,
    ep.UI_KLINES.route: _klines,
    ep.AVG_PRICE.route: _avg_price,
    ep.TICKER_24HR.route: _ticker_24hr,
    ep.TICKER_TRADING_DAY.route: _ticker_trading_day,
    ep.TICKER.route: _ticker_window,
    ep.TICKER_PRICE.route: _ticker_price,
    ep.TICKER_BOOK_TICKER.route: _ticker_book,
    ep.ORDER.route: _new_order,
    ep.ORDER_TEST.route: _test_order,
    ep.GET_ORDER.route: _get_order,
    ep.CANCEL_ORDER.route: _cancel_order,
    ep.CANCEL_REPLACE.route: _cancel_replace,
    ep.OPEN_ORDERS.route: _open_orders,
    ep.CANCEL_OPEN_ORDERS.route: _cancel_open_orders,
    ep.ALL_ORDERS.route: _all_orders,
    ep.ACCOUNT.route: _account,
    ep.MY_TRADES.route: _my_trades,
    ep.RATE_LIMIT_ORDER.route: _rate_limit_order,
    ep.ACCOUNT_COMMISSION.route: _account_commission,
    ep.USER_DATA_STREAM_START.route: _user_stream_start,
    ep.USER_DATA_STREAM_KEEPALIVE.route: _user_stream_keepalive,
    ep.USER_DATA_STREAM_CLOSE.route: _user_stream_close,
    ep.SYSTEM_STATUS.route: _system_status,
    ep.ACCOUNT_STATUS.route: _account_status,
    ep.API_TRADING_STATUS.route: _api_trading_status,
    ep.CAPITAL_CONFIG_GETALL.route: _capital_config,
    ep.CAPITAL_WITHDRAW_APPLY.route: _withdraw_apply,
    ep.CAPITAL_WITHDRAW_HISTORY.route: _withdraw_history,
    ep.CAPITAL_DEPOSIT_HISREC.route: _deposit_history,
    ep.CAPITAL_DEPOSIT_ADDRESS.route: _deposit_address,
    ep.ASSET_DETAIL.route: _asset_detail,
    ep.ASSET_TRADE_FEE.route: _trade_fee,
}
