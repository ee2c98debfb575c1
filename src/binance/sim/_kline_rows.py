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

from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence

import orjson

from binance.sim.engine.klines import KlinePlan

__all__ = ["CHUNK", "KlineRowCache"]

#: Open times per cached chunk (one eviction unit).
CHUNK = 1024

#: ``build(first_open, count)``: the rows of ``count`` klines from the one opening at
#: ``first_open``.
Build = Callable[[int, int], Sequence[Sequence[object]]]


class KlineRowCache:
    """JSON rows of settled klines per (query key, open time), within ``max_rows`` rows.

    Args:
        max_rows: the most rows kept (all chunks together); 0 keeps none.
    """

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self.rows = 0
        self._chunks: OrderedDict[tuple[Hashable, int], dict[int, bytes]] = OrderedDict()

    def page(self, key: Hashable, plan: KlinePlan, build: Build) -> bytes:
        """The JSON array of the plan's kline rows.

        Settled rows come from the cache when all of them are there; only the klines still
        changing (at most the last few: the one open now) are built. Otherwise the whole page
        is built once and its settled rows kept.

        Args:
            key: what besides the open time identifies a row (symbol, interval, time zone).
            plan: the query's plan (`Klines.plan`).
            build: ``build(first_open, count)`` makes the rows of ``count`` klines from the one
                opening at ``first_open`` (one of the plan's open times), in order.
        """
        opens = plan.opens
        if self.max_rows <= 0 or plan.length is None or not opens:
            return orjson.dumps(build(opens[0], len(opens)) if opens else [])
        # Settled klines are a prefix of the opens: those closing by plan.settled_ms.
        settled = bisect_right(opens, plan.settled_ms - plan.length)
        cached = self._lookup(key, opens[:settled], plan.length * CHUNK) if settled else None
        if cached is None:
            rows = [orjson.dumps(row) for row in build(opens[0], len(opens))]
            if len(rows) == len(opens):
                self._store(key, plan, rows)
        else:
            rows = cached
            if settled < len(opens):
                rows += [orjson.dumps(row) for row in build(opens[settled], len(opens) - settled)]
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
