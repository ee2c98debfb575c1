"""A local order book: sorted price levels with cheap updates and cheap top-k reads.

`OrderBook` holds two `BookSide` objects (``book.bids``, ``book.asks``). A side maps a price to
a quantity; setting a quantity of zero removes the level, and removing a level that is not there
is a no-op. Reads return the best levels first (highest bid, lowest ask) as ``[price, quantity]``
lists of floats, or of `decimal.Decimal` on request.

This module knows nothing of update ids, JSON or sockets (`binance._depthsync` does the
sequencing, `binance.depthcache` the wiring). No I/O here; it imports only the standard library,
sortedcontainers and the optional C extension ``binance._cbook``.

Two implementations of a side, with the same behaviour (``tests/test_orderbook_c.py`` drives
both with the same random operations, garbage included, and compares every answer):

- `CBookSide`, in C (``src/binance/_cbook.c``), built by ``pip install`` where a C compiler
  exists. It is `BookSide` when it imports, unless the environment variable
  ``BINANCE_PURE_PYTHON`` is set to anything but ``""`` or ``"0"`` (read once, at import).
  `ACCELERATED` says which one is active.
- `PyBookSide`, pure Python: the fallback, and the reference the C side is tested against.

Why C (``benchmarks/bench_orderbook.py``; the README quotes the numbers): per depth event, the
target is half the rate of ``orjson.loads`` alone. The pure side reaches about a tenth: a plain
``dict.update`` of the levels alone already runs at 0.4 of that rate, and ordering, parsing and
Python calls take the rest. In C a level costs about as much as orjson spends creating it.

How the C side works (details in the C file's header):

- Levels sit in blocks of at most 64, sorted best first by a key: the price as a double,
  negated for bids. Finding a price scans one block's keys; inserting or removing near the top
  moves only that block's levels, and a quantity of zero removes the level at once.
- Prices and quantities are parsed once, on update, by a digit parser (correctly rounded, like
  ``float()``; other spellings go through ``float()`` itself). A price of at most 15 digits has
  a double no other such price has; two prices sharing a double (16+ digits) are ordered by
  their exact decimal text, so ordering is exact and different prices never merge.
- No Python object is kept per level: a quantity is kept as its digits and scale (the
  coefficient and exponent of ``Decimal(text)``), a short price's digits follow from its key,
  and other texts are copied to a side arena. Updating a level frees nothing cold.
- Float reads build rows from the stored doubles, reusing the list the previous small read
  returned when the caller dropped it; Decimal reads rebuild the texts. ``OrderBook.crossed``
  compares two stored best levels: O(1).
- ``DepthSync.on_event``'s common case (synced book, continuing event) runs in C: DepthSync
  derives from ``binance._cbook.SyncCore``, and ``DepthCache`` from ``binance._cbook.DepthReads``
  (``get_bids``/``get_asks`` read C sides in one call). Both bases are used only when
  `ACCELERATED`; their pure-Python stand-ins live beside the classes they serve.

How the pure side keys prices:

- Levels arrive as decimal strings (``"0.01000000"``). So a side stores the **strings as
  received**: ``{price text: quantity text}``, updated with one C-level ``dict.update`` per
  message once the batch's shape and quantities are checked. Only a price text the side has
  never seen is parsed (to place it in the sorted index).
- The sorted index (`sortedcontainers.SortedList`, O(log n) insert and remove) holds one sort key
  per price: ``float(price)``, negated for bids so that both sides iterate best first. Floats
  order correctly and are cheap to compare; ``float`` is monotonic, so it can only fail by giving
  two different prices the same key (more than ~15 significant digits). A new price whose key is
  already taken is checked exactly with `Decimal`: the same value written differently
  (``"0.0100"`` vs ``"0.01000000"``) is merged into the known text; a genuinely different value
  switches that side to exact `Decimal` keys for good.
- A quantity of zero leaves a *tombstone* (the text stays, with a zero quantity): a price that
  comes back later costs nothing to re-insert. Reads skip tombstones; those piling up in front of
  the best price are purged as reads pass over them, and a compaction drops all of them whenever
  they make up half of the side.
- Reads go through a small *window*: the entries from the best price down to a few levels past
  the deepest ``k`` asked for, with each level's row converted once. An update marks the window
  stale only if it touches one of the window's prices (one C-level ``set.isdisjoint``), and a
  stale window re-parses only the quantities whose text changed. So ``top(5)`` after an update
  away from the top is a list copy, and after an update at the top costs a few conversions.
- Decimal results are built from the stored texts, so they are exact whatever the key.

Spelling: prices written differently but equal are one level, which keeps the text it was set
with when it appeared (the pure side may keep an older spelling of a removed level; Decimal
results are equal either way). A price that is not a plain decimal (``"1e-2"``) is kept by the
C side in plain form (``Decimal("0.01")``).

Trusted range: a side can be told that levels past some price are unknown (a REST snapshot only
lists the best N levels; NOTES.md section 10: "levels outside the snapshot are unknown until they
change"). Reads then never return a level past that price, even one a later update set: levels
between the snapshot's deepest price and it could exist unseen, so it cannot be reported as part
of a contiguous top. See `PyBookSide.replace` and `PyBookSide.horizon`.
"""

from __future__ import annotations

import math
import os
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from itertools import islice
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from sortedcontainers import SortedList  # type: ignore[import-untyped]

try:
    from binance import _cbook
except ImportError:  # installed without a C compiler: pure Python only
    _cbook = None  # type: ignore[assignment]

__all__ = ["ACCELERATED", "BookSide", "CBookSide", "Level", "OrderBook", "PyBookSide"]

#: True if `BookSide` is the C implementation: ``binance._cbook`` was built and the
#: environment variable ``BINANCE_PURE_PYTHON`` is unset, empty or ``0``.
ACCELERATED: bool = _cbook is not None and os.environ.get("BINANCE_PURE_PYTHON", "") in ("", "0")

#: ``binance._cbook`` if `ACCELERATED`, else None: the C bases of
#: `binance._depthsync.DepthSync` and `binance.depthcache.DepthCache` come from it.
active_cbook = _cbook if ACCELERATED else None

#: One price level as returned to users: ``[price, quantity]``.
Level = list[Any]

# A sort key: float(price) (negated for bids), or Decimal once a side needed exact keys.
_Key = float | Decimal

_first = itemgetter(0)

#: A window holds this many live levels beyond the deepest ``k`` read so far, so a level
#: removed at the top rarely forces a walk of the index.
_SLACK = 2
#: Reads deeper than this walk the index instead of growing the window.
_WINDOW_MAX = 256
#: Leading tombstones tolerated in the window before they are purged from the side.
_LEAD_PURGE = 8
#: Size below which a side never compacts its tombstones.
_COMPACT_MIN = 1024


def _text(value: Any) -> str:
    """Normalise one price or quantity given as a number to a plain decimal string."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise TypeError(f"price and quantity must be str, int, float or Decimal, not {value!r}")
    dec = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not dec.is_finite():
        raise ValueError(f"price and quantity must be finite, not {value!r}")
    return format(dec, "f")


def _price_error(text: Any) -> Exception | None:
    """Why ``text`` is not a usable price, or None (the rule both implementations apply)."""
    if type(text) is not str:
        return TypeError(f"prices must be decimal strings, not {text!r}")
    try:
        value = float(text)
    except ValueError as exc:
        return exc
    if not 0.0 < value < math.inf:
        return ValueError(f"price must be a finite positive number, not {text!r}")
    return None


def _quantity_error(text: Any) -> Exception | None:
    """Why ``text`` is not a usable quantity, or None (zero is usable: it removes the level)."""
    if not isinstance(text, str):
        return TypeError(f"quantities must be decimal strings, not {text!r}")
    try:
        value = float(text)
    except ValueError as exc:
        return exc
    if not 0.0 <= value < math.inf:
        return ValueError(f"quantity must be a finite non-negative number, not {text!r}")
    return None


def _pair(level: Any) -> tuple[Any, Any]:
    """``level`` as a ``(price, quantity)`` tuple; TypeError or ValueError if it is not a pair."""
    try:
        pair = tuple(level)
    except TypeError:
        raise TypeError(f"a level must be a [price, quantity] pair, not {level!r}") from None
    if len(pair) != 2:
        raise ValueError(f"a level must be a [price, quantity] pair, not {level!r}")
    return pair


def _is_zero(qty: str) -> bool:
    """True if a quantity text is zero (cheap for Binance's plain decimal strings)."""
    if not qty.strip("0."):
        return True
    if qty.replace(".", "", 1).isdigit():
        return False
    return float(qty) == 0.0


class PyBookSide:
    """One side of an order book: price -> quantity, iterated best price first (pure Python).

    Prices and quantities are given as decimal strings, as Binance sends them (``"0.01000000"``);
    `set` also accepts numbers. A quantity of zero removes the level. `BookSide` is this class
    or the C one, `CBookSide`, which behaves the same.

    Args:
        side: ``"bids"`` (best = highest price) or ``"asks"`` (best = lowest price).
    """

    __slots__ = (
        "_bids",
        "_compact_at",
        "_cover",
        "_dirty",
        "_end",
        "_exact",
        "_horizon",
        "_horizon_text",
        "_key",
        "_keys",
        "_qty",
        "_rows",
        "_text",
        "_want",
        "_win",
        "_wtexts",
        "side",
    )

    def __init__(self, side: Literal["bids", "asks"]) -> None:
        if side not in ("bids", "asks"):
            raise ValueError(f"side must be 'bids' or 'asks', not {side!r}")
        self.side: str = side
        """``"bids"`` or ``"asks"``."""
        self._bids = side == "bids"
        self._clear_all()

    # -- state ------------------------------------------------------------------------------------
    def _clear_all(self) -> None:
        self._qty: dict[str, str] = {}  # price text -> quantity text ("0..." = tombstone)
        self._keys = SortedList()  # sort keys of every price text in _qty, best first
        self._text: dict[_Key, str] = {}  # sort key -> price text
        self._key: dict[str, _Key] = {}  # price text -> sort key
        self._exact = False  # keys are Decimal (two prices shared a float key)
        self._horizon: _Key | None = None  # keys past this are untrusted; None: all trusted
        self._horizon_text: str | None = None  # the horizon's price text (None if infinite)
        self._compact_at = _COMPACT_MIN
        self._want = 0
        self._drop_window()

    def _drop_window(self) -> None:
        # Window entries are [key, price text, quantity text seen, row or None for a tombstone].
        self._win: list[list[Any]] | None = None
        self._wtexts: set[str] = set()
        self._cover: _Key | None = None  # the window holds every indexed key <= _cover
        self._end = False  # ...and every trusted key, when True
        self._rows: list[Level] = []  # live rows of the window, best first
        self._dirty = True

    def clear(self) -> None:
        """Remove every level and trust the whole side again."""
        self._clear_all()

    # -- updates ----------------------------------------------------------------------------------
    def set(self, price: Any, quantity: Any) -> None:
        """Set one level's quantity; zero removes the level.

        Args:
            price: Decimal string as Binance sends it, or an int, float or `Decimal`.
            quantity: Same; ``0`` (in any spelling) removes the level.
        """
        self.update(((_text(price), _text(quantity)),))

    def update(self, levels: Sequence[Sequence[str]]) -> None:
        """Apply ``[price, quantity]`` string pairs in order (a diff event's ``b`` or ``a``).

        The pairs must be decimal strings (what ``orjson.loads`` gives for a depth message); use
        `set` for numbers. Later pairs win over earlier ones for the same price. Prices written
        differently but equal (``"0.0100"``, ``"0.01000000"``) are one level, which keeps the
        text it was first set with.

        Raises:
            ValueError: A price is not a finite positive decimal string, a quantity not a finite
                non-negative one, or a level is not a pair.
            TypeError: A price or quantity is not a string, or a level is not a sequence.
            On either error the good pairs are applied (up to a malformed pair, which stops the
            batch) and the bad ones skipped; the first error is raised; the side stays
            consistent.
        """
        if type(levels) is not list and type(levels) is not tuple:
            levels = list(levels)
        try:
            batch: dict[str, str] = dict(levels)  # type: ignore[arg-type]  # checks the shapes
            texts = "".join(batch.values())  # TypeError unless every quantity is a str
            total = sum(map(float, batch.values()))  # ValueError unless all are numbers
        except (TypeError, ValueError):
            self._update_slow(levels)
            return
        # The slow path checks pair by pair when a price comes twice, a quantity may be negative
        # ("-" is rare: "-0" is fine) or one is NaN or infinite (then so is the total).
        if len(batch) != len(levels) or "-" in texts or not total < math.inf:
            self._update_slow(levels)
            return
        self._apply(levels, batch)

    def _update_slow(self, levels: Iterable[Any]) -> None:
        """`update` one pair at a time, for a batch holding something bad."""
        error: Exception | None = None
        for level in levels:
            try:
                price, quantity = _pair(level)
            except (TypeError, ValueError) as exc:
                error = error or exc
                break  # a malformed pair stops the batch (as dict.update does)
            problem = _price_error(price) or _quantity_error(quantity)
            if problem is None:
                try:
                    self._apply(((price, quantity),), {price: quantity})
                except ValueError as exc:
                    problem = exc
            if problem is not None:
                error = error or problem
        if error is not None:
            raise error

    def _apply(self, levels: Sequence[Sequence[str]], batch: dict[str, str]) -> None:
        """Apply pairs whose shape and quantities are valid; raises the first bad price's error."""
        qty = self._qty
        count = len(qty)
        qty.update(batch)  # C speed; only prices never seen before need more work
        if len(qty) != count:
            self._index_new(levels, batch)
        elif not self._dirty and not self._wtexts.isdisjoint(batch):
            self._dirty = True

    def _make_key(self, text: Any) -> _Key:
        if type(text) is not str:
            raise TypeError(f"prices must be decimal strings, not {text!r}")
        value = float(text)  # raises ValueError for non-numbers
        if not 0.0 < value < math.inf:
            raise ValueError(f"price must be a finite positive number, not {text!r}")
        key: _Key = Decimal(text) if self._exact else value
        return -key if self._bids else key

    def _index_new(self, levels: Sequence[Sequence[str]], batch: dict[str, str]) -> None:
        """Index the price texts of ``batch`` that `_apply` just added to ``_qty``."""
        aliases: dict[str, str] = {}
        errors: dict[str, Exception] = {}
        for text in set(batch).difference(self._key):  # the new price texts (C speed)
            if text in self._key:  # _go_exact replaced the key map while this loop ran
                continue
            try:
                key = self._make_key(text)
                known = self._text.get(key)
                if known is None and key == self._horizon and self._horizon_text is not None:
                    known = self._horizon_text  # the horizon is a price too: compare exactly
                    if Decimal(known) == Decimal(text):
                        known = None
                if known is not None and Decimal(known) != Decimal(text):
                    self._go_exact()  # two prices, one float: switch this side to Decimal keys
                    key = self._make_key(text)
                    known = self._text.get(key)
            except (TypeError, ValueError, InvalidOperation) as exc:
                self._qty.pop(text, None)  # skip the bad pair
                errors[text] = exc if not isinstance(exc, InvalidOperation) else ValueError(text)
                continue
            if known is not None:
                aliases[text] = known  # same price, other spelling: keep the known text
            else:
                self._insert(key, text)
        if aliases:
            self._merge_aliases(levels, aliases)
        if not self._dirty and not self._wtexts.isdisjoint(batch):
            self._dirty = True
        if len(self._qty) > self._compact_at:
            self._compact()
        if errors:  # raise the error of the first bad price in the batch
            raise next(errors[text] for text in batch if text in errors)

    def _insert(self, key: _Key, text: str) -> None:
        self._keys.add(key)
        self._text[key] = text
        self._key[text] = key
        win = self._win
        if win is None:
            return
        cover = self._cover
        if (cover is not None and key <= cover) or (
            self._end and (self._horizon is None or key <= self._horizon)
        ):
            win.insert(bisect_left(win, key, key=_first), [key, text, None, None])
            self._wtexts.add(text)
            self._dirty = True

    def _merge_aliases(self, levels: Iterable[Sequence[str]], aliases: dict[str, str]) -> None:
        qty = self._qty
        key_of = self._key
        for level in levels:  # replay the batch in order so the last pair still wins
            text = level[0]
            target = aliases.get(text)
            if target is None and text in key_of:
                target = text  # a known text also written in another spelling in this batch
            if target is not None:
                qty[target] = level[1]
        for text in aliases:
            del qty[text]
        self._dirty = True

    def _go_exact(self) -> None:
        self._exact = True
        sign = -1 if self._bids else 1
        self._key = {text: sign * Decimal(text) for text in self._key}  # indexed texts only
        self._text = {key: text for text, key in self._key.items()}
        self._keys = SortedList(self._text)
        if self._horizon_text is not None:
            self._horizon = sign * Decimal(self._horizon_text)
        self._drop_window()

    def _compact(self) -> None:
        """Drop every tombstone; schedule the next compaction at twice the live size."""
        # A text with no digit 1-9 is zero; anything else stays (reads parse it exactly).
        live = {text: q for text, q in self._qty.items() if q.strip("0.")}
        key_of = self._key
        self._qty = live
        self._key = {text: key_of[text] for text in live}
        self._text = {key: text for text, key in self._key.items()}
        self._keys = SortedList(self._text)
        self._compact_at = max(_COMPACT_MIN, 2 * len(live))
        self._drop_window()

    def replace(self, levels: Iterable[Sequence[Any]], *, complete: bool = True) -> None:
        """Replace the whole side with ``levels`` (a REST snapshot's ``bids`` or ``asks``).

        Args:
            levels: ``[price, quantity]`` pairs, strings or numbers.
            complete: False if ``levels`` may be only the best part of the side (a snapshot with
                as many levels as its ``limit``): prices past the deepest listed level are then
                untrusted and never reported (see `horizon`).
        """
        self._clear_all()
        self.update([(_text(p), _text(q)) for p, q in levels])
        if not complete:
            live = [self._key[t] for t, q in self._qty.items() if not _is_zero(q)]
            if live:
                self._horizon = max(live)
                self._horizon_text = self._text[self._horizon]
            else:
                self._horizon = -math.inf
            self._drop_window()

    @property
    def horizon(self) -> Decimal | None:
        """The worst price this side vouches for, or None if the whole side is trusted.

        Reads stop at this price. After ``replace(..., complete=False)`` of an empty side,
        nothing is trusted and the horizon is ``Decimal("Infinity")`` for bids (no price is
        above it) and ``Decimal("-Infinity")`` for asks.
        """
        if self._horizon is None:
            return None
        if self._horizon_text is None:
            return Decimal("Infinity") if self._bids else Decimal("-Infinity")
        return Decimal(self._horizon_text)

    # -- reads ------------------------------------------------------------------------------------
    def top(self, k: int | None = None, *, decimal: bool = False) -> list[Level]:
        """The best ``k`` levels (all trusted levels if ``k`` is None), best first.

        Args:
            k: How many levels; None for all. O(k) when the top has not changed since the last
                read, O(k + changed levels) otherwise; ``k`` above 256 or None walks the side.
            decimal: Return `Decimal` prices and quantities (exact) instead of floats.

        Returns:
            New ``[price, quantity]`` lists; mutating them does not affect the book.
        """
        if k is None or k > _WINDOW_MAX:
            return self._walk(k, decimal)
        if k <= 0:
            return []
        if self._dirty or (len(self._rows) < k and not self._end):
            self._refresh(k)
        if decimal:
            return [[Decimal(e[1]), Decimal(e[2])] for e in self._live_entries(k)]
        return [[price, qty] for price, qty in islice(self._rows, k)]

    def best(self, *, decimal: bool = False) -> Level | None:
        """The best level as ``[price, quantity]``, or None if the side has no trusted level."""
        top = self.top(1, decimal=decimal)
        return top[0] if top else None

    def _best_key(self) -> _Key | None:
        """Sort key of the best live trusted level, touching only the front of the window."""
        win = self._win
        if win is not None:
            if not self._dirty:
                for entry in win:
                    if entry[3] is not None:
                        return entry[0]  # type: ignore[no-any-return]
                if self._end:
                    return None
            else:  # bring the first few entries up to date; a longer scan is a refresh's job
                qty = self._qty
                for entry in islice(win, _LEAD_PURGE + 1):
                    quantity = qty[entry[1]]
                    if quantity is not entry[2]:
                        entry[2] = quantity
                        entry[3] = self._row(entry[0], entry[1], quantity)
                    if entry[3] is not None:
                        return entry[0]  # type: ignore[no-any-return]
                if len(win) <= _LEAD_PURGE and self._end:
                    return None
        self._refresh(1)
        for entry in self._win or ():
            if entry[3] is not None:
                return entry[0]  # type: ignore[no-any-return]
        return None

    def _crosses(self, asks: PyBookSide) -> bool:
        """True if this (bid) side's best price is at or above the best price of ``asks``."""
        bid = self._best_key()
        ask = asks._best_key()
        if bid is None or ask is None:
            return False
        if -bid != ask:
            return -bid > ask
        # One float, maybe two prices (16+ digits): compare the texts exactly.
        return Decimal(self._text[bid]) >= Decimal(asks._text[ask])

    def _apply_event(self, asks: PyBookSide, event: Mapping[str, Any], check_crossed: Any) -> bool:
        """Apply a depth event's ``b`` here and its ``a`` to ``asks``; True if now crossed."""
        self.update(event["b"])
        asks.update(event["a"])
        return bool(check_crossed) and self._crosses(asks)

    def _live_entries(self, k: int) -> list[list[Any]]:
        assert self._win is not None
        return [e for e in self._win if e[3] is not None][:k]

    def _row(self, key: _Key, text: str, qty: str) -> Level | None:
        value = float(qty)
        if not value:
            return None
        if self._exact:
            return [float(text), value]
        return [-key if self._bids else key, value]

    def _refresh(self, k: int) -> None:
        """Bring the window up to date and make it hold at least ``k`` live levels if it can."""
        want = max(k + _SLACK, self._want - 1)  # a deep read grows the window; it shrinks slowly
        self._want = want
        win = self._win
        if win is None:
            win = self._win = []
            self._wtexts = set()
            self._cover = None
            self._end = False
        qty = self._qty
        bids = self._bids
        exact = self._exact
        rows: list[Level] = []
        lead = 0  # tombstones in front of the best live level
        for entry in win:  # the hot loop of every read after an update at the top
            quantity = qty[entry[1]]
            if quantity is not entry[2]:  # same text object: the level did not change
                entry[2] = quantity
                value = float(quantity)
                if not value:
                    entry[3] = None
                elif exact:
                    entry[3] = [float(entry[1]), value]
                else:
                    entry[3] = [-entry[0] if bids else entry[0], value]
            row = entry[3]
            if row is not None:
                rows.append(row)
            elif not rows:
                lead += 1
        if lead > _LEAD_PURGE or (lead and lead == len(win)):
            self._purge(win[:lead])
            del win[:lead]
        live = len(rows)
        if live < k and not self._end:
            self._extend(win, want - live)
            rows = [entry[3] for entry in win if entry[3] is not None]
        elif live > want + _SLACK:
            self._trim(win, want)
            del rows[want:]
        self._rows = rows
        self._dirty = False

    def _extend(self, win: list[list[Any]], missing: int) -> None:
        keys = self._keys
        cover = self._cover
        it = iter(keys) if cover is None else keys.irange(cover, inclusive=(False, True))
        horizon = self._horizon
        text_of = self._text
        qty = self._qty
        wtexts = self._wtexts
        dead: list[tuple[_Key, str]] = []
        end = True
        for key in it:
            if horizon is not None and key > horizon:
                break
            text = text_of[key]
            quantity = qty[text]
            row = self._row(key, text, quantity)
            self._cover = key
            if row is None and not win:  # a tombstone in front of the best price: drop it
                dead.append((key, text))
                continue
            win.append([key, text, quantity, row])
            wtexts.add(text)
            if row is not None:
                missing -= 1
                if missing <= 0:
                    end = False
                    break
        self._end = end
        for key, text in dead:  # not while iterating the index
            self._forget(key, text)

    def _trim(self, win: list[list[Any]], want: int) -> None:
        live = 0
        for i, entry in enumerate(win):
            if entry[3] is not None:
                live += 1
                if live == want:
                    for dropped in win[i + 1 :]:
                        self._wtexts.discard(dropped[1])
                    del win[i + 1 :]
                    self._cover = entry[0]
                    self._end = False
                    return

    def _purge(self, entries: list[list[Any]]) -> None:
        for entry in entries:
            self._wtexts.discard(entry[1])
            self._forget(entry[0], entry[1])

    def _forget(self, key: _Key, text: str) -> None:
        self._keys.remove(key)
        del self._text[key]
        del self._key[text]
        del self._qty[text]

    def _walk(self, k: int | None, decimal: bool) -> list[Level]:
        """Read up to ``k`` trusted live levels (all if None) straight from the index."""
        out: list[Level] = []
        horizon = self._horizon
        text_of = self._text
        qty = self._qty
        for key in self._keys:
            if horizon is not None and key > horizon:
                break
            text = text_of[key]
            quantity = qty[text]
            if decimal:
                if not _is_zero(quantity):
                    out.append([Decimal(text), Decimal(quantity)])
            else:
                row = self._row(key, text, quantity)
                if row is not None:
                    out.append(row)
            if k is not None and len(out) >= k:
                break
        return out

    def __iter__(self) -> Iterator[Level]:
        """Trusted live levels as float ``[price, quantity]``, best first."""
        return iter(self._walk(None, False))

    def __len__(self) -> int:
        """Number of trusted live levels (O(n))."""
        horizon = self._horizon
        qty = self._qty
        text_of = self._text
        count = 0
        for key in self._keys:
            if horizon is not None and key > horizon:
                break
            if not _is_zero(qty[text_of[key]]):
                count += 1
        return count

    def __bool__(self) -> bool:
        return self._best_key() is not None

    def __repr__(self) -> str:
        return f"<BookSide {self.side} best={self.best()!r}>"


if _cbook is not None:

    class CBookSide(_cbook.Side):
        """One side of an order book: price -> quantity, iterated best price first (C core).

        Same behaviour as `PyBookSide` (see the module docstring for the design). ``update``,
        ``top``, ``best``, ``clear``, ``len()`` and ``bool()`` run in ``binance._cbook``.

        Args:
            side: ``"bids"`` (best = highest price) or ``"asks"`` (best = lowest price).
        """

        __slots__ = ()

        def set(self, price: Any, quantity: Any) -> None:
            """Set one level's quantity; zero removes the level (see `PyBookSide.set`)."""
            self.update(((_text(price), _text(quantity)),))

        def replace(self, levels: Iterable[Sequence[Any]], *, complete: bool = True) -> None:
            """Replace the whole side with ``levels`` (see `PyBookSide.replace`)."""
            self.clear()
            self.update([(_text(p), _text(q)) for p, q in levels])
            if not complete:
                self._trust_to_worst()

        @property
        def horizon(self) -> Decimal | None:
            """The worst price this side vouches for, or None (see `PyBookSide.horizon`)."""
            text = self._horizon_text
            if text is None:
                return None
            if not text:
                return Decimal("Infinity") if self.side == "bids" else Decimal("-Infinity")
            return Decimal(text)

        def __iter__(self) -> Iterator[Level]:
            """Trusted levels as float ``[price, quantity]``, best first."""
            return iter(self.top())

        def __repr__(self) -> str:
            return f"<BookSide {self.side} best={self.best()!r}>"

else:
    CBookSide = None  # type: ignore[misc]

if TYPE_CHECKING:
    BookSide = PyBookSide
else:
    BookSide = CBookSide if ACCELERATED else PyBookSide
    """The active implementation: `CBookSide` if `ACCELERATED`, else `PyBookSide`."""


class OrderBook:
    """Both sides of one symbol's order book. No I/O; see the module docstring for the design.

    Example::

        book = OrderBook()
        book.replace(snapshot["bids"], snapshot["asks"], complete=False)
        book.apply(event["b"], event["a"])
        book.top_bids(5)     # [[65000.1, 0.5], ...] best first
        book.best_ask(decimal=True)

    Args:
        bids: Initial bid levels (``[price, quantity]`` pairs).
        asks: Initial ask levels.
    """

    __slots__ = ("asks", "bids")

    #: The class of both sides (subclasses may pick `PyBookSide` or `CBookSide`).
    side_class: ClassVar[type[BookSide]] = BookSide

    def __init__(
        self, bids: Iterable[Sequence[Any]] = (), asks: Iterable[Sequence[Any]] = ()
    ) -> None:
        self.bids: BookSide = self.side_class("bids")
        """The bid side (best = highest price)."""
        self.asks: BookSide = self.side_class("asks")
        """The ask side (best = lowest price)."""
        if bids or asks:
            self.replace(bids, asks)

    def apply_bid(self, price: Any, quantity: Any) -> None:
        """Set one bid level; a zero quantity removes it."""
        self.bids.set(price, quantity)

    def apply_ask(self, price: Any, quantity: Any) -> None:
        """Set one ask level; a zero quantity removes it."""
        self.asks.set(price, quantity)

    def apply(self, bids: Sequence[Sequence[str]], asks: Sequence[Sequence[str]]) -> None:
        """Apply a diff: ``[price, quantity]`` string pairs per side (see `BookSide.update`)."""
        self.bids.update(bids)
        self.asks.update(asks)

    def replace(
        self,
        bids: Iterable[Sequence[Any]],
        asks: Iterable[Sequence[Any]],
        *,
        complete: bool = True,
    ) -> None:
        """Replace both sides (a snapshot). ``complete=False``: see `BookSide.replace`."""
        self.bids.replace(bids, complete=complete)
        self.asks.replace(asks, complete=complete)

    def clear(self) -> None:
        """Remove every level on both sides."""
        self.bids.clear()
        self.asks.clear()

    def best_bid(self, *, decimal: bool = False) -> Level | None:
        """The highest bid as ``[price, quantity]``, or None."""
        return self.bids.best(decimal=decimal)

    def best_ask(self, *, decimal: bool = False) -> Level | None:
        """The lowest ask as ``[price, quantity]``, or None."""
        return self.asks.best(decimal=decimal)

    def top_bids(self, k: int | None = None, *, decimal: bool = False) -> list[Level]:
        """The best ``k`` bids, highest first (all if ``k`` is None)."""
        return self.bids.top(k, decimal=decimal)

    def top_asks(self, k: int | None = None, *, decimal: bool = False) -> list[Level]:
        """The best ``k`` asks, lowest first (all if ``k`` is None)."""
        return self.asks.top(k, decimal=decimal)

    def crossed(self) -> bool:
        """True if the best bid is at or above the best ask (an impossible resting book)."""
        return self.bids._crosses(self.asks)

    def __len__(self) -> int:
        """Number of trusted live levels on both sides (O(n))."""
        return len(self.bids) + len(self.asks)

    def __repr__(self) -> str:
        return f"<OrderBook bid={self.best_bid()!r} ask={self.best_ask()!r}>"
