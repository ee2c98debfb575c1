"""Fixtures for the client tests: one table drives both clients.

``client`` is parametrized over ``["sync", "async"]`` and bound to a fresh funded account of the
session's LocalExchange (``sim``, ``account`` from tests/conftest.py). ``call(client, name, ...)``
runs a method and awaits it when the client is async; ``collect`` does the same for the paging
iterators.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from binance.async_client import AsyncClient
from binance.client import Client


def make_client(kind: str, sim: Any, credentials: Any = None, **kwargs: Any) -> Any:
    """A Client or AsyncClient for ``credentials`` (default: the sim's default key)."""
    cls = Client if kind == "sync" else AsyncClient
    if credentials is None:
        return cls(sim.api_key, sim.api_secret, base_url=sim.rest_url, **kwargs)
    secret = credentials.api_secret
    private_key = credentials.private_key
    return cls(
        credentials.api_key,
        secret,
        base_url=sim.rest_url,
        private_key=private_key,
        **kwargs,
    )


async def close(client: Any) -> None:
    result = client.close()
    if inspect.isawaitable(result):
        await result


async def call(client: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """``client.<name>(*args, **kwargs)``, awaited if the client is async."""
    result = getattr(client, name)(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


async def collect(iterator: Any) -> list[Any]:
    """All items of a sync or async iterator."""
    if hasattr(iterator, "__aiter__"):
        return [item async for item in iterator]
    return list(iterator)


@pytest.fixture(params=["sync", "async"])
def kind(request: Any) -> str:
    return request.param


@pytest.fixture
async def client(kind: str, sim: Any, account: Any) -> Any:
    """A client of either kind, bound to a fresh funded account."""
    instance = make_client(kind, sim, account)
    try:
        yield instance
    finally:
        await close(instance)
