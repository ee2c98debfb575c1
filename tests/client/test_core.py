"""prepare() builds byte-exact requests; interpret() maps every answer to data or an exception."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from binance import _endpoints as E
from binance._core import PreparedRequest, Reply, interpret, keep_headers, prepare, wire_value
from binance._signing import HmacSigner
from binance.exceptions import (
    BinanceAPIException,
    BinanceError,
    BinanceParameterException,
    BinanceRateLimitException,
    BinanceRequestException,
    BinanceResponseException,
    BinanceWithdrawException,
)

KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
BASE = "https://api.binance.com"

VECTOR_PARAMS = {
    "symbol": "LTCBTC",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": Decimal("1.00000000"),
    "price": 0.1,
    "recvWindow": 5000,
}


def _signed(endpoint, params, ts=1499827319559):
    return prepare(
        endpoint,
        params,
        base_url=BASE,
        api_key=KEY,
        signer=HmacSigner(SECRET),
        timestamp_ms=ts,
    )


def test_signed_post_is_the_documented_vector_in_the_body():
    """NOTES.md §2.2: the body is the payload plus the documented signature."""
    request = _signed(E.ORDER, VECTOR_PARAMS)
    assert request.method == "POST"
    assert request.url == BASE + "/api/v3/order"
    assert request.body == (
        b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        b"&recvWindow=5000&timestamp=1499827319559&signature=" + SIGNATURE.encode()
    )
    assert request.headers == {
        "X-MBX-APIKEY": KEY,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert request.timestamp == 1499827319559
    assert request.recv_window_ms == 5000
    assert request.weight == 1


def test_signed_get_carries_the_same_signature_in_the_query():
    """The same parameters in a GET query string give the same signature (§2.2)."""
    request = _signed(E.GET_ORDER, {"symbol": "LTCBTC", "orderId": 7})
    assert request.body is None
    assert request.url.startswith(BASE + "/api/v3/order?symbol=LTCBTC&orderId=7&timestamp=")
    vector = _signed(E.ORDER_TEST, VECTOR_PARAMS)
    assert vector.body.endswith(b"&signature=" + SIGNATURE.encode())


def test_unsigned_get_has_no_key_and_no_timestamp():
    """Market data goes out bare: no key header, no timestamp, weight from the limit."""
    request = prepare(E.DEPTH, {"symbol": "BNBBTC", "limit": 1000}, base_url=BASE)
    assert request.url == BASE + "/api/v3/depth?symbol=BNBBTC&limit=1000"
    assert request.headers == {}
    assert request.timestamp is None
    assert request.weight == 50


def test_numbers_are_never_sent_in_scientific_notation():
    """Decimal, float, int and str all become plain decimal strings."""
    request = _signed(
        E.ORDER,
        {
            "symbol": "BNBBTC",
            "side": "SELL",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": 1e-7,
            "price": Decimal("1E+3"),
            "stopPrice": "1.5e-5",
            "icebergQty": 3,
        },
    )
    assert request.params["quantity"] == "0.0000001"
    assert request.params["price"] == "1000"
    assert request.params["stopPrice"] == "0.000015"
    assert request.params["icebergQty"] == "3"
    assert b"e-" not in request.body.lower() and b"e+" not in request.body.lower()


def test_wire_values():
    """Booleans are true/false, arrays compact JSON, None is left out."""
    assert wire_value("computeCommissionRates", True) == "true"
    assert wire_value("symbols", ["BTCUSDT", "BNBUSDT"]) == '["BTCUSDT","BNBUSDT"]'
    request = prepare(E.TICKER_PRICE, {"symbols": ("A", "B"), "symbol": None}, base_url=BASE)
    assert request.url == BASE + "/api/v3/ticker/price?symbols=%5B%22A%22%2C%22B%22%5D"
    assert request.weight == 4


def test_missing_required_parameter_is_a_local_value_error():
    """Nothing is built without a required parameter; the error names it."""
    with pytest.raises(BinanceParameterException, match="'symbol'") as info:
        prepare(E.DEPTH, {}, base_url=BASE)
    assert isinstance(info.value, ValueError)
    with pytest.raises(BinanceParameterException, match="orderId"):
        _signed(E.GET_ORDER, {"symbol": "X"})


def test_signed_call_without_credentials_is_refused_locally():
    """A signed endpoint needs a key and a signer."""
    with pytest.raises(BinanceParameterException, match="API key"):
        prepare(E.ACCOUNT, {}, base_url=BASE, timestamp_ms=1)
    with pytest.raises(BinanceParameterException, match="signed"):
        prepare(E.ACCOUNT, {}, base_url=BASE, api_key=KEY, timestamp_ms=1)


def test_caller_timestamp_is_replaced_and_recv_window_kept():
    """timestamp is ours; the caller's recvWindow is sent untouched."""
    request = _signed(E.ACCOUNT, {"recvWindow": 6000.346, "timestamp": 5}, ts=42)
    assert request.params == {"recvWindow": "6000.346", "timestamp": "42"}
    assert request.recv_window_ms == 6000.346


def test_secrets_are_redacted_in_repr():
    """Neither the signature nor the API key appears in repr() of a request."""
    request = _signed(E.GET_ORDER, {"symbol": "LTCBTC", "orderId": 7})
    text = repr(request)
    assert "signature=<redacted>" in text
    assert KEY not in text and request.url.split("signature=")[1] not in text
    assert request.redacted_headers()["X-MBX-APIKEY"] == "<redacted>"


def _reply(status, body, headers=None):
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return Reply(status, headers or {}, raw)


def test_interpret_returns_json():
    """A 200 answer is decoded as is."""
    assert interpret(_reply(200, {"serverTime": 1})) == {"serverTime": 1}
    assert interpret(_reply(200, [[1, "2"]])) == [[1, "2"]]
    assert interpret(_reply(200, {})) == {}


def test_interpret_api_error():
    """{"code","msg"} with 4xx becomes BinanceAPIException with every attribute."""
    request = prepare(E.DEPTH, {"symbol": "NOPE"}, base_url=BASE)
    reply = _reply(400, {"code": -1121, "msg": "Invalid symbol."})
    with pytest.raises(BinanceAPIException) as info:
        interpret(reply, request)
    exc = info.value
    assert (exc.status_code, exc.code, exc.message) == (400, -1121, "Invalid symbol.")
    assert exc.response is reply and exc.request is request
    assert str(exc) == "APIError(code=-1121): Invalid symbol."
    assert isinstance(exc, BinanceError)


@pytest.mark.parametrize("status", [429, 418])
def test_interpret_rate_limit(status):
    """429 and 418 carry retry_after from Retry-After."""
    reply = _reply(status, {"code": -1003, "msg": "Too much"}, {"retry-after": "17"})
    with pytest.raises(BinanceRateLimitException) as info:
        interpret(reply)
    assert info.value.retry_after == 17.0
    assert info.value.banned is (status == 418)
    assert isinstance(info.value, BinanceAPIException)


def test_interpret_wallet_failure_is_withdraw_exception():
    """A /sapi call's error is a BinanceWithdrawException (and still a BinanceAPIException)."""
    request = _signed(E.CAPITAL_WITHDRAW_APPLY, {"coin": "ETH", "address": "0xabc", "amount": 1})
    with pytest.raises(BinanceWithdrawException) as info:
        interpret(_reply(400, {"code": -4026, "msg": "Insufficient balance."}), request)
    assert info.value.code == -4026
    with pytest.raises(BinanceWithdrawException, match="msg-text"):
        interpret(_reply(200, {"success": False, "msg": "msg-text"}), request)


def test_interpret_non_json_is_request_exception():
    """An HTML error page becomes BinanceRequestException (the seed's BinanceResponseException)."""
    with pytest.raises(BinanceRequestException) as info:
        interpret(_reply(502, b"<html>Bad gateway</html>"))
    assert info.value.status_code == 502
    assert BinanceResponseException is BinanceRequestException


def test_interpret_5xx_json():
    """A 5xx with Binance's JSON is an API exception whose status says 'outcome unknown'."""
    with pytest.raises(BinanceAPIException) as info:
        interpret(_reply(503, {"code": -1007, "msg": "Timeout waiting for response"}))
    assert info.value.status_code == 503 and info.value.code == -1007


def test_keep_headers_lowercases_the_counters():
    """Only the governor's headers and Retry-After are kept, lower-cased."""
    kept = keep_headers(
        [
            ("X-MBX-USED-WEIGHT-1M", "12"),
            ("x-mbx-order-count-10s", "1"),
            ("Retry-After", "3"),
            ("Content-Type", "application/json"),
        ]
    )
    assert kept == {"x-mbx-used-weight-1m": "12", "x-mbx-order-count-10s": "1", "retry-after": "3"}


def test_prepared_request_is_not_comparable_by_value():
    """PreparedRequest objects are identities (flows yield them)."""
    a = prepare(E.PING, {}, base_url=BASE)
    assert isinstance(a, PreparedRequest) and a != prepare(E.PING, {}, base_url=BASE)


@pytest.mark.parametrize("window", [0, 60001, "abc"])
def test_recv_window_out_of_range_is_refused_locally(window):
    """recvWindow is milliseconds in (0, 60000] (NOTES.md §1.4)."""
    with pytest.raises(BinanceParameterException, match="recvWindow"):
        _signed(E.ACCOUNT, {"recvWindow": window})
