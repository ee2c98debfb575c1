"""Weight and order budgets fed by Binance's own counters: "may I send, or wait how long?".

Binance counts request weight per IP in fixed, clock-aligned windows (1 MINUTE resets at :00) and
reports the count it holds in every answer (``X-MBX-USED-WEIGHT-1M``; ``X-MBX-ORDER-COUNT-10S``
and ``-1D`` per account for orders; ``X-SAPI-USED-IP-WEIGHT-1M`` / ``-UID-`` for /sapi). A 429
carries ``Retry-After``; ignoring it earns a 418 ban of 2 minutes up to 3 days (NOTES.md §3).

The governor keeps, per limit, the server's last reported count for the current window plus the
weight of requests in flight. `Governor.try_acquire` reserves weight for one request or answers
how many seconds to wait: until the window rolls over (plus a pad for clock error) or until a
``Retry-After`` has passed. `Governor.release` replaces the reservation with the server's count.
`Governor.delay_for` asks the same question without reserving anything, for callers that queue
their own work (the depth cache managers hold snapshots back in their own queue, so that a
resync asked for meanwhile can still go first).
Limits start at Binance's documented values and are replaced by the live ones from any
``exchangeInfo`` answer (``rateLimits``) or 429 message the clients see.

One governor is shared by every client of the process that talks to the same host
(`Governor.for_host`), because Binance's limits are per IP. It is thread-safe (one lock held for
arithmetic only) and never sleeps itself: sync drivers ``time.sleep`` and async drivers
``await asyncio.sleep`` for the seconds it returns, so it never blocks an event loop.

No I/O here; times (server milliseconds) are passed in.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from binance import enums

__all__ = ["Governor", "Ticket", "LimitKey", "DISCOVER"]

_SECOND = 1000
_INTERVAL_MS = {
    letter: seconds * _SECOND
    for name, seconds in enums.RATE_LIMIT_INTERVAL_SECONDS.items()
    for letter in (enums.RATE_LIMIT_INTERVAL_LETTERS[name],)
}
_INTERVAL_NAME_MS = {
    name: seconds * _SECOND for name, seconds in enums.RATE_LIMIT_INTERVAL_SECONDS.items()
}

# Our names for the counters that are not in exchangeInfo's rateLimits.
SAPI_IP = "SAPI_IP_WEIGHT"
SAPI_UID = "SAPI_UID_WEIGHT"

#: (limiter type, window length in ms)
LimitKey = tuple[str, int]

#: Binance's documented defaults (NOTES.md §3), replaced by live values when seen.
DEFAULT_LIMITS: dict[LimitKey, int] = {
    (enums.RATE_LIMITER_REQUEST_WEIGHT, 60 * _SECOND): 6000,
    (enums.RATE_LIMITER_RAW_REQUESTS, 300 * _SECOND): 300_000,
    (SAPI_IP, 60 * _SECOND): 12_000,
    (SAPI_UID, 60 * _SECOND): 180_000,
}

_HEADER_RE = re.compile(
    r"^x-(mbx-used-weight|mbx-order-count|sapi-used-ip-weight|sapi-used-uid-weight)"
    r"(?:-(\d+)([smhd]))?$"
)
_HEADER_KIND = {
    "mbx-used-weight": enums.RATE_LIMITER_REQUEST_WEIGHT,
    "mbx-order-count": enums.RATE_LIMITER_ORDERS,
    "sapi-used-ip-weight": SAPI_IP,
    "sapi-used-uid-weight": SAPI_UID,
}
_LIMIT_MSG_RE = re.compile(
    r"current limit is (\d+) (request weight|orders) per (\d+)?\s*([A-Za-z]+)", re.IGNORECASE
)


@dataclass
class _Bucket:
    kind: str
    interval_ms: int
    limit: int
    window_start: int = -1
    used: int = 0  # the server's count for window_start (or our local charge when unknown)
    reserved: int = 0  # weight of requests in flight

    def _window(self, now_ms: int, pad_ms: int) -> tuple[int, int]:
        """``(window start, count in it)`` at ``now_ms``, without changing anything."""
        # A window is over once the server's clock is surely past its end: our estimate of
        # the server's time may be early by up to pad_ms.
        start = (now_ms - pad_ms) // self.interval_ms * self.interval_ms
        if start > self.window_start:
            return start, 0
        return self.window_start, self.used

    def roll(self, now_ms: int, pad_ms: int) -> None:
        self.window_start, self.used = self._window(now_ms, pad_ms)

    def wait_ms(self, amount: int, now_ms: int, pad_ms: int) -> int:
        """Milliseconds until ``amount`` fits (0: now); read-only, rolls over by itself."""
        window_start, used = self._window(now_ms, pad_ms)
        if used + self.reserved + amount <= self.limit:
            return 0
        if used + self.reserved == 0:
            return 0  # a single request heavier than the limit: it can only go alone
        return window_start + self.interval_ms + pad_ms - now_ms


class _Discover:
    def __repr__(self) -> str:
        return "DISCOVER"


#: `Governor.try_acquire`'s answer when the caller should fetch the live limits first.
DISCOVER = _Discover()


@dataclass
class Ticket:
    """Weight reserved for one request; hand it back to `Governor.release`."""

    charges: list[tuple[_Bucket, int, int]] = field(default_factory=list)  # bucket, amount, window
    released: bool = False


class Governor:
    """Request-weight and order-count budgets for one host (see the module docstring).

    Args:
        limits: starting limits, ``{(limiter, window_ms): limit}``; Binance's by default.
        pad_ms: safety margin for clock error at window boundaries.
        headroom: fraction of each limit we allow ourselves (leaves room for other processes
            on the same IP and for the header lag of requests in flight).
    """

    _registry: dict[str, Governor] = {}
    _registry_lock = threading.Lock()

    def __init__(
        self,
        limits: Mapping[LimitKey, int] | None = None,
        *,
        pad_ms: int = 500,
        headroom: float = 0.95,
    ) -> None:
        self._lock = threading.Lock()
        self.pad_ms = pad_ms
        self.headroom = headroom
        self._ip: dict[LimitKey, _Bucket] = {}
        self._accounts: dict[str, dict[LimitKey, _Bucket]] = {}
        self._raw_limits: dict[LimitKey, int] = {}  # Binance's limits, before headroom
        self._blocked_until = -1
        self._inflight = 0
        #: True once the limits are Binance's live ones (an exchangeInfo answer, a 429 message,
        #: or limits given to the constructor); until then at most one request is in flight
        #: besides the one that discovers them (`DISCOVER`).
        self.confirmed = limits is not None
        self._discovering = False
        #: How many 429 and 418 answers this governor has seen (for monitoring and tests).
        self.rejections: dict[int, int] = {429: 0, 418: 0}
        for key, limit in (limits or DEFAULT_LIMITS).items():
            self._set_limit(key, limit)

    @classmethod
    def for_host(cls, host: str) -> Governor:
        """The process-wide governor for ``host`` (scheme://host:port), created on first use."""
        with cls._registry_lock:
            governor = cls._registry.get(host)
            if governor is None:
                governor = cls._registry[host] = cls()
            return governor

    # -- limits ------------------------------------------------------------------------------------

    def _scaled(self, limit: int) -> int:
        return max(1, int(limit * self.headroom))

    def _set_limit(self, key: LimitKey, limit: int) -> None:
        kind, interval = key
        self._raw_limits[key] = limit
        if kind == enums.RATE_LIMITER_ORDERS:
            for buckets in self._accounts.values():
                self._bucket(buckets, key).limit = self._scaled(limit)
            return
        self._bucket(self._ip, key).limit = self._scaled(limit)

    def _bucket(self, buckets: dict[LimitKey, _Bucket], key: LimitKey) -> _Bucket:
        bucket = buckets.get(key)
        if bucket is None:
            limit = self._raw_limits.get(key) or DEFAULT_LIMITS.get(key) or 1 << 62
            bucket = buckets[key] = _Bucket(key[0], key[1], self._scaled(limit))
        return bucket

    def update_limits(self, rate_limits: Iterable[Mapping[str, Any]]) -> None:
        """Adopt the ``rateLimits`` list of an ``exchangeInfo`` answer."""
        with self._lock:
            for item in rate_limits:
                try:
                    interval = _INTERVAL_NAME_MS[item["interval"]] * int(item.get("intervalNum", 1))
                    key = (str(item["rateLimitType"]), interval)
                    self._set_limit(key, int(item["limit"]))
                except (KeyError, TypeError, ValueError):
                    continue  # a limiter we do not know (e.g. CONNECTIONS): nothing to govern
            self.confirmed = True
            self._discovering = False

    def discovery_failed(self) -> None:
        """The limits could not be fetched: keep Binance's documented ones and stop asking."""
        with self._lock:
            self.confirmed = True
            self._discovering = False

    def limits(self) -> dict[LimitKey, int]:
        """The limits in force (after headroom), for inspection."""
        with self._lock:
            out = {key: bucket.limit for key, bucket in self._ip.items()}
            for key, limit in self._raw_limits.items():
                if key[0] == enums.RATE_LIMITER_ORDERS:  # per account: no bucket here
                    out[key] = self._scaled(limit)
            return out

    def usage(self, now_ms: int | None = None) -> tuple[int, int]:
        """``(used, limit)`` of the 1-minute request-weight budget (``X-MBX-USED-WEIGHT-1M``).

        ``used`` is the server's count from the last answer in the current minute plus the
        weight of requests in flight; ``limit`` is Binance's limit (live once seen), without
        this governor's headroom. Read-only: nothing is reserved or rolled over.

        Args:
            now_ms: the server's time (estimated); when the minute of the last answer is surely
                over by then (``pad_ms`` past its end), the count is 0. None: the last known
                count, whatever its minute.
        """
        key = (enums.RATE_LIMITER_REQUEST_WEIGHT, 60 * _SECOND)
        with self._lock:
            limit = self._raw_limits.get(key, DEFAULT_LIMITS[key])
            bucket = self._ip.get(key)
            if bucket is None:
                return 0, limit
            used = bucket.used
            if now_ms is not None:
                # The same roll-over rule as try_acquire (our clock may be early by pad_ms),
                # so this is the budget the governor acts on.
                _, used = bucket._window(now_ms, self.pad_ms)
            return used + bucket.reserved, limit

    # -- reserve / release -------------------------------------------------------------------------

    def try_acquire(
        self,
        now_ms: int,
        *,
        weight: int,
        sapi: bool = False,
        uid_weight: bool = False,
        orders: int = 0,
        account: str | None = None,
        discovery: bool = False,
    ) -> Ticket | float | _Discover:
        """Reserve budget for one request, or say how long to wait first.

        Args:
            now_ms: the server's time (estimated).
            weight: the request's weight.
            sapi: True for /sapi endpoints (their own IP/UID counters).
            uid_weight: the /sapi endpoint is weighted per account rather than per IP.
            orders: unfilled orders the request may add (ORDERS limiter, per account).
            account: the API key (orders and UID weight are per account).
            discovery: this is the request fetching the live limits (after `DISCOVER`).

        Returns:
            A `Ticket` when the request may go now; `DISCOVER` when the caller should first
            fetch the live limits (``exchangeInfo``) and hand them to `update_limits` (or call
            `discovery_failed`); else the seconds to wait before asking again.
        """
        with self._lock:
            if now_ms < self._blocked_until:
                return (self._blocked_until - now_ms) / 1000
            if not self.confirmed and not discovery and self._inflight > 0:
                # Limits unverified and a second request wants to go: a wrong guess would let
                # several requests land after a 429, and ignored 429s earn a ban (NOTES.md §3).
                if not self._discovering:
                    self._discovering = True
                    return DISCOVER
                return 0.02
            wanted = self._wanted(weight, sapi, uid_weight, orders, account)
            wait = self._wait_ms(wanted, now_ms)
            if wait > 0:
                return wait / 1000
            ticket = Ticket()
            self._inflight += 1
            for bucket, amount in wanted:
                bucket.roll(now_ms, self.pad_ms)  # the charge belongs to the current window
                bucket.reserved += amount
                ticket.charges.append((bucket, amount, bucket.window_start))
            return ticket

    def delay_for(
        self,
        now_ms: int,
        *,
        weight: int,
        sapi: bool = False,
        uid_weight: bool = False,
        orders: int = 0,
        account: str | None = None,
    ) -> float:
        """Seconds until a request would get budget (0.0: it would now), reserving nothing.

        The wait `try_acquire` would answer for the same arguments (a ``Retry-After`` block, or
        the roll-over of every window the request does not fit in), as the counts stand now.
        Nothing is reserved or counted, so the answer is advice: requests of others may take
        the room meanwhile, and the request itself still goes through `try_acquire`. The
        limit-discovery rule (`DISCOVER`) concerns the request's sender and is left out.

        Args:
            now_ms: the server's time (estimated).
            weight, sapi, uid_weight, orders, account: as for `try_acquire`.
        """
        with self._lock:
            if now_ms < self._blocked_until:
                return (self._blocked_until - now_ms) / 1000
            wanted = self._wanted(weight, sapi, uid_weight, orders, account)
            return self._wait_ms(wanted, now_ms) / 1000

    def _wait_ms(self, wanted: list[tuple[_Bucket, int]], now_ms: int) -> int:
        """Milliseconds until every bucket has room for its amount (the longest roll-over)."""
        return max(
            (bucket.wait_ms(amount, now_ms, self.pad_ms) for bucket, amount in wanted), default=0
        )

    def _wanted(
        self, weight: int, sapi: bool, uid_weight: bool, orders: int, account: str | None
    ) -> list[tuple[_Bucket, int]]:
        """The buckets one request draws on, with the amount it draws on each."""
        wanted: list[tuple[_Bucket, int]] = []
        if sapi:
            kind = SAPI_UID if uid_weight else SAPI_IP
            buckets = self._account(account) if uid_weight else self._ip
            wanted.append((self._bucket(buckets, (kind, 60 * _SECOND)), weight))
        else:
            for bucket in self._ip.values():
                if bucket.kind == enums.RATE_LIMITER_REQUEST_WEIGHT:
                    wanted.append((bucket, weight))
        for bucket in self._ip.values():
            if bucket.kind == enums.RATE_LIMITER_RAW_REQUESTS:
                wanted.append((bucket, 1))
        if orders:
            for bucket in self._account(account).values():
                if bucket.kind == enums.RATE_LIMITER_ORDERS:
                    wanted.append((bucket, orders))
        return wanted

    def _account(self, account: str | None) -> dict[LimitKey, _Bucket]:
        key = account or ""
        buckets = self._accounts.get(key)
        if buckets is None:
            buckets = self._accounts[key] = {}
            for limit_key in self._raw_limits:
                if limit_key[0] == enums.RATE_LIMITER_ORDERS:
                    self._bucket(buckets, limit_key)
        return buckets

    def release(
        self,
        ticket: Ticket,
        now_ms: int,
        headers: Mapping[str, str] | None = None,
        *,
        status: int = 0,
        retry_after_s: float | None = None,
        account: str | None = None,
    ) -> None:
        """Hand back a reservation and record what the server said about its counters.

        Args:
            ticket: from `try_acquire`.
            now_ms: the server's time (estimated) when the answer arrived.
            headers: the answer's headers with **lower-case** names (None if no answer).
            status: HTTP status (429 and 418 block every request until ``retry_after_s``).
            retry_after_s: the ``Retry-After`` header, in seconds.
            account: the API key the request used.
        """
        with self._lock:
            if ticket.released:
                return
            ticket.released = True
            self._inflight -= 1
            counts: dict[LimitKey, int] = {}
            for name, value in (headers or {}).items():
                match = _HEADER_RE.match(name)
                if match is None:
                    continue
                if match.group(2):
                    interval = int(match.group(2)) * _INTERVAL_MS[match.group(3).upper()]
                else:
                    interval = 60 * _SECOND  # legacy X-MBX-USED-WEIGHT: the 1-minute count
                try:
                    counts[(_HEADER_KIND[match.group(1)], interval)] = int(value)
                except ValueError:
                    continue
            for bucket, amount, window in ticket.charges:
                bucket.reserved -= amount
                bucket.roll(now_ms, self.pad_ms)
                count = counts.get((bucket.kind, bucket.interval_ms))
                if window != bucket.window_start:
                    # The window turned while the request was in flight: the server may have
                    # counted it in the new one, and its header may be the old window's count.
                    bucket.used += amount
                elif count is not None:
                    bucket.used = max(bucket.used, count)
                else:
                    # No answer, or an answer without counters: charge our own estimate.
                    bucket.used += amount
            if status in (418, 429):
                self.rejections[status] += 1
                wait_ms = int((retry_after_s if retry_after_s is not None else 60) * 1000)
                self._blocked_until = max(self._blocked_until, now_ms + wait_ms + self.pad_ms)

    def cancel(self, ticket: Ticket) -> None:
        """Hand back a reservation for a request that was never sent."""
        with self._lock:
            if not ticket.released:
                ticket.released = True
                self._inflight -= 1
                for bucket, amount, _window in ticket.charges:
                    bucket.reserved -= amount

    def note_limit_message(self, message: str) -> None:
        """Learn a limit from a 429 message ("current limit is 6000 request weight per 1M")."""
        match = _LIMIT_MSG_RE.search(message or "")
        if match is None:
            return
        limit, what, count, unit = match.groups()
        unit = unit.upper()
        if unit in _INTERVAL_NAME_MS:
            interval = _INTERVAL_NAME_MS[unit]
        elif unit[:1] in _INTERVAL_MS:
            interval = _INTERVAL_MS[unit[:1]]
        else:
            return
        interval *= int(count or 1)
        kind = (
            enums.RATE_LIMITER_ORDERS
            if what.lower() == "orders"
            else enums.RATE_LIMITER_REQUEST_WEIGHT
        )
        with self._lock:
            self._set_limit((kind, interval), int(limit))
            if kind == enums.RATE_LIMITER_REQUEST_WEIGHT:
                self.confirmed = True

    def blocked_for(self, now_ms: int) -> float:
        """Seconds left of a Retry-After block (0 when none)."""
        with self._lock:
            return max(0.0, (self._blocked_until - now_ms) / 1000)

    def __repr__(self) -> str:
        with self._lock:
            parts = [
                f"{kind}/{interval // 1000}s={b.used}+{b.reserved}/{b.limit}"
                for (kind, interval), b in self._ip.items()
            ]
        return f"Governor({', '.join(parts)})"
