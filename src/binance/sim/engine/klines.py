"""Kline history back to each symbol's listing, generated from the seed, plus live aggregation.

History is a tree built top-down and on demand: calendar months (UTC) -> days -> hours ->
minutes -> seconds. The months follow a random path from the listing price to the present price;
each node's children are drawn from the node's own values and a hash of (seed, symbol, level,
time), so any node costs O(depth) splits, nothing is stored but small LRU caches, and the same
seed always gives the same history. A split keeps every total exact: children's volumes, quote
volumes, trade counts and taker sums add up to the parent's, the children's prices stay inside
the parent's low/high, one child reaches the high and one the low, and the last close is the
parent's close. Every interval (``1s``..``1M``, any ``timeZone`` offset) is then an aggregation of
tree nodes, so a coarse kline always equals the aggregation of the finer klines it covers.

Integer units inside: prices in ticks, quantities in steps, quote amounts in tick*step. Live
trades (``record_trade``) arrive after the history ends and are summed into 1s/1m/1h/1d buckets.

Binance's rules (NOTES.md §1.2, §4.1 klines): klines are keyed by open time; no start/end gives
the most recent ``limit``; only ``startTime`` the oldest from it; only ``endTime`` the newest up
to it; both, from start not beyond end; the kline still open is included with its data so far;
``timeZone`` shifts interval boundaries while times stay UTC epoch ms. A kline with no trades
has open = high = low = close = the previous close and zero volume.

No I/O here; must not import asyncio, aiohttp, json or the client.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import hashlib
import math
import random
from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from binance import enums, errorcodes
from binance.helpers import interval_to_milliseconds
from binance.sim.engine import EngineError

__all__ = ["Kline", "Klines", "Listing", "MAX_LIMIT", "DEFAULT_LIMIT"]

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
#: 1970-01-01 was a Thursday; Binance's weeks start on Monday 00:00 (1970-01-05).
_WEEK_ORIGIN = 4 * DAY
#: Binance's ``timeZone`` range, -12:00..+14:00 (NOTES.md §4.1).
MIN_TZ_OFFSET_MS = -12 * HOUR
MAX_TZ_OFFSET_MS = 14 * HOUR
DEFAULT_LIMIT = 500
MAX_LIMIT = 1000

# Tree levels. Children of level L have length _CHILD_LEN[L]; level 0 (months) has variable length.
_MONTH, _DAY, _HOUR, _MINUTE, _SECOND = range(5)
_LEVEL_LEN = (0, DAY, HOUR, MINUTE, SECOND)
_CHILD_LEN = (DAY, HOUR, MINUTE, SECOND)
_CACHE_SIZE = (256, 1024, 512, 512)  # split results kept per level (all symbols together)
_LIVE_TIERS = (SECOND, MINUTE, HOUR, DAY)

# A node: (open, high, low, close, volume, quote, trades, taker_base, taker_quote), all ints.
_Node = tuple[int, int, int, int, int, int, int, int, int]
_O, _H, _L, _C, _V, _Q, _N, _TB, _TQ = range(9)


@dataclass(frozen=True)
class Listing:
    """The facts kline history needs about one symbol (a subset of the markets' SymbolSpec).

    Attributes:
        symbol: the symbol name.
        listed_ms: when trading began (UTC ms); history starts here (floored to the second).
        listing_price: the first traded price.
        present_price: the price where history ends and live trading takes over.
        tick_size: price step; every price is a multiple of it.
        step_size: quantity step; every volume is a multiple of it.
        delisted_ms: when trading stopped, if it did: no klines and no trades after it.
    """

    symbol: str
    listed_ms: int
    listing_price: Decimal
    present_price: Decimal
    tick_size: Decimal
    step_size: Decimal
    delisted_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Kline:
    """One kline, in Binance's field order (``GET /api/v3/klines``)."""

    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    close_time: int
    quote_volume: Decimal
    trades: int
    taker_buy_base: Decimal
    taker_buy_quote: Decimal

    def to_row(self) -> list[object]:
        """The 12-item row of ``/api/v3/klines``: ints for times and counts, decimal strings."""
        return [
            self.open_time,
            _fmt(self.open),
            _fmt(self.high),
            _fmt(self.low),
            _fmt(self.close),
            _fmt(self.volume),
            self.close_time,
            _fmt(self.quote_volume),
            self.trades,
            _fmt(self.taker_buy_base),
            _fmt(self.taker_buy_quote),
            "0",
        ]


def _fmt(value: Decimal) -> str:
    """Plain decimal string with at least 8 decimals, as Binance prints kline values."""
    exponent = value.as_tuple().exponent
    places = max(8, -exponent) if isinstance(exponent, int) else 8
    return f"{value:.{places}f}"


def _hash64(*parts: object) -> int:
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "big")


# -- calendar helpers ------------------------------------------------------------------------------
def _month_start(ms: int) -> int:
    """UTC ms of the first day of the (UTC) month containing ``ms``."""
    days = ms // DAY
    d = _dt.date(1970, 1, 1) + _dt.timedelta(days=days)
    return (_dt.date(d.year, d.month, 1) - _dt.date(1970, 1, 1)).days * DAY


def _next_month(start: int) -> int:
    """UTC ms of the first day of the month after the one starting at ``start``."""
    d = _dt.date(1970, 1, 1) + _dt.timedelta(days=start // DAY)
    days_in = calendar.monthrange(d.year, d.month)[1]
    return start + days_in * DAY


# -- integer helpers -------------------------------------------------------------------------------
def _distribute(total: int, weights: Sequence[int], rooms: Sequence[int] | None) -> list[int]:
    """Split ``total`` into integers roughly proportional to ``weights``, each within its room.

    ``rooms=None`` means unbounded. The caller guarantees ``0 <= total <= sum(rooms)``.
    """
    k = len(weights)
    if total <= 0 or k == 0:
        return [0] * k
    if rooms is None:
        wsum = sum(weights)
        if wsum <= 0:
            weights, wsum = [1] * k, k
        out = [total * w // wsum for w in weights]
        rest = total - sum(out)
        # Fewer units than items are left (one step or tick each): spread them from an offset.
        first = total % k
        for j in range(rest):
            out[(first + j) % k] += 1
        return out
    out = [0] * k
    room = list(rooms)
    idx = [i for i in range(k) if room[i] > 0]
    remaining = total
    while remaining:
        if not idx:  # pragma: no cover - guarded by the caller's feasibility
            raise AssertionError("distribution infeasible")
        w = [weights[i] for i in idx]
        wsum = sum(w)
        if wsum <= 0:
            w, wsum = [1] * len(idx), len(idx)
        before = remaining
        for i, wi in zip(idx, w, strict=True):
            share = before * wi // wsum
            r = room[i]
            if share > r:
                share = r
            if share:
                out[i] += share
                room[i] = r - share
                remaining -= share
        if not remaining:
            break
        still = [i for i in idx if room[i] > 0]
        if len(still) == len(idx):
            # Nobody saturated, so fewer units than items are left (each has room for one).
            first = before % len(idx)
            for j in range(remaining):
                out[idx[(first + j) % len(idx)]] += 1
            break
        idx = still
    return out


def _clamp(x: int, lo: int, hi: int) -> int:
    return lo if x < lo else hi if x > hi else x


def _split(node: _Node, n: int, rng: random.Random) -> tuple[_Node, ...]:
    """Split one node into ``n`` consecutive children whose aggregation is exactly ``node``.

    Invariants kept (and required of ``node``): low <= open, close <= high; trades <= volume;
    trades > 0 iff volume > 0; volume*low <= quote <= volume*high; taker_base <= volume;
    taker_base <= taker_quote <= quote - (volume - taker_base) (each side's average >= 1 tick).
    """
    o, h, lo_, c, v, q, nt, tb, tq = node
    if nt == 0 or n == 1:
        if n == 1:
            return (node,)
        flat = (o, o, o, o, 0, 0, 0, 0, 0)
        return (flat,) * n
    # Which children trade at all: about n * (1 - e^(-trades per child)), at least one.
    rate = nt / n
    a = round(n * (1.0 - math.exp(-rate)) * rng.uniform(0.85, 1.15))
    a = max(1, min(n, nt, a))
    active = list(range(n)) if a == n else sorted(rng.sample(range(n), a))

    # Closes of the active children: the path passes near the high and the low at random
    # children (waypoints), with Brownian bridges between waypoints, clamped into [low, high].
    span = h - lo_
    closes: list[int]
    if a == 1:
        closes = [c]
    elif span == 0:
        closes = [c] * a
    elif a == 2:
        closes = [_clamp(round((o + c) / 2 + rng.gauss(0.0, span / 4)), lo_, h), c]
    else:
        j_hi, j_lo = rng.sample(range(1, a), 2)
        points = sorted(
            [
                (0, float(o)),
                (j_hi, h - span * rng.uniform(0.0, 0.12)),
                (j_lo, lo_ + span * rng.uniform(0.0, 0.12)),
                (a, float(c)),
            ]
        )
        path = [0.0] * (a + 1)
        for (i0, p0), (i1, p1) in zip(points, points[1:], strict=False):
            steps = i1 - i0
            walk = [0.0]
            for _ in range(steps):
                walk.append(walk[-1] + rng.random() - 0.5)
            sigma = span * 0.28 / math.sqrt(a)
            for k in range(1, steps + 1):
                t = k / steps
                path[i0 + k] = p0 + (p1 - p0) * t + sigma * (walk[k] - walk[-1] * t)
        closes = [_clamp(round(x), lo_, h) for x in path[1:]]
        closes[-1] = c
    wick = span * 0.15 / math.sqrt(a)
    rnd = rng.random
    highs: list[int] = []
    lows: list[int] = []
    opens: list[int] = []
    prev = o
    for cj in closes:
        opens.append(prev)
        top = max(prev, cj)
        bottom = min(prev, cj)
        if wick > 0:
            top += int(rnd() * rnd() * 3.0 * wick)
            bottom -= int(rnd() * rnd() * 3.0 * wick)
        highs.append(min(top, h))
        lows.append(max(bottom, lo_))
        prev = cj
    ih = max(range(a), key=lambda j: (highs[j], closes[j]))
    il = min(range(a), key=lambda j: (lows[j], closes[j]))
    highs[ih] = h
    lows[il] = lo_

    # Trades: at least one per active child.
    rnd = rng.random
    tw = [int(math.exp(1.2 * (rnd() + rnd() + rnd() - 1.5)) * 1_000_000) + 1 for _ in range(a)]
    trades = [1 + x for x in _distribute(nt - a, tw, None)]

    # Volumes: at least one step per trade; the rest weighted, tilted so that the volume-weighted
    # typical price lands near this node's average price (quote / volume).
    extra = v - nt
    mids = [(opens[j] + highs[j] + lows[j] + closes[j]) / 4.0 for j in range(a)]
    rnd = rng.random
    base_w = [trades[j] * math.exp(0.7 * (rnd() + rnd() + rnd() - 1.5)) for j in range(a)]
    if extra > 0 and a > 1:
        # Linear tilt w_j * (1 + beta * d_j); the weighted mean is a ratio of two linear
        # functions of beta, so beta has a closed form (clamped to keep weights positive).
        centre = sum(mids) / a
        dev = max(abs(m - centre) for m in mids)
        d = [(m - centre) / dev if dev > 0 else 0.0 for m in mids]
        fixed = sum(trades[j] * mids[j] for j in range(a))
        goal = (q - fixed) / extra  # wanted sum(w m) / sum(w) of the extra volume
        w0 = sum(base_w)
        w1 = sum(base_w[j] * d[j] for j in range(a))
        s1 = sum(base_w[j] * mids[j] for j in range(a))
        s2 = sum(base_w[j] * d[j] * mids[j] for j in range(a))
        denominator = goal * w1 - s2
        beta = (s1 - goal * w0) / denominator if denominator else 0.0
        beta = -0.9 if beta < -0.9 else 0.9 if beta > 0.9 else beta
        vw = [int(base_w[j] * (1.0 + beta * d[j]) * 1_000_000) + 1 for j in range(a)]
    else:
        vw = [int(x * 1_000_000) + 1 for x in base_w]
    vols = [trades[j] + x for j, x in enumerate(_distribute(extra, vw, None))]

    # Quote volumes: each child's volume at its typical price; the difference to the parent's
    # quote goes first where children have room inside their own range, then (rarely) inside
    # the parent's range, widening that child's wicks so its average price stays inside them.
    quotes = [
        _clamp(round(vols[j] * mids[j]), vols[j] * lows[j], vols[j] * highs[j]) for j in range(a)
    ]
    delta = q - sum(quotes)
    if delta:
        sign = 1 if delta > 0 else -1
        if sign > 0:
            own = [vols[j] * highs[j] - quotes[j] for j in range(a)]
        else:
            own = [quotes[j] - vols[j] * lows[j] for j in range(a)]
        first = min(abs(delta), sum(own))
        moved = _distribute(first, own, own)
        quotes = [quotes[j] + sign * moved[j] for j in range(a)]
        rest = abs(delta) - first
        if rest:
            if sign > 0:
                room = [vols[j] * h - quotes[j] for j in range(a)]
            else:
                room = [quotes[j] - vols[j] * lo_ for j in range(a)]
            moved = _distribute(rest, vols, room)
            quotes = [quotes[j] + sign * moved[j] for j in range(a)]
    for j in range(a):
        avg_lo = quotes[j] // vols[j]
        avg_hi = -(-quotes[j] // vols[j])
        if avg_hi > highs[j]:
            highs[j] = avg_hi
        if avg_lo < lows[j]:
            lows[j] = avg_lo

    # Taker buy volume: near the parent's buy share, then fixed to the exact total.
    share = tb / v
    tbs = [
        _clamp(round(vols[j] * min(1.0, max(0.0, share + 0.16 * (rnd() - 0.5)))), 0, vols[j])
        for j in range(a)
    ]
    delta = tb - sum(tbs)
    if delta > 0:
        add = _distribute(delta, vols, [vols[j] - tbs[j] for j in range(a)])
        tbs = [tbs[j] + add[j] for j in range(a)]
    elif delta < 0:
        sub = _distribute(-delta, vols, tbs)
        tbs = [tbs[j] - sub[j] for j in range(a)]
    # Taker buy quote: the child's average price for its buy volume, fixed to the exact total;
    # bounds keep both the buy side and the sell side at an average of at least one tick.
    lows_tq = tbs
    highs_tq = [quotes[j] - (vols[j] - tbs[j]) for j in range(a)]
    tqs = [_clamp(quotes[j] * tbs[j] // vols[j], lows_tq[j], highs_tq[j]) for j in range(a)]
    delta = tq - sum(tqs)
    weights = [x + 1 for x in tbs]
    if delta > 0:
        add = _distribute(delta, weights, [highs_tq[j] - tqs[j] for j in range(a)])
        tqs = [tqs[j] + add[j] for j in range(a)]
    elif delta < 0:
        sub = _distribute(-delta, weights, [tqs[j] - lows_tq[j] for j in range(a)])
        tqs = [tqs[j] - sub[j] for j in range(a)]

    out: list[_Node] = []
    price = o
    j = 0
    for i in range(n):
        if j < a and active[j] == i:
            out.append(
                (
                    opens[j],
                    highs[j],
                    lows[j],
                    closes[j],
                    vols[j],
                    quotes[j],
                    trades[j],
                    tbs[j],
                    tqs[j],
                )
            )
            price = closes[j]
            j += 1
        else:
            out.append((price, price, price, price, 0, 0, 0, 0, 0))
    return tuple(out)


def _combine(acc: list[int] | None, node: _Node) -> list[int]:
    """Append ``node`` (later in time) to an aggregate of integer nodes."""
    if acc is None:
        return list(node)
    if node[_H] > acc[_H]:
        acc[_H] = node[_H]
    if node[_L] < acc[_L]:
        acc[_L] = node[_L]
    acc[_C] = node[_C]
    acc[_V] += node[_V]
    acc[_Q] += node[_Q]
    acc[_N] += node[_N]
    acc[_TB] += node[_TB]
    acc[_TQ] += node[_TQ]
    return acc


# -- live buckets ----------------------------------------------------------------------------------
class _Bucket:
    __slots__ = (
        "o",
        "h",
        "l",
        "c",
        "v",
        "q",
        "n",
        "tb",
        "tq",
        "first_time",
        "last_time",
        "last_qty",
    )

    def __init__(self, time_ms: int, price: Decimal, qty: Decimal) -> None:
        self.o = self.h = self.l = self.c = price
        self.v = self.q = self.tb = self.tq = Decimal(0)
        self.n = 0
        self.first_time = time_ms
        self.last_time = time_ms
        self.last_qty = qty

    def add(
        self, time_ms: int, price: Decimal, qty: Decimal, quote: Decimal, taker_buy: bool
    ) -> None:
        if time_ms < self.first_time:  # out of order: the open is the earliest trade's price
            self.o = price
            self.first_time = time_ms
        if time_ms >= self.last_time:
            self.c = price
            self.last_time = time_ms
            self.last_qty = qty
        if price > self.h:
            self.h = price
        if price < self.l:
            self.l = price
        self.v += qty
        self.q += quote
        self.n += 1
        if taker_buy:
            self.tb += qty
            self.tq += quote


class _Agg:
    """A Decimal aggregate of history nodes and live buckets, in time order."""

    __slots__ = ("o", "h", "l", "c", "v", "q", "n", "tb", "tq")

    def __init__(
        self,
        o: Decimal,
        h: Decimal,
        lo: Decimal,
        c: Decimal,
        v: Decimal,
        q: Decimal,
        n: int,
        tb: Decimal,
        tq: Decimal,
    ) -> None:
        self.o, self.h, self.l, self.c = o, h, lo, c
        self.v, self.q, self.n, self.tb, self.tq = v, q, n, tb, tq

    def extend(self, other: _Agg) -> None:
        if other.h > self.h:
            self.h = other.h
        if other.l < self.l:
            self.l = other.l
        self.c = other.c
        self.v += other.v
        self.q += other.q
        self.n += other.n
        self.tb += other.tb
        self.tq += other.tq


class _Series:
    """Everything about one symbol: its history tree and its live buckets."""

    def __init__(self, seed: int, listing: Listing, live_since_ms: int) -> None:
        self.listing = listing
        self.symbol = listing.symbol
        self.tick = listing.tick_size
        self.step = listing.step_size
        self.unit = listing.tick_size * listing.step_size
        self.seed = seed
        self.start = listing.listed_ms // SECOND * SECOND
        end = live_since_ms // SECOND * SECOND
        self.data_end: int | None = None
        if listing.delisted_ms is not None:
            self.data_end = -(-listing.delisted_ms // SECOND) * SECOND
            end = min(end, self.data_end)
        self.hist_end = max(end, self.start)
        self.listing_ticks = max(1, int((listing.listing_price / self.tick).to_integral_value()))
        self.present_ticks = max(1, int((listing.present_price / self.tick).to_integral_value()))
        self.month_starts: list[int] = []
        self.months: list[_Node] = []
        self.month_trades_before: list[int] = []
        self._build_months()
        # Live: per tier, sorted bucket starts and the buckets.
        self.live_starts: list[list[int]] = [[] for _ in _LIVE_TIERS]
        self.live: list[dict[int, _Bucket]] = [{} for _ in _LIVE_TIERS]
        self.live_trades = 0

    # -- history --------------------------------------------------------------------------------
    def _build_months(self) -> None:
        if self.hist_end <= self.start:
            return
        rng = random.Random(_hash64(self.seed, self.symbol, "months"))
        spans: list[tuple[int, int]] = []
        m = _month_start(self.start)
        while m < self.hist_end:
            nxt = _next_month(m)
            spans.append((max(m, self.start), min(nxt, self.hist_end)))
            self.month_starts.append(m)
            m = nxt
        total = sum(b - a for a, b in spans)
        sigma_year = rng.uniform(0.55, 0.95)
        fractions = [(b - a) / (365.25 * DAY) for a, b in spans]
        walk = [0.0]
        for f in fractions:
            walk.append(walk[-1] + rng.gauss(0.0, sigma_year * math.sqrt(f)))
        ln0 = math.log(self.listing_ticks)
        ln1 = math.log(self.present_ticks)
        elapsed = 0
        logs = [ln0]
        for k, (a, b) in enumerate(spans):
            elapsed += b - a
            t = elapsed / total
            logs.append(ln0 + (ln1 - ln0) * t + walk[k + 1] - walk[-1] * t)
        trades_per_day = rng.uniform(20_000, 120_000)
        trade_size = max(20.0, rng.lognormvariate(math.log(800), 0.5))
        counted = 0
        for k, (a, b) in enumerate(spans):
            o = self.listing_ticks if k == 0 else self.months[-1][_C]
            c = self.present_ticks if k == len(spans) - 1 else max(1, round(math.exp(logs[k + 1])))
            sig = sigma_year * math.sqrt(fractions[k])
            h = max(o, c, round(max(o, c) * math.exp(abs(rng.gauss(0.0, 0.6 * sig)))))
            lo = min(o, c, max(1, round(min(o, c) * math.exp(-abs(rng.gauss(0.0, 0.6 * sig))))))
            days = (b - a) / DAY
            nt = max(1, round(trades_per_day * days * rng.lognormvariate(0.0, 0.3)))
            v = max(nt, round(nt * trade_size * rng.lognormvariate(0.0, 0.2)))
            q = _clamp(round(v * (o + h + lo + c) / 4.0), v * lo, v * h)
            tb = round(v * rng.uniform(0.46, 0.54))
            tq = _clamp(q * tb // v, tb, q - (v - tb))
            self.months.append((o, h, lo, c, v, q, nt, tb, tq))
            self.month_trades_before.append(counted)
            counted += nt

    def period_end(self, level: int, start: int) -> int:
        return _next_month(start) if level == _MONTH else start + _LEVEL_LEN[level]


_EMPTY: tuple[_Node, ...] = ()


class Klines:
    """Kline history for every listed symbol, plus live klines built from recorded trades.

    Args:
        seed: seeds the whole history (same seed, same klines).
        listings: the symbols and their history anchors.
        live_since_ms: where history ends (floored to the second) and live trades begin.

    Example:
        >>> k = Klines(1, [Listing("BTCUSDT", 1502928000000, Decimal("4261.48"),
        ...     Decimal("95000"), Decimal("0.01"), Decimal("0.00001"))], 1735689600000)
        >>> len(k.query("BTCUSDT", "1d", limit=3, now_ms=1735689600000))
        3
    """

    def __init__(self, seed: int, listings: Iterable[Listing], live_since_ms: int) -> None:
        self.seed = seed
        self.live_since_ms = live_since_ms
        self._series: dict[str, _Series] = {}
        for listing in listings:
            self._series[listing.symbol] = _Series(seed, listing, live_since_ms)
        self._caches: list[OrderedDict[tuple[str, int], tuple[int, tuple[_Node, ...]]]] = [
            OrderedDict() for _ in _CACHE_SIZE
        ]

    # -- public ---------------------------------------------------------------------------------
    @property
    def symbols(self) -> list[str]:
        """The symbols with history, in the order given."""
        return list(self._series)

    def add_listing(self, listing: Listing) -> None:
        """Add a symbol after construction (its history ends at ``live_since_ms`` too)."""
        self._series[listing.symbol] = _Series(self.seed, listing, self.live_since_ms)

    def history_end_ms(self, symbol: str) -> int:
        """Where ``symbol``'s generated history ends and live trades begin (second-aligned)."""
        return self._get(symbol).hist_end

    def record_trade(
        self,
        symbol: str,
        time_ms: int,
        price: Decimal,
        qty: Decimal,
        quote_qty: Decimal,
        is_buyer_maker: bool,
    ) -> None:
        """Add one live trade to the klines (the engine calls this for every fill).

        Raises:
            EngineError: -1121 unknown symbol.
            ValueError: the trade is before the end of history or after delisting.
        """
        s = self._get(symbol)
        if time_ms < s.hist_end:
            raise ValueError(f"live trade at {time_ms} is inside history (ends {s.hist_end})")
        if s.data_end is not None and time_ms >= s.data_end:
            raise ValueError(f"{symbol} is delisted since {s.data_end}")
        taker_buy = not is_buyer_maker
        for tier, length in enumerate(_LIVE_TIERS):
            start = time_ms - time_ms % length
            bucket = s.live[tier].get(start)
            if bucket is None:
                bucket = _Bucket(time_ms, price, qty)
                s.live[tier][start] = bucket
                starts = s.live_starts[tier]
                if not starts or starts[-1] < start:
                    starts.append(start)
                else:
                    insort(starts, start)
            bucket.add(time_ms, price, qty, quote_qty, taker_buy)
        s.live_trades += 1

    def query(
        self,
        symbol: str,
        interval: str,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = DEFAULT_LIMIT,
        tz_offset_ms: int = 0,
        now_ms: int,
    ) -> list[Kline]:
        """Klines as ``GET /api/v3/klines`` returns them (NOTES.md §1.2, §4.1).

        Args:
            symbol: the symbol.
            interval: one of ``enums.KLINE_INTERVALS``.
            start_ms: only klines opening at or after this time (UTC ms).
            end_ms: only klines opening at or before this time (UTC ms).
            limit: at most this many klines (1..1000; larger values are capped at 1000).
            tz_offset_ms: ``timeZone`` as an offset in ms (-12 h..+14 h, whole seconds);
                interval boundaries are local, returned times stay UTC.
            now_ms: the clock; the kline containing it is the last one, with data so far.

        Returns:
            The klines in time order; empty when nothing matches (including ``start > end``,
            which Binance spot answers with an empty list).

        Raises:
            EngineError: -1121 unknown symbol, -1120 bad interval, -1130 bad limit or timeZone.
        """
        s = self._get(symbol)
        grid = _Grid(interval, tz_offset_ms)
        if limit < 1:
            raise EngineError(
                errorcodes.INVALID_PARAMETER, errorcodes.INVALID_PARAMETER.msg("limit")
            )
        limit = min(limit, MAX_LIMIT)
        last_time = now_ms if s.data_end is None else min(now_ms, s.data_end - 1)
        if last_time < s.start:
            return []
        first_open = grid.floor(s.start)
        current_open = grid.floor(last_time)
        if start_ms is not None and end_ms is not None and start_ms > end_ms:
            return []
        opens: list[int] = []
        if start_ms is not None:
            t = first_open if start_ms <= first_open else grid.ceil(start_ms)
            stop = current_open if end_ms is None else min(current_open, end_ms)
            while t <= stop and len(opens) < limit:
                opens.append(t)
                t = grid.next(t)
        else:
            top = current_open if end_ms is None else min(current_open, end_ms)
            if top < first_open:
                return []
            t = grid.floor(top)
            while t >= first_open and len(opens) < limit:
                opens.append(t)
                t = grid.prev(t)
            opens.reverse()
        klines: list[Kline] = []
        cut = last_time - last_time % SECOND + SECOND  # include the second containing now
        for t in opens:
            nxt = grid.next(t)
            klines.append(self._kline(s, t, nxt, min(nxt, cut)))
        return klines

    def first_open_time(self, symbol: str, interval: str, tz_offset_ms: int = 0) -> int:
        """Open time of ``symbol``'s first kline of ``interval`` (the one containing its listing).

        Raises:
            EngineError: -1121 unknown symbol, -1120 bad interval, -1130 bad timeZone.
        """
        s = self._get(symbol)
        return _Grid(interval, tz_offset_ms).floor(s.start)

    def price_at(self, symbol: str, time_ms: int) -> Decimal:
        """Price of the last trade at or before ``time_ms`` (second resolution in history).

        Before the listing this is the listing price; at the end of history it is exactly the
        listing's ``present_price`` (rounded to the tick), so the live market can start there.

        Raises:
            EngineError: -1121 unknown symbol.
        """
        s = self._get(symbol)
        if time_ms >= s.hist_end:
            last = self._last_live(s, time_ms)
            if last is not None:
                return last.c
            if s.hist_end <= s.start:
                return s.tick * s.listing_ticks
            return s.tick * s.months[-1][_C]
        if time_ms < s.start:
            return s.tick * s.listing_ticks
        return s.tick * self._node(s, _SECOND, time_ms - time_ms % SECOND)[_C]

    def trade_count_before(self, symbol: str, time_ms: int) -> int:
        """Number of trades since the listing before ``time_ms`` (second resolution).

        Live trade ids continue history's: the engine should number live trades from
        ``trade_count_before(symbol, history_end_ms(symbol))`` (0-based ids), so that
        ``firstId``/``lastId`` in tickers line up.

        Raises:
            EngineError: -1121 unknown symbol.
        """
        s = self._get(symbol)
        t = time_ms - time_ms % SECOND
        count = 0
        hist_b = min(t, s.hist_end)
        if hist_b > s.start:
            agg = self._hist_range(s, s.start, hist_b)
            count += agg[_N] if agg is not None else 0
        if t > s.hist_end:
            live = self._live_range(s, s.hist_end, t)
            count += live.n if live is not None else 0
        return count

    # -- internals used by stats -----------------------------------------------------------------
    def _get(self, symbol: str) -> _Series:
        try:
            return self._series[symbol]
        except KeyError:
            raise EngineError(errorcodes.BAD_SYMBOL) from None

    def _series_of(self, symbol: str) -> _Series:
        return self._get(symbol)

    def range_agg(self, symbol: str, start_ms: int, end_ms: int) -> _Agg | None:
        """Aggregate of all trades in ``[start_ms, end_ms)`` (both second-aligned), or None."""
        return self._range(self._get(symbol), start_ms, end_ms)

    def last_trade(self, symbol: str, time_ms: int) -> tuple[int, Decimal, Decimal] | None:
        """``(time, price, qty)`` of the last trade at or before ``time_ms``, or None.

        History trades are known per second; their time within the second and the quantity of
        the last one are derived deterministically from the seed.
        """
        s = self._get(symbol)
        if time_ms >= s.hist_end:
            live = self._last_live(s, time_ms)
            if live is not None:
                return live.last_time, live.c, live.last_qty
        t = min(time_ms, s.hist_end - 1)
        if t < s.start:
            return None
        found = self._last_active_second(s, t)
        if found is None:
            return None
        sec, node = found
        offset = _hash64(self.seed, s.symbol, "t", sec) % SECOND
        when = min(sec + offset, time_ms)
        qty_steps = node[_V] - (node[_N] - 1) * (node[_V] // node[_N])
        return when, s.tick * node[_C], s.step * qty_steps

    # -- kline assembly ------------------------------------------------------------------------
    def _kline(self, s: _Series, open_time: int, next_open: int, cut: int) -> Kline:
        agg = self._range(s, max(open_time, s.start), cut) if cut > s.start else None
        if agg is None:
            price = self._price_before(s, open_time)
            return Kline(
                open_time,
                price,
                price,
                price,
                price,
                s.step * 0,
                next_open - 1,
                s.unit * 0,
                0,
                s.step * 0,
                s.unit * 0,
            )
        return Kline(
            open_time,
            agg.o,
            agg.h,
            agg.l,
            agg.c,
            agg.v,
            next_open - 1,
            agg.q,
            agg.n,
            agg.tb,
            agg.tq,
        )

    def _price_before(self, s: _Series, time_ms: int) -> Decimal:
        """Last price strictly before ``time_ms`` (the close a tradeless kline repeats)."""
        if time_ms <= s.start:
            return s.tick * s.listing_ticks
        return self.price_at(s.symbol, time_ms - 1)

    def _range(self, s: _Series, a: int, b: int) -> _Agg | None:
        """Aggregate of ``[a, b)``: history nodes then live buckets. None when nothing traded
        live and the range is outside history."""
        result: _Agg | None = None
        ha, hb = max(a, s.start), min(b, s.hist_end)
        if ha < hb:
            node = self._hist_range(s, ha, hb)
            if node is not None:
                tick, step, unit = s.tick, s.step, s.unit
                result = _Agg(
                    tick * node[_O],
                    tick * node[_H],
                    tick * node[_L],
                    tick * node[_C],
                    step * node[_V],
                    unit * node[_Q],
                    node[_N],
                    step * node[_TB],
                    unit * node[_TQ],
                )
        la = max(a, s.hist_end)
        if la < b:
            live = self._live_range(s, la, b)
            if live is not None:
                if result is None:
                    result = live
                else:
                    result.extend(live)
        return result

    # -- history tree --------------------------------------------------------------------------
    def _children(self, s: _Series, level: int, pstart: int) -> tuple[int, tuple[_Node, ...]]:
        """The children of node ``(level, pstart)``: (first child's start, children)."""
        cache = self._caches[level]
        key = (s.symbol, pstart)
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
            return hit
        parent = self._node(s, level, pstart)
        pend = s.period_end(level, pstart)
        a = max(pstart, s.start)
        b = min(pend, s.hist_end)
        clen = _CHILD_LEN[level]
        first = a - (a - pstart) % clen
        n = -(-(b - first) // clen)
        rng = random.Random(_hash64(s.seed, s.symbol, level, pstart))
        result = (first, _split(parent, n, rng))
        cache[key] = result
        if len(cache) > _CACHE_SIZE[level]:
            cache.popitem(last=False)
        return result

    def _node(self, s: _Series, level: int, start: int) -> _Node:
        if level == _MONTH:
            return s.months[bisect_left(s.month_starts, start)]
        plevel = level - 1
        pstart = _month_start(start) if plevel == _MONTH else start - start % _LEVEL_LEN[plevel]
        first, kids = self._children(s, plevel, pstart)
        return kids[(start - first) // _LEVEL_LEN[level]]

    def _hist_range(self, s: _Series, a: int, b: int) -> list[int] | None:
        """Aggregate of history nodes covering ``[a, b)`` (inside history, second-aligned)."""
        # Fast path: [a, b) is exactly the data of one node (a 1s/1m/1h/1d kline, say).
        for level in (_DAY, _HOUR, _MINUTE, _SECOND):
            length = _LEVEL_LEN[level]
            ns = a - a % length
            if b - ns > length:
                break
            if max(ns, s.start) == a and min(ns + length, s.hist_end) == b:
                return list(self._node(s, level, ns))
        acc: list[int] | None = None
        i = bisect_right(s.month_starts, a) - 1
        while i < len(s.month_starts):
            ms = s.month_starts[i]
            if ms >= b:
                break
            me = _next_month(ms)
            lo, hi = max(ms, s.start), min(me, s.hist_end)
            if a <= lo and hi <= b:
                acc = _combine(acc, s.months[i])
            else:
                acc = self._cover(s, _MONTH, ms, max(a, lo), min(b, hi), acc)
            i += 1
        return acc

    def _cover(
        self, s: _Series, level: int, pstart: int, a: int, b: int, acc: list[int] | None
    ) -> list[int] | None:
        first, kids = self._children(s, level, pstart)
        clen = _CHILD_LEN[level]
        i0 = (a - first) // clen
        i1 = (b - 1 - first) // clen
        leaf = level + 1 == _SECOND
        for i in range(i0, i1 + 1):
            cs = first + i * clen
            ce = cs + clen
            # A node holds data only for [max(cs, start), min(ce, hist_end)).
            if leaf or (a <= max(cs, s.start) and min(ce, s.hist_end) <= b):
                acc = _combine(acc, kids[i])
            else:
                acc = self._cover(s, level + 1, cs, max(a, cs), min(b, ce), acc)
        return acc

    def _last_active_second(self, s: _Series, t: int) -> tuple[int, _Node] | None:
        i = bisect_right(s.month_starts, t) - 1
        while i >= 0:
            if s.months[i][_N] > 0:
                found = self._last_active_in(s, _MONTH, s.month_starts[i], t)
                if found is not None:
                    return found
            i -= 1
        return None

    def _last_active_in(
        self, s: _Series, level: int, pstart: int, t: int
    ) -> tuple[int, _Node] | None:
        first, kids = self._children(s, level, pstart)
        clen = _CHILD_LEN[level]
        i = min(len(kids) - 1, (t - first) // clen)
        while i >= 0:
            node = kids[i]
            if node[_N] > 0:
                cs = first + i * clen
                if level + 1 == _SECOND:
                    return cs, node
                found = self._last_active_in(s, level + 1, cs, t)
                if found is not None:
                    return found
            i -= 1
        return None

    # -- live ----------------------------------------------------------------------------------
    def _live_range(self, s: _Series, a: int, b: int) -> _Agg | None:
        return self._live_tier(s, len(_LIVE_TIERS) - 1, a, b, None)

    def _live_tier(self, s: _Series, tier: int, a: int, b: int, acc: _Agg | None) -> _Agg | None:
        if a >= b:
            return acc
        length = _LIVE_TIERS[tier]
        if tier > 0:
            ca = -(-a // length) * length
            cb = b - b % length
            if ca >= cb:
                return self._live_tier(s, tier - 1, a, b, acc)
            acc = self._live_tier(s, tier - 1, a, ca, acc)
            acc = self._live_buckets(s, tier, ca, cb, acc)
            return self._live_tier(s, tier - 1, cb, b, acc)
        return self._live_buckets(s, 0, a, b, acc)

    def _live_buckets(self, s: _Series, tier: int, a: int, b: int, acc: _Agg | None) -> _Agg | None:
        starts = s.live_starts[tier]
        buckets = s.live[tier]
        for k in range(bisect_left(starts, a), bisect_left(starts, b)):
            bk = buckets[starts[k]]
            if acc is None:
                acc = _Agg(bk.o, bk.h, bk.l, bk.c, bk.v, bk.q, bk.n, bk.tb, bk.tq)
            else:
                acc.extend(_Agg(bk.o, bk.h, bk.l, bk.c, bk.v, bk.q, bk.n, bk.tb, bk.tq))
        return acc

    def _last_live(self, s: _Series, time_ms: int) -> _Bucket | None:
        starts = s.live_starts[0]
        k = bisect_right(starts, time_ms) - 1
        return s.live[0][starts[k]] if k >= 0 else None


class _Grid:
    """Kline open times of one interval in one time zone (all times UTC ms)."""

    def __init__(self, interval: str, tz_offset_ms: int) -> None:
        if interval not in enums.KLINE_INTERVALS:
            raise EngineError(errorcodes.BAD_INTERVAL)
        if not MIN_TZ_OFFSET_MS <= tz_offset_ms <= MAX_TZ_OFFSET_MS or tz_offset_ms % SECOND:
            raise EngineError(
                errorcodes.INVALID_PARAMETER, errorcodes.INVALID_PARAMETER.msg("timeZone")
            )
        self.off = tz_offset_ms
        self.monthly = interval == enums.KLINE_INTERVAL_1MONTH
        if self.monthly:
            self.length = 0
            self.origin = 0
        else:
            self.length = interval_to_milliseconds(interval)
            # Boundaries are multiples of the length from the epoch in local time, except
            # weeks, which start on Monday (Binance); local = utc + offset.
            self.origin = (_WEEK_ORIGIN if self.length == WEEK else 0) - self.off

    def floor(self, t: int) -> int:
        if self.monthly:
            return _month_start(t + self.off) - self.off
        return t - (t - self.origin) % self.length

    def ceil(self, t: int) -> int:
        f = self.floor(t)
        return f if f == t else self.next(f)

    def next(self, t: int) -> int:
        if self.monthly:
            return _next_month(t + self.off) - self.off
        return t + self.length

    def prev(self, t: int) -> int:
        if self.monthly:
            return _month_start(t + self.off - 1) - self.off
        return t - self.length
