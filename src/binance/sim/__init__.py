"""The local exchange: a Binance-compatible simulator on 127.0.0.1.

``LocalExchange`` is the one entry point. It serves Binance's REST API (``/api/v3``,
``/sapi/v1``), the market streams (``/ws/<stream>``, ``/stream?streams=...``) and the WebSocket
API (``/ws-api/v3``) from a seeded engine with a live background market::

    from binance.sim import LocalExchange

    with LocalExchange(seed=7) as ex:          # server in a background thread
        print(ex.rest_url, ex.api_key)         # http://127.0.0.1:PORT, a 64-char key
        acct = ex.new_account({"USDT": "1000"})
        ex.faults.unknown_status_on_next_order(placed=True)

    async with LocalExchange(seed=7) as ex:    # or on the running event loop
        ...

Keyword arguments configure the server (``SimConfig``: rate limits, ban lengths...), the
WebSocket servers (``ws_<field>``: ``WsSettings``, e.g. ``ws_lifetime_s=60``) and the engine
(``ExchangeConfig``: markets, balances, background activity...). See docs/simulator.md.

The engine is single-threaded: from another thread, reach it through ``LocalExchange.call``.
Importing this package is cheap; the server is loaded on first use.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from binance.sim._auth import ApiKeyRecord
    from binance.sim._context import SimConfig
    from binance.sim._faults import Faults
    from binance.sim._limits import RateLimiter
    from binance.sim.engine.exchange import Exchange
    from binance.sim.server import SimServer

__all__ = ["Credentials", "LocalExchange"]

T = TypeVar("T")

_DEFAULT_PERMISSIONS = ("read", "trade", "withdraw")
_START_TIMEOUT_S = 60.0
_CALL_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Credentials:
    """One API key of the local exchange and what a client needs to sign with it.

    Attributes:
        account_id: the engine account the key trades for.
        api_key: the ``X-MBX-APIKEY`` value.
        key_type: ``"HMAC"``, ``"RSA"`` or ``"Ed25519"``.
        permissions: ``"read"``, ``"trade"``, ``"withdraw"``.
        api_secret: the HMAC secret (HMAC keys).
        private_key: PKCS#8 PEM private key (RSA and Ed25519 keys).
        public_key: PEM public key (RSA and Ed25519 keys).
    """

    account_id: str
    api_key: str
    key_type: str
    permissions: tuple[str, ...]
    api_secret: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)
    public_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_record(cls, record: ApiKeyRecord) -> Credentials:
        return cls(
            account_id=record.account_id,
            api_key=record.api_key,
            key_type=record.key_type,
            permissions=record.ordered_permissions(),
            api_secret=record.secret,
            private_key=record.private_key_pem,
            public_key=record.public_key_pem,
        )

    def as_dict(self) -> dict[str, Any]:
        """The key as JSON-ready data (secrets included)."""
        out = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        out["permissions"] = list(self.permissions)
        return out


class LocalExchange:
    """A local Binance-compatible exchange on loopback, seeded and fault-injectable.

    Args:
        seed: seeds the market history, the background traders, the keys and the faults.
            The same seed gives the same keys and the same market history.
        host: interface to bind; keep the default ``127.0.0.1``.
        port: TCP port; 0 (default) picks a free one.
        **config: server settings (``binance.sim._context.SimConfig`` fields, e.g.
            ``request_weight_per_minute=100``), WebSocket settings (``ws_`` + a
            ``binance.sim._context.WsSettings`` field, e.g. ``ws_lifetime_s=60``) and engine
            settings (``binance.sim.engine.exchange.ExchangeConfig`` fields, e.g.
            ``background_market=False``). An unknown name raises ``TypeError``.

    Use it as a context manager: ``with`` runs the server in a background thread with its own
    event loop (``close()`` joins it); ``async with`` runs it on the caller's loop.

    Attributes:
        seed: the seed.
        host: the bound interface.
        port: the bound port (after start).
        config: the server settings in force.
    """

    def __init__(
        self, seed: int = 0, *, host: str = "127.0.0.1", port: int = 0, **config: Any
    ) -> None:
        from binance.sim.server import SimServer

        self.seed = seed
        self.host = host
        from binance.sim._context import split_settings

        server_config, engine_config = split_settings(config)
        self.config: SimConfig = server_config
        self._server: SimServer = SimServer(
            seed, host=host, port=port, config=server_config, engine_config=engine_config
        )
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = False

    # -- addresses and keys --------------------------------------------------------------------

    @property
    def rest_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash); REST paths go below it."""
        return f"http://{self._url_host}:{self.port}"

    @property
    def stream_url(self) -> str:
        """``ws://127.0.0.1:PORT``: raw streams at ``/ws/<name>``, combined at
        ``/stream?streams=...``."""
        return f"ws://{self._url_host}:{self.port}"

    @property
    def ws_api_url(self) -> str:
        """``ws://127.0.0.1:PORT/ws-api/v3``: the WebSocket API."""
        return f"ws://{self._url_host}:{self.port}/ws-api/v3"

    @property
    def _url_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def api_key(self) -> str:
        """The default account's HMAC key (read, trade and withdraw permissions)."""
        return self._server.default_keys[0].api_key

    @property
    def api_secret(self) -> str:
        """The secret of ``api_key``."""
        secret = self._server.default_keys[0].secret
        assert secret is not None
        return secret

    @property
    def account_id(self) -> str:
        """The default account's id."""
        return self._server.default_account

    @property
    def keys(self) -> list[dict[str, Any]]:
        """Every key of every account, with credentials, permissions and key type (the
        default account's keys first: HMAC, Ed25519, RSA full access, then HMAC read-only and
        HMAC read+trade)."""
        return [r.credentials() for r in self._server.ctx.keys.records()]

    @property
    def exchange(self) -> Exchange:
        """The engine, for inspecting the true state. Single-threaded: from another thread
        than the server's, use ``call``."""
        return self._server.ctx.exchange

    @property
    def faults(self) -> Faults:
        """Run-time fault switches (``binance.sim._faults.Faults``); thread-safe."""
        return self._server.ctx.faults

    @property
    def limits(self) -> RateLimiter:
        """The rate limiter (counts, bans, ``reset()``); its ``config`` is the limits config."""
        return self._server.ctx.limits

    @property
    def server(self) -> SimServer:
        """The server object (context, adapters)."""
        return self._server

    def info(self) -> dict[str, Any]:
        """What ``binance sim`` prints: URLs, the default key and every key."""
        return {
            "rest_url": self.rest_url,
            "stream_url": self.stream_url,
            "ws_api_url": self.ws_api_url,
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            "keys": self.keys,
        }

    # -- engine access from any thread -----------------------------------------------------------

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on the server's loop and return its result.

        From the server's own thread (or with ``async with``) it runs directly.
        """
        loop = self._loop
        if (
            loop is None
            or self._thread is None
            or threading.current_thread() is self._thread
            or not loop.is_running()
        ):
            return fn(*args, **kwargs)

        async def run() -> T:
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), loop).result(_CALL_TIMEOUT_S)

    def new_account(
        self,
        balances: Mapping[str, Any] | None = None,
        key_type: str = "HMAC",
        permissions: Iterable[str] = _DEFAULT_PERMISSIONS,
    ) -> Credentials:
        """A fresh funded account with one key, for test isolation.

        Args:
            balances: free balance per asset (numbers or strings); None: the engine's
                default funding.
            key_type: ``"HMAC"``, ``"RSA"`` or ``"Ed25519"``.
            permissions: any of ``"read"``, ``"trade"``, ``"withdraw"``.
        """
        record = self.call(self._server.new_account, balances, key_type, tuple(permissions))
        return Credentials.from_record(record)

    def credit_deposit(
        self,
        coin: str,
        amount: Any,
        *,
        account_id: str | None = None,
        network: str | None = None,
        pending: bool = False,
        **details: Any,
    ) -> dict[str, Any]:
        """Credit a deposit of ``amount`` ``coin`` (default: to the default account).

        It appears in ``GET /sapi/v1/capital/deposit/hisrec`` and as a ``balanceUpdate`` event.

        Args:
            coin: the coin (``"USDT"``).
            amount: how much (number or string).
            account_id: whose account (default: the default account).
            network: the network (default: the coin's default network).
            pending: False (default) credits it at once; True leaves it pending for the
                wallet's confirmation delay (two minutes), as a fresh on-chain deposit is.
            **details: passed to the wallet (``address``, ``tx_id``).

        Returns:
            The deposit record as ``deposit/hisrec`` shows it.
        """
        return self.call(
            self._server.credit_deposit,
            account_id or self._server.default_account,
            coin,
            amount,
            network,
            pending=pending,
            **details,
        )

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> LocalExchange:
        """Start the server in a background thread (what ``with`` does)."""
        if self._started:
            raise RuntimeError("LocalExchange already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self.port = loop.run_until_complete(self._server.start())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                try:
                    loop.run_until_complete(self._server.stop())
                    _cancel_pending(loop)
                    loop.run_until_complete(loop.shutdown_asyncgens())
                finally:
                    loop.close()

        thread = threading.Thread(target=run, name=f"binance-sim-{self.seed}", daemon=True)
        self._loop = loop
        self._thread = thread
        thread.start()
        if not ready.wait(_START_TIMEOUT_S):  # pragma: no cover - start never takes this long
            raise RuntimeError("LocalExchange did not start")
        if failure:
            thread.join()
            self._loop = None
            self._thread = None
            raise failure[0]
        self._started = True
        return self

    def close(self) -> None:
        """Stop the server and join its thread (idempotent)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        thread.join()
        self._thread = None
        self._loop = None
        self._started = False

    def __enter__(self) -> LocalExchange:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def astart(self) -> LocalExchange:
        """Start the server on the running event loop (what ``async with`` does)."""
        if self._started:
            raise RuntimeError("LocalExchange already started")
        self.port = await self._server.start()
        self._started = True
        return self

    async def aclose(self) -> None:
        """Stop a server started with ``astart``."""
        if self._started and self._thread is None:
            await self._server.stop()
            self._started = False

    async def __aenter__(self) -> LocalExchange:
        return await self.astart()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "running" if self._started else "stopped"
        return f"<LocalExchange seed={self.seed} {self.rest_url} {state}>"


def _cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
