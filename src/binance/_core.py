"""Requests in, bytes out; bytes in, data or exception out. The one place wire formats live.

`prepare` turns an endpoint entry and Python values into the exact request to send: numbers as
plain decimal strings (never scientific notation), booleans as ``true``/``false``, arrays as
compact JSON, everything percent-encoded, then (for signed endpoints) ``timestamp`` appended and
the whole payload signed (NOTES.md §2). GET and DELETE carry the parameters in the query string;
POST and PUT in a form-encoded body. The timestamp is passed in, so tests can assert exact bytes.

`interpret` turns one answer into decoded JSON or the right exception: Binance's
``{"code", "msg"}`` errors become `BinanceAPIException` (429/418 as `BinanceRateLimitException`
with ``retry_after``, wallet calls as `BinanceWithdrawException`), a body that is not JSON becomes
`BinanceRequestException`.

`PreparedRequest` and `Reply` redact secrets in ``repr``: the signature and the API key never
reach logs or exception texts.

No I/O here, no clock, no randomness: everything is passed in.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from binance import errorcodes
from binance._endpoints import Endpoint
from binance._signing import Signer, encode_params
from binance._types import Json
from binance.exceptions import (
    BinanceAPIException,
    BinanceParameterException,
    BinanceRateLimitException,
    BinanceRequestException,
    BinanceWithdrawException,
)
from binance.helpers import format_decimal

__all__ = ["PreparedRequest", "Reply", "prepare", "interpret", "wire_value", "API_KEY_HEADER"]

API_KEY_HEADER = "X-MBX-APIKEY"
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}

#: Wire parameters that are prices or quantities: always sent as plain decimal strings, even
#: when the caller gives a string ("1e-5" becomes "0.00001").
DECIMAL_PARAMS = frozenset(
    {
        "quantity",
        "quoteOrderQty",
        "price",
        "stopPrice",
        "icebergQty",
        "amount",
        "newQty",
        "stopLimitPrice",
        "limitIcebergQty",
        "stopIcebergQty",
    }
)

#: Headers an answer is reduced to: the governor's counters and Retry-After.
_KEPT_HEADER_PREFIXES = ("x-mbx-", "x-sapi-", "retry-after")


def wire_value(name: str, value: Any) -> str:
    """One parameter value as Binance wants it on the wire (before percent-encoding)."""
    kind = type(value)
    if kind is str:
        return format_decimal(value) if name in DECIMAL_PARAMS else value
    if kind is int:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is float or kind is Decimal:
        return format_decimal(value)
    if isinstance(value, enum.Enum):
        return wire_value(name, value.value)
    if isinstance(value, (list, tuple)):
        return orjson.dumps([wire_value("", item) for item in value]).decode()
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (int, float, Decimal)):
        return format_decimal(value)
    raise BinanceParameterException(f"parameter {name!r}: cannot send {type(value).__name__}")


@dataclass(eq=False)
class PreparedRequest:
    """One request, byte-exact, ready for a transport.

    Attributes:
        endpoint: the endpoint entry it calls.
        method: HTTP method.
        url: full URL including the query string (signature included for signed GET/DELETE).
        body: form-encoded body for POST/PUT (signature included when signed), else None.
        headers: headers to send (the API key, the content type).
        params: the wire parameters as sent, signature excluded (for flows and tests).
        weight: request weight charged by Binance.
        timestamp: the ``timestamp`` parameter of a signed request, else None.
        recv_window_ms: the ``recvWindow`` in force (Binance's default 5000 when not sent).
        options: per-call transport options (the seed's ``requests_params``).
        clock_generation: the server clock's generation the timestamp came from.
    """

    endpoint: Endpoint
    method: str
    url: str
    body: bytes | None
    headers: dict[str, str]
    params: dict[str, str]
    weight: int
    timestamp: int | None = None
    recv_window_ms: float = 5000
    options: Mapping[str, Any] | None = None
    clock_generation: int = 0

    def __repr__(self) -> str:
        return f"<PreparedRequest {self.method} {self.redacted_url()}>"

    def redacted_url(self) -> str:
        """The URL with the signature value replaced by ``<redacted>``."""
        url = self.url
        cut = url.find("signature=")
        if cut < 0:
            return url
        end = url.find("&", cut)
        tail = "" if end < 0 else url[end:]
        return f"{url[: cut + len('signature=')]}<redacted>{tail}"

    def redacted_headers(self) -> dict[str, str]:
        """The headers with the API key replaced by ``<redacted>``."""
        return {
            k: ("<redacted>" if k.lower() == API_KEY_HEADER.lower() else v)
            for k, v in self.headers.items()
        }


@dataclass(eq=False)
class Reply:
    """One HTTP answer, as the transports hand it to `interpret`.

    Attributes:
        status: HTTP status.
        headers: the headers the client uses (``x-mbx-*``, ``x-sapi-*``, ``retry-after``), with
            lower-case names.
        body: the raw body.
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def __repr__(self) -> str:
        return f"<Reply {self.status} {len(self.body)} bytes>"

    @property
    def retry_after_s(self) -> float | None:
        """``Retry-After`` in seconds, if present and numeric."""
        value = self.headers.get("retry-after")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None


def keep_headers(items: Any) -> dict[str, str]:
    """The headers `Reply` keeps, lower-cased, from any ``(name, value)`` iterable."""
    out = {}
    for name, value in items:
        lower = name.lower()
        if lower.startswith(_KEPT_HEADER_PREFIXES):
            out[lower] = value
    return out


def prepare(
    endpoint: Endpoint,
    params: Mapping[str, Any],
    *,
    base_url: str,
    api_key: str | None = None,
    signer: Signer | None = None,
    timestamp_ms: int | None = None,
    options: Mapping[str, Any] | None = None,
    clock_generation: int = 0,
) -> PreparedRequest:
    """Build the exact request for ``endpoint`` with these wire parameters.

    Args:
        endpoint: the endpoint entry (method, path, security, weight).
        params: wire parameters in the order to send them; ``None`` values are left out.
            ``timestamp`` and ``signature`` are set here for signed endpoints.
        base_url: scheme and host, e.g. ``https://api.binance.com``.
        api_key: sent as ``X-MBX-APIKEY`` when the endpoint needs a key.
        signer: signs the payload of signed endpoints.
        timestamp_ms: the server time to stamp signed requests with.
        options: per-call transport options, carried along untouched.
        clock_generation: carried along so a ``-1021`` can invalidate the right clock estimate.

    Raises:
        BinanceParameterException: a required parameter is missing, or a key is needed and
            none was given.
    """
    pairs: list[tuple[str, str]] = []
    wire: dict[str, str] = {}
    for name, value in params.items():
        if value is None or name == "signature" or name == "timestamp":
            continue
        text = wire_value(name, value)
        pairs.append((name, text))
        wire[name] = text
    for name in endpoint.required:
        if name not in wire:
            raise BinanceParameterException(
                f"{endpoint.method} {endpoint.path}: missing required parameter {name!r}"
            )
    for group in endpoint.one_of:
        if not any(name in wire for name in group):
            raise BinanceParameterException(
                f"{endpoint.method} {endpoint.path}: send one of {', '.join(map(repr, group))}"
            )
    headers: dict[str, str] = {}
    security = endpoint.security
    if security.needs_key:
        if not api_key:
            raise BinanceParameterException(
                f"{endpoint.method} {endpoint.path} needs an API key (api_key=...)"
            )
        headers[API_KEY_HEADER] = api_key
    signed = security.signed
    if signed:
        if signer is None:
            raise BinanceParameterException(
                f"{endpoint.method} {endpoint.path} is signed: give api_secret or private_key"
            )
        if timestamp_ms is None:
            raise BinanceParameterException("a signed request needs a timestamp")
        pairs.append(("timestamp", str(timestamp_ms)))
        wire["timestamp"] = str(timestamp_ms)
    payload = encode_params(pairs)
    if signed:
        assert signer is not None
        signature = signer.sign(payload.encode("ascii"))
        payload = f"{payload}&signature={signature}" if payload else f"signature={signature}"
    url = base_url + endpoint.path
    body: bytes | None = None
    if endpoint.method in ("GET", "DELETE"):
        if payload:
            url = f"{url}?{payload}"
    else:
        body = payload.encode("ascii")
        headers.update(_FORM)
    recv_window = wire.get("recvWindow")
    if recv_window is not None:
        try:
            window = float(recv_window)
        except ValueError:
            window = -1.0
        # NOTES.md §1.4: milliseconds, at most 60000; refuse locally rather than be refused.
        if not 0 < window <= 60_000:
            raise BinanceParameterException(
                f"recvWindow must be > 0 and <= 60000 ms, not {recv_window!r}"
            )
    return PreparedRequest(
        endpoint=endpoint,
        method=endpoint.method,
        url=url,
        body=body,
        headers=headers,
        params=wire,
        weight=endpoint.weight_for(wire),
        timestamp=timestamp_ms if signed else None,
        recv_window_ms=float(recv_window) if recv_window else 5000.0,
        options=options,
        clock_generation=clock_generation,
    )


def _is_wallet(endpoint: Endpoint | None) -> bool:
    # The seed's wallet calls (withdraw, histories, deposit address, account status) lived on
    # /wapi and raised BinanceWithdrawException; their /sapi successors keep that contract.
    return endpoint is not None and endpoint.is_sapi


def interpret(reply: Reply, request: PreparedRequest | None = None) -> Json:
    """Decoded JSON of a successful answer, or the exception that describes the failure.

    Raises:
        BinanceAPIException: Binance answered with an error (``code``/``msg``).
        BinanceRateLimitException: status 429 or 418 (with ``retry_after``).
        BinanceWithdrawException: a wallet (/sapi) call failed.
        BinanceRequestException: the body is not JSON.
    """
    status = reply.status
    try:
        data = orjson.loads(reply.body) if reply.body else None
    except orjson.JSONDecodeError:
        text = reply.body[:200].decode("utf-8", "replace")
        raise BinanceRequestException(
            f"Invalid JSON error message from Binance (HTTP {status}): {text}",
            status_code=status,
            request=request,
        ) from None
    endpoint = request.endpoint if request is not None else None
    if 200 <= status < 300:
        if type(data) is dict:
            code = data.get("code")
            if type(code) is int and code < 0 and "msg" in data:
                pass  # an error dressed as success (seen on /sapi): fall through
            elif data.get("success") is False:
                # The 2018 wapi failure shape (NOTES.md §4.4).
                raise BinanceWithdrawException(
                    reply, status, code=0, message=str(data.get("msg", "")), request=request
                )
            else:
                return data
        else:
            return data
    code, message = 0, ""
    if type(data) is dict:
        raw_code = data.get("code", 0)
        code = raw_code if type(raw_code) is int else _int_or_zero(raw_code)
        message = str(data.get("msg", ""))
    elif data is not None:
        message = str(data)[:200]
    if not message:
        message = f"HTTP {status}"
    if status in (429, 418):
        raise BinanceRateLimitException(
            reply,
            status,
            code=code or errorcodes.TOO_MANY_REQUESTS.code,
            message=message,
            request=request,
            retry_after=reply.retry_after_s,
        )
    cls = BinanceWithdrawException if _is_wallet(endpoint) else BinanceAPIException
    raise cls(reply, status, code=code, message=message, request=request)


def _int_or_zero(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
