"""The C order book side (``binance._cbook``) against the pure-Python one, and what only C needs.

`CBookSide` must behave exactly as `PyBookSide` (results, errors, horizon), so hypothesis drives
both with the same random operations, garbage included, and compares everything they return;
`DepthSync` must decide the same with either book. Then what only the C code can get wrong:
crashes on odd input, reference leaks, a finalizer re-entering the side, reference cycles
through a recycled result list. Skipped entirely where the extension was not built.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tracemalloc
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binance import orderbook
from binance._depthsync import DepthSync
from binance.orderbook import CBookSide, OrderBook, PyBookSide

pytestmark = pytest.mark.skipif(CBookSide is None, reason="binance._cbook is not built")


class _PyBook(OrderBook):
    __slots__ = ()
    side_class = PyBookSide


class _CBook(OrderBook):
    __slots__ = ()
    side_class = CBookSide


# -- the same answers ------------------------------------------------------------------------------

#: Prices sharing one double (16+ digits), and texts that are not plain decimals.
_COLLIDING = ["9007199254740993.1", "9007199254740993.2", "9007199254740993", "9007199254740993.10"]
_ODD_PRICES = ["1e-2", " 0.5", "1_0", "0.5E1", "abc", "", "-1", "0", "nan", "inf", "1" + "0" * 30]
_ODD_QTYS = ["1e-8", "abc", "-1", "inf", "nan", "", " 2", "1" * 30, "0." + "1" * 30, "-0", "0e3"]
#: Texts of 8+ characters whose first 8 bytes the C parser reads at once (SWAR), valid or not.
_WIDE = ["0000012.50000000", "1234567.1", "12345678.12345678", "65000.12000000", "3.12345678",
         "1a.000000", "12345.6789012x", ".12345678", "1..234567", "+1.000000", "1.2.3.4.5",
         "1234567.", "0.00000000", "00000000.1", "1 .000000", "9999999.99999999"]  # fmt: skip


@st.composite
def _price(draw):
    kind = draw(st.integers(0, 60))
    if kind == 0:
        return draw(st.sampled_from(_COLLIDING))
    if kind == 1:
        return draw(st.sampled_from(_ODD_PRICES + _WIDE))
    if kind == 2:
        return draw(st.sampled_from([1.5, None, b"1", 3]))
    tick = draw(st.integers(1, 400))
    places = draw(st.sampled_from([0, 2, 3, 8, 12]))
    return format(Decimal(tick) / 100, f".{places}f") if places else str(tick)


_QTY = st.one_of(
    st.sampled_from(["0", "0.00000000", "0.0"]),
    st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal(10**6), places=8).map(
        lambda d: format(d, "f")
    ),
    st.sampled_from([*_ODD_QTYS, *_WIDE, 5, None]),
)
_PAIR = st.one_of(
    st.tuples(_price(), _QTY).map(list),
    st.tuples(_price(), _QTY),
    st.sampled_from([["1"], ["1", "2", "3"], 5, "ab", None]),
)
_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("update"), st.lists(_PAIR, max_size=10)),
        st.tuples(st.just("set"), st.tuples(_price(), st.one_of(_QTY, st.just(Decimal("1E-8"))))),
        st.tuples(
            st.just("replace"),
            st.tuples(st.lists(st.tuples(_price(), _QTY), max_size=10), st.booleans()),
        ),
        st.tuples(st.just("clear"), st.none()),
    ),
    max_size=25,
)


def _run(side, ops, reads):
    """Apply ``ops``, recording after each the outcome and every kind of read."""
    out = []
    for (op, arg), k in zip(ops, reads, strict=True):
        try:
            if op == "update":
                side.update(arg)
            elif op == "set":
                side.set(*arg)
            elif op == "replace":
                side.replace(arg[0], complete=arg[1])
            else:
                side.clear()
            outcome = None
        except (TypeError, ValueError) as exc:
            outcome = type(exc).__name__
        out.append(
            (
                outcome,
                side.top(k),
                side.top(None, decimal=True),
                side.best(),
                len(side),
                bool(side),
                side.horizon,
                list(side),
            )
        )
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["bids", "asks"]),
    ops=_OPS,
    data=st.data(),
)
def test_c_side_answers_as_the_python_side(name, ops, data):
    """Random updates (garbage included), snapshots and reads: identical results and errors."""
    reads = data.draw(st.lists(st.one_of(st.none(), st.integers(-1, 12)), min_size=len(ops)))
    reads = reads[: len(ops)]
    assert _run(CBookSide(name), ops, reads) == _run(PyBookSide(name), ops, reads)


@pytest.mark.parametrize("text", _WIDE)
def test_wide_texts_parse_as_in_python(text):
    """Each wide text, as a price and as a quantity: C and Python accept or reject it alike,
    and keep the same value and text."""
    for name in ("bids", "asks"):
        results = []
        for side in (CBookSide(name), PyBookSide(name)):
            out = []
            for pair in ([text, "1.5"], ["2.5", text]):
                try:
                    side.update([pair])
                    out.append("ok")
                except (TypeError, ValueError) as exc:
                    out.append(type(exc).__name__)
            out.append((side.top(None), side.top(None, decimal=True)))
            results.append(out)
        assert results[0] == results[1], text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["bids", "asks"]), st.lists(_PAIR, max_size=6))))
def test_crossed_agrees(batches):
    """OrderBook.crossed() is the same with C and Python sides, colliding prices included."""
    books = (_CBook(), _PyBook())
    for name, levels in batches:
        for book in books:
            try:
                getattr(book, name).update(levels)
            except (TypeError, ValueError):
                pass
        assert books[0].crossed() == books[1].crossed()


# -- DepthSync decides the same with either book --------------------------------------------------

_LEVELS = st.lists(
    st.tuples(
        st.integers(90, 110).map(lambda t: f"{t / 10:.2f}"),
        st.sampled_from(["0", "1.5", "2.25000000", "-1", 7]),
    ).map(list),
    max_size=4,
)


@st.composite
def _events(draw):
    """A stream around update id 100: continuing, duplicate, gapped and malformed events."""
    events = []
    last = draw(st.integers(95, 105))
    for _ in range(draw(st.integers(0, 25))):
        step = draw(st.sampled_from(["next", "next", "next", "dup", "gap", "backwards", "odd"]))
        first = {"next": last + 1, "dup": last - 1, "gap": last + 3, "backwards": last + 1}.get(
            step, last + 1
        )
        end = first + draw(st.integers(0, 2)) if step != "backwards" else first - 1
        event = {"e": "depthUpdate", "E": 1000 + end, "s": "BNBBTC", "U": first, "u": end}
        event["b"] = draw(_LEVELS)
        event["a"] = draw(_LEVELS)
        if step == "odd":
            del event[draw(st.sampled_from(["b", "a", "E", "s"]))]
        events.append(event)
        last = max(last, end)
    return events


def _seen(action):
    """An action as plain data, so that the Applied itself is dropped (and may be reused)."""
    return (type(action).__name__, tuple(action)) if isinstance(action, tuple) else action


def _sync_run(book, snapshot_id, events, refresh_at, late=()):
    sync = DepthSync("BNBBTC", book=book, snapshot_limit=100)
    out = []
    for i, event in enumerate(events):
        if i == refresh_at:
            out.append(sync.request_refresh())
        for at, late_id in late:  # snapshots in any state: asked for or not, old or new
            if at == i:
                late_snapshot = {"lastUpdateId": late_id, "bids": [["9.6", "2"]], "asks": []}
                out.append(_seen(sync.on_snapshot(late_snapshot)))
        try:
            out.append(_seen(sync.on_event(event)))
        except ValueError as exc:
            out.append(("ValueError", str(exc)))
        if sync.state.value != "SYNCED" and sync.buffered:
            snapshot = {
                "lastUpdateId": snapshot_id,
                "bids": [["9.5", "1"]],
                "asks": [["10.5", "1"]],
            }
            out.append(_seen(sync.on_snapshot(snapshot)))
        out.append(
            (
                sync.state,
                sync.last_update_id,
                sync.last_event_time,
                sync.events_applied,
                sync.events_ignored,
                sync.resyncs,
                sync.last_resync_reason,
                book.top_bids(None, decimal=True),
                book.top_asks(None, decimal=True),
            )
        )
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=_events(),
    snapshot_id=st.integers(95, 110),
    refresh_at=st.integers(-1, 10),
    late=st.lists(st.tuples(st.integers(0, 12), st.integers(95, 125)), max_size=3),
)
def test_depthsync_decides_the_same_with_either_book(events, snapshot_id, refresh_at, late):
    """The C fast path of on_event takes exactly the Python rules' decisions."""
    c_sync = _sync_run(_CBook(), snapshot_id, events, refresh_at, late)
    py_sync = _sync_run(_PyBook(), snapshot_id, events, refresh_at, late)
    assert c_sync == py_sync


def _diff(first, last, bids=(), asks=()):
    return {"e": "depthUpdate", "E": last, "s": "BNBBTC", "U": first, "u": last,
            "b": [list(b) for b in bids], "a": [list(a) for a in asks]}  # fmt: skip


def test_depthsync_arms_the_c_path_only_while_synced_without_a_refresh():
    """The C on_event runs only while SYNCED with no refresh log (its sides are set then)."""
    book = _CBook()
    sync = DepthSync("BNBBTC", book=book)
    assert sync._hot_bids is None and sync._hot_asks is None  # SYNCING
    sync.on_event(_diff(11, 12))
    sync.on_snapshot({"lastUpdateId": 10, "bids": [["9", "1"]], "asks": [["11", "1"]]})
    assert sync._hot_bids is book.bids and sync._hot_asks is book.asks
    sync.request_refresh()  # events must now be logged: the Python rules do that
    assert sync._hot_bids is None
    assert sync.on_event(_diff(13, 13, bids=[("9", "2")])) == (13, 13, 13, 1)
    sync.on_snapshot({"lastUpdateId": 12, "bids": [["9", "1"]], "asks": [["11", "1"]]})
    assert sync._hot_bids is book.bids and book.top_bids() == [[9.0, 2.0]]  # replayed
    # An old snapshot nobody asked for: unusable, and logging starts for the next one.
    assert type(sync.on_snapshot({"lastUpdateId": 5, "bids": [], "asks": []})).__name__ == (
        "NeedSnapshot"
    )
    assert sync._hot_bids is None
    sync.on_event(_diff(14, 14, bids=[("9", "3")]))
    sync.on_snapshot({"lastUpdateId": 13, "bids": [["9", "2"]], "asks": [["11", "1"]]})
    assert book.top_bids() == [[9.0, 3.0]] and sync._hot_bids is book.bids  # 14 replayed
    sync.on_event(_diff(20, 21))  # a gap
    assert sync.state.value == "RESYNCING" and sync._hot_bids is None


def test_depthsync_reuses_only_applied_results_nobody_holds():
    """A dropped Applied may be refilled by the next event; one still held never changes."""
    sync = DepthSync("BNBBTC", book=_CBook())
    sync.on_event(_diff(1, 1))
    sync.on_snapshot({"lastUpdateId": 1, "bids": [["9", "1"]], "asks": [["11", "1"]]})
    held = sync.on_event(_diff(2, 3, bids=[("9", "2")]))
    for n in range(4, 40):
        got = sync.on_event(_diff(n, n, asks=[("11", str(n))]))
        assert tuple(got) == (n, n, n, 1) and type(got).__name__ == "Applied"
        del got
        gc.collect()  # the collector may untrack the tuple meanwhile: it must be tracked again
    assert tuple(held) == (2, 3, 3, 1)
    assert sync.events_applied == 37 and sync.last_update_id == 39
    assert sync.book.top_asks() == [[11.0, 39.0]] and sync.book.top_bids() == [[9.0, 2.0]]


# -- odd input, re-entrancy, leaks ----------------------------------------------------------------


class _Text(str):
    """A str subclass (prices must be exact str; quantities may be any str)."""


def test_odd_containers_raise_and_never_crash():
    """Anything that is not an iterable of pairs raises TypeError or ValueError."""
    side = CBookSide("asks")
    for levels in (None, 5, 1.5, object(), [None], [5], [[1, 2, 3]], [{"a": 1}], ["ab"]):
        with pytest.raises((TypeError, ValueError)):
            side.update(levels)
    side.update(pair for pair in [("1", "2"), ["3", _Text("4")]])  # any iterable, str subclass
    side.update({})  # an empty mapping is an empty iterable
    with pytest.raises(TypeError):
        side.update([[_Text("5"), "1"]])
    assert side.top(5) == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(TypeError):
        side._crosses(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CBookSide("middle")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        CBookSide()  # type: ignore[call-arg]


def test_non_ascii_digits_and_long_texts():
    """float() rules: non-ASCII digits count; texts longer than the inline store are kept."""
    side = CBookSide("bids")
    digits = "\u0661\u0662"  # Arabic-Indic 12
    long_qty = "1." + "0" * 300 + "1"
    side.update([[digits, digits], ["7", long_qty]])
    assert side.top(2) == [[12.0, 12.0], [7.0, 1.0]]
    assert side.top(2, decimal=True) == [
        [Decimal(12), Decimal(12)],
        [Decimal(7), Decimal(long_qty)],
    ]
    assert side._slots == 2  # the quantities that are not short ASCII texts


def test_a_finalizer_that_updates_the_side_during_an_update():
    """Python code run from inside update() (a finalizer) may change the side safely."""
    side = CBookSide("asks")

    class Evil(str):
        def __del__(self):
            side.update([["9", "9"], ["1", "0"]])

    side.update([["1", "1"]])
    side.update([str(p), Evil("2")] for p in range(2, 6))  # pairs freed inside update
    gc.collect()
    assert side.top(10) == [[2.0, 2.0], [3.0, 2.0], [4.0, 2.0], [5.0, 2.0], [9.0, 9.0]]


def test_a_finalizer_that_resets_the_sync_during_its_c_path():
    """Python code run while the C on_event applies levels may reset the sync: no crash, and
    the next snapshot brings the book back."""
    book = _CBook()
    sync = DepthSync("BNBBTC", book=book, snapshot_limit=100)
    sync.on_event(_diff(1, 1))
    sync.on_snapshot({"lastUpdateId": 1, "bids": [["1", "1"]], "asks": [["9", "1"]]})

    class Evil(str):
        def __del__(self):
            sync.reset("reset from a finalizer")
            sync._hot_bids = sync._hot_asks = sync._applied = None

    event = _diff(2, 2)
    event["b"] = ([str(p), Evil("2")] for p in range(2, 5))  # pairs freed inside the update
    sync.on_event(event)
    gc.collect()
    assert sync.state.value == "RESYNCING" and sync.last_resync_reason == "reset from a finalizer"
    sync.on_event(_diff(3, 3))
    sync.on_snapshot({"lastUpdateId": 3, "bids": [["2", "1"]], "asks": [["9", "1"]]})
    assert sync.state.value == "SYNCED" and book.top_bids() == [[2.0, 1.0]]
    assert sync.on_event(_diff(4, 4, asks=[("8", "1")])) == (4, 4, 4, 1)


def test_a_cycle_through_a_recycled_result_is_collected():
    """The side keeps its last small result to reuse it; a cycle through it is collectable."""
    freed = []

    class Canary:
        def __del__(self):
            freed.append(True)

    side = CBookSide("bids")
    side.update([["1", "1"]])
    rows = side.top(1)
    rows.append(side)
    rows.append(Canary())
    del side, rows
    gc.collect()
    assert freed == [True]


def test_recycled_results_are_never_seen_changing():
    """A result still referenced (outer list, a row or a float) is never reused."""
    side = CBookSide("asks")
    side.update([["1", "1"], ["2", "2"]])
    first = side.top(2)
    row = side.top(2)[0]
    side.update([["1", "5"], ["0.5", "3"]])
    assert first == [[1.0, 1.0], [2.0, 2.0]] and row == [1.0, 1.0]
    assert side.top(2) == [[0.5, 3.0], [1.0, 5.0]]
    again = side.top(2)
    again[0][0] = "x"
    again.append(None)
    del again
    assert side.top(2) == [[0.5, 3.0], [1.0, 5.0]]


def _exercise(side, rounds):
    for i in range(rounds):
        side.update([[f"{100 + i % 50}.{i % 7}", f"{i % 5}.5"], [f"{120 + i % 30}", "0"]])
        side.update([["9007199254740993.1", "1"], ["9007199254740993.2", "1." + "0" * 40]])
        side.top(5)
        side.top(3, decimal=True)
        side.best(decimal=True)
        try:
            side.update([["1", "1"], ["x", "1"], ["2", None]])
        except (TypeError, ValueError):
            pass
        if i % 100 == 0:
            side.replace([[f"{p}.25", "1"] for p in range(90, 140)], complete=i % 200 == 0)
            len(side)
            list(side)


def test_no_memory_grows_over_many_updates_and_reads():
    """Updates, reads, errors and replaces in a loop leave memory where it was (no leak)."""
    side = CBookSide("bids")
    _exercise(side, 400)  # warm up caches and free lists
    gc.collect()
    # Only what this test's code allocates (C allocations are filed under the Python line
    # that called them): a simulator another test left running allocates in its own thread.
    mine = [tracemalloc.Filter(True, __file__), tracemalloc.Filter(True, orderbook.__file__)]
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot().filter_traces(mine)
        _exercise(side, 3000)
        gc.collect()
        after = tracemalloc.take_snapshot().filter_traces(mine)
    finally:
        tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert grown < 64 * 1024, f"{grown} bytes more after the loop"


def test_texts_given_are_not_kept_alive():
    """The side keeps no reference to the caller's strings (plain texts are copied)."""
    side = CBookSide("asks")
    price, qty = "".join(["65000.", "01000000"]), "".join(["1.", "5"])
    before = sys.getrefcount(price), sys.getrefcount(qty)
    side.update([[price, qty]])
    side.update([[price, "0"]])
    side.update([[price, qty]])
    assert (sys.getrefcount(price), sys.getrefcount(qty)) == before


def test_pure_python_can_be_forced():
    """BINANCE_PURE_PYTHON=1 makes BookSide the pure-Python class."""
    code = (
        "from binance import orderbook, _depthsync;"
        "assert not orderbook.ACCELERATED and orderbook.BookSide is orderbook.PyBookSide;"
        "from binance import depthcache;"
        "assert _depthsync.DepthSync.__bases__ == (_depthsync._PySyncCore,);"
        "assert depthcache.DepthCache.__bases__ == (depthcache._PyDepthReads,);"
        "s = _depthsync.DepthSync('X', snapshot_limit=100);"
        "s.on_event({'U': 2, 'u': 2, 'b': [['1', '1']], 'a': []});"
        "s.on_snapshot({'lastUpdateId': 1, 'bids': [], 'asks': []});"
        "assert s.on_event({'U': 3, 'u': 3, 'b': [['2', '1']], 'a': []}) == (3, 3, None, 1);"
        "c = depthcache.DepthCache('X'); c.book = s.book;"
        "assert c.get_bids() == [[2.0, 1.0], [1.0, 1.0]] and c.get_asks(limit=1) == [];"
        "print('ok')"
    )
    env = dict(os.environ, BINANCE_PURE_PYTHON="1")
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
