"""Waiting on a condition with a deadline, shared by the I/O test suites.

Every deadline is scaled by ``BINANCE_TEST_TIMEOUT_SCALE`` (`TIMEOUT_SCALE`, defined here),
so slow machines stretch them instead of flaking. Never a hopeful sleep: poll a predicate.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

import pytest

TIMEOUT_SCALE = float(os.environ.get("BINANCE_TEST_TIMEOUT_SCALE", "1"))
POLL_S = 0.005


def deadline(seconds: float) -> float:
    """A monotonic deadline ``seconds`` (scaled by TIMEOUT_SCALE) from now."""
    return time.monotonic() + seconds * TIMEOUT_SCALE


def wait_until(predicate: Callable[[], Any], seconds: float = 10.0, what: str = "") -> Any:
    """Poll ``predicate`` until truthy (returned) or fail after ``seconds`` (scaled)."""
    end = deadline(seconds)
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what or predicate}")
        time.sleep(POLL_S)


async def async_wait_until(
    predicate: Callable[[], Any], seconds: float = 10.0, what: str = ""
) -> Any:
    """`wait_until` for coroutines: yields to the loop between polls."""
    end = deadline(seconds)
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(POLL_S)
