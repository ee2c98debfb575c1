"""Shared option parsing of the `binance` command (no network)."""

from __future__ import annotations

import argparse

import pytest

from binance.cli import _common
from binance.cli._common import Connection, UsageError


def parse(*argv: str, keys: bool = True) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    _common.add_connection_options(parser, keys=keys)
    return parser.parse_args(argv)


def test_symbols_are_upper_cased_and_deduplicated():
    """'btcusdt,ETHUSDT,btcusdt' -> ['BTCUSDT', 'ETHUSDT']."""
    assert _common.parse_symbols("btcusdt, ETHUSDT,btcusdt") == ["BTCUSDT", "ETHUSDT"]


@pytest.mark.parametrize("bad", ["", "BTC USDT", "BTC/USDT", "A" * 21])
def test_bad_symbols_are_argument_errors(bad):
    """Anything that cannot be a symbol is refused while parsing."""
    with pytest.raises(argparse.ArgumentTypeError, match="not a symbol"):
        _common.parse_symbols(bad)


def test_intervals_are_binances():
    """Every Binance interval is accepted; others are refused with the list."""
    assert _common.parse_interval("1M") == "1M"
    with pytest.raises(argparse.ArgumentTypeError, match="1s, 1m"):
        _common.parse_interval("7m")


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1 Dec, 2017", 1512086400000),
        ("Dec 1, 2017", 1512086400000),
        ("2017-12-01T00:00:00Z", 1512086400000),
        ("1512086400000", 1512086400000),
        ("1 day ago UTC", 1512086400000 - 86_400_000),
    ],
)
def test_dates_in_the_seeds_forms(text, ms):
    """Relative dates are read against the clock given (the exchange's)."""
    assert _common.parse_date(text, now_ms=lambda: 1512086400000) == ms


def test_a_bad_date_is_a_usage_error():
    """The message lists the accepted forms."""
    with pytest.raises(UsageError, match="1 Dec, 2017"):
        _common.parse_date("next tuesday")


def test_stream_urls_follow_the_base_url():
    """A custom REST host serves streams too (as `binance sim` does): ws(s) on the same host."""
    assert _common.derive_stream_urls("http://127.0.0.1:8080") == (
        "ws://127.0.0.1:8080",
        "ws://127.0.0.1:8080/ws-api/v3",
    )
    assert _common.derive_stream_urls("https://example.test/")[0] == "wss://example.test"
    # Another port is another server, even on Binance's host name.
    assert _common.derive_stream_urls("https://api.binance.com:8443")[0] == (
        "wss://api.binance.com:8443"
    )
    with pytest.raises(UsageError, match="port"):
        _common.derive_stream_urls("https://api.binance.com:port")


@pytest.mark.parametrize(
    ("rest", "stream", "ws_api"),
    [
        (
            "https://api.binance.com",
            "wss://stream.binance.com:9443",
            "wss://ws-api.binance.com:443/ws-api/v3",
        ),
        (
            "https://API3.binance.com/",
            "wss://stream.binance.com:9443",
            "wss://ws-api.binance.com:443/ws-api/v3",
        ),
        (
            "https://api.binance.com:443/",
            "wss://stream.binance.com:9443",
            "wss://ws-api.binance.com:443/ws-api/v3",
        ),
        (
            "https://data-api.binance.vision",
            "wss://data-stream.binance.vision",
            "wss://ws-api.binance.com:443/ws-api/v3",
        ),
        (
            "https://testnet.binance.vision/api",
            "wss://stream.testnet.binance.vision",
            "wss://ws-api.testnet.binance.vision/ws-api/v3",
        ),
    ],
)
def test_binances_own_hosts_bring_their_stream_hosts(rest, stream, ws_api):
    """Binance serves streams from other hosts than REST (NOTES.md section 1.1)."""
    assert _common.derive_stream_urls(rest) == (stream, ws_api)


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--sim", "--testnet"], "--sim starts its own"),
        (["--sim", "--base-url", "http://127.0.0.1:1"], "--sim starts its own"),
        (["--testnet", "--base-url", "http://127.0.0.1:1"], "both choose the host"),
        (["--stream-url", "ws://127.0.0.1:1"], "need --base-url"),
        (["--base-url", "ftp://127.0.0.1:1"], "http"),
        (["--base-url", "http://127.0.0.1:1", "--stream-url", "http://x"], "ws://"),
    ],
)
def test_conflicting_connection_options(argv, problem):
    """Options that contradict each other are usage errors, before anything starts."""
    with pytest.raises(UsageError, match=problem):
        Connection(parse(*argv))


def test_keys_come_from_the_environment(monkeypatch):
    """BINANCE_API_KEY / BINANCE_API_SECRET are used when no flag is given; flags win."""
    monkeypatch.setenv("BINANCE_API_KEY", "k-env")
    monkeypatch.setenv("BINANCE_API_SECRET", "s-env")
    conn = Connection(parse("--base-url", "http://127.0.0.1:1", keys=True))
    assert conn.has_keys
    client = conn.client()
    assert client.API_KEY == "k-env"
    conn.close()
    conn = Connection(parse("--api-key", "k-flag", "--api-secret", "s", keys=True))
    assert conn._api_key == "k-flag"


def test_sim_ignores_keys_from_the_environment(monkeypatch):
    """Keys in the environment are for a real exchange: --sim uses its own."""
    monkeypatch.setenv("BINANCE_API_KEY", "k-env")
    monkeypatch.setenv("BINANCE_API_SECRET", "s-env")
    assert not Connection(parse("--sim")).has_keys


def test_missing_keys_are_a_usage_error(monkeypatch):
    """A command that needs keys says which variables to set."""
    monkeypatch.delenv("BINANCE_API_KEY", raising=False)
    monkeypatch.delenv("BINANCE_API_SECRET", raising=False)
    with pytest.raises(UsageError, match="BINANCE_API_KEY"):
        with Connection(parse(keys=True), need_keys=True):
            pass


def test_format_ms():
    """UTC, with milliseconds only when present."""
    assert _common.format_ms(1512086400000) == "2017-12-01 00:00:00 UTC"
    assert _common.format_ms(1512086400123) == "2017-12-01 00:00:00.123 UTC"
