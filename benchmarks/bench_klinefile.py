"""Kline files: rows per second written to ``FILE.partial`` and finished into CSV or Parquet.

Run from the repository root with the dev venv (Parquet needs the ``parquet`` extra)::

    .venv/bin/python benchmarks/bench_klinefile.py               # a year of 1m rows, ~40 s
    .venv/bin/python benchmarks/bench_klinefile.py --rows 100000 --repeat 1

What it measures, on ``--rows`` synthetic klines of one minute each (default 525,600: the year
2023, as ``binance klines BTCUSDT 1m "1 Jan, 2023" 2023-12-31T23:59:00Z`` downloads it), written
the way the command writes them (`binance.cli._klinefile.KlineWriter`, pages of 1000 rows):

- ``write``: ``resume()`` on a new file, then ``write_many(page)`` for every page.
- ``finish``: ``validate()`` + ``finish()``: the whole-file check, then the rename (CSV) or the
  conversion to Parquet (decimal128(38, 18) amounts, UTC millisecond timestamps).
- ``write+finish``: both; the file side of one download, what the command's CPU time adds to
  the download itself.
- ``resume``: ``resume()`` of a partial file holding every row (a download killed just before
  its end): the scan that keeps the longest valid prefix.

Times are CPU seconds of this process (``time.process_time``, all threads: pyarrow converts
with several), best of ``--repeat``. The rows are seeded and look like Binance's: 8-decimal
strings for prices and quantities, more decimals for quote volumes, integer times and counts.
No peers: python-binance and ccxt do not write kline files. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from binance.cli import _klinefile as kf

START_MS = 1672531200000  # 2023-01-01 00:00:00 UTC
MINUTE_MS = 60_000
PAGE = 1000  # klines per GET /api/v3/klines page, as the command receives them


def synthetic_rows(count: int, seed: int = 1) -> list[list[object]]:
    """``count`` klines of one minute from `START_MS`, as Binance's JSON parses (seeded)."""
    rng = random.Random(seed)
    price = 20_000_00  # cents
    rows: list[list[object]] = []
    for i in range(count):
        open_ms = START_MS + i * MINUTE_MS
        moves = [price + rng.randint(-800, 800) for _ in range(3)]
        close = moves[2]
        high, low = (
            max(price, *moves) + rng.randint(0, 300),
            min(price, *moves) - rng.randint(0, 300),
        )
        volume = rng.randint(1, 3_000_000_000)  # 1e-8 units
        taker = rng.randint(0, volume)
        rows.append(
            [
                open_ms,
                _cents(price),
                _cents(high),
                _cents(low),
                _cents(close),
                _units(volume),
                open_ms + MINUTE_MS - 1,
                _quote(volume, price),
                rng.randint(1, 5_000),
                _units(taker),
                _quote(taker, close),
                "0",
            ]
        )
        price = close
    return rows


def _cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}000000"


def _units(units: int) -> str:
    return f"{units // 10**8}.{units % 10**8:08d}"


def _quote(units: int, cents: int) -> str:
    amount = units * cents  # 1e-10 quote units
    return f"{amount // 10**10}.{amount % 10**10:010d}"


def _spec(rows: int) -> kf.Spec:
    end = START_MS + (rows - 1) * MINUTE_MS
    return kf.Spec("BTCUSDT", "1m", str(START_MS), str(end), START_MS, end)


def _cpu(action: Callable[[], object]) -> float:
    started = time.process_time()
    action()
    return time.process_time() - started


def run_once(rows: list[list[object]], suffix: str, folder: Path) -> dict[str, float]:
    """CPU seconds of each step for one file of ``suffix`` (``.csv`` or ``.parquet``)."""
    spec = _spec(len(rows))
    pages = [rows[i : i + PAGE] for i in range(0, len(rows), PAGE)]
    path = folder / f"klines{suffix}"
    times: dict[str, float] = {}

    # A killed download's partial file, resumed: the scan of the whole file.
    writer = kf.KlineWriter(path, spec)
    writer.resume()
    for page in pages:
        writer.write_many(page)
    writer.close()
    resumed = kf.KlineWriter(path, spec)
    times["resume"] = _cpu(resumed.resume)
    assert resumed.rows_written == len(rows), resumed.rows_written
    resumed.close()
    for name in (resumed.partial_path, resumed.meta_path):
        name.unlink()

    writer = kf.KlineWriter(path, spec)

    def write() -> None:
        writer.resume()
        for page in pages:
            writer.write_many(page)

    def finish() -> None:
        result = writer.validate()
        assert result.rows == len(rows) and not result.gaps, result
        writer.finish(result)

    times["write"] = _cpu(write)
    times["finish"] = _cpu(finish)
    times["write+finish"] = times["write"] + times["finish"]
    path.unlink()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rows", type=int, default=365 * 1440, help="klines (default a year)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is kept")
    parser.add_argument(
        "--format", choices=("csv", "parquet", "both"), default="both", help="file format(s)"
    )
    args = parser.parse_args()
    suffixes = {"csv": [".csv"], "parquet": [".parquet"], "both": [".csv", ".parquet"]}
    suffixes = suffixes[args.format]
    if ".parquet" in suffixes:
        try:
            kf.check_parquet_available()
        except kf.ParquetUnavailable as exc:
            print(f"{exc}; measuring CSV only", file=sys.stderr)
            suffixes = [".csv"]

    print(f"generating {args.rows:,} synthetic 1m klines ...", file=sys.stderr)
    rows = synthetic_rows(args.rows)
    folder = Path(tempfile.mkdtemp(prefix="bench_klinefile_"))
    try:
        best: dict[str, dict[str, float]] = {}
        for _ in range(args.repeat):
            for suffix in suffixes:  # interleaved: other load on the machine moves all numbers
                times = run_once(rows, suffix, folder)
                mine = best.setdefault(suffix, times)
                for step, seconds in times.items():
                    mine[step] = min(mine[step], seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print(f"\n{args.rows:,} rows of 1m klines, best of {args.repeat}, CPU seconds (rows/s)")
    steps = ("write", "finish", "write+finish", "resume")
    print(f"{'format':<9}" + "".join(f"{step:>24}" for step in steps))
    for suffix, times in best.items():
        cells = "".join(
            f"{times[step]:>10.2f} s ({args.rows / max(times[step], 1e-9):>9,.0f}/s)"
            for step in steps
        )
        print(f"{suffix[1:]:<9}{cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
