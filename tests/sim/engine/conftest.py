"""Fixtures for the engine's in-process tests (helpers live in ``engine_support.py``)."""

from __future__ import annotations

import pytest
from engine_support import Clock

from binance.sim.engine.exchange import Exchange, ExchangeConfig


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ex(clock: Clock) -> Exchange:
    """An exchange with no background market: the book holds only the test's orders."""
    return Exchange(seed=7, now_ms=clock, config=ExchangeConfig(background_market=False))
