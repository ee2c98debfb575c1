"""Binance's error codes and messages: one table for the client and the simulator.

Codes and texts follow Binance's ``errors.md`` (see ``shared/binance-api/NOTES.md`` section 7).
The simulator renders these to ``{"code": ..., "msg": ...}`` and the client maps them to
exceptions, so a wording fixed here is fixed on both sides. Message templates use ``%s``
placeholders exactly where Binance's do; ``ErrorCode.msg(*args)`` fills them in.

No I/O here; nothing in this module imports the client or the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ErrorCode", "EngineMessage", "BY_CODE"]


@dataclass(frozen=True)
class ErrorCode:
    """One Binance error: its numeric code, its name, a default message and HTTP status."""

    code: int
    name: str
    message: str
    http_status: int = 400

    def msg(self, *args: object) -> str:
        """The default message with its ``%s`` placeholders filled by ``args`` (if any)."""
        return self.message % args if args else self.message

    def payload(self, message: str | None = None) -> dict[str, object]:
        """The JSON body Binance sends for this error."""
        return {"code": self.code, "msg": message if message is not None else self.message}


BY_CODE: dict[int, ErrorCode] = {}


def _define(code: int, name: str, message: str, http_status: int = 400) -> ErrorCode:
    error = ErrorCode(code, name, message, http_status)
    BY_CODE.setdefault(code, error)
    return error


# -- 10xx: general server or network issues ------------------------------------------------------
UNKNOWN = _define(-1000, "UNKNOWN", "An unknown error occurred while processing the request.", 500)
DISCONNECTED = _define(
    -1001, "DISCONNECTED", "Internal error; unable to process your request. Please try again.", 503
)
UNAUTHORIZED = _define(
    -1002, "UNAUTHORIZED", "You are not authorized to execute this request.", 401
)
TOO_MANY_REQUESTS = _define(
    -1003,
    "TOO_MANY_REQUESTS",
    "Too much request weight used; current limit is %s request weight per %s. "
    "Please use WebSocket Streams for live updates to avoid polling the API.",
    429,
)
IP_BANNED = ErrorCode(
    -1003,
    "TOO_MANY_REQUESTS",
    "Way too much request weight used; IP banned until %s. "
    "Please use WebSocket Streams for live updates to avoid bans.",
    418,
)
UNEXPECTED_RESP = _define(
    -1006,
    "UNEXPECTED_RESP",
    "An unexpected response was received from the message bus. Execution status unknown.",
    503,
)
TIMEOUT = _define(
    -1007,
    "TIMEOUT",
    "Timeout waiting for response from backend server. "
    "Send status unknown; execution status unknown.",
    503,
)
SERVER_BUSY = _define(
    -1008,
    "SERVER_BUSY",
    "Server is currently overloaded with other requests. Please try again in a few minutes.",
    503,
)
ERROR_MSG_RECEIVED = _define(-1010, "ERROR_MSG_RECEIVED", "ERROR_MSG_RECEIVED.")
INVALID_MESSAGE = _define(-1013, "INVALID_MESSAGE", "Filter failure: %s")
UNKNOWN_ORDER_COMPOSITION = _define(
    -1014, "UNKNOWN_ORDER_COMPOSITION", "Unsupported order combination."
)
TOO_MANY_ORDERS = _define(
    -1015, "TOO_MANY_ORDERS", "Too many new orders; current limit is %s orders per %s.", 429
)
SERVICE_SHUTTING_DOWN = _define(
    -1016, "SERVICE_SHUTTING_DOWN", "This service is no longer available.", 503
)
UNSUPPORTED_OPERATION = _define(-1020, "UNSUPPORTED_OPERATION", "This operation is not supported.")
INVALID_TIMESTAMP = _define(
    -1021, "INVALID_TIMESTAMP", "Timestamp for this request is outside of the recvWindow."
)
TIMESTAMP_AHEAD = ErrorCode(
    -1021,
    "INVALID_TIMESTAMP",
    "Timestamp for this request was 1000ms ahead of the server's time.",
)
INVALID_SIGNATURE = _define(-1022, "INVALID_SIGNATURE", "Signature for this request is not valid.")

# -- 11xx: request issues -------------------------------------------------------------------------
ILLEGAL_CHARS = _define(
    -1100, "ILLEGAL_CHARS", "Illegal characters found in parameter '%s'; legal range is '%s'."
)
TOO_MANY_PARAMETERS = _define(
    -1101, "TOO_MANY_PARAMETERS", "Too many parameters sent for this endpoint."
)
DUPLICATE_PARAMETER = ErrorCode(
    -1101, "TOO_MANY_PARAMETERS", "Duplicate values for a parameter detected."
)
MANDATORY_PARAM_EMPTY_OR_MALFORMED = _define(
    -1102,
    "MANDATORY_PARAM_EMPTY_OR_MALFORMED",
    "Mandatory parameter '%s' was not sent, was empty/null, or malformed.",
)
PARAM_EITHER_REQUIRED = ErrorCode(
    -1102,
    "MANDATORY_PARAM_EMPTY_OR_MALFORMED",
    "Param '%s' or '%s' must be sent, but both were empty/null!",
)
PARAM_TOO_LARGE = ErrorCode(
    -1102,
    "MANDATORY_PARAM_EMPTY_OR_MALFORMED",
    "'%s' contains unexpected value. Cannot be greater than %s.",
)
UNKNOWN_PARAM = _define(-1103, "UNKNOWN_PARAM", "An unknown parameter was sent.")
UNREAD_PARAMETERS = _define(
    -1104,
    "UNREAD_PARAMETERS",
    "Not all sent parameters were read; read '%s' parameter(s) but was sent '%s'.",
)
PARAM_EMPTY = _define(-1105, "PARAM_EMPTY", "Parameter '%s' was empty.")
PARAM_NOT_REQUIRED = _define(-1106, "PARAM_NOT_REQUIRED", "Parameter '%s' sent when not required.")
PARAM_OVERFLOW = _define(-1108, "PARAM_OVERFLOW", "Parameter '%s' overflowed.")
BAD_PRECISION = _define(-1111, "BAD_PRECISION", "Parameter '%s' has too much precision.")
NO_DEPTH = _define(-1112, "NO_DEPTH", "No orders on book for symbol.")
TIF_NOT_REQUIRED = _define(
    -1114, "TIF_NOT_REQUIRED", "TimeInForce parameter sent when not required."
)
INVALID_TIF = _define(-1115, "INVALID_TIF", "Invalid timeInForce.")
INVALID_ORDER_TYPE = _define(-1116, "INVALID_ORDER_TYPE", "Invalid orderType.")
INVALID_SIDE = _define(-1117, "INVALID_SIDE", "Invalid side.")
EMPTY_NEW_CL_ORD_ID = _define(-1118, "EMPTY_NEW_CL_ORD_ID", "New client order ID was empty.")
EMPTY_ORG_CL_ORD_ID = _define(-1119, "EMPTY_ORG_CL_ORD_ID", "Original client order ID was empty.")
BAD_INTERVAL = _define(-1120, "BAD_INTERVAL", "Invalid interval.")
BAD_SYMBOL = _define(-1121, "BAD_SYMBOL", "Invalid symbol.")
INVALID_SYMBOLSTATUS = _define(-1122, "INVALID_SYMBOLSTATUS", "Invalid symbolStatus.")
INVALID_LISTEN_KEY = _define(-1125, "INVALID_LISTEN_KEY", "This listenKey does not exist.")
MORE_THAN_XX_HOURS = _define(
    -1127, "MORE_THAN_XX_HOURS", "More than %s hours between startTime and endTime."
)
OPTIONAL_PARAMS_BAD_COMBO = _define(
    -1128, "OPTIONAL_PARAMS_BAD_COMBO", "Combination of optional parameters invalid."
)
INVALID_PARAMETER = _define(
    -1130, "INVALID_PARAMETER", "Data sent for parameter '%s' is not valid."
)
BAD_STRATEGY_TYPE = _define(-1134, "BAD_STRATEGY_TYPE", "`strategyType` was less than 1000000.")
INVALID_JSON = _define(-1135, "INVALID_JSON", "JSON sent for parameter '%s' is not valid")
INVALID_TICKER_TYPE = _define(-1139, "INVALID_TICKER_TYPE", "Invalid ticker type.")
INVALID_CANCEL_RESTRICTIONS = _define(
    -1145,
    "INVALID_CANCEL_RESTRICTIONS",
    "`cancelRestrictions` has to be either `ONLY_NEW` or `ONLY_PARTIALLY_FILLED`.",
)
DUPLICATE_SYMBOLS = _define(
    -1151, "DUPLICATE_SYMBOLS", "Symbol is present multiple times in the list."
)
INVALID_TIME_UNIT = _define(
    -1194,
    "INVALID_TIME_UNIT",
    "Invalid value for time unit; expected either MICROSECOND or MILLISECOND.",
)
SYMBOL_DOES_NOT_MATCH_STATUS = _define(
    -1220,
    "SYMBOL_DOES_NOT_MATCH_STATUS",
    "The symbol's status does not match the requested symbolStatus.",
)

# -- 20xx: order and key issues -------------------------------------------------------------------
NEW_ORDER_REJECTED = _define(-2010, "NEW_ORDER_REJECTED", "NEW_ORDER_REJECTED")
CANCEL_REJECTED = _define(-2011, "CANCEL_REJECTED", "CANCEL_REJECTED")
NO_SUCH_ORDER = _define(-2013, "NO_SUCH_ORDER", "Order does not exist.")
BAD_API_KEY_FMT = _define(-2014, "BAD_API_KEY_FMT", "API-key format invalid.", 401)
REJECTED_MBX_KEY = _define(
    -2015, "REJECTED_MBX_KEY", "Invalid API-key, IP, or permissions for action.", 401
)
NO_TRADING_WINDOW = _define(
    -2016,
    "NO_TRADING_WINDOW",
    "No trading window could be found for the symbol. Try ticker/24hrs instead.",
)
CANCEL_REPLACE_PARTIAL = _define(
    -2021, "CANCEL_REPLACE_PARTIALLY_FAILED", "Order cancel-replace partially failed.", 409
)
CANCEL_REPLACE_FAILED = _define(-2022, "CANCEL_REPLACE_FAILED", "Order cancel-replace failed.")
ORDER_ARCHIVED = _define(
    -2026,
    "ORDER_ARCHIVED",
    "Order was canceled or expired with no executed qty over 90 days ago and has been archived.",
)
SUBSCRIPTION_ACTIVE = _define(
    -2035, "SUBSCRIPTION_ACTIVE", "User Data Stream subscription already active."
)
SUBSCRIPTION_INACTIVE = _define(
    -2036, "SUBSCRIPTION_INACTIVE", "User Data Stream subscription not active."
)
CLIENT_ORDER_ID_INVALID = _define(
    -2039, "CLIENT_ORDER_ID_INVALID", "Client order ID is not correct for this order ID."
)
MAXIMUM_SUBSCRIPTION_IDS = _define(
    -2042, "MAXIMUM_SUBSCRIPTION_IDS", "Maximum subscription ID reached for this connection."
)

# -- wallet (/sapi) -------------------------------------------------------------------------------
# SAPI answers with its own -3xxx/-4xxx family (NOTES.md 7.1 names -4106). Binance publishes no
# complete wallet table, so the other codes here are the simulator's choice, kept in one place so
# the client and the simulator agree; treat their numbers as ours, not Binance's.
WALLET_INVALID_ADDRESS = _define(-4003, "WITHDRAW_ADDRESS_INVALID", "Invalid address.")
WALLET_AMOUNT_TOO_LOW = _define(
    -4006,
    "WITHDRAW_AMOUNT_TOO_LOW",
    "Withdrawal amount must be greater than the minimum withdrawal amount.",  # noqa: E501
)
WALLET_AMOUNT_TOO_HIGH = _define(
    -4007,
    "WITHDRAW_AMOUNT_TOO_HIGH",
    "Withdrawal amount must be less than the maximum withdrawal amount.",  # noqa: E501
)
WALLET_INSUFFICIENT_BALANCE = _define(
    -4026, "WITHDRAW_INSUFFICIENT_BALANCE", "Insufficient balance."
)
WALLET_WITHDRAW_DISABLED = _define(
    -4019, "WITHDRAW_NOT_ALLOWED", "Current asset is not open for withdrawal."
)
WALLET_INVALID_NETWORK = _define(-4088, "INVALID_NETWORK", "Invalid network.")
WALLET_UNKNOWN_COIN = _define(-4081, "INVALID_COIN", "Invalid coin.")
WALLET_TAG_NOT_SUPPORTED = _define(
    -4106, "TAG_NOT_SUPPORTED_FOR_NETWORK", "Address tag is not supported for this network."
)
WALLET_WITHDRAW_FEE_TOO_LOW = _define(
    -4020, "WITHDRAW_AMOUNT_BELOW_FEE", "Withdrawal amount must be greater than the fee."
)


class EngineMessage:
    """Exact matching-engine messages carried by -1010, -2010, -2011 and -2038 (NOTES.md 7.2)."""

    UNKNOWN_ORDER = "Unknown order sent."
    DUPLICATE_ORDER = "Duplicate order sent."
    MARKET_CLOSED = "Market is closed."
    INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."
    MARKET_NOT_SUPPORTED = "Market orders are not supported for this symbol."
    ICEBERG_NOT_SUPPORTED = "Iceberg orders are not supported for this symbol."
    STOP_LOSS_NOT_SUPPORTED = "Stop loss orders are not supported for this symbol."
    STOP_LOSS_LIMIT_NOT_SUPPORTED = "Stop loss limit orders are not supported for this symbol."
    TAKE_PROFIT_NOT_SUPPORTED = "Take profit orders are not supported for this symbol."
    TAKE_PROFIT_LIMIT_NOT_SUPPORTED = "Take profit limit orders are not supported for this symbol."
    PRICE_QTY_ZERO = "Price * QTY is zero or less."
    ICEBERG_EXCEEDS_QTY = "IcebergQty exceeds QTY."
    ACTION_DISABLED = "This action is disabled on this account."
    ACCOUNT_CANNOT_TRADE = "This account may not place or cancel orders."
    UNSUPPORTED_COMBINATION = "Unsupported order combination"
    WOULD_TRIGGER_IMMEDIATELY = "Order would trigger immediately."
    CANCEL_INVALID = "Cancel order is invalid. Check origClOrdId and orderId."
    WOULD_MATCH_AND_TAKE = "Order would immediately match and take."
    BAD_PRICE_RELATIONSHIP = "The relationship of the prices for the orders is not correct."
    QUOTE_ORDER_QTY_NOT_SUPPORTED = (
        "Quote order qty market orders are not support for this symbol."  # sic, Binance's text
    )
    CANCEL_REPLACE_NOT_SUPPORTED = "Order cancel-replace is not supported for this symbol."
    SYMBOL_NOT_PERMITTED = "This symbol is not permitted for this account."
    CANCEL_RESTRICTIONS_NOT_MET = "Order was not canceled due to cancel restrictions."
    REST_TRADING_DISABLED = "Rest API trading is not enabled."
    WS_TRADING_DISABLED = "WebSocket API trading is not enabled."
    LIQUIDITY_BELOW_LOT_SIZE = (
        "Order book liquidity is less than `LOT_SIZE` filter minimum quantity."
    )
    LIQUIDITY_BELOW_MARKET_LOT_SIZE = (
        "Order book liquidity is less than `MARKET_LOT_SIZE` filter minimum quantity."
    )
    LIQUIDITY_BELOW_MIN_QTY = "Order book liquidity is less than symbol minimum quantity."
    NO_STATE_CHANGE = "The requested action would change no state; rejecting"
    TRAILING_STOP_NOT_SUPPORTED = "Trailing stop orders are not supported for this symbol."


# -- appended by the simulator's REST adapter -----------------------------------------------------
TOO_MANY_PARAMETERS_COUNT = ErrorCode(
    -1101, "TOO_MANY_PARAMETERS", "Too many parameters; expected '%s' and received '%s'."
)
# RAW_REQUESTS over its limit: Binance documents no text of its own; ours, in -1003's style.
TOO_MANY_RAW_REQUESTS = ErrorCode(
    -1003,
    "TOO_MANY_REQUESTS",
    "Too many requests; current limit is %s requests per %s. "
    "Please use WebSocket Streams for live updates to avoid polling the API.",
    429,
)


# -- appended by the simulator's wallet (our numbers, like the WALLET_* codes above) --------------
WALLET_AMOUNT_NOT_MULTIPLE = _define(
    -4005, "WITHDRAW_AMOUNT_PRECISION", "Withdrawal amount must be a multiple of %s."
)
WALLET_INVALID_ADDRESS_TAG = _define(-4107, "WITHDRAW_ADDRESS_TAG_INVALID", "Invalid address tag.")
WALLET_DUPLICATE_WITHDRAW_ORDER_ID = _define(
    -4108, "WITHDRAW_ORDER_ID_DUPLICATE", "Duplicate withdrawOrderId."
)
