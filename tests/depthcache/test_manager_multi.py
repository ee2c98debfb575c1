"""Many symbols on one connection: each symbol resyncs alone, a hundred symbols sync quickly
under Binance's default request-weight limit without a 429, a shared socket manager keeps the
user's own sockets, a quiet symbol is verified at once after a reconnect, and a partial
snapshot's range is all a cache shows."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from binance._streams.rules import StreamConfig
from binance.depthcache import DepthCacheState, MultiDepthCacheManager
from binance.websockets import BinanceSocketManager

from .conftest import (
    FAST_STREAMS,
    TIMEOUT_SCALE,
    Recorder,
    Truths,
    client_for,
    compare,
    place_bid,
    steady,
    truth,
    wait_until,
)

#: Every market of the simulator's default set; BCCBTC is halted (status BREAK), so its
#: stream stays silent: a quiet symbol.
ALL_SYMBOLS = ("ETHBTC", "BNBBTC", "NEOBTC", "BCCBTC", "BTCUSDT", "ETHUSDT", "BNBUSDT")


def test_symbols_share_one_connection_and_a_gap_resyncs_only_its_symbol(fast_sim, faults):
    """Seven symbols travel on one connection; a gap in ETHBTC's diffs resyncs ETHBTC and no
    other cache changes state. The callback gets the cache itself, RESYNCING, not None."""
    client = client_for(fast_sim)
    recorder = Recorder()
    manager = MultiDepthCacheManager(
        client, ALL_SYMBOLS, callback=recorder, limit=100, update_speed_ms=100,
        quiet_snapshot_s=0.3,
    )  # fmt: skip
    try:
        assert manager.wait_synced(timeout=10 * TIMEOUT_SCALE), manager.states()
        connections = manager.bm.pool.connections
        assert len(connections) == 1
        assert connections[0].streams == {f"{s.lower()}@depth@100ms" for s in ALL_SYMBOLS}
        # The halted market never sent an event: its first snapshot came from the quiet timer.
        quiet = manager.get_depth_cache("BCCBTC")
        assert quiet is not None and quiet.synced and quiet.counters()["events_applied"] == 0

        eth = manager.caches["ETHBTC"]
        steady(eth)
        before = {s: len(manager.caches[s].transitions) for s in ALL_SYMBOLS}
        faults.skip_depth_events(1, symbol="ETHBTC")
        wait_until(lambda: eth.counters()["resyncs"] == 1 and eth.synced, what="ETHBTC to resync")
        after = {s: len(manager.caches[s].transitions) for s in ALL_SYMBOLS}
        assert after.pop("ETHBTC") == before.pop("ETHBTC") + 2  # RESYNCING, then SYNCED
        assert after == before
        assert all(manager.caches[s].counters()["resyncs"] == 0 for s in before)
        assert recorder.unsynced["ETHBTC"] == 1 and recorder.nones == 0
    finally:
        manager.close()
        client.close()


def _markets(count: int) -> list[Any]:
    from binance.sim.engine.markets import DEFAULT_SYMBOLS

    base = next(s for s in DEFAULT_SYMBOLS if s.symbol == "BTCUSDT")
    return [
        dataclasses.replace(base, symbol=f"C{i:03d}USDT", base_asset=f"C{i:03d}")
        for i in range(count)
    ]


def test_a_hundred_symbols_sync_quickly_without_a_429(record_property):
    """A hundred symbols with ``limit=1000`` snapshots (weight 50 each) all sync on one
    connection under the default 6000-per-minute limit: the snapshots queue through the
    client's governor and the server never answers 429."""
    from binance.sim import LocalExchange

    markets = _markets(100)
    with LocalExchange(seed=3, markets=markets, activity=0.2) as sim:
        client = client_for(sim)
        assert client.governor.rejections == {429: 0, 418: 0}
        symbols = [m.symbol for m in markets]
        start = time.monotonic()
        manager = MultiDepthCacheManager(client, symbols, limit=1000, quiet_snapshot_s=1.0)
        try:
            assert manager.wait_synced(timeout=30 * TIMEOUT_SCALE), manager.states()
            took = time.monotonic() - start
            record_property("hundred_symbols_synced_s", round(took, 3))
            assert len(manager.bm.pool.connections) == 1
            assert client.governor.rejections == {429: 0, 418: 0}
            assert all(c.counters()["snapshots_applied"] >= 1 for c in manager.caches.values())
            # The server counted what we asked for and nothing was refused.
            used = sim.limits.used_weight("127.0.0.1", int(time.time() * 1000))
            assert used <= 6000
            record_property("weight_used_in_this_minute", used)
        finally:
            manager.close()
            client.close()


def test_snapshots_wait_for_the_next_minute_when_the_weight_runs_out():
    """Twelve symbols need 600 weight of snapshots; the server allows 400 a minute and its
    minute ends ~2.5 s after the start: the snapshots that do not fit wait for the next
    minute (the client's governor), so all sync without a 429, some in each minute."""
    from binance.sim import LocalExchange

    markets = _markets(12)
    with LocalExchange(seed=3, markets=markets, activity=0.2, request_weight_per_minute=400) as sim:
        wall = int(time.time() * 1000)
        sim.faults.set_clock_skew((57_500 - wall % 60_000) % 60_000)  # the minute ends soon
        client = client_for(sim)
        manager = MultiDepthCacheManager(
            client, [m.symbol for m in markets], limit=1000, quiet_snapshot_s=0.2
        )
        try:
            first_minute = sim._server.ctx.now_ms() // 60_000
            assert manager.wait_synced(timeout=30 * TIMEOUT_SCALE), manager.states()
            now = sim._server.ctx.now_ms()
            assert now // 60_000 > first_minute  # the last snapshots waited for a new minute
            assert client.governor.rejections == {429: 0, 418: 0}
            assert 0 < sim.limits.used_weight("127.0.0.1", now) <= 400
        finally:
            manager.close()
            client.close()


def test_shared_socket_manager_keeps_the_users_own_sockets(fast_sim):
    """Given a running BinanceSocketManager that already carries the user's depth socket for
    the same symbol, the manager adds its own socket beside it, and closing the manager
    leaves the user's socket and the socket manager running."""
    client = client_for(fast_sim)
    bm = BinanceSocketManager(client, config=FAST_STREAMS)
    mine: list[Any] = []
    key = bm.start_depth_socket("BTCUSDT", mine.append, update_speed_ms=100)
    bm.start()
    try:
        manager = MultiDepthCacheManager(
            client, ["BTCUSDT", "ETHUSDT"], limit=100, update_speed_ms=100, bm=bm
        )
        try:
            assert manager.wait_synced(timeout=10 * TIMEOUT_SCALE), manager.states()
            assert len(bm.pool.connections) == 1
        finally:
            manager.close()
        assert bm.conn_keys == [key]
        count = len(mine)
        wait_until(lambda: len(mine) > count + 2, what="the user's socket to keep delivering")
    finally:
        bm.close()
        client.close()


def test_a_quiet_symbol_is_verified_at_once_after_a_reconnect(quiet_sim, make_sim_rest):
    """An event lost while the connection was down leaves no trace in a quiet market (no later
    diff shows the gap). The stream layer reports the reconnect in-band, the manager fetches a
    verifying snapshot at once (``verify_after_reconnect_s=0``), and the cache shows the order
    placed during the outage, without ever leaving SYNCED."""
    sim = quiet_sim
    rest = make_sim_rest(sim.rest_url)
    client = client_for(sim)
    # Reconnect 0.3 s after a drop: the order below is placed meanwhile.
    slow_reconnect = StreamConfig(reconnect_initial_s=0.3, reconnect_jitter=0.0)
    manager = MultiDepthCacheManager(
        client, ["BTCUSDT"], limit=100, update_speed_ms=100, stream_config=slow_reconnect,
        quiet_snapshot_s=0.2, verify_after_reconnect_s=0.0,
    )  # fmt: skip
    try:
        cache = manager.caches["BTCUSDT"]
        first = place_bid(rest, sim)
        wait_until(
            lambda: cache.synced and cache.get_bids(1) == [[first, 0.001]],
            what="the first bid in the cache",
        )
        sim.faults.streams.drop_connections(target="streams")
        second = place_bid(rest, sim)  # its diff event goes to no one
        wait_until(
            lambda: cache.synced and cache.get_bids(1) == [[second, 0.001]],
            seconds=10,
            what="the verifying snapshot",
        )
        wait_until(lambda: manager.bm.pool.connections[0].reconnects == 1)
        counters = cache.counters()
        assert counters["reconnects"] == 1  # told in-band by the stream layer
        assert counters["resyncs"] == 0  # verified by a refresh, never discarded
        # The first snapshot, then the verifying one (no periodic refresh is due).
        assert counters["snapshots_applied"] == 2
        true_id, true_bids, _ = truth(sim, "BTCUSDT", 5)
        assert cache.last_update_id == true_id
        assert cache.book.top_bids(5, decimal=True) == true_bids
        assert [t.state for t in cache.transitions] == [
            DepthCacheState.SYNCING,
            DepthCacheState.SYNCED,
        ]
    finally:
        manager.close()
        client.close()
        sim.faults.streams.reset()


def test_checkpoints_hold_on_many_symbols(fast_sim, faults):
    """With seven symbols on one connection and random gaps on all of them, every update id
    any cache shows carries the true book."""
    import random

    rng = random.Random(3)
    client = client_for(fast_sim)
    recorder = Recorder()
    truths = Truths(fast_sim)
    busy = [s for s in ALL_SYMBOLS if s != "BCCBTC"]
    manager = MultiDepthCacheManager(
        client, ALL_SYMBOLS, callback=recorder, limit=100, update_speed_ms=100,
        quiet_snapshot_s=0.3,
    )  # fmt: skip
    try:
        assert manager.wait_synced(timeout=10 * TIMEOUT_SCALE)
        faults.set_random(seed=9, gap=0.05)
        end = time.monotonic() + 1.5
        while time.monotonic() < end or sum(map(len, truths.samples.values())) < 400:
            truths.sample(rng.choice(busy))
            time.sleep(0.002)  # pacing the sampler
        faults.reset()
        assert manager.wait_synced(timeout=10 * TIMEOUT_SCALE)
        for symbol in busy:
            last = truths.last_id(symbol)
            wait_until(lambda s=symbol, last=last: max(recorder.ids(s), default=0) >= last)
        compared, diverged = compare(recorder, truths)
        assert not diverged, diverged[:5]
        assert compared >= 50
        assert sum(manager.caches[s].counters()["resyncs"] for s in busy) >= 3
    finally:
        manager.close()
        client.close()


def test_a_partial_snapshot_shows_only_the_range_it_vouches_for(fast_sim):
    """With ``limit=5`` the snapshot lists five levels a side: at every update id a cache shows,
    its levels are exactly the true book's levels at or inside the snapshot's deepest prices
    (its horizon), never one past them (NOTES.md section 10: those are unknown)."""
    import threading

    client = client_for(fast_sim)
    shown: dict[int, tuple[Any, Any, list[Any], list[Any]]] = {}
    lock = threading.Lock()

    def record(cache: Any) -> None:
        with cache.lock:  # one consistent view: id, horizon and levels together
            if not cache.synced:
                return
            view = (*cache.horizon, cache.get_bids(), cache.get_asks())
            uid = cache.last_update_id
        with lock:
            shown[uid] = view

    samples = []
    manager = MultiDepthCacheManager(
        client, ["BTCUSDT"], callback=record, limit=5, update_speed_ms=100,
        use_decimal=True, refresh_interval=0,
    )  # fmt: skip
    try:
        assert manager.wait_synced(timeout=10 * TIMEOUT_SCALE)
        end = time.monotonic() + 1.0
        while time.monotonic() < end or len(samples) < 200:
            samples.append(truth(fast_sim, "BTCUSDT", 200))
            time.sleep(0.002)  # pacing the sampler
        last = samples[-1][0]
        wait_until(lambda: max(shown, default=0) >= last, what="the cache to pass the samples")
        compared = 0
        with lock:
            for uid, bids, asks in samples:
                view = shown.get(uid)
                if view is None:
                    continue
                low_bid, high_ask, cache_bids, cache_asks = view
                assert low_bid is not None and high_ask is not None  # 5 of many: partial
                assert cache_bids == [[p, q] for p, q in bids if p >= low_bid], uid
                assert cache_asks == [[p, q] for p, q in asks if p <= high_ask], uid
                compared += 1
        assert compared >= 20
    finally:
        manager.close()
        client.close()
