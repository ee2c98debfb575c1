"""The seed's DepthCacheManager interface: its documented example runs unchanged against the
simulator, ``None`` reaches the callback exactly when the cache cannot be used, an unknown
symbol fails the constructor, and close leaves nothing running."""

from __future__ import annotations

import textwrap
import threading
from typing import Any

import pytest

from binance._streams.conn import ReconnectError
from binance._streams.rules import StreamConfig
from binance.depthcache import DepthCache, DepthCacheManager, DepthCacheState
from binance.exceptions import BinanceAPIException

from .conftest import TIMEOUT_SCALE, Recorder, client_for, wait_until

# The depth cache section of the seed's documentation (2018), as printed, in the order a
# script needs it (the callback defined before use). Two edits, both forced by Python: an
# ``else:`` block holding only a comment needs ``pass``, and the seed's ``client`` is made by
# the test (``Client(api_key, api_secret)`` pointed at the simulator).
SEED_EXAMPLE = textwrap.dedent(
    """
    from binance.depthcache import DepthCacheManager

    def process_depth(depth_cache):
        if depth_cache is not None:
            print("symbol {}".format(depth_cache.symbol))
            print("top 5 bids")
            print(depth_cache.get_bids()[:5])
            print("top 5 asks")
            print(depth_cache.get_asks()[:5])
        else:
            # depth cacheにエラーが発生したため、再スタートが必要
            pass

    dcm = DepthCacheManager(client, 'BNBBTC', callback=process_depth)

    depth_cache = dcm.get_depth_cache()
    if depth_cache is not None:
        print("symbol {}".format(depth_cache.symbol))
        print("top 5 bids")
        print(depth_cache.get_bids()[:5])
        print("top 5 asks")
        print(depth_cache.get_asks()[:5])
    else:
        # depth cacheにエラーが発生したため、再スタートが必要
        pass

    dcm.close()

    # 1時間ごとの更新
    dcm = DepthCacheManager(client, 'BNBBTC', callback=process_depth, refresh_interval=60*60)
    dcm.close()

    # 更新を無効にする
    dcm = DepthCacheManager(client, 'BNBBTC', callback=process_depth, refresh_interval=0)
    dcm.close()
    """
)


def test_seed_example_runs_unchanged(fast_sim, capsys) -> None:
    """The seed's example prints the symbol and the best five bids and asks, sorted."""
    client = client_for(fast_sim)
    namespace: dict[str, Any] = {"client": client}
    try:
        exec(compile(SEED_EXAMPLE, "seed_depthcache_example", "exec"), namespace)
    finally:
        client.close()
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["symbol BNBBTC", "top 5 bids"]
    bids = eval(out[2])  # noqa: S307 - the example printed a list of float pairs
    asks = eval(out[4])  # noqa: S307
    assert len(bids) == 5 and len(asks) == 5
    assert [p for p, _ in bids] == sorted((p for p, _ in bids), reverse=True)
    assert [p for p, _ in asks] == sorted(p for p, _ in asks)
    assert bids[0][0] < asks[0][0]
    assert namespace["dcm"].get_depth_cache().state is DepthCacheState.STOPPED


def test_constructor_returns_a_synced_cache_and_callbacks_follow(fast_sim) -> None:
    """Like the seed's, the constructor returns with the book loaded; then the callback gets
    the cache after each applied diff, on the socket manager's callback thread."""
    client = client_for(fast_sim)
    recorder = Recorder()
    dcm = DepthCacheManager(client, "ethbtc", callback=recorder, update_speed_ms=100)
    try:
        cache = dcm.get_depth_cache()
        assert isinstance(cache, DepthCache)
        assert dcm.symbol == "ETHBTC" and cache.symbol == "ETHBTC"
        assert dcm.state is DepthCacheState.SYNCED and cache.last_update_id is not None
        assert cache.horizon == (None, None)  # limit 1000 > the book's levels: whole book
        assert cache.get_bids(3) and cache.get_asks(3)
        wait_until(lambda: recorder.calls >= 3, what="three callbacks")
        assert recorder.nones == 0
        assert recorder.threads <= {
            "BinanceSocketManager-callbacks",
            "DepthCacheManager-snapshots-0",
        }
        assert cache.update_time is not None and cache.lag is not None
    finally:
        dcm.close()
        client.close()
    assert dcm.state is DepthCacheState.STOPPED


def test_unknown_symbol_fails_the_constructor(fast_sim) -> None:
    """An unknown symbol's snapshot is refused (-1121): the constructor raises it and leaves
    no thread running."""
    client = client_for(fast_sim)
    threads = set(threading.enumerate())
    try:
        with pytest.raises(BinanceAPIException) as info:
            DepthCacheManager(client, "NOSUCHPAIR", quiet_snapshot_s=0.1)
        assert info.value.code == -1121
    finally:
        client.close()
    wait_until(lambda: set(threading.enumerate()) <= threads, what="threads to end")


def test_callback_gets_none_when_the_cache_fails_for_good() -> None:
    """When the exchange goes away and reconnecting fails, the callback gets None,
    ``get_depth_cache()`` returns None, and the cache is STOPPED with the error."""
    from binance.sim import LocalExchange

    recorder = Recorder()
    sim = LocalExchange(seed=2)
    sim.start()
    try:
        client = client_for(sim)
        give_up_fast = StreamConfig(reconnect_initial_s=0.05, max_retries=1, open_timeout_s=1.0)
        dcm = DepthCacheManager(
            client, "BTCUSDT", callback=recorder, limit=100, stream_config=give_up_fast
        )
        cache = dcm.get_depth_cache()
        assert cache is not None and cache.synced
        sim.close()
        wait_until(lambda: dcm.get_depth_cache() is None, seconds=15, what="the failure")
        assert recorder.nones == 1
        assert cache.state is DepthCacheState.STOPPED
        assert isinstance(cache.error, ReconnectError)
        assert cache.get_bids() == [] and cache.last_update_id is None
        dcm.close()
        client.close()
    finally:
        sim.close()
    assert recorder.calls >= 1


def test_close_from_inside_the_callback(fast_sim) -> None:
    """A callback may close its own manager (the seed's error handling did): no deadlock, and
    every thread ends."""
    client = client_for(fast_sim)
    closed = threading.Event()
    holder: dict[str, DepthCacheManager] = {}

    def close_me(cache: Any) -> None:
        manager = holder.get("dcm")
        if manager is not None and not closed.is_set():
            manager.close()
            closed.set()

    dcm = DepthCacheManager(client, "BTCUSDT", callback=close_me, update_speed_ms=100)
    holder["dcm"] = dcm
    try:
        assert closed.wait(10 * TIMEOUT_SCALE)
        assert dcm.state is DepthCacheState.STOPPED
    finally:
        dcm.close()
        client.close()
