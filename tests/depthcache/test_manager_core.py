"""The managers' shared core without I/O: what each message and snapshot asks the driver to do,
the order snapshots are fetched in, the timers (quiet start, refresh, reconnect check) and
which errors are final."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from binance import depthcache as dc
from binance._streams.conn import ReconnectError
from binance.depthcache import DepthCache, DepthCacheState
from binance.exceptions import (
    BinanceAPIException,
    BinanceConnectionException,
    BinanceRateLimitException,
)


def _event(
    first: int, last: int, bids: Any = (), asks: Any = (), t: int = 1_000, s: str = "BTCUSDT"
) -> dict:
    return {
        "e": "depthUpdate",
        "E": t,
        "s": s,
        "U": first,
        "u": last,
        "b": [list(b) for b in bids],
        "a": [list(a) for a in asks],
    }


def _snapshot(uid: int, bids: Any = (("100", "1"),), asks: Any = (("101", "1"),)) -> dict:
    return {"lastUpdateId": uid, "bids": [list(b) for b in bids], "asks": [list(a) for a in asks]}


def _feed(limit: int = 100, refresh: float | None = 60.0) -> dc._Feed:
    return dc._Feed(
        "btcusdt",
        "btcusdt@depth@100ms",
        limit=limit,
        use_decimal=True,
        refresh_interval=refresh,
        max_buffer=100,
    )


def _synced_feed(uid: int = 10) -> dc._Feed:
    feed = _feed()
    feed.on_message(_event(uid, uid), 0.0)
    flags, _ = feed.on_snapshot(_snapshot(uid), 0.0)
    assert flags & dc._NOTIFY and feed.cache.synced
    return feed


# -- _Feed ------------------------------------------------------------------------------------


def test_first_event_asks_for_a_snapshot_and_the_snapshot_syncs() -> None:
    """The first diff is buffered and asks for a snapshot (priority: no book); the snapshot
    then syncs the cache, replays the buffered diff and schedules the refresh."""
    feed = _feed()
    assert feed.cache.state is DepthCacheState.SYNCING
    flags, priority = feed.on_message(_event(11, 12, bids=[("99", "2")]), 1.0)
    assert flags == dc._WANT and priority == dc._PRIO_BOOK
    assert feed.on_message(_event(13, 13), 1.1) == (0, 0)  # buffered, already asked
    flags, _ = feed.on_snapshot(_snapshot(10), 2.0)
    assert flags == dc._NOTIFY | dc._TRANSITION
    cache = feed.cache
    assert cache.state is DepthCacheState.SYNCED and cache.last_update_id == 13
    assert cache.get_bids() == [[Decimal("100"), Decimal("1")], [Decimal("99"), Decimal("2")]]
    assert 62.0 <= feed.refresh_at <= 66.0  # refresh_interval, plus up to 10 % per symbol
    assert [t.state for t in cache.transitions] == [
        DepthCacheState.SYNCING,
        DepthCacheState.SYNCED,
    ]


def test_synced_events_notify_and_copy_the_update_id_and_time() -> None:
    """A diff continuing the book notifies, and the cache carries its ``u`` and ``E``."""
    feed = _synced_feed(10)
    flags, _ = feed.on_message(_event(11, 14, asks=[("101", "0")], t=5_000), 3.0)
    assert flags == dc._NOTIFY
    assert feed.cache.last_update_id == 14 and feed.cache.update_time == 5_000
    assert feed.cache.get_asks() == []
    assert feed.on_message(_event(12, 14), 3.1) == (0, 0)  # a duplicate: ignored


def test_combined_frames_are_unwrapped() -> None:
    """``{"stream", "data"}`` frames (multiplex sockets) are handled like bare payloads."""
    feed = _synced_feed(10)
    flags, _ = feed.on_message({"stream": feed.stream, "data": _event(11, 11)}, 1.0)
    assert flags == dc._NOTIFY and feed.cache.last_update_id == 11


def test_a_gap_discards_the_book_and_asks_for_a_snapshot() -> None:
    """``U > id + 1`` discards the book (no levels, no update id), records why, and asks for a
    snapshot ahead of refreshes."""
    feed = _synced_feed(10)
    flags, priority = feed.on_message(_event(13, 14), 4.0)
    assert flags == dc._WANT | dc._DISCARDED | dc._TRANSITION and priority == dc._PRIO_BOOK
    cache = feed.cache
    assert cache.state is DepthCacheState.RESYNCING
    assert cache.get_bids() == [] and cache.last_update_id is None
    assert cache.transitions[-1].reason == "gap: event U=13 after update id 10"
    assert feed.refresh_at is None
    flags, _ = feed.on_snapshot(_snapshot(13), 4.1)
    assert flags == dc._NOTIFY | dc._TRANSITION and cache.last_update_id == 14


@pytest.mark.parametrize(
    "message",
    [
        {"e": "gap", "E": 1, "stream": "btcusdt@depth@100ms", "dropped": 7, "m": "7 dropped"},
        {"stream": "btcusdt@depth@100ms", "data": {"e": "gap", "dropped": 7}},
        {"e": "depthUpdate", "s": "BTCUSDT", "b": [], "a": []},  # no U/u
    ],
    ids=["gap-event", "wrapped-gap-event", "malformed-diff"],
)
def test_gap_events_and_malformed_diffs_resync(message: dict) -> None:
    """The stream layer's gap event, or a diff without ``U``/``u``, resyncs the symbol."""
    feed = _synced_feed(10)
    flags, priority = feed.on_message(message, 5.0)
    assert flags & dc._DISCARDED and flags & dc._WANT and priority == dc._PRIO_BOOK
    assert feed.cache.state is DepthCacheState.RESYNCING
    # A snapshot newer than anything seen syncs again (the buffer was cleared).
    flags, _ = feed.on_snapshot(_snapshot(20), 5.1)
    assert feed.cache.synced and feed.cache.last_update_id == 20


def test_the_socket_error_stops_the_cache_for_good() -> None:
    """The seed's ``{'e': 'error', 'm': 'Max reconnect retries reached'}`` stops the cache with
    a ReconnectError; nothing after it changes the cache."""
    feed = _synced_feed(10)
    flags, _ = feed.on_message({"e": "error", "m": "Max reconnect retries reached"}, 6.0)
    assert flags == dc._STOPPED | dc._TRANSITION
    cache = feed.cache
    assert cache.state is DepthCacheState.STOPPED and isinstance(cache.error, ReconnectError)
    assert cache.get_bids() == [] and not feed.begin_fetch()
    assert feed.on_message(_event(11, 11), 6.1) == (0, 0)
    assert feed.on_snapshot(_snapshot(30), 6.2) == (0, 0)


def test_a_refresh_keeps_the_cache_synced_and_reschedules() -> None:
    """``begin_fetch`` on a synced feed arms the replay log: a snapshot older than the live
    book is completed with the events it lacks, the state never leaves SYNCED."""
    feed = _synced_feed(10)
    assert feed.begin_fetch()
    feed.on_message(_event(11, 11, bids=[("98", "3")]), 7.0)
    flags, _ = feed.on_snapshot(_snapshot(10), 8.0)  # taken before event 11 applied
    assert flags == dc._NOTIFY
    assert feed.cache.state is DepthCacheState.SYNCED and feed.cache.last_update_id == 11
    assert feed.cache.get_bids(2) == [[Decimal("100"), Decimal("1")], [Decimal("98"), Decimal("3")]]
    assert 68.0 <= feed.refresh_at <= 74.0
    assert feed.sync.refresh_mismatches == 0 and len(feed.cache.transitions) == 2


def test_a_full_snapshot_side_limits_what_reads_return() -> None:
    """A snapshot side with ``limit`` levels may be cut: `horizon` names its deepest price
    and reads never go past it."""
    feed = _feed(limit=2)
    feed.on_message(_event(6, 6), 0.0)
    feed.on_snapshot(_snapshot(5, bids=[("100", "1"), ("99", "1")], asks=[("101", "1")]), 0.0)
    cache = feed.cache
    assert cache.horizon == (Decimal("99"), None)
    feed.on_message(_event(7, 7, bids=[("98", "5")]), 0.1)
    assert [p for p, _ in cache.get_bids()] == [Decimal("100"), Decimal("99")]


# -- the snapshot queue --------------------------------------------------------------------------


def test_queue_serves_books_first_then_in_asking_order() -> None:
    """Symbols without a book go before verifications and refreshes; equal ones in the order
    they asked; a symbol is queued once and never while its snapshot is in flight."""
    feeds = [_feed() for _ in range(5)]
    queue = dc._SnapshotQueue(max_in_flight=2)
    queue.want(feeds[0], dc._PRIO_REFRESH)
    queue.want(feeds[1], dc._PRIO_BOOK)
    queue.want(feeds[2], dc._PRIO_VERIFY)
    queue.want(feeds[3], dc._PRIO_BOOK)
    queue.want(feeds[0], dc._PRIO_BOOK)  # a refresh turned into a resync: moves up
    queue.want(feeds[1], dc._PRIO_REFRESH)  # already queued ahead: no change
    assert queue.pop(0.0) == (feeds[1], dc._PRIO_BOOK)
    assert queue.pop(0.0) == (feeds[3], dc._PRIO_BOOK)
    assert queue.pop(0.0) is None  # two in flight
    queue.want(feeds[1], dc._PRIO_BOOK)  # in flight: on_snapshot will say if more is needed
    queue.done(feeds[1])
    assert queue.pop(0.0) == (feeds[0], dc._PRIO_BOOK)
    queue.done(feeds[3])
    assert queue.pop(0.0) == (feeds[2], dc._PRIO_VERIFY)
    assert len(queue) == 0


def test_queue_waits_out_a_retry_delay() -> None:
    """A failed symbol comes back only after its delay; ``next_due`` says when."""
    feed = _feed()
    queue = dc._SnapshotQueue(max_in_flight=1)
    queue.want(feed, dc._PRIO_BOOK, not_before=5.0)
    assert queue.pop(4.9) is None and queue.next_due() == 5.0
    assert queue.pop(5.0) == (feed, dc._PRIO_BOOK)


@pytest.mark.parametrize(
    ("error", "fatal"),
    [
        (BinanceAPIException(status_code=400, code=-1121, message="Invalid symbol."), True),
        (BinanceAPIException(status_code=503, code=-1001, message="Internal error"), False),
        (BinanceRateLimitException(status_code=429, code=-1003, message="Too many"), False),
        (BinanceConnectionException("refused"), False),
        (TypeError("an async client needs AsyncDepthCacheManager"), True),
    ],
    ids=["unknown-symbol", "server-error", "rate-limited", "transport", "wrong-client"],
)
def test_which_snapshot_errors_are_final(error: BaseException, fatal: bool) -> None:
    """Only errors a retry cannot fix stop the cache; the rest are retried with backoff."""
    assert dc._is_fatal(error) is fatal


def test_failed_fetches_back_off_then_stop_on_a_final_error() -> None:
    """A transient failure re-queues the symbol after 0.25 s, then 0.5 s...; a final one stops
    it with the error."""
    core = _core(["BTCUSDT"])
    feed = core.feeds["BTCUSDT"]
    core.want(feed, dc._PRIO_BOOK)
    assert core.queue.pop(0.0) == (feed, dc._PRIO_BOOK)
    assert core.failed(feed, BinanceConnectionException("refused"), 10.0) == (0, 0)
    assert core.queue.pop(10.2) is None and core.queue.pop(10.25) is not None
    core.failed(feed, BinanceConnectionException("refused"), 11.0)
    assert core.queue.next_due() == 11.5
    assert core.queue.pop(11.5) is not None
    error = BinanceAPIException(status_code=400, code=-1121, message="Invalid symbol.")
    flags, _ = core.failed(feed, error, 12.0)
    assert flags & dc._STOPPED and feed.cache.error is error
    assert feed not in core.queue


# -- timers -------------------------------------------------------------------------------------


def _core(symbols: list[str], **kw: Any) -> dc._Core:
    options = dict(
        limit=100,
        use_decimal=False,
        update_speed_ms=100,
        refresh_interval=60.0,
        max_in_flight=4,
        quiet_snapshot_s=3.0,
        verify_after_reconnect_s=2.0,
        max_buffer=100,
    )
    options.update(kw)
    return dc._Core(symbols, **options)  # type: ignore[arg-type]


class _Conn:
    """Stands in for a stream connection: the two attributes the core reads."""

    def __init__(self, streams: set[str]) -> None:
        self.streams = frozenset(streams)
        self.reconnects = 0


def test_a_quiet_symbol_gets_its_first_snapshot_once_streams_run() -> None:
    """No snapshot before the connection exists; then one after ``quiet_snapshot_s`` even if
    no event came."""
    core = _core(["BTCUSDT"])
    assert core.next_job(0.0, lambda: None) is None
    conn = _Conn({"btcusdt@depth@100ms"})
    assert core.next_job(1.0, lambda: [conn]) is None  # the quiet timer starts: due at 4.0
    assert core.next_job(3.9, lambda: [conn]) is None
    assert core.next_job(4.0, lambda: [conn]) == (core.feeds["BTCUSDT"], dc._PRIO_BOOK)


def test_refresh_comes_due_and_a_reconnect_verifies_only_its_streams() -> None:
    """A synced symbol is refreshed every ``refresh_interval`` (plus up to 10 %); after a
    reconnect of its connection a quiet symbol is verified, one that sends an event is not,
    and symbols on other connections are left alone."""
    core = _core(["BTCUSDT", "ETHUSDT", "BNBUSDT"])
    feeds = core.feeds
    for i, feed in enumerate(feeds.values()):
        assert feed.on_message(_event(10, 10, s=feed.symbol), 0.0)[0] == dc._WANT
        feed.on_snapshot(_snapshot(10), float(i))
        feed.requested = True
    first = _Conn({"btcusdt@depth@100ms", "ethusdt@depth@100ms"})
    other = _Conn({"bnbusdt@depth@100ms"})
    conns = [first, other]
    assert core.next_job(1.0, lambda: conns) is None  # reconnect counts noted
    first.reconnects = 1
    assert core.next_job(2.0, lambda: conns) is None  # verification due at 4.0
    # ETHUSDT speaks: its U/u check decides.
    assert feeds["ETHUSDT"].on_message(_event(11, 11, s="ETHUSDT"), 2.5)[0] == dc._NOTIFY
    assert core.next_job(4.0, lambda: conns) == (feeds["BTCUSDT"], dc._PRIO_VERIFY)
    core.fetched(feeds["BTCUSDT"], 0, 0, 4.05)  # (its snapshot is left out here)
    assert core.next_job(4.1, lambda: conns) is None
    assert core.next_job(59.9, lambda: conns) is None  # none due before refresh_interval
    jobs = [core.next_job(68.1, lambda: conns) for _ in range(3)]  # all due by 60 + 10 %
    assert {job for job in jobs} == {(f, dc._PRIO_REFRESH) for f in feeds.values()}


def test_snapshots_wait_for_the_governors_budget_and_resyncs_go_first() -> None:
    """While the governor has no room for a snapshot's weight, nothing is fetched and the
    queue keeps its order; a resync asked for meanwhile goes before the refreshes."""
    core = _core(["BTCUSDT", "ETHUSDT", "BNBUSDT"], limit=1000)
    assert core.weight == 50  # NOTES.md §10: limit 1000 costs 50
    feeds = core.feeds
    asked: list[int] = []
    room = {"wait": 2.0}

    def budget(weight: int) -> float:
        asked.append(weight)
        return room["wait"]

    core.want(feeds["BTCUSDT"], dc._PRIO_REFRESH)
    core.want(feeds["ETHUSDT"], dc._PRIO_REFRESH)
    assert core.next_job(0.0, lambda: None, budget) is None
    assert asked == [50] and core.sleep_for(0.0) == pytest.approx(0.5)  # capped by the tick
    assert core.next_job(1.0, lambda: None, budget) is None and asked == [50]  # not re-asked
    core.want(feeds["BNBUSDT"], dc._PRIO_BOOK)  # a resync while waiting
    room["wait"] = 0.0
    assert core.next_job(2.0, lambda: None, budget) == (feeds["BNBUSDT"], dc._PRIO_BOOK)
    assert core.next_job(2.0, lambda: None, budget) == (feeds["BTCUSDT"], dc._PRIO_REFRESH)


def test_the_budget_question_reserves_nothing() -> None:
    """Asking the client's governor for room reserves and hands back the weight at once."""
    from binance import enums
    from binance._governor import Governor

    governor = Governor({(enums.RATE_LIMITER_REQUEST_WEIGHT, 60_000): 100}, headroom=1.0)

    class _Client:  # what the managers read from a client: its governor
        pass

    client = _Client()
    client.governor = governor  # type: ignore[attr-defined]
    budget = dc._governor_budget(client)
    assert budget is not None
    assert budget(50) == 0.0 and budget(50) == 0.0 and budget(100) == 0.0
    assert budget(101) == 0.0  # heavier than the limit: it may only go alone, so it may go
    assert "REQUEST_WEIGHT/60s=0+0/100" in repr(governor)
    # 90 used in this minute (as the server's header says): 50 more must wait for the next.
    now_ms = time.time_ns() // 1_000_000
    ticket = governor.try_acquire(now_ms, weight=10)
    governor.release(ticket, now_ms, {"x-mbx-used-weight-1m": "90"})
    assert 0.0 < budget(50) <= 60.5 and budget(10) == 0.0
    assert dc._governor_budget(object()) is None


def test_core_checks_its_arguments() -> None:
    """Symbols are upper-cased and de-duplicated; a bad limit or no symbol is refused."""
    assert list(_core(["btcusdt", "BTCUSDT", "ethbtc"]).feeds) == ["BTCUSDT", "ETHBTC"]
    assert list(_core("bnbbtc").feeds) == ["BNBBTC"]  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        _core(["BTCUSDT"], limit=0)
    with pytest.raises(ValueError, match="symbol"):
        _core([])


# -- the cache's own surface ------------------------------------------------------------------


def test_a_hand_made_cache_reports_no_sync() -> None:
    """A DepthCache filled by hand is SYNCING (nothing vouches for it), has no counters and a
    whole-book horizon; its state compares equal to the state's name."""
    cache = DepthCache("BNBBTC")
    cache.add_bid(["0.1", "1"])
    assert cache.state == "SYNCING" and not cache.synced
    assert cache.counters() == {} and cache.horizon == (None, None) and cache.lag is None
    with cache.lock:  # reentrant: reads inside a held lock
        assert cache.get_bids() == [[0.1, 1.0]]
