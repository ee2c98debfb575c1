"""AsyncDepthCacheManager against the simulator: exact checkpoints through gaps, reordered diffs
and dropped connections; a quiet symbol verified at once after a reconnect; ``recv`` hands each
changed cache once; a sync client works through worker threads; nothing (task, thread,
connection) outlives ``close``."""

from __future__ import annotations

import asyncio
import collections
import random
import threading
import time
from typing import Any

import pytest

from binance._streams.rules import StreamConfig
from binance.depthcache import AsyncDepthCacheManager, DepthCacheState

from .conftest import (
    FAST_STREAMS,
    SYMBOLS,
    TIMEOUT_SCALE,
    Recorder,
    Truths,
    async_client_for,
    async_steady,
    async_wait_until,
    client_for,
    compare,
    deadline,
    place_bid,
    truth,
)


def _other_tasks() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def test_async_cache_equals_true_book_through_faults(fast_sim, faults) -> None:
    """Gaps, reordered diffs and dropped connections on three symbols: every update id the
    caches show carries the simulator's book at that id, and each fault kind resynced."""
    rng = random.Random(5)
    tasks_before = _other_tasks()
    client = async_client_for(fast_sim)
    recorder = Recorder()
    truths = Truths(fast_sim)
    start = collections.Counter(faults.injected)  # counts since the simulator started
    try:
        async with AsyncDepthCacheManager(
            client, SYMBOLS, callback=recorder, limit=100, update_speed_ms=100,
            stream_config=FAST_STREAMS,
        ) as manager:  # fmt: skip
            assert await manager.wait_synced(timeout=10 * TIMEOUT_SCALE), manager.states()
            end = deadline(20)
            next_fault = time.monotonic()
            need = {"gap": 15, "reorder": 15, "drop": 2}
            while (
                any(faults.injected[k] - start[k] < n for k, n in need.items())
                or sum(map(len, truths.samples.values())) < 500
            ):
                assert time.monotonic() < end, dict(faults.injected)
                if time.monotonic() >= next_fault:
                    choice = rng.random()
                    symbol = rng.choice(SYMBOLS)
                    if choice < 0.45:
                        faults.skip_depth_events(1, symbol=symbol)
                    elif choice < 0.9:
                        faults.reorder_depth_events(1, symbol=symbol)
                    else:
                        faults.drop_connections(target="streams")
                    next_fault += 0.04
                truths.sample(rng.choice(SYMBOLS))
                await asyncio.sleep(0.002)  # pacing the sampler
            assert await manager.wait_synced(timeout=10 * TIMEOUT_SCALE), manager.states()
            for symbol in SYMBOLS:
                last = truths.last_id(symbol)
                await async_wait_until(
                    lambda s=symbol, last=last: max(recorder.ids(s), default=0) >= last,
                    what=f"{symbol} to pass update id {last}",
                )
            compared, diverged = compare(recorder, truths)
            assert not diverged, diverged[:5]
            assert not recorder.inconsistent
            assert compared >= 100
            assert sum(faults.injected.values()) - sum(start.values()) >= 32
            for symbol in SYMBOLS:
                cache = manager.get_depth_cache(symbol)
                assert cache is not None and cache.counters()["refresh_mismatches"] == 0
            assert sum(manager.caches[s].counters()["resyncs"] for s in SYMBOLS) >= 10
            (conn,) = manager.sm.pool.connections
            for symbol in SYMBOLS:  # each cache heard of the reconnects in-band
                assert 1 <= manager.caches[symbol].counters()["reconnects"] <= conn.reconnects
        assert all(c.state is DepthCacheState.STOPPED for c in manager.caches.values())
    finally:
        await client.close()
    assert _other_tasks() <= tasks_before


async def test_wait_synced_waits_for_changes_without_polling(fast_sim) -> None:
    """``wait_synced`` sleeps until a state changes: at its timeout it returns False and leaves
    no waiter behind; a waiter without a timeout is released by ``close``; once started, it
    returns as soon as the books sync."""
    client = async_client_for(fast_sim)
    try:
        idle = AsyncDepthCacheManager(client, ["BTCUSDT"], limit=100)  # not started: no changes
        began = time.monotonic()
        assert not await idle.wait_synced(timeout=0.1)
        assert 0.09 <= time.monotonic() - began < 2 * TIMEOUT_SCALE
        assert not idle._state_waiters
        waiting = asyncio.create_task(idle.wait_synced())
        await asyncio.sleep(0.05)
        assert not waiting.done() and len(idle._state_waiters) == 1
        await idle.close()  # the caches stop: the waiter is woken and sees it
        assert await asyncio.wait_for(waiting, 1 * TIMEOUT_SCALE) is False
        assert not idle._state_waiters

        async with AsyncDepthCacheManager(
            client, ["BTCUSDT", "ETHUSDT"], limit=100, update_speed_ms=100
        ) as manager:
            assert await manager.wait_synced(timeout=10 * TIMEOUT_SCALE), manager.states()
            assert all(c.synced for c in manager.caches.values()) and not manager._state_waiters
    finally:
        await client.close_connection()


async def test_recv_hands_each_changed_cache_once(fast_sim) -> None:
    """``recv`` returns a cache that changed; changes made while nobody read come back once
    per cache, in their latest state, so a slow reader never falls behind."""
    client = async_client_for(fast_sim)
    try:
        async with AsyncDepthCacheManager(
            client, ["BTCUSDT", "ETHUSDT"], limit=100, update_speed_ms=100
        ) as manager:
            first = await manager.recv(timeout=10 * TIMEOUT_SCALE)
            assert first.symbol in ("BTCUSDT", "ETHUSDT")
            assert await manager.wait_synced(timeout=10 * TIMEOUT_SCALE)
            applied = {s: manager.caches[s].counters()["events_applied"] for s in manager.symbols}
            await async_wait_until(
                lambda: all(
                    manager.caches[s].counters()["events_applied"] >= applied[s] + 3
                    for s in manager.symbols
                ),
                what="three more events on each symbol",
            )
            got = [await manager.recv(timeout=1), await manager.recv(timeout=1)]
            assert sorted(c.symbol for c in got) == ["BTCUSDT", "ETHUSDT"]
            # Neither recv yielded to the loop, so nothing changed since: each cache was
            # handed once, however many events it applied meanwhile.
            with pytest.raises(asyncio.TimeoutError):
                await manager.recv(timeout=0)
            cache = got[0]
            with cache.lock:
                assert cache.synced and cache.last_update_id is not None
        try:
            await manager.recv(timeout=1)
        except RuntimeError as exc:
            assert "closed" in str(exc)
        else:
            raise AssertionError("recv after close must raise")
    finally:
        await client.close()


async def test_sync_client_snapshots_run_on_worker_threads(fast_sim, faults) -> None:
    """With a sync Client, snapshots run on the manager's own worker threads; a gap resyncs the
    symbol, and ``close`` leaves no thread or task behind."""
    tasks_before = _other_tasks()
    client = client_for(fast_sim)
    recorder = Recorder()
    fetched_on: list[str] = []  # the threads the (real) snapshot requests ran on
    get_order_book = client.get_order_book

    def recording_get_order_book(**params: Any) -> Any:
        fetched_on.append(threading.current_thread().name)
        return get_order_book(**params)

    client.get_order_book = recording_get_order_book
    try:
        manager = AsyncDepthCacheManager(
            client, "BNBUSDT", callback=recorder, limit=100, update_speed_ms=100
        )
        async with manager:
            assert await manager.wait_synced(timeout=10 * TIMEOUT_SCALE)
            cache = manager.get_depth_cache()
            assert cache is not None
            await async_steady(cache)
            faults.skip_depth_events(1, symbol="BNBUSDT")
            await async_wait_until(
                lambda: cache.counters()["resyncs"] == 1 and cache.synced, what="a resync"
            )
            states = [t.state for t in cache.transitions]
            assert states[-2:] == [DepthCacheState.RESYNCING, DepthCacheState.SYNCED]
            assert recorder.unsynced["BNBUSDT"] >= 1 and recorder.nones == 0
            assert len(fetched_on) >= 2  # the first snapshot and the resync's
            assert all(name.startswith("AsyncDepthCacheManager") for name in fetched_on)
    finally:
        client.close()
    assert _other_tasks() <= tasks_before


async def test_shared_stream_manager_keeps_running_after_close(fast_sim) -> None:
    """With ``sm=``, the depth caches ride the user's StreamManager; closing the manager
    unsubscribes its streams only, and the user's own stream keeps delivering."""
    from binance.streams import StreamManager

    client = async_client_for(fast_sim)
    try:
        async with StreamManager(client, config=FAST_STREAMS) as sm:
            async with sm.trade_socket("BTCUSDT") as trades:
                manager = AsyncDepthCacheManager(
                    client, ["BTCUSDT", "ETHUSDT"], limit=100, update_speed_ms=100, sm=sm
                )
                async with manager:
                    assert await manager.wait_synced(timeout=10 * TIMEOUT_SCALE)
                    assert len(sm.pool.connections) == 1
                    assert len(sm.pool.streams) == 3
                assert sm.pool.streams == {"btcusdt@trade"}
                message = await trades.recv(timeout=10 * TIMEOUT_SCALE)
                assert message["e"] == "trade"
    finally:
        await client.close()


async def test_a_quiet_symbol_is_verified_at_once_after_a_reconnect(quiet_sim, make_sim_rest):
    """The asyncio manager hears of a reconnect in-band too: in a quiet market, where no later
    diff would show the loss, it fetches a verifying snapshot at once and the cache shows the
    order placed during the outage, never leaving SYNCED."""
    sim = quiet_sim
    rest = make_sim_rest(sim.rest_url)
    client = async_client_for(sim)
    slow_reconnect = StreamConfig(reconnect_initial_s=0.3, reconnect_jitter=0.0)
    try:
        async with AsyncDepthCacheManager(
            client, "BTCUSDT", limit=100, update_speed_ms=100, stream_config=slow_reconnect,
            verify_after_reconnect_s=0.0,
        ) as manager:  # fmt: skip
            cache = manager.caches["BTCUSDT"]
            first = place_bid(rest, sim)
            await async_wait_until(
                lambda: cache.synced and cache.get_bids(1) == [[first, 0.001]],
                what="the first bid in the cache",
            )
            sim.faults.streams.drop_connections(target="streams")
            second = place_bid(rest, sim)  # its diff event goes to no one
            await async_wait_until(
                lambda: cache.synced and cache.get_bids(1) == [[second, 0.001]],
                what="the verifying snapshot",
            )
            assert manager.sm is not None
            (conn,) = manager.sm.pool.connections
            await async_wait_until(lambda: conn.reconnects == 1, what="the reconnect count")
            counters = cache.counters()
            assert counters["reconnects"] == 1 and counters["resyncs"] == 0
            true_id, true_bids, _ = truth(sim, "BTCUSDT", 5)
            assert cache.last_update_id == true_id
            assert cache.book.top_bids(5, decimal=True) == true_bids
            assert [t.state for t in cache.transitions] == [
                DepthCacheState.SYNCING,
                DepthCacheState.SYNCED,
            ]
    finally:
        await client.close()
        sim.faults.streams.reset()
