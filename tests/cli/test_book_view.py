"""`binance book`: the view as a pure function, then the real command reading an
AsyncDepthCacheManager fed by the local exchange (in-process, as a subprocess, on a pty)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
from rich.console import Console

from binance._governor import Governor
from binance.cli.book import BookStatus, book_status, render_book, weight_usage
from binance.depthcache import DepthCache

from .conftest import (
    OutputReader,
    binance_command,
    command_env,
    refused_url,
    spawn,
    stop_process,
)

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and ptys")

# -- the pure view ---------------------------------------------------------------------------------


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


def test_status_lines_show_state_update_id_lag_weight_and_source():
    """The header carries the sync state and the cache's health; the source has its own line."""
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
    lines = text.splitlines()
    assert lines[0].split() == [
        *("BNBBTC", "SYNCED", "update", "id", "4242", "lag", "37", "ms"),
        *("weight", "55/6000", "per", "minute"),
    ]
    assert lines[1] == "last event 2017-12-01 00:00:00 UTC  events 9  resyncs 1"
    assert lines[2] == "from http://127.0.0.1:1"
    assert lines[-1] == "resynchronising: gap"
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


def test_status_of_a_cache_no_manager_keeps():
    """A hand-made cache is SYNCING (nothing vouches for it): no lag, no counters; the weight
    comes from the governor given."""
    governor = Governor({("REQUEST_WEIGHT", 60_000): 6000, ("RAW_REQUESTS", 300_000): 61000})
    c = cache()
    c.update_time = 1_700_000_000_000
    status = book_status(c, now_ms=1_700_000_000_500, governor=governor, source="here")
    assert status == BookStatus(
        "SYNCING", event_time_ms=1_700_000_000_000, weight_used=0, weight_limit=6000, source="here"
    )
    noted = book_status(c, note=(1, "snapshot failed; retrying"))
    assert noted.message == "snapshot failed; retrying"


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


# -- the command against the local exchange --------------------------------------------------------

HEADER = re.compile(
    r"^(?P<symbol>[A-Z]+)  (?P<state>SYNCING|SYNCED|RESYNCING|STOPPED)"
    r"(?:  update id (?P<id>\d+))?(?:  lag (?P<lag>\d+) ms)?"
    r"(?:  weight (?P<used>\d+)/(?P<limit>\d+) per minute)?$"
)


def frames(out: str) -> list[dict]:
    """The frames printed one after another (output that is not a terminal), parsed."""
    found: list[dict] = []
    for line in out.splitlines():
        match = HEADER.match(line.strip())
        if match:
            found.append({**match.groupdict(), "lines": [], "asks": [], "bids": []})
        elif found:
            frame = found[-1]
            frame["lines"].append(line)
            parts = line.split()
            if parts[:1] == ["ask"]:
                frame["asks"].append(float(parts[1].replace(",", "")))
            elif parts[:1] == ["bid"]:
                frame["bids"].append(float(parts[1].replace(",", "")))
    return found


def assert_consistent(frame: dict, depth: int) -> None:
    asks, bids = frame["asks"], frame["bids"]
    assert len(asks) == depth and len(bids) == depth, frame
    assert asks == sorted(asks, reverse=True) and bids == sorted(bids, reverse=True)
    assert min(asks) > max(bids)  # never crossed


def test_once_prints_one_synced_book(run_cli, sim, sim_opts):
    """--once waits for the depth cache to sync and prints one consistent, uncrossed book with
    its update id, weight and source."""
    status, out, err = run_cli("book", "BNBBTC", "--once", "-n", "4", *sim_opts)
    assert status == 0, err
    [frame] = frames(out)
    assert frame["symbol"] == "BNBBTC" and frame["state"] == "SYNCED"
    assert int(frame["id"]) > 0
    assert frame["used"] is not None and int(frame["limit"]) > 0
    assert f"from {sim.rest_url}" in frame["lines"]
    assert_consistent(frame, 4)


def test_frames_prints_n_synced_frames_one_after_another(run_cli, sim_opts):
    """Off a terminal, --frames N prints N frames in full, from the first synced book on;
    update ids never go back."""
    status, out, err = run_cli(
        "book", "ETHUSDT", "--frames", "3", "--refresh", "20", "-n", "3", *sim_opts
    )
    assert status == 0, err
    shown = frames(out)
    assert [f["state"] for f in shown] == ["SYNCED"] * 3
    for frame in shown:
        assert_consistent(frame, 3)
    ids = [int(f["id"]) for f in shown]
    assert ids == sorted(ids)
    assert err == ""


def test_duration_ends_the_live_view(run_cli, sim_opts):
    """Without --once/--frames the view refreshes until --duration has passed, then exits 0."""
    status, out, err = run_cli("book", "ETHBTC", "--duration", "1", "--refresh", "10", *sim_opts)
    assert status == 0, err
    shown = frames(out)
    assert shown and all(f["symbol"] == "ETHBTC" for f in shown)


def test_unknown_symbol_fails_with_the_exchanges_error(run_cli, sim_opts):
    """The depth cache stops on the exchange's refusal: exit 1, its message, no frame printed."""
    status, out, err = run_cli("book", "NOPENOPE", "--once", *sim_opts)
    assert status == 1
    assert "-1121" in err and "Invalid symbol" in err
    assert out == "" and "Traceback" not in err


def test_unreachable_exchange_fails_at_once(run_cli):
    """Nothing listens: exit 1 with a line naming the URL, before any stream is opened."""
    url = refused_url()
    status, out, err = run_cli("book", "BNBBTC", "--base-url", url)
    assert status == 1
    assert f"cannot reach {url}" in err and out == ""


@posix_only
def test_a_resync_shows_in_the_view_and_ctrl_c_quits(sim):
    """A diff lost on the stream: the view reports the resync and its reason, then shows the
    book in sync again; Ctrl-C ends the live view with status 0."""
    symbol = "ETHUSDT"
    proc = spawn(
        "book", symbol, "-n", "3", "--refresh", "20", "--base-url", sim.rest_url, text=False
    )
    try:
        reader = OutputReader(proc.stdout.fileno())
        reader.read_until(lambda t: f"{symbol}  SYNCED" in t, 15, "a synced book")
        sim.faults.streams.skip_depth_events(1, symbol=symbol)
        reader.read_until(
            lambda t: "in sync again (last resync: gap: event U=" in t, 15, "the resync reported"
        )
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        sim.faults.reset()
        stop_process(proc)
    assert proc.returncode == 0, err
    assert b"Traceback" not in err
    shown = frames(reader.text + out.decode())
    after = [f for f in shown if f["lines"][0].endswith("resyncs 1")]
    assert after and after[-1]["state"] == "SYNCED"
    assert_consistent(after[-1], 3)


@posix_only
def test_on_a_terminal_the_view_redraws_in_place(sim):
    """On a terminal, frames replace each other (cursor moves up) and the cursor, hidden while
    the view runs, is shown again at the end."""
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [*binance_command(), "book", "BNBBTC", "--frames", "3", "--refresh", "20"]
            + ["-n", "2", "--base-url", sim.rest_url],
            stdout=slave,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=command_env(),
        )
    finally:
        os.close(slave)
    try:
        reader = OutputReader(master)
        screen = reader.read_to_end(30)
        _, err = proc.communicate(timeout=15)
    finally:
        stop_process(proc)
        os.close(master)
    assert proc.returncode == 0, err
    assert "\x1b[?25l" in screen and screen.rstrip().endswith("\x1b[?25h")
    assert screen.count("\x1b[1A") >= 2 * 6  # at least two redraws of a 6-line-plus view
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    assert "BNBBTC  SYNCED  update id" in plain
