"""Diff-depth streams line up exactly with REST snapshots (NOTES.md §10), over thousands of events.

Binance's local order book procedure runs against a fast background market: every diff event
continues the previous one (``U == previous u + 1``), the first event after a REST snapshot
straddles its ``lastUpdateId``, a book rebuilt from a later snapshot equals the running book at
the same update id, and the partial-depth stream (pushed in the same tick) equals the local book's
top levels whenever both carry the same update id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import aiohttp
import orjson
import pytest

from binance.sim import LocalExchange
from waiting import TIMEOUT_SCALE as SCALE

DEADLINE = 60.0 * SCALE
SYMBOLS = ("btcusdt", "ethusdt", "bnbusdt", "ethbtc", "bnbbtc", "neobtc")
TARGET_EVENTS = 2000
RESYNC_EVERY = 40  # events per stream between fresh REST snapshots


@pytest.fixture(scope="module")
def sim() -> Iterator[LocalExchange]:
    # A fast market: engine ticks every 5 ms with heavy background trading, and the stream
    # tick at 5 ms, so thousands of diff events arrive within seconds.
    with LocalExchange(
        seed=0,
        activity=50.0,
        tick_interval_ms=5,
        request_weight_per_minute=1_000_000,
        ws_stream_tick_ms=5.0,
    ) as exchange:
        yield exchange


class Book:
    """A local order book built the documented way: a snapshot, then absolute level updates."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.update_id: int = snapshot["lastUpdateId"]
        self.bids = {Decimal(p): Decimal(q) for p, q in snapshot["bids"]}
        self.asks = {Decimal(p): Decimal(q) for p, q in snapshot["asks"]}

    def apply(self, event: dict[str, Any]) -> None:
        for side, levels in ((self.bids, event["b"]), (self.asks, event["a"])):
            for price, qty in levels:
                p, q = Decimal(price), Decimal(qty)
                if q == 0:
                    side.pop(p, None)  # removing an unknown level is normal
                else:
                    side[p] = q
        self.update_id = event["u"]

    def top(self, n: int) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        bids = sorted(self.bids.items(), reverse=True)[:n]
        asks = sorted(self.asks.items())[:n]
        return bids, asks

    def levels(self) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
        return dict(self.bids), dict(self.asks)


class Stream:
    """One diff-depth stream under NOTES.md §10, checking every rule as it goes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.symbol = name.split("@")[0].upper()
        self.buffer: list[dict[str, Any]] = []
        self.book: Book | None = None
        self.fresh: Book | None = None  # rebuilt from a later snapshot, not yet caught up
        self.fresh_pending: list[dict[str, Any]] = []
        self.recording = False  # a later snapshot was asked for: keep events for it
        self.last_u: int | None = None
        self.events = 0
        self.resyncs = 0
        self.matches = 0
        self.snapshot_task: asyncio.Task[dict[str, Any]] | None = None

    def on_event(self, event: dict[str, Any]) -> None:
        assert event["s"] == self.symbol and event["U"] <= event["u"]
        if self.last_u is not None:
            # NOTES.md §10: each event's U is the previous u + 1.
            assert event["U"] == self.last_u + 1, (self.name, self.last_u, event["U"])
        self.last_u = event["u"]
        self.events += 1
        if self.book is None:
            self.buffer.append(event)
        else:
            self.book.apply(event)
        if self.recording:
            self.fresh_pending.append(event)
        self._catch_up_fresh()

    def sync(self, snapshot: dict[str, Any]) -> None:
        """Steps 3-5: drop u <= lastUpdateId, the first kept event straddles it, apply."""
        last = snapshot["lastUpdateId"]
        first_u = self.buffer[0]["U"] if self.buffer else None
        assert first_u is None or last >= first_u - 1, "snapshot older than the first event"
        kept = [e for e in self.buffer if e["u"] > last]
        if kept:
            assert kept[0]["U"] <= last + 1 <= kept[0]["u"], (last, kept[0]["U"], kept[0]["u"])
        self.book = Book(snapshot)
        for event in kept:
            self.book.apply(event)
        self.buffer = []

    def start_fresh(self, snapshot: dict[str, Any]) -> None:
        """A later snapshot: rebuild beside the running book and compare once both meet."""
        self.fresh = Book(snapshot)
        self.fresh_pending = [e for e in self.fresh_pending if e["u"] > self.fresh.update_id]
        self._catch_up_fresh()

    def _catch_up_fresh(self) -> None:
        fresh, book = self.fresh, self.book
        if fresh is None or book is None:
            return
        pending = [e for e in self.fresh_pending if e["u"] > fresh.update_id]
        if pending:
            first = pending[0]
            assert first["U"] <= fresh.update_id + 1 <= first["u"]
        for event in pending:
            fresh.apply(event)
        self.fresh_pending = []
        if fresh.update_id == book.update_id:
            # The snapshot lines up exactly with the diff events: same book, every level.
            assert fresh.levels() == book.levels(), self.name
            self.fresh = None
            self.recording = False
            self.resyncs += 1

    def check_partial(self, partial: dict[str, Any], levels: int) -> None:
        book = self.book
        if book is None or partial["lastUpdateId"] != book.update_id:
            return
        bids, asks = book.top(levels)
        assert [[str(p), str(q)] for p, q in bids] == [
            [str(Decimal(p)), str(Decimal(q))] for p, q in partial["bids"]
        ]
        assert [[str(p), str(q)] for p, q in asks] == [
            [str(Decimal(p)), str(Decimal(q))] for p, q in partial["asks"]
        ]
        self.matches += 1


async def test_diff_depth_continues_rest_snapshots_over_thousands_of_events(sim):
    """U/u continuity, snapshot alignment and partial-depth agreement on 12 busy streams."""
    diff_names = [f"{s}@depth@100ms" for s in SYMBOLS] + [f"{s}@depth" for s in SYMBOLS]
    partial_names = [f"{s}@depth20@100ms" for s in SYMBOLS]
    streams = {name: Stream(name) for name in diff_names}
    by_symbol_100 = {name.split("@")[0]: streams[name] for name in diff_names if "100ms" in name}
    url = sim.stream_url + "/stream?streams=" + "/".join(diff_names + partial_names)

    async with aiohttp.ClientSession() as session:

        async def snapshot(symbol: str) -> dict[str, Any]:
            params = {"symbol": symbol, "limit": "1000"}
            async with session.get(sim.rest_url + "/api/v3/depth", params=params) as response:
                assert response.status == 200
                return await response.json()

        async with session.ws_connect(url, max_msg_size=0) as ws:

            async def run() -> None:
                while sum(s.events for s in streams.values()) < TARGET_EVENTS or any(
                    s.resyncs < 1 for s in streams.values()
                ):
                    msg = await ws.receive()
                    assert msg.type is aiohttp.WSMsgType.TEXT, msg
                    frame = orjson.loads(msg.data)
                    name, data = frame["stream"], frame["data"]
                    if name in streams:
                        stream = streams[name]
                        stream.on_event(data)
                        task = stream.snapshot_task
                        if stream.book is None and task is None:
                            # Step 2: the snapshot after buffering has started.
                            stream.snapshot_task = asyncio.ensure_future(snapshot(stream.symbol))
                        elif task is not None and task.done():
                            stream.snapshot_task = None
                            if stream.book is None:
                                stream.sync(task.result())
                            else:
                                stream.start_fresh(task.result())
                        elif (
                            stream.book is not None
                            and stream.fresh is None
                            and task is None
                            and stream.events % RESYNC_EVERY == 0
                        ):
                            stream.recording = True
                            stream.snapshot_task = asyncio.ensure_future(snapshot(stream.symbol))
                    else:
                        by_symbol_100[name.split("@")[0]].check_partial(data, 20)

            try:
                await asyncio.wait_for(run(), DEADLINE)
            finally:
                for stream in streams.values():
                    if stream.snapshot_task is not None:
                        stream.snapshot_task.cancel()
                        with contextlib_suppress():
                            await stream.snapshot_task

    total = sum(s.events for s in streams.values())
    assert total >= TARGET_EVENTS
    assert all(s.book is not None for s in streams.values())
    assert all(s.resyncs >= 1 for s in streams.values())
    assert sum(s.matches for s in by_symbol_100.values()) >= 100


class contextlib_suppress:
    """Swallow the cancellation of an abandoned snapshot request."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True
