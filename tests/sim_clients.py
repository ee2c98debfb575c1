"""Our clients pointed at a ``LocalExchange``, shared by the I/O test suites.

REST, market streams and the WebSocket API all go to the simulator, signing with its default
HMAC key or with a ``Credentials`` of a fresh account (HMAC, RSA or Ed25519).
"""

from __future__ import annotations

from typing import Any


def _arguments(sim: Any, credentials: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    urls: dict[str, Any] = {
        "base_url": sim.rest_url,
        "stream_url": sim.stream_url,
        "ws_api_url": sim.ws_api_url,
    }
    if credentials is None:
        return (sim.api_key, sim.api_secret), urls
    if credentials.key_type == "HMAC":
        return (credentials.api_key, credentials.api_secret), urls
    return (credentials.api_key,), {**urls, "private_key": credentials.private_key}


def client_for(sim: Any, credentials: Any = None) -> Any:
    """Our sync ``Client`` pointed at ``sim``."""
    from binance.client import Client

    args, kwargs = _arguments(sim, credentials)
    return Client(*args, **kwargs)


def async_client_for(sim: Any, credentials: Any = None) -> Any:
    """Our ``AsyncClient`` pointed at ``sim``."""
    from binance.async_client import AsyncClient

    args, kwargs = _arguments(sim, credentials)
    return AsyncClient(*args, **kwargs)
