"""The stream layer's decisions, by value: names, placement, pacing, watchdog, backoff, dedupe,
the bounded backlog and the WebSocket API signing payload (no sockets here)."""

from __future__ import annotations

import random

import pytest

from binance import enums
from binance._streams import rules
from binance._streams.rules import (
    Backlog,
    Deduper,
    DedupeResult,
    Pacer,
    Policy,
    StreamConfig,
    Watchdog,
    WatchdogAction,
)

# -- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (rules.aggtrade_stream("BNBBTC"), "bnbbtc@aggTrade"),
        (rules.trade_stream("BnbBtc"), "bnbbtc@trade"),
        (rules.symbol_ticker_stream("ETHBTC"), "ethbtc@ticker"),
        (rules.kline_stream("BNBBTC"), "bnbbtc@kline_1m"),
        (rules.kline_stream("BNBBTC", enums.KLINE_INTERVAL_1MONTH), "bnbbtc@kline_1M"),
        (rules.depth_stream("BNBBTC"), "bnbbtc@depth"),
        (rules.depth_stream("BNBBTC", enums.WEBSOCKET_DEPTH_5), "bnbbtc@depth5"),
        (rules.depth_stream("BNBBTC", 20, 100), "bnbbtc@depth20@100ms"),
        (rules.depth_stream("BNBBTC", None, 1000), "bnbbtc@depth"),
        (rules.depth_stream("BNBBTC", None, 100), "bnbbtc@depth@100ms"),
    ],
)
def test_stream_names_follow_binance(built: str, expected: str) -> None:
    """Factories build Binance's stream names with lower-case symbols (NOTES.md §9)."""
    assert built == expected


@pytest.mark.parametrize(
    "call",
    [
        lambda: rules.kline_stream("BNBBTC", "2m"),
        lambda: rules.depth_stream("BNBBTC", 15),
        lambda: rules.depth_stream("BNBBTC", None, 250),
        lambda: rules.trade_stream(""),
        lambda: rules.normalize_stream("  "),
    ],
)
def test_bad_stream_arguments_are_refused(call) -> None:
    """Unknown intervals, depth levels, speeds and empty names raise ValueError."""
    with pytest.raises(ValueError):
        call()


def test_normalize_lowercases_only_the_symbol() -> None:
    """The symbol part is lower-cased; the interval's case (1M month vs 1m) is kept."""
    assert rules.normalize_stream("BNBBTC@kline_1M") == "bnbbtc@kline_1M"
    assert rules.normalize_stream("!miniTicker@arr") == "!miniTicker@arr"


def test_ticker_socket_serves_the_one_day_window_array() -> None:
    """The retired !ticker@arr is replaced by !ticker_1d@arr (NOTES.md §0)."""
    assert rules.RETIRED_ALL_MARKET_TICKERS_STREAM == "!ticker@arr"
    assert rules.ALL_MARKET_TICKERS_STREAM == "!ticker_1d@arr"


@pytest.mark.parametrize(
    ("stream", "kind", "policy"),
    [
        ("bnbbtc@depth", "depth", Policy.GAP),
        ("bnbbtc@depth@100ms", "depth", Policy.GAP),
        ("bnbbtc@depth5", "depthPartial", Policy.CONFLATE),
        ("bnbbtc@depth20@100ms", "depthPartial", Policy.CONFLATE),
        ("bnbbtc@trade", "trade", Policy.GAP),
        ("bnbbtc@aggTrade", "aggTrade", Policy.GAP),
        ("bnbbtc@kline_1m", "kline", Policy.CONFLATE),
        ("bnbbtc@ticker", "ticker", Policy.CONFLATE),
        ("bnbbtc@ticker_4h", "ticker", Policy.CONFLATE),
        ("bnbbtc@miniTicker", "ticker", Policy.CONFLATE),
        ("!ticker_1d@arr", "tickerArray", Policy.CONFLATE),
        ("!miniTicker@arr", "tickerArray", Policy.CONFLATE),
        ("bnbbtc@bookTicker", "bookTicker", Policy.CONFLATE),
        ("bnbbtc@avgPrice", "price", Policy.CONFLATE),
        ("bnbbtc@blockTrade", "other", Policy.GAP),
    ],
)
def test_every_stream_kind_has_an_explicit_policy(stream: str, kind: str, policy: Policy) -> None:
    """Depth diffs and trades never drop silently; tickers and books conflate."""
    got = rules.classify(stream)
    assert (got.name, got.policy) == (kind, policy)


# -- placement ------------------------------------------------------------------------------------


def test_placement_fills_existing_connections_then_opens_new_ones() -> None:
    """New streams go to the fullest connection with room, then to new ones of 1024 each."""
    streams = [f"s{i}@trade" for i in range(2100)]
    plan = rules.place_streams(streams, {"a": 1000, "b": 10}, 1024)
    assert [(key, len(chunk)) for key, chunk in plan] == [
        ("a", 24),
        ("b", 1014),
        (None, 1024),
        (None, 38),
    ]
    placed = [s for _, chunk in plan for s in chunk]
    assert placed == streams


def test_placement_ignores_duplicates_and_full_connections() -> None:
    """A repeated name is placed once; a full connection gets nothing."""
    plan = rules.place_streams(["x@trade", "x@trade", "y@trade"], {"full": 3}, 3)
    assert plan == [(None, ["x@trade", "y@trade"])]


def test_url_plan_keeps_the_url_short_and_chunks_the_rest() -> None:
    """Streams beyond the URL limit are subscribed by messages of at most N names."""
    streams = [f"sym{i:04d}@aggTrade" for i in range(50)]  # 16 chars each
    in_url, messages = rules.plan_url(streams, base_len=30, max_url_chars=200, max_per_message=20)
    assert 30 + len("/".join(in_url)) <= 200
    assert in_url == streams[: len(in_url)]
    assert len(in_url) == 10  # 30 + 16 + 9 * 17 = 199 characters
    assert [len(m) for m in messages] == [20, 20]
    assert in_url + [s for m in messages for s in m] == streams


def test_url_plan_always_puts_one_stream_in_the_url() -> None:
    """Even a name longer than the limit travels in the URL (a connection needs one)."""
    in_url, messages = rules.plan_url(
        ["x" * 500], base_len=10, max_url_chars=100, max_per_message=5
    )
    assert in_url == ["x" * 500] and messages == []


# -- ids, pacing, watchdog, backoff, rotation ------------------------------------------------------


def test_request_ids_increase_and_wrap() -> None:
    """Ids count up from 1 and wrap before the signed 64-bit limit."""
    ids = rules.RequestIds()
    assert [ids.next() for _ in range(3)] == [1, 2, 3]
    late = rules.RequestIds(start=2**62)
    assert [late.next(), late.next()] == [2**62, 1]


def test_pacer_allows_four_messages_in_any_second() -> None:
    """The fifth message within one rolling second waits until the first leaves the window."""
    pacer = Pacer(4)
    for t in (0.0, 0.1, 0.2, 0.3):
        assert pacer.delay(t) == 0.0
        pacer.record(t)
    assert pacer.delay(0.5) == pytest.approx(0.5)
    assert pacer.delay(1.0) == 0.0
    pacer.record(1.0)
    assert pacer.delay(1.05) == pytest.approx(0.05)


def test_config_refuses_five_messages_a_second() -> None:
    """Binance disconnects above 5 incoming messages a second; we stay at 4 or less."""
    with pytest.raises(ValueError):
        StreamConfig(max_messages_per_s=5)
    with pytest.raises(ValueError):
        StreamConfig(max_streams_per_connection=1025)


def test_watchdog_pings_a_silent_connection_then_declares_it_stalled() -> None:
    """Silence for idle_timeout asks for a ping; silence after the ping means stalled."""
    dog = Watchdog(0.0, idle_timeout_s=30.0, pong_timeout_s=10.0)
    assert dog.check(10.0) == (WatchdogAction.OK, 30.0)
    action, _ = dog.check(30.0)
    assert action is WatchdogAction.PING
    dog.on_ping_sent(30.0)
    assert dog.check(35.0) == (WatchdogAction.OK, 40.0)
    assert dog.check(40.0)[0] is WatchdogAction.STALLED


def test_watchdog_pong_or_data_resets_it() -> None:
    """Any frame after our ping (the pong) clears the stall deadline."""
    dog = Watchdog(0.0, idle_timeout_s=30.0, pong_timeout_s=10.0)
    dog.on_ping_sent(30.0)
    dog.on_frame(32.0, data=False)
    assert dog.check(41.0) == (WatchdogAction.OK, 62.0)


def test_watchdog_data_timeout_ignores_pongs() -> None:
    """With data_timeout set, pongs alone do not keep a data-less connection alive."""
    dog = Watchdog(0.0, idle_timeout_s=30.0, pong_timeout_s=10.0, data_timeout_s=5.0)
    dog.on_frame(4.0, data=False)
    assert dog.check(4.5) == (WatchdogAction.OK, 5.0)
    assert dog.check(5.0)[0] is WatchdogAction.STALLED


def test_backoff_defaults_grow_to_the_cap_with_jitter() -> None:
    """0.1 s doubling to at most 10 s, each delay within [d * (1 - jitter), d]."""
    delays = rules.backoff_delays(rng=random.Random(1))
    got = [next(delays) for _ in range(10)]
    bases = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0, 10.0, 10.0]
    for value, base in zip(got, bases, strict=True):
        assert base * 0.5 <= value <= base
    no_jitter = rules.backoff_delays(0.5, 3.0, 3.0, 0.0)
    assert [next(no_jitter) for _ in range(4)] == [0.5, 1.5, 3.0, 3.0]


def test_rotation_happens_before_the_24_hour_cut() -> None:
    """A connection is replaced between rotate_before+jitter and rotate_before before 24 h."""
    config = StreamConfig()
    for seed in range(20):
        delay = rules.rotation_delay(config, random.Random(seed))
        assert 24 * 3600 - 15 * 60 <= delay <= 24 * 3600 - 10 * 60


# -- dedupe ---------------------------------------------------------------------------------------


def test_dedupe_drops_repeats_and_tells_which_link_saw_them() -> None:
    """A key seen before is a duplicate, of the same or of the other connection."""
    d = Deduper(window=4)
    assert d.accept("s", 1, 1, ordered=True) is DedupeResult.NEW
    assert d.accept("s", 1, 1, ordered=True) is DedupeResult.DUP_SAME_LINK
    assert d.accept("s", 1, 2, ordered=True) is DedupeResult.DUP_OTHER_LINK
    assert d.accept("other", 1, 2, ordered=True) is DedupeResult.NEW


def test_dedupe_ordered_keys_below_the_window_are_duplicates() -> None:
    """A lagging connection replaying ids older than the window is still filtered."""
    d = Deduper(window=3)
    for key in range(1, 11):
        assert d.accept("s", key, 1, ordered=True) is DedupeResult.NEW
    assert d.accept("s", 2, 2, ordered=True) is DedupeResult.DUP_OTHER_LINK
    # unordered keys (hashes) only remember the window
    assert d.accept("u", "a", 1, ordered=False) is DedupeResult.NEW


def test_dedupe_delivers_reordered_messages_once() -> None:
    """Two swapped events are both delivered; their repeats are not."""
    d = Deduper(window=8)
    got = [d.accept("s", k, 1, ordered=True) for k in (1, 3, 2, 3, 2, 4)]
    assert got == [
        DedupeResult.NEW,
        DedupeResult.NEW,
        DedupeResult.NEW,
        DedupeResult.DUP_SAME_LINK,
        DedupeResult.DUP_SAME_LINK,
        DedupeResult.NEW,
    ]


def test_dedupe_forget_starts_a_stream_afresh() -> None:
    """After forget (unsubscribe), the same keys count as new."""
    d = Deduper()
    d.accept("s", 5, 1, ordered=True)
    d.forget("s")
    assert d.accept("s", 5, 1, ordered=True) is DedupeResult.NEW


# -- the backlog ----------------------------------------------------------------------------------


def _backlog(max_len: int, combined: bool = False) -> Backlog:
    return Backlog(max_len, combined=combined, now_ms=lambda: 1234)


def test_backlog_is_fifo_within_its_bound() -> None:
    """Under the bound every message comes out once, in order."""
    b = _backlog(10)
    kind = rules.classify("x@trade")
    for t in range(5):
        b.put("x@trade", kind, {"t": t}, {"t": t})
    assert [m["t"] for m in b.pop_many(10)] == [0, 1, 2, 3, 4]
    assert len(b) == 0 and b.dropped == 0


def test_backlog_overflow_replaces_depth_diffs_by_one_gap_event() -> None:
    """A full queue drops the lossless streams' backlog and says so, once per stream."""
    b = _backlog(4)
    depth = rules.classify("x@depth")
    for u in range(4):
        b.put("x@depth", depth, {"u": u}, {"u": u})
    b.put("x@depth", depth, {"u": 4}, {"u": 4})
    out = b.pop_many(10)
    assert out[0] == rules.gap_event("x@depth", 4, 1234)
    assert out[0]["e"] == "gap" and out[0]["dropped"] == 4
    assert out[1] == {"u": 4}
    assert b.dropped == 4


def test_backlog_conflates_tickers_in_place() -> None:
    """A queued ticker is replaced by the newer one, keeping its place in the queue."""
    b = _backlog(10)
    ticker = rules.classify("x@ticker")
    trade = rules.classify("x@trade")
    b.put("x@ticker", ticker, {"c": "1"}, {"c": "1"})
    b.put("x@trade", trade, {"t": 1}, {"t": 1})
    b.put("x@ticker", ticker, {"c": "2"}, {"c": "2"})
    assert b.pop_many(10) == [{"c": "2"}, {"t": 1}]
    assert b.conflated == 1
    b.put("x@ticker", ticker, {"c": "3"}, {"c": "3"})
    assert b.pop() == {"c": "3"}


def test_backlog_keeps_the_last_update_of_each_candle() -> None:
    """Kline updates conflate per candle, so a closed candle is never replaced by the next."""
    b = _backlog(10)
    kline = rules.classify("x@kline_1m")
    for t, close, final in ((0, "1", False), (0, "2", True), (60, "3", False), (60, "4", False)):
        data = {"k": {"t": t, "c": close, "x": final}}
        b.put("x@kline_1m", kline, data, data)
    assert [(m["k"]["t"], m["k"]["c"], m["k"]["x"]) for m in b.pop_many(10)] == [
        (0, "2", True),
        (60, "4", False),
    ]


def test_backlog_merges_ticker_arrays_by_symbol() -> None:
    """All-market arrays hold changed symbols only; conflation keeps every symbol's latest."""
    b = _backlog(10, combined=True)
    arr = rules.classify("!ticker_1d@arr")
    first = [{"s": "A", "c": "1"}, {"s": "B", "c": "1"}]
    second = [{"s": "B", "c": "2"}, {"s": "C", "c": "2"}]
    b.put("!ticker_1d@arr", arr, {"stream": "!ticker_1d@arr", "data": first}, first)
    b.put("!ticker_1d@arr", arr, {"stream": "!ticker_1d@arr", "data": second}, second)
    (item,) = b.pop_many(10)
    assert item["stream"] == "!ticker_1d@arr"
    assert item["data"] == [{"s": "A", "c": "1"}, {"s": "B", "c": "2"}, {"s": "C", "c": "2"}]


def test_backlog_stays_bounded_under_a_stalled_consumer() -> None:
    """A hundred thousand messages (a hundred overflows) into a stalled consumer never hold
    more than the bound plus gaps."""
    b = _backlog(1000, combined=True)
    kinds = {s: rules.classify(s) for s in ("a@depth", "b@trade", "c@ticker", "d@kline_1m")}
    peak = 0
    total = 25_000
    for i in range(total):
        for stream, kind in kinds.items():
            data = {"u": i, "t": i, "k": {"t": i // 1000}}
            b.put(stream, kind, {"stream": stream, "data": data}, data)
        peak = max(peak, len(b))
    assert peak <= 1000 + len(kinds)
    items = b.pop_many(2000)
    gaps = {i["stream"]: i["data"] for i in items if i["data"].get("e") == "gap"}
    assert set(gaps) == {"a@depth", "b@trade"}  # only lossless streams report drops
    for stream in ("a@depth", "b@trade"):
        kept = [i["data"]["u"] for i in items if i["stream"] == stream and "u" in i["data"]]
        # nothing is lost silently: what was not delivered is counted by the gap event
        assert gaps[stream]["dropped"] + len(kept) == total
        assert kept == list(range(total - len(kept), total))
    tickers = [i for i in items if i["stream"] == "c@ticker"]
    assert [t["data"]["u"] for t in tickers] == [total - 1]


def test_backlog_gap_event_moves_behind_the_newest_loss() -> None:
    """A second overflow folds the earlier gap event into one at the tail, with the total."""
    b = _backlog(3)
    kind = rules.classify("x@trade")
    for t in range(8):
        b.put("x@trade", kind, {"t": t}, {"t": t})
    out = b.pop_many(10)
    gaps = [m for m in out if m.get("e") == "gap"]
    assert len(gaps) == 1
    assert out.index(gaps[0]) < out.index({"t": 7})
    assert gaps[0]["dropped"] + sum(1 for m in out if "t" in m) == 8


def test_backlog_never_drops_the_terminal_error() -> None:
    """The max-retries error survives any overflow."""
    b = _backlog(2)
    kind = rules.classify("x@trade")
    b.put_terminal(rules.error_event())
    for t in range(10):
        b.put("x@trade", kind, {"t": t}, {"t": t})
    assert b.pop() == {"e": "error", "m": "Max reconnect retries reached"}


def test_status_events_say_what_happened_to_the_stream() -> None:
    """Status events carry their kind in ``e``, the stream and a sentence; unknown kinds are
    refused."""
    live = rules.status_event(rules.STATUS_SUBSCRIBED, "x@depth", 1234)
    assert live == {"e": "subscribed", "E": 1234, "stream": "x@depth", "m": "x@depth is live"}
    again = rules.status_event(rules.STATUS_RECONNECTED, "x@depth", 1235)
    assert again["e"] == "reconnected" and again["stream"] == "x@depth"
    assert "lost" in again["m"]
    with pytest.raises(ValueError, match="status"):
        rules.status_event("paused", "x@depth", 1)


def test_backlog_keeps_status_events_in_order_through_an_overflow() -> None:
    """A status event stays between the messages it separates, and no overflow drops it:
    the diffs around it become a gap event behind it."""
    b = _backlog(3)
    depth = rules.classify("x@depth")
    b.put("x@depth", depth, {"u": 1}, {"u": 1})
    b.put_status("x@depth", rules.STATUS_RECONNECTED, "R")
    b.put("x@depth", depth, {"u": 5}, {"u": 5})
    assert b.pop_many(10) == [{"u": 1}, "R", {"u": 5}]
    b.put_status("x@depth", rules.STATUS_RECONNECTED, "R")
    for u in range(6, 10):
        b.put("x@depth", depth, {"u": u}, {"u": u})
    out = b.pop_many(10)
    assert out[0] == "R" and out[1]["e"] == "gap" and out[2] == {"u": 9}
    assert len(b) == 0


def test_backlog_keeps_one_status_event_per_stream_and_kind() -> None:
    """A newer status event of the same stream and kind replaces the queued one at the tail,
    so a stalled consumer's queue stays bounded however often its connection reconnects."""
    b = _backlog(100)
    trade = rules.classify("x@trade")
    b.put_status("x@trade", rules.STATUS_SUBSCRIBED, "S")
    for t in range(3):
        b.put_status("x@trade", rules.STATUS_RECONNECTED, f"R{t}")
        b.put_status("y@trade", rules.STATUS_RECONNECTED, f"Y{t}")
        b.put("x@trade", trade, {"t": t}, {"t": t})
    assert b.pop_many(100) == ["S", {"t": 0}, {"t": 1}, "R2", "Y2", {"t": 2}]
    b.put_status("x@trade", rules.STATUS_RECONNECTED, "again")
    b.clear()
    b.put_status("x@trade", rules.STATUS_RECONNECTED, "after clear")
    assert b.pop_many(10) == ["after clear"]


# -- WebSocket API signing ------------------------------------------------------------------------


def test_ws_api_payload_sorts_and_does_not_encode() -> None:
    """NOTES.md §2.3: sorted names, no percent-encoding, booleans as true/false."""
    params = {
        "timestamp": 1649729878532,
        "apiKey": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        "signature": "ignored",
        "flag": True,
        "note": "a b/c=d",
    }
    assert rules.ws_api_payload(params) == (
        "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
        "&flag=true&note=a b/c=d&timestamp=1649729878532"
    )


def test_ws_api_logon_example_signature_matches_the_docs() -> None:
    """The documented session.logon example signs to the documented HMAC signature."""
    import hashlib
    import hmac

    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    params = {
        "apiKey": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        "timestamp": 1649729878532,
    }
    payload = rules.ws_api_payload(params).encode()
    signature = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    assert signature == "1cf54395b336b0a9727ef27d5d98987962bc47aca6e13fe978612d0adee066ed"
