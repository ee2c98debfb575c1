"""The thread managers against the simulator's stream faults: the cache is Binance's book at
every update id it shows, through dropped, duplicated and reordered diffs, gaps, disconnects and
stalls; a disconnect is reported in-band and checked at once; a gap resyncs one symbol within a
second; refreshes change nothing.

Checkpoints are exact (see conftest): what the cache showed at update id N against the
simulator's book at update id N, read atomically on the server's loop.
"""

from __future__ import annotations

import collections
import random
import time
from typing import Any

from binance.depthcache import DepthCacheManager, DepthCacheState, MultiDepthCacheManager

from .conftest import (
    FAST_STREAMS,
    SYMBOLS,
    TIMEOUT_SCALE,
    Recorder,
    Truths,
    client_for,
    compare,
    deadline,
    steady,
    wait_until,
)

#: Longest a fault phase may run (seconds, scaled); phases end once their faults are applied.
PHASE_MAX_S = 20.0


def _run_phase(
    truths: Truths,
    faults: Any,
    inject: Any,
    need: dict[str, int],
    *,
    every_s: float,
    rng: random.Random,
) -> None:
    """Sample the true books continuously, calling ``inject(rng)`` every ``every_s`` seconds,
    until the simulator has applied ``need`` more faults of each kind (``faults.injected``
    counts since the simulator started) and at least 200 truths were sampled."""
    start = collections.Counter(faults.injected)
    end = deadline(PHASE_MAX_S)
    next_fault = time.monotonic()
    samples = sum(map(len, truths.samples.values())) + 200  # and at least 200 truths
    while (
        any(faults.injected[kind] - start[kind] < n for kind, n in need.items())
        or sum(map(len, truths.samples.values())) < samples
    ):
        assert time.monotonic() < end, "the simulator did not apply the faults in time"
        if time.monotonic() >= next_fault:
            inject(rng)
            next_fault += every_s
        truths.sample(rng.choice(SYMBOLS))
        time.sleep(0.002)  # pacing the sampler, not waiting for anything


def _settle(manager: MultiDepthCacheManager, recorder: Recorder, truths: Truths) -> None:
    """Wait until every cache is synced and has shown an id at or past the last truth sample,
    so that every comparable checkpoint has been recorded."""
    assert manager.wait_synced(timeout=10 * TIMEOUT_SCALE), manager.states()
    for symbol in SYMBOLS:
        if truths.samples.get(symbol):
            last = truths.last_id(symbol)
            wait_until(
                lambda s=symbol, last=last: max(recorder.ids(s), default=0) >= last,
                what=f"{symbol} to pass update id {last}",
            )


def test_cache_equals_true_book_through_every_stream_fault(
    fast_sim, faults, record_property
) -> None:
    """Through duplicated, skipped and reordered diffs, dropped connections and stalls, every
    update id the caches show has exactly the simulator's book at that id."""
    rng = random.Random(7)
    client = client_for(fast_sim)
    recorder = Recorder()
    truths = Truths(fast_sim)
    before = sum(faults.injected.values())  # counts since the simulator started
    manager = MultiDepthCacheManager(
        client,
        SYMBOLS,
        callback=recorder,
        limit=100,
        update_speed_ms=100,
        stream_config=FAST_STREAMS,
    )
    try:
        assert manager.wait_synced(timeout=10 * TIMEOUT_SCALE), manager.states()

        # 1. Duplicates: the stream layer drops them; nothing to resync.
        resyncs_before = {s: manager.caches[s].counters()["resyncs"] for s in SYMBOLS}
        _run_phase(
            truths,
            faults,
            lambda r: faults.duplicate_depth_events(2, symbol=r.choice(SYMBOLS)),
            {"duplicate": 50},
            every_s=0.03,
            rng=rng,
        )
        _settle(manager, recorder, truths)
        assert {s: manager.caches[s].counters()["resyncs"] for s in SYMBOLS} == resyncs_before

        # 2. Gaps and reordered diffs: each is seen (U > id + 1) and resyncs one symbol.
        def gap_or_reorder(r: random.Random) -> None:
            symbol = r.choice(SYMBOLS)
            if r.random() < 0.5:
                faults.skip_depth_events(1, symbol=symbol)
            else:
                faults.reorder_depth_events(1, symbol=symbol)

        _run_phase(
            truths,
            faults,
            gap_or_reorder,
            {"gap": 25, "reorder": 25},
            every_s=0.04,
            rng=rng,
        )
        _settle(manager, recorder, truths)
        assert sum(manager.caches[s].counters()["resyncs"] for s in SYMBOLS) >= 20

        # 3. Dropped connections and stalls: a reconnect shows as a gap in U/u; a stall only
        # delays (nothing is lost, so nothing is resynced for it).
        def connection_fault(r: random.Random) -> None:
            if r.random() < 0.5:
                faults.drop_connections(target="streams")
            else:
                faults.stall(0.2, target="streams")

        _run_phase(
            truths,
            faults,
            connection_fault,
            {"drop": 3, "stall": 3},
            every_s=0.3,
            rng=rng,
        )
        _settle(manager, recorder, truths)
        (conn,) = manager.bm.pool.connections
        assert conn.reconnects >= 1
        for symbol in SYMBOLS:  # each cache heard of the reconnects in-band
            assert 1 <= manager.caches[symbol].counters()["reconnects"] <= conn.reconnects

        compared, diverged = compare(recorder, truths)
        record_property("exact_checkpoints", compared)
        record_property("faults_injected", sum(faults.injected.values()) - before)
        assert not diverged, diverged[:5]
        assert not recorder.inconsistent, recorder.inconsistent[:5]
        assert compared >= 100, f"only {compared} exact checkpoints"
        assert sum(faults.injected.values()) - before >= 100
        for symbol in SYMBOLS:
            counters = manager.caches[symbol].counters()
            assert counters["refresh_mismatches"] == 0
            assert manager.caches[symbol].state is DepthCacheState.SYNCED
    finally:
        manager.close()
        client.close()
    assert all(c.state is DepthCacheState.STOPPED for c in manager.caches.values())


def test_a_dropped_connection_is_checked_at_once_and_the_books_stay_true(fast_sim, faults) -> None:
    """The stream layer reports a dropped connection in-band: every cache on it counts the
    reconnect, the diffs lost meanwhile show as a gap in the first diff after it and resync the
    book, and every update id shown before and after carries the simulator's book."""
    rng = random.Random(11)
    client = client_for(fast_sim)
    recorder = Recorder()
    truths = Truths(fast_sim)
    manager = MultiDepthCacheManager(
        client, SYMBOLS, callback=recorder, limit=100, update_speed_ms=100,
        stream_config=FAST_STREAMS,
    )  # fmt: skip
    try:
        assert manager.wait_synced(timeout=10 * TIMEOUT_SCALE), manager.states()
        caches = [manager.caches[s] for s in SYMBOLS]
        for cache in caches:
            steady(cache)
        (conn,) = manager.bm.pool.connections
        seen = [len(cache.transitions) for cache in caches]
        faults.drop_connections(target="streams")
        end = deadline(10)
        while not all(c.counters()["reconnects"] == 1 and c.synced for c in caches):
            assert time.monotonic() < end, [c.counters() for c in caches]
            truths.sample(rng.choice(SYMBOLS))
            time.sleep(0.002)  # pacing the sampler
        wait_until(lambda: conn.reconnects == 1, what="the reconnect count")
        for _ in range(50):  # the books after the reconnect
            truths.sample(rng.choice(SYMBOLS))
            time.sleep(0.002)
        _settle(manager, recorder, truths)
        resynced = [
            t
            for cache, before in zip(caches, seen, strict=True)
            for t in list(cache.transitions)[before:]
            if t.state is DepthCacheState.RESYNCING
        ]
        assert resynced and all(t.reason.startswith("gap: event U=") for t in resynced)
        compared, diverged = compare(recorder, truths)
        assert not diverged, diverged[:5]
        assert compared >= 20
    finally:
        manager.close()
        client.close()


def test_one_gap_resyncs_one_symbol_within_a_second(fast_sim, faults, record_property) -> None:
    """A skipped diff makes that symbol's cache RESYNCING and SYNCED again; the measured time
    between the two transitions is well under a second on loopback."""
    client = client_for(fast_sim)
    recorder = Recorder()
    manager = DepthCacheManager(
        client, "ETHUSDT", callback=recorder, limit=100, update_speed_ms=100
    )
    try:
        cache = manager.get_depth_cache()
        assert cache is not None and manager.state is DepthCacheState.SYNCED
        durations = []
        for _ in range(5):
            steady(cache)
            seen = len(cache.transitions)
            faults.skip_depth_events(1, symbol="ETHUSDT")
            wait_until(
                lambda seen=seen: len(cache.transitions) >= seen + 2,
                what="a resync (RESYNCING then SYNCED)",
            )
            resyncing, synced = list(cache.transitions)[seen : seen + 2]
            assert resyncing.state is DepthCacheState.RESYNCING
            assert resyncing.reason.startswith("gap: event U=")
            assert synced.state is DepthCacheState.SYNCED
            durations.append(synced.at - resyncing.at)
        record_property("resync_seconds", durations)
        # Measured, then checked against a deadline far above loopback's few milliseconds.
        assert max(durations) < 1.0 * TIMEOUT_SCALE, durations
        assert recorder.nones == 5  # the seed's "not usable" signal, once per discard
        assert cache.counters()["resyncs"] == 5
    finally:
        manager.close()
        client.close()


def test_refresh_rebuilds_without_changing_the_book(fast_sim) -> None:
    """With a short refresh_interval, each refresh rebuilds the book from a new snapshot plus
    the events it lacks: the state stays SYNCED and no refresh finds a different book."""
    client = client_for(fast_sim)
    recorder = Recorder()
    truths = Truths(fast_sim)
    manager = DepthCacheManager(
        client, "BTCUSDT", callback=recorder, refresh_interval=0.2, limit=100, update_speed_ms=100
    )
    try:
        cache = manager.get_depth_cache()
        assert cache is not None
        end = deadline(10)
        while cache.counters()["snapshots_applied"] < 6:
            assert time.monotonic() < end, cache.counters()
            truths.sample("BTCUSDT")
            time.sleep(0.002)
        last = truths.last_id("BTCUSDT")
        wait_until(lambda: max(recorder.ids("BTCUSDT"), default=0) >= last)
        counters = cache.counters()
        assert counters["refresh_mismatches"] == 0
        assert counters["resyncs"] == 0
        assert [t.state for t in cache.transitions] == [
            DepthCacheState.SYNCING,
            DepthCacheState.SYNCED,
        ]
        compared, diverged = compare(recorder, truths)
        assert not diverged, diverged[:5]
        assert compared >= 20
    finally:
        manager.close()
        client.close()
