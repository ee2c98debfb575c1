"""Every Binance endpoint we use, described once: method, path, security, weight, parameters.

This table is a shared fact. The client reads it to build and sign requests and to ask its weight
governor before sending; the simulator reads it to route, authenticate, charge weight and reject
unknown or missing parameters with Binance's codes. Weights and rules are from NOTES.md §3-§4
(Binance docs, 2026). Parameter names here are wire names (Binance's camelCase); the Python
names live in ``_api.py``.

No I/O here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Union

__all__ = ["Security", "Endpoint", "ENDPOINTS", "BY_ROUTE", "BY_WS_METHOD"]


class Security(str, Enum):
    """Binance's endpoint security types (NOTES.md §1.3)."""

    NONE = "NONE"
    TRADE = "TRADE"
    USER_DATA = "USER_DATA"
    USER_STREAM = "USER_STREAM"  # legacy listenKey calls: API key header, no signature

    @property
    def signed(self) -> bool:
        return self in (Security.TRADE, Security.USER_DATA)

    @property
    def needs_key(self) -> bool:
        return self is not Security.NONE


Params = Mapping[str, Any]
Weight = Union[int, Callable[[Params], int]]  # noqa: UP007 (runtime alias, py3.10)


@dataclass(frozen=True)
class Endpoint:
    """One REST endpoint.

    Attributes:
        method: HTTP method.
        path: path below the host, e.g. ``/api/v3/depth``.
        security: who may call it and whether it is signed.
        weight: request weight, or a function of the wire parameters (e.g. depth by limit).
        required: wire parameters that must be present (``timestamp``/``signature`` excluded).
        optional: other accepted wire parameters (``recvWindow`` is implied for signed ones).
        one_of: groups of parameters of which exactly one is required (e.g. orderId or
            origClientOrderId); ``-1102`` "Param '%s' or '%s' must be sent" when none is.
        uid_weight: True for /sapi endpoints weighted per account (UID) rather than per IP.
        order_count: unfilled-order count added by a successful call (ORDERS limiter).
        free_on_success: weight is 0 when the call succeeds (order placement/cancel since
            2026-04-02); failures still pay ``weight``.
        ws_method: the WebSocket API method with the same semantics, if any (NOTES.md §12).
    """

    method: str
    path: str
    security: Security
    weight: Weight = 1
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()
    uid_weight: bool = False
    order_count: int = 0
    free_on_success: bool = False
    ws_method: str | None = None
    accepted: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = set(self.required) | set(self.optional)
        for group in self.one_of:
            names |= set(group)
        if self.security.signed:
            names |= {"timestamp", "recvWindow", "signature"}
        object.__setattr__(self, "accepted", frozenset(names))

    @property
    def route(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def is_sapi(self) -> bool:
        return self.path.startswith("/sapi/")

    def weight_for(self, params: Params) -> int:
        """Request weight of a call with these wire parameters."""
        return self.weight(params) if callable(self.weight) else self.weight


# -- weight rules that depend on parameters -------------------------------------------------------


def _int(params: Params, name: str, default: int) -> int:
    try:
        return int(params.get(name, default))
    except (TypeError, ValueError):
        return default


def _symbol_count(params: Params) -> int | None:
    """Number of symbols in a ``symbols`` JSON array parameter, or None when absent."""
    symbols = params.get("symbols")
    if symbols is None:
        return None
    if isinstance(symbols, (list, tuple)):
        return len(symbols)
    return max(1, str(symbols).count(",") + 1)


def depth_weight(params: Params) -> int:
    """5 / 25 / 50 / 250 by ``limit`` (default 100, max 5000)."""
    limit = _int(params, "limit", 100)
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


def ticker_24hr_weight(params: Params) -> int:
    if "symbol" in params:
        return 2
    count = _symbol_count(params)
    if count is None:
        return 80
    if count <= 20:
        return 2
    if count <= 100:
        return 40
    return 80


def per_symbol_4_weight(params: Params) -> int:
    """ticker (rolling) and ticker/tradingDay: 4 per symbol, capped at 200 above 50 symbols."""
    count = _symbol_count(params)
    if count is None:
        return 4
    return 200 if count > 50 else 4 * count


def price_ticker_weight(params: Params) -> int:
    return 2 if "symbol" in params else 4


def open_orders_weight(params: Params) -> int:
    return 6 if "symbol" in params else 80


def my_trades_weight(params: Params) -> int:
    return 5 if "orderId" in params else 20


def order_test_weight(params: Params) -> int:
    return 20 if str(params.get("computeCommissionRates", "")).lower() == "true" else 1


# -- the endpoints --------------------------------------------------------------------------------

_ORDER_PARAMS = (
    "timeInForce",
    "quantity",
    "quoteOrderQty",
    "price",
    "newClientOrderId",
    "strategyId",
    "strategyType",
    "stopPrice",
    "trailingDelta",
    "icebergQty",
    "newOrderRespType",
    "selfTradePreventionMode",
)

PING = Endpoint("GET", "/api/v3/ping", Security.NONE, 1, ws_method="ping")
TIME = Endpoint("GET", "/api/v3/time", Security.NONE, 1, ws_method="time")
EXCHANGE_INFO = Endpoint(
    "GET",
    "/api/v3/exchangeInfo",
    Security.NONE,
    20,
    optional=("symbol", "symbols", "permissions", "showPermissionSets", "symbolStatus"),
    ws_method="exchangeInfo",
)
DEPTH = Endpoint(
    "GET",
    "/api/v3/depth",
    Security.NONE,
    depth_weight,
    required=("symbol",),
    optional=("limit", "symbolStatus"),
    ws_method="depth",
)
TRADES = Endpoint(
    "GET",
    "/api/v3/trades",
    Security.NONE,
    25,
    required=("symbol",),
    optional=("limit",),
    ws_method="trades.recent",
)
HISTORICAL_TRADES = Endpoint(
    "GET",
    "/api/v3/historicalTrades",
    Security.NONE,
    25,
    required=("symbol",),
    optional=("limit", "fromId"),
    ws_method="trades.historical",
)
AGG_TRADES = Endpoint(
    "GET",
    "/api/v3/aggTrades",
    Security.NONE,
    4,
    required=("symbol",),
    optional=("fromId", "startTime", "endTime", "limit"),
    ws_method="trades.aggregate",
)
KLINES = Endpoint(
    "GET",
    "/api/v3/klines",
    Security.NONE,
    2,
    required=("symbol", "interval"),
    optional=("startTime", "endTime", "timeZone", "limit"),
    ws_method="klines",
)
UI_KLINES = Endpoint(
    "GET",
    "/api/v3/uiKlines",
    Security.NONE,
    2,
    required=("symbol", "interval"),
    optional=("startTime", "endTime", "timeZone", "limit"),
    ws_method="uiKlines",
)
AVG_PRICE = Endpoint(
    "GET", "/api/v3/avgPrice", Security.NONE, 2, required=("symbol",), ws_method="avgPrice"
)
TICKER_24HR = Endpoint(
    "GET",
    "/api/v3/ticker/24hr",
    Security.NONE,
    ticker_24hr_weight,
    optional=("symbol", "symbols", "type", "symbolStatus"),
    ws_method="ticker.24hr",
)
TICKER_TRADING_DAY = Endpoint(
    "GET",
    "/api/v3/ticker/tradingDay",
    Security.NONE,
    per_symbol_4_weight,
    optional=("timeZone", "type", "symbolStatus"),
    one_of=(("symbol", "symbols"),),
    ws_method="ticker.tradingDay",
)
TICKER = Endpoint(
    "GET",
    "/api/v3/ticker",
    Security.NONE,
    per_symbol_4_weight,
    optional=("windowSize", "type", "symbolStatus"),
    one_of=(("symbol", "symbols"),),
    ws_method="ticker",
)
TICKER_PRICE = Endpoint(
    "GET",
    "/api/v3/ticker/price",
    Security.NONE,
    price_ticker_weight,
    optional=("symbol", "symbols", "symbolStatus"),
    ws_method="ticker.price",
)
TICKER_BOOK_TICKER = Endpoint(
    "GET",
    "/api/v3/ticker/bookTicker",
    Security.NONE,
    price_ticker_weight,
    optional=("symbol", "symbols", "symbolStatus"),
    ws_method="ticker.book",
)
ORDER = Endpoint(
    "POST",
    "/api/v3/order",
    Security.TRADE,
    1,
    required=("symbol", "side", "type"),
    optional=_ORDER_PARAMS,
    order_count=1,
    free_on_success=True,
    ws_method="order.place",
)
ORDER_TEST = Endpoint(
    "POST",
    "/api/v3/order/test",
    Security.TRADE,
    order_test_weight,
    required=("symbol", "side", "type"),
    optional=(*_ORDER_PARAMS, "computeCommissionRates"),
    ws_method="order.test",
)
GET_ORDER = Endpoint(
    "GET",
    "/api/v3/order",
    Security.USER_DATA,
    4,
    required=("symbol",),
    one_of=(("orderId", "origClientOrderId"),),
    ws_method="order.status",
)
CANCEL_ORDER = Endpoint(
    "DELETE",
    "/api/v3/order",
    Security.TRADE,
    1,
    required=("symbol",),
    optional=("newClientOrderId", "cancelRestrictions"),
    one_of=(("orderId", "origClientOrderId"),),
    free_on_success=True,
    ws_method="order.cancel",
)
CANCEL_REPLACE = Endpoint(
    "POST",
    "/api/v3/order/cancelReplace",
    Security.TRADE,
    1,
    required=("symbol", "side", "type", "cancelReplaceMode"),
    optional=(
        *_ORDER_PARAMS,
        "cancelNewClientOrderId",
        "cancelRestrictions",
        "orderRateLimitExceededMode",
    ),
    one_of=(("cancelOrderId", "cancelOrigClientOrderId"),),
    order_count=1,
    free_on_success=True,
    ws_method="order.cancelReplace",
)
OPEN_ORDERS = Endpoint(
    "GET",
    "/api/v3/openOrders",
    Security.USER_DATA,
    open_orders_weight,
    optional=("symbol",),
    ws_method="openOrders.status",
)
CANCEL_OPEN_ORDERS = Endpoint(
    "DELETE",
    "/api/v3/openOrders",
    Security.TRADE,
    1,
    required=("symbol",),
    free_on_success=True,
    ws_method="openOrders.cancelAll",
)
ALL_ORDERS = Endpoint(
    "GET",
    "/api/v3/allOrders",
    Security.USER_DATA,
    20,
    required=("symbol",),
    optional=("orderId", "startTime", "endTime", "limit"),
    ws_method="allOrders",
)
ACCOUNT = Endpoint(
    "GET",
    "/api/v3/account",
    Security.USER_DATA,
    20,
    optional=("omitZeroBalances",),
    ws_method="account.status",
)
MY_TRADES = Endpoint(
    "GET",
    "/api/v3/myTrades",
    Security.USER_DATA,
    my_trades_weight,
    required=("symbol",),
    optional=("orderId", "startTime", "endTime", "fromId", "limit"),
    ws_method="myTrades",
)
RATE_LIMIT_ORDER = Endpoint(
    "GET", "/api/v3/rateLimit/order", Security.USER_DATA, 40, ws_method="account.rateLimits.orders"
)
ACCOUNT_COMMISSION = Endpoint(
    "GET",
    "/api/v3/account/commission",
    Security.USER_DATA,
    20,
    required=("symbol",),
    ws_method="account.commission",
)
# Legacy listenKey endpoints: removed from Binance on 2026-02-20 (NOTES.md §0, §11).
USER_DATA_STREAM_START = Endpoint("POST", "/api/v3/userDataStream", Security.USER_STREAM, 2)
USER_DATA_STREAM_KEEPALIVE = Endpoint(
    "PUT", "/api/v3/userDataStream", Security.USER_STREAM, 2, required=("listenKey",)
)
USER_DATA_STREAM_CLOSE = Endpoint(
    "DELETE", "/api/v3/userDataStream", Security.USER_STREAM, 2, required=("listenKey",)
)

# -- /sapi wallet (NOTES.md §4.3) -----------------------------------------------------------------
SYSTEM_STATUS = Endpoint("GET", "/sapi/v1/system/status", Security.NONE, 1)
ACCOUNT_STATUS = Endpoint("GET", "/sapi/v1/account/status", Security.USER_DATA, 1)
API_TRADING_STATUS = Endpoint("GET", "/sapi/v1/account/apiTradingStatus", Security.USER_DATA, 1)
CAPITAL_CONFIG_GETALL = Endpoint("GET", "/sapi/v1/capital/config/getall", Security.USER_DATA, 10)
CAPITAL_WITHDRAW_APPLY = Endpoint(
    "POST",
    "/sapi/v1/capital/withdraw/apply",
    Security.USER_DATA,
    900,
    required=("coin", "address", "amount"),
    optional=(
        "withdrawOrderId",
        "network",
        "addressTag",
        "transactionFeeFlag",
        "name",
        "walletType",
    ),
    uid_weight=True,
)
CAPITAL_WITHDRAW_HISTORY = Endpoint(
    "GET",
    "/sapi/v1/capital/withdraw/history",
    Security.USER_DATA,
    18000,
    optional=(
        "coin",
        "withdrawOrderId",
        "status",
        "offset",
        "limit",
        "idList",
        "startTime",
        "endTime",
    ),
    uid_weight=True,
)
CAPITAL_DEPOSIT_HISREC = Endpoint(
    "GET",
    "/sapi/v1/capital/deposit/hisrec",
    Security.USER_DATA,
    1,
    optional=(
        "includeSource",
        "coin",
        "status",
        "startTime",
        "endTime",
        "offset",
        "limit",
        "txId",
    ),
)
CAPITAL_DEPOSIT_ADDRESS = Endpoint(
    "GET",
    "/sapi/v1/capital/deposit/address",
    Security.USER_DATA,
    10,
    required=("coin",),
    optional=("network", "amount"),
)
ASSET_DETAIL = Endpoint(
    "GET", "/sapi/v1/asset/assetDetail", Security.USER_DATA, 1, optional=("asset",)
)
ASSET_TRADE_FEE = Endpoint(
    "GET", "/sapi/v1/asset/tradeFee", Security.USER_DATA, 1, optional=("symbol",)
)

ENDPOINTS: tuple[Endpoint, ...] = tuple(
    value for value in dict(globals()).values() if isinstance(value, Endpoint)
)
BY_ROUTE: dict[tuple[str, str], Endpoint] = {e.route: e for e in ENDPOINTS}
BY_WS_METHOD: dict[str, Endpoint] = {e.ws_method: e for e in ENDPOINTS if e.ws_method}
