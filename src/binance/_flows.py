"""Multi-step logic as generators, written once for the sync and the async client.

A flow is a generator that yields what it needs done and receives the outcome:

- it yields a `PreparedRequest`, and the driver sends it and sends back the `Reply` (or throws
  the transport's exception into the generator);
- it yields a `Wait`, and the driver sleeps that long (``time.sleep`` or ``asyncio.sleep``);
- it returns the call's result (``StopIteration.value``).

The drivers (``Client._run``, ``AsyncClient._run``) are a dozen lines each; everything with
judgement lives here, as in httpx's auth flows and websockets' ``backoff()``:

- `call`: the weight governor, the server clock, ``-1021`` re-sync and one retry (NOTES.md §1.4),
  one retry of a read after a dropped connection or a 429 (the governor has already waited out
  ``Retry-After``), limits learned from ``exchangeInfo`` answers.
- `place_order`: a ``newClientOrderId`` on every order, client-side filter checks, and, when the
  outcome is unknown (timeout, dropped connection, 5xx), a lookup by ``origClientOrderId`` before
  anything is sent again. The original request's ``timestamp + recvWindow`` bounds when it can
  still reach the matching engine (Binance re-checks the window just before the engine, NOTES.md
  §1.4), so an order that is absent after that instant can never appear: only then is it sent
  again, with the same client order id. If the lookup itself keeps failing, the flow raises
  `BinanceOrderStatusUnknownException` with the client order id; it never resends blindly.

No I/O here: no sockets, no sleeping, no event loop. Time comes from the `Context`'s clocks.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from binance import _endpoints as E
from binance import enums, errorcodes
from binance._clock import ServerClock, monotonic_ms
from binance._core import PreparedRequest, Reply, interpret, prepare
from binance._endpoints import Endpoint
from binance._governor import Governor, Ticket
from binance._signing import Signer
from binance._types import Json
from binance.exceptions import (
    BinanceAPIException,
    BinanceConnectionException,
    BinanceError,
    BinanceOrderException,
    BinanceOrderInactiveSymbolException,
    BinanceOrderMinAmountException,
    BinanceOrderMinPriceException,
    BinanceOrderMinTotalException,
    BinanceOrderStatusUnknownException,
    BinanceOrderUnknownSymbolException,
    BinanceParameterException,
    BinanceRateLimitException,
    BinanceRequestException,
    BinanceTransportException,
    _FilterOrderException,
)

__all__ = ["Wait", "Flow", "Context", "call", "place_order", "mapped", "new_client_order_id"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Wait:
    """Ask the driver to sleep ``seconds`` and then resume the flow."""

    seconds: float


#: A flow: yields requests and waits, receives replies, returns the result.
Flow = Generator[Any, Any, Any]


def new_client_order_id() -> str:
    """22 random URL-safe characters: inside Binance's ``^[a-zA-Z0-9-_]{1,36}$``."""
    return secrets.token_urlsafe(16)


class RulesCache:
    """Parsed exchangeInfo rules per symbol, refreshed after ``ttl_ms`` (thread-safe)."""

    def __init__(self, ttl_ms: int = 10 * 60 * 1000) -> None:
        self.ttl_ms = ttl_ms
        self._lock = threading.Lock()
        self._rules: dict[str, tuple[Any, int]] = {}

    def get(self, symbol: str, now_ms: int) -> Any | None:
        with self._lock:
            entry = self._rules.get(symbol)
        if entry is None or now_ms - entry[1] > self.ttl_ms:
            return None
        return entry[0]

    def put(self, symbol: str, rules: Any, now_ms: int) -> None:
        with self._lock:
            self._rules[symbol] = (rules, now_ms)

    def drop(self, symbol: str) -> None:
        """Forget a symbol's rules (the server disagreed with them: they may have changed)."""
        with self._lock:
            self._rules.pop(symbol, None)


@dataclass
class Context:
    """Everything a flow needs besides I/O: where, who, budgets, clocks, policies.

    Attributes:
        base_url: scheme://host[:port] of the REST API.
        api_key: the API key (sent as ``X-MBX-APIKEY``), or None.
        signer: signs signed requests (HMAC, RSA or Ed25519), or None.
        governor: the weight budget shared by all clients of this host.
        clock: the server clock estimate shared by all clients of this host.
        mono_ms: local monotonic clock in ms.
        new_id: makes a ``newClientOrderId``.
        validate_orders: check orders against the symbol's filters before sending.
        rules: the cache of parsed exchangeInfo rules.
        lookup_margin_ms: extra wait past ``timestamp + recvWindow`` before concluding that an
            order whose outcome was unknown does not exist.
        max_lookups: failed lookups before giving up with BinanceOrderStatusUnknownException.
        max_resends: how many times a proven-absent order may be sent again.
    """

    base_url: str
    api_key: str | None = None
    signer: Signer | None = None
    governor: Governor = field(default_factory=Governor)
    clock: ServerClock = field(default_factory=ServerClock)
    mono_ms: Callable[[], int] = monotonic_ms
    new_id: Callable[[], str] = new_client_order_id
    validate_orders: bool = True
    rules: RulesCache = field(default_factory=RulesCache)
    lookup_margin_ms: int = 1000
    max_lookups: int = 5
    max_resends: int = 2

    def server_ms(self) -> int:
        return self.clock.server_ms(self.mono_ms())

    def __repr__(self) -> str:  # never show the key or the signer's secret
        return f"Context(base_url={self.base_url!r})"


# -- the basic call --------------------------------------------------------------------------------


def _acquire(
    ctx: Context, endpoint: Endpoint, weight: int, *, discovery: bool = False
) -> Generator[Any, Any, Ticket]:
    orders = endpoint.order_count
    while True:
        got = ctx.governor.try_acquire(
            ctx.server_ms(),
            weight=weight,
            sapi=endpoint.is_sapi,
            uid_weight=endpoint.uid_weight,
            orders=orders,
            account=ctx.api_key,
            discovery=discovery,
        )
        if isinstance(got, Ticket):
            return got
        if isinstance(got, float):
            yield Wait(got)
            continue
        yield from discover_limits(ctx)  # got is DISCOVER


#: The smallest exchangeInfo answer that still carries ``rateLimits`` and ``serverTime``:
#: halted symbols are few (NOTES.md §4.1: ``symbolStatus`` filters the symbol list).
_DISCOVERY_PARAMS = {"symbolStatus": enums.SYMBOL_STATUS_HALT}


def discover_limits(ctx: Context) -> Flow:
    """Fetch the live rate limits (and a clock sample) for the governor, once per host."""
    done = False
    try:
        endpoint = E.EXCHANGE_INFO
        ticket = yield from _acquire(
            ctx, endpoint, endpoint.weight_for(_DISCOVERY_PARAMS), discovery=True
        )
        request = prepare(endpoint, _DISCOVERY_PARAMS, base_url=ctx.base_url)
        sent = ctx.mono_ms()
        reply = yield from _send(ctx, request, ticket)
        received = ctx.mono_ms()
        try:
            data = interpret(reply, request)
        except BinanceRateLimitException as exc:
            ctx.governor.note_limit_message(exc.message)
            return
        except BinanceError:
            return
        if type(data) is dict and isinstance(data.get("rateLimits"), list):
            ctx.governor.update_limits(data["rateLimits"])
            done = True
            if type(data.get("serverTime")) is int:
                ctx.clock.observe(sent, data["serverTime"], received)
    finally:
        if not done:
            ctx.governor.discovery_failed()


def _send(ctx: Context, request: PreparedRequest, ticket: Ticket) -> Generator[Any, Any, Reply]:
    try:
        reply: Reply = yield request
    except BaseException:
        # No answer: the server may still have counted the request; charge our estimate.
        ctx.governor.release(ticket, ctx.server_ms(), None, account=ctx.api_key)
        raise
    ctx.governor.release(
        ticket,
        ctx.server_ms(),
        reply.headers,
        status=reply.status,
        retry_after_s=reply.retry_after_s,
        account=ctx.api_key,
    )
    return reply


def sync_clock(ctx: Context) -> Flow:
    """Measure the server clock offset with one ``GET /api/v3/time`` (round-trip corrected)."""
    ticket = yield from _acquire(ctx, E.TIME, E.TIME.weight_for({}))
    request = prepare(E.TIME, {}, base_url=ctx.base_url)
    sent = ctx.mono_ms()
    reply = yield from _send(ctx, request, ticket)
    received = ctx.mono_ms()
    data = interpret(reply, request)
    ctx.clock.observe(sent, int(data["serverTime"]), received)
    return data


def exchange(
    ctx: Context,
    endpoint: Endpoint,
    params: Mapping[str, Any],
    options: Mapping[str, Any] | None = None,
) -> Generator[Any, Any, tuple[Reply, PreparedRequest]]:
    """Govern, stamp, sign, send one request; return the raw reply and the request."""
    signed = endpoint.security.signed
    if signed and ctx.clock.needs_sync(ctx.mono_ms()) and ctx.signer and ctx.api_key:
        yield from sync_clock(ctx)
    ticket = yield from _acquire(ctx, endpoint, endpoint.weight_for(params))
    try:
        # The timestamp is taken after any wait, so a caller's recvWindow is never eaten by
        # our own queueing.
        request = prepare(
            endpoint,
            params,
            base_url=ctx.base_url,
            api_key=ctx.api_key,
            signer=ctx.signer,
            timestamp_ms=ctx.server_ms() if signed else None,
            options=options,
            clock_generation=ctx.clock.generation,
        )
    except BaseException:
        ctx.governor.cancel(ticket)
        raise
    reply = yield from _send(ctx, request, ticket)
    return reply, request


def call(
    ctx: Context,
    endpoint: Endpoint,
    params: Mapping[str, Any],
    options: Mapping[str, Any] | None = None,
) -> Flow:
    """One REST call with the money-safe rules of the module docstring; returns the JSON."""
    resynced = False
    rate_limited = 0
    reconnected = False
    while True:
        try:
            reply, request = yield from exchange(ctx, endpoint, params, options)
        except BinanceConnectionException:
            # A dropped keep-alive connection is common; repeating a read is harmless.
            if endpoint.method == "GET" and not reconnected:
                reconnected = True
                continue
            raise
        try:
            data = interpret(reply, request)
        except BinanceRateLimitException as exc:
            ctx.governor.note_limit_message(exc.message)
            # The governor now holds every request to this host until Retry-After has passed.
            if endpoint.method == "GET" and not exc.banned and rate_limited < 2:
                rate_limited += 1
                continue
            raise
        except BinanceAPIException as exc:
            if (
                exc.code == errorcodes.INVALID_TIMESTAMP.code
                and request.timestamp is not None
                and not resynced
            ):
                # NOTES.md §1.4: -1021 is decided before the matching engine, so the request
                # had no effect; measure the clock again and send it once more.
                logger.info(
                    "%s %s: -1021, re-measuring the server clock", endpoint.method, endpoint.path
                )
                ctx.clock.invalidate(request.clock_generation)
                resynced = True
                continue
            raise
        if endpoint is E.EXCHANGE_INFO and type(data) is dict and "rateLimits" in data:
            ctx.governor.update_limits(data["rateLimits"])
        return data


def mapped(flow: Flow, fn: Callable[[Any], Any]) -> Flow:
    """A flow whose result is ``fn(result of flow)``."""
    return fn((yield from flow))


# -- orders ----------------------------------------------------------------------------------------

#: Which seed exception stands for which failed filter.
_FILTER_EXCEPTIONS: dict[str, type[_FilterOrderException]] = {
    "LOT_SIZE": BinanceOrderMinAmountException,
    "MARKET_LOT_SIZE": BinanceOrderMinAmountException,
    "ICEBERG_PARTS": BinanceOrderMinAmountException,
    "MAX_POSITION": BinanceOrderMinAmountException,
    "PRICE_FILTER": BinanceOrderMinPriceException,
    "PERCENT_PRICE": BinanceOrderMinPriceException,
    "PERCENT_PRICE_BY_SIDE": BinanceOrderMinPriceException,
    "TRAILING_DELTA": BinanceOrderMinPriceException,
    "MIN_NOTIONAL": BinanceOrderMinTotalException,
    "NOTIONAL": BinanceOrderMinTotalException,
}


def symbol_rules(ctx: Context, symbol: str) -> Flow:
    """The symbol's parsed filters (cached), fetching ``exchangeInfo?symbol=`` when needed.

    Raises:
        BinanceOrderUnknownSymbolException: Binance does not know the symbol (-1121).
    """
    from binance.filters import SymbolRules

    now = ctx.mono_ms()
    rules = ctx.rules.get(symbol, now)
    if rules is not None:
        return rules
    try:
        info = yield from call(ctx, E.EXCHANGE_INFO, {"symbol": symbol})
    except BinanceAPIException as exc:
        if exc.code == errorcodes.BAD_SYMBOL.code:
            raise BinanceOrderUnknownSymbolException(
                f"no symbol {symbol!r} on this exchange"
            ) from exc
        raise
    entry = next((s for s in info.get("symbols", ()) if s.get("symbol") == symbol), None)
    if entry is None:
        raise BinanceOrderUnknownSymbolException(f"no symbol {symbol!r} on this exchange")
    rules = SymbolRules.from_symbol_info(entry, info.get("exchangeFilters", ()))
    ctx.rules.put(symbol, rules, now)
    return rules


def validate_order(ctx: Context, params: Mapping[str, Any]) -> Flow:
    """Check an order against its symbol's filters, as the server would, before sending it.

    Raises:
        BinanceOrderException: (a seed subclass per filter) naming the failed filter.
    """
    from binance.filters import FilterFailure

    symbol = str(params["symbol"])
    rules = yield from symbol_rules(ctx, symbol)
    if rules.status != enums.SYMBOL_STATUS_TRADING:
        raise BinanceOrderInactiveSymbolException(f"{symbol} is {rules.status}, not TRADING")
    trailing = params.get("trailingDelta")
    try:
        rules.check_order(
            str(params.get("side", "")),
            str(params.get("type", "")),
            quantity=params.get("quantity"),
            price=params.get("price"),
            stop_price=params.get("stopPrice"),
            iceberg_qty=params.get("icebergQty"),
            quote_order_qty=params.get("quoteOrderQty"),
            trailing_delta=None if trailing is None else int(trailing),
        )
    except FilterFailure as failure:
        cls = _FILTER_EXCEPTIONS.get(failure.filter_type)
        if cls is None:
            raise BinanceOrderException(
                errorcodes.INVALID_MESSAGE.code,
                failure.message,
                filter_type=failure.filter_type,
                detail=failure.detail,
            ) from None
        raise cls(
            failure.detail or failure.message,
            filter_type=failure.filter_type,
            detail=failure.detail,
        ) from None
    except (TypeError, ValueError) as exc:
        raise BinanceParameterException(f"order for {symbol}: {exc}") from None


def _rules_may_have_changed(exc: BinanceAPIException) -> bool:
    """A rejection our cached exchangeInfo should have predicted: filters or status changed."""
    if exc.code == errorcodes.INVALID_MESSAGE.code:
        return exc.message.startswith("Filter failure")
    return (
        exc.code == errorcodes.NEW_ORDER_REJECTED.code
        and exc.message == errorcodes.EngineMessage.MARKET_CLOSED
    )


def _outcome_unknown(exc: BaseException) -> bool:
    """True when a failed order request may nevertheless have been executed (NOTES.md §7.3)."""
    if isinstance(exc, (BinanceTransportException, BinanceRequestException)):
        return True
    return isinstance(exc, BinanceAPIException) and exc.status_code >= 500


def _default_resp_type(order_type: str) -> str:
    # NOTES.md §4.1: FULL for MARKET and LIMIT, ACK for the other types.
    if order_type in (enums.ORDER_TYPE_MARKET, enums.ORDER_TYPE_LIMIT):
        return enums.ORDER_RESP_TYPE_FULL
    return enums.ORDER_RESP_TYPE_ACK


_ACK_FIELDS = ("symbol", "orderId", "orderListId", "clientOrderId")
_DROP_FROM_QUERY = {"time", "updateTime", "isWorking"}
# Conditional fields (NOTES.md §4.1): the query always shows them, the order answer only when set.
_CONDITIONAL = {"stopPrice", "icebergQty"}


def _is_zero(value: Any) -> bool:
    try:
        return Decimal(str(value)) == 0
    except ArithmeticError:
        return False


def _as_order_response(order: Mapping[str, Any], resp_type: str, fills: list[Any] | None) -> Json:
    """A ``GET /api/v3/order`` answer reshaped like the ``POST /api/v3/order`` answer."""
    out: dict[str, Any] = {k: order[k] for k in _ACK_FIELDS if k in order}
    out["transactTime"] = order.get("time", order.get("updateTime"))
    if resp_type == enums.ORDER_RESP_TYPE_ACK:
        return out
    for key, value in order.items():
        if key in out or key in _DROP_FROM_QUERY:
            continue
        if key in _CONDITIONAL and _is_zero(value):
            continue
        out[key] = value
    if resp_type == enums.ORDER_RESP_TYPE_FULL and fills is not None:
        out["fills"] = fills
    return out


def _fills(ctx: Context, symbol: str, order_id: Any) -> Flow:
    trades = yield from call(ctx, E.MY_TRADES, {"symbol": symbol, "orderId": order_id})
    return [
        {
            "price": t.get("price"),
            "qty": t.get("qty"),
            "commission": t.get("commission"),
            "commissionAsset": t.get("commissionAsset"),
            "tradeId": t.get("id"),
        }
        for t in trades
    ]


def place_order(
    ctx: Context,
    endpoint: Endpoint,
    params: Mapping[str, Any],
    options: Mapping[str, Any] | None = None,
    *,
    validate: bool | None = None,
) -> Flow:
    """Place an order (or a test order) without ever duplicating or losing it.

    See the module docstring for the rules. ``endpoint`` is ``ORDER`` or ``ORDER_TEST``.
    """
    wire = dict(params)
    if not wire.get("newClientOrderId"):
        wire["newClientOrderId"] = ctx.new_id()
    client_order_id = str(wire["newClientOrderId"])
    symbol = str(wire["symbol"])
    if ctx.validate_orders if validate is None else validate:
        yield from validate_order(ctx, wire)
    resends = 0
    while True:
        try:
            return (yield from call(ctx, endpoint, wire, options))
        except BinanceError as exc:
            if isinstance(exc, BinanceAPIException) and _rules_may_have_changed(exc):
                ctx.rules.drop(symbol)  # our cached filters let it through: refresh them
            if endpoint is not E.ORDER or not _outcome_unknown(exc):
                raise
            request = getattr(exc, "request", None)
            first_error: BaseException = exc
            logger.warning(
                "order %s on %s: outcome unknown (%s); looking it up before anything else",
                client_order_id,
                symbol,
                type(exc).__name__,
            )
        # Outcome unknown. The request can reach the engine no later than timestamp + recvWindow
        # (server time); after that (plus a margin), absence is proof it never will.
        if isinstance(request, PreparedRequest) and request.timestamp is not None:
            deadline = request.timestamp + int(request.recv_window_ms)
        else:
            deadline = ctx.server_ms() + 60_000  # unknown stamp: assume the largest window
        deadline += ctx.lookup_margin_ms + (ctx.clock.uncertainty_ms or 0)
        found = yield from _look_up(ctx, symbol, client_order_id, deadline, first_error)
        if found is not None:
            resp_type = str(wire.get("newOrderRespType") or _default_resp_type(str(wire["type"])))
            fills = None
            if resp_type == enums.ORDER_RESP_TYPE_FULL:
                try:
                    fills = yield from _fills(ctx, symbol, found.get("orderId"))
                except BinanceError:
                    fills = None  # the order exists; its fills are one get_my_trades away
            return _as_order_response(found, resp_type, fills)
        if resends >= ctx.max_resends:
            raise BinanceOrderStatusUnknownException(client_order_id, symbol, first_error)
        resends += 1  # proven absent: sending it again cannot duplicate it
        logger.warning("order %s on %s: proven absent, sending it again", client_order_id, symbol)


def _look_up(
    ctx: Context, symbol: str, client_order_id: str, deadline_ms: int, first_error: BaseException
) -> Flow:
    """The order if it exists, None once it provably never will; raises if we cannot tell."""
    failures = 0
    last_error = first_error
    query = {"symbol": symbol, "origClientOrderId": client_order_id}
    while True:
        try:
            return (yield from call(ctx, E.GET_ORDER, query))
        except BinanceAPIException as exc:
            if exc.code == errorcodes.NO_SUCH_ORDER.code:
                now = ctx.server_ms()
                if now >= deadline_ms:
                    return None
                yield Wait((deadline_ms - now) / 1000)
                continue
            if exc.status_code < 500 and not isinstance(exc, BinanceRateLimitException):
                raise BinanceOrderStatusUnknownException(client_order_id, symbol, exc) from exc
            last_error = exc
        except (BinanceTransportException, BinanceRequestException) as exc:
            last_error = exc
        failures += 1
        if failures >= ctx.max_lookups:
            raise BinanceOrderStatusUnknownException(
                client_order_id, symbol, last_error
            ) from last_error
        yield Wait(min(2.0, 0.1 * 2**failures))


def withdraw(ctx: Context, params: Mapping[str, Any], options: Mapping[str, Any] | None) -> Flow:
    """Request a withdrawal; never sent twice.

    A ``withdrawOrderId`` is always set. When the outcome is unknown the withdrawal history is
    searched for it; if it is not found, `BinanceOrderStatusUnknownException` carries the id (a
    withdrawal is never resent automatically: unlike an order, nothing bounds when a lost
    request could still be processed).
    """
    wire = dict(params)
    if not wire.get("withdrawOrderId"):
        wire["withdrawOrderId"] = ctx.new_id()
    withdraw_id = str(wire["withdrawOrderId"])
    try:
        return (yield from call(ctx, E.CAPITAL_WITHDRAW_APPLY, wire, options))
    except BinanceError as exc:
        if not _outcome_unknown(exc):
            raise
        last_error: BaseException = exc
    for attempt in range(ctx.max_lookups):
        try:
            rows = yield from call(
                ctx, E.CAPITAL_WITHDRAW_HISTORY, {"withdrawOrderId": withdraw_id}
            )
        except BinanceError as exc:
            if not _outcome_unknown(exc) and not isinstance(exc, BinanceRateLimitException):
                raise BinanceOrderStatusUnknownException(withdraw_id, None, exc) from exc
            last_error = exc
            yield Wait(min(2.0, 0.1 * 2 ** (attempt + 1)))
            continue
        for row in rows if isinstance(rows, list) else ():
            if row.get("withdrawOrderId") == withdraw_id:
                return {"id": row.get("id")}
        break
    raise BinanceOrderStatusUnknownException(withdraw_id, None, last_error)


def cancel_replace(
    ctx: Context, params: Mapping[str, Any], options: Mapping[str, Any] | None
) -> Flow:
    """Cancel an order and place a new one atomically; the new order is never sent twice.

    The new order gets a ``newClientOrderId`` and the client-side filter checks. When the
    outcome is unknown, `BinanceOrderStatusUnknownException` carries the new order's client id
    (look it up with ``get_order(symbol=..., origClientOrderId=...)``); nothing is resent.
    """
    wire = dict(params)
    if not wire.get("newClientOrderId"):
        wire["newClientOrderId"] = ctx.new_id()
    if ctx.validate_orders:
        yield from validate_order(ctx, wire)
    try:
        return (yield from call(ctx, E.CANCEL_REPLACE, wire, options))
    except BinanceError as exc:
        if _outcome_unknown(exc):
            raise BinanceOrderStatusUnknownException(
                str(wire["newClientOrderId"]), str(wire.get("symbol")), exc
            ) from exc
        raise


def symbol_info(ctx: Context, symbol: str, options: Mapping[str, Any] | None) -> Flow:
    """The exchangeInfo entry of one symbol, or None when Binance does not know it."""
    try:
        info = yield from call(ctx, E.EXCHANGE_INFO, {"symbol": symbol}, options)
    except BinanceAPIException as exc:
        if exc.code == errorcodes.BAD_SYMBOL.code:
            return None
        raise
    for entry in info.get("symbols", ()):
        if entry.get("symbol") == symbol:
            return entry
    return None
