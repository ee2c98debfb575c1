"""Faults over real HTTP: 5xx answers, unknown order status, dropped connections, clock skew,
latency, and the /sim/v1 control API."""

from __future__ import annotations

import time

import pytest
import requests

from binance import errorcodes
from binance.sim import _handlers
from waiting import TIMEOUT_SCALE as SCALE

BUY_LIMIT = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.001",
    "price": "50000",
}


def _open_orders(sim_rest, account) -> list[dict]:
    reply = sim_rest.signed("GET", "/api/v3/openOrders", account, {"symbol": "BTCUSDT"})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_fail_next_answers_5xx_then_recovers(sim, sim_rest, account):
    """fail_next(2) gives the next two requests 503 -1001; the third is served."""
    sim.faults.fail_next(2)
    for _ in range(2):
        reply = sim_rest.get("/api/v3/ping")
        assert reply.status_code == 503
        assert reply.json() == errorcodes.DISCONNECTED.payload()
    assert sim_rest.get("/api/v3/ping").status_code == 200


def test_fail_next_by_path_and_html_gateway_errors(sim, sim_rest, account):
    """A path-scoped failure skips other paths; error=None answers an HTML 502."""
    sim.faults.fail_next(status=502, error=None, path="/api/v3/time")
    assert sim_rest.get("/api/v3/ping").status_code == 200
    reply = sim_rest.get("/api/v3/time")
    assert reply.status_code == 502 and reply.headers["Content-Type"].startswith("text/html")
    sim.faults.fail_next(status=500, error=errorcodes.UNKNOWN)
    reply = sim_rest.get("/api/v3/time")
    assert (reply.status_code, reply.json()["code"]) == (500, -1000)


@pytest.mark.parametrize("placed", [True, False])
def test_unknown_execution_status(sim, sim_rest, account, placed):
    """503 -1007 on placement; the order exists only when ``placed``."""
    sim.faults.unknown_status_on_next_order(placed=placed)
    reply = sim_rest.signed("POST", "/api/v3/order", account, BUY_LIMIT)
    assert reply.status_code == 503
    assert reply.json() == {"code": -1007, "msg": errorcodes.TIMEOUT.message}
    orders = _open_orders(sim_rest, account)
    assert len(orders) == (1 if placed else 0)
    # The fault is used up: the next placement is answered normally.
    assert sim_rest.signed("POST", "/api/v3/order", account, BUY_LIMIT).status_code == 200


@pytest.mark.parametrize("placed", [True, False])
def test_dropped_connection_after_placing(sim, sim_rest, account, placed):
    """The connection closes without an answer; the order exists only when ``placed``."""
    sim.faults.drop_next_order_response(placed=placed)
    with pytest.raises(requests.ConnectionError):
        sim_rest.signed("POST", "/api/v3/order", account, BUY_LIMIT)
    assert len(_open_orders(sim_rest, account)) == (1 if placed else 0)


def test_clock_skew_moves_server_time_and_breaks_local_timestamps(sim, sim_rest, account):
    """A skewed server clock shows in /time; local timestamps then fail the timing rule."""
    sim.faults.set_clock_skew(30_000)
    server = sim_rest.get("/api/v3/time").json()["serverTime"]
    assert server - int(time.time() * 1000) > 20_000
    reply = sim_rest.signed("GET", "/api/v3/account", account)
    assert reply.json() == errorcodes.INVALID_TIMESTAMP.payload()
    fixed = sim_rest.signed("GET", "/api/v3/account", account, timestamp=server)
    assert fixed.status_code == 200
    sim.faults.set_clock_skew(-30_000)
    ahead = sim_rest.signed("GET", "/api/v3/account", account)
    assert ahead.json() == errorcodes.TIMESTAMP_AHEAD.payload()


def test_latency_delays_answers(sim, sim_rest, account):
    """With latency switched on, a client with a short timeout gives up; off again, it works."""
    sim.faults.set_latency(1500, path="/api/v3/time")
    with pytest.raises(requests.Timeout):
        sim_rest.get("/api/v3/time", timeout=0.2)
    assert sim_rest.get("/api/v3/ping", timeout=5 * SCALE).status_code == 200
    sim.faults.set_latency(0, path="/api/v3/time")
    assert sim_rest.get("/api/v3/time", timeout=5 * SCALE).status_code == 200


def test_recv_window_is_checked_again_before_the_engine(sim, sim_rest, account):
    """NOTES.md §1.4: a request delayed past its recvWindow is refused (-1021), nothing placed."""
    sim.faults.set_latency(1200, path="/api/v3/order")
    reply = sim_rest.signed("POST", "/api/v3/order", account, dict(BUY_LIMIT, recvWindow="800"))
    assert reply.json() == errorcodes.INVALID_TIMESTAMP.payload()
    assert _open_orders(sim_rest, account) == []


def test_http_control_api(sim, sim_rest, account):
    """/sim/v1: arm and clear faults, create accounts, see the book and keys."""
    base = sim_rest.base_url + "/sim/v1"
    session = sim_rest.session
    armed = session.post(base + "/faults", json={"fail_next": {"status": 503, "count": 1}})
    assert armed.status_code == 200 and armed.json()["fail_next"][0]["status"] == 503
    assert sim_rest.get("/api/v3/ping").status_code == 503
    session.post(base + "/faults", json={"clock_skew_ms": 1234})
    assert sim.faults.clock_skew_ms == 1234
    assert session.delete(base + "/faults").json()["clock_skew_ms"] == 0
    bad = session.post(base + "/faults", json={"bogus": 1})
    assert bad.status_code == 400
    streams = session.post(base + "/faults", json={"streams": {"slow_snapshots_ms": 300}})
    assert streams.status_code == 200 and streams.json()["streams"]["snapshot_delay_ms"] == 300
    assert sim.faults.streams.snapshot_delay_ms == 300
    cleared = session.delete(base + "/faults").json()
    assert cleared["streams"]["snapshot_delay_ms"] == 0
    created = session.post(
        base + "/accounts", json={"balances": {"USDT": "123.5"}, "key_type": "Ed25519"}
    ).json()
    assert created["key_type"] == "Ed25519" and "PRIVATE KEY" in created["private_key"]
    acct = sim_rest.signed("GET", "/api/v3/account", created, {"omitZeroBalances": "true"})
    assert acct.json()["balances"] == [
        {"asset": "USDT", "free": "123.50000000", "locked": "0.00000000"}
    ]
    book = session.get(base + "/book", params={"symbol": "BTCUSDT"}).json()
    assert book["bids"] and book["asks"]
    keys = session.get(base + "/keys").json()
    assert created["api_key"] in {k["api_key"] for k in keys}
    assert session.get(base + "/nothing").status_code == 404


def test_a_bug_becomes_1000_and_is_logged(sim, sim_rest, monkeypatch, no_simulator_errors):
    """The catch-all turns an exception into -1000 (HTTP 500) and logs the traceback."""

    def broken(ctx, args, account):
        raise RuntimeError("boom")

    monkeypatch.setitem(_handlers.HANDLERS, ("GET", "/api/v3/ping"), broken)
    reply = sim_rest.get("/api/v3/ping")
    assert reply.status_code == 500
    assert reply.json() == errorcodes.UNKNOWN.payload()
    assert any("boom" in (r.exc_text or "") or r.exc_info for r in no_simulator_errors.records)
    no_simulator_errors.records.clear()  # expected here; any other error still fails a test
