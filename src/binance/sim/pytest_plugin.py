"""pytest plugin: a ``binance_sim`` fixture for your own test suites.

Installed through the ``pytest11`` entry point, so any project with ``binance`` installed can
write::

    def test_my_bot(binance_sim):
        client = Client(binance_sim.api_key, binance_sim.api_secret,
                        base_url=binance_sim.rest_url)
        ...

``binance_sim`` is one ``LocalExchange`` per test session on 127.0.0.1 (a free port), seed 0
unless the ``--binance-sim-seed`` option says otherwise. Use ``binance_sim.new_account()`` for a
fresh funded account per test and ``binance_sim.faults.reset()`` after fault tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["binance_sim"]


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("binance-sim", "local Binance exchange")
    group.addoption(
        "--binance-sim-seed",
        action="store",
        type=int,
        default=0,
        help="seed of the binance_sim fixture's LocalExchange (default 0)",
    )


@pytest.fixture(scope="session")
def binance_sim(request: Any) -> Iterator[Any]:
    """A running ``binance.sim.LocalExchange`` shared by the session."""
    from binance.sim import LocalExchange

    seed = request.config.getoption("--binance-sim-seed", default=0)
    with LocalExchange(seed=seed) as exchange:
        yield exchange
