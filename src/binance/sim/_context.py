"""What every simulator adapter shares: the engine, keys, limits, faults, config and the clock.

``SimContext`` is built once by ``server.py`` and handed to every adapter: the REST routes
(``rest.py``), the market streams (``market_streams.py``) and the WebSocket API (``ws_api.py``).
Adapters read state through it and never construct their own engine, key store or limiter, so a
weight used over REST counts on the WebSocket API too and a key created by ``LocalExchange``
signs on every transport.

``SimConfig`` holds the server's settings (rate limits, ban lengths, listen-key lifetime, tick
period). The engine's own settings live with the engine.

No I/O here; nothing in this module imports aiohttp or the client.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from binance.sim._auth import KeyStore, ListenKeys
    from binance.sim._faults import Faults
    from binance.sim._limits import RateLimiter
    from binance.sim.engine.exchange import Exchange

__all__ = ["SimConfig", "SimContext", "WS_PREFIX"]

#: Settings named ``ws_<field>`` configure the WebSocket servers (``WsSettings`` fields).
WS_PREFIX = "ws_"


@dataclass
class SimConfig:
    """The server's settings. Every limit is configurable so tests can reach it quickly.

    The configured values are what ``GET /api/v3/exchangeInfo`` reports in ``rateLimits``.
    Defaults are Binance's (NOTES.md §3).

    Attributes:
        request_weight_per_minute: REQUEST_WEIGHT limit per IP per clock-aligned minute.
        raw_requests_per_5m: RAW_REQUESTS limit per IP per 5 clock-aligned minutes.
        orders_per_10s: ORDERS limit per account per 10 clock-aligned seconds.
        orders_per_day: ORDERS limit per account per UTC day.
        sapi_ip_weight_per_minute: each IP-weighted /sapi endpoint's limit per IP per minute.
        sapi_uid_weight_per_minute: each UID-weighted /sapi endpoint's limit per account per
            minute.
        ban_after_ignored_429s: requests an IP may send during its 429 period (before the
            window resets) until it is banned with 418.
        ban_first_s: length of the first 418 ban (Binance: 2 minutes).
        ban_max_s: the longest ban the escalation reaches (Binance: 3 days).
        max_recv_window_ms: largest accepted ``recvWindow`` (NOTES.md §1.4: 60000).
        default_recv_window_ms: ``recvWindow`` when none is sent (5000).
        listen_key_lifetime_ms: legacy listenKey validity after creation or keepalive (60 min).
        tick_interval_ms: how often the server advances the engine clock.
        max_request_body_bytes: largest request body read (larger -> HTTP 413).

    Extra ``ws_<name>`` attributes (e.g. ``ws_lifetime_s``) hold the WebSocket servers'
    settings; see ``binance.sim.market_streams.WsSettings``.
    """

    request_weight_per_minute: int = 6000
    raw_requests_per_5m: int = 300_000
    orders_per_10s: int = 50
    orders_per_day: int = 160_000
    sapi_ip_weight_per_minute: int = 12_000
    sapi_uid_weight_per_minute: int = 180_000
    ban_after_ignored_429s: int = 3
    ban_first_s: int = 120
    ban_max_s: int = 3 * 24 * 3600
    max_recv_window_ms: int = 60_000
    default_recv_window_ms: int = 5000
    listen_key_lifetime_ms: int = 60 * 60 * 1000
    tick_interval_ms: int = 100
    max_request_body_bytes: int = 1 << 20

    @classmethod
    def field_names(cls) -> frozenset[str]:
        """Names accepted as keyword arguments (``LocalExchange(**config)`` splits on these)."""
        return frozenset(f.name for f in fields(cls))

    @classmethod
    def split(cls, config: dict[str, Any]) -> tuple[SimConfig, dict[str, Any]]:
        """This class built from the keys of ``config`` it knows, and the remaining keys.

        ``ws_<name>`` keys are the WebSocket servers' settings (``market_streams.WsSettings``
        reads them from here); they are kept as attributes of the returned config.
        """
        names = cls.field_names()
        mine = {k: v for k, v in config.items() if k in names}
        ws = {k: v for k, v in config.items() if k.startswith(WS_PREFIX) and k not in names}
        rest = {k: v for k, v in config.items() if k not in names and k not in ws}
        built = cls(**mine)
        for name, value in ws.items():
            setattr(built, name, value)
        return built, rest


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class SimContext:
    """Everything an adapter needs, built once per server.

    Attributes:
        exchange: the engine facade (single-threaded: only call it on the server's loop).
        keys: API keys, their accounts and permissions.
        limits: weight and order-count accounting.
        faults: run-time switchable faults (latency, 5xx, unknown status, clock skew).
        config: the server's settings.
        listen_keys: legacy listenKey registry (``/api/v3/userDataStream``).
        wall_ms: the real clock in integer milliseconds (injectable for tests).
    """

    exchange: Exchange
    keys: KeyStore
    limits: RateLimiter
    faults: Faults
    config: SimConfig = field(default_factory=SimConfig)
    listen_keys: ListenKeys | None = None
    wall_ms: Callable[[], int] = _wall_ms

    def now_ms(self) -> int:
        """The server's clock: real wall time in ms plus the injected clock skew."""
        return self.wall_ms() + self.faults.clock_skew_ms
