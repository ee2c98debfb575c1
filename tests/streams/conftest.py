"""Helpers for the stream tests: fast knobs, deadlines, a client view of the simulator.

Every I/O test talks to the session's ``LocalExchange`` (``sim``) over loopback; faults come from
``sim.faults.streams``. Deadlines scale with ``BINANCE_TEST_TIMEOUT_SCALE``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from binance._streams.rules import StreamConfig
from sim_clients import async_client_for, client_for  # noqa: F401 (re-exported)
from waiting import TIMEOUT_SCALE, async_wait_until, deadline, wait_until  # noqa: F401 (re-exported)

#: The symbol with the busiest background market in the simulator.
SYMBOL = "BTCUSDT"

#: Knobs that make reconnects, watchdog and rotations fast enough for tests.
FAST = StreamConfig(
    reconnect_initial_s=0.05,
    reconnect_max_s=0.5,
    max_retries=5,
    open_timeout_s=5.0,
    close_timeout_s=0.5,
    idle_timeout_s=1.0,
    pong_timeout_s=1.0,
    overlap_min_s=0.2,
    overlap_max_s=3.0,
)


@contextlib.contextmanager
def ws_settings(sim: Any, **changes: Any) -> Iterator[None]:
    """Change the simulator's WebSocket settings (lifetime, notice...) for new connections."""
    adapters = [a for a in sim.server.adapters if hasattr(a, "settings")]
    assert adapters, "the simulator exposes no WebSocket settings"
    saved = [(a.settings, {k: getattr(a.settings, k) for k in changes}) for a in adapters]
    for settings, _ in saved:
        for key, value in changes.items():
            setattr(settings, key, value)
    try:
        yield
    finally:
        for settings, old in saved:
            for key, value in old.items():
                setattr(settings, key, value)


@pytest.fixture
def stream_faults(sim):
    """The simulator's stream fault controls, reset after the test."""
    faults = sim.faults.streams
    try:
        yield faults
    finally:
        faults.reset()


def place_order(sim_rest: Any, credentials: Any, **params: Any) -> dict[str, Any]:
    """Place an order over REST (not through our client) and return Binance's answer."""
    reply = sim_rest.signed("POST", "/api/v3/order", credentials, query=params)
    assert reply.status_code == 200, reply.text
    return reply.json()


def cancel_order(sim_rest: Any, credentials: Any, symbol: str, order_id: int) -> dict[str, Any]:
    """Cancel an order over REST and return Binance's answer."""
    reply = sim_rest.signed(
        "DELETE", "/api/v3/order", credentials, query={"symbol": symbol, "orderId": order_id}
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def check_depth_continuity(events: list[dict[str, Any]]) -> None:
    """Each diff event starts right after the previous one ends: nothing lost, nothing twice."""
    assert events, "no depth events"
    for prev, cur in zip(events, events[1:], strict=False):
        assert cur["U"] == prev["u"] + 1, f"break between u={prev['u']} and U={cur['U']}"
