"""Assembles the local exchange's server: engine, keys, limits, faults, routes and the clock.

``SimServer`` builds the ``SimContext``, opens the default account and its keys, mounts the
market streams and WebSocket API (``market_streams.py``, ``ws_api.py``, when present) and the REST
adapter, binds ``127.0.0.1`` (port 0 picks a free port) and ticks the engine about every 100 ms.
It runs on whatever event loop starts it; ``LocalExchange`` (``sim/__init__.py``) runs it in a
background thread or on the caller's loop.

``Control`` implements the loopback-only ``/sim/v1`` API (faults, accounts, deposits, the true
book) for programs that do not embed the simulator in Python.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from aiohttp import web

from binance.sim._auth import (
    KEY_TYPE_ED25519,
    KEY_TYPE_HMAC,
    KEY_TYPE_RSA,
    PERMISSIONS,
    ApiKeyRecord,
    KeyStore,
    ListenKeys,
)
from binance.sim._context import SimConfig, SimContext, _wall_ms
from binance.sim._faults import Faults
from binance.sim._limits import RateLimiter
from binance.sim.rest import RestAdapter

__all__ = ["SimServer", "Control", "STREAM_ADAPTERS"]

log = logging.getLogger("binance.sim.server")

#: SIMSTREAMS' adapter modules and the class names looked for in each.
STREAM_ADAPTERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("binance.sim.market_streams", ("MarketStreams", "MarketStreamsAdapter", "StreamsAdapter")),
    ("binance.sim.ws_api", ("WsApi", "WsApiAdapter", "WebSocketApi", "WebSocketApiAdapter")),
)


def _find_adapter_class(module_name: str, names: Iterable[str]) -> type | None:
    if importlib.util.find_spec(module_name) is None:
        return None
    module = importlib.import_module(module_name)
    for name in names:
        cls = getattr(module, name, None)
        if inspect.isclass(cls):
            return cls
    for name in getattr(module, "__all__", dir(module)):
        cls = getattr(module, name, None)
        if (
            inspect.isclass(cls)
            and cls.__module__ == module.__name__
            and callable(getattr(cls, "routes", None))
            and callable(getattr(cls, "close", None))
        ):
            return cls
    return None


def _engine_classes() -> tuple[Any, Any]:
    from binance.sim.engine.exchange import Exchange, ExchangeConfig

    return Exchange, ExchangeConfig


class SimServer:
    """One local exchange: its context, default account, keys and aiohttp server.

    Args:
        seed: seeds the engine, the keys and the faults' randomness.
        host: interface to bind (default loopback).
        port: TCP port; 0 picks a free one.
        config: the server's settings (limits...).
        engine_config: the engine's settings (``ExchangeConfig``).

    Attributes:
        ctx: the shared ``SimContext``.
        default_keys: the keys of the default account (HMAC full access first).
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        config: SimConfig | None = None,
        engine_config: Any = None,
    ) -> None:
        Exchange, _ = _engine_classes()
        self.seed = seed
        self.host = host
        self.port = port
        config = config or SimConfig()
        faults = Faults(seed)
        latest = [_wall_ms() + faults.clock_skew_ms]

        def engine_now_ms() -> int:
            # The engine's clock never runs backwards: a negative clock skew switched on at run
            # time pauses it until real time catches up (the protocol clock, ``ctx.now_ms``,
            # does jump back, which is the fault a client must survive).
            now = self.ctx.now_ms() if hasattr(self, "ctx") else _wall_ms()
            if now > latest[0]:
                latest[0] = now
            return latest[0]

        exchange = Exchange(seed=seed, now_ms=engine_now_ms, config=engine_config)
        self.ctx = SimContext(
            exchange=exchange,
            keys=KeyStore(seed),
            limits=RateLimiter(config),
            faults=faults,
            config=config,
            listen_keys=ListenKeys(config.listen_key_lifetime_ms, seed),
        )
        self._engine_now_ms = engine_now_ms
        self.default_account: str = exchange.create_account()
        keys = self.ctx.keys
        self.default_keys: list[ApiKeyRecord] = [
            keys.create(self.default_account, KEY_TYPE_HMAC, PERMISSIONS),
            keys.create(self.default_account, KEY_TYPE_ED25519, PERMISSIONS),
            keys.create(self.default_account, KEY_TYPE_RSA, PERMISSIONS),
            keys.create(self.default_account, KEY_TYPE_HMAC, ("read",)),
            keys.create(self.default_account, KEY_TYPE_HMAC, ("read", "trade")),
        ]
        self.adapters: list[Any] = []
        self.app: web.Application | None = None
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None

    # -- accounts -----------------------------------------------------------------------------

    def new_account(
        self,
        balances: Mapping[str, Any] | None = None,
        key_type: str = KEY_TYPE_HMAC,
        permissions: Iterable[str] = PERMISSIONS,
    ) -> ApiKeyRecord:
        """Open a funded account with one key; call on the server's loop."""
        converted = None
        if balances is not None:
            converted = {str(a): Decimal(str(v)) for a, v in balances.items()}
        account_id = self.ctx.exchange.create_account(balances=converted)
        return self.ctx.keys.create(account_id, key_type, tuple(permissions))

    def credit_deposit(
        self,
        account_id: str,
        coin: str,
        amount: Any,
        network: str | None = None,
        *,
        pending: bool = False,
        **details: Any,
    ) -> Any:
        """Credit a deposit to ``account_id``; call on the server's loop.

        The deposit goes through the engine wallet, so it shows in
        ``/sapi/v1/capital/deposit/hisrec`` and as a ``balanceUpdate`` event. By default it is
        credited at once (recorded as sent one confirmation delay ago); ``pending=True`` leaves
        it pending for the wallet's confirmation delay, as a fresh on-chain deposit is.

        Returns:
            The deposit record as ``deposit/hisrec`` shows it.
        """
        ctx = self.ctx
        exchange = ctx.exchange
        amount = Decimal(str(amount))
        wallet = getattr(exchange, "wallet", None)
        now = int(exchange.now_ms())
        if wallet is None:  # pragma: no cover - the engine always has a wallet
            exchange.deposit_funds(account_id, coin, amount)
            return {"coin": coin, "amount": format(amount, "f"), "status": 1}
        sent = now if pending else now - int(getattr(wallet, "deposit_confirm_ms", 0))
        kwargs = {k: v for k, v in details.items() if v is not None}
        record = wallet.credit_deposit(
            account_id, coin, amount, network=network, now_ms=sent, **kwargs
        )
        if not pending:
            wallet.advance(now)
            for item in wallet.deposit_history(account_id, now_ms=now, tx_id=record["txId"]):
                record = item
        return record

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> int:
        """Bind and serve; returns the port."""
        app = web.Application(client_max_size=self.ctx.config.max_request_body_bytes)
        for module_name, names in STREAM_ADAPTERS:
            cls = _find_adapter_class(module_name, names)
            if cls is not None:
                adapter = cls(self.ctx)
                self.adapters.append(adapter)
                app.add_routes(adapter.routes())
        rest = RestAdapter(self.ctx, Control(self))
        app.add_routes(rest.routes())
        self.app = app
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())
        return self.port

    async def stop(self) -> None:
        """Stop ticking, close the stream adapters and the server."""
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass
            self._ticker = None
        for adapter in reversed(self.adapters):
            try:
                await adapter.close()
            except Exception:
                log.exception("closing %s failed", type(adapter).__name__)
        self.adapters.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def tick(self) -> None:
        """Advance the engine to now and expire legacy listenKeys."""
        ctx = self.ctx
        ctx.exchange.tick(self._engine_now_ms())
        now = ctx.now_ms()
        if ctx.listen_keys is not None:
            expired = ctx.listen_keys.expire(now)
            if expired:
                for adapter in self.adapters:
                    notify = getattr(adapter, "on_listen_keys_expired", None)
                    if callable(notify):
                        notify(expired)

    async def _tick_forever(self) -> None:
        period = self.ctx.config.tick_interval_ms / 1000.0
        while True:
            try:
                self.tick()
            except Exception:
                log.exception("engine tick failed")
            await asyncio.sleep(period)


class Control:
    """The loopback-only ``/sim/v1`` API: what ``LocalExchange`` offers in Python, over HTTP.

    Routes (JSON bodies and answers):

    - ``GET /sim/v1/faults``: the armed faults. ``POST /sim/v1/faults``: arm faults (see
      ``Faults.apply_json``). ``DELETE /sim/v1/faults``: switch every fault off.
    - ``POST /sim/v1/accounts`` ``{"balances": {"USDT": "1000"}, "key_type": "HMAC",
      "permissions": ["read", "trade"]}``: a new funded account and its key's credentials.
    - ``POST /sim/v1/deposit`` ``{"coin": "USDT", "amount": "100", "account_id": ...}`` (or
      ``"api_key"``; default: the default account): credit a deposit.
    - ``GET /sim/v1/book?symbol=BTCUSDT[&limit=N]``: the true book, every level.
    - ``GET /sim/v1/keys``: every key with its credentials.
    - ``GET /sim/v1/limits``: configured limits; ``DELETE /sim/v1/limits``: forget all counts
      and bans.
    - ``POST /sim/v1/symbolStatus`` ``{"symbol": "BTCUSDT", "status": "HALT"}``.
    """

    def __init__(self, server: SimServer) -> None:
        self.server = server

    async def handle(
        self, method: str, name: str, query: Mapping[str, str], body: Any
    ) -> tuple[int, Any]:
        server = self.server
        ctx = server.ctx
        body = body or {}
        if name == "faults":
            if method == "GET":
                return 200, ctx.faults.snapshot()
            if method == "POST":
                ctx.faults.apply_json(body)
                return 200, ctx.faults.snapshot()
            if method == "DELETE":
                ctx.faults.reset()
                return 200, ctx.faults.snapshot()
        elif name == "accounts" and method == "POST":
            record = server.new_account(
                body.get("balances"),
                body.get("key_type", KEY_TYPE_HMAC),
                body.get("permissions", PERMISSIONS),
            )
            return 200, record.credentials()
        elif name == "deposit" and method == "POST":
            account_id = body.get("account_id")
            if account_id is None and body.get("api_key"):
                owner = ctx.keys.get(body["api_key"])
                if owner is None:
                    raise ValueError("unknown api_key")
                account_id = owner.account_id
            result = server.credit_deposit(
                account_id or server.default_account,
                body["coin"],
                body["amount"],
                body.get("network"),
                pending=bool(body.get("pending", False)),
            )
            return 200, _jsonable(result)
        elif name == "book" and method == "GET":
            symbol = query["symbol"]
            limit = int(query.get("limit", 1_000_000))
            snapshot = ctx.exchange.depth(symbol, limit)
            return 200, _jsonable(snapshot)
        elif name == "keys" and method == "GET":
            return 200, [r.credentials() for r in ctx.keys.records()]
        elif name == "limits":
            if method == "GET":
                return 200, ctx.limits.rate_limits()
            if method == "DELETE":
                ctx.limits.reset()
                return 200, ctx.limits.rate_limits()
        elif name == "symbolStatus" and method == "POST":
            ctx.exchange.set_symbol_status(body["symbol"], body["status"])
            return 200, {}
        return 404, {"error": f"no control route {method} /sim/v1/{name}"}


def _jsonable(value: Any) -> Any:
    """Engine objects (dataclasses) as JSON-ready data, Decimals as plain strings."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    return value
