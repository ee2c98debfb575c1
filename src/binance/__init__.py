"""binance: the classic python-binance interface on today's Binance Spot API.

Public surface: ``Client`` (sync, on requests), ``AsyncClient`` (asyncio, on aiohttp),
``BinanceSocketManager``, ``DepthCacheManager``, the enums and the exceptions. The simulator
lives in ``binance.sim``. Heavy modules are imported on first use so that ``import binance`` and
the ``binance`` command start fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> module that defines it; resolved lazily by __getattr__ below.
_LAZY = {
    "Client": "binance.client",
    "AsyncClient": "binance.async_client",
    "BinanceSocketManager": "binance.websockets",
    "DepthCache": "binance.depthcache",
    "DepthCacheManager": "binance.depthcache",
    "MultiDepthCacheManager": "binance.depthcache",
    "AsyncDepthCacheManager": "binance.depthcache",
    "DepthCacheState": "binance.depthcache",
    "StreamManager": "binance.streams",
    "LocalExchange": "binance.sim",
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'binance' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
