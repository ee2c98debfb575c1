"""What every simulator adapter shares: the engine, keys, limits, faults, config and the clock.

``SimContext`` is built once by ``server.py`` and handed to every adapter: the REST routes
(``rest.py``), the market streams (``market_streams.py``) and the WebSocket API (``ws_api.py``).
Adapters read state through it and never construct their own engine, key store or limiter, so a
weight used over REST counts on the WebSocket API too and a key created by ``LocalExchange``
signs on every transport.

``SimConfig`` holds the server's settings (rate limits, ban lengths, listen-key lifetime, tick
period) and, as ``SimConfig.ws``, the WebSocket servers' (``WsSettings``). The engine's own
settings live with the engine. ``split_settings`` is the one place that sorts the keyword
settings of ``LocalExchange(**config)`` into the three.

No I/O here; nothing in this module imports aiohttp or the client.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from binance.sim._kline_rows import KlineRowCache

if TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from binance.sim._auth import KeyStore, ListenKeys
    from binance.sim._faults import Faults
    from binance.sim._limits import RateLimiter
    from binance.sim.engine.exchange import Exchange, ExchangeConfig

__all__ = ["SimConfig", "SimContext", "WS_PREFIX", "WsSettings", "split_settings"]

#: Settings named ``ws_<field>`` configure the WebSocket servers (``WsSettings`` fields).
WS_PREFIX = "ws_"


@dataclass
class WsSettings:
    """Limits and timers of the WebSocket servers (market streams and WebSocket API).

    Defaults are Binance's (NOTES.md §9, §12). ``MarketStreams`` and ``WsApi`` read them live, so
    a change applies to the next connection (timers) or the next message (limits). Each field can
    be given to ``LocalExchange`` as ``ws_<field>`` (e.g. ``ws_lifetime_s=60``).

    Attributes:
        ping_interval_s: the server pings every connection this often.
        pong_timeout_s: a ping not answered (pong echoing its payload) within this time
            disconnects.
        lifetime_s: a connection is cut this long after it opened.
        shutdown_notice_s: ``serverShutdown`` is sent this long before a planned cut.
        max_incoming_per_s: market streams: incoming frames allowed per second (above: 1008).
        max_streams: market streams: streams per connection.
        max_queued_frames: frames queued for one connection before it is dropped as too slow.
        max_queued_bytes: bytes queued for one connection before it is dropped as too slow.
        close_timeout_s: how long a closing handshake may take before the socket is aborted.
        max_message_bytes: largest incoming message accepted.
        stream_tick_ms: the time unit of the batched streams: ``@100ms`` streams push every
            tick, 1000 ms streams every 10 ticks, 2000 ms klines every 20. Binance: 100. Only
            tests lower it, to get thousands of diff-depth events in seconds (batching and
            ``U``/``u`` continuity work the same at any tick).
    """

    ping_interval_s: float = 20.0
    pong_timeout_s: float = 60.0
    lifetime_s: float = 24 * 3600.0
    shutdown_notice_s: float = 600.0
    max_incoming_per_s: int = 5
    max_streams: int = 1024
    max_queued_frames: int = 20_000
    max_queued_bytes: int = 64 * 1024 * 1024
    close_timeout_s: float = 2.0
    max_message_bytes: int = 1 << 20
    stream_tick_ms: float = 100.0

    @classmethod
    def from_prefixed(cls, config: Mapping[str, Any]) -> WsSettings:
        """Settings from the ``ws_<field>`` keys of ``config`` (other keys ignored).

        Raises:
            TypeError: a ``ws_`` key that names no field (a typo would be ignored).
        """
        names = {f.name for f in fields(cls)}
        given = {k[len(WS_PREFIX) :]: v for k, v in config.items() if k.startswith(WS_PREFIX)}
        unknown = sorted(set(given) - names)
        if unknown:
            raise TypeError(f"unknown WebSocket settings: {[WS_PREFIX + n for n in unknown]}")
        return cls(**{k: v for k, v in given.items() if v is not None})

    @classmethod
    def from_config(cls, config: SimConfig) -> WsSettings:
        """A copy of ``config.ws``: each adapter takes its own."""
        return replace(config.ws)


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
        kline_cache_rows: kline rows of settled history kept as JSON text between answers
            (``binance.sim._kline_rows``; ~200 bytes each; 0 keeps none).
        ws: the WebSocket servers' settings (given as ``ws_<field>`` keyword settings).
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
    kline_cache_rows: int = 100_000
    ws: WsSettings = field(default_factory=WsSettings)

    def __post_init__(self) -> None:
        if not isinstance(self.ws, WsSettings):  # e.g. ws={"lifetime_s": 5}: say so
            raise TypeError(
                f"ws must be a WsSettings (or give ws_<field> settings), not {self.ws!r}"
            )

    @classmethod
    def field_names(cls) -> frozenset[str]:
        """Names accepted as keyword arguments (``LocalExchange(**config)`` splits on these)."""
        return frozenset(f.name for f in fields(cls))

    @classmethod
    def split(cls, config: Mapping[str, Any]) -> tuple[SimConfig, dict[str, Any]]:
        """This class built from the keys of ``config`` it knows (``ws_<field>`` keys go to
        ``ws``), and the remaining keys.

        Raises:
            TypeError: a ``ws_`` key that names no ``WsSettings`` field.
        """
        names = cls.field_names()
        mine = {k: v for k, v in config.items() if k in names}
        prefixed = {k: v for k, v in config.items() if k.startswith(WS_PREFIX) and k not in names}
        rest = {k: v for k, v in config.items() if k not in names and k not in prefixed}
        if prefixed:
            ws = mine.get("ws")
            base = (
                {} if ws is None else {WS_PREFIX + f.name: getattr(ws, f.name) for f in fields(ws)}
            )
            mine["ws"] = WsSettings.from_prefixed({**base, **prefixed})
        return cls(**mine), rest


def split_settings(config: Mapping[str, Any]) -> tuple[SimConfig, ExchangeConfig]:
    """``LocalExchange``'s keyword settings sorted into the server's (``SimConfig``, with the
    WebSocket servers' ``ws_<field>`` ones in its ``ws``) and the engine's (``ExchangeConfig``).

    Raises:
        TypeError: a name that is none of these settings.
    """
    from binance.sim.engine.exchange import ExchangeConfig

    server, rest = SimConfig.split(config)
    engine_names = {f.name for f in fields(ExchangeConfig)}
    unknown = sorted(set(rest) - engine_names)
    if unknown:
        raise TypeError(f"LocalExchange got unknown settings: {unknown}")
    return server, ExchangeConfig(**rest)


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
        kline_rows: kline rows already rendered (sized by ``config.kline_cache_rows``).
    """

    exchange: Exchange
    keys: KeyStore
    limits: RateLimiter
    faults: Faults
    config: SimConfig = field(default_factory=SimConfig)
    listen_keys: ListenKeys | None = None
    wall_ms: Callable[[], int] = _wall_ms
    kline_rows: KlineRowCache = field(init=False)

    def __post_init__(self) -> None:
        self.kline_rows = KlineRowCache(self.config.kline_cache_rows)

    def now_ms(self) -> int:
        """The server's clock: real wall time in ms plus the injected clock skew."""
        return self.wall_ms() + self.faults.clock_skew_ms
