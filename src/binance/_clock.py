"""The server's clock as seen from here: an offset measured with round-trip correction.

Signed requests carry ``timestamp`` and Binance rejects them with ``-1021`` when it is more than
``recvWindow`` behind, or 1000 ms ahead of, the server's clock (NOTES.md §1.4). We keep
``server_ms = local_monotonic_ms + offset``: one ``GET /api/v3/time`` sent at local ``t0`` and
answered at ``t1`` with ``S`` gives ``offset = S - (t0 + t1) / 2``, exact to within half the round
trip. Among samples the one with the shortest round trip wins (NTP's rule). The local clock is the
monotonic one, so a wall-clock jump on this machine cannot move the estimate.

Pure and thread-safe: times are passed in; no I/O here, no imports from the client.
"""

from __future__ import annotations

import threading
import time

__all__ = ["ServerClock", "monotonic_ms"]


def monotonic_ms() -> int:
    """Local monotonic time in milliseconds (the clock `ServerClock` works from)."""
    return time.monotonic_ns() // 1_000_000


class ServerClock:
    """Estimate of the server's time, shared by every client talking to one host.

    Before the first measurement the estimate is this machine's wall clock. ``needs_sync`` says
    when a measurement is due: never measured, invalidated after a ``-1021``, or older than
    ``max_age_ms``.

    Args:
        max_age_ms: re-measure after this long (drift of the monotonic clock is tiny, but
            the server's own clock may be stepped).
        wall_ms: wall clock now, in ms (injected by tests).
        mono_ms: monotonic clock now, in ms (injected by tests).
    """

    def __init__(
        self,
        *,
        max_age_ms: int = 15 * 60 * 1000,
        wall_ms: int | None = None,
        mono_ms: int | None = None,
    ) -> None:
        wall = time.time_ns() // 1_000_000 if wall_ms is None else wall_ms
        mono = monotonic_ms() if mono_ms is None else mono_ms
        self._lock = threading.Lock()
        self.max_age_ms = max_age_ms
        #: server_ms = mono_ms + offset_ms
        self.offset_ms = wall - mono
        #: half the round trip of the sample in use (how wrong the estimate may be); None
        #: until measured.
        self.uncertainty_ms: int | None = None
        #: bumped by every invalidation, so that one -1021 among many concurrent requests
        #: triggers one re-measurement, not one per request.
        self.generation = 0
        self._measured_at: int | None = None
        self._stale = True

    def server_ms(self, mono_ms: int) -> int:
        """The server's time when the local monotonic clock reads ``mono_ms``."""
        return mono_ms + self.offset_ms

    def needs_sync(self, mono_ms: int) -> bool:
        """True when the offset should be (re)measured before the next signed request."""
        measured = self._measured_at
        return self._stale or measured is None or mono_ms - measured > self.max_age_ms

    def observe(self, sent_mono_ms: int, server_ms: int, received_mono_ms: int) -> None:
        """Take one ``GET /api/v3/time`` sample (sent at, server said, received at).

        A sample replaces the current one if the estimate is stale or if its round trip is
        shorter; a fresh estimate is never replaced by a sloppier one.
        """
        rtt = max(0, received_mono_ms - sent_mono_ms)
        offset = server_ms - (sent_mono_ms + received_mono_ms) // 2
        with self._lock:
            half = (rtt + 1) // 2
            fresh = not self.needs_sync(received_mono_ms)
            if fresh and self.uncertainty_ms is not None and half > self.uncertainty_ms:
                return
            self.offset_ms = offset
            self.uncertainty_ms = half
            self._measured_at = received_mono_ms
            self._stale = False

    def invalidate(self, generation: int | None = None) -> None:
        """Mark the estimate stale (after ``-1021``).

        Args:
            generation: the `generation` the failed request was stamped with; if the clock
                has been invalidated since, this call does nothing.
        """
        with self._lock:
            if generation is not None and generation != self.generation:
                return
            self.generation += 1
            self._stale = True

    def __repr__(self) -> str:
        return (
            f"ServerClock(offset_ms={self.offset_ms}, uncertainty_ms={self.uncertainty_ms}, "
            f"stale={self._stale})"
        )
