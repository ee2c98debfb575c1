"""Unit tests of wire-parameter parsing and Binance's -11xx errors (no I/O)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from binance import _endpoints as ep
from binance import errorcodes
from binance.sim._params import parse_time_zone, parse_window_size, parse_wire, prepare
from binance.sim.engine import EngineError


def err(fn, *args) -> EngineError:
    with pytest.raises(EngineError) as exc:
        fn(*args)
    return exc.value


def test_query_wins_over_body_and_duplicates_are_1101():
    """NOTES.md §1.2: a name in query and body takes the query's value; repeats are -1101."""
    assert parse_wire("symbol=A&x=1", "symbol=B&y=2") == {"symbol": "A", "x": "1", "y": "2"}
    for query, body in (("a=1&a=1", ""), ("", "a=1&a=2")):
        e = err(parse_wire, query, body)
        assert (e.code, e.message) == (-1101, "Duplicate values for a parameter detected.")


def test_percent_decoding_and_plus():
    """Values are percent-decoded, '+' is a space, non-ASCII survives."""
    assert parse_wire("a=%E4%BD%A0%E5%A5%BD&b=x+y&c=%5B%22A%22%5D") == {
        "a": "你好",
        "b": "x y",
        "c": '["A"]',
    }


def test_missing_mandatory_is_1102_with_its_name():
    """-1102 names the first missing mandatory parameter, before unread ones."""
    e = err(prepare, ep.KLINES, {"symbol": "BNBBTC"})
    assert e.code == -1102
    assert e.message == "Mandatory parameter 'interval' was not sent, was empty/null, or malformed."
    e = err(prepare, ep.KLINES, {"fromId": "1"})
    assert e.message == errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED.msg("symbol")


def test_unread_parameters_are_1104_with_counts():
    """An extra name is -1104 "read '2' parameter(s) but was sent '3'"."""
    e = err(prepare, ep.KLINES, {"fromId": "1", "symbol": "BNBBTC", "interval": "1h"})
    assert (e.code, e.message) == (
        -1104,
        "Not all sent parameters were read; read '2' parameter(s) but was sent '3'.",
    )


def test_more_parameters_than_the_endpoint_takes_is_1101():
    """Sending more names than the endpoint knows is -1101 "expected 'N' and received 'M'"."""
    e = err(prepare, ep.PING, {"a": "1"})
    assert (e.code, e.message) == (-1101, "Too many parameters; expected '0' and received '1'.")


def test_either_required():
    """one_of groups: -1102 "Param 'a' or 'b' must be sent"."""
    e = err(prepare, ep.GET_ORDER, {"symbol": "BTCUSDT", "timestamp": "1", "signature": "x"})
    assert (
        e.message
        == "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!"
    )


@pytest.mark.parametrize(
    ("name", "value", "code", "message"),
    [
        (
            "quantity",
            "1e-5",
            -1100,
            "Illegal characters found in parameter 'quantity'; legal range is "
            "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
        ),
        ("price", "-1", -1100, None),
        (
            "trailingDelta",
            "12a",
            -1100,
            "Illegal characters found in parameter 'trailingDelta'; "
            "legal range is '^[0-9]{1,20}$'.",
        ),
        ("side", "buy", -1117, "Invalid side."),
        ("type", "LIMITX", -1116, "Invalid orderType."),
        ("timeInForce", "GTD", -1115, "Invalid timeInForce."),
        (
            "newOrderRespType",
            "X",
            -1130,
            "Data sent for parameter 'newOrderRespType' is not valid.",
        ),
        ("newClientOrderId", "", -1118, "New client order ID was empty."),
        ("newClientOrderId", "has space", -1100, None),
        ("strategyType", "999999", -1134, "`strategyType` was less than 1000000."),
        ("stopPrice", "", -1105, "Parameter 'stopPrice' was empty."),
    ],
)
def test_order_parameter_formats(name, value, code, message):
    """Each malformed order parameter gets Binance's code and text."""
    values = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timestamp": "1",
        "signature": "x",
        name: value,
    }
    e = err(prepare, ep.ORDER, values)
    assert e.code == code
    if message is not None:
        assert e.message == message


def test_symbol_format():
    """Lower-case or punctuation in a symbol is -1100 with Binance's legal range."""
    e = err(prepare, ep.DEPTH, {"symbol": "btcusdt"})
    assert e.message == (
        "Illegal characters found in parameter 'symbol'; legal range is "
        "'^[\\w\\-._&&[^a-z]]{1,50}$'."
    )
    assert prepare(ep.DEPTH, {"symbol": "这是测试币456"})["symbol"] == "这是测试币456"


def test_symbols_array():
    """symbols is a compact JSON array; bad JSON is -1100, repeats -1151."""
    assert prepare(ep.TICKER_PRICE, {"symbols": '["BTCUSDT","ETHUSDT"]'})["symbols"] == [
        "BTCUSDT",
        "ETHUSDT",
    ]
    assert err(prepare, ep.TICKER_PRICE, {"symbols": "BTCUSDT"}).code == -1100
    assert err(prepare, ep.TICKER_PRICE, {"symbols": '["BTCUSDT","BTCUSDT"]'}).code == -1151


def test_typed_values():
    """Decimals, ints, booleans and enums come back typed."""
    out = prepare(
        ep.ORDER,
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.00100",
            "price": "20000.5",
            "newOrderRespType": "ACK",
            "timestamp": "1",
            "signature": "x",
            "recvWindow": "5000",
        },
    )
    assert out["quantity"] == Decimal("0.00100") and out["price"] == Decimal("20000.5")
    assert out["timeInForce"] == "GTC" and out["timestamp"] == "1"
    assert (
        prepare(ep.ACCOUNT, {"omitZeroBalances": "TRUE", "timestamp": "1", "signature": "x"})[
            "omitZeroBalances"
        ]
        is True
    )


def test_ticker_type_is_not_order_type():
    """`type` on ticker endpoints is FULL/MINI (-1139 otherwise)."""
    assert prepare(ep.TICKER_24HR, {"type": "MINI"})["type"] == "MINI"
    assert err(prepare, ep.TICKER_24HR, {"type": "LIMIT"}).code == -1139


def test_interval_and_limits():
    """Bad interval is -1120; limit 0 is -1130."""
    assert err(prepare, ep.KLINES, {"symbol": "A", "interval": "2m"}).code == -1120
    e = err(prepare, ep.KLINES, {"symbol": "A", "interval": "1m", "limit": "0"})
    assert (e.code, e.message) == (-1130, "Data sent for parameter 'limit' is not valid.")
    assert err(prepare, ep.KLINES, {"symbol": "A", "interval": "1m", "limit": "-1"}).code == -1100


@pytest.mark.parametrize(
    ("raw", "minutes"),
    [
        ("0", 0),
        ("8", 480),
        ("-1:00", -60),
        ("05:45", 345),
        ("+08:00", 480),
        ("-12:00", -720),
        ("14", 840),
    ],
)
def test_time_zone_values(raw, minutes):
    """timeZone accepts hours or hours:minutes with a sign, -12:00..+14:00."""
    assert parse_time_zone(raw) == minutes


@pytest.mark.parametrize("raw", ["15", "-12:30", "5:60", "abc", "", "+"])
def test_time_zone_rejections(raw):
    """Out of range or malformed time zones are refused (-1130 on the wire)."""
    with pytest.raises(ValueError):
        parse_time_zone(raw)
    if raw:
        assert (
            err(prepare, ep.KLINES, {"symbol": "A", "interval": "1m", "timeZone": raw}).code
            == -1130
        )


def test_window_sizes():
    """windowSize: 1m..59m, 1h..23h, 1d..7d."""
    assert parse_window_size("1m") == 60_000
    assert parse_window_size("23h") == 23 * 3_600_000
    assert parse_window_size("7d") == 7 * 86_400_000
    for raw in ("0m", "60m", "24h", "8d", "1w", "m"):
        with pytest.raises(ValueError):
            parse_window_size(raw)
