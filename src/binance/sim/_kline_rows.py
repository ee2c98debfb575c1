"""Kline rows kept as JSON text between answers, so history is built and formatted once.

A page of 1000 one-minute klines costs the server's single thread ~10 ms: generating the
minutes (the engine splits 17 hours) and writing nine decimals per row. Generated history never
changes, so the rows of settled klines (`KlinePlan.settled`) are kept as the bytes of their JSON
row, in chunks of `CHUNK` open times, least recently used chunk evicted first when the row
budget (``SimConfig.kline_cache_rows``) is reached. The kline still open, and any kline touched
by live trades, is built fresh on every request. A page is then one join of cached rows.

No I/O; knows the engine's `KlinePlan` and orjson, nothing of HTTP.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence

import orjson

from binance.sim.engine.klines import KlinePlan

__all__ = ["CHUNK", "KlineRowCache"]

#: Open times per cached chunk (one eviction unit).
CHUNK = 1024


class KlineRowCache:
    """JSON rows of settled klines per (query key, open time), within ``max_rows`` rows.

    Args:
        max_rows: the most rows kept (all chunks together); 0 keeps none.
    """

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self.rows = 0
        self._chunks: OrderedDict[tuple[Hashable, int], dict[int, bytes]] = OrderedDict()

    def page(
        self, key: Hashable, plan: KlinePlan, build: Callable[[], Sequence[Sequence[object]]]
    ) -> bytes:
        """The JSON array of the plan's kline rows.

        Args:
            key: what besides the open time identifies a row (symbol, interval, time zone).
            plan: the query's plan (`Klines.plan`).
            build: makes every row of the plan, in order (called only if a row is missing).
        """
        if self.max_rows <= 0 or plan.length is None or not plan.opens:
            return orjson.dumps(build())
        cached = self._lookup(key, plan.opens, plan.length * CHUNK)
        if cached is not None:
            return b"[" + b",".join(cached) + b"]"
        rows = [orjson.dumps(row) for row in build()]
        if len(rows) == len(plan.opens):
            self._store(key, plan, rows)
        return b"[" + b",".join(rows) + b"]"

    def clear(self) -> None:
        """Forget every row."""
        self._chunks.clear()
        self.rows = 0

    def _lookup(self, key: Hashable, opens: Sequence[int], span: int) -> list[bytes] | None:
        chunks = self._chunks
        out: list[bytes] = []
        start = None
        chunk: dict[int, bytes] = {}
        for t in opens:
            if start is None or not start <= t < start + span:
                start = t - t % span
                found = chunks.get((key, start))
                if found is None:
                    return None
                chunks.move_to_end((key, start))
                chunk = found
            row = chunk.get(t)
            if row is None:
                return None
            out.append(row)
        return out

    def _store(self, key: Hashable, plan: KlinePlan, rows: list[bytes]) -> None:
        chunks = self._chunks
        assert plan.length is not None
        span = plan.length * CHUNK
        for t, row in zip(plan.opens, rows, strict=True):
            if not plan.settled(t):
                continue
            ckey = (key, t - t % span)
            chunk = chunks.get(ckey)
            if chunk is None:
                chunk = chunks[ckey] = {}
            if t not in chunk:
                chunk[t] = row
                self.rows += 1
        while self.rows > self.max_rows and chunks:
            _, evicted = chunks.popitem(last=False)
            self.rows -= len(evicted)
