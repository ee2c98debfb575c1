"""The simulator's cache of rendered kline rows (binance.sim._kline_rows) against the engine.

A page served from cached rows must be byte-identical to the page built fresh, whatever the
alignment of the pages that filled the cache, and the kline still open must never be cached.
"""

from __future__ import annotations

import orjson
import pytest
from klines_support import HOUR, LIVE_SINCE, MINUTE, make_klines

from binance.sim._kline_rows import CHUNK, KlineRowCache
from binance.sim.engine.klines import KlinePlan, Klines

NOW = LIVE_SINCE + 5 * MINUTE


@pytest.fixture(scope="module")
def klines() -> Klines:
    return make_klines()


def _serve(cache: KlineRowCache, klines: Klines, calls: list[int], **query: object) -> bytes:
    args = {"limit": 1000, "now_ms": NOW, **query}
    plan = klines.plan("BTCUSDT", "1m", **args)  # type: ignore[arg-type]

    def build(first_open: int, count: int) -> list[list[object]]:
        calls.append(count)
        part = {**args, "start_ms": first_open, "limit": count}
        return [k.to_row() for k in klines.query("BTCUSDT", "1m", **part)]  # type: ignore[arg-type]

    return cache.page(("BTCUSDT", "1m", 0), plan, build)


def _fresh(klines: Klines, **query: object) -> bytes:
    args = {"limit": 1000, "now_ms": NOW, **query}
    rows = [k.to_row() for k in klines.query("BTCUSDT", "1m", **args)]  # type: ignore[arg-type]
    return orjson.dumps(rows)


def test_pages_from_cached_rows_equal_fresh_pages_at_any_alignment(klines: Klines) -> None:
    cache = KlineRowCache(10 * CHUNK)
    calls: list[int] = []
    start = LIVE_SINCE - 3 * 24 * HOUR
    for i in range(3):  # fill with pages aligned on the start
        _serve(cache, klines, calls, start_ms=start + i * 1000 * MINUTE)
    assert len(calls) == 3
    # Pages shifted by 17 minutes and of other sizes lie inside what was cached: no build.
    for offset, limit in ((17, 1000), (1234, 500), (2001, 999)):
        calls.clear()
        query = {"start_ms": start + offset * MINUTE, "limit": limit}
        assert _serve(cache, klines, calls, **query) == _fresh(klines, **query)
        assert not calls


def test_the_open_kline_is_built_on_every_request(klines: Klines) -> None:
    cache = KlineRowCache(10 * CHUNK)
    calls: list[int] = []
    query = {"end_ms": NOW}  # the newest 1000, ending with the kline still open
    first = _serve(cache, klines, calls, **query)
    second = _serve(cache, klines, calls, **query)
    assert first == second == _fresh(klines, **query)
    assert len(calls) == 2  # the last rows are live: never served from the cache
    plan = klines.plan("BTCUSDT", "1m", limit=1000, end_ms=NOW, now_ms=NOW)
    assert not plan.settled(plan.opens[-1])
    assert plan.settled(plan.opens[0])
    assert cache.rows == sum(plan.settled(t) for t in plan.opens)
    # The second answer took the settled rows from the cache and built only the live ones.
    assert calls == [1000, sum(not plan.settled(t) for t in plan.opens)]


def test_the_row_budget_evicts_least_recently_used_chunks(klines: Klines) -> None:
    cache = KlineRowCache(2 * CHUNK)
    calls: list[int] = []
    start = LIVE_SINCE - 30 * 24 * HOUR
    for i in range(6):
        _serve(cache, klines, calls, start_ms=start + i * 1000 * MINUTE)
    assert cache.rows <= 2 * CHUNK
    calls.clear()
    _serve(cache, klines, calls, start_ms=start)  # long evicted: built again
    assert calls == [1000]


def test_no_budget_or_no_fixed_length_builds_every_time(klines: Klines) -> None:
    calls: list[int] = []
    off = KlineRowCache(0)
    _serve(off, klines, calls, start_ms=LIVE_SINCE - 24 * HOUR)
    _serve(off, klines, calls, start_ms=LIVE_SINCE - 24 * HOUR)
    assert len(calls) == 2 and off.rows == 0
    monthly = KlinePlan(opens=[1, 2], length=None, settled_ms=10)
    cache = KlineRowCache(CHUNK)
    assert cache.page("k", monthly, lambda first, count: [["a"], ["b"]]) == b'[["a"],["b"]]'
    assert cache.rows == 0
