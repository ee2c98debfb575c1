"""Binance's local order book procedure (NOTES.md section 10) as a state machine for one symbol.

`DepthSync` takes diff events (``<symbol>@depth`` payloads, already parsed) and REST snapshots
(``GET /api/v3/depth``) in, keeps an `binance.orderbook.OrderBook` equal to Binance's book, and
answers each input with an action for its caller: `NeedSnapshot` (fetch a snapshot and pass it to
`DepthSync.on_snapshot`), `Resync` (the book was discarded after a gap; fetch a snapshot), or
`Applied` (the book changed). ``None`` means nothing for the caller to do (an event was buffered
or ignored).

States (`SyncState`)::

    SYNCING --snapshot usable--> SYNCED --gap / crossed book--> RESYNCING --snapshot--> SYNCED
       ^ buffer events,             | apply live events             buffer events again
       | ask for a snapshot         | (refresh: request_refresh, snapshot + replay; still SYNCED)

Rules, with NOTES.md section 10's step numbers:

- Events are buffered from the first one received until a snapshot arrives (1, 2).
- A snapshot older than the first buffered event still needed (its ``U > lastUpdateId + 1``) is
  useless: ask for another and keep the buffer (3).
- Buffered events with ``u <= lastUpdateId`` are dropped (4). The book becomes the snapshot, with
  update id ``lastUpdateId`` (5).
- Each event then: ``u <= id`` is already in the book (a duplicate, or older than the snapshot):
  ignored, so feeding an event twice is harmless. ``U > id + 1`` means events were missed (a gap,
  or events arriving out of order): the book is discarded, that event starts a new buffer, and a
  snapshot is needed (`Resync`). Otherwise the levels are applied and ``id = u`` (6).
- Consistency: an event with ``u < U`` in a synced book, or a book whose best bid is at or above
  its best ask after an event, also forces a `Resync`.
- Trusted range: a snapshot has at most ``limit`` levels per side; prices past its deepest level
  are unknown until they change (NOTES.md section 10), and, because levels between the deepest
  snapshot level and a later update may exist unseen, they are never reported even after an
  update sets one: the book's sides stop at their `~binance.orderbook.BookSide.horizon`. A side
  with fewer levels than ``snapshot_limit`` is complete. A fresh snapshot resets the range.
- Refresh (the caller decides when): `DepthSync.request_refresh` starts logging applied events
  and asks for a snapshot; the snapshot then rebuilds the book and the logged events it does not
  include are replayed, so no event is lost and the state stays SYNCED. If the log does not reach
  back to the snapshot (a snapshot older than the request, or more than ``replay`` events
  waited), the current book is kept and another snapshot is asked for.
  `DepthSync.refresh_mismatches` counts refreshes whose result differed from the book they
  replaced (it should stay 0). Events are only logged while a refresh waits: keeping every event
  alive would cost more than applying it.

Speed: with the C order book (`binance.orderbook.ACCELERATED`), `DepthSync` derives from
``binance._cbook.SyncCore``, whose ``on_event`` takes the common case (a synced book of C sides,
no refresh waiting, an event that continues the book) in C, under these same rules, and hands
every other case to the Python rules (``DepthSync._on_event``). The state it touches (update id,
event time, ``events_applied``) lives in C members that the Python code uses as attributes.

No I/O here: no sockets, no JSON, no clocks. Imports only `binance.orderbook` (and, through it, the
optional ``binance._cbook``).
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from binance.orderbook import OrderBook, active_cbook

__all__ = ["Action", "Applied", "DepthSync", "NeedSnapshot", "Resync", "SyncState"]

#: Levels compared per side when a refresh checks the old book against the new one.
_CHECK_DEPTH = 20


class SyncState(enum.Enum):
    """Where a `DepthSync` stands."""

    SYNCING = "SYNCING"
    """Buffering events until a usable snapshot arrives (start)."""
    SYNCED = "SYNCED"
    """The book is Binance's book as of `DepthSync.last_update_id`."""
    RESYNCING = "RESYNCING"
    """The book was discarded (gap or inconsistency); buffering until a new snapshot."""


@dataclass(frozen=True, slots=True)
class NeedSnapshot:
    """Fetch ``GET /api/v3/depth`` for `symbol` and pass the result to `DepthSync.on_snapshot`."""

    symbol: str
    reason: str


@dataclass(frozen=True, slots=True)
class Resync(NeedSnapshot):
    """The book was discarded; fetch a snapshot as for `NeedSnapshot`. Readers see no book."""


class Applied(NamedTuple):
    """The book changed: events (and possibly a snapshot) up to `last_update_id` are in it."""

    first_update_id: int
    """``U`` of the first event applied, or the snapshot's ``lastUpdateId``."""
    last_update_id: int
    """The book's update id now."""
    event_time: int | None
    """``E`` (ms) of the last event applied, if any event was."""
    events: int
    """How many diff events this step applied."""


Action = NeedSnapshot | Applied
"""What `DepthSync.on_event` and `DepthSync.on_snapshot` return (besides None)."""

_SYNCED = SyncState.SYNCED
_new_applied = tuple.__new__  # builds an Applied without the Python frame of its __new__


class _PySyncCore:
    """`DepthSync`'s base where the C core is not active: ``on_event`` is the Python rules."""

    def on_event(self, event: Mapping[str, Any]) -> Action | None:
        """Feed one diff event: a parsed ``depthUpdate`` payload (``U``, ``u``, ``b``, ``a``).

        Returns:
            `Applied` if the book changed, `NeedSnapshot` on the first buffered event, `Resync`
            if the book had to be discarded, None if the event was buffered or ignored.

        Raises:
            ValueError: The event is for another symbol or lacks ``U``/``u``.
        """
        return self._on_event(event)

    def _on_event(self, event: Mapping[str, Any]) -> Action | None:
        raise NotImplementedError


if TYPE_CHECKING or active_cbook is None:
    _SyncBase = _PySyncCore
else:
    _SyncBase = active_cbook.SyncCore


class DepthSync(_SyncBase):
    """Keeps one symbol's order book in step with Binance from diff events and snapshots.

    Example (the caller does the I/O)::

        sync = DepthSync("BNBBTC", snapshot_limit=5000)
        for event in stream:                      # parsed depthUpdate payloads
            action = sync.on_event(event)
            if isinstance(action, NeedSnapshot):  # includes Resync
                action = sync.on_snapshot(client.get_order_book(symbol="BNBBTC", limit=5000))
            if sync.state is SyncState.SYNCED:
                print(sync.book.top_bids(5))

    Args:
        symbol: The symbol (events carrying another ``s`` are rejected).
        book: The book to maintain (a new `OrderBook` if None).
        snapshot_limit: The ``limit`` the caller's snapshots use. A snapshot side with fewer
            levels is complete; otherwise prices past its deepest level are untrusted. None:
            always treat snapshots as partial.
        max_buffer: Events kept while waiting for a snapshot (oldest dropped first; a snapshot
            then has to be newer than the oldest kept).
        replay: Most applied events logged while a refresh snapshot is awaited.
        check_crossed: Resync when the best bid reaches the best ask after an event.
    """

    def __init__(
        self,
        symbol: str,
        *,
        book: OrderBook | None = None,
        snapshot_limit: int | None = None,
        max_buffer: int = 10_000,
        replay: int = 2_000,
        check_crossed: bool = True,
    ) -> None:
        self.symbol: str = symbol.upper()
        """The symbol, upper case."""
        self._book = book if book is not None else OrderBook()
        self.snapshot_limit = snapshot_limit
        self.check_crossed: bool = check_crossed
        """Resync when the best bid reaches the best ask after an event."""
        self._buffer: deque[Mapping[str, Any]] = deque(maxlen=max_buffer)
        self._replay_max = replay
        self._recent: list[Mapping[str, Any]] | None = None  # events logged for a refresh
        self._state = SyncState.SYNCING
        self._id: int | None = None
        self._event_time: int | None = None
        self._asked = False  # a NeedSnapshot is outstanding
        # What the C on_event reads besides the above (unused by _PySyncCore); see _set_mode.
        self._applied = Applied
        self._hot_bids: Any = None
        self._hot_asks: Any = None
        self.events_applied: int = 0
        """Diff events applied to the book."""
        self.events_ignored = 0
        """Events already in the book (duplicates, older than the snapshot) or malformed."""
        self.snapshots_applied = 0
        """Snapshots that became (or refreshed) the book."""
        self.resyncs = 0
        """Times the book was discarded (gaps, inconsistencies, `reset`)."""
        self.refresh_mismatches = 0
        """Refreshes whose rebuilt book differed from the live one (should stay 0)."""
        self.last_resync_reason: str | None = None
        """Why the last resync happened."""

    # -- read-only state ----------------------------------------------------------------------
    @property
    def book(self) -> OrderBook:
        """The maintained book; empty unless `state` is SYNCED."""
        return self._book

    @property
    def state(self) -> SyncState:
        """The current `SyncState`."""
        return self._state

    @property
    def last_update_id(self) -> int | None:
        """The book's update id (``u`` of the last applied event), None unless SYNCED."""
        return self._id if self._state is SyncState.SYNCED else None

    @property
    def last_event_time(self) -> int | None:
        """``E`` (ms) of the last applied event, None if none since the last snapshot load."""
        return self._event_time

    @property
    def buffered(self) -> int:
        """Events waiting for a snapshot."""
        return len(self._buffer)

    # -- inputs -------------------------------------------------------------------------------
    def _on_event(self, event: Mapping[str, Any]) -> Action | None:
        """`on_event`'s rules, every case (the C core runs only the common one)."""
        try:
            first = event["U"]
            last = event["u"]
        except (KeyError, TypeError):
            raise ValueError(f"not a depth diff event: {event!r:.200}") from None
        symbol = event.get("s")
        if symbol is not None and symbol != self.symbol:
            raise ValueError(f"event for {symbol!r} fed to the {self.symbol} depth sync")
        if self._state is _SYNCED:
            book_id: int = self._id  # type: ignore[assignment]
            if last <= book_id:  # NOTES.md §10: already in the book
                self.events_ignored += 1
                return None
            if first > book_id + 1:  # NOTES.md §10: events were missed
                return self._resync(f"gap: event U={first} after update id {book_id}", event)
            if last < first:
                return self._resync(f"malformed event: u={last} < U={first}", None)
            book = self._book
            try:  # both sides and the crossed-book check in one call (C when accelerated)
                crossed = book.bids._apply_event(book.asks, event, self.check_crossed)
            except (KeyError, TypeError, ValueError) as exc:
                return self._bad_levels(last, exc)
            self._id = last
            event_time = self._event_time = event.get("E")
            if self._recent is not None:
                self._log(event)
            self.events_applied += 1
            if crossed:
                return self._crossed_after(last)
            return _new_applied(Applied, (first, last, event_time, 1))  # Applied(...), faster
        if last < first:
            self.events_ignored += 1
            return None
        self._buffer.append(event)
        if not self._asked:
            self._asked = True
            return NeedSnapshot(self.symbol, "no snapshot yet")
        return None

    def _log(self, event: Mapping[str, Any]) -> None:
        """Keep an applied event for the awaited refresh snapshot to replay."""
        recent = self._recent
        assert recent is not None
        if len(recent) < self._replay_max:
            recent.append(event)
        else:  # the refresh waited too long: its snapshot can no longer be replayed
            recent.clear()
            self._set_mode(self._state, None)

    def on_snapshot(self, snapshot: Mapping[str, Any]) -> Action | None:
        """Feed a REST snapshot (``lastUpdateId``, ``bids``, ``asks``).

        Returns:
            `Applied` if the book now reflects the snapshot (and any buffered events),
            `NeedSnapshot` if the snapshot was too old to use (fetch another), `Resync` if the
            buffered events had a gap.

        Raises:
            ValueError: The snapshot lacks ``lastUpdateId``, ``bids`` or ``asks``.
        """
        try:
            snap_id = int(snapshot["lastUpdateId"])
            bids = snapshot["bids"]
            asks = snapshot["asks"]
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"not a depth snapshot: {snapshot!r:.200}") from None
        self._asked = False
        if self._state is SyncState.SYNCED:
            return self._refresh(snap_id, bids, asks)
        pending = [e for e in self._buffer if e["u"] > snap_id]  # NOTES.md §10 step 4
        self.events_ignored += len(self._buffer) - len(pending)
        self._buffer.clear()
        if pending and pending[0]["U"] > snap_id + 1:  # NOTES.md §10 step 3
            self._buffer.extend(pending)
            self._asked = True
            return NeedSnapshot(
                self.symbol,
                f"snapshot lastUpdateId={snap_id} is older than the first buffered event "
                f"U={pending[0]['U']}",
            )
        self._load(snap_id, bids, asks)
        self._event_time = None
        self._set_mode(_SYNCED, None)
        return self._drain(snap_id, pending)

    def request_refresh(self) -> NeedSnapshot:
        """Ask for a fresh snapshot to rebuild the book from (the seed's ``refresh_interval``).

        While SYNCED, applied events are logged from now until the snapshot arrives, so that
        `on_snapshot` can replay those the snapshot misses. In other states a snapshot is needed
        anyway.

        Returns:
            The `NeedSnapshot` to act on.
        """
        self._asked = True
        if self._state is SyncState.SYNCED:
            self._set_mode(_SYNCED, [])
            return NeedSnapshot(self.symbol, "refresh")
        return NeedSnapshot(self.symbol, "no book yet")

    def reset(self, reason: str = "reset by caller") -> None:
        """Discard the book and any buffered events; the next event asks for a snapshot."""
        self._discard(reason)
        self._buffer.clear()

    # -- internals ----------------------------------------------------------------------------
    def _load(self, snap_id: int, bids: Iterable[Any], asks: Iterable[Any]) -> None:
        bids = list(bids)
        asks = list(asks)
        limit = self.snapshot_limit
        self._book.bids.replace(bids, complete=limit is not None and len(bids) < limit)
        self._book.asks.replace(asks, complete=limit is not None and len(asks) < limit)
        self._id = snap_id
        self.snapshots_applied += 1

    def _drain(self, snap_id: int, events: list[Mapping[str, Any]]) -> Action:
        applied = 0
        first = snap_id
        for i, event in enumerate(events):
            action = self.on_event(event)
            if isinstance(action, NeedSnapshot):
                if isinstance(action, Resync) and self._buffer:
                    self._buffer.extend(events[i + 1 :])  # keep what followed the gap
                return action
            if action is not None:
                if not applied:
                    first = action.first_update_id
                applied += 1
        assert self._id is not None
        if not applied and self.check_crossed and self._book.crossed():
            return self._resync(f"crossed snapshot lastUpdateId={snap_id}", None)
        return Applied(first, self._id, self._event_time, applied)

    def _refresh(self, snap_id: int, bids: Iterable[Any], asks: Iterable[Any]) -> Action | None:
        """A snapshot while SYNCED: rebuild from it plus the applied events it lacks."""
        book_id: int = self._id  # type: ignore[assignment]
        replay = [e for e in self._recent or () if e["u"] > snap_id]
        if snap_id < book_id and (not replay or replay[0]["U"] > snap_id + 1):
            self._set_mode(_SYNCED, [])  # log from now on: the next snapshot can be replayed
            self._asked = True
            return NeedSnapshot(
                self.symbol,
                f"refresh snapshot lastUpdateId={snap_id} is older than the replay log "
                f"(book at {book_id})",
            )
        self._set_mode(_SYNCED, None)
        before = self._top()
        event_time = self._event_time
        self._load(snap_id, bids, asks)
        action = self._drain(snap_id, replay)
        if isinstance(action, NeedSnapshot):
            return action
        if self._event_time is None:
            self._event_time = event_time
        after = self._top()
        if snap_id <= book_id and not _same_prefix(before, after):
            self.refresh_mismatches += 1
        return action

    def _top(self) -> tuple[list[Any], list[Any]]:
        return (
            self._book.bids.top(_CHECK_DEPTH, decimal=True),
            self._book.asks.top(_CHECK_DEPTH, decimal=True),
        )

    def _resync(self, reason: str, keep: Mapping[str, Any] | None) -> Resync:
        self._discard(reason)
        self._buffer.clear()
        if keep is not None:
            self._buffer.append(keep)
        self._asked = True
        return Resync(self.symbol, reason)

    def _discard(self, reason: str) -> None:
        self._book.clear()
        self._id = None
        self._event_time = None
        self._set_mode(SyncState.RESYNCING, None)
        self._asked = False
        self.resyncs += 1
        self.last_resync_reason = reason

    def _set_mode(self, state: SyncState, recent: list[Mapping[str, Any]] | None) -> None:
        """Set the state and the refresh log (never one without the other), and with them
        whether the C ``on_event`` may take the common case: it does only while SYNCED with
        nothing to log, when ``_hot_bids``/``_hot_asks`` are the book's sides."""
        self._state = state
        self._recent = recent
        hot = state is _SYNCED and recent is None
        self._hot_bids = self._book.bids if hot else None
        self._hot_asks = self._book.asks if hot else None

    def _bad_levels(self, last: Any, exc: BaseException) -> Resync:
        """The event ``u=last`` had levels the book rejects, some maybe applied: resync."""
        return self._resync(f"bad levels in event u={last}: {exc}", None)

    def _crossed_after(self, last: Any) -> Resync:
        """The book is crossed after applying the event ``u=last``: resync."""
        return self._resync(f"crossed book after update id {last}", None)


def _same_prefix(old: tuple[list[Any], list[Any]], new: tuple[list[Any], list[Any]]) -> bool:
    """True if both books agree on every level both of them report."""
    for a, b in zip(old, new, strict=True):
        n = min(len(a), len(b))
        if a[:n] != b[:n]:
            return False
    return True
