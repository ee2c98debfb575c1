"""Wire parameters of the local exchange: parsing, merging and type checks with Binance's errors.

Two steps, shared by the REST adapter and the WebSocket API:

1. ``parse_wire(query, body)`` decodes the query string and the form body exactly as received
   (NOTES.md §1.2): a name repeated within one of them is ``-1101`` "Duplicate values for a
   parameter detected."; a name in both takes the query string's value.
2. ``prepare(endpoint, values)`` checks them against the endpoint's entry in
   ``binance._endpoints`` and the one type table ``PARAM_TYPES`` (keyed by wire name), in the
   order Binance reports problems: too many parameters (-1101), mandatory ones missing or empty
   (-1102), each sent parameter's format (-1100, -1105, -1111, -1115..-1122, -1130, -1135,
   -1139, -1145, -1151), then parameters the endpoint does not read (-1104). It returns the typed
   values; endpoint handlers never see a raw string.

Legal-range texts in -1100 messages are Binance's own (as seen in its answers).

No I/O here; aiohttp and the client are not imported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus

import orjson

from binance import enums, errorcodes
from binance._endpoints import Endpoint
from binance.errorcodes import ErrorCode
from binance.sim.engine import EngineError

__all__ = [
    "PARAM_TYPES",
    "ParamType",
    "parse_wire",
    "parse_pairs",
    "prepare",
    "parse_time_zone",
    "parse_window_size",
]

# -- Binance's legal-range texts -----------------------------------------------------------------
SYMBOL_RANGE = r"^[\w\-._&&[^a-z]]{1,50}$"
SYMBOLS_RANGE = r'^\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\]$'
INTEGER_RANGE = r"^[0-9]{1,20}$"
DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
CLIENT_ID_RANGE = r"^[a-zA-Z0-9-_]{1,36}$"
BOOLEAN_RANGE = r"^(true|false)$"
SIGNED_INTEGER_RANGE = r"^-?[0-9]{1,20}$"

_INTEGER_RE = re.compile(r"^[0-9]{1,20}$")
_DECIMAL_RE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
_CLIENT_ID_RE = re.compile(r"^[a-zA-Z0-9\-_]{1,36}$")
_SYMBOL_CHARS = re.compile(r"^[\w\-.]{1,50}$")
_LOWER_ASCII = re.compile(r"[a-z]")
_TIME_ZONE_RE = re.compile(r"^([+-]?)([0-9]{1,2})(?::([0-9]{2}))?$")
_WINDOW_RE = re.compile(r"^([0-9]{1,2})([mhd])$")
_INT64_MAX = 2**63 - 1


def _fail(error: ErrorCode, *args: object) -> EngineError:
    return EngineError(error, error.msg(*args))


def _illegal(name: str, legal: str) -> EngineError:
    return _fail(errorcodes.ILLEGAL_CHARS, name, legal)


def _not_valid(name: str) -> EngineError:
    return _fail(errorcodes.INVALID_PARAMETER, name)


# -- parsing ---------------------------------------------------------------------------------------


def parse_pairs(raw: str) -> list[tuple[str, str]]:
    """``name=value`` pairs of a query string or form body, percent-decoded (``+`` is a space)."""
    pairs = []
    for part in raw.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in part or "+" in part:  # most wire text needs no decoding
            name, value = unquote_plus(name), unquote_plus(value)
        pairs.append((name, value))
    return pairs


def _unique(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        if name in out:
            raise EngineError(errorcodes.DUPLICATE_PARAMETER)
        out[name] = value
    return out


def parse_wire(query: str, body: str = "") -> dict[str, str]:
    """Merge the query string and the form body into one dict (NOTES.md §1.2).

    Raises:
        EngineError: -1101 "Duplicate values for a parameter detected." when a name repeats in
            the query string or in the body.
    """
    values = _unique(parse_pairs(body)) if body else {}
    if query:
        values.update(_unique(parse_pairs(query)))  # the query string's value wins
    return values


# -- value types -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamType:
    """How one wire parameter is checked and converted.

    Attributes:
        parse: ``(name, raw) -> value``; raises ``EngineError`` with Binance's code.
        empty_error: the error for an empty value of an optional parameter (default -1105).
    """

    parse: Callable[[str, str], Any]
    empty_error: ErrorCode | None = None


def _symbol(name: str, raw: str) -> str:
    # Binance's range is a Java class: word characters, '-', '.', '_', no lower-case ASCII.
    # Unicode letters are allowed since non-ASCII symbols were listed (NOTES.md §1.2).
    if not _SYMBOL_CHARS.match(raw) or _LOWER_ASCII.search(raw):
        raise _illegal(name, SYMBOL_RANGE)
    return raw


def _symbol_list(name: str, raw: str) -> list[str]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _illegal(name, SYMBOLS_RANGE) from None
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise _illegal(name, SYMBOLS_RANGE)
    for symbol in value:
        if not _SYMBOL_CHARS.match(symbol) or _LOWER_ASCII.search(symbol):
            raise _illegal(name, SYMBOLS_RANGE)
    if len(set(value)) != len(value):
        raise EngineError(errorcodes.DUPLICATE_SYMBOLS)
    return value


def _string_or_list(name: str, raw: str) -> list[str]:
    """``permissions``: one value or a JSON array of values."""
    if raw.startswith("["):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise _fail(errorcodes.INVALID_JSON, name) from None
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            raise _fail(errorcodes.INVALID_JSON, name)
        return value
    return [raw]


def _integer(name: str, raw: str) -> int:
    if not _INTEGER_RE.match(raw):
        raise _illegal(name, INTEGER_RANGE)
    value = int(raw)
    if value > _INT64_MAX:
        raise _fail(errorcodes.PARAM_OVERFLOW, name)
    return value


def _decimal(name: str, raw: str) -> Decimal:
    if not _DECIMAL_RE.match(raw):
        raise _illegal(name, DECIMAL_RANGE)
    return Decimal(raw)


def _boolean(name: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered not in ("true", "false"):
        raise _illegal(name, BOOLEAN_RANGE)
    return lowered == "true"


def _client_id(name: str, raw: str) -> str:
    if not _CLIENT_ID_RE.match(raw):
        raise _illegal(name, CLIENT_ID_RANGE)
    return raw


def _text(name: str, raw: str) -> str:
    return raw


def _enum(values: tuple[str, ...], error: ErrorCode | None) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        if raw not in values:
            if error is None:
                raise _not_valid(name)
            raise EngineError(error, error.msg(name) if "%s" in error.message else None)
        return raw

    return parse


def _strategy_type(name: str, raw: str) -> int:
    value = _integer(name, raw)
    if value < 1_000_000:
        raise EngineError(errorcodes.BAD_STRATEGY_TYPE)
    return value


def _limit(name: str, raw: str) -> int:
    value = _integer(name, raw)
    if value < 1:
        raise _not_valid(name)
    return value


def parse_time_zone(raw: str) -> int:
    """A klines ``timeZone`` (``-1:00``, ``05:45``, ``8``, ``+08:00``) as minutes east of UTC.

    Raises:
        ValueError: malformed, or outside -12:00..+14:00.
    """
    match = _TIME_ZONE_RE.match(raw.strip())
    if not match:
        raise ValueError(raw)
    sign, hours, minutes = match.groups()
    total = int(hours) * 60 + int(minutes or 0)
    if minutes is not None and int(minutes) >= 60:
        raise ValueError(raw)
    if sign == "-":
        total = -total
    if not -12 * 60 <= total <= 14 * 60:
        raise ValueError(raw)
    return total


def _time_zone(name: str, raw: str) -> int:
    try:
        return parse_time_zone(raw)
    except ValueError:
        raise _not_valid(name) from None


def parse_window_size(raw: str) -> int:
    """A rolling ``windowSize`` (``1m``..``59m``, ``1h``..``23h``, ``1d``..``7d``) in ms.

    Raises:
        ValueError: malformed or out of range.
    """
    match = _WINDOW_RE.match(raw)
    if not match:
        raise ValueError(raw)
    count, unit = int(match.group(1)), match.group(2)
    bounds = {"m": (59, 60_000), "h": (23, 3_600_000), "d": (7, 86_400_000)}[unit]
    if not 1 <= count <= bounds[0]:
        raise ValueError(raw)
    return count * bounds[1]


def _window_size(name: str, raw: str) -> int:
    try:
        return parse_window_size(raw)
    except ValueError:
        raise _not_valid(name) from None


def _id_list(name: str, raw: str) -> list[str]:
    return [part for part in raw.split(",") if part]


def _signed_integer(name: str, raw: str) -> int:
    if not re.match(r"^-?[0-9]{1,20}$", raw):
        raise _illegal(name, SIGNED_INTEGER_RANGE)
    return int(raw)


_T = ParamType
_ORDER_TYPE = _enum(enums.ORDER_TYPES, errorcodes.INVALID_ORDER_TYPE)
_TICKER_TYPE = _enum(enums.TICKER_TYPES, errorcodes.INVALID_TICKER_TYPE)

#: The one type table, keyed by wire name. ``timestamp``, ``recvWindow`` and ``signature`` are
#: checked by ``_auth.py`` and pass through unchanged here.
PARAM_TYPES: dict[str, ParamType] = {
    # market data
    "symbol": _T(_symbol),
    "symbols": _T(_symbol_list),
    "permissions": _T(_string_or_list),
    "showPermissionSets": _T(_boolean),
    "symbolStatus": _T(_enum(enums.SYMBOL_STATUSES, errorcodes.INVALID_SYMBOLSTATUS)),
    "limit": _T(_limit),
    "fromId": _T(_integer),
    "startTime": _T(_integer),
    "endTime": _T(_integer),
    "interval": _T(_enum(enums.KLINE_INTERVALS, errorcodes.BAD_INTERVAL)),
    "timeZone": _T(_time_zone),
    "windowSize": _T(_window_size),
    "type": _T(_ORDER_TYPE),
    # orders
    "side": _T(_enum(enums.SIDES, errorcodes.INVALID_SIDE)),
    "timeInForce": _T(_enum(enums.TIME_IN_FORCES, errorcodes.INVALID_TIF)),
    "quantity": _T(_decimal),
    "quoteOrderQty": _T(_decimal),
    "price": _T(_decimal),
    "stopPrice": _T(_decimal),
    "icebergQty": _T(_decimal),
    "trailingDelta": _T(_integer),
    "newClientOrderId": _T(_client_id, errorcodes.EMPTY_NEW_CL_ORD_ID),
    "origClientOrderId": _T(_client_id, errorcodes.EMPTY_ORG_CL_ORD_ID),
    "cancelNewClientOrderId": _T(_client_id, errorcodes.EMPTY_NEW_CL_ORD_ID),
    "cancelOrigClientOrderId": _T(_client_id, errorcodes.EMPTY_ORG_CL_ORD_ID),
    "strategyId": _T(_integer),
    "strategyType": _T(_strategy_type),
    "newOrderRespType": _T(_enum(enums.ORDER_RESP_TYPES, None)),
    "selfTradePreventionMode": _T(_enum(enums.STP_MODES, None)),
    "orderId": _T(_integer),
    "cancelOrderId": _T(_integer),
    "cancelRestrictions": _T(
        _enum(enums.CANCEL_RESTRICTIONS, errorcodes.INVALID_CANCEL_RESTRICTIONS)
    ),
    "cancelReplaceMode": _T(_enum(enums.CANCEL_REPLACE_MODES, None)),
    "orderRateLimitExceededMode": _T(
        _enum(
            (
                enums.ORDER_RATE_LIMIT_EXCEEDED_MODE_DO_NOTHING,
                enums.ORDER_RATE_LIMIT_EXCEEDED_MODE_CANCEL_ONLY,
            ),
            None,
        )
    ),
    "computeCommissionRates": _T(_boolean),
    "omitZeroBalances": _T(_boolean),
    # legacy user data stream
    "listenKey": _T(_text),
    # wallet (/sapi)
    "coin": _T(_text),
    "asset": _T(_text),
    "network": _T(_text),
    "address": _T(_text),
    "addressTag": _T(_text),
    "amount": _T(_decimal),
    "withdrawOrderId": _T(_text),
    "transactionFeeFlag": _T(_boolean),
    "name": _T(_text),
    "walletType": _T(_integer),
    "status": _T(_integer),
    "offset": _T(_integer),
    "idList": _T(_id_list),
    "includeSource": _T(_boolean),
    "txId": _T(_text),
    # signed-request parameters (checked by _auth.py)
    "timestamp": _T(_text),
    "recvWindow": _T(_text),
    "signature": _T(_text),
}

#: Per-path overrides where one wire name means different things (``type``).
_PATH_TYPES: dict[tuple[str, str], ParamType] = {
    ("/api/v3/ticker/24hr", "type"): _T(_TICKER_TYPE),
    ("/api/v3/ticker", "type"): _T(_TICKER_TYPE),
    ("/api/v3/ticker/tradingDay", "type"): _T(_TICKER_TYPE),
}


def _type_of(endpoint: Endpoint, name: str) -> ParamType:
    return _PATH_TYPES.get((endpoint.path, name)) or PARAM_TYPES.get(name) or _T(_text)


def _mandatory(name: str) -> EngineError:
    return _fail(errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED, name)


def prepare(endpoint: Endpoint, values: Mapping[str, str]) -> dict[str, Any]:
    """Check ``values`` against ``endpoint`` and return them typed (absent names stay absent).

    Raises:
        EngineError: -1101 too many parameters; -1102 a mandatory one missing or empty (or
            none of a ``one_of`` group); -1100/-1105/-11xx a value's format; -1104 parameters
            the endpoint does not read.
    """
    accepted = endpoint.accepted
    if len(values) > len(accepted):
        raise _fail(errorcodes.TOO_MANY_PARAMETERS_COUNT, len(accepted), len(values))
    for name in endpoint.required:
        if values.get(name, "") == "":
            raise _mandatory(name)
    for group in endpoint.one_of:
        if not any(values.get(name, "") != "" for name in group):
            if len(group) == 2:
                raise _fail(errorcodes.PARAM_EITHER_REQUIRED, *group)
            raise _mandatory(group[0])
    typed: dict[str, Any] = {}
    order = [*endpoint.required, *(n for g in endpoint.one_of for n in g), *endpoint.optional]
    for name in order:
        if name not in values or name in typed:
            continue
        raw = values[name]
        kind = _type_of(endpoint, name)
        if raw == "":
            empty = kind.empty_error or errorcodes.PARAM_EMPTY
            raise EngineError(empty, empty.msg(name) if "%s" in empty.message else None)
        typed[name] = kind.parse(name, raw)
    for name in ("timestamp", "recvWindow", "signature"):
        if name in values and name in accepted:
            typed[name] = values[name]
    unread = [name for name in values if name not in accepted]
    if unread:
        raise _fail(errorcodes.UNREAD_PARAMETERS, len(values) - len(unread), len(values))
    return typed
