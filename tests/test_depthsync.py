"""DepthSync: NOTES.md section 10 scenarios by script, then a faulty stream against a true book."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binance._depthsync import Applied, DepthSync, NeedSnapshot, Resync, SyncState


def ev(first, last, bids=(), asks=(), time=None, symbol="BNBBTC"):
    """A depthUpdate payload as the stream sends it."""
    event = {"e": "depthUpdate", "s": symbol, "U": first, "u": last}
    event["E"] = time if time is not None else 1_000 + last
    event["b"] = [list(level) for level in bids]
    event["a"] = [list(level) for level in asks]
    return event


def snap(last_id, bids=(("1.0", "1"),), asks=(("2.0", "1"),)):
    """A GET /api/v3/depth reply."""
    return {
        "lastUpdateId": last_id,
        "bids": [list(level) for level in bids],
        "asks": [list(level) for level in asks],
    }


def make(**kw):
    """A DepthSync whose snapshots (limit 100) list whole sides in these small examples."""
    kw.setdefault("snapshot_limit", 100)
    return DepthSync("BNBBTC", **kw)


def synced(last_id=100, **kw):
    """A DepthSync already synced at ``last_id`` with one bid at 1.0 and one ask at 2.0."""
    sync = make(**kw)
    assert isinstance(sync.on_snapshot(snap(last_id)), Applied)
    return sync


# -- start and buffering ---------------------------------------------------------------------------


def test_first_event_asks_for_a_snapshot_and_later_ones_are_buffered():
    """The first buffered event returns NeedSnapshot; the next ones return None."""
    sync = make()
    assert sync.state is SyncState.SYNCING
    action = sync.on_event(ev(10, 12))
    assert action == NeedSnapshot("BNBBTC", "no snapshot yet")
    assert sync.on_event(ev(13, 15)) is None
    assert sync.buffered == 2 and sync.last_update_id is None
    assert sync.book.best_bid() is None


def test_stale_buffered_events_are_dropped_and_the_straddling_one_applies():
    """Events with u <= lastUpdateId are dropped; the one with U <= id+1 <= u applies first."""
    sync = make()
    sync.on_event(ev(95, 99, bids=[("1.0", "9")]))
    sync.on_event(ev(100, 103, bids=[("1.1", "3")]))
    sync.on_event(ev(104, 105, asks=[("2.0", "0"), ("2.1", "4")], time=7))
    action = sync.on_snapshot(snap(101))
    assert action == Applied(100, 105, 7, 2)
    assert sync.state is SyncState.SYNCED
    assert sync.last_update_id == 105 and sync.last_event_time == 7
    assert sync.book.top_bids(5) == [[1.1, 3.0], [1.0, 1.0]]
    assert sync.book.top_asks(5) == [[2.1, 4.0]]
    assert sync.events_ignored == 1 and sync.events_applied == 2 and sync.buffered == 0


def test_event_starting_right_after_the_snapshot_applies():
    """U == lastUpdateId + 1 is no gap."""
    sync = make()
    sync.on_event(ev(101, 104, bids=[("1.5", "2")]))
    assert sync.on_snapshot(snap(100)) == Applied(101, 104, 1_104, 1)
    assert sync.book.best_bid() == [1.5, 2.0]


def test_snapshot_older_than_the_first_event_asks_again_and_keeps_the_buffer():
    """lastUpdateId < U - 1 means the snapshot misses events: fetch again, keep buffering."""
    sync = make()
    sync.on_event(ev(150, 155, bids=[("1.2", "1")]))
    action = sync.on_snapshot(snap(140))
    assert isinstance(action, NeedSnapshot) and not isinstance(action, Resync)
    assert "older" in action.reason
    assert sync.state is SyncState.SYNCING and sync.buffered == 1
    assert sync.on_event(ev(156, 160)) is None  # a snapshot is already asked for
    assert sync.on_snapshot(snap(152)) == Applied(150, 160, 1_160, 2)
    assert sync.book.best_bid() == [1.2, 1.0]


def test_snapshot_before_any_event_is_used_and_checked_by_the_next_event():
    """A snapshot with nothing buffered becomes the book; the next event must continue it."""
    sync = make()
    assert sync.on_snapshot(snap(100)) == Applied(100, 100, None, 0)
    assert sync.state is SyncState.SYNCED and sync.last_update_id == 100
    assert isinstance(sync.on_event(ev(105, 106)), Resync)


def test_buffer_keeps_only_the_newest_events():
    """Past max_buffer the oldest events go; a snapshot must then be newer than the oldest kept."""
    sync = make(max_buffer=2)
    for i in range(10):
        sync.on_event(ev(100 + 2 * i, 101 + 2 * i))
    assert sync.buffered == 2
    assert isinstance(sync.on_snapshot(snap(100)), NeedSnapshot)
    assert sync.on_snapshot(snap(116)) == Applied(116, 119, 1_119, 2)


def test_gap_inside_the_buffer_resyncs_and_keeps_the_events_after_it():
    """A buffered sequence with a hole cannot be applied past it."""
    sync = make()
    sync.on_event(ev(101, 102))
    sync.on_event(ev(110, 111, bids=[("1.3", "1")]))
    sync.on_event(ev(112, 113))
    action = sync.on_snapshot(snap(100))
    assert isinstance(action, Resync) and "gap" in action.reason
    assert sync.state is SyncState.RESYNCING and sync.buffered == 2
    assert sync.book.best_bid() is None
    assert sync.on_snapshot(snap(110)) == Applied(110, 113, 1_113, 2)
    assert sync.book.best_bid() == [1.3, 1.0]


# -- live events -----------------------------------------------------------------------------------


def test_live_events_apply_in_sequence():
    """Each contiguous event is applied and moves the update id."""
    sync = synced(100)
    assert sync.on_event(ev(101, 101, bids=[("1.0", "0"), ("0.9", "5")])) == Applied(
        101, 101, 1_101, 1
    )
    assert sync.on_event(ev(102, 110, asks=[("1.9", "1")])) == Applied(102, 110, 1_110, 1)
    assert sync.book.top_bids(5) == [[0.9, 5.0]]
    assert sync.book.top_asks(5) == [[1.9, 1.0], [2.0, 1.0]]
    assert sync.last_update_id == 110


def test_duplicates_are_ignored():
    """An event already in the book (u <= id) changes nothing, so replays are harmless."""
    sync = synced(100)
    event = ev(101, 102, bids=[("1.0", "7")])
    sync.on_event(event)
    sync.on_event(ev(103, 103, bids=[("1.0", "8")]))
    assert sync.on_event(event) is None
    assert sync.on_event(ev(90, 100, bids=[("5.0", "1")])) is None
    assert sync.book.best_bid() == [1.0, 8.0]
    assert sync.events_ignored == 2 and sync.state is SyncState.SYNCED


def test_a_gap_discards_the_book_and_buffers_the_gap_event():
    """U > id + 1 resyncs: empty book, RESYNCING, the event waits for the next snapshot."""
    sync = synced(100)
    action = sync.on_event(ev(105, 106, bids=[("1.4", "1")]))
    assert isinstance(action, Resync) and action.symbol == "BNBBTC"
    assert "gap" in action.reason and sync.last_resync_reason == action.reason
    assert sync.state is SyncState.RESYNCING and sync.resyncs == 1
    assert sync.book.best_bid() is None and sync.last_update_id is None
    assert sync.buffered == 1
    assert sync.on_event(ev(107, 107)) is None  # snapshot already asked for
    assert sync.on_snapshot(snap(105)) == Applied(105, 107, 1_107, 2)
    assert sync.book.best_bid() == [1.4, 1.0]


def test_reordered_events_are_detected_as_a_gap():
    """An event arriving before its predecessor shows up as a gap."""
    sync = synced(100)
    first, second, third = ev(101, 102), ev(103, 104), ev(105, 106)
    assert isinstance(sync.on_event(first), Applied)
    assert isinstance(sync.on_event(third), Resync)
    assert sync.on_event(second) is None
    assert sync.on_snapshot(snap(104)) == Applied(105, 106, 1_106, 1)


def test_malformed_and_crossing_events_resync():
    """u < U, bad levels and a crossed book after an event all discard the book."""
    sync = synced(100)
    assert isinstance(sync.on_event(ev(102, 101)), Resync)
    sync = synced(100)
    assert "crossed" in sync.on_event(ev(101, 101, bids=[("2.0", "1")])).reason
    assert sync.book.best_bid() is None
    sync = synced(100)
    assert "bad levels" in sync.on_event(ev(101, 101, bids=[("x", "1")])).reason
    unsynced = make()
    assert unsynced.on_event(ev(5, 4)) is None and unsynced.events_ignored == 1


def test_crossed_snapshot_resyncs():
    """A snapshot whose bid reaches its ask is not accepted."""
    sync = make()
    assert isinstance(sync.on_snapshot(snap(5, bids=[("2", "1")], asks=[("2", "1")])), Resync)


def test_wrong_input_raises():
    """Another symbol's event, or payloads without ids, are caller bugs."""
    sync = make()
    with pytest.raises(ValueError, match="ETHBTC"):
        sync.on_event(ev(1, 1, symbol="ETHBTC"))
    with pytest.raises(ValueError):
        sync.on_event({"b": [], "a": []})
    with pytest.raises(ValueError):
        sync.on_snapshot({"bids": []})


def test_reset_discards_everything():
    """reset() empties book and buffer; the next event asks for a snapshot."""
    sync = synced(100)
    sync.reset("stream reconnected")
    assert sync.state is SyncState.RESYNCING and sync.last_resync_reason == "stream reconnected"
    assert sync.book.best_ask() is None
    assert isinstance(sync.on_event(ev(200, 201)), NeedSnapshot)


# -- trusted range ---------------------------------------------------------------------------------


def test_levels_past_a_full_snapshot_are_not_reported():
    """A snapshot with `limit` levels vouches only down to its deepest level."""
    sync = DepthSync("BNBBTC", snapshot_limit=2)
    sync.on_snapshot(snap(10, bids=[("1.0", "1"), ("0.9", "1")], asks=[("2.0", "1")]))
    assert sync.book.bids.horizon == Decimal("0.9")
    assert sync.book.asks.horizon is None  # fewer levels than the limit: the whole side
    sync.on_event(ev(11, 11, bids=[("0.5", "3"), ("0.95", "2")], asks=[("9.0", "1")]))
    assert sync.book.top_bids(10) == [[1.0, 1.0], [0.95, 2.0], [0.9, 1.0]]
    assert sync.book.top_asks(10) == [[2.0, 1.0], [9.0, 1.0]]


# -- refresh ---------------------------------------------------------------------------------------


def test_refresh_with_an_older_snapshot_replays_the_events_since_the_request():
    """After request_refresh, a snapshot older than the book is rebuilt with the logged events."""
    sync = synced(100)
    assert sync.request_refresh() == NeedSnapshot("BNBBTC", "refresh")
    sync.on_event(ev(101, 101, bids=[("1.1", "1")]))
    sync.on_event(ev(102, 103, asks=[("1.9", "2")]))
    before = (sync.book.top_bids(), sync.book.top_asks())
    truth_at_101 = snap(101, bids=[("1.1", "1"), ("1.0", "1")], asks=[("2.0", "1")])
    assert sync.on_snapshot(truth_at_101) == Applied(102, 103, 1_103, 1)
    assert (sync.book.top_bids(), sync.book.top_asks()) == before
    assert sync.state is SyncState.SYNCED and sync.last_update_id == 103
    assert sync.refresh_mismatches == 0 and sync.snapshots_applied == 2
    assert sync.on_event(ev(104, 104)) == Applied(104, 104, 1_104, 1)


def test_refresh_counts_a_book_that_had_drifted():
    """If the rebuilt book differs from the live one, the refresh fixes it and counts it."""
    sync = synced(100)
    sync.on_snapshot(snap(100, bids=[("1.0", "5")]))
    assert sync.refresh_mismatches == 1
    assert sync.book.best_bid() == [1.0, 5.0]


def test_refresh_with_a_newer_snapshot_jumps_ahead():
    """A snapshot ahead of the stream becomes the book; events it covers are then ignored."""
    sync = synced(100)
    assert sync.on_snapshot(snap(110, bids=[("1.2", "1")])) == Applied(110, 110, None, 0)
    assert sync.last_update_id == 110
    assert sync.on_event(ev(101, 105)) is None
    assert sync.on_event(ev(106, 112, asks=[("1.8", "1")])) == Applied(106, 112, 1_112, 1)
    assert sync.book.best_ask() == [1.8, 1.0]


def test_refresh_the_log_cannot_replay_keeps_the_book_and_asks_again():
    """An unrequested old snapshot, or one that waited past `replay` events, is not used."""
    sync = synced(100, replay=2)
    sync.on_event(ev(101, 101, bids=[("1.0", "101")]))
    action = sync.on_snapshot(snap(100))  # no request_refresh: nothing logged to replay
    assert isinstance(action, NeedSnapshot) and not isinstance(action, Resync)
    assert sync.state is SyncState.SYNCED and sync.book.best_bid() == [1.0, 101.0]
    for i in range(102, 106):  # logging restarted, then overflows replay=2
        sync.on_event(ev(i, i, bids=[("1.0", str(i))]))
    assert isinstance(sync.on_snapshot(snap(103, bids=[("1.0", "103")])), NeedSnapshot)
    assert sync.book.best_bid() == [1.0, 105.0]
    sync.on_event(ev(106, 106, bids=[("1.0", "106")]))
    truth_at_105 = snap(105, bids=[("1.0", "105")])
    assert sync.on_snapshot(truth_at_105) == Applied(106, 106, 1_106, 1)
    assert sync.book.best_bid() == [1.0, 106.0] and sync.refresh_mismatches == 0


def test_request_refresh_before_sync_just_asks_for_a_snapshot():
    """Without a book, request_refresh is a plain NeedSnapshot."""
    assert make().request_refresh() == NeedSnapshot("BNBBTC", "no book yet")


# -- property: a faulty stream against the true book -----------------------------------------------

_DEPTH = 8  # levels per side compared
_SNAPSHOT_LIMIT = 10  # levels per side in a snapshot (so the trusted range matters)


class _Exchange:
    """A true book on a tick grid, emitting diff events with Binance-style update ids."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.update_id = 1_000
        self.bids = {tick: rng.randint(1, 9) for tick in range(90, 100)}
        self.asks = {tick: rng.randint(1, 9) for tick in range(101, 111)}
        self.history = {self.update_id: self.state()}

    @staticmethod
    def text(tick):
        return f"{Decimal(tick) / 10:.8f}"

    def state(self):
        bids = [[Decimal(t) / 10, Decimal(q)] for t, q in sorted(self.bids.items(), reverse=True)]
        asks = [[Decimal(t) / 10, Decimal(q)] for t, q in sorted(self.asks.items())]
        return bids, asks

    def step(self):
        rng = self.rng
        changes = {"b": {}, "a": {}}
        for _ in range(rng.randint(1, 6)):
            side = rng.choice("ba")
            book = self.bids if side == "b" else self.asks
            best_bid = max(self.bids, default=0)
            best_ask = min(self.asks, default=10_000)
            if side == "b":
                tick = rng.randint(max(1, best_bid - 15), best_ask - 1)
            else:
                tick = rng.randint(best_bid + 1, best_ask + 15)
            if tick in book and rng.random() < 0.4:
                del book[tick]
                changes[side][tick] = 0
            else:
                book[tick] = changes[side][tick] = rng.randint(1, 20)
        first = self.update_id + 1
        self.update_id += rng.randint(1, 3)
        self.history[self.update_id] = self.state()
        return {
            "e": "depthUpdate",
            "E": self.update_id * 10,
            "s": "BNBBTC",
            "U": first,
            "u": self.update_id,
            "b": [[self.text(t), f"{q}.00000000"] for t, q in changes["b"].items()],
            "a": [[self.text(t), f"{q}.00000000"] for t, q in changes["a"].items()],
        }

    def snapshot(self):
        return {
            "lastUpdateId": self.update_id,
            "bids": [
                [self.text(t), f"{q}"]
                for t, q in sorted(self.bids.items(), reverse=True)[:_SNAPSHOT_LIMIT]
            ],
            "asks": [
                [self.text(t), f"{q}"] for t, q in sorted(self.asks.items())[:_SNAPSHOT_LIMIT]
            ],
        }


def _check(sync: DepthSync, exchange: _Exchange) -> None:
    """The synced book shows exactly the true book's best levels within its trusted range."""
    true_bids, true_asks = exchange.history[sync.last_update_id]
    for ours, truth, side in (
        (sync.book.top_bids(_DEPTH, decimal=True), true_bids, sync.book.bids),
        (sync.book.top_asks(_DEPTH, decimal=True), true_asks, sync.book.asks),
    ):
        assert ours == truth[: len(ours)]
        if len(ours) < min(_DEPTH, len(truth)):  # only the untrusted range may be left out
            next_price = truth[len(ours)][0]
            horizon = side.horizon
            assert horizon is not None
            assert next_price < horizon if side.side == "bids" else next_price > horizon


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    drop=st.sampled_from([0.0, 0.01, 0.05]),
    dup=st.sampled_from([0.0, 0.05, 0.2]),
    swap=st.sampled_from([0.0, 0.02, 0.1]),
    refresh=st.sampled_from([0.0, 0.02]),
)
def test_synced_book_always_equals_the_true_book(seed, drop, dup, swap, refresh):
    """With drops, duplicates, reorders and refreshes, every SYNCED state is the true book."""
    rng = random.Random(seed)
    exchange = _Exchange(rng)
    sync = DepthSync("BNBBTC", snapshot_limit=_SNAPSHOT_LIMIT)
    in_flight: list[dict] = []  # generated, not yet delivered (the stream lags the exchange)
    pending_snapshot: tuple[int, dict] | None = None  # (events until it arrives, payload)
    checks = 0
    for _ in range(300):
        in_flight.append(exchange.step())
        if rng.random() < dup:
            in_flight.append(dict(in_flight[-1]))
        if len(in_flight) >= 2 and rng.random() < swap:
            in_flight[-1], in_flight[-2] = in_flight[-2], in_flight[-1]
        while len(in_flight) > rng.randint(0, 3):
            event = in_flight.pop(0)
            if rng.random() < drop:
                continue
            action = sync.on_event(event)
            if isinstance(action, NeedSnapshot) and pending_snapshot is None:
                pending_snapshot = (rng.randint(0, 4), exchange.snapshot())
            if sync.state is SyncState.SYNCED:
                _check(sync, exchange)
                checks += 1
        if pending_snapshot is not None:
            delay, payload = pending_snapshot
            if delay == 0:
                pending_snapshot = None
                action = sync.on_snapshot(payload)
                if isinstance(action, NeedSnapshot):
                    pending_snapshot = (rng.randint(0, 4), exchange.snapshot())
                if sync.state is SyncState.SYNCED:
                    _check(sync, exchange)
                    checks += 1
            else:
                pending_snapshot = (delay - 1, payload)
        elif sync.state is SyncState.SYNCED and rng.random() < refresh:
            sync.request_refresh()
            pending_snapshot = (rng.randint(0, 4), exchange.snapshot())
    assert checks > 0
    assert sync.refresh_mismatches == 0
