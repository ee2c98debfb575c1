"""Depth caches: local order books that follow Binance, for one symbol or many.

- `DepthCache`: the seed's object (``add_bid``, ``add_ask``, ``get_bids``, ``get_asks``,
  ``symbol``, ``update_time``) over a `binance.orderbook.OrderBook`, so ``get_bids(5)`` never
  sorts the book. It also shows where it stands: ``state`` (`DepthCacheState`),
  ``last_update_id``, ``transitions``, ``horizon`` (the price range the snapshot vouches for)
  and ``lag``.
- `DepthCacheManager(client, symbol, callback)`: the seed's manager, on the seed's threads
  (`binance.websockets.BinanceSocketManager` plus one snapshot thread).
- `MultiDepthCacheManager(client, symbols, callback)`: many symbols on shared connections (up to
  1024 streams each), snapshots queued by need through the client's weight governor.
- `AsyncDepthCacheManager(client, symbols)`: the same for asyncio (`binance.streams`).

The sequencing (NOTES.md section 10: buffer, snapshot, drop stale events, check continuity,
resync on a gap) is `binance._depthsync.DepthSync`, one per symbol. This module only carries
messages between it, the streams and the client, and decides *when* to fetch snapshots: at most
one in flight per symbol, symbols without a book first, refreshes last, failures retried with
backoff, and books checked after a reconnect (the stream layer says so in-band). The client's
governor says *how long* until a snapshot's weight fits (NOTES.md section 3), so a hundred
symbols starting at once queue instead of earning a 429.

This module must not import the simulator. The stream connections (``_streams.conn``,
``streams``, ``websockets``) are imported when a manager is built, so ``DepthCache`` alone stays
light (``_streams.rules`` is plain Python).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import functools
import inspect
import itertools
import logging
import math
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any

from binance._depthsync import Applied, DepthSync, NeedSnapshot, Resync, SyncState
from binance._streams.rules import STATUS_RECONNECTED, STATUS_SUBSCRIBED
from binance.orderbook import Level, OrderBook, active_cbook

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from binance._streams.rules import StreamConfig
    from binance.streams import Stream, StreamManager
    from binance.websockets import BinanceSocketManager

__all__ = [
    "AsyncDepthCacheManager",
    "DepthCache",
    "DepthCacheManager",
    "DepthCacheState",
    "MultiDepthCacheManager",
    "Transition",
]

log = logging.getLogger(__name__)

#: Snapshot depth the managers ask for: ``limit=1000`` costs 50 weight (NOTES.md section 10),
#: so a hundred symbols fit in one minute of Binance's 6000 request weight.
DEFAULT_LIMIT = 1000
#: The seed's refresh period (seconds): rebuild each book from a fresh snapshot this often.
DEFAULT_REFRESH_INTERVAL = 1800
#: Transitions remembered per cache.
_TRANSITIONS_KEPT = 64
#: Seconds to wait for threads and tasks when closing.
_CLOSE_TIMEOUT_S = 30.0


class DepthCacheState(str, enum.Enum):
    """Where a depth cache stands (compares equal to its name: ``state == "SYNCED"``)."""

    SYNCING = "SYNCING"
    """No book yet: diff events are buffered until a snapshot arrives (start)."""
    SYNCED = "SYNCED"
    """The book is Binance's book as of ``last_update_id``."""
    RESYNCING = "RESYNCING"
    """The book was discarded (a gap, a reconnect gap, an inconsistency); a new snapshot is on
    its way. Reads return no levels meanwhile."""
    STOPPED = "STOPPED"
    """The manager was closed, or the cache failed for good (see ``DepthCache.error``)."""


#: Enum members looked up once: ``DepthCacheState.SYNCED`` costs ~0.1 us per access.
_CACHE_SYNCED = DepthCacheState.SYNCED

_FROM_SYNC = {
    SyncState.SYNCING: DepthCacheState.SYNCING,
    SyncState.SYNCED: DepthCacheState.SYNCED,
    SyncState.RESYNCING: DepthCacheState.RESYNCING,
}


@dataclass(frozen=True, slots=True)
class Transition:
    """One change of a cache's `DepthCacheState`."""

    at: float
    """``time.monotonic()`` when it happened (to measure durations)."""
    time_ms: int
    """Wall-clock milliseconds when it happened."""
    state: DepthCacheState
    """The new state."""
    reason: str
    """Why (``"gap: event U=... after update id ..."``, ``"snapshot lastUpdateId=..."``...)."""


class _PyDepthReads:
    """`DepthCache`'s reads where the C core is not active (with it, ``binance._cbook.DepthReads``
    reads C sides in one C call, which no update can interleave with, and no lock)."""

    book: OrderBook
    use_decimal: bool

    def get_bids(self, limit: int | None = None) -> list[Level]:
        """The bids, highest price first, as ``[price, quantity]`` lists.

        Args:
            limit: Return only the best ``limit`` levels (O(limit)); all levels if None (O(n)).

        Returns:
            ``[[0.0001946, 45.0], [0.00019459, 2384.0], ...]`` (floats, or Decimal with
            ``use_decimal``). Levels past the range the last snapshot vouched for are left out
            (see `horizon`); empty while the cache has no book.
        """
        return self._read_locked("bids", limit)

    def get_asks(self, limit: int | None = None) -> list[Level]:
        """The asks, lowest price first, as ``[price, quantity]`` lists.

        Args:
            limit: Return only the best ``limit`` levels (O(limit)); all levels if None (O(n)).

        Returns:
            ``[[0.0001955, 57.0], [0.00019699, 778.0], ...]`` (floats, or Decimal with
            ``use_decimal``). Levels past the range the last snapshot vouched for are left out
            (see `horizon`); empty while the cache has no book.
        """
        return self._read_locked("asks", limit)

    def _read_locked(self, side: str, limit: int | None) -> list[Level]:
        raise NotImplementedError


if TYPE_CHECKING or active_cbook is None:
    _ReadsBase = _PyDepthReads
else:
    _ReadsBase = active_cbook.DepthReads


class DepthCache(_ReadsBase):
    """The order book of one symbol, as the seed's ``DepthCacheManager`` hands it to callbacks.

    Prices and quantities come back as floats, as in the seed, or as `Decimal` (exact) with
    ``use_decimal=True``. Reading from any thread is safe: the manager's updates take `lock`,
    and a read either takes it too or, on the C-accelerated book, copies the levels in one C
    call that no update can interleave with. Hold ``with cache.lock:`` around several reads to
    see one consistent book.

    Example::

        cache = DepthCache("BNBBTC")
        cache.add_bid(["0.0001946", "45.0"])
        cache.add_ask(["0.0001955", "57.0"])
        cache.get_bids()      # [[0.0001946, 45.0]]
        cache.get_asks(5)     # the best five asks, lowest first

    Args:
        symbol: Symbol this cache is for, e.g. ``"BNBBTC"``.
        use_decimal: Return `Decimal` prices and quantities instead of floats.
    """

    def __init__(self, symbol: str, *, use_decimal: bool = False) -> None:
        self.symbol: str = symbol
        """The symbol, as given."""
        self.use_decimal: bool = use_decimal
        """Reads return `Decimal` values when True, floats otherwise."""
        self.update_time: int | None = None
        """Event time ``E`` (ms, Binance's clock) of the last applied depth event; None before
        the first, and again after a resync until an event follows the new snapshot."""
        self.last_update_id: int | None = None
        """Binance's update id the book reflects (``lastUpdateId`` / ``u``); None while the
        cache has no book (SYNCING, RESYNCING, STOPPED)."""
        self.book: OrderBook = OrderBook()
        """The underlying `OrderBook` (for readers that want more than the seed's API)."""
        self.lock: threading.RLock = threading.RLock()
        """Held by the manager while it changes the book, and by each read."""
        self.transitions: collections.deque[Transition] = collections.deque(
            maxlen=_TRANSITIONS_KEPT
        )
        """The latest state changes, oldest first (at most 64)."""
        self.error: BaseException | None = None
        """Why the cache stopped for good (state STOPPED after a failure), else None."""
        self._state = DepthCacheState.SYNCING
        self._sync: DepthSync | None = None
        self._reconnects = 0

    # -- the seed's interface -----------------------------------------------------------------
    def add_bid(self, bid: Sequence[Any]) -> None:
        """Set a bid level from a ``[price, quantity]`` pair; a zero quantity removes the level.

        Args:
            bid: ``[price, quantity]`` as Binance sends it (``["0.0024", "10"]``); numbers are
                accepted too.
        """
        with self.lock:
            self.book.bids.set(bid[0], bid[1])

    def add_ask(self, ask: Sequence[Any]) -> None:
        """Set an ask level from a ``[price, quantity]`` pair; a zero quantity removes the level.

        Args:
            ask: ``[price, quantity]`` as Binance sends it; numbers are accepted too.
        """
        with self.lock:
            self.book.asks.set(ask[0], ask[1])

    # get_bids(limit=None), get_asks(limit=None): see _PyDepthReads (the C base reads C sides).

    def _read_locked(self, side: str, limit: int | None) -> list[Level]:
        """A read of a side that C cannot copy in one step: under the lock."""
        with self.lock:
            levels: Any = getattr(self.book, side)
            return levels.top(limit, decimal=self.use_decimal)  # type: ignore[no-any-return]

    @staticmethod
    def sort_depth(
        vals: Mapping[Any, Any] | Iterable[Sequence[Any]], reverse: bool = False
    ) -> list[list[float]]:
        """Sort bids or asks by price (the seed's helper): ``[price, quantity]`` float lists.

        Args:
            vals: ``{price: quantity}`` or ``[price, quantity]`` pairs; strings or numbers.
            reverse: Highest price first (bids) instead of lowest first.
        """
        pairs = vals.items() if isinstance(vals, Mapping) else vals
        rows = [(Decimal(str(p)), float(p), float(q)) for p, q in pairs]
        rows.sort(key=lambda row: row[0], reverse=reverse)
        return [[price, qty] for _, price, qty in rows]

    # -- where the cache stands ---------------------------------------------------------------
    @property
    def state(self) -> DepthCacheState:
        """`DepthCacheState`: SYNCING, SYNCED, RESYNCING or STOPPED.

        A cache built by hand (no manager) is SYNCING for ever: nothing vouches for its book.
        """
        return self._state

    @property
    def synced(self) -> bool:
        """True when the book is Binance's book as of `last_update_id`."""
        return self._state is _CACHE_SYNCED

    @property
    def horizon(self) -> tuple[Decimal | None, Decimal | None]:
        """The price range the last snapshot vouches for: ``(lowest bid, highest ask)``.

        A REST snapshot lists at most ``limit`` levels per side; prices past its deepest level
        are unknown (NOTES.md section 10) and never returned by reads. None for a side means the
        snapshot listed the whole side (fewer levels than ``limit``). With no book, nothing is
        vouched for: ``(Infinity, -Infinity)`` after a discard, as `BookSide.horizon` says.
        """
        with self.lock:
            return self.book.bids.horizon, self.book.asks.horizon

    @property
    def lag(self) -> float | None:
        """Seconds from the last applied event's time (`update_time`) to now, by this
        machine's clock (so it includes any clock difference with Binance); None if unknown."""
        update_time = self.update_time
        if update_time is None:
            return None
        return time.time() - update_time / 1000.0

    def counters(self) -> dict[str, Any]:
        """What the manager's sequencing counted for this symbol (empty for a hand-made cache).

        Keys: ``events_applied``, ``events_ignored`` (duplicates and events older than a
        snapshot), ``snapshots_applied``, ``resyncs``, ``refresh_mismatches`` (refreshes whose
        rebuilt book differed from the live one: should stay 0), ``last_resync_reason``,
        ``buffered``, ``reconnects`` (stream reconnects the book was checked after).
        """
        sync = self._sync
        if sync is None:
            return {}
        with self.lock:
            return {
                "events_applied": sync.events_applied,
                "events_ignored": sync.events_ignored,
                "snapshots_applied": sync.snapshots_applied,
                "resyncs": sync.resyncs,
                "refresh_mismatches": sync.refresh_mismatches,
                "last_resync_reason": sync.last_resync_reason,
                "buffered": sync.buffered,
                "reconnects": self._reconnects,
            }

    def __repr__(self) -> str:
        with self.lock:
            return (
                f"<DepthCache {self.symbol} {self._state.value} bid={self.book.best_bid()!r} "
                f"ask={self.book.best_ask()!r} update_time={self.update_time}>"
            )


# == the shared core: per-symbol bookkeeping and snapshot scheduling (no I/O) ====================

# What a step asks its driver to do (bit flags).
_WANT = 1  # fetch a snapshot (at the returned priority)
_NOTIFY = 2  # the book changed: call back with the cache
_DISCARDED = 4  # the book was discarded (resync)
_STOPPED = 8  # the cache stopped for good
_TRANSITION = 16  # the state changed (wake waiters)
_LIVE = 32  # the stream is live: the quiet timer may start
_RECONNECTED = 64  # the stream reconnected: the book must be verified
#: Flags the scheduler acts on (`_Core.after`); the others are the driver's callbacks.
_SCHEDULE = _WANT | _TRANSITION | _LIVE | _RECONNECTED
#: Flags that call the user back with the cache.
_CALLBACK = _NOTIFY | _DISCARDED | _STOPPED
#: (flags, priority) of the hot path: a diff applied to a synced book.
_NOTIFY_ONLY = (_NOTIFY, 0)

# Snapshot priorities: lower goes first.
_PRIO_BOOK = 0  # the symbol has no book
_PRIO_VERIFY = 1  # a quiet symbol after a reconnect
_PRIO_REFRESH = 2  # the periodic refresh


class _Feed:
    """One symbol: its cache, its `DepthSync` and its scheduling marks. No I/O, no locks.

    The driver calls `on_message` / `on_snapshot` / `begin_fetch` / `stop` holding
    ``cache.lock``; each returns ``(flags, priority)`` telling the driver what to do.

    Reconnects (NOTES.md §10): diffs sent while a connection was down are lost, and the stream
    layer says so in-band with a ``reconnected`` status event. From then on the book is
    *unverified* until either the next diff is applied (its ``U <= id + 1`` proves nothing was
    lost; a gap resyncs at once) or a snapshot fetched after the event rebuilds it; a symbol
    that stays quiet gets that snapshot from the scheduler's verify timer.
    """

    def __init__(
        self,
        symbol: str,
        stream: str,
        *,
        limit: int,
        use_decimal: bool,
        refresh_interval: float | None,
        max_buffer: int,
    ) -> None:
        self.symbol = symbol.upper()
        self.stream = stream
        self.limit = limit
        self.cache = DepthCache(self.symbol, use_decimal=use_decimal)
        # NOTES.md §10: one state machine per symbol, writing straight into the cache's book.
        self.sync = DepthSync(
            self.symbol, book=self.cache.book, snapshot_limit=limit, max_buffer=max_buffer
        )
        self.cache._sync = self.sync
        self.refresh_interval = refresh_interval or None
        self._spread = (zlib.crc32(self.symbol.encode()) % 1000) / 10_000  # 0 to 10 %
        # Scheduling marks (the driver's scheduler lock guards these).
        self.requested = False  # a snapshot was asked for at least once
        self.quiet_at: float | None = None  # ask for a first snapshot then, if still unasked
        self.refresh_at: float | None = None  # periodic refresh due
        self.verify_at: float | None = None  # a reconnect happened: verify then if still quiet
        self.failures = 0  # consecutive failed snapshot fetches
        self.stopped = False
        # Reconnect bookkeeping (the cache lock guards these).
        self.unverified = False  # diffs may have been lost in a reconnect: see the class doc
        self._reconnects = 0  # reconnected status events seen
        self._fetch_reconnects = 0  # _reconnects when the snapshot under way was asked for
        self._record(DepthCacheState.SYNCING, "start", time.monotonic())

    # -- inputs ---------------------------------------------------------------------------------
    def on_message(self, msg: Mapping[str, Any], now: float | None = None) -> tuple[int, int]:
        """A message from the depth stream: a diff, a gap event, a status event (subscribed,
        reconnected) or the socket's error event. ``now`` (monotonic seconds) is read from the
        clock when None, and only if the state changes."""
        if self.stopped:
            return 0, 0
        data = msg.get("data")
        if type(data) is not dict:
            data = msg  # a bare payload (raw stream), not a combined {"stream", "data"} frame
        kind = data.get("e")
        if kind == "depthUpdate":
            try:
                action = self.sync.on_event(data)
            except ValueError as exc:  # an event without U/u, or for another symbol
                self.sync.reset(f"bad event: {exc}")
                self.sync.request_refresh()
                return self._settle(Resync(self.symbol, str(exc)), now)
            if action is None:
                return 0, 0
            if type(action) is Applied and self.cache._state is _CACHE_SYNCED:
                cache = self.cache  # the hot path: one more event applied to a synced book
                cache.last_update_id = action.last_update_id
                cache.update_time = action.event_time
                if self.unverified:
                    # NOTES.md §10: a diff from after the reconnect continues the book, so
                    # nothing was lost (a gap would have resynced instead).
                    self.unverified = False
                return _NOTIFY_ONLY
            return self._settle(action, now)
        if kind == "gap":
            # docs/streams.md: the stream layer dropped diffs for a slow consumer.
            reason = f"stream gap: {data.get('m') or data.get('dropped')}"
            self.sync.reset(reason)
            self.sync.request_refresh()
            return self._settle(Resync(self.symbol, reason), now)
        if kind == STATUS_RECONNECTED:
            # docs/streams.md: diffs sent while the connection was down are lost, silently.
            self._reconnects += 1
            self.cache._reconnects = self._reconnects
            self.unverified = True
            return _RECONNECTED, 0
        if kind == STATUS_SUBSCRIBED:
            return _LIVE, 0
        if kind == "error":
            return self.stop(f"stream failed: {data.get('m')}", now, _stream_error(data))
        return 0, 0

    def begin_fetch(self) -> bool:
        """About to fetch a snapshot: arm the refresh log (NOTES.md §10 refresh). False if
        the feed stopped meanwhile."""
        if self.stopped:
            return False
        self._fetch_reconnects = self._reconnects
        self.sync.request_refresh()
        return True

    def on_snapshot(self, snapshot: Mapping[str, Any], now: float) -> tuple[int, int]:
        """A REST snapshot (``GET /api/v3/depth``) arrived."""
        if self.stopped:
            return 0, 0
        was_synced = self.sync.state is SyncState.SYNCED
        action = self.sync.on_snapshot(snapshot)  # ValueError: not a snapshot
        self.failures = 0
        flags, priority = self._settle(action, now)
        synced = self.sync.state is SyncState.SYNCED
        if synced and self._fetch_reconnects == self._reconnects:
            # Asked for after the last reconnect (the stream was live again by then): the
            # book is the snapshot plus every diff since, whatever the outage lost.
            self.unverified = False
        if was_synced and synced and not flags & _WANT:
            self._schedule_refresh(now)  # a refresh completed
        return flags, priority

    def stop(
        self, reason: str, now: float | None, error: BaseException | None = None
    ) -> tuple[int, int]:
        """Stop for good: no book, no more snapshots (a failure, or the manager closing)."""
        if self.stopped:
            return 0, 0
        if now is None:
            now = time.monotonic()
        self.stopped = True
        self.unverified = False
        self.sync.reset(reason)
        cache = self.cache
        cache.error = error
        cache.last_update_id = None
        cache.update_time = None
        self.refresh_at = self.verify_at = self.quiet_at = None
        self._record(DepthCacheState.STOPPED, reason, now)
        return _STOPPED | _TRANSITION, 0

    # -- internals ------------------------------------------------------------------------------
    def _settle(self, action: Any, now: float | None) -> tuple[int, int]:
        if now is None:
            now = time.monotonic()
        flags = 0
        priority = 0
        sync = self.sync
        cache = self.cache
        state = _FROM_SYNC[sync.state]
        if state is not cache._state:
            if state is DepthCacheState.SYNCED:
                reason = f"synced from a snapshot; book at update id {sync.last_update_id}"
                self._schedule_refresh(now)
            elif state is DepthCacheState.RESYNCING:
                reason = sync.last_resync_reason or "resync"
                self.refresh_at = None
            else:
                reason = "no book"
            self._record(state, reason, now)
            flags |= _TRANSITION
        cache.last_update_id = sync.last_update_id
        cache.update_time = sync.last_event_time
        if isinstance(action, Applied):
            flags |= _NOTIFY
        elif isinstance(action, NeedSnapshot):
            flags |= _WANT
            priority = _PRIO_REFRESH if sync.state is SyncState.SYNCED else _PRIO_BOOK
            if isinstance(action, Resync):
                flags |= _DISCARDED
                log.info("%s: book discarded: %s", self.symbol, action.reason)
        return flags, priority

    def next_timer(self) -> float:
        """The earliest of this feed's refresh and verify timers (infinity: none)."""
        timers = [t for t in (self.refresh_at, self.verify_at) if t is not None]
        return min(timers, default=math.inf)

    def _schedule_refresh(self, now: float) -> None:
        interval = self.refresh_interval
        # Up to 10 % later, per symbol: symbols synced together do not all refresh together.
        self.refresh_at = now + interval * (1.0 + self._spread) if interval else None

    def _record(self, state: DepthCacheState, reason: str, now: float) -> None:
        cache = self.cache
        cache._state = state
        cache.transitions.append(Transition(now, time.time_ns() // 1_000_000, state, reason))


def _stream_error(data: Mapping[str, Any]) -> BaseException:
    from binance._streams.conn import ReconnectError

    message = data.get("m")
    return ReconnectError(message) if isinstance(message, str) else ReconnectError()


class _SnapshotQueue:
    """Which symbols get a snapshot next: at most one in flight per symbol, at most
    ``max_in_flight`` in all, lowest priority value first, then first asked. No I/O."""

    def __init__(self, max_in_flight: int) -> None:
        self.max_in_flight = max(1, max_in_flight)
        self._wanted: dict[_Feed, tuple[int, float, int]] = {}  # priority, not before, seq
        self.in_flight: set[_Feed] = set()
        self._seq = itertools.count()

    def __contains__(self, feed: _Feed) -> bool:
        return feed in self._wanted or feed in self.in_flight

    def want(self, feed: _Feed, priority: int, not_before: float = 0.0) -> None:
        # A feed in flight needs nothing more: `DepthSync.on_snapshot` answers NeedSnapshot
        # itself when the snapshot on its way turns out to be unusable.
        if feed.stopped or feed in self.in_flight:
            return
        current = self._wanted.get(feed)
        if current is not None and current[0] <= priority:
            return
        self._wanted[feed] = (priority, not_before, next(self._seq))

    def pop(self, now: float) -> tuple[_Feed, int] | None:
        if len(self.in_flight) >= self.max_in_flight:
            return None
        best: tuple[tuple[int, int], _Feed] | None = None
        for feed, (priority, not_before, seq) in self._wanted.items():
            if not_before <= now and (best is None or (priority, seq) < best[0]):
                best = ((priority, seq), feed)
        if best is None:
            return None
        feed = best[1]
        del self._wanted[feed]
        self.in_flight.add(feed)
        return feed, best[0][0]

    def done(self, feed: _Feed) -> None:
        self.in_flight.discard(feed)

    def discard(self, feed: _Feed) -> None:
        self._wanted.pop(feed, None)

    def next_due(self) -> float | None:
        if len(self.in_flight) >= self.max_in_flight or not self._wanted:
            return None
        return min(not_before for _, not_before, _ in self._wanted.values())

    def __len__(self) -> int:
        return len(self._wanted)


def _snapshot_weight(limit: int) -> int:
    from binance._endpoints import DEPTH

    return DEPTH.weight_for({"limit": limit})


def _governor_budget(client: Any) -> Callable[[int], float] | None:
    """``weight -> seconds until the client's weight governor has room for it`` (None without
    a governor).

    A question, not a reservation (`Governor.delay_for`): the client reserves the weight when it
    sends. Asked on the client's estimate of the server's clock (``timestamp_ms``) when it has
    one, as the client's own requests are.
    """
    delay_for = getattr(getattr(client, "governor", None), "delay_for", None)
    if not callable(delay_for):
        return None
    clock = getattr(client, "timestamp_ms", None)
    now_ms: Callable[[], int] = clock if callable(clock) else _wall_ms

    def budget(weight: int) -> float:
        return float(delay_for(now_ms(), weight=weight))

    return budget


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def _backoff_s(failures: int) -> float:
    """Delay before retrying a failed snapshot fetch: 0.25 s doubling up to 15 s."""
    return min(15.0, 0.25 * (1 << min(16, max(0, failures - 1))))


def _is_fatal(exc: BaseException) -> bool:
    """A snapshot error that retrying cannot fix (unknown symbol, bad limit, wrong client)."""
    from binance.exceptions import (
        BinanceAPIException,
        BinanceParameterException,
        BinanceRateLimitException,
    )

    if isinstance(exc, (BinanceParameterException, TypeError)):
        return True
    if isinstance(exc, BinanceAPIException) and not isinstance(exc, BinanceRateLimitException):
        status = getattr(exc, "status_code", 0) or 0
        return 400 <= status < 500 and status not in (408, 418, 429)
    return False


class _Core:
    """Everything both drivers share: the feeds, the snapshot queue, the timers and the steps
    of a snapshot fetch. No I/O: the drivers read the streams, call the client and sleep.

    Locks: ``lock`` is the driver's scheduler lock (a ``threading.Condition`` for the thread
    managers, nothing for asyncio) and ``wake`` wakes its snapshot workers; both are called
    here. The scheduler lock is taken before a cache lock, never after. `next_job` and
    `sleep_for` are called holding ``lock``; the other public methods take what they need.

    Timers (quiet start, verification after a reconnect, refresh) are exact: `sleep_for` says
    how long until the next one, or None when only a `wake` can bring work.
    """

    def __init__(
        self,
        symbols: Iterable[str],
        *,
        limit: int,
        use_decimal: bool,
        update_speed_ms: int | None,
        refresh_interval: float | None,
        max_in_flight: int | None,
        quiet_snapshot_s: float,
        verify_after_reconnect_s: float | None,
        max_buffer: int,
        lock: contextlib.AbstractContextManager[Any] | None = None,
        wake: Callable[[], Any] | None = None,
    ) -> None:
        from binance._streams import rules

        if isinstance(symbols, str):
            symbols = [symbols]
        names = list(dict.fromkeys(s.upper() for s in symbols))
        if not names:
            raise ValueError("at least one symbol is needed")
        if not isinstance(limit, int) or not 1 <= limit <= 5000:
            raise ValueError(f"limit must be an int from 1 to 5000, not {limit!r}")
        self.limit = limit
        self.update_speed_ms = update_speed_ms
        self.feeds: dict[str, _Feed] = {}
        for name in names:
            stream = rules.depth_stream(name, None, update_speed_ms)
            self.feeds[name] = _Feed(
                name,
                stream,
                limit=limit,
                use_decimal=use_decimal,
                refresh_interval=refresh_interval,
                max_buffer=max_buffer,
            )
        self.queue = _SnapshotQueue(max_in_flight or min(4, len(self.feeds)))
        self.quiet_snapshot_s = quiet_snapshot_s
        self.verify_after_reconnect_s = verify_after_reconnect_s
        self.weight = _snapshot_weight(limit)
        """Request weight of one snapshot (NOTES.md §10: 1000 levels cost 50, 5000 cost 250)."""
        self.lock: contextlib.AbstractContextManager[Any] = (
            lock if lock is not None else contextlib.nullcontext()
        )
        self.wake: Callable[[], Any] = wake if wake is not None else _nothing
        self._next_tick = 0.0  # the earliest timer of any feed: look at them all then
        self._budget_at = 0.0  # the governor said: no budget for a snapshot before then

    def feed(self, symbol: str) -> _Feed:
        try:
            return self.feeds[symbol.upper()]
        except KeyError:
            raise KeyError(f"no depth cache for {symbol!r}") from None

    def want(self, feed: _Feed, priority: int, not_before: float = 0.0) -> None:
        feed.requested = True
        self.queue.want(feed, priority, not_before)

    # -- what a stream message asked for -------------------------------------------------------
    def after(self, feed: _Feed, flags: int, priority: int, now: float) -> None:
        """Act on the `_SCHEDULE` part of a feed step's ``flags`` and wake the workers."""
        with self.lock:
            if flags & _WANT:
                self.want(feed, priority)
            if flags & _LIVE and not feed.requested and feed.quiet_at is None:
                # A quiet symbol sends no event to trigger the first snapshot: ask anyway once
                # its stream has been live for a while. Too early would only cost weight: the
                # stream is live, so a later diff is checked against that snapshot.
                feed.quiet_at = now + self.quiet_snapshot_s
                self._next_tick = min(self._next_tick, feed.quiet_at)
            if flags & _RECONNECTED and self.verify_after_reconnect_s is not None:
                # The next diff settles it (_Feed); a symbol that stays quiet until then gets
                # a snapshot to check its book against.
                due = now + self.verify_after_reconnect_s
                if feed.verify_at is None:
                    feed.verify_at = due
                self._next_tick = min(self._next_tick, feed.verify_at)
            self.wake()

    # -- choosing and running snapshot fetches ----------------------------------------------------
    def next_job(self, now: float, budget: Callable[[int], float] | None = None) -> _Feed | None:
        """The next symbol to fetch a snapshot for, or None (then sleep `sleep_for`).

        Args:
            now: monotonic seconds.
            budget: seconds until the client's governor has room for a snapshot's weight.
                While it has none, the queue holds every request: waiting here rather than
                inside the client lets a resync that comes meanwhile go first.
        """
        if now >= self._next_tick:
            self._tick(now)
        due = self.queue.next_due()
        if due is None or due > now or now < self._budget_at:
            return None
        if budget is not None:
            wait = budget(self.weight)
            if wait > 0:
                self._budget_at = now + wait
                return None
        job = self.queue.pop(now)
        return None if job is None else job[0]

    def sleep_for(self, now: float) -> float | None:
        """Seconds until `next_job` may have something (None: not before a `wake`)."""
        until = self._next_tick
        due = self.queue.next_due()
        if due is not None:
            until = min(until, max(due, self._budget_at))
        if until == math.inf:
            return None
        return max(0.001, until - now)

    def begin(self, feed: _Feed) -> bool:
        """A worker took ``feed``'s job: True to fetch its snapshot now."""
        with feed.cache.lock:
            if feed.begin_fetch():
                return True
        with self.lock:  # stopped meanwhile
            self.queue.done(feed)
            self.wake()
        return False

    def end(self, feed: _Feed, outcome: Any, now: float) -> int:
        """The fetch `begin` allowed ended with ``outcome``: the snapshot, or the exception the
        client raised. Returns the `_CALLBACK` flags for the driver to call back with."""
        flags = priority = 0
        if not isinstance(outcome, BaseException):
            try:
                with feed.cache.lock:
                    flags, priority = feed.on_snapshot(outcome, now)
            except Exception as exc:  # not a snapshot: as if the request had failed
                outcome = exc
        with self.lock:
            if isinstance(outcome, BaseException):
                with feed.cache.lock:
                    flags, priority = self.failed(feed, outcome, now)
            else:
                self.fetched(feed, flags, priority, now)
            self.wake()
        return flags & _CALLBACK

    def abandon(self, feed: _Feed) -> None:
        """The fetch `begin` allowed was cancelled (the manager is closing)."""
        with self.lock:
            self.queue.done(feed)

    def fetched(self, feed: _Feed, flags: int, priority: int, now: float) -> None:
        """A snapshot was applied with ``flags`` from `_Feed.on_snapshot`."""
        self.queue.done(feed)
        if flags & _WANT:
            self.want(feed, priority)
        if not feed.unverified:
            feed.verify_at = None  # this snapshot (or a diff meanwhile) verified the book
        # A new refresh timer, or a verification still due: look at the timers in time.
        self._next_tick = min(self._next_tick, feed.next_timer())

    def failed(self, feed: _Feed, exc: BaseException, now: float) -> tuple[int, int]:
        """A fetch raised: stop the feed if retrying cannot help, else retry with backoff.
        Call holding ``feed.cache.lock``."""
        self.queue.done(feed)
        if _is_fatal(exc):
            log.error("%s: depth snapshot failed for good: %r", feed.symbol, exc)
            return feed.stop(f"snapshot failed: {exc}", now, exc)
        feed.failures += 1
        delay = _backoff_s(feed.failures)
        log.warning("%s: depth snapshot failed (%r); retrying in %.2f s", feed.symbol, exc, delay)
        self.want(feed, _PRIO_BOOK if not feed.cache.synced else _PRIO_REFRESH, now + delay)
        return 0, 0

    def _tick(self, now: float) -> None:
        """Queue every feed whose timer is due; note when the next one is."""
        next_at = math.inf
        queue = self.queue
        for feed in self.feeds.values():
            if feed.stopped or feed in queue:
                continue  # `fetched` looks at its timers again when its snapshot is in
            if not feed.requested:
                if feed.quiet_at is None:
                    continue  # its stream is not live yet
                if now >= feed.quiet_at:
                    self.want(feed, _PRIO_BOOK)
                else:
                    next_at = min(next_at, feed.quiet_at)
                continue
            if not feed.cache.synced:
                continue  # a snapshot is on its way; `fetched` looks again
            if feed.verify_at is not None:
                if not feed.unverified:
                    feed.verify_at = None  # a diff settled it
                elif now >= feed.verify_at:
                    feed.verify_at = None
                    self.want(feed, _PRIO_VERIFY)
                    continue
                else:
                    next_at = min(next_at, feed.verify_at)
            if feed.refresh_at is not None:
                if now >= feed.refresh_at:
                    feed.refresh_at = None
                    self.want(feed, _PRIO_REFRESH)
                    continue
                next_at = min(next_at, feed.refresh_at)
        self._next_tick = next_at


def _nothing() -> None:
    return None


def _resolve(waiter: asyncio.Future[None]) -> None:
    """Wake a waiter (once: later calls do nothing)."""
    if not waiter.done():
        waiter.set_result(None)


def _call_back(callback: Callable[[Any], Any] | None, value: Any) -> Any:
    if callback is None:
        return None
    try:
        return callback(value)
    except Exception:
        log.exception("depth cache callback raised")
        return None


# == threads: the seed's flavour ==================================================================


class _ManagerViews:
    """What every depth cache manager shows of its symbols, read from its `_Core`."""

    _core: _Core

    @property
    def symbols(self) -> list[str]:
        """The symbols, upper case, in the order given."""
        return list(self._core.feeds)

    @property
    def caches(self) -> dict[str, DepthCache]:
        """Every symbol's cache (also those that stopped)."""
        return {name: feed.cache for name, feed in self._core.feeds.items()}

    def get_depth_cache(self, symbol: str | None = None) -> DepthCache | None:
        """The cache of ``symbol`` (may be omitted with one symbol), or None if it failed for
        good and must be restarted (see `DepthCache.error`)."""
        if symbol is None:
            if len(self._core.feeds) != 1:
                raise TypeError("several symbols: say which one")
            feed = next(iter(self._core.feeds.values()))
        else:
            feed = self._core.feed(symbol)
        return None if feed.cache.error is not None else feed.cache

    def states(self) -> dict[str, DepthCacheState]:
        """Each symbol's `DepthCacheState`."""
        return {name: feed.cache.state for name, feed in self._core.feeds.items()}

    def __repr__(self) -> str:
        states = collections.Counter(s.value for s in self.states().values())
        return f"<{type(self).__name__} {len(self._core.feeds)} symbols {dict(states)}>"

    def _synced(self, symbols: Iterable[str] | None) -> Callable[[], bool | None]:
        """For ``wait_synced``: a check that says True once every cache (or those of
        ``symbols``) is SYNCED, False once one of them stopped for good, None meanwhile."""
        feeds = (
            [self._core.feed(s) for s in symbols]
            if symbols is not None
            else list(self._core.feeds.values())
        )

        def check() -> bool | None:
            if all(f.cache.synced for f in feeds):
                return True
            if any(f.stopped for f in feeds):
                return False
            return None

        return check


class MultiDepthCacheManager(_ManagerViews):
    """Depth caches for many symbols on shared connections, with callbacks on threads.

    Each symbol's diff stream (``<symbol>@depth`` or ``@depth@100ms``) is a socket of one
    `~binance.websockets.BinanceSocketManager`, whose connections carry up to 1024 streams
    each; every symbol has its own queue and its own `DepthSync`, so a gap, a dropped message
    or an inconsistency resyncs that symbol alone. Snapshots are fetched by a few worker
    threads through ``client.get_order_book`` (so through the client's weight governor):
    symbols without a book first, in the order they asked, then refreshes.

    ``callback(cache)`` runs after every change of a cache: each applied diff, each snapshot
    that (re)synced it, and when it is discarded (state RESYNCING, no levels) or stopped for
    good (state STOPPED, ``cache.error`` set). Calls never overlap; they come from the socket
    manager's callback thread or a snapshot thread.

    Example::

        def on_depth(cache):
            if cache.synced:
                print(cache.symbol, cache.get_bids(1), cache.get_asks(1))

        dcm = MultiDepthCacheManager(client, ["BNBBTC", "ETHBTC"], callback=on_depth)
        dcm.wait_synced(timeout=30)
        dcm.get_depth_cache("ETHBTC").get_asks(5)
        dcm.close()

    Args:
        client: a sync ``Client`` (REST snapshots; its ``stream_url`` for the sockets).
        symbols: the symbols.
        callback: called with a `DepthCache` after each change (see above).
        refresh_interval: seconds between rebuilds of each book from a fresh snapshot (the
            seed's 30 minutes); 0 or None never refreshes.
        limit: levels per snapshot side (``GET /api/v3/depth`` weight: 1000 costs 50, 5000
            costs 250). Prices past the snapshot's deepest level are never reported.
        use_decimal: caches return `Decimal` values instead of floats.
        update_speed_ms: 100 for ``@depth@100ms`` streams (default: 1000 ms).
        bm: a running or not yet started `BinanceSocketManager` to share (its connections carry
            other sockets too); by default the manager starts its own and closes it.
        stream_config: knobs for the socket manager it creates (`StreamConfig`).
        max_snapshots_in_flight: snapshot requests at once (default: up to 4).
        quiet_snapshot_s: fetch a first snapshot this long after the stream is live, even if
            no event came.
        verify_after_reconnect_s: after a reconnect (reported in-band by the stream layer), a
            symbol whose next diff has not yet shown the book intact within this long gets a
            verifying snapshot (0: at once; None: rely on the next event's ``U``/``u`` only).
        max_buffer: events kept per symbol while waiting for its snapshot.
    """

    def __init__(
        self,
        client: Any,
        symbols: Iterable[str],
        callback: Callable[[DepthCache], Any] | None = None,
        refresh_interval: float | None = DEFAULT_REFRESH_INTERVAL,
        limit: int = DEFAULT_LIMIT,
        *,
        use_decimal: bool = False,
        update_speed_ms: int | None = None,
        bm: BinanceSocketManager | None = None,
        stream_config: StreamConfig | None = None,
        max_snapshots_in_flight: int | None = None,
        quiet_snapshot_s: float = 3.0,
        verify_after_reconnect_s: float | None = 3.0,
        max_buffer: int = 10_000,
    ) -> None:
        from binance.websockets import BinanceSocketManager

        self._client = client
        self._callback: Callable[[Any], Any] | None = callback
        self._cond = threading.Condition()  # the scheduler lock; taken before any cache lock
        self._core = _Core(
            symbols,
            limit=limit,
            use_decimal=use_decimal,
            update_speed_ms=update_speed_ms,
            refresh_interval=refresh_interval,
            max_in_flight=max_snapshots_in_flight,
            quiet_snapshot_s=quiet_snapshot_s,
            verify_after_reconnect_s=verify_after_reconnect_s,
            max_buffer=max_buffer,
            lock=self._cond,
            wake=self._cond.notify_all,
        )
        self.refresh_interval = refresh_interval
        """Seconds between refreshes of each book (0 or None: never)."""
        self.limit = limit
        """Snapshot depth asked for."""
        self._callback_lock = threading.RLock()
        self._callback_thread: int | None = None  # the thread running the callback, if any
        self._closed = False
        self._budget = _governor_budget(client)
        self._own_bm = bm is None
        self._bm: BinanceSocketManager = (
            bm if bm is not None else BinanceSocketManager(client, config=stream_config)
        )
        self._conn_keys: dict[_Feed, str] = {}
        self._workers = [
            threading.Thread(
                target=self._work, name=f"DepthCacheManager-snapshots-{i}", daemon=True
            )
            for i in range(self._core.queue.max_in_flight)
        ]
        try:
            for worker in self._workers:
                worker.start()
            for feed in self._core.feeds.values():
                self._start_socket(feed)
            if self._own_bm:
                self._bm.start()
        except BaseException:
            self.close()
            raise

    # -- public (symbols, caches, get_depth_cache, states: _ManagerViews) -------------------------
    @property
    def bm(self) -> BinanceSocketManager:
        """The socket manager carrying the streams (``bm.pool.connections`` shows them)."""
        return self._bm

    def wait_synced(
        self, timeout: float | None = None, symbols: Iterable[str] | None = None
    ) -> bool:
        """Block until every cache (or those of ``symbols``) is SYNCED.

        Returns:
            True when they are; False after ``timeout`` seconds, or at once if one of them
            stopped for good.
        """
        synced = self._synced(symbols)
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:  # every state change notifies it
            while True:
                done = synced()
                if done is not None:
                    return done
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)

    def close(self) -> None:
        """Stop the sockets and threads of this manager; the caches become STOPPED.

        The manager cannot be started again (as in the seed); make a new one.
        """
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        if self._own_bm:
            self._bm.close()
        else:
            for key in self._conn_keys.values():
                self._bm.stop_socket(key)
        now = time.monotonic()
        with self._cond:
            for feed in self._core.feeds.values():
                with feed.cache.lock:
                    feed.stop("closed", now)
            self._cond.notify_all()  # wait_synced: they stopped
        if self._callback_thread != threading.get_ident():  # not closed by our own callback
            current = threading.current_thread()
            for worker in self._workers:
                if worker is not current and worker.is_alive():
                    worker.join(_CLOSE_TIMEOUT_S)

    def __enter__(self) -> MultiDepthCacheManager:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------------
    def _start_socket(self, feed: _Feed) -> None:
        handler = functools.partial(self._on_message, feed)
        # A multiplex socket of one stream: its key ("streams=<name>") leaves the plain depth
        # socket's key free for the user's own sockets on a shared manager. Status events say
        # when the stream is live and when it reconnected (diffs lost: verify, NOTES.md §10).
        key = self._bm.start_multiplex_socket([feed.stream], handler, status_events=True)
        if key is False:
            key = self._bm.start_depth_socket(
                feed.symbol,
                handler,
                update_speed_ms=self._core.update_speed_ms,
                status_events=True,
            )
            if key is False or key != feed.stream:
                raise ValueError(f"{feed.stream} already has a depth cache on this socket manager")
        self._conn_keys[feed] = str(key)

    def _on_message(self, feed: _Feed, msg: Any) -> None:
        # The socket manager's callback thread: every diff of every symbol passes here, so it
        # spares what it can: no clock read unless the state changes, locks taken with plain
        # acquire/release (cheaper than `with`), one call to deliver an applied diff.
        if self._closed:
            return
        lock = feed.cache.lock
        lock.acquire()
        try:
            flags, priority = feed.on_message(msg)
        finally:
            lock.release()
        if flags == _NOTIFY:  # a diff applied, nothing to schedule
            if self._callback is not None:
                self._deliver(feed.cache)
        elif flags:
            self._after(feed, flags, priority)

    def _after(self, feed: _Feed, flags: int, priority: int) -> None:
        if flags & _SCHEDULE:
            self._core.after(feed, flags, priority, time.monotonic())
        if flags & _CALLBACK and self._callback is not None:
            self._deliver(self._value_for_callback(feed, flags))

    def _value_for_callback(self, feed: _Feed, flags: int) -> DepthCache | None:
        return feed.cache

    def _deliver(self, value: DepthCache | None) -> None:
        lock = self._callback_lock
        # Never block for good on a callback running elsewhere: it may be closing this manager
        # and waiting for the thread we are on. (Uncontended, a plain acquire is much cheaper
        # than one with a timeout.)
        if not lock.acquire(False):
            while not lock.acquire(timeout=0.05):
                if self._closed:
                    return
        try:
            callback = self._callback
            if self._closed or callback is None:
                return
            self._callback_thread = threading.get_ident()
            try:
                callback(value)
            except Exception:
                log.exception("depth cache callback raised")
            finally:
                self._callback_thread = None
        finally:
            lock.release()

    def _work(self) -> None:
        cond = self._cond
        core = self._core
        while True:
            with cond:
                while True:
                    if self._closed:
                        return
                    now = time.monotonic()
                    feed = core.next_job(now, self._budget)
                    if feed is not None:
                        break
                    cond.wait(core.sleep_for(now))
            self._fetch(feed)

    def _fetch(self, feed: _Feed) -> None:
        core = self._core
        if not core.begin(feed):
            return
        outcome: Any
        try:
            outcome = self._client.get_order_book(symbol=feed.symbol, limit=feed.limit)
            if inspect.isawaitable(outcome):
                if inspect.iscoroutine(outcome):
                    outcome.close()
                raise TypeError("an async client needs AsyncDepthCacheManager")
        except Exception as exc:
            outcome = exc
        flags = core.end(feed, outcome, time.monotonic())
        if flags and self._callback is not None:
            self._deliver(self._value_for_callback(feed, flags))


class DepthCacheManager(MultiDepthCacheManager):
    """The seed's depth cache manager: one symbol, kept in step with Binance on threads.

    ::

        from binance.depthcache import DepthCacheManager

        def process_depth(depth_cache):
            if depth_cache is not None:
                print(depth_cache.symbol, depth_cache.get_bids()[:5], depth_cache.get_asks()[:5])
            else:
                ...  # the cache is not usable right now (see below)

        dcm = DepthCacheManager(client, "BNBBTC", callback=process_depth)
        depth_cache = dcm.get_depth_cache()
        dcm.close()

    The constructor returns once the cache holds Binance's book (or after ``wait_timeout_s``),
    as the seed's fetched its snapshot before returning. It raises the snapshot's error if the
    symbol cannot be served (``BinanceAPIException`` -1121 for an unknown symbol).

    ``callback`` receives the cache after every change: each applied diff event, and each
    snapshot that (re)synced the book. It receives **None** exactly when the book stops being
    usable:

    - the book was discarded: a gap in the diff events (``U`` > last ``u`` + 1, which is also
      how events lost to a reconnect show), a gap event from the stream layer (messages dropped
      for a slow consumer), a malformed event or a crossed book. The manager resyncs by itself
      (state RESYNCING, then SYNCED) and calls back with the cache once it is good again; or
    - the cache failed for good: the socket gave up reconnecting (the seed's "Max reconnect
      retries reached") or the snapshot cannot be fetched (an unknown symbol). Then
      `get_depth_cache` returns None too, and a new manager has to be made (the seed's
      "restart").

    Args:
        client: a sync ``Client``.
        symbol: the symbol, e.g. ``"BNBBTC"``.
        callback: optional; see above.
        refresh_interval: seconds between rebuilds from a fresh snapshot (seed: 1800); 0 or
            None never refreshes.
        limit: levels per snapshot side (1000 costs 50 weight, 5000 costs 250).
        wait_timeout_s: how long the constructor waits for the first sync (None: no wait).
        **options: the keyword options of `MultiDepthCacheManager` (``use_decimal``,
            ``update_speed_ms``, ``bm``, ``stream_config``...).
    """

    def __init__(
        self,
        client: Any,
        symbol: str,
        callback: Callable[[DepthCache | None], Any] | None = None,
        refresh_interval: float | None = DEFAULT_REFRESH_INTERVAL,
        limit: int = DEFAULT_LIMIT,
        *,
        wait_timeout_s: float | None = 30.0,
        **options: Any,
    ) -> None:
        if not isinstance(symbol, str):
            raise TypeError("DepthCacheManager takes one symbol; use MultiDepthCacheManager")
        super().__init__(client, [symbol], callback, refresh_interval, limit, **options)
        if wait_timeout_s is not None:
            if not self.wait_synced(wait_timeout_s):
                error = self._feed.cache.error
                if error is not None:
                    self.close()
                    raise error
                log.warning(
                    "%s: depth cache not synced after %.1f s; it keeps trying",
                    self.symbol,
                    wait_timeout_s,
                )

    @property
    def _feed(self) -> _Feed:
        return next(iter(self._core.feeds.values()))

    @property
    def symbol(self) -> str:
        """The symbol, upper case."""
        return self._feed.symbol

    @property
    def state(self) -> DepthCacheState:
        """The cache's `DepthCacheState`."""
        return self._feed.cache.state

    def _value_for_callback(self, feed: _Feed, flags: int) -> DepthCache | None:
        # The seed: None when the cache cannot be used (discarded or failed).
        return None if flags & (_DISCARDED | _STOPPED) else feed.cache


# == asyncio ======================================================================================


class AsyncDepthCacheManager(_ManagerViews):
    """Depth caches for one or many symbols in asyncio, on shared stream connections.

    ::

        async with AsyncDepthCacheManager(client, ["BNBBTC", "ETHBTC"]) as dcm:
            await dcm.wait_synced(timeout=30)
            async for cache in dcm:             # each cache that changed, latest state
                if cache.synced:
                    print(cache.symbol, cache.get_bids(1))

    Streams come from a `binance.streams.StreamManager` (its own, or ``sm``); snapshots from
    ``client.get_order_book``: awaited for an ``AsyncClient``, run on a worker thread for a
    sync ``Client``. Everything else is as in `MultiDepthCacheManager`: one `DepthSync` per
    symbol, resync of that symbol alone, snapshots queued by need through the client's
    governor, periodic refresh, reconnect checks.

    `recv` (and ``async for``) returns the next cache that changed; a cache that changed several
    times while nobody read comes once, so a slow reader never falls behind. ``callback``, if
    given, is called with the cache after every change on the event loop (a coroutine function
    is awaited). The cache's ``state`` says whether it is usable: RESYNCING after a discard,
    STOPPED after a failure (`get_depth_cache` then returns None).

    Args:
        client: an ``AsyncClient`` (or a sync ``Client``).
        symbols: one symbol or several.
        callback: optional, called with each changed cache.
        refresh_interval, limit, use_decimal, update_speed_ms, max_snapshots_in_flight,
        quiet_snapshot_s, verify_after_reconnect_s, max_buffer: as for
            `MultiDepthCacheManager`.
        sm: a `StreamManager` to share (not closed by this manager).
        stream_config: knobs for the stream manager it creates.
    """

    def __init__(
        self,
        client: Any,
        symbols: str | Iterable[str],
        callback: Callable[[DepthCache], Any] | None = None,
        refresh_interval: float | None = DEFAULT_REFRESH_INTERVAL,
        limit: int = DEFAULT_LIMIT,
        *,
        use_decimal: bool = False,
        update_speed_ms: int | None = None,
        sm: StreamManager | None = None,
        stream_config: StreamConfig | None = None,
        max_snapshots_in_flight: int | None = None,
        quiet_snapshot_s: float = 3.0,
        verify_after_reconnect_s: float | None = 3.0,
        max_buffer: int = 10_000,
    ) -> None:
        self._client = client
        self._callback: Callable[[Any], Any] | None = callback
        self._core = _Core(
            symbols,
            limit=limit,
            use_decimal=use_decimal,
            update_speed_ms=update_speed_ms,
            refresh_interval=refresh_interval,
            max_in_flight=max_snapshots_in_flight,
            quiet_snapshot_s=quiet_snapshot_s,
            verify_after_reconnect_s=verify_after_reconnect_s,
            max_buffer=max_buffer,
            wake=self._wake_all,
        )
        self._update_speed_ms = update_speed_ms
        self._budget = _governor_budget(client)
        self.refresh_interval = refresh_interval
        """Seconds between refreshes of each book (0 or None: never)."""
        self.limit = limit
        """Snapshot depth asked for."""
        self._sm = sm
        self._own_sm = sm is None
        self._stream_config = stream_config
        self._tasks: list[asyncio.Task[Any]] = []
        self._wake: asyncio.Event | None = None
        self._changed: dict[_Feed, None] = {}
        self._changed_event: asyncio.Event | None = None
        self._state_waiters: set[asyncio.Future[None]] = set()  # wait_synced, woken on changes
        self._executor: ThreadPoolExecutor | None = None
        self._started = False
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> AsyncDepthCacheManager:
        """Open the streams and start fetching snapshots (``async with`` does it)."""
        if self._closed:
            raise RuntimeError("this depth cache manager is closed")
        if self._started:
            return self
        self._started = True
        from binance.streams import StreamManager

        loop = asyncio.get_running_loop()
        if self._sm is None:
            self._sm = StreamManager(self._client, config=self._stream_config)
        self._wake = asyncio.Event()
        self._changed_event = asyncio.Event()
        workers = self._core.queue.max_in_flight
        for i in range(workers):
            self._tasks.append(loop.create_task(self._work(), name=f"depthcache-snapshots-{i}"))
        for feed in self._core.feeds.values():
            self._tasks.append(loop.create_task(self._read(feed), name=f"depthcache-{feed.stream}"))
        return self

    async def close(self) -> None:
        """Close the streams, tasks and threads of this manager; caches become STOPPED."""
        if self._closed:
            return
        self._closed = True
        if self._own_sm and self._sm is not None:
            await self._sm.close()  # every connection at once; the readers' streams go with it
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._executor is not None:
            executor, self._executor = self._executor, None
            executor.shutdown(wait=True)  # at most the snapshot requests under way
        now = time.monotonic()
        for feed in self._core.feeds.values():
            with feed.cache.lock:
                feed.stop("closed", now)
        self._wake_all()
        if self._changed_event is not None:
            self._changed_event.set()

    async def __aenter__(self) -> AsyncDepthCacheManager:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- public (symbols, caches, get_depth_cache, states: _ManagerViews) -------------------------
    @property
    def sm(self) -> StreamManager | None:
        """The stream manager carrying the streams (``sm.pool.connections`` shows them)."""
        return self._sm

    async def wait_synced(
        self, timeout: float | None = None, symbols: Iterable[str] | None = None
    ) -> bool:
        """Wait until every cache (or those of ``symbols``) is SYNCED; False after
        ``timeout`` seconds or at once if one of them stopped for good."""
        synced = self._synced(symbols)
        loop = asyncio.get_running_loop()
        end = None if timeout is None else loop.time() + timeout
        while True:
            done = synced()
            if done is not None:
                return done
            remaining = None if end is None else end - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            # Woken by the next state change (or the timeout): no polling. A timer rather than
            # asyncio.wait_for, which before Python 3.12 can swallow a cancellation.
            waiter: asyncio.Future[None] = loop.create_future()
            self._state_waiters.add(waiter)
            timer = None if remaining is None else loop.call_later(remaining, _resolve, waiter)
            try:
                await waiter
            finally:
                self._state_waiters.discard(waiter)
                if timer is not None:
                    timer.cancel()

    async def recv(self, timeout: float | None = None) -> DepthCache:
        """The next cache that changed (each changed cache once, in its latest state).

        Raises:
            asyncio.TimeoutError: nothing changed within ``timeout`` seconds.
            RuntimeError: the manager is closed.
        """
        if not self._started:
            await self.start()
        event = self._changed_event
        assert event is not None
        while True:
            if self._changed:
                feed = next(iter(self._changed))
                del self._changed[feed]
                return feed.cache
            if self._closed:
                raise RuntimeError("this depth cache manager is closed")
            event.clear()
            if timeout is None:
                await event.wait()
            else:
                await asyncio.wait_for(event.wait(), timeout)

    def __aiter__(self) -> AsyncDepthCacheManager:
        return self

    async def __anext__(self) -> DepthCache:
        try:
            return await self.recv()
        except RuntimeError:
            raise StopAsyncIteration from None

    # -- internals ------------------------------------------------------------------------------
    def _wake_all(self) -> None:
        """The core's ``wake``: the snapshot workers, and `wait_synced` (every state change
        passes through the core, as with the thread managers' condition)."""
        if self._wake is not None:
            self._wake.set()
        waiters, self._state_waiters = self._state_waiters, set()
        for waiter in waiters:
            _resolve(waiter)

    async def _after(self, feed: _Feed, flags: int, priority: int) -> None:
        if flags & _SCHEDULE:
            self._core.after(feed, flags, priority, time.monotonic())
        if flags & _CALLBACK and not self._closed:
            self._changed[feed] = None
            assert self._changed_event is not None
            self._changed_event.set()
            result = _call_back(self._callback, feed.cache)
            if result is not None and inspect.isawaitable(result):
                try:
                    await result
                except Exception:
                    log.exception("depth cache callback raised")

    async def _read(self, feed: _Feed) -> None:
        from binance._streams.conn import ControlError, ReconnectError

        assert self._sm is not None
        # Status events: a reconnect lost diffs, so the book must be verified (NOTES.md §10).
        stream: Stream = self._sm.depth_socket(
            feed.symbol, update_speed_ms=self._update_speed_ms, status_events=True
        )
        try:
            try:
                await stream.open()
                # NOTES.md §10 step 1: the stream is live, so every event from now on arrives;
                # ask for the snapshot now rather than waiting for a first event.
                with feed.cache.lock:
                    feed.sync.request_refresh()
                await self._after(feed, _WANT, _PRIO_BOOK)
                lock = feed.cache.lock
                async for msg in stream:  # the hot path: see MultiDepthCacheManager._on_message
                    lock.acquire()
                    try:
                        flags, priority = feed.on_message(msg)
                    finally:
                        lock.release()
                    if flags:
                        await self._after(feed, flags, priority)
            except (ReconnectError, ControlError) as exc:
                with feed.cache.lock:
                    flags, priority = feed.stop(f"stream failed: {exc}", time.monotonic(), exc)
                await self._after(feed, flags, priority)
            except Exception as exc:  # a bug or a closed stream manager: never fail silently
                if not self._closed:
                    log.exception("%s: depth stream reader failed", feed.symbol)
                with feed.cache.lock:
                    flags, priority = feed.stop(
                        f"stream reader failed: {exc!r}", time.monotonic(), exc
                    )
                await self._after(feed, flags, priority)
        finally:
            await stream.close()

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        core = self._core
        wake = self._wake
        assert wake is not None
        while not self._closed:
            now = time.monotonic()
            feed = core.next_job(now, self._budget)
            if feed is None:
                wake.clear()
                timeout = core.sleep_for(now)
                # A timer rather than asyncio.wait_for: before Python 3.12, wait_for swallows a
                # cancellation that races with the wake-up, and close() does both at once.
                timer = None if timeout is None else loop.call_later(timeout, wake.set)
                try:
                    await wake.wait()
                finally:
                    if timer is not None:
                        timer.cancel()
                continue
            await self._fetch(feed)

    async def _get_order_book(self, feed: _Feed) -> Any:
        getter = self._client.get_order_book
        if _is_async_client(self._client):
            return await getter(symbol=feed.symbol, limit=feed.limit)
        if self._executor is None:
            from concurrent.futures import ThreadPoolExecutor

            self._executor = ThreadPoolExecutor(
                self._core.queue.max_in_flight, thread_name_prefix="AsyncDepthCacheManager"
            )
        loop = asyncio.get_running_loop()
        call = functools.partial(getter, symbol=feed.symbol, limit=feed.limit)
        return await loop.run_in_executor(self._executor, call)

    async def _fetch(self, feed: _Feed) -> None:
        core = self._core
        if not core.begin(feed):
            return
        outcome: Any
        try:
            outcome = await self._get_order_book(feed)
        except asyncio.CancelledError:
            core.abandon(feed)
            raise
        except Exception as exc:
            outcome = exc
        flags = core.end(feed, outcome, time.monotonic())
        if flags:
            await self._after(feed, flags, 0)


def _is_async_client(client: Any) -> bool:
    from binance.async_client import AsyncClient

    if isinstance(client, AsyncClient):
        return True
    return inspect.iscoroutinefunction(getattr(client, "get_order_book", None))
