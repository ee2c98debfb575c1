"""The issue's promise, end to end: a year of 1m candles to Parquet, with a progress bar."""

from __future__ import annotations

import re

import pytest

from .conftest import TIMEOUT_SCALE, command_env, spawn, stop_process

START_MS = 1672531200000  # 2023-01-01 00:00:00 UTC
MINUTE_MS = 60_000
ROWS = 365 * 1440  # 2023 is not a leap year: 525,600 minutes
LAST_MS = START_MS + (ROWS - 1) * MINUTE_MS  # 2023-12-31 23:59:00 UTC (END is inclusive)

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PROGRESS = re.compile(
    r"BTCUSDT 1m .*? (?P<done>\d+)/(?P<total>\d+) rows\s+(?P<pct>\d+)%\s+"
    r"(?:(?P<rate>[\d,]+/s)\s+)?.*ETA (?P<eta>\S+)"
)


@pytest.mark.slow
def test_a_year_of_minutes_to_parquet_with_a_progress_bar(sim, tmp_path):
    """`binance klines BTCUSDT 1m '1 Jan, 2023' 2023-12-31T23:59:00Z -o x.parquet`, run as a user
    does on a terminal: the progress bar counts rows with a rate and an ETA, the summary names
    the file, and the file holds every minute of 2023 exactly once, in order."""
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa
    import pyarrow.compute as pc

    path = tmp_path / "x.parquet"
    argv = ["klines", "BTCUSDT", "1m", "1 Jan, 2023", "2023-12-31T23:59:00Z", "-o", str(path)]
    # rich draws its progress bar only on a terminal: tell it stderr is one.
    env = command_env(TTY_COMPATIBLE="1", TTY_INTERACTIVE="1")
    proc = spawn(*argv, "--base-url", sim.rest_url, env=env)
    try:
        stdout, stderr = proc.communicate(timeout=120 * TIMEOUT_SCALE)
    finally:
        stop_process(proc)
    assert proc.returncode == 0, stderr

    summary = ANSI.sub("", stdout).strip()
    assert summary == (
        f"BTCUSDT 1m: 525,600 rows, 2023-01-01 00:00:00 UTC to 2023-12-31 23:59:00 UTC -> {path}"
    )
    # Each redraw of the bar is a frame; frames before the end show a count and an ETA.
    bars = [m.groupdict() for m in PROGRESS.finditer(ANSI.sub("", stderr))]
    assert bars, stderr[-2000:]
    assert all(int(b["total"]) == ROWS for b in bars)
    running = [b for b in bars if 0 < int(b["done"]) < ROWS]
    assert any(b["rate"] and re.fullmatch(r"\d+:\d\d:\d\d", b["eta"]) for b in running)
    assert [int(b["done"]) for b in bars] == sorted(int(b["done"]) for b in bars)
    assert bars[-1]["done"] == str(ROWS) and bars[-1]["pct"] == "100"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.parquet"]  # no .partial left

    table = pq.read_table(path, columns=["open_time", "close_time"])
    assert table.num_rows == ROWS
    opens = table.column("open_time").cast(pa.int64())
    closes = table.column("close_time").cast(pa.int64())
    assert opens[0].as_py() == START_MS and opens[-1].as_py() == LAST_MS
    # Every minute exactly once: ROWS strictly increasing values one minute apart.
    steps = pc.subtract(opens.slice(1), opens.slice(0, ROWS - 1))
    assert pc.min_max(steps).as_py() == {"min": MINUTE_MS, "max": MINUTE_MS}
    assert pc.min_max(pc.subtract(closes, opens)).as_py() == {
        "min": MINUTE_MS - 1,
        "max": MINUTE_MS - 1,
    }
