"""`binance demo` as a new user runs it: a subprocess that ends by itself with status 0."""

from __future__ import annotations

import pytest

from binance.sim import LocalExchange

from .conftest import TIMEOUT_SCALE, refused_url, spawn

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
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
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
    stdout, stderr = proc.communicate(timeout=30 * TIMEOUT_SCALE)
    assert proc.returncode == 1
    assert f"cannot reach {url}" in stderr
    assert "--live needs network access" in stderr
    assert "Traceback" not in stderr
