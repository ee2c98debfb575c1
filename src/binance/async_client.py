"""``AsyncClient``: the same methods as ``Client``, as coroutines, on aiohttp.

Methods come from ``_api._Api``; this module adds the driver that runs flows over an
`AiohttpTransport` (``await asyncio.sleep`` for the governor's waits, so the event loop never
blocks) and the async history drivers. The aiohttp session is created inside the running loop on
the first request: constructing a client needs no loop and sends nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Mapping
from typing import Any

from binance import _flows, history
from binance._api import _Api
from binance._core import PreparedRequest
from binance._governor import Governor
from binance._transports import AiohttpTransport
from binance._types import DateLike, Json
from binance.client import BaseClientConfig
from binance.exceptions import BinanceTransportException

__all__ = ["AsyncClient"]


class AsyncClient(BaseClientConfig, _Api[Awaitable[Json], AsyncIterator[Json]]):
    """Binance Spot REST client (asyncio). Every method of `Client`, awaited.

    Example::

        async with AsyncClient(api_key, api_secret) as client:
            depth = await client.get_order_book(symbol="BNBBTC")
            async for kline in client.get_historical_klines_generator("BNBBTC", "1m",
                                                                      "1 day ago UTC"):
                ...

    Arguments are those of `Client`; ``requests_params`` are translated for aiohttp
    (``timeout``, ``proxies``/``proxy``, ``verify=False``), and ``session`` may be an
    ``aiohttp.ClientSession``.
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
        self._transport = AiohttpTransport(
            requests_params, session=session, limit=max(100, history_concurrency)
        )

    @classmethod
    async def create(cls, *args: Any, **kwargs: Any) -> AsyncClient:
        """Construct a client and measure the server clock once (python-binance 1.x style)."""
        client = cls(*args, **kwargs)
        try:
            await client.sync_clock()
        except BaseException:
            await client.close_connection()
            raise
        return client

    def _run(self, flow: _flows.Flow) -> Any:
        return self._drive(flow)

    async def _drive(self, flow: _flows.Flow) -> Any:
        """Drive a flow: send its requests, await its waits, return its result."""
        send = self._transport.send
        try:
            step = next(flow)
            while True:
                if type(step) is PreparedRequest:
                    try:
                        reply = await send(step)
                    except BinanceTransportException as exc:
                        step = flow.throw(exc)
                        continue
                    step = flow.send(reply)
                elif type(step) is _flows.Wait:
                    await asyncio.sleep(step.seconds)
                    step = flow.send(None)
                else:
                    raise TypeError(f"unexpected flow step {step!r}")
        except StopIteration as stop:
            return stop.value
        finally:
            flow.close()

    async def _historical_klines(
        self, symbol: str, interval: str, start: DateLike | None, end: DateLike | None, limit: int
    ) -> Json:
        flow = self._klines_flow(symbol, interval, start, end, limit)
        rows: list[Any] = []
        async for page in history.pages_async(self, flow, self.history_concurrency):
            rows.extend(page)
        return rows

    def _historical_klines_iter(
        self, symbol: str, interval: str, start: DateLike | None, end: DateLike | None, limit: int
    ) -> AsyncIterator[Json]:
        flow = self._klines_flow(symbol, interval, start, end, limit)
        return history.iterate_async(self, flow, self.history_concurrency)

    def _agg_trades_iter(
        self, symbol: str, start: DateLike | None, end: DateLike | None, last_id: int | None
    ) -> AsyncIterator[Json]:
        flow = history.agg_trades_flow(self._ctx, symbol, start, end, last_id)
        return history.iterate_async(self, flow, 1)

    async def close_connection(self) -> None:
        """Close the HTTP session (python-binance's name for `close`)."""
        await self._transport.close()

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._transport.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
