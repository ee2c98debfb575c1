"""The managers' shared core without I/O: what each message and snapshot asks the driver to do,
the order snapshots are fetched in, the steps of a fetch, the timers (quiet start, refresh,
verification after a reconnect) and which errors are final."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from binance import depthcache as dc
from binance._streams import rules
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
    options: dict[str, Any] = dict(
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


def _live(core: dc._Core, feed: dc._Feed, now: float) -> None:
    """The stream layer said the feed's stream is live (its ``subscribed`` status event)."""
    _status(core, feed, "subscribed", now)


def _status(core: dc._Core, feed: dc._Feed, status: str, now: float) -> int:
    """Feed a status event as the stream layer sends it and let the core act, as drivers do."""
    event = rules.status_event(status, feed.stream, 1_000)
    flags, priority = feed.on_message({"stream": feed.stream, "data": event}, now)
    if flags & dc._SCHEDULE:
        core.after(feed, flags, priority, now)
    return flags


def _synced_core(symbols: list[str], **kw: Any) -> dc._Core:
    core = _core(symbols, **kw)
    for i, feed in enumerate(core.feeds.values()):
        flags, priority = feed.on_message(_event(10, 10, s=feed.symbol), 0.0)
        core.after(feed, flags, priority, 0.0)
        assert core.next_job(float(i)) is feed and core.begin(feed)
        assert core.end(feed, _snapshot(10), float(i)) == dc._NOTIFY
    return core


def test_a_quiet_symbol_gets_its_first_snapshot_once_its_stream_is_live() -> None:
    """No snapshot before the stream layer says the stream is live; then one after
    ``quiet_snapshot_s`` even if no event came. Until then nothing wakes the workers."""
    core = _core(["BTCUSDT"])
    feed = core.feeds["BTCUSDT"]
    assert core.next_job(0.0) is None and core.sleep_for(0.0) is None
    _live(core, feed, 1.0)  # the quiet timer starts: due at 4.0
    assert core.next_job(1.0) is None and core.sleep_for(1.0) == pytest.approx(3.0)
    assert core.next_job(3.9) is None
    assert core.next_job(4.0) is feed
    _live(core, feed, 5.0)  # asked for already: no second timer
    assert core.sleep_for(5.0) is None


def test_nothing_due_means_no_wakeup_until_something_happens() -> None:
    """With every book synced and no refresh, the workers sleep until woken: no polling. A
    diff asking for a snapshot wakes them (the driver's ``wake``)."""
    woken: list[int] = []
    core = _core(["BTCUSDT"], refresh_interval=None, wake=lambda: woken.append(1))
    feed = core.feeds["BTCUSDT"]
    flags, priority = feed.on_message(_event(10, 10), 0.0)
    core.after(feed, flags, priority, 0.0)
    assert woken and core.next_job(0.0) is feed and core.begin(feed)
    core.end(feed, _snapshot(10), 0.1)
    assert core.next_job(0.2) is None and core.sleep_for(0.2) is None
    woken.clear()
    flags, priority = feed.on_message(_event(12, 12), 0.3)  # a gap: resync
    core.after(feed, flags, priority, 0.3)
    assert woken and core.next_job(0.3) is feed


def test_refresh_comes_due_and_a_reconnect_verifies_only_its_streams() -> None:
    """A synced symbol is refreshed every ``refresh_interval`` (plus up to 10 %). After a
    reconnect of its stream a quiet symbol is verified ``verify_after_reconnect_s`` later, one
    that sends a diff continuing its book is not, and symbols whose stream did not reconnect
    are left alone."""
    core = _synced_core(["BTCUSDT", "ETHUSDT", "BNBUSDT"])
    feeds = core.feeds
    assert core.next_job(3.0) is None
    for symbol in ("BTCUSDT", "ETHUSDT"):
        assert _status(core, feeds[symbol], "reconnected", 3.0) == dc._RECONNECTED
    assert core.sleep_for(3.0) == pytest.approx(2.0)  # verification due at 5.0
    assert feeds["BTCUSDT"].cache.counters()["reconnects"] == 1
    assert feeds["BNBUSDT"].cache.counters()["reconnects"] == 0
    # ETHUSDT speaks: its U/u check settles it.
    assert feeds["ETHUSDT"].on_message(_event(11, 11, s="ETHUSDT"), 3.5)[0] == dc._NOTIFY
    assert core.next_job(4.9) is None
    assert core.next_job(5.0) is feeds["BTCUSDT"]
    assert core.next_job(5.0) is None
    btc = feeds["BTCUSDT"]
    assert core.begin(btc) and core.end(btc, _snapshot(10), 5.05) == dc._NOTIFY
    assert not btc.unverified  # asked for after the reconnect: it vouches for the book
    assert core.next_job(5.1) is None
    assert core.next_job(59.9) is None  # none due before refresh_interval
    # All due by 60 s + 10 % after their last snapshot (BTCUSDT's was the verification).
    jobs = [core.next_job(71.1) for _ in range(3)]
    assert set(jobs) == set(feeds.values())


def test_a_gap_after_a_reconnect_resyncs_at_once() -> None:
    """The first diff after a reconnect that does not continue the book resyncs it then and
    there (NOTES.md §10), ahead of any verification."""
    core = _synced_core(["BTCUSDT"])
    feed = core.feeds["BTCUSDT"]
    _status(core, feed, "reconnected", 1.0)
    flags, priority = feed.on_message(_event(15, 15), 1.1)  # 11..14 were sent while down
    assert flags & dc._DISCARDED and priority == dc._PRIO_BOOK
    core.after(feed, flags, priority, 1.1)
    assert core.next_job(1.1) is feed and core.begin(feed)
    assert core.end(feed, _snapshot(15), 1.2) == dc._NOTIFY
    assert feed.cache.synced and not feed.unverified
    assert core.next_job(3.0) is None  # the resync verified it: no snapshot at verify time
    assert core.sleep_for(3.0) == pytest.approx(60.0 * (1 + feed._spread) + 1.2 - 3.0)


def test_a_snapshot_asked_for_before_a_reconnect_does_not_verify() -> None:
    """A snapshot already under way when the reconnect was reported may miss what the outage
    lost: the book stays unverified and the verification still comes."""
    core = _synced_core(["BTCUSDT"], verify_after_reconnect_s=0.0)
    feed = core.feeds["BTCUSDT"]
    core.want(feed, dc._PRIO_REFRESH)
    assert core.next_job(1.0) is feed and core.begin(feed)  # a refresh, under way
    _status(core, feed, "reconnected", 1.1)
    assert core.end(feed, _snapshot(10), 1.2) == dc._NOTIFY
    assert feed.unverified
    assert core.next_job(1.2) is feed  # verify_after_reconnect_s=0: at once
    assert core.begin(feed) and core.end(feed, _snapshot(10), 1.3) == dc._NOTIFY
    assert not feed.unverified and core.next_job(1.4) is None


def test_fetch_steps_apply_the_outcome_and_free_the_slot() -> None:
    """``begin``/``end`` around the driver's request: a snapshot syncs, a transient error or a
    payload that is no snapshot retries after a backoff, a final error stops the feed, and a
    feed stopped before its turn is not fetched."""
    core = _core(["BTCUSDT", "ETHUSDT"], max_in_flight=1)
    btc, eth = core.feeds["BTCUSDT"], core.feeds["ETHUSDT"]
    core.want(btc, dc._PRIO_BOOK)
    assert core.next_job(0.0) is btc and core.begin(btc)
    assert core.end(btc, BinanceConnectionException("refused"), 1.0) == 0
    assert core.next_job(1.1) is None and core.next_job(1.25) is btc and core.begin(btc)
    assert core.end(btc, {"unexpected": "payload"}, 2.0) == 0
    assert btc.failures == 2 and core.queue.next_due() == 2.5
    assert core.next_job(2.5) is btc and core.begin(btc)
    error = BinanceAPIException(status_code=400, code=-1121, message="Invalid symbol.")
    assert core.end(btc, error, 3.0) == dc._STOPPED and btc.cache.error is error
    core.want(eth, dc._PRIO_BOOK)
    assert core.next_job(3.0) is eth
    with eth.cache.lock:
        eth.stop("closed", 3.0)
    assert not core.begin(eth) and len(core.queue.in_flight) == 0


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
    assert core.next_job(0.0, budget) is None
    assert asked == [50] and core.sleep_for(0.0) == pytest.approx(2.0)  # until the budget
    assert core.next_job(1.0, budget) is None and asked == [50]  # not re-asked
    core.want(feeds["BNBUSDT"], dc._PRIO_BOOK)  # a resync while waiting
    room["wait"] = 0.0
    assert core.next_job(2.0, budget) is feeds["BNBUSDT"]
    assert core.next_job(2.0, budget) is feeds["BTCUSDT"]


def test_the_budget_question_reserves_nothing() -> None:
    """The managers ask the client's governor how long a snapshot's weight must wait
    (`Governor.delay_for`, on the client's clock); asking reserves nothing."""
    from binance import enums
    from binance._governor import Governor

    governor = Governor({(enums.RATE_LIMITER_REQUEST_WEIGHT, 60_000): 100}, headroom=1.0)
    now_ms = 10 * 60_000 + 1_000

    class _Client:  # what the managers read from a client: its governor and its clock
        def timestamp_ms(self) -> int:
            return now_ms

    client = _Client()
    client.governor = governor  # type: ignore[attr-defined]
    budget = dc._governor_budget(client)
    assert budget is not None
    assert budget(50) == 0.0 and budget(50) == 0.0 and budget(100) == 0.0
    assert budget(101) == 0.0  # heavier than the limit: it may only go alone, so it may go
    assert "REQUEST_WEIGHT/60s=0+0/100" in repr(governor)
    # 90 used in this minute (as the server's header says): 50 more must wait for the next.
    ticket = governor.try_acquire(now_ms, weight=10)
    governor.release(ticket, now_ms, {"x-mbx-used-weight-1m": "90"})
    assert budget(50) == pytest.approx(59.5) and budget(10) == 0.0
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
