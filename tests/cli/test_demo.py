"""`binance demo` as a new user runs it: a subprocess that ends by itself with status 0."""

from __future__ import annotations

import pytest

from binance.cli import build_parser
from binance.cli._common import Connection
from binance.cli.demo import _live_endpoints
from binance.sim import LocalExchange

from .conftest import TIMEOUT_SCALE, refused_url, spawn, stop_process

SECTIONS = [
    "1. A client",
    "Market depth",
    "A test market order",
    "Prices of every symbol",
    "A real limit order, then its cancellation",
    "CANCELED",
    "Account balances",
    "Withdraw 100 ETH",
    "Success: withdrawal id",
    "A deposit address",
    "Live aggregated trades",
    "aggTrade",
    "A depth cache",
    "SYNCED",
    "Klines history",
    "ETHBTC 30m: 1489 klines, 2017-12-01 00:00:00 UTC to 2018-01-01 00:00:00 UTC",
    "Done.",
]


def test_demo_runs_the_quick_start_and_exits_0():
    """Every step of the tour appears, in the quick start's order; no key is ever shown."""
    proc = spawn("demo", "--fast")
    try:
        stdout, stderr = proc.communicate(timeout=60 * TIMEOUT_SCALE)
    finally:
        stop_process(proc)
    assert proc.returncode == 0, stderr
    positions = [stdout.find(section) for section in SECTIONS]
    assert all(p >= 0 for p in positions), [
        s for s, p in zip(SECTIONS, positions, strict=True) if p < 0
    ]
    assert positions == sorted(positions)
    assert "Traceback" not in stderr
    local = LocalExchange()  # the demo's exchange: seed 0, so the same keys (never started)
    assert local.api_key not in stdout + stderr
    assert local.api_secret not in stdout + stderr


@pytest.mark.parametrize("extra", [[], ["--fast"]])
def test_demo_live_without_network_fails_fast(extra):
    """--live against an exchange that cannot be reached: exit 1 with a clear message."""
    url = refused_url()
    proc = spawn("demo", "--live", "--base-url", url, *extra)
    try:
        stdout, stderr = proc.communicate(timeout=30 * TIMEOUT_SCALE)
    finally:
        stop_process(proc)
    assert proc.returncode == 1
    assert f"cannot reach {url}" in stderr
    assert "--live needs network access" in stderr
    assert "Traceback" not in stderr


LIVE_SECTIONS = [
    "binance demo --live: public market data from {url}",
    "1. The exchange's clock",
    "server time 20",
    "2. Market depth",
    "lastUpdateId",
    "3. Prices of every symbol",
    "4. Live aggregated trades (1 s)",
    "aggregated trade(s) in 1 s; bm.close() stopped the socket",
    "5. A depth cache",
    "BNBBTC  SYNCED  update id",
    "\nfrom {url}\n",  # the depth cache view's source line
    "6. Klines history",
    "BNBBTC 1m: 14",
    "ETHBTC 30m: 1489 klines, 2017-12-01 00:00:00 UTC to 2018-01-01 00:00:00 UTC",
    "Done. No keys were used",
]


def test_demo_live_runs_its_public_steps_against_the_exchange_given(sim):
    """--live --base-url URL: every public-data step runs against that exchange, in order, and
    the demo ends with status 0; no step needs a key."""
    proc = spawn("demo", "--live", "--fast", "--base-url", sim.rest_url)
    try:
        stdout, stderr = proc.communicate(timeout=60 * TIMEOUT_SCALE)
    finally:
        stop_process(proc)
    assert proc.returncode == 0, stderr
    expected = [s.format(url=sim.rest_url) for s in LIVE_SECTIONS]
    positions = [stdout.find(section) for section in expected]
    assert all(p >= 0 for p in positions), [
        s for s, p in zip(expected, positions, strict=True) if p < 0
    ]
    assert positions == sorted(positions)
    for private in ("test market order", "limit order", "balances", "Withdraw", "deposit"):
        assert private not in stdout
    assert stderr == ""


@pytest.mark.parametrize(
    ("argv", "rest", "stream"),
    [
        ([], "https://data-api.binance.vision", "wss://data-stream.binance.vision"),
        (
            ["--stream-url", "wss://stream.binance.com:9443"],
            "https://data-api.binance.vision",
            "wss://stream.binance.com:9443",
        ),
        (
            ["--base-url", "https://api.binance.com"],
            "https://api.binance.com",
            "wss://stream.binance.com:9443",
        ),
        (["--base-url", "http://127.0.0.1:9"], "http://127.0.0.1:9", "ws://127.0.0.1:9"),
        (["--testnet"], None, None),
    ],
    ids=["default", "own-stream", "api-host", "any-host", "testnet"],
)
def test_demo_live_endpoints(argv, rest, stream):
    """--live uses Binance's public market-data hosts unless --base-url/--stream-url (or
    --testnet) say otherwise; a Binance REST host brings its own stream host."""
    args = build_parser().parse_args(["demo", "--live", *argv])
    _live_endpoints(args)
    conn = Connection(args)
    assert (conn.rest_url, conn.stream_url) == (rest, stream)
    if args.testnet:
        client = conn.client()
        assert client.API_URL == "https://testnet.binance.vision"
        assert client.stream_url == "wss://stream.testnet.binance.vision"
    conn.close()
