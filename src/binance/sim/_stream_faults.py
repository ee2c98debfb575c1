"""Run-time faults of the local exchange's WebSocket side: market streams and the WebSocket API.

``StreamFaults`` is the control surface; it lives at ``LocalExchange.faults.streams`` next to the
REST faults. Every control can be used on demand (the next event or the current connections) or
at random from a seed, so a client's recovery code can be exercised deterministically:

- ``drop_connections()``: abort the TCP connection with no close frame (the client sees an
  abnormal closure, as when a network path dies).
- ``stall(seconds)``: the connection goes silent (no data frames, no pings, no pongs, control
  messages unanswered) and then resumes; whatever was queued meanwhile is delivered afterwards
  unless the per-connection queue overflowed, which disconnects it (slow consumer).
- ``skip_depth_events(n)``: a gap: the next ``n`` diff-depth events are not sent, so the next one
  has ``U > previous u + 1`` (NOTES.md §10 says: resync).
- ``duplicate_depth_events(n)``: the next ``n`` diff-depth events are sent twice.
- ``reorder_depth_events(n)``: the next ``n`` diff-depth events are held back and sent after the
  event that follows each of them (two consecutive events swapped).
- ``server_shutdown(notice_s)``: an early 24-hour cut: ``serverShutdown`` now, disconnect after
  ``notice_s`` seconds.
- ``slow_snapshots(delay_ms)``: ``GET /api/v3/depth`` answers late (read by the REST adapter as
  ``faults.streams.snapshot_delay_ms``), so diff events pile up while a client waits for its
  snapshot.

``set_random(seed=..., ...)`` turns on the same faults at random rates from a private
``random.Random(seed)``: depth faults per published diff event, connection faults per connection
per second. ``reset()`` clears everything.

Faults are set from any thread (tests run the server in a background thread); the adapters apply
connection faults on their own event loop through listeners registered with ``_attach``. No I/O
here; aiohttp and the client are not imported.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ConnectionFault", "StreamFaults", "TARGETS"]

#: Which connections a connection fault applies to.
TARGET_ALL = "all"
TARGET_STREAMS = "streams"
TARGET_WS_API = "ws_api"
TARGETS = (TARGET_ALL, TARGET_STREAMS, TARGET_WS_API)

# Depth-event decisions handed to the market streams.
DEPTH_SEND = "send"
DEPTH_SKIP = "skip"
DEPTH_DUPLICATE = "duplicate"
DEPTH_HOLD = "hold"  # send after the next event (reorder)


@dataclass(frozen=True)
class ConnectionFault:
    """A command for the adapters: act on the current connections of ``target``.

    Attributes:
        kind: ``"drop"``, ``"stall"`` or ``"shutdown"``.
        target: ``"all"``, ``"streams"`` or ``"ws_api"``.
        seconds: stall length, or the notice before the cut for ``"shutdown"``.
    """

    kind: str
    target: str = TARGET_ALL
    seconds: float = 0.0

    def applies_to(self, adapter: str) -> bool:
        """True if an adapter named ``adapter`` (``"streams"``/``"ws_api"``) must act."""
        return self.target in (TARGET_ALL, adapter)


Listener = Callable[[ConnectionFault], None]


def _check_target(target: str) -> str:
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    return target


def _check_count(count: int) -> int:
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ValueError(f"count must be a non-negative int, got {count!r}")
    return count


def _check_rate(name: str, rate: float) -> float:
    if not 0.0 <= float(rate) <= 1.0:
        raise ValueError(f"{name} must be within [0, 1], got {rate!r}")
    return float(rate)


class StreamFaults:
    """Faults of the market streams and the WebSocket API, switchable at run time.

    Args:
        seed: seed of the random faults (``set_random`` may give another).
    """

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._listeners: list[tuple[asyncio.AbstractEventLoop, Listener]] = []
        self._seed = seed
        self._reset_locked()
        self.injected: Counter[str] = Counter()
        """How many faults of each kind were applied so far (``"drop"``, ``"stall"``,
        ``"shutdown"``, ``"gap"``, ``"duplicate"``, ``"reorder"``); tests read it to confirm a
        random plan did something."""

    def _reset_locked(self) -> None:
        # depth faults pending, per symbol ("" = any symbol): kind -> count
        self._depth: dict[str, Counter[str]] = {}
        self._random: random.Random | None = None
        self._rates: dict[str, float] = {}
        self._random_stall_s = 1.0
        self._random_shutdown_notice_s = 1.0
        self.snapshot_delay_ms = 0
        """Extra latency of ``GET /api/v3/depth`` in ms (0 = none); the REST adapter reads it."""

    # -- on demand: connections ------------------------------------------------------------------

    def drop_connections(self, target: str = TARGET_ALL) -> None:
        """Abort every current connection of ``target`` (``"all"``, ``"streams"``, ``"ws_api"``).

        The TCP connection is closed without a close frame, like a dead network path.
        """
        self._dispatch(ConnectionFault("drop", _check_target(target)))

    def stall(self, seconds: float, target: str = TARGET_ALL) -> None:
        """Make every current connection of ``target`` silent for ``seconds``.

        No data frames, pings or pongs are sent and control messages wait; afterwards the queued
        frames follow (a connection whose queue overflows meanwhile is dropped).
        """
        if seconds <= 0:
            raise ValueError(f"seconds must be positive, got {seconds!r}")
        self._dispatch(ConnectionFault("stall", _check_target(target), float(seconds)))

    def server_shutdown(self, notice_s: float = 1.0, target: str = TARGET_ALL) -> None:
        """Cut every current connection of ``target`` early, as Binance's 24-hour cut does:
        send ``serverShutdown`` now and close the connection ``notice_s`` seconds later."""
        if notice_s < 0:
            raise ValueError(f"notice_s must be >= 0, got {notice_s!r}")
        self._dispatch(ConnectionFault("shutdown", _check_target(target), float(notice_s)))

    # -- on demand: diff depth -------------------------------------------------------------------

    def skip_depth_events(self, count: int = 1, symbol: str | None = None) -> None:
        """Do not send the next ``count`` diff-depth events (of ``symbol``, or of any symbol):
        the client sees a gap in ``U``/``u``."""
        self._add_depth("gap", count, symbol)

    def duplicate_depth_events(self, count: int = 1, symbol: str | None = None) -> None:
        """Send each of the next ``count`` diff-depth events twice."""
        self._add_depth("duplicate", count, symbol)

    def reorder_depth_events(self, count: int = 1, symbol: str | None = None) -> None:
        """Swap each of the next ``count`` diff-depth events with the event that follows it."""
        self._add_depth("reorder", count, symbol)

    # -- on demand: REST snapshots ---------------------------------------------------------------

    def slow_snapshots(self, delay_ms: int) -> None:
        """Delay every ``GET /api/v3/depth`` answer by ``delay_ms`` (0 switches it off)."""
        if delay_ms < 0:
            raise ValueError(f"delay_ms must be >= 0, got {delay_ms!r}")
        with self._lock:
            self.snapshot_delay_ms = int(delay_ms)

    # -- random ----------------------------------------------------------------------------------

    def set_random(
        self,
        *,
        seed: int | None = None,
        drop: float = 0.0,
        stall: float = 0.0,
        stall_s: float = 1.0,
        shutdown: float = 0.0,
        shutdown_notice_s: float = 1.0,
        gap: float = 0.0,
        duplicate: float = 0.0,
        reorder: float = 0.0,
    ) -> None:
        """Inject faults at random, reproducibly from ``seed``.

        Args:
            seed: seed of the private random generator (default: the constructor's, else 0).
            drop: probability per connection per second of a drop.
            stall: probability per connection per second of a stall of ``stall_s`` seconds.
            stall_s: length of random stalls.
            shutdown: probability per connection per second of an early cut.
            shutdown_notice_s: notice of random cuts.
            gap: probability per diff-depth event of skipping it.
            duplicate: probability per diff-depth event of sending it twice.
            reorder: probability per diff-depth event of swapping it with the next one.
        """
        rates = {
            "drop": _check_rate("drop", drop),
            "stall": _check_rate("stall", stall),
            "shutdown": _check_rate("shutdown", shutdown),
            "gap": _check_rate("gap", gap),
            "duplicate": _check_rate("duplicate", duplicate),
            "reorder": _check_rate("reorder", reorder),
        }
        if stall_s <= 0 or shutdown_notice_s < 0:
            raise ValueError("stall_s must be positive and shutdown_notice_s >= 0")
        with self._lock:
            chosen = seed if seed is not None else (self._seed if self._seed is not None else 0)
            self._random = random.Random(chosen)
            self._rates = {k: v for k, v in rates.items() if v > 0}
            self._random_stall_s = float(stall_s)
            self._random_shutdown_notice_s = float(shutdown_notice_s)

    def reset(self) -> None:
        """Clear every pending and random fault and the snapshot delay (counters are kept).

        Stalls and cuts already under way run to their end.
        """
        with self._lock:
            self._reset_locked()

    @property
    def active(self) -> bool:
        """True while any depth fault is pending or a random plan or snapshot delay is set."""
        with self._lock:
            return bool(self._depth or self._rates or self.snapshot_delay_ms)

    # -- JSON control (``POST /sim/v1/faults`` ``{"streams": {...}}``) ------------------------

    _JSON_KEYS = frozenset(
        ("reset", "slow_snapshots_ms", "gap", "duplicate", "reorder", "random", "stall")
        + ("shutdown", "drop")
    )

    @classmethod
    def check_keys(cls, doc: Mapping[str, Any]) -> None:
        """Raise ValueError unless ``doc`` is an object of known `apply_json` keys (callers
        check before arming anything)."""
        if not isinstance(doc, Mapping):
            raise ValueError("bad fault specification: streams must be an object")
        unknown = set(doc) - cls._JSON_KEYS
        if unknown:
            raise ValueError(f"unknown stream fault keys: {sorted(unknown)}")

    def apply_json(self, doc: Mapping[str, Any]) -> None:
        """Apply controls given as JSON, in this order (all keys optional):
        ``reset`` (true), ``slow_snapshots_ms``, ``gap`` / ``duplicate`` / ``reorder``
        ``{"count", "symbol"}``, ``random`` (``set_random`` keywords), ``stall``
        ``{"seconds", "target"}``, ``shutdown`` ``{"notice_s", "target"}``, ``drop``
        ``{"target"}``.

        Raises:
            ValueError: an unknown key or a bad value.
        """
        self.check_keys(doc)
        try:
            if doc.get("reset"):
                self.reset()
            if "slow_snapshots_ms" in doc:
                self.slow_snapshots(int(doc["slow_snapshots_ms"]))
            for key, arm in (
                ("gap", self.skip_depth_events),
                ("duplicate", self.duplicate_depth_events),
                ("reorder", self.reorder_depth_events),
            ):
                if key in doc:
                    spec = doc[key] or {}
                    arm(int(spec.get("count", 1)), spec.get("symbol"))
            if "random" in doc:
                self.set_random(**dict(doc["random"]))
            if "stall" in doc:
                spec = doc["stall"]
                self.stall(float(spec["seconds"]), spec.get("target", TARGET_ALL))
            if "shutdown" in doc:
                spec = doc["shutdown"] or {}
                self.server_shutdown(
                    float(spec.get("notice_s", 1.0)), spec.get("target", TARGET_ALL)
                )
            if "drop" in doc:
                spec = doc["drop"] or {}
                self.drop_connections(spec.get("target", TARGET_ALL))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"bad stream fault specification: {exc!r}") from exc

    def snapshot(self) -> dict[str, Any]:
        """The armed stream faults and the injected counts, as JSON."""
        with self._lock:
            return {
                "snapshot_delay_ms": self.snapshot_delay_ms,
                "pending_depth": {
                    (key or "*"): dict(counts) for key, counts in self._depth.items()
                },
                "random": dict(self._rates),
                "injected": dict(self.injected),
            }

    # -- adapter side ----------------------------------------------------------------------------

    def _attach(self, loop: asyncio.AbstractEventLoop, listener: Listener) -> Callable[[], None]:
        """Call ``listener(fault)`` on ``loop`` for every connection fault; returns a detach
        function. Adapters only."""
        entry = (loop, listener)
        with self._lock:
            self._listeners.append(entry)

        def detach() -> None:
            with self._lock:
                if entry in self._listeners:
                    self._listeners.remove(entry)

        return detach

    def _dispatch(self, fault: ConnectionFault) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for loop, listener in listeners:
            if not loop.is_closed():
                loop.call_soon_threadsafe(listener, fault)

    def _add_depth(self, kind: str, count: int, symbol: str | None) -> None:
        _check_count(count)
        key = symbol.upper() if symbol else ""
        with self._lock:
            pending = self._depth.setdefault(key, Counter())
            pending[kind] += count

    def _depth_decision(self, symbol: str) -> str:
        """What to do with the next diff-depth event of ``symbol`` (adapters only).

        Returns one of ``"send"``, ``"skip"``, ``"duplicate"``, ``"hold"`` and counts it.
        """
        if not self._depth and not self._rates:  # fast path, no lock: the common case
            return DEPTH_SEND
        with self._lock:
            for key in (symbol, ""):
                pending = self._depth.get(key)
                if not pending:
                    continue
                for kind in ("gap", "duplicate", "reorder"):
                    if pending[kind] > 0:
                        pending[kind] -= 1
                        if pending[kind] == 0:
                            del pending[kind]
                        if not pending:
                            del self._depth[key]
                        return self._count_depth(kind)
            rng = self._random
            if rng is not None:
                for kind in ("gap", "duplicate", "reorder"):
                    rate = self._rates.get(kind)
                    if rate and rng.random() < rate:
                        return self._count_depth(kind)
        return DEPTH_SEND

    def _count_depth(self, kind: str) -> str:
        self.injected[kind] += 1
        return {"gap": DEPTH_SKIP, "duplicate": DEPTH_DUPLICATE, "reorder": DEPTH_HOLD}[kind]

    def _random_connection_faults(self, count: int) -> list[tuple[int, ConnectionFault]]:
        """For ``count`` connections, one second of random connection faults (adapters only).

        Returns ``(index, fault)`` pairs, at most one fault per connection.
        """
        if not self._rates:
            return []
        out: list[tuple[int, ConnectionFault]] = []
        with self._lock:
            rng = self._random
            if rng is None:
                return out
            drop = self._rates.get("drop", 0.0)
            stall = self._rates.get("stall", 0.0)
            shutdown = self._rates.get("shutdown", 0.0)
            if not (drop or stall or shutdown):
                return out
            for index in range(count):
                draw = rng.random()
                if draw < drop:
                    out.append((index, ConnectionFault("drop")))
                elif draw < drop + stall:
                    out.append((index, ConnectionFault("stall", seconds=self._random_stall_s)))
                elif draw < drop + stall + shutdown:
                    notice = self._random_shutdown_notice_s
                    out.append((index, ConnectionFault("shutdown", seconds=notice)))
        return out

    def _count(self, kind: str) -> None:
        """Record that a connection fault of ``kind`` was applied (adapters only)."""
        with self._lock:
            self.injected[kind] += 1
