"""`binance klines` killed mid-download resumes without repeating or missing a row."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from .conftest import TIMEOUT_SCALE, spawn

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

SYMBOL, INTERVAL, START, END = "ETHBTC", "1m", "1 Oct, 2025", "15 Oct, 2025"
EXPECTED_ROWS = 14 * 1440 + 1  # END is an inclusive open time
MINUTE = 60_000


def rows_in(path) -> int:
    try:
        with open(path, "rb") as f:
            return max(0, f.read().count(b"\n") - 1)
    except FileNotFoundError:
        return 0


def wait_for(condition, what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s * TIMEOUT_SCALE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("sig", "suffix"),
    [(signal.SIGKILL, ".csv"), (signal.SIGINT, ".csv"), (signal.SIGKILL, ".parquet")],
    ids=["SIGKILL", "SIGINT", "SIGKILL-parquet"],
)
def test_interrupted_download_resumes_into_the_uninterrupted_file(
    sim, run_cli, tmp_path, sig, suffix
):
    """Killed (or Ctrl-C) once FILE.partial has rows, the same command again finishes the
    file, equal to an uninterrupted download (byte for byte for CSV, table for table for
    Parquet), with every minute exactly once."""
    if suffix == ".parquet":
        pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / f"eth{suffix}"
    partial = tmp_path / f"eth{suffix}.partial"
    argv = [SYMBOL, INTERVAL, START, END, "-o", str(out), "--base-url", sim.rest_url]
    # Slow the exchange's klines down so the download is surely still running when killed.
    sim.faults.set_latency(250, path="/api/v3/klines")
    try:
        proc = spawn("klines", *argv, "--concurrency", "1", "-q")
        try:
            wait_for(lambda: rows_in(partial) >= 1000 or proc.poll() is not None, "rows", 60)
            assert proc.poll() is None, proc.communicate()
            os.kill(proc.pid, sig)
            _, stderr = proc.communicate(timeout=30 * TIMEOUT_SCALE)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    finally:
        sim.faults.reset()
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:  # Ctrl-C: the command says what it kept and how to resume
        assert proc.returncode == 130
        assert "run the same command again to resume" in stderr
        assert "Traceback" not in stderr
    kept = rows_in(partial)
    assert 1000 <= kept < EXPECTED_ROWS
    assert not out.exists()

    proc = spawn("klines", *argv)
    stdout, stderr = proc.communicate(timeout=120 * TIMEOUT_SCALE)
    assert proc.returncode == 0, stderr
    assert f"resumed after {kept:,} rows" in stdout
    assert not partial.exists() and not (tmp_path / f"eth{suffix}.partial.json").exists()

    if suffix == ".parquet":
        opens = [int(t.timestamp() * 1000) for t in pq.read_table(out)["open_time"].to_pylist()]
    else:
        opens = [int(line.split(",", 1)[0]) for line in out.read_text().splitlines()[1:]]
    assert len(opens) == EXPECTED_ROWS
    assert all(
        b - a == MINUTE for a, b in zip(opens, opens[1:], strict=False)
    )  # no repeat, no hole

    reference = tmp_path / f"reference{suffix}"
    status, _, err = run_cli(
        "klines",
        SYMBOL,
        INTERVAL,
        START,
        END,
        "-o",
        str(reference),
        "-q",
        "--base-url",
        sim.rest_url,
    )
    assert status == 0, err
    if suffix == ".parquet":
        assert pq.read_table(out).equals(pq.read_table(reference))
    else:
        assert out.read_bytes() == reference.read_bytes()
