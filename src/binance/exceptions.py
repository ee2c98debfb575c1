"""Everything the clients raise, in one tree with one base.

Errors are split by whose fault they are (h11's rule): *local* errors are raised before anything
is sent and are also ``ValueError``; *remote* errors carry Binance's answer; *transport* errors
mean no usable answer arrived. An order whose fate is unknown gets its own class, because the
caller must act differently (look the order up by its client order id, never resend blindly).

::

    BinanceError                                  base of everything below
    ├── BinanceOrderException (ValueError)        local: an order breaks the symbol's rules
    │   ├── BinanceOrderMinAmountException        LOT_SIZE, MARKET_LOT_SIZE, ICEBERG_PARTS
    │   ├── BinanceOrderMinPriceException         PRICE_FILTER, PERCENT_PRICE(_BY_SIDE), ...
    │   ├── BinanceOrderMinTotalException         MIN_NOTIONAL, NOTIONAL
    │   │   (alias BinanceOrderTotalPriceException)
    │   ├── BinanceOrderUnknownSymbolException    no such symbol in exchangeInfo
    │   └── BinanceOrderInactiveSymbolException   the symbol is not TRADING
    ├── BinanceParameterException (ValueError)    local: a bad argument (names it)
    ├── BinanceAPIException                       remote: Binance answered {"code", "msg"}
    │   ├── BinanceRateLimitException             429 / 418, with ``retry_after`` (seconds)
    │   └── BinanceWithdrawException              a wallet (/sapi capital) call failed
    ├── BinanceRequestException                   the answer was not JSON
    │   (alias BinanceResponseException, the seed's old name)
    ├── BinanceTransportException                 no answer at all
    │   ├── BinanceConnectionException (ConnectionError)
    │   └── BinanceTimeoutException (TimeoutError)
    └── BinanceOrderStatusUnknownException        an order may or may not exist; carries its
                                                  ``client_order_id``

Secrets never reach ``str()`` or ``repr()`` of these exceptions: requests attached to them are
the redacted ``PreparedRequest`` views from ``_core`` (signature and API key removed).

No I/O here; this module imports only the shared ``errorcodes`` table.
"""

from __future__ import annotations

from typing import Any

from binance import errorcodes

__all__ = [
    "BinanceError",
    "BinanceAPIException",
    "BinanceRateLimitException",
    "BinanceWithdrawException",
    "BinanceRequestException",
    "BinanceResponseException",
    "BinanceParameterException",
    "BinanceOrderException",
    "BinanceOrderMinAmountException",
    "BinanceOrderMinPriceException",
    "BinanceOrderMinTotalException",
    "BinanceOrderTotalPriceException",
    "BinanceOrderUnknownSymbolException",
    "BinanceOrderInactiveSymbolException",
    "BinanceTransportException",
    "BinanceConnectionException",
    "BinanceTimeoutException",
    "BinanceOrderStatusUnknownException",
]


class BinanceError(Exception):
    """Base class of every exception this library raises."""


# -- remote ----------------------------------------------------------------------------------------


class BinanceAPIException(BinanceError):
    """Binance answered with an error: ``{"code": -1121, "msg": "Invalid symbol."}``.

    Attributes:
        status_code: HTTP status of the answer (400, 401, 409, 429, 418, 5xx...).
        response: the transport's answer (a ``_core.Reply``: status, headers, body).
        code: Binance's error code (negative int; 0 when the body had none).
        message: Binance's error message.
        request: the request that was sent, with secrets redacted (or None).
    """

    LISTENKEY_NOT_EXIST = "-1125"  # the seed's constant

    def __init__(
        self,
        response: Any = None,
        status_code: int = 0,
        text: str = "",
        *,
        code: int = 0,
        message: str = "",
        request: Any = None,
    ) -> None:
        self.status_code = status_code
        self.response = response
        self.code = code
        self.message = message or text
        self.request = request
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"APIError(code={self.code}): {self.message}"

    def __reduce__(self) -> Any:  # pickling keeps the attributes, not the response object
        return (_rebuild, (type(self), self.__dict__))


def _rebuild(cls: type[BinanceError], state: dict[str, Any]) -> BinanceError:
    exc = cls.__new__(cls)
    exc.__dict__.update(state)
    return exc


class BinanceRateLimitException(BinanceAPIException):
    """HTTP 429 (limit hit) or 418 (IP banned); wait ``retry_after`` seconds (NOTES.md §3).

    Attributes:
        retry_after: seconds Binance asked us to wait (``Retry-After``), or None.
        banned: True for 418 (the IP is banned until ``retry_after`` has passed).
    """

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)
        self.banned = self.status_code == 418


class BinanceWithdrawException(BinanceAPIException):
    """A wallet call (withdraw, deposit/withdraw history, deposit address) reported failure.

    The seed raised this for the 2018 ``{"success": false, "msg": ...}`` answers; today the wallet
    answers ``{"code": -4xxx, "msg": ...}`` and this class carries those, as a
    `BinanceAPIException`, so ``except BinanceAPIException`` still catches it. The seed's
    ``BinanceWithdrawException(message)`` form is accepted too.
    """

    def __init__(self, response: Any = None, status_code: int = 0, text: str = "", **kw: Any):
        if isinstance(response, str) and not status_code and "message" not in kw:
            kw["message"], response = response, None  # the seed's (message) signature
        super().__init__(response, status_code, text, **kw)


# -- no usable answer ------------------------------------------------------------------------------


class BinanceRequestException(BinanceError):
    """The answer was not JSON (a proxy's HTML page, a truncated body...).

    Attributes:
        message: what went wrong (the body is shortened).
        status_code: HTTP status of the answer, or 0.
        request: the redacted request, or None.
    """

    def __init__(self, message: str, *, status_code: int = 0, request: Any = None) -> None:
        self.message = message
        self.status_code = status_code
        self.request = request
        super().__init__(message)

    def __str__(self) -> str:
        return f"BinanceRequestException: {self.message}"


#: The seed's name for a non-JSON answer.
BinanceResponseException = BinanceRequestException


class BinanceTransportException(BinanceError):
    """No answer: the connection failed or timed out.

    Attributes:
        request: the redacted request, or None.
        sent: False when the request certainly never reached the server (connect failed),
            None when unknown (it may have been processed).
    """

    def __init__(self, message: str, *, request: Any = None, sent: bool | None = None) -> None:
        self.message = message
        self.request = request
        self.sent = sent
        super().__init__(message)


class BinanceConnectionException(BinanceTransportException, ConnectionError):
    """The connection could not be opened or broke before an answer arrived."""


class BinanceTimeoutException(BinanceTransportException, TimeoutError):
    """No answer within the timeout."""


class BinanceOrderStatusUnknownException(BinanceError):
    """An order was sent, no answer came back, and its fate could not be established.

    The client never resends such an order blindly. Look it up with
    ``get_order(symbol=..., origClientOrderId=exc.client_order_id)`` (or watch the user data
    stream) before deciding anything.

    Attributes:
        client_order_id: the order's ``newClientOrderId`` (or a withdrawal's id).
        symbol: the order's symbol (None for withdrawals).
        cause: the last error seen while trying to find out.
    """

    def __init__(
        self, client_order_id: str, symbol: str | None = None, cause: BaseException | None = None
    ) -> None:
        self.client_order_id = client_order_id
        self.symbol = symbol
        self.cause = cause
        super().__init__(
            f"status of {symbol or 'request'} {client_order_id!r} unknown "
            f"(last error: {type(cause).__name__ if cause else 'none'})"
        )


# -- local -----------------------------------------------------------------------------------------


class BinanceParameterException(BinanceError, ValueError):
    """A bad argument, found before anything was sent; the message names it."""


class BinanceOrderException(BinanceError, ValueError):
    """An order breaks the symbol's trading rules; nothing was sent.

    Attributes:
        code: the error code Binance would have answered (``-1013`` for filter failures).
        message: the text Binance would have sent (``"Filter failure: LOT_SIZE"``) plus detail.
        filter_type: the failed filter (``"LOT_SIZE"``...), or None.
        detail: a human explanation (the limit and the value).
    """

    def __init__(
        self,
        code: int,
        message: str,
        *,
        filter_type: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.filter_type = filter_type
        self.detail = detail
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"BinanceOrderException(code={self.code}): {self.message}"
        return f"{text} ({self.detail})" if self.detail and self.detail != self.message else text


class _FilterOrderException(BinanceOrderException):
    """Seed signature ``Cls(value)``; ``value`` is the failure text."""

    _code = errorcodes.INVALID_MESSAGE.code
    _message: str | None = None  # None: "Filter failure: <filter_type>"

    def __init__(
        self, value: Any, *, filter_type: str | None = None, detail: str | None = None
    ) -> None:
        message = self._message or (
            errorcodes.INVALID_MESSAGE.msg(filter_type) if filter_type else str(value)
        )
        super().__init__(self._code, message, filter_type=filter_type, detail=detail or str(value))


class BinanceOrderMinAmountException(_FilterOrderException):
    """The quantity breaks LOT_SIZE / MARKET_LOT_SIZE (too small, too big, off-step)."""


class BinanceOrderMinPriceException(_FilterOrderException):
    """The price breaks PRICE_FILTER or PERCENT_PRICE(_BY_SIDE)."""


class BinanceOrderMinTotalException(_FilterOrderException):
    """price x quantity breaks MIN_NOTIONAL / NOTIONAL."""


#: The name the seed's prose used for `BinanceOrderMinTotalException`.
BinanceOrderTotalPriceException = BinanceOrderMinTotalException


class BinanceOrderUnknownSymbolException(_FilterOrderException):
    """No symbol of that name exists (Binance would answer -1121)."""

    _code = errorcodes.BAD_SYMBOL.code
    _message = errorcodes.BAD_SYMBOL.message


class BinanceOrderInactiveSymbolException(_FilterOrderException):
    """The symbol exists but is not TRADING (halted, break, end of day...)."""

    _code = errorcodes.NEW_ORDER_REJECTED.code
    _message = errorcodes.EngineMessage.MARKET_CLOSED
