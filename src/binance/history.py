"""Download long kline and aggregate-trade histories: a pure planner and two small drivers.

Klines are keyed by open time and spaced by their interval, so a span of ``limit * interval``
milliseconds holds at most ``limit`` of them whatever their alignment (weekly klines open on
Mondays, not at multiples of 7 days since 1970). `plan_windows` cuts ``[start, end]`` into such
spans, which can be fetched independently and concurrently; each page is trimmed to its own span
(open times ``start <= t <= end``, both inclusive, like Binance's ``startTime``/``endTime``), so
the concatenation has no gap, no repeat and exact boundaries. One request for the first kline
ever (``startTime=0, limit=1``) moves a start before the listing date to the listing, so asking
for "1 Jan, 2017" on a 2019 listing costs nothing. Monthly klines (calendar months) are paged one
after another instead.

The download is a flow (see ``_flows``) that yields steps of its own: `Gather` (run these flows,
give me their results), `Pipeline` + `Next` (run these flows a few at a time, give me their
results one by one, in order, while the later ones are being fetched) and `Emit` (hand these rows
to the consumer). `iterate_sync` runs it with a thread pool, `iterate_async` with asyncio tasks.
Every request still goes through the client's weight governor, which decides how fast the
windows really go.

No I/O here except in the two drivers, which only start threads or tasks.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from binance import _endpoints as E
from binance import _flows
from binance._types import DateLike, Json
from binance.helpers import date_to_milliseconds, interval_to_milliseconds

__all__ = [
    "Window",
    "Gather",
    "Emit",
    "Pipeline",
    "Next",
    "plan_windows",
    "klines_flow",
    "agg_trades_flow",
    "iterate_sync",
    "iterate_async",
    "DEFAULT_CONCURRENCY",
]

#: Windows in flight at once (the governor still paces them by weight).
DEFAULT_CONCURRENCY = 10
#: Max rows per kline / aggTrades request (Binance's limit).
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Window:
    """Open times ``start_ms <= t <= end_ms`` (both inclusive)."""

    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Gather:
    """Run these flows concurrently; resume with the list of their results, in order."""

    flows: Sequence[_flows.Flow]


@dataclass(frozen=True)
class Emit:
    """Hand these items to the consumer, in order."""

    items: Sequence[Any]


@dataclass(frozen=True)
class Pipeline:
    """Start running these flows, at most ``window`` at a time; resume with a handle for `Next`.

    Results come back in the flows' order, one per `Next`, while later flows keep running: the
    next windows are being fetched while the consumer handles this one.
    """

    flows: Iterator[_flows.Flow]
    window: int


@dataclass(frozen=True)
class Next:
    """Resume with the next result (in order) of a `Pipeline` handle."""

    handle: Any


def plan_windows(start_ms: int, end_ms: int, interval_ms: int, limit: int) -> list[Window]:
    """Cut ``[start_ms, end_ms]`` into spans of ``limit`` intervals (the last may be shorter).

    >>> plan_windows(0, 2_999, 1_000, 2)
    [Window(start_ms=0, end_ms=1999), Window(start_ms=2000, end_ms=2999)]
    """
    if interval_ms <= 0 or limit <= 0:
        raise ValueError("interval and limit must be positive")
    span = interval_ms * limit
    windows = []
    start = start_ms
    while start <= end_ms:
        windows.append(Window(start, min(start + span - 1, end_ms)))
        start += span
    return windows


def _trim(rows: list[Json], lo: int, hi: int, after: int) -> list[Json]:
    # Keep this window's own open times, and nothing already emitted.
    return [row for row in rows if lo <= row[0] <= hi and row[0] > after]


def _first_open_time(ctx: _flows.Context, symbol: str, interval: str) -> _flows.Flow:
    rows = yield from _flows.call(
        ctx, E.KLINES, {"symbol": symbol, "interval": interval, "startTime": 0, "limit": 1}
    )
    return rows[0][0] if rows else None


def _resolve(ctx: _flows.Context, start: DateLike | None, end: DateLike | None) -> tuple[int, int]:
    start_ms = 0 if start is None else date_to_milliseconds(start)
    end_ms = ctx.server_ms() if end is None else date_to_milliseconds(end)
    return start_ms, end_ms


def klines_flow(
    ctx: _flows.Context,
    symbol: str,
    interval: str,
    start: DateLike | None,
    end: DateLike | None,
    limit: int = MAX_LIMIT,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> _flows.Flow:
    """Every kline with ``start <= open time <= end``, emitted in order (see module docstring).

    Yields `Gather` and `Emit` steps; run it with `iterate_sync` or `iterate_async`.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be 1..{MAX_LIMIT}, not {limit}")
    interval_ms = interval_to_milliseconds(interval)  # validates the interval
    start_ms, end_ms = _resolve(ctx, start, end)
    (first,) = yield Gather([_first_open_time(ctx, symbol, interval)])
    if first is None:
        return
    start_ms = max(start_ms, first)
    if start_ms > end_ms:
        return

    def page(lo: int, hi: int) -> _flows.Flow:
        params = {
            "symbol": symbol,
            "interval": interval,
            "startTime": lo,
            "endTime": hi,
            "limit": limit,
        }
        return _flows.call(ctx, E.KLINES, params)

    last = start_ms - 1
    if interval.endswith("M"):
        # Calendar months have no fixed length: page one after another.
        while last < end_ms:
            (rows,) = yield Gather([page(last + 1, end_ms)])
            rows = _trim(rows, last + 1, end_ms, last)
            if not rows:
                return
            yield Emit(rows)
            last = rows[-1][0]
            if len(rows) < limit:
                return
        return
    windows = plan_windows(start_ms, end_ms, interval_ms, limit)
    handle = yield Pipeline((page(w.start_ms, w.end_ms) for w in windows), max(1, concurrency))
    for window in windows:
        rows = yield Next(handle)
        rows = _trim(rows, window.start_ms, window.end_ms, last)
        if rows:
            yield Emit(rows)
            last = rows[-1][0]


def agg_trades_flow(
    ctx: _flows.Context,
    symbol: str,
    start: DateLike | None = None,
    end: DateLike | None = None,
    last_id: int | None = None,
    limit: int = MAX_LIMIT,
) -> _flows.Flow:
    """Every aggregate trade from ``start`` (or after ``last_id``) up to ``end``, in order.

    The first page is found by time, the next ones by ``fromId`` (ids are consecutive), so no
    trade is skipped or repeated. Without ``start`` and ``last_id`` it starts at the first trade.
    """
    end_ms = None if end is None else date_to_milliseconds(end)
    params: dict[str, Any] = {"symbol": symbol, "limit": limit}
    if last_id is not None:
        params["fromId"] = last_id + 1
    elif start is not None:
        params["startTime"] = date_to_milliseconds(start)
    else:
        params["fromId"] = 0
    while True:
        (rows,) = yield Gather([_flows.call(ctx, E.AGG_TRADES, params)])
        if not rows:
            return
        if end_ms is not None and rows[-1]["T"] > end_ms:
            rows = [row for row in rows if row["T"] <= end_ms]
            if rows:
                yield Emit(rows)
            return
        yield Emit(rows)
        if len(rows) < limit:
            return
        params = {"symbol": symbol, "limit": limit, "fromId": rows[-1]["a"] + 1}


# -- drivers ---------------------------------------------------------------------------------------


class _ThreadPipe:
    def __init__(self, pool: ThreadPoolExecutor, run: Any, step: Pipeline) -> None:
        self._pool, self._run, self._flows, self._window = pool, run, step.flows, step.window
        self._pending: deque[Future[Any]] = deque()
        self._fill()

    def _fill(self) -> None:
        while len(self._pending) < self._window:
            flow = next(self._flows, None)
            if flow is None:
                return
            self._pending.append(self._pool.submit(self._run, flow))

    def next(self) -> Any:
        head = self._pending.popleft()
        self._fill()  # keep the pool busy while we wait for the head
        return head.result()

    def cancel(self) -> None:
        for future in self._pending:
            future.cancel()
        for flow in self._flows:
            flow.close()


def iterate_sync(client: Any, flow: _flows.Flow, concurrency: int) -> Iterator[Json]:
    """Run a history flow with ``client._run`` in a thread pool; yield what it emits."""
    pages = pages_sync(client, flow, concurrency)
    try:
        for page in pages:
            yield from page
    finally:
        pages.close()  # its pool shuts down now, not when the collector gets to it


def pages_sync(
    client: Any, flow: _flows.Flow, concurrency: int
) -> Generator[Sequence[Json], None, None]:
    """Run a history flow with ``client._run`` in a thread pool; yield each page it emits."""
    pool: ThreadPoolExecutor | None = None
    pipes: list[_ThreadPipe] = []
    try:
        reply: Any = None
        while True:
            try:
                step = flow.send(reply)
            except StopIteration:
                return
            reply = None
            if isinstance(step, Emit):
                yield step.items
            elif isinstance(step, Next):
                reply = step.handle.next()
            elif isinstance(step, Pipeline):
                if pool is None:
                    pool = ThreadPoolExecutor(concurrency, thread_name_prefix="binance-history")
                reply = _ThreadPipe(pool, client._run, step)
                pipes.append(reply)
            else:
                reply = [client._run(one) for one in step.flows]
    finally:
        flow.close()
        for pipe in pipes:
            pipe.cancel()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class _TaskPipe:
    def __init__(self, run: Any, step: Pipeline) -> None:
        self._run, self._flows, self._window = run, step.flows, step.window
        self._pending: deque[asyncio.Future[Any]] = deque()
        self._fill()

    def _fill(self) -> None:
        while len(self._pending) < self._window:
            flow = next(self._flows, None)
            if flow is None:
                return
            self._pending.append(asyncio.ensure_future(self._run(flow)))

    async def next(self) -> Any:
        head = self._pending.popleft()
        self._fill()
        return await head

    async def cancel(self) -> None:
        for task in self._pending:
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
        for flow in self._flows:
            flow.close()


async def iterate_async(client: Any, flow: _flows.Flow, concurrency: int) -> AsyncIterator[Json]:
    """Run a history flow with ``await client._run`` in asyncio tasks; yield what it emits."""
    pages = pages_async(client, flow, concurrency)
    try:
        async for page in pages:
            for item in page:
                yield item
    finally:
        await pages.aclose()


async def pages_async(
    client: Any, flow: _flows.Flow, concurrency: int
) -> AsyncGenerator[Sequence[Json], None]:
    """Run a history flow with ``await client._run`` in asyncio tasks; yield each page it
    emits (an async generator step per page, not per row: a year of 1m klines is 525,600 rows)."""
    pipes: list[_TaskPipe] = []
    try:
        reply: Any = None
        while True:
            try:
                step = flow.send(reply)
            except StopIteration:
                return
            reply = None
            if isinstance(step, Emit):
                yield step.items
            elif isinstance(step, Next):
                reply = await step.handle.next()
            elif isinstance(step, Pipeline):
                reply = _TaskPipe(client._run, step)
                pipes.append(reply)
            else:
                reply = [await client._run(one) for one in step.flows]
    finally:
        flow.close()
        for pipe in pipes:
            await pipe.cancel()
