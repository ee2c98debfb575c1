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

How a split draws its children (``_split``): the closes follow a Brownian bridge in the
children's time from the node's open to its close, plus a hump that puts the path's average at
the node's average price; wicks reach out from the bodies and the node's high and low go to its
widest children. Volumes and taker buy volumes are tilted towards the children whose prices fit
the node's average price and average buy price, so every child's average price, average buy
price and average sell price stay inside its own low..high, at every level down to seconds.
Children cut short by the listing or by the end of history move and trade in proportion to
their time, so the path arrives at the present price calmly: the last minutes before live
trading move like any other minutes. Randomness comes from bytes drawn a pass at a time, and
the common path is integer arithmetic in list comprehensions (a split of an hour into minutes
is about 0.2 ms).

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate, repeat
from operator import gt, mul
from statistics import NormalDist
from typing import Any

from binance import enums, errorcodes
from binance.helpers import interval_to_milliseconds
from binance.sim.engine import EngineError

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Kline", "KlinePlan", "Klines", "Listing"]

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


class _Units:
    """How one symbol's integers (ticks, steps, tick*step) become Decimals and wire strings.

    A wire string has at least 8 decimals (more when the unit is finer), as Binance prints
    kline values; ``"%d.%0Nd" % divmod(...)`` writes it without building a Decimal.
    """

    __slots__ = ("tick", "step", "unit", "price_fmt", "qty_fmt", "quote_fmt")

    def __init__(self, tick: Decimal, step: Decimal) -> None:
        self.tick = tick
        self.step = step
        self.unit = tick * step
        self.price_fmt = _int_format(tick)
        self.qty_fmt = _int_format(step)
        self.quote_fmt = _int_format(self.unit)

    def decimals(self, node: Sequence[int]) -> tuple[Decimal, ...]:
        """open, high, low, close, volume, quote volume, taker buy base, taker buy quote."""
        tick, step, unit = self.tick, self.step, self.unit
        return (
            tick * node[_O],
            tick * node[_H],
            tick * node[_L],
            tick * node[_C],
            step * node[_V],
            unit * node[_Q],
            step * node[_TB],
            unit * node[_TQ],
        )


def _int_format(unit: Decimal) -> tuple[int, int, str]:
    """``(multiplier, divisor, format)`` writing ``n * unit`` as ``format % divmod(n *
    multiplier, divisor)``, with ``max(8, unit's decimals)`` decimals."""
    sign, digits, exponent = unit.as_tuple()
    assert isinstance(exponent, int) and not sign
    mantissa = int("".join(map(str, digits)))
    places = max(8, -exponent)
    return mantissa * 10 ** (places + exponent), 10**places, f"%d.%0{places}d"


def _decimal_field(index: int, doc: str) -> Any:
    """A ``Kline`` property reading its ``index``-th Decimal."""

    def get(self: Kline) -> Decimal:
        return self._decimals()[index]

    return property(get, doc=doc)


class Kline:
    """One kline, in Binance's field order (``GET /api/v3/klines``).

    Attributes:
        open_time: open time, UTC ms.
        open, high, low, close: prices (Decimal).
        volume: base asset volume (Decimal).
        close_time: close time, UTC ms (the next open time minus 1).
        quote_volume: quote asset volume (Decimal).
        trades: number of trades.
        taker_buy_base, taker_buy_quote: the taker buy volumes (Decimal).

    A kline of generated history keeps the generator's integers and builds its Decimals on
    first access (a page of 1000 klines is mostly serialised with ``to_row``, which needs none).
    Klines compare equal when all their fields are equal.
    """

    __slots__ = ("open_time", "close_time", "trades", "_node", "_units", "_values")

    #: The field names, in ``GET /api/v3/klines`` order (the constructor's arguments).
    FIELDS = (
        "open_time",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "close_time",
        "quote_volume",
        "trades",
        "taker_buy_base",
        "taker_buy_quote",
    )

    def __init__(
        self,
        open_time: int,
        open: Decimal,
        high: Decimal,
        low: Decimal,
        close: Decimal,
        volume: Decimal,
        close_time: int,
        quote_volume: Decimal,
        trades: int,
        taker_buy_base: Decimal,
        taker_buy_quote: Decimal,
    ) -> None:
        self.open_time = open_time
        self.close_time = close_time
        self.trades = trades
        self._node: Sequence[int] | None = None
        self._units: _Units | None = None
        self._values: tuple[Decimal, ...] | None = (
            open,
            high,
            low,
            close,
            volume,
            quote_volume,
            taker_buy_base,
            taker_buy_quote,
        )

    @classmethod
    def _of_node(cls, open_time: int, close_time: int, node: Sequence[int], units: _Units) -> Kline:
        """A history kline from the generator's integers (Decimals built when first read)."""
        k = cls.__new__(cls)
        k.open_time = open_time
        k.close_time = close_time
        k.trades = node[_N]
        k._node = node
        k._units = units
        k._values = None
        return k

    def _decimals(self) -> tuple[Decimal, ...]:
        values = self._values
        if values is None:
            assert self._node is not None and self._units is not None
            values = self._values = self._units.decimals(self._node)
        return values

    open = _decimal_field(0, "Open price.")
    high = _decimal_field(1, "High price.")
    low = _decimal_field(2, "Low price.")
    close = _decimal_field(3, "Close price.")
    volume = _decimal_field(4, "Base asset volume.")
    quote_volume = _decimal_field(5, "Quote asset volume.")
    taker_buy_base = _decimal_field(6, "Taker buy base asset volume.")
    taker_buy_quote = _decimal_field(7, "Taker buy quote asset volume.")

    def _key(self) -> tuple[object, ...]:
        return (self.open_time, self.close_time, self.trades, self._decimals())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Kline):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS)
        return f"Kline({fields})"

    def to_row(self) -> list[object]:
        """The 12-item row of ``/api/v3/klines``: ints for times and counts, decimal strings."""
        node, units = self._node, self._units
        if node is None or units is None:
            v = self._decimals()
            return [
                self.open_time,
                _fmt(v[0]),
                _fmt(v[1]),
                _fmt(v[2]),
                _fmt(v[3]),
                _fmt(v[4]),
                self.close_time,
                _fmt(v[5]),
                self.trades,
                _fmt(v[6]),
                _fmt(v[7]),
                "0",
            ]
        pm, pd, pf = units.price_fmt
        vm, vd, vf = units.qty_fmt
        qm, qd, qf = units.quote_fmt
        return [
            self.open_time,
            pf % divmod(node[_O] * pm, pd),
            pf % divmod(node[_H] * pm, pd),
            pf % divmod(node[_L] * pm, pd),
            pf % divmod(node[_C] * pm, pd),
            vf % divmod(node[_V] * vm, vd),
            self.close_time,
            qf % divmod(node[_Q] * qm, qd),
            self.trades,
            vf % divmod(node[_TB] * vm, vd),
            qf % divmod(node[_TQ] * qm, qd),
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
def _clamp(x: int, lo: int, hi: int) -> int:
    return lo if x < lo else hi if x > hi else x


def _table(values: Iterable[float], scale: int) -> tuple[int, ...]:
    return tuple(round(x * scale) for x in values)


_QUANTILES = [NormalDist().inv_cdf((i + 0.5) / 256) for i in range(256)]
# Random draws indexed by a random byte, as integers: a split takes the bytes of a whole pass in
# one call (``Random.randbytes``) and looks them up, instead of calling the generator (or any
# function: calls dominate the cost in CPython) once per child.
_NORMAL = _table(_QUANTILES, 4096)  # standard normal, x4096
_TRADE_WEIGHT = _table((math.exp(0.6 * z) for z in _QUANTILES), 1024)  # trades' unevenness
_SIZE_WEIGHT = _table((math.exp(0.35 * z) for z in _QUANTILES), 1024)  # trade sizes' unevenness
_TAKER_NOISE = _table((0.16 * ((i + 0.5) / 256 - 0.5) for i in range(256)), 4096)
#: Wick lengths in 16 levels (a byte's high nibble): mostly short, a few long.
_WICK = tuple(0.75 * ((i + 0.5) / 16) ** 2 for i in range(16))
_HIGH_NIBBLE = bytes(i >> 4 for i in range(256))
#: A child trades with probability 1 - exp(-expected trades); above this many, every child does.
_ALL_ACTIVE = 12.0
#: How much more the path's excursions may be stretched than its typical scale to reach the
#: node's high and low (beyond it one child's wick does the rest): no outsized jumps.
_MAX_STRETCH = 3.0
_FIXED = 20  # binary places of the fixed-point factors below


def _spread(
    bases: list[int] | None, total: int, weights: Sequence[int], wsum: int, base: int = 0
) -> list[int]:
    """``total`` split in proportion to positive ``weights`` (``wsum`` is their sum), exactly,
    added to ``bases`` when given, else to ``base``."""
    if bases is None:
        out = [base + total * w // wsum for w in weights]
        rest = total + base * len(out) - sum(out)
    else:
        out = [b + total * w // wsum for b, w in zip(bases, weights, strict=True)]
        rest = sum(bases) + total - sum(out)
    # Each item lost less than one unit: fewer units than items are left.
    return _add_ones(out, rest, total) if rest else out


def _add_ones(out: list[int], rest: int, salt: int) -> list[int]:
    """One more to ``rest`` (< len) consecutive items, from an offset given by ``salt``."""
    k = len(out)
    first = salt % k
    stop = first + rest
    out[first : min(stop, k)] = [x + 1 for x in out[first : min(stop, k)]]
    if stop > k:
        out[: stop - k] = [x + 1 for x in out[: stop - k]]
    return out


def _settle(values: list[int], rest: int, room_of: Callable[[int], int], sign: int) -> None:
    """Move ``values`` by ``rest`` more units in all (up if ``sign`` > 0), each within its
    room (``room_of(j)``), taking whole rooms in order; the caller guarantees room enough."""
    for j in range(len(values)):
        if not rest:
            return
        room = room_of(j)
        if room > 0:
            step = room if room < rest else rest
            values[j] += sign * step
            rest -= step


def _fill(values: list[int], rooms: list[int], amount: int, sign: int) -> list[int]:
    """``values`` moved by ``amount`` in all (up if ``sign`` > 0), each by at most its room,
    in proportion to the rooms (to 20 bits). The caller guarantees
    ``0 <= amount <= sum(rooms)``."""
    if not amount:
        return values
    ratio = (amount << 20) // sum(rooms)  # <= 2**20: no share exceeds its room
    out = [x + sign * ((r * ratio) >> 20) for x, r in zip(values, rooms, strict=True)]
    rest = amount - sign * (sum(out) - sum(values))
    if rest:  # what the 20-bit ratio left over goes where there is room
        _settle(out, rest, lambda j: rooms[j] - sign * (out[j] - values[j]), sign)
    return out


def _tilt(weights: list[int], d: list[int], goal: float, half: int) -> list[int]:
    """``weights`` tilted so that their mean of ``d`` (centred values, at most ``half`` from
    0) is ``goal``.

    A linear tilt ``w * (1 + beta * d)`` has a weighted mean that is a ratio of two linear
    functions of beta, so beta has a closed form; it is used when it changes no weight by
    more than 90%. Further out, the squared tilt ``w * (1 + beta * d) ** 2`` (a quadratic in
    beta) reaches weight ratios of a thousand; beyond even that, an exponential one.
    """
    wd = list(map(mul, weights, d))
    s0 = sum(weights)
    s1 = sum(wd)
    s2 = sum(map(mul, wd, d))
    denominator = s2 - goal * s1
    beta = (goal * s0 - s1) / denominator if denominator else 0.0
    if -0.9 <= beta * half <= 0.9:
        tilt = round(beta * (1 << 42))  # 4096 * beta in units of 2**-30
        if not tilt:
            return weights
        return [x * (4096 + ((tilt * y) >> 30)) for x, y in zip(weights, d, strict=True)]
    # (beta^2 s3 + 2 beta s2 + s1) = goal * (beta^2 s2 + 2 beta s1 + s0)
    qa = sum(map(mul, map(mul, wd, d), d)) - goal * s2
    qb = 2 * (s2 - goal * s1)
    qc = s1 - goal * s0
    disc = qb * qb - 4 * qa * qc
    if qa and disc >= 0:
        root = math.sqrt(disc)
        betas = [
            b for b in ((-qb - root) / (2 * qa), (-qb + root) / (2 * qa)) if abs(b) * half <= 0.95
        ]
        if betas:
            tilt = round(min(betas, key=abs) * (1 << 42))
            factors = [4096 + ((tilt * y) >> 30) for y in d]
            return [x * f * f for x, f in zip(weights, factors, strict=True)]
    return _exp_tilt(weights, [y / half for y in d], goal / half)


def _cover_sides(
    highs: list[int],
    lows: list[int],
    vols: list[int],
    quotes: list[int],
    tbs: list[int],
    tqs: list[int],
    h: int,
    lo_: int,
) -> tuple[list[int], list[int]]:
    """Highs and lows widened (inside ``lo_..h``) to cover each child's average buy and sell
    prices, after a taker-quote total that the children's ranges could not hold."""
    new_highs = []
    new_lows = []
    for hi, lw, x, y, b, t in zip(highs, lows, vols, quotes, tbs, tqs, strict=True):
        for amount, value in ((b, t), (x - b, y - t)):
            if amount:
                lw = min(lw, max(lo_, value // amount))
                hi = max(hi, min(h, -(-value // amount)))
        new_highs.append(hi)
        new_lows.append(lw)
    return new_highs, new_lows


def _reach(duration: float) -> float:
    """How far the price moves in ``duration`` (in children's periods), relative to a period.

    Brownian (the square root) for whole periods; linear for a child cut short, so that the
    price settles on the node's close before its last (cut) child and the end of history is
    approached as calmly as the finer levels move, not in one coarse-level leap.
    """
    return math.sqrt(duration) if duration >= 1.0 else duration


def _exp_tilt(weights: list[int], x: list[float], goal: float) -> list[int]:
    """Integer weights ``w * exp(b * x)`` whose weighted mean of ``x`` (each in [-1, 1]) is
    ``goal`` to 1e-4, as near as ``|b| <= 30`` allows (safeguarded Newton steps on ``b``; the
    exact totals are made by the caller)."""
    exp = math.exp
    lo, hi, b = -30.0, 30.0, 0.0
    tilted: list[float] = [float(w) for w in weights]
    for _ in range(30):
        tilted = [w * exp(b * y) for w, y in zip(weights, x, strict=True)]
        total = sum(tilted)
        mean = sum(map(mul, tilted, x)) / total
        if abs(mean - goal) < 1e-4:
            break
        if mean < goal:
            lo = b
        else:
            hi = b
        variance = sum(map(mul, map(mul, tilted, x), x)) / total - mean * mean
        step = b + (goal - mean) / variance if variance > 1e-12 else (lo + hi) / 2
        b = step if lo < step < hi else (lo + hi) / 2
        if hi - lo < 1e-6:
            break
    scale = (1 << 40) / max(tilted)
    return [int(t * scale) + 1 for t in tilted]


def _split(
    node: _Node, n: int, rng: random.Random, first: float = 1.0, last: float = 1.0
) -> tuple[_Node, ...]:
    """Split one node into ``n`` consecutive children whose aggregation is exactly ``node``.

    ``first`` and ``last`` are the fractions of their period the first and last child cover
    (the listing and the end of history cut them short): trades, wicks and the price's random
    moves scale with each child's duration, so the path reaches the node's close as smoothly
    as the time left allows.

    Invariants kept (and required of ``node``): low <= open, close <= high; trades <= volume;
    trades > 0 iff volume > 0; volume*low <= quote <= volume*high; taker_base <= volume;
    taker_base <= taker_quote <= quote - (volume - taker_base) (each side's average >= 1 tick).
    When the node's own buys and sells average inside its low..high, so do its children's
    (but for a rounding unit in rare, thinly traded cases).

    Speed matters (a month of 1m klines takes 720 splits of 60): the common case is integer
    arithmetic in a few comprehensions, with random numbers looked up from random bytes, and
    the exact totals are reached by spreading remainders in proportion (one pass each).
    """
    o, h, lo_, c, v, q, nt, tb, tq = node
    if n == 1:
        return (node,)
    if nt == 0:
        return ((o, o, o, o, 0, 0, 0, 0, 0),) * n
    rnd = rng.random
    edges = first != 1.0 or last != 1.0
    rate = nt / (n - 2 + first + last) * (0.85 + 0.3 * rnd())  # expected trades per child

    # Which children trade: each with probability 1 - exp(-expected trades), at least one.
    active: list[int] | None = None
    durations = [1.0] * n  # of the active children
    durations[0] = first
    durations[-1] = last
    steps = durations  # time from the previous active child's close to this one's
    if rate * min(first, last) <= _ALL_ACTIVE:
        active = [j for j in range(n) if rnd() > math.exp(-rate * durations[j])]
        if not active:
            active = [rng.randrange(n)]
        if len(active) > nt:
            active = sorted(rng.sample(active, nt))
        if len(active) == n:
            active = None
        else:
            steps = []
            prev = 0
            for j in active:
                steps.append(sum(durations[prev : j + 1]))
                prev = j + 1
            durations = [durations[j] for j in active]
    a = n if active is None else len(active)

    # Closes: a Brownian bridge (in the children's time) added to the straight line from open to
    # close. Its excursions above and below are scaled separately so that the path comes near
    # the node's high and low, but never more than _MAX_STRETCH times its typical scale.
    span = h - lo_
    move = c - o
    if a == 1:
        closes = [c]
    else:
        z = rng.randbytes(a)
        if edges or active is not None:  # uneven time steps: floats, scaled to integers
            walk_f = list(
                accumulate([_NORMAL[b] * _reach(dt) for b, dt in zip(z, steps, strict=True)])
            )
            times_f = list(accumulate(steps))
            slope = walk_f[-1] / times_f[-1]
            bridge = [round(x - slope * t) for x, t in zip(walk_f, times_f, strict=True)]
            # 1/1024 of a child period; a node covering less than that in all (seconds of data
            # around a listing or the live cut) is scaled to 1 instead, never to 0.
            scale = 1024 if times_f[-1] * 1024 >= 1 else 1 / times_f[-1]
            times: Sequence[int] = [round(t * scale) for t in times_f]
            end = times[-1]
        else:  # a times the bridge, exactly
            normals = [_NORMAL[b] for b in z]
            total = sum(normals)
            bridge = list(accumulate([a * y - total for y in normals]))
            times = range(1, a + 1)
            end = a
        top = o if o > c else c
        bottom = c if o > c else o
        up = max(bridge)
        down = -min(bridge)
        # Orient the bridge so that the path's average leans towards the node's average
        # price (the volumes below then need little tilting); when that is near the middle of
        # the line, so that its larger excursion goes where there is more room.
        lean = q / v - (o + c) / 2
        if abs(lean) * 8 > span:
            mirror = (sum(bridge) > 0) != (lean > 0)
        else:
            mirror = (up > down) != (h - top > bottom - lo_)
        if mirror:
            up, down = down, up
        base = (span * (0.7 + 0.25 * rnd()) - abs(move)) / (up + down) if up + down else 0.0
        if base > 0:
            limit = _MAX_STRETCH * base
            i_up = bridge.index(-up if mirror else up)
            i_down = bridge.index(down if mirror else -down)
            line_up = o + move * times[i_up] / end
            line_down = o + move * times[i_down] / end
            su = min(limit, (top + (h - top) * (0.8 + 0.2 * rnd()) - line_up) / up) if up else 0
            sd = (
                min(limit, (line_down - bottom + (bottom - lo_) * (0.8 + 0.2 * rnd())) / down)
                if down
                else 0
            )
            if mirror:
                k_pos, k_neg = -round(sd * (1 << _FIXED)), -round(su * (1 << _FIXED))
            else:
                k_pos, k_neg = round(su * (1 << _FIXED)), round(sd * (1 << _FIXED))
            # The excursions' mean, from the sums of the bridge's positive and negative parts.
            total = sum(bridge)
            positive = (total + sum(map(abs, bridge))) // 2
            excursion = (k_pos * positive + k_neg * (total - positive)) / (1 << _FIXED) / a
        else:
            k_pos = k_neg = 0
            excursion = 0.0
        # A hump t * (end - t) (zero at both ends, mean 1/6 of its height) moves the path's
        # average to the node's average price, so that volumes need little tilting to match
        # it and each child's prices stay consistent with its own trades.
        hump = 6 * (q / v - (o + c) / 2 - excursion)
        line: Iterator[int]
        if isinstance(times, range):
            # The line plus hump, o + move t / a + hump t (a - t) / a^2, in fixed point: its
            # steps change by a constant, so two running sums (C loops) give it.
            first_step = round((move / a + hump * (a - 1) / (a * a)) * (1 << _FIXED))
            bend = round(2 * hump / (a * a) * (1 << _FIXED))
            line = accumulate(
                accumulate(repeat(-bend, a - 1), initial=first_step), initial=o << _FIXED
            )
            next(line)
        else:
            hump_i = round(hump)
            line = (
                (o << _FIXED) + ((move * t + hump_i * t * (end - t) // end) << _FIXED) // end
                for t in times
            )
        closes = [
            h
            if (y := (li + x * (k_pos if x > 0 else k_neg)) >> _FIXED) > h
            else lo_
            if y < lo_
            else y
            for li, x in zip(line, bridge, strict=True)
        ]
        closes[-1] = c
    opens = [o, *closes[:-1]]

    # Highs and lows: the body plus a wick, inside the node's range; the longest reach the
    # node's high and low exactly.
    reach = span / math.sqrt(a)
    wicks = [int(x * reach) for x in _WICK]
    z = rng.randbytes(a).translate(_HIGH_NIBBLE)
    highs = [
        y if (y := (op if op > cl else cl) + wicks[b]) < h else h
        for op, cl, b in zip(opens, closes, z, strict=True)
    ]
    z = rng.randbytes(a).translate(_HIGH_NIBBLE)
    lows = [
        y if (y := (cl if op > cl else op) - wicks[b]) > lo_ else lo_
        for op, cl, b in zip(opens, closes, z, strict=True)
    ]
    if edges:  # a child cut short has shorter wicks
        for j in (0, a - 1):
            f = _reach(durations[j])
            body_top = max(opens[j], closes[j])
            body_bottom = min(opens[j], closes[j])
            highs[j] = body_top + int((highs[j] - body_top) * f)
            lows[j] = body_bottom - int((body_bottom - lows[j]) * f)
    # The node's high and low go to its longest children: a child cut short (the one that
    # reaches the end of history) gets no spike it has no time for.
    i = 1 if edges and a > 2 and durations[0] < 1.0 else 0
    k = a - 1 if edges and a > 2 and durations[-1] < 1.0 else a
    if i or k < a:
        part = highs[i:k]
        highs[i + part.index(max(part))] = h
        part = lows[i:k]
        lows[i + part.index(min(part))] = lo_
    else:
        highs[highs.index(max(highs))] = h
        lows[lows.index(min(lows))] = lo_

    # Trades: at least one per active child, the rest by duration and chance.
    tw = [_TRADE_WEIGHT[b] for b in rng.randbytes(a)]
    if edges:
        tw[0] = 1 + int(tw[0] * durations[0])
        tw[-1] = 1 + int(tw[-1] * durations[-1])
    trades = _spread(None, nt - a, tw, sum(tw), 1)

    # Volumes: at least one step per trade; the rest by trades times a random trade size,
    # tilted so that the volume-weighted typical price lands near this node's average price
    # (quote / volume) and the quotes below fit inside each child's own range.
    extra = v - nt
    mid4 = [
        op + hi + lw + cl for op, hi, lw, cl in zip(opens, highs, lows, closes, strict=True)
    ]  # 4 x typical
    lowest = min(mid4)
    dev = max(mid4) - lowest
    centre = lowest + dev // 2
    half = dev - dev // 2  # the farthest typical price from centre
    d = [m - centre for m in mid4] if dev else None  # centred: small integers
    if extra > 0 and a > 1:
        w = [x * _SIZE_WEIGHT[b] for x, b in zip(trades, rng.randbytes(a), strict=True)]
        if d is not None:
            # The mean of d the extra volume needs for the node's average price.
            goal = (4 * q - sum(map(mul, trades, mid4))) / extra - centre
            w = _tilt(w, d, goal, half)
        vols = _spread(trades, extra, w, sum(w))
    elif extra > 0:
        vols = [v]
    else:
        vols = trades

    # Quote volumes: each child's volume at its typical price; the difference to the node's
    # quote goes where children have room inside their own range, else (rarely) inside the
    # node's range, widening that child's wicks so its average price stays inside them.
    quotes = [x * m // 4 for x, m in zip(vols, mid4, strict=True)]
    total = sum(quotes)
    delta = q - total
    if delta:
        # Often a rounding's worth: the largest child takes it if that moves its average
        # price by less than half the way to its high (low).
        j = vols.index(max(vols))
        room = vols[j] * highs[j] - quotes[j] if delta > 0 else quotes[j] - vols[j] * lows[j]
        if 2 * abs(delta) <= room:
            quotes[j] += delta
            delta = 0
    if delta > 0:
        room = sum(map(mul, vols, highs)) - total
        if delta <= room:
            # In proportion to each child's room x * high - quote (to 20 bits), then the rest.
            ratio = (delta << 20) // room
            quotes = [
                y + (((x * hi - y) * ratio) >> 20)
                for x, hi, y in zip(vols, highs, quotes, strict=True)
            ]
            _settle(quotes, q - sum(quotes), lambda j: vols[j] * highs[j] - quotes[j], 1)
        else:
            rooms = [x * hi - y for x, hi, y in zip(vols, highs, quotes, strict=True)]
            quotes = _fill(quotes, rooms, room, 1)
            rooms = [x * h - y for x, y in zip(vols, quotes, strict=True)]
            quotes = _fill(quotes, rooms, delta - room, 1)
            highs = [max(hi, -(-y // x)) for hi, x, y in zip(highs, vols, quotes, strict=True)]
    elif delta < 0:
        room = total - sum(map(mul, vols, lows))
        if -delta <= room:
            ratio = (-delta << 20) // room
            quotes = [
                y - (((y - x * lw) * ratio) >> 20)
                for x, lw, y in zip(vols, lows, quotes, strict=True)
            ]
            _settle(quotes, sum(quotes) - q, lambda j: quotes[j] - vols[j] * lows[j], -1)
        else:
            rooms = [y - x * lw for x, lw, y in zip(vols, lows, quotes, strict=True)]
            quotes = _fill(quotes, rooms, room, -1)
            rooms = [y - x * lo_ for x, y in zip(vols, quotes, strict=True)]
            quotes = _fill(quotes, rooms, -delta - room, -1)
            lows = [min(lw, y // x) for lw, x, y in zip(lows, vols, quotes, strict=True)]

    # Taker buy volume: near the node's buy share, tilted (like volumes) so that the buys'
    # typical price lands near the node's average buy price (taker buy quote / volume): then
    # each child's buy quote fits inside its own range.
    share = round(tb * 4096 / v)
    weights = [
        x * (y if (y := share + _TAKER_NOISE[b]) > 0 else 1)
        for x, b in zip(vols, rng.randbytes(a), strict=True)
    ]
    if d is not None and tb:
        weights = _tilt(weights, d, 4 * tq / tb - centre, half)
    tbs = _spread(None, tb, weights, sum(weights))
    if any(map(gt, tbs, vols)):  # (rare) more buys than volume: capped, the rest elsewhere
        tbs = [x if y > x else y for x, y in zip(vols, tbs, strict=True)]
        tbs = _fill(tbs, [x - y for x, y in zip(vols, tbs, strict=True)], tb - sum(tbs), 1)
    # Taker buy quote: the child's average price for its buy volume, then the difference to
    # the node's total spread where buys and sells both keep an average price inside the
    # child's low..high; (rarely) where each side keeps at least one tick.
    tqs = [y * b // x for x, y, b in zip(vols, quotes, tbs, strict=True)]
    delta = tq - sum(tqs)
    if delta:
        # Usually a rounding's worth: the child with the most buys takes it if that moves its
        # buy price by less than half the way to its bound.
        j = tbs.index(max(tbs))
        x, y, b = vols[j], quotes[j], tbs[j]
        if delta > 0:
            room = min(b * highs[j], y - (x - b) * lows[j]) - tqs[j]
        else:
            room = tqs[j] - max(b * lows[j], y - (x - b) * highs[j])
        if 2 * abs(delta) <= room:
            tqs[j] += delta
            delta = 0
    if delta > 0:
        rooms = [
            (u if (u := b * hi) < (w := y - (x - b) * lw) else w) - t
            for x, y, b, t, hi, lw in zip(vols, quotes, tbs, tqs, highs, lows, strict=True)
        ]
        room = sum(rooms)
        tqs = _fill(tqs, rooms, min(delta, room), 1)
        delta -= min(delta, room)
    elif delta < 0:
        rooms = [
            (t - u if (u := b * lw) > (w := y - (x - b) * hi) else t - w if t > w else 0)
            for x, y, b, t, hi, lw in zip(vols, quotes, tbs, tqs, highs, lows, strict=True)
        ]
        room = sum(rooms)
        tqs = _fill(tqs, rooms, min(-delta, room), -1)
        delta += min(-delta, room)
    if delta > 0:  # (rare, thin trading) the children's ranges cannot hold the buys
        # Each side keeps at least one tick; only children that have buys get buy quote.
        rooms = [
            y - x + b - t if b else 0 for x, y, b, t in zip(vols, quotes, tbs, tqs, strict=True)
        ]
        if sum(rooms) < delta:  # only for nodes made by hand
            rooms = [y - x + b - t for x, y, b, t in zip(vols, quotes, tbs, tqs, strict=True)]
        tqs = _fill(tqs, rooms, delta, 1)
        highs, lows = _cover_sides(highs, lows, vols, quotes, tbs, tqs, h, lo_)
    elif delta < 0:  # (rare) as above
        tqs = _fill(tqs, [t - b for b, t in zip(tbs, tqs, strict=True)], -delta, -1)
        highs, lows = _cover_sides(highs, lows, vols, quotes, tbs, tqs, h, lo_)

    kids = list(zip(opens, highs, lows, closes, vols, quotes, trades, tbs, tqs, strict=True))
    if active is None:
        return tuple(kids)
    out: list[_Node] = []
    price = o
    j = 0
    for i in range(n):
        if j < a and active[j] == i:
            kid = kids[j]
            out.append(kid)
            price = kid[_C]
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
        self.units = _Units(listing.tick_size, listing.step_size)
        self.tick = self.units.tick
        self.step = self.units.step
        self.unit = self.units.unit
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


@dataclass(frozen=True)
class KlinePlan:
    """What a klines query answers, before any kline is built (`Klines.plan`).

    Attributes:
        opens: the open times of the klines, in order.
        length: the interval's length in ms, or None for ``1M`` (months vary).
        settled_ms: a kline closing at or before this time lies wholly in the generated
            history: the same query always gives it the same values.
    """

    opens: Sequence[int]
    length: int | None
    settled_ms: int

    def settled(self, open_time: int) -> bool:
        """True if the kline opening at ``open_time`` can never change."""
        return self.length is not None and open_time + self.length <= self.settled_ms


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
        s, grid, opens, cut = self._plan(
            symbol, interval, start_ms, end_ms, limit, tz_offset_ms, now_ms
        )
        if grid.level is None or not opens:
            return [self._kline(s, t, nxt, min(nxt, cut)) for t, nxt in _pairs(grid, opens)]
        return self._level_klines(s, grid.level, opens, cut)

    def plan(
        self,
        symbol: str,
        interval: str,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = DEFAULT_LIMIT,
        tz_offset_ms: int = 0,
        now_ms: int,
    ) -> KlinePlan:
        """Which klines `query` with the same arguments returns, without building them.

        Cheap (no history is generated), so a caller can serve klines it kept from earlier
        answers: a kline closing by ``plan.settled_ms`` lies inside the generated history and
        never changes (`KlinePlan.settled`).

        Raises:
            EngineError: as `query`.
        """
        s, grid, opens, cut = self._plan(
            symbol, interval, start_ms, end_ms, limit, tz_offset_ms, now_ms
        )
        settled = min(s.hist_end, cut)
        return KlinePlan(opens, grid.length or None, settled)

    def _plan(
        self,
        symbol: str,
        interval: str,
        start_ms: int | None,
        end_ms: int | None,
        limit: int,
        tz_offset_ms: int,
        now_ms: int,
    ) -> tuple[_Series, _Grid, Sequence[int], int]:
        """The series, the grid, the open times `query` answers and the cut (now, floored)."""
        s = self._get(symbol)
        grid = _Grid(interval, tz_offset_ms)
        if limit < 1:
            raise EngineError(
                errorcodes.INVALID_PARAMETER, errorcodes.INVALID_PARAMETER.msg("limit")
            )
        limit = min(limit, MAX_LIMIT)
        last_time = now_ms if s.data_end is None else min(now_ms, s.data_end - 1)
        if last_time < s.start:
            return s, grid, (), 0
        first_open = grid.floor(s.start)
        current_open = grid.floor(last_time)
        if start_ms is not None and end_ms is not None and start_ms > end_ms:
            return s, grid, (), 0
        opens: Sequence[int]
        if start_ms is not None:
            if start_ms > current_open:  # after the newest kline (and maybe past datetime's range)
                return s, grid, (), 0
            t = first_open if start_ms <= first_open else grid.ceil(start_ms)
            stop = current_open if end_ms is None else min(current_open, end_ms)
            if not grid.monthly:
                opens = range(t, min(stop, t + (limit - 1) * grid.length) + 1, grid.length)
            else:
                opens = []
                while t <= stop and len(opens) < limit:
                    opens.append(t)
                    t = grid.next(t)
        else:
            top = current_open if end_ms is None else min(current_open, end_ms)
            if top < first_open:
                return s, grid, (), 0
            t = grid.floor(top)
            if not grid.monthly:
                low = max(first_open, t - (limit - 1) * grid.length)
                opens = range(t - (t - low) // grid.length * grid.length, t + 1, grid.length)
            else:
                opens = []
                while t >= first_open and len(opens) < limit:
                    opens.append(t)
                    t = grid.prev(t)
                opens.reverse()
        cut = last_time - last_time % SECOND + SECOND  # include the second containing now
        return s, grid, opens, cut

    def _level_klines(self, s: _Series, level: int, opens: Sequence[int], cut: int) -> list[Kline]:
        """Klines of an interval that is a level of the history tree (1s, 1m, 1h, 1d in UTC):
        those wholly inside history are nodes, read in runs from their parent's children."""
        length = _LEVEL_LEN[level]
        plevel = level - 1
        whole_end = min(s.hist_end, cut)  # klines closing by then are whole history nodes
        units = s.units
        of_node = Kline._of_node
        klines: list[Kline] = []
        i = 0
        count = len(opens)
        while i < count:
            t = opens[i]
            if t < s.start or t + length > whole_end:
                klines.append(self._kline(s, t, t + length, min(t + length, cut)))
                i += 1
                continue
            pstart = _month_start(t) if plevel == _MONTH else t - t % _LEVEL_LEN[plevel]
            first, kids = self._children(s, plevel, pstart)
            # The run of opens inside this parent whose klines close by whole_end.
            j = min(count, i + (min(s.period_end(plevel, pstart), whole_end) - t) // length)
            k = (t - first) // length
            klines.extend(
                map(
                    of_node,
                    opens[i:j],
                    range(t + length - 1, t + (j - i) * length, length),
                    kids[k : k + j - i],
                    repeat(units),
                )
            )
            i = j
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
        if s.start < cut <= s.hist_end:  # history only: integers until read
            node = self._hist_range(s, max(open_time, s.start), cut)
            if node is not None:
                return Kline._of_node(open_time, next_open - 1, node, s.units)
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
                o, h, lo, c, v, q, tb, tq = s.units.decimals(node)
                result = _Agg(o, h, lo, c, v, q, node[_N], tb, tq)
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
        # The listing and the end of history may cut the first and last child short.
        head = (min(first + clen, b) - a) / clen
        tail = (b - (first + (n - 1) * clen)) / clen if n > 1 else head
        result = (first, _split(parent, n, rng, head, tail))
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


def _pairs(grid: _Grid, opens: Iterable[int]) -> Iterable[tuple[int, int]]:
    for t in opens:
        yield t, grid.next(t)


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
        #: The history tree's level whose nodes are exactly this grid's klines, if any.
        self.level: int | None = None
        if self.monthly:
            self.length = 0
            self.origin = 0
        else:
            self.length = interval_to_milliseconds(interval)
            # Boundaries are multiples of the length from the epoch in local time, except
            # weeks, which start on Monday (Binance); local = utc + offset.
            self.origin = (_WEEK_ORIGIN if self.length == WEEK else 0) - self.off
            if self.length in _LEVEL_LEN[1:] and self.off % self.length == 0:
                self.level = _LEVEL_LEN.index(self.length)

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
