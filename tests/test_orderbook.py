"""OrderBook: behaviour by example, then hypothesis against a dict-and-sort reference.

Every test runs against both implementations of a side: the pure-Python `PyBookSide` and the C
`CBookSide` (skipped where ``binance._cbook`` was not built). ``tests/test_orderbook_c.py``
compares the two directly and checks what only the C one has (garbage input, leaks).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from binance import orderbook
from binance.orderbook import CBookSide, PyBookSide

#: The implementations of a side: (id, class or None when not built).
IMPLEMENTATIONS = [("py", PyBookSide), ("c", CBookSide)]


def _book_class(side_class):
    """An OrderBook subclass whose sides are ``side_class``."""
    name = f"OrderBook_{side_class.__name__}"
    return type(name, (orderbook.OrderBook,), {"__slots__": (), "side_class": side_class})


@pytest.fixture(params=[impl for impl, _ in IMPLEMENTATIONS])
def BookSide(request):  # noqa: N802 - stands in for the class of the same name
    """The side class under test."""
    side_class = dict(IMPLEMENTATIONS)[request.param]
    if side_class is None:
        pytest.skip("binance._cbook is not built")
    return side_class


@pytest.fixture
def OrderBook(BookSide):  # noqa: N802 - stands in for the class of the same name
    """An OrderBook whose sides are of the class under test."""
    return _book_class(BookSide)


def live_levels_held(side) -> int:
    """Levels the side holds in memory, trusted or not (pure: tombstones included)."""
    return len(side._qty) if isinstance(side, PyBookSide) else side._levels


def test_the_active_implementation_is_the_c_one_when_built():
    """BookSide is CBookSide when binance._cbook imports, unless BINANCE_PURE_PYTHON is set."""
    assert orderbook.BookSide is (CBookSide if orderbook.ACCELERATED else PyBookSide)
    assert orderbook.OrderBook.side_class is orderbook.BookSide
    assert isinstance(orderbook.OrderBook().bids, orderbook.BookSide)


# -- by example ------------------------------------------------------------------------------------


def test_levels_come_back_best_first_as_floats(OrderBook, BookSide):
    """Bids read highest first and asks lowest first, as float [price, qty] lists."""
    book = OrderBook()
    book.apply([["1.00", "2"], ["1.50", "3"], ["0.50", "1"]], [["2.5", "1"], ["2.0", "4"]])
    assert book.top_bids(5) == [[1.5, 3.0], [1.0, 2.0], [0.5, 1.0]]
    assert book.top_asks(5) == [[2.0, 4.0], [2.5, 1.0]]
    assert book.best_bid() == [1.5, 3.0]
    assert book.best_ask() == [2.0, 4.0]
    assert len(book) == 5 and len(book.bids) == 3


def test_top_k_limits_the_levels(OrderBook, BookSide):
    """top(k) returns only the best k levels."""
    book = OrderBook(bids=[[f"{p}.0", "1"] for p in range(1, 50)])
    assert [row[0] for row in book.top_bids(3)] == [49.0, 48.0, 47.0]
    assert book.top_bids(0) == []
    assert len(book.top_bids(None)) == 49


def test_zero_quantity_removes_and_unknown_removal_is_a_no_op(OrderBook, BookSide):
    """A zero quantity removes the level; removing an absent level changes nothing."""
    book = OrderBook()
    book.apply([["1.0", "2"], ["2.0", "3"]], [])
    book.apply([["2.0", "0.00000000"], ["7.0", "0"]], [])
    assert book.top_bids(5) == [[1.0, 2.0]]
    assert len(book.bids) == 1


def test_decimal_results_are_exact(OrderBook, BookSide):
    """decimal=True returns Decimal prices and quantities built from the wire text."""
    book = OrderBook(asks=[["0.10000000", "0.30000000"], ["0.2", "1e-8"]])
    assert book.top_asks(2, decimal=True) == [
        [Decimal("0.1"), Decimal("0.3")],
        [Decimal("0.2"), Decimal("0.00000001")],
    ]
    assert book.best_ask(decimal=True) == [Decimal("0.1"), Decimal("0.3")]


def test_same_price_spelled_differently_is_one_level(OrderBook, BookSide):
    """'0.0100' and '0.01000000' are the same level; the latest quantity wins."""
    side = BookSide("asks")
    side.update([["0.01000000", "5"]])
    side.update([["0.0100", "7"], ["0.02", "1"]])
    assert side.top(5) == [[0.01, 7.0], [0.02, 1.0]]
    side.update([["0.010", "0"]])
    assert side.top(5) == [[0.02, 1.0]]


def test_prices_sharing_a_float_stay_apart(OrderBook, BookSide):
    """Two prices that round to the same float are kept as two exact levels."""
    low, high = "9007199254740993.1", "9007199254740993.2"
    assert float(low) == float(high)
    side = BookSide("bids")
    side.update([[low, "1"], [high, "2"], ["5", "3"]])
    assert side.top(5, decimal=True) == [
        [Decimal(high), Decimal(2)],
        [Decimal(low), Decimal(1)],
        [Decimal(5), Decimal(3)],
    ]
    side.update([[high, "0"]])
    assert side.top(5, decimal=True) == [[Decimal(low), Decimal(1)], [Decimal(5), Decimal(3)]]


def test_numbers_are_accepted_by_set(OrderBook, BookSide):
    """set() accepts int, float and Decimal and stores them exactly."""
    side = BookSide("asks")
    side.set(0.1, 2)
    side.set(Decimal("0.3"), Decimal("1E-8"))
    assert side.top(5, decimal=True) == [
        [Decimal("0.1"), Decimal(2)],
        [Decimal("0.3"), Decimal("0.00000001")],
    ]
    with pytest.raises(TypeError):
        side.set(True, 1)
    with pytest.raises(ValueError):
        side.set(float("nan"), 1)


@pytest.mark.parametrize("price", ["abc", "-1", "0", "inf", "nan", ""])
def test_bad_price_is_rejected_and_the_side_stays_consistent(OrderBook, BookSide, price):
    """A bad price raises ValueError; levels before it apply, the bad one does not."""
    side = BookSide("bids")
    side.update([["1", "1"]])
    with pytest.raises(ValueError):
        side.update([["2", "1"], [price, "1"]])
    assert side.top(5) == [[2.0, 1.0], [1.0, 1.0]]
    side.update([["3", "1"]])
    assert side.top(5) == [[3.0, 1.0], [2.0, 1.0], [1.0, 1.0]]


def test_malformed_pair_is_rejected(OrderBook, BookSide):
    """A level that is not a pair raises ValueError and leaves no half-indexed price."""
    side = BookSide("asks")
    with pytest.raises(ValueError):
        side.update([["1", "1"], ["2", "1", "x"]])
    side.update([["3", "1"]])
    assert [row[0] for row in side.top(5)] == [1.0, 3.0]
    with pytest.raises(TypeError):
        side.update([[1.5, "1"]])
    assert [row[0] for row in side.top(5)] == [1.0, 3.0]


def test_returned_lists_are_copies(OrderBook, BookSide):
    """Mutating a returned level does not change the book."""
    book = OrderBook(bids=[["1", "1"]])
    book.top_bids(1)[0][1] = 99.0
    assert book.top_bids(1) == [[1.0, 1.0]]


def test_partial_snapshot_hides_levels_past_its_depth(OrderBook, BookSide):
    """After a partial replace, levels past the deepest snapshot price are never reported."""
    book = OrderBook()
    book.replace([["10", "1"], ["9", "1"]], [["11", "1"], ["12", "1"]], complete=False)
    assert book.bids.horizon == Decimal(9) and book.asks.horizon == Decimal(12)
    book.apply([["8", "5"], ["9.5", "2"]], [["13", "5"]])
    assert book.top_bids(10) == [[10.0, 1.0], [9.5, 2.0], [9.0, 1.0]]
    assert book.top_asks(10) == [[11.0, 1.0], [12.0, 1.0]]
    assert len(book) == 5
    book.apply([["10", "0"], ["9.5", "0"], ["9", "0"]], [])
    assert book.top_bids(10) == [] and book.best_bid() is None
    book.replace([["8", "5"]], [], complete=True)
    assert book.bids.horizon is None and book.top_bids(10) == [[8.0, 5.0]]


def test_partial_snapshot_with_an_empty_side_trusts_nothing(OrderBook, BookSide):
    """An empty side in a partial snapshot vouches for no price."""
    side = BookSide("asks")
    side.replace([], complete=False)
    assert side.horizon == Decimal("-Infinity")
    side.update([["5", "1"]])
    assert side.top(5) == [] and len(side) == 0
    bids = BookSide("bids")
    bids.replace([["1", "0"]], complete=False)
    assert bids.horizon == Decimal("Infinity")


def test_crossed_detects_bid_at_or_above_ask(OrderBook, BookSide):
    """crossed() is True when the best bid reaches the best ask."""
    book = OrderBook(bids=[["1.0", "1"]], asks=[["1.1", "1"]])
    assert not book.crossed()
    book.apply_bid("1.1", "1")
    assert book.crossed()
    book.apply_bid("1.1", "0")
    book.apply_ask("1.0", "2")
    assert book.crossed()
    assert not OrderBook().crossed()


def test_iteration_and_repr(OrderBook, BookSide):
    """Sides iterate their levels best first; reprs show the best levels."""
    book = OrderBook(bids=[["1", "2"], ["3", "4"]], asks=[["5", "6"]])
    assert list(book.bids) == [[3.0, 4.0], [1.0, 2.0]]
    assert bool(book.asks) and not bool(BookSide("asks"))
    assert "3.0" in repr(book) and "bids" in repr(book.bids)
    book.clear()
    assert len(book) == 0 and book.top_asks(3) == []
    with pytest.raises(ValueError):
        BookSide("middle")  # type: ignore[arg-type]


def test_many_distinct_prices_compact_without_losing_levels(OrderBook, BookSide):
    """Thousands of prices added and removed leave exactly the live ones."""
    side = BookSide("asks")
    for i in range(1, 3001):
        side.update([[f"{i}.5", "1"]])
        if i % 3:
            side.update([[f"{i}.5", "0"]])
        side.top(3)
    live = [float(f"{i}.5") for i in range(3, 3001, 3)]
    assert [row[0] for row in side.top(None)] == live
    assert len(side) == len(live)
    assert live_levels_held(side) < 3000  # tombstones were compacted away (C: none kept)


def test_tombstones_in_front_of_the_best_price_are_purged(OrderBook, BookSide):
    """Levels removed at the top do not pile up in front of the best price."""
    side = BookSide("bids")
    side.update([["1", "1"]])
    for i in range(2, 200):
        side.update([[str(i), "1"]])
        assert side.top(1) == [[float(i), 1.0]]
        side.update([[str(i), "0"]])
        assert side.top(1) == [[1.0, 1.0]]
    assert live_levels_held(side) < 50


def test_bad_quantity_is_skipped_and_the_first_error_raised(OrderBook, BookSide):
    """A bad quantity skips its pair; later good pairs apply; the first error is raised."""
    side = BookSide("asks")
    side.update([["1", "1"]])
    with pytest.raises(ValueError, match="quantity"):
        side.update([["2", "1"], ["1", "-3"], ["3", "nan"], ["4", "2"]])
    assert side.top(5) == [[1.0, 1.0], [2.0, 1.0], [4.0, 2.0]]
    with pytest.raises(TypeError):
        side.update([["5", 7], ["6", "abc"], ["7", "1"]])  # TypeError first, ValueError later
    assert side.top(5) == [[1.0, 1.0], [2.0, 1.0], [4.0, 2.0], [7.0, 1.0]]
    with pytest.raises(ValueError):
        side.update([["8", "inf"]])
    assert len(side) == 4


def test_a_bad_pair_is_reported_even_when_a_later_pair_sets_its_price(OrderBook, BookSide):
    """Each pair is checked, also one whose price a later pair of the batch sets again."""
    side = BookSide("bids")
    with pytest.raises(TypeError):
        side.update([["1", 5], ["1", "2"]])
    assert side.top(5) == [[1.0, 2.0]]


def test_the_first_error_wins_over_a_later_malformed_pair(OrderBook, BookSide):
    """A bad price before a malformed pair: that price's error is raised, the rest skipped."""
    side = BookSide("asks")
    with pytest.raises(TypeError):
        side.update([["1", "1"], [2.5, "1"], ["3", "1"], ["4"], ["5", "1"]])
    assert side.top(5) == [[1.0, 1.0], [3.0, 1.0]]


def test_unusual_spellings_parse_like_float(OrderBook, BookSide):
    """Texts float() accepts are accepted; an equal price in another spelling is one level."""
    side = BookSide("asks")
    side.update([["1e-2", "5"], [" 0.5", "1_0"], ["0.0100", "7"], ["2", "1E+1"]])
    assert side.top(5) == [[0.01, 7.0], [0.5, 10.0], [2.0, 10.0]]
    assert side.top(5, decimal=True) == [
        [Decimal("0.01"), Decimal(7)],
        [Decimal("0.5"), Decimal(10)],
        [Decimal(2), Decimal(10)],
    ]


def test_long_and_huge_numbers(OrderBook, BookSide):
    """Many digits keep exact Decimal reads; a price or quantity too big for a float fails."""
    side = BookSide("bids")
    price, qty = "123456789.123456789012345", "0.000000000000000000000000001"
    side.update([[price, qty], ["1" + "0" * 20, "12345678901234567890.5"]])
    assert side.top(5, decimal=True) == [
        [Decimal("1" + "0" * 20), Decimal("12345678901234567890.5")],
        [Decimal(price), Decimal(qty)],
    ]
    with pytest.raises(ValueError):
        side.update([["1" + "0" * 400, "1"]])
    with pytest.raises(ValueError):
        side.update([["1", "9" * 400]])
    assert len(side) == 2


def test_decimal_reads_keep_how_the_texts_were_written(OrderBook, BookSide):
    """Decimal results are Decimal(text): same digits and exponent, not only the same value."""
    side = BookSide("asks")
    side.update([["65000.01000000", "1.50000000"], ["00012.3400", ".5"]])
    rows = side.top(2, decimal=True)
    assert [[str(p), str(q)] for p, q in rows] == [
        ["12.3400", "0.5"],
        ["65000.01000000", "1.50000000"],
    ]


def test_top_arguments(OrderBook, BookSide):
    """top() takes k by position or name; a negative k reads nothing; bad k is a TypeError."""
    side = BookSide("bids")
    side.update([[str(p), "1"] for p in range(1, 6)])
    assert side.top(k=2) == side.top(2) == [[5.0, 1.0], [4.0, 1.0]]
    assert side.top(-1) == [] and side.top(10**30) == side.top()
    with pytest.raises(TypeError):
        side.top("2")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        side.best(1)  # type: ignore[misc]


# -- property: against a dict-and-sort reference ---------------------------------------------------

# Ticks on a small grid so levels are revisited, spelled several ways, plus a pair of prices
# that share one float (forces exact keys).
_SPELLINGS = st.sampled_from(["{:.2f}", "{:.8f}", "{:.3f}"])
_COLLIDING = ["9007199254740993.1", "9007199254740993.2"]


@st.composite
def _price(draw):
    if draw(st.integers(0, 40)) == 0:
        return draw(st.sampled_from(_COLLIDING))
    tick = draw(st.integers(1, 60))
    return draw(_SPELLINGS).format(Decimal(tick) / 100)


_QTY = st.one_of(
    st.just("0"),
    st.just("0.00000000"),
    st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal(1000), places=8).map(
        lambda d: format(d, "f")
    ),
)
_LEVELS = st.lists(st.tuples(_price(), _QTY).map(list), max_size=8)


class _Reference:
    """A side as a plain dict, sorted on every read."""

    def __init__(self, bids: bool) -> None:
        self.bids = bids
        self.levels: dict[Decimal, str] = {}
        self.horizon: Decimal | None = None
        self.nothing_trusted = False

    def update(self, levels):
        for price, qty in levels:
            if Decimal(qty) == 0:
                self.levels.pop(Decimal(price), None)
            else:
                self.levels[Decimal(price)] = qty

    def replace(self, levels, complete):
        self.levels = {}
        self.update(levels)
        self.horizon = None
        self.nothing_trusted = False
        if not complete:
            if self.levels:
                self.horizon = min(self.levels) if self.bids else max(self.levels)
            else:
                self.nothing_trusted = True

    def top(self, k, decimal):
        if self.nothing_trusted:
            return []
        prices = sorted(self.levels, reverse=self.bids)
        if self.horizon is not None:
            if self.bids:
                prices = [p for p in prices if p >= self.horizon]
            else:
                prices = [p for p in prices if p <= self.horizon]
        prices = prices if k is None else prices[:k]
        if decimal:
            return [[p, Decimal(self.levels[p])] for p in prices]
        return [[float(p), float(self.levels[p])] for p in prices]


class BookMachine(RuleBasedStateMachine):
    """Random updates, snapshots and reads; every read equals the reference's."""

    side_class: type = PyBookSide

    def __init__(self) -> None:
        super().__init__()
        self.book = _book_class(self.side_class)()
        self.ref = {"bids": _Reference(True), "asks": _Reference(False)}

    def _side(self, name):
        return getattr(self.book, name)

    @rule(name=st.sampled_from(["bids", "asks"]), levels=_LEVELS)
    def update(self, name, levels):
        self._side(name).update(levels)
        self.ref[name].update(levels)

    @rule(name=st.sampled_from(["bids", "asks"]), price=_price(), qty=_QTY)
    def set_one(self, name, price, qty):
        self._side(name).set(price, qty)
        self.ref[name].update([(price, qty)])

    @rule(
        name=st.sampled_from(["bids", "asks"]),
        levels=st.lists(st.tuples(_price(), _QTY).map(list), max_size=12),
        complete=st.booleans(),
    )
    def replace(self, name, levels, complete):
        self._side(name).replace(levels, complete=complete)
        self.ref[name].replace(levels, complete)

    @precondition(lambda self: True)
    @rule(name=st.sampled_from(["bids", "asks"]))
    def clear(self, name):
        self._side(name).clear()
        self.ref[name].replace([], True)

    @rule(
        name=st.sampled_from(["bids", "asks"]),
        k=st.one_of(st.none(), st.integers(0, 12), st.just(300)),
        decimal=st.booleans(),
    )
    def read(self, name, k, decimal):
        assert self._side(name).top(k, decimal=decimal) == self.ref[name].top(k, decimal)

    @invariant()
    def top_five_matches(self):
        for name in ("bids", "asks"):
            assert self._side(name).top(5) == self.ref[name].top(5, False)

    @invariant()
    def best_and_len_match(self):
        for name in ("bids", "asks"):
            full = self.ref[name].top(None, True)
            assert self._side(name).best(decimal=True) == (full[0] if full else None)
            assert len(self._side(name)) == len(full)

    @invariant()
    def crossed_matches(self):
        bids = self.ref["bids"].top(1, True)
        asks = self.ref["asks"].top(1, True)
        assert self.book.crossed() == bool(bids and asks and bids[0][0] >= asks[0][0])


_MACHINE_SETTINGS = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class PyBookMachine(BookMachine):
    side_class = PyBookSide


TestPyBookMachine = PyBookMachine.TestCase
TestPyBookMachine.settings = _MACHINE_SETTINGS

if CBookSide is not None:

    class CBookMachine(BookMachine):
        side_class = CBookSide

    TestCBookMachine = CBookMachine.TestCase
    TestCBookMachine.settings = _MACHINE_SETTINGS
