"""Request-weight and order-count accounting of the local exchange; decides 429 and 418.

Binance's rules (NOTES.md §3):

- ``REQUEST_WEIGHT`` per IP and ``RAW_REQUESTS`` per IP, over fixed clock-aligned windows
  (1 MINUTE resets at :00, 5 MINUTE at :00, :05...). Every REST and WebSocket API request pays its
  weight, failed ones included; order placement and cancels pay nothing when they succeed
  (``refund``).
- ``ORDERS`` per account over 10 SECOND and 1 DAY windows (successful placements count).
- /sapi endpoints: each endpoint has its own per-IP (or per-account, "UID") minute budget,
  reported in ``X-SAPI-USED-IP-WEIGHT-1M`` / ``X-SAPI-USED-UID-WEIGHT-1M``; they answer 429 and
  never ban.
- Over a limit: HTTP 429 with ``Retry-After`` (seconds until the window resets). An IP that keeps
  sending during its 429 period is banned: HTTP 418 with ``Retry-After`` until the ban ends. Bans
  escalate from 2 minutes, doubling, up to 3 days.

Every limit comes from ``SimConfig`` so tests reach it quickly. Time is passed in (ms); no
clock, no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from binance import enums, errorcodes
from binance.errorcodes import ErrorCode
from binance.sim._context import SimConfig
from binance.sim.engine import EngineError

__all__ = ["RateLimited", "RateLimiter", "Window"]

_SECOND_MS = 1000


class RateLimited(EngineError):
    """A request refused by a rate limit (429) or an IP ban (418).

    Attributes:
        retry_after_s: seconds the caller should wait (the ``Retry-After`` header).
        retry_at_ms: epoch ms when requests are accepted again (WebSocket API
            ``error.data.retryAfter``).
    """

    def __init__(self, error: ErrorCode, message: str, retry_after_s: int, retry_at_ms: int):
        super().__init__(error, message)
        self.retry_after_s = retry_after_s
        self.retry_at_ms = retry_at_ms


@dataclass(frozen=True)
class Window:
    """One fixed, clock-aligned counting window (e.g. 1 MINUTE)."""

    interval: str  # SECOND, MINUTE, HOUR, DAY
    num: int

    @property
    def length_ms(self) -> int:
        return self.num * enums.RATE_LIMIT_INTERVAL_SECONDS[self.interval] * _SECOND_MS

    @property
    def header_suffix(self) -> str:
        """``1M``, ``10S``, ``1D``: the tail of Binance's header names."""
        return f"{self.num}{enums.RATE_LIMIT_INTERVAL_LETTERS[self.interval]}"

    @property
    def text(self) -> str:
        """``1 MINUTE``: how Binance's messages name the window."""
        return f"{self.num} {self.interval}"

    def start(self, now_ms: int) -> int:
        return now_ms - now_ms % self.length_ms

    def end(self, now_ms: int) -> int:
        return self.start(now_ms) + self.length_ms


MINUTE_1 = Window(enums.RATE_LIMIT_INTERVAL_MINUTE, 1)
MINUTE_5 = Window(enums.RATE_LIMIT_INTERVAL_MINUTE, 5)
SECOND_10 = Window(enums.RATE_LIMIT_INTERVAL_SECOND, 10)
DAY_1 = Window(enums.RATE_LIMIT_INTERVAL_DAY, 1)


class _Counter:
    """Counts per key inside the current window of ``window``; older windows are forgotten."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self._counts: dict[str, tuple[int, int]] = {}

    def get(self, key: str, now_ms: int) -> int:
        start, count = self._counts.get(key, (0, 0))
        return count if start == self.window.start(now_ms) else 0

    def add(self, key: str, amount: int, now_ms: int) -> int:
        count = max(0, self.get(key, now_ms) + amount)
        self._counts[key] = (self.window.start(now_ms), count)
        return count

    def clear(self) -> None:
        self._counts.clear()


@dataclass
class _IpState:
    cooldown_until_ms: int = 0  # end of the current 429 period
    strikes: int = 0  # requests received during the 429 period
    ban_until_ms: int = 0
    bans: int = 0  # how many bans so far (escalation level)


def _ceil_s(ms: int) -> int:
    return max(1, -(-ms // _SECOND_MS))


@dataclass
class RateLimiter:
    """All of the local exchange's rate-limit state.

    Keys are IP addresses (weight, raw requests, /sapi IP weight) and account ids (orders,
    /sapi UID weight). Every method takes the server time ``now_ms``.
    """

    config: SimConfig = field(default_factory=SimConfig)

    def __post_init__(self) -> None:
        self._weight = _Counter(MINUTE_1)
        self._raw = _Counter(MINUTE_5)
        self._orders = {SECOND_10: _Counter(SECOND_10), DAY_1: _Counter(DAY_1)}
        self._sapi = _Counter(MINUTE_1)
        self._ips: dict[str, _IpState] = {}

    # -- configuration ----------------------------------------------------------------------------

    def order_limits(self) -> dict[Window, int]:
        return {SECOND_10: self.config.orders_per_10s, DAY_1: self.config.orders_per_day}

    def rate_limits(self) -> list[dict[str, object]]:
        """The ``rateLimits`` array of ``GET /api/v3/exchangeInfo`` for the configured values."""
        rows: list[tuple[str, Window, int]] = [
            (enums.RATE_LIMITER_REQUEST_WEIGHT, MINUTE_1, self.config.request_weight_per_minute),
            (enums.RATE_LIMITER_ORDERS, SECOND_10, self.config.orders_per_10s),
            (enums.RATE_LIMITER_ORDERS, DAY_1, self.config.orders_per_day),
            (enums.RATE_LIMITER_RAW_REQUESTS, MINUTE_5, self.config.raw_requests_per_5m),
        ]
        return [
            {
                "rateLimitType": kind,
                "interval": window.interval,
                "intervalNum": window.num,
                "limit": limit,
            }
            for kind, window, limit in rows
        ]

    def reset(self) -> None:
        """Forget every count and ban (tests use this between cases)."""
        self.__post_init__()

    # -- REQUEST_WEIGHT / RAW_REQUESTS per IP ------------------------------------------------------

    def admit(self, ip: str, weight: int, now_ms: int) -> None:
        """Count one request of ``weight`` from ``ip``; raise if it is over a limit or banned.

        Raises:
            RateLimited: 418 while the IP is banned (or when this request earns a ban), 429
                when the request takes the IP over REQUEST_WEIGHT or RAW_REQUESTS.
        """
        state = self._ips.setdefault(ip, _IpState())
        if state.ban_until_ms > now_ms:
            raise self._banned(state, now_ms)
        if state.cooldown_until_ms > now_ms:
            # NOTES.md §3: ignoring 429s gets the IP banned (418), with escalating lengths.
            state.strikes += 1
            if state.strikes >= self.config.ban_after_ignored_429s:
                return self._ban(state, now_ms)
        raw = self._raw.add(ip, 1, now_ms)
        used = self._weight.add(ip, weight, now_ms)
        if raw > self.config.raw_requests_per_5m:
            raise self._too_many(state, MINUTE_5, self.config.raw_requests_per_5m, now_ms, raw=True)
        if used > self.config.request_weight_per_minute:
            raise self._too_many(state, MINUTE_1, self.config.request_weight_per_minute, now_ms)

    def refund(self, ip: str, weight: int, now_ms: int) -> None:
        """Give back ``weight`` (free-on-success endpoints, NOTES.md §3)."""
        self._weight.add(ip, -weight, now_ms)

    def used_weight(self, ip: str, now_ms: int) -> int:
        """REQUEST_WEIGHT used by ``ip`` in the current minute."""
        return self._weight.get(ip, now_ms)

    def weight_headers(self, ip: str, now_ms: int) -> dict[str, str]:
        """``X-MBX-USED-WEIGHT-1M`` and the legacy ``X-MBX-USED-WEIGHT``."""
        used = str(self.used_weight(ip, now_ms))
        return {f"X-MBX-USED-WEIGHT-{MINUTE_1.header_suffix}": used, "X-MBX-USED-WEIGHT": used}

    def weight_status(self, ip: str, now_ms: int) -> list[dict[str, object]]:
        """REQUEST_WEIGHT (and RAW_REQUESTS) as WebSocket API ``rateLimits`` entries."""
        return [
            {
                "rateLimitType": enums.RATE_LIMITER_REQUEST_WEIGHT,
                "interval": MINUTE_1.interval,
                "intervalNum": MINUTE_1.num,
                "limit": self.config.request_weight_per_minute,
                "count": self.used_weight(ip, now_ms),
            }
        ]

    def ban_remaining_ms(self, ip: str, now_ms: int) -> int:
        """Milliseconds left of ``ip``'s ban (0 when not banned)."""
        state = self._ips.get(ip)
        return max(0, state.ban_until_ms - now_ms) if state else 0

    def _too_many(
        self, state: _IpState, window: Window, limit: int, now_ms: int, raw: bool = False
    ) -> RateLimited:
        end = window.end(now_ms)
        if state.cooldown_until_ms <= now_ms:
            state.strikes = 0
        state.cooldown_until_ms = max(state.cooldown_until_ms, end)
        error = errorcodes.TOO_MANY_RAW_REQUESTS if raw else errorcodes.TOO_MANY_REQUESTS
        return RateLimited(error, error.msg(limit, window.text), _ceil_s(end - now_ms), end)

    def _ban(self, state: _IpState, now_ms: int) -> None:
        seconds = min(self.config.ban_first_s * 2**state.bans, self.config.ban_max_s)
        state.bans += 1
        state.ban_until_ms = now_ms + seconds * _SECOND_MS
        state.cooldown_until_ms = 0
        state.strikes = 0
        raise self._banned(state, now_ms)

    def _banned(self, state: _IpState, now_ms: int) -> RateLimited:
        error = errorcodes.IP_BANNED
        return RateLimited(
            error,
            error.msg(state.ban_until_ms),
            _ceil_s(state.ban_until_ms - now_ms),
            state.ban_until_ms,
        )

    # -- ORDERS per account ----------------------------------------------------------------------

    def admit_orders(self, account_id: str, count: int, now_ms: int) -> None:
        """Check that ``count`` new orders fit the account's ORDERS limits (nothing counted).

        Raises:
            RateLimited: 429 ``-1015`` naming the exhausted window.
        """
        if count <= 0:
            return
        for window, limit in self.order_limits().items():
            if self._orders[window].get(account_id, now_ms) + count > limit:
                end = window.end(now_ms)
                error = errorcodes.TOO_MANY_ORDERS
                raise RateLimited(error, error.msg(limit, window.text), _ceil_s(end - now_ms), end)

    def add_orders(self, account_id: str, count: int, now_ms: int) -> None:
        """Count ``count`` successful placements for the account."""
        day = self._orders[DAY_1]
        # NOTES.md §3: once the DAY limit is hit the SECOND counter stops incrementing.
        if day.get(account_id, now_ms) < self.config.orders_per_day:
            self._orders[SECOND_10].add(account_id, count, now_ms)
        day.add(account_id, count, now_ms)

    def order_counts(self, account_id: str, now_ms: int) -> dict[Window, int]:
        return {w: c.get(account_id, now_ms) for w, c in self._orders.items()}

    def order_headers(self, account_id: str, now_ms: int) -> dict[str, str]:
        """``X-MBX-ORDER-COUNT-10S`` and ``X-MBX-ORDER-COUNT-1D`` for the account."""
        return {
            f"X-MBX-ORDER-COUNT-{w.header_suffix}": str(n)
            for w, n in self.order_counts(account_id, now_ms).items()
        }

    def order_status(self, account_id: str, now_ms: int) -> list[dict[str, object]]:
        """``GET /api/v3/rateLimit/order``: the ORDERS limiters with the account's counts."""
        counts = self.order_counts(account_id, now_ms)
        return [
            {
                "rateLimitType": enums.RATE_LIMITER_ORDERS,
                "interval": window.interval,
                "intervalNum": window.num,
                "limit": limit,
                "count": counts[window],
            }
            for window, limit in self.order_limits().items()
        ]

    # -- /sapi per-endpoint budgets ----------------------------------------------------------------

    def admit_sapi(self, path: str, key: str, weight: int, uid: bool, now_ms: int) -> None:
        """Charge ``weight`` to the endpoint's budget for ``key`` (an IP or, if ``uid``, an
        account id).

        Raises:
            RateLimited: 429 (SAPI never bans).
        """
        limit = (
            self.config.sapi_uid_weight_per_minute if uid else self.config.sapi_ip_weight_per_minute
        )
        used = self._sapi.add(self._sapi_key(path, key, uid), weight, now_ms)
        if used > limit:
            end = MINUTE_1.end(now_ms)
            error = errorcodes.TOO_MANY_REQUESTS
            raise RateLimited(error, error.msg(limit, MINUTE_1.text), _ceil_s(end - now_ms), end)

    def sapi_headers(self, path: str, key: str, uid: bool, now_ms: int) -> dict[str, str]:
        """``X-SAPI-USED-IP-WEIGHT-1M`` or ``X-SAPI-USED-UID-WEIGHT-1M`` for the endpoint."""
        used = self._sapi.get(self._sapi_key(path, key, uid), now_ms)
        name = "UID" if uid else "IP"
        return {f"X-SAPI-USED-{name}-WEIGHT-{MINUTE_1.header_suffix}": str(used)}

    @staticmethod
    def _sapi_key(path: str, key: str, uid: bool) -> str:
        return f"{'uid' if uid else 'ip'}|{path}|{key}"
