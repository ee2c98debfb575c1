"""Fixtures shared by the whole suite.

Hygiene: every test must leave no thread behind. Tests that need the local exchange use the
``sim`` fixture (one LocalExchange on 127.0.0.1 for the session) from ``binance.sim.pytest_plugin``.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

#: Scale for every deadline in the suite (slow machines set BINANCE_TEST_TIMEOUT_SCALE=3).
TIMEOUT_SCALE = float(os.environ.get("BINANCE_TEST_TIMEOUT_SCALE", "1"))


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Fail a test that leaves a thread running after it ends."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5 * TIMEOUT_SCALE
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert not leaked, f"threads left running: {[t.name for t in leaked]}"
