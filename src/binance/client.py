"""``Client``: the seed's synchronous client, on requests.

All methods come from ``_api._Api`` (written once for both clients). This module adds the
constructor (keys, hosts, the seed's ``requests_params``), the driver that runs flows over a
`RequestsTransport`, and the history drivers. Constructing a client opens no connection and sends
nothing.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from binance import _flows, history
from binance._api import _Api
from binance._clock import ServerClock
from binance._core import PreparedRequest
from binance._governor import Governor
from binance._signing import HmacSigner, Signer, load_private_key_signer
from binance._transports import RequestsTransport
from binance._types import DateLike, Json
from binance.exceptions import BinanceTransportException

__all__ = ["Client", "BaseClientConfig"]

API_URL = "https://api.binance.com"
STREAM_URL = "wss://stream.binance.com:9443"
WS_API_URL = "wss://ws-api.binance.com:443/ws-api/v3"
TESTNET_API_URL = "https://testnet.binance.vision"
TESTNET_STREAM_URL = "wss://stream.testnet.binance.vision"
TESTNET_WS_API_URL = "wss://ws-api.testnet.binance.vision/ws-api/v3"

_CLOCKS: dict[str, ServerClock] = {}


def _shared_clock(host: str) -> ServerClock:
    # One server-clock estimate per host, like the governor: every client sees the same server.
    clock = _CLOCKS.get(host)
    if clock is None:
        clock = _CLOCKS.setdefault(host, ServerClock())
    return clock


def _strip_api(url: str) -> str:
    # The seed's API_URL ended in "/api" (paths were "v1/ping"); ours are "/api/v3/ping".
    url = url.rstrip("/")
    return url[: -len("/api")] if url.endswith("/api") else url


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _signer(
    api_secret: str | None, private_key: Any, private_key_pass: str | bytes | None
) -> Signer | None:
    if private_key is not None:
        if isinstance(private_key, os.PathLike) or (
            isinstance(private_key, str) and "-----BEGIN" not in private_key
        ):
            with open(private_key, "rb") as handle:
                private_key = handle.read()
        return load_private_key_signer(private_key, private_key_pass)
    if api_secret:
        return HmacSigner(api_secret)
    return None


class BaseClientConfig:
    """Constructor logic shared by `Client` and ``AsyncClient`` (no I/O)."""

    _ctx: _flows.Context

    def _configure(
        self,
        api_key: str | None,
        api_secret: str | None,
        *,
        base_url: str | None,
        stream_url: str | None,
        ws_api_url: str | None,
        testnet: bool,
        private_key: Any,
        private_key_pass: str | bytes | None,
        validate_orders: bool,
        governor: Governor | None,
        history_concurrency: int,
    ) -> None:
        base = _strip_api(base_url or (TESTNET_API_URL if testnet else API_URL))
        self.STREAM_URL = stream_url or (TESTNET_STREAM_URL if testnet else STREAM_URL)
        self.WS_API_URL = ws_api_url or (TESTNET_WS_API_URL if testnet else WS_API_URL)
        self.testnet = testnet
        self.API_KEY = api_key
        self.history_concurrency = history_concurrency
        host = _host(base)
        self._own_governor = governor is not None
        self._ctx = _flows.Context(
            base_url=base,
            api_key=api_key,
            signer=_signer(api_secret, private_key, private_key_pass),
            governor=governor or Governor.for_host(host),
            clock=_shared_clock(host),
            validate_orders=validate_orders,
        )

    @property
    def API_URL(self) -> str:  # noqa: N802 - the seed's attribute name
        """The REST API's base URL; assigning it (the seed's way to point elsewhere) works."""
        return self._ctx.base_url

    @API_URL.setter
    def API_URL(self, url: str) -> None:  # noqa: N802
        base = _strip_api(url)
        host = _host(base)
        self._ctx.base_url = base
        self._ctx.clock = _shared_clock(host)
        if not self._own_governor:
            self._ctx.governor = Governor.for_host(host)

    @property
    def base_url(self) -> str:
        """The REST API's base URL (scheme and host)."""
        return self._ctx.base_url

    @property
    def stream_url(self) -> str:
        """The market-stream WebSocket URL (for ``BinanceSocketManager``)."""
        return self.STREAM_URL

    @property
    def ws_api_url(self) -> str:
        """The WebSocket API URL (for the user data stream)."""
        return self.WS_API_URL

    @property
    def signer(self) -> Signer | None:
        """The request signer (HMAC, RSA or Ed25519), or None without a secret or key."""
        return self._ctx.signer

    @property
    def governor(self) -> Governor:
        """The weight governor shared by every client of this host."""
        return self._ctx.governor

    @property
    def validate_orders(self) -> bool:
        """Whether orders are checked against the symbol's filters before sending."""
        return self._ctx.validate_orders

    @validate_orders.setter
    def validate_orders(self, value: bool) -> None:
        self._ctx.validate_orders = bool(value)

    def _klines_flow(
        self, symbol: str, interval: str, start: DateLike | None, end: DateLike | None, limit: int
    ) -> _flows.Flow:
        """The flow of `get_historical_klines`, windows fetched ``history_concurrency`` at once."""
        return history.klines_flow(
            self._ctx, symbol, interval, start, end, limit, self.history_concurrency
        )

    def timestamp_ms(self) -> int:
        """Now on the exchange's clock, in milliseconds: what signed requests are stamped with.

        This machine's monotonic clock plus the offset measured with ``GET /api/v3/time``
        (round-trip corrected; measured before the first signed request and again after a
        ``-1021``, NOTES.md §1.4). Before any measurement it is this machine's wall clock.
        No I/O: it never sends anything, so an ``AsyncClient`` answers it without ``await``.
        """
        return self._ctx.server_ms()

    def __repr__(self) -> str:
        key_type = self._ctx.signer.key_type if self._ctx.signer else None
        return f"{type(self).__name__}(base_url={self.API_URL!r}, key_type={key_type!r})"


class Client(BaseClientConfig, _Api[Json, Iterator[Json]]):
    """Binance Spot REST client (sync). Same methods as the seed; constants as class attributes.

    Example::

        from binance.client import Client
        client = Client(api_key, api_secret)
        depth = client.get_order_book(symbol="BNBBTC")
        order = client.order_limit_buy(symbol="BNBBTC", quantity=100, price="0.00001")

    Args:
        api_key: the API key (sent as ``X-MBX-APIKEY``).
        api_secret: the HMAC secret.
        requests_params: options for every call, passed to requests (``timeout``, ``proxies``,
            ``verify``...); a call's own ``requests_params=`` overrides them.
        base_url: REST host (default ``https://api.binance.com``; e.g. a ``LocalExchange``'s
            ``rest_url``).
        stream_url: market-stream host, for ``BinanceSocketManager``.
        ws_api_url: WebSocket API URL, for the user data stream.
        testnet: use Binance's Spot testnet hosts.
        private_key: an RSA or Ed25519 private key (PEM text, bytes, a path to a PEM file, or a
            ``cryptography`` key); replaces ``api_secret`` for signing.
        private_key_pass: the PEM's passphrase.
        validate_orders: check orders against the symbol's filters before sending (default on).
        governor: a weight governor of your own (default: the one shared per host).
        history_concurrency: windows fetched at once by `get_historical_klines`.
        session: a ``requests.Session`` to use (default: our own).
    """

    def __init__(
        self,
        api_key: str | None = None,
        api_secret: str | None = None,
        requests_params: Mapping[str, Any] | None = None,
        *,
        base_url: str | None = None,
        stream_url: str | None = None,
        ws_api_url: str | None = None,
        testnet: bool = False,
        private_key: Any = None,
        private_key_pass: str | bytes | None = None,
        validate_orders: bool = True,
        governor: Governor | None = None,
        history_concurrency: int = history.DEFAULT_CONCURRENCY,
        session: Any = None,
    ) -> None:
        self._configure(
            api_key,
            api_secret,
            base_url=base_url,
            stream_url=stream_url,
            ws_api_url=ws_api_url,
            testnet=testnet,
            private_key=private_key,
            private_key_pass=private_key_pass,
            validate_orders=validate_orders,
            governor=governor,
            history_concurrency=history_concurrency,
        )
        self._transport = RequestsTransport(
            requests_params, session=session, pool_size=max(32, history_concurrency)
        )

    @property
    def session(self) -> Any:
        """The ``requests.Session`` in use."""
        return self._transport.session

    def _run(self, flow: _flows.Flow) -> Any:
        """Drive a flow: send its requests, sleep its waits, return its result."""
        send = self._transport.send
        try:
            step = next(flow)
            while True:
                if type(step) is PreparedRequest:
                    try:
                        reply = send(step)
                    except BinanceTransportException as exc:
                        step = flow.throw(exc)
                        continue
                    step = flow.send(reply)
                elif type(step) is _flows.Wait:
                    time.sleep(step.seconds)
                    step = flow.send(None)
                else:
                    raise TypeError(f"unexpected flow step {step!r}")
        except StopIteration as stop:
            return stop.value
        finally:
            flow.close()

    def _historical_klines(
        self, symbol: str, interval: str, start: DateLike | None, end: DateLike | None, limit: int
    ) -> Json:
        flow = self._klines_flow(symbol, interval, start, end, limit)
        pages = history.pages_sync(self, flow, self.history_concurrency)
        return list(itertools.chain.from_iterable(pages))

    def _historical_klines_iter(
        self, symbol: str, interval: str, start: DateLike | None, end: DateLike | None, limit: int
    ) -> Iterator[Json]:
        flow = self._klines_flow(symbol, interval, start, end, limit)
        return history.iterate_sync(self, flow, self.history_concurrency)

    def _agg_trades_iter(
        self, symbol: str, start: DateLike | None, end: DateLike | None, last_id: int | None
    ) -> Iterator[Json]:
        flow = history.agg_trades_flow(self._ctx, symbol, start, end, last_id)
        return history.iterate_sync(self, flow, 1)

    def close(self) -> None:
        """Close the HTTP connections (the client can still be used; it reconnects)."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
