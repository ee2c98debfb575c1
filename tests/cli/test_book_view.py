"""`binance book`'s view as a pure function, and the weight read from a real governor."""

from __future__ import annotations

from rich.console import Console

from binance._governor import Governor
from binance.cli.book import BookStatus, render_book, weight_usage
from binance.depthcache import DepthCache


def text_of(renderable) -> str:
    console = Console(width=120, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def cache() -> DepthCache:
    c = DepthCache("BNBBTC", use_decimal=True)
    for price, qty in [("0.0100", "1"), ("0.0099", "2"), ("0.0098", "3")]:
        c.add_bid([price, qty])
    for price, qty in [("0.0101", "4"), ("0.0102", "5.5"), ("0.0103", "6")]:
        c.add_ask([price, qty])
    return c


def rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line.split()[:1] in (["ask"], ["bid"])]


def test_asks_above_bids_with_cumulative_totals():
    """Asks highest first down to the best ask, then bids best first; totals accumulate."""
    text = text_of(render_book(cache(), BookStatus("SYNCED"), depth=3))
    assert rows(text) == [
        ["ask", "0.0103", "6.0", "15.5"],
        ["ask", "0.0102", "5.5", "9.5"],
        ["ask", "0.0101", "4.0", "4.0"],
        ["bid", "0.0100", "1.0", "1.0"],
        ["bid", "0.0099", "2.0", "3.0"],
        ["bid", "0.0098", "3.0", "6.0"],
    ]


def test_depth_limits_levels_per_side():
    """depth=1 shows only the best bid and the best ask."""
    text = text_of(render_book(cache(), BookStatus("SYNCED"), depth=1))
    assert [r[:2] for r in rows(text)] == [["ask", "0.0101"], ["bid", "0.0100"]]


def test_status_line_shows_state_update_id_lag_and_weight():
    """The header carries the sync state and the cache's health."""
    status = BookStatus(
        "SYNCED",
        update_id=4242,
        event_time_ms=1512086400000,
        lag_ms=37,
        weight_used=55,
        weight_limit=6000,
        events=9,
        resyncs=1,
        message="resynchronising: gap",
        source="http://127.0.0.1:1",
    )
    text = text_of(render_book(cache(), status, depth=2))
    first = text.splitlines()[0]
    assert first.split() == [
        "BNBBTC",
        "SYNCED",
        "update",
        "id",
        "4242",
        "lag",
        "37",
        "ms",
        "weight",
        "55/6000",
        "per",
        "minute",
    ]
    assert "last event 2017-12-01 00:00:00 UTC" in text
    assert "events 9  resyncs 1" in text
    assert "resynchronising: gap" in text
    assert "spread" in text and "0.0001" in text


def test_empty_book_while_syncing():
    """Before the first snapshot: the state and an explicit 'no levels' line."""
    text = text_of(render_book(DepthCache("ETHBTC"), BookStatus("SYNCING"), depth=5))
    assert text.splitlines()[0].split() == ["ETHBTC", "SYNCING"]
    assert "(no levels yet)" in text


def test_float_caches_render_too():
    """A seed-style cache returning floats renders the same prices."""
    c = DepthCache("BNBBTC")
    c.add_bid(["0.5", "2"])
    c.add_ask(["0.75", "1"])
    text = text_of(render_book(c, BookStatus("SYNCED"), depth=5))
    assert [r[:3] for r in rows(text)] == [["ask", "0.75", "1"], ["bid", "0.50", "2"]]


def test_weight_usage_follows_the_servers_count():
    """After an answer with X-MBX-USED-WEIGHT-1M the governor reports that count."""
    governor = Governor({("REQUEST_WEIGHT", 60_000): 6000, ("RAW_REQUESTS", 300_000): 61000})
    now = 1_700_000_010_000
    ticket = governor.try_acquire(now, weight=5)
    used, limit = weight_usage(governor, now)
    assert used == 5 and limit > 0
    governor.release(ticket, now + 5, {"x-mbx-used-weight-1m": "123"}, status=200)
    assert weight_usage(governor, now + 10)[0] == 123
    # A minute later the count has rolled over.
    assert weight_usage(governor, now + 60_000)[0] == 0


def test_weight_usage_of_something_else_is_none():
    """No governor, no number (the view leaves the field out)."""
    assert weight_usage(object()) is None
