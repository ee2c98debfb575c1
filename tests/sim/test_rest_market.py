"""Market-data endpoints over real HTTP: shapes (spec schema + documented keys), weights, errors."""

from __future__ import annotations

import pytest

from schemas_util import load_example, validate_response


def example_keys(name: str) -> set[str] | int:
    data = load_example(name)
    first = data[0] if isinstance(data, list) else data
    return len(first) if isinstance(first, list) else set(first)


def shape(payload) -> set[str] | int:
    first = payload[0] if isinstance(payload, list) else payload
    return len(first) if isinstance(first, list) else set(first)


def _error(reply) -> tuple[int, int, str]:
    body = reply.json()
    return reply.status_code, body["code"], body["msg"]


CASES = [
    ("/api/v3/ping", {}, "ping.json"),
    ("/api/v3/time", {}, "time.json"),
    ("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 10}, "depth.json"),
    ("/api/v3/trades", {"symbol": "BTCUSDT", "limit": 5}, "trades.json"),
    ("/api/v3/historicalTrades", {"symbol": "BTCUSDT", "limit": 5}, "historicalTrades.json"),
    ("/api/v3/aggTrades", {"symbol": "BTCUSDT", "limit": 5}, "aggTrades.json"),
    ("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1h", "limit": 3}, "klines.json"),
    ("/api/v3/uiKlines", {"symbol": "BTCUSDT", "interval": "1d", "limit": 3}, "uiKlines.json"),
    ("/api/v3/ticker/bookTicker", {"symbol": "BTCUSDT"}, "ticker_bookTicker.json"),
    ("/api/v3/ticker/bookTicker", {}, "ticker_bookTicker.json"),
]


@pytest.mark.parametrize(("path", "params", "example"), CASES, ids=lambda v: str(v))
def test_public_endpoint_shapes(sim_rest, path, params, example):
    """Each public endpoint answers 200 with the spec's schema and the documented keys."""
    reply = sim_rest.get(path, params=params)
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"].startswith("application/json")
    payload = reply.json()
    validate_response("GET", path, payload)
    if payload not in ({}, []):
        assert shape(payload) == example_keys(example)


def test_exchange_info_shape_and_configured_rate_limits(sim, sim_rest):
    """exchangeInfo validates and reports the server's configured limits."""
    reply = sim_rest.get("/api/v3/exchangeInfo")
    assert reply.status_code == 200
    payload = reply.json()
    validate_response("GET", "/api/v3/exchangeInfo", payload)
    assert set(payload) <= example_keys("exchangeInfo.json")
    assert payload["rateLimits"] == sim.limits.rate_limits()
    one = sim_rest.get("/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"}).json()
    assert [s["symbol"] for s in one["symbols"]] == ["BTCUSDT"]
    two = sim_rest.get("/api/v3/exchangeInfo", params={"symbols": '["ETHUSDT","BTCUSDT"]'}).json()
    assert [s["symbol"] for s in two["symbols"]] == ["ETHUSDT", "BTCUSDT"]


def test_weights_in_headers(sim_rest):
    """X-MBX-USED-WEIGHT-1M grows by each call's weight (depth: 5, 25, 50, 250 by limit)."""

    def used(reply) -> int:
        assert reply.headers["X-MBX-USED-WEIGHT"] == reply.headers["X-MBX-USED-WEIGHT-1M"]
        return int(reply.headers["X-MBX-USED-WEIGHT-1M"])

    for limit, weight in ((5, 5), (500, 25), (1000, 50), (5000, 250)):
        before = used(sim_rest.get("/api/v3/ping"))
        after = used(sim_rest.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": limit}))
        if after < before:  # the minute rolled over between the two calls
            continue
        assert after - before == weight


def test_depth_limit_above_5000_is_served_as_5000(sim_rest):
    """NOTES.md §4.1: depth limit above 5000 is truncated, not refused."""
    reply = sim_rest.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 9000})
    assert reply.status_code == 200
    payload = reply.json()
    assert len(payload["bids"]) <= 5000 and len(payload["asks"]) <= 5000


def test_klines_limit_is_capped_and_time_zone_applies(sim_rest):
    """klines: more than 1000 asked gives 1000; timeZone shifts the interval boundaries."""
    reply = sim_rest.get(
        "/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1m", "limit": 1500}
    )
    assert reply.status_code == 200 and len(reply.json()) == 1000
    utc = sim_rest.get(
        "/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1d", "limit": 2}
    ).json()
    tz = sim_rest.get(
        "/api/v3/klines",
        params={"symbol": "BTCUSDT", "interval": "1d", "limit": 2, "timeZone": "8"},
    ).json()
    assert utc[0][0] % 86_400_000 == 0
    assert (tz[0][0] + 8 * 3_600_000) % 86_400_000 == 0


def test_unknown_path_is_an_html_404(sim_rest):
    """Binance answers unknown paths with an HTML 404 page, not JSON and never a 500."""
    for path in ("/api/v3/nothing", "/api/v1/ping", "/"):
        reply = sim_rest.get(path)
        assert reply.status_code == 404
        assert reply.headers["Content-Type"].startswith("text/html")
        assert "404" in reply.text


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        (
            "/api/v3/depth",
            {"symbol": "btcusdt"},
            (
                400,
                -1100,
                "Illegal characters found in parameter 'symbol'; legal range is "
                "'^[\\w\\-._&&[^a-z]]{1,50}$'.",
            ),
        ),
        (
            "/api/v3/depth",
            "symbol=BTCUSDT&symbol=BTCUSDT",
            (400, -1101, "Duplicate values for a parameter detected."),
        ),
        (
            "/api/v3/ping",
            {"x": "1"},
            (400, -1101, "Too many parameters; expected '0' and received '1'."),
        ),
        (
            "/api/v3/aggTrades",
            {},
            (
                400,
                -1102,
                "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
            ),
        ),
        (
            "/api/v3/klines",
            {"fromId": "1", "symbol": "BNBBTC", "interval": "1h"},
            (
                400,
                -1104,
                "Not all sent parameters were read; read '2' parameter(s) but was sent '3'.",
            ),
        ),
        (
            "/api/v3/trades",
            {"symbol": "BTCUSDT", "limit": ""},
            (400, -1105, "Parameter 'limit' was empty."),
        ),
        ("/api/v3/depth", {"symbol": "NOSUCHPAIR"}, (400, -1121, "Invalid symbol.")),
        (
            "/api/v3/klines",
            {"symbol": "BTCUSDT", "interval": "2m"},
            (400, -1120, "Invalid interval."),
        ),
        (
            "/api/v3/klines",
            {"symbol": "BTCUSDT", "interval": "1m", "timeZone": "15"},
            (400, -1130, "Data sent for parameter 'timeZone' is not valid."),
        ),
        (
            "/api/v3/aggTrades",
            {"symbol": "BTCUSDT", "limit": "-1"},
            (
                400,
                -1100,
                "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.",
            ),
        ),
        (
            "/api/v3/ticker/price",
            {"symbols": '["BTCUSDT","BTCUSDT"]'},
            (400, -1151, "Symbol is present multiple times in the list."),
        ),
        (
            "/api/v3/ticker/bookTicker",
            {"symbol": "BTCUSDT", "symbols": '["BTCUSDT"]'},
            (400, -1128, "Combination of optional parameters invalid."),
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_parameter_errors(sim_rest, path, params, expected):
    """Each class of bad input gets Binance's code, message and HTTP 400."""
    if isinstance(params, str):
        reply = sim_rest.session.get(f"{sim_rest.base_url}{path}?{params}")
    else:
        reply = sim_rest.get(path, params=params)
    assert _error(reply) == expected
    assert "X-MBX-USED-WEIGHT-1M" in reply.headers


TICKER_CASES = [
    ("/api/v3/avgPrice", {"symbol": "BTCUSDT"}, "avgPrice.json"),
    ("/api/v3/ticker/24hr", {"symbol": "BTCUSDT"}, "ticker_24hr.json"),
    ("/api/v3/ticker/24hr", {"symbol": "BTCUSDT", "type": "MINI"}, "ticker_24hr_mini.json"),
    ("/api/v3/ticker/24hr", {"symbols": '["BTCUSDT","ETHUSDT"]'}, "ticker_24hr.json"),
    ("/api/v3/ticker/24hr", {}, "ticker_24hr.json"),
    ("/api/v3/ticker", {"symbol": "BTCUSDT", "windowSize": "2h"}, "ticker_window.json"),
    ("/api/v3/ticker", {"symbols": '["BTCUSDT"]', "type": "MINI"}, "ticker_window_mini.json"),
    (
        "/api/v3/ticker/tradingDay",
        {"symbol": "BTCUSDT", "timeZone": "-1:00"},
        "ticker_tradingDay.json",
    ),
    (
        "/api/v3/ticker/tradingDay",
        {"symbol": "BTCUSDT", "type": "MINI"},
        "ticker_tradingDay_mini.json",
    ),
    ("/api/v3/ticker/price", {"symbol": "BTCUSDT"}, "ticker_price.json"),
    ("/api/v3/ticker/price", {}, "ticker_price.json"),
]


@pytest.mark.parametrize(("path", "params", "example"), TICKER_CASES, ids=lambda v: str(v))
def test_ticker_shapes(sim_rest, path, params, example):
    """Tickers and avgPrice validate and carry exactly the documented keys."""
    reply = sim_rest.get(path, params=params)
    assert reply.status_code == 200, reply.text
    payload = reply.json()
    validate_response("GET", path, payload)
    assert shape(payload) == example_keys(example)
    single = "symbol" in params
    assert isinstance(payload, dict) == single


def test_ticker_errors(sim_rest):
    """Tickers refuse bad windows (-1130), types (-1139) and unknown symbols (-1121)."""
    assert _error(sim_rest.get("/api/v3/ticker", params={"symbol": "BTCUSDT", "windowSize": "8d"}))[
        :2
    ] == (400, -1130)
    assert _error(sim_rest.get("/api/v3/ticker/24hr", params={"type": "FOO"}))[:2] == (400, -1139)
    reply = sim_rest.get("/api/v3/ticker/price", params={"symbols": '["BTCUSDT","NOPEUSDT"]'})
    assert _error(reply) == (400, -1121, "Invalid symbol.")
    reply = sim_rest.get("/api/v3/ticker/tradingDay")
    assert _error(reply) == (
        400,
        -1102,
        "Param 'symbol' or 'symbols' must be sent, but both were empty/null!",
    )
