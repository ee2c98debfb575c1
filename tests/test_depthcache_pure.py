"""DepthCache: the seed's interface over OrderBook (no I/O)."""

from __future__ import annotations

from decimal import Decimal

from binance._depthsync import DepthSync
from binance.depthcache import DepthCache


def test_seed_example_levels_come_back_sorted_as_floats():
    """add_bid/add_ask then get_bids/get_asks gives the seed's sorted float lists."""
    cache = DepthCache("BNBBTC")
    for bid in (["0.00019158", "5219.0"], ["0.0001946", "45.0"], ["0.00019459", "2384.0"]):
        cache.add_bid(bid)
    for ask in (["0.000197", "64.0"], ["0.0001955", "57.0"]):
        cache.add_ask(ask)
    assert cache.symbol == "BNBBTC"
    assert cache.get_bids() == [[0.0001946, 45.0], [0.00019459, 2384.0], [0.00019158, 5219.0]]
    assert cache.get_asks() == [[0.0001955, 57.0], [0.000197, 64.0]]
    assert cache.update_time is None and cache.last_update_id is None


def test_limit_returns_only_the_best_levels():
    """get_bids(limit) / get_asks(limit) return the best `limit` levels."""
    cache = DepthCache("BNBBTC")
    for i in range(1, 21):
        cache.add_bid([f"{i}.0", "1"])
        cache.add_ask([f"{100 + i}.0", "1"])
    assert cache.get_bids(3) == [[20.0, 1.0], [19.0, 1.0], [18.0, 1.0]]
    assert cache.get_asks(2) == [[101.0, 1.0], [102.0, 1.0]]
    assert cache.get_bids()[:3] == cache.get_bids(3)


def test_zero_quantity_removes_a_level():
    """A [price, "0.00000000"] pair removes the level, as in the stream."""
    cache = DepthCache("BNBBTC")
    cache.add_ask(["1.0", "2"])
    cache.add_ask(["1.1", "2"])
    cache.add_ask(["1.0", "0.00000000"])
    cache.add_ask(["5.0", "0"])  # unknown level: nothing to remove
    assert cache.get_asks() == [[1.1, 2.0]]


def test_use_decimal_returns_exact_values():
    """use_decimal=True returns Decimal prices and quantities."""
    cache = DepthCache("ETHBTC", use_decimal=True)
    cache.add_bid(["0.10000000", "0.30000000"])
    cache.add_bid([Decimal("0.2"), 1])
    assert cache.get_bids() == [[Decimal("0.2"), Decimal(1)], [Decimal("0.1"), Decimal("0.3")]]
    assert all(isinstance(v, Decimal) for row in cache.get_bids(1) for v in row)


def test_sort_depth_orders_by_price():
    """The seed's sort_depth helper sorts a {price: qty} mapping or pairs by numeric price."""
    assert DepthCache.sort_depth({"10.0": "1", "9.5": "2", "100": "3"}) == [
        [9.5, 2.0],
        [10.0, 1.0],
        [100.0, 3.0],
    ]
    assert DepthCache.sort_depth([["1", "1"], ["2", "2"]], reverse=True) == [
        [2.0, 2.0],
        [1.0, 1.0],
    ]


def test_a_depth_sync_can_maintain_the_cache_book():
    """DepthSync(book=cache.book) keeps the cache's levels in step with events."""
    cache = DepthCache("BNBBTC")
    sync = DepthSync("BNBBTC", book=cache.book, snapshot_limit=1000)
    sync.on_snapshot({"lastUpdateId": 5, "bids": [["1.0", "1"]], "asks": [["2.0", "1"]]})
    sync.on_event({"s": "BNBBTC", "U": 6, "u": 7, "E": 99, "b": [["1.5", "2"]], "a": []})
    assert cache.get_bids() == [[1.5, 2.0], [1.0, 1.0]]
    assert "BNBBTC" in repr(cache)
