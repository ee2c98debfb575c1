"""The resumable kline file: partial file in order, resume after a torn line, validation."""

from __future__ import annotations

import json
import sys
from decimal import Decimal

import pytest

from binance.cli import _klinefile as kf

MINUTE = 60_000


def kline(open_ms: int, step: int = MINUTE, close: str = "1.50000000") -> list:
    """A kline array as Binance sends it (strings for amounts)."""
    return [
        open_ms,
        "1.00000000",
        "2.00000000",
        "0.50000000",
        close,
        "10.12345678",
        open_ms + step - 1,
        "26.977644434",
        7,
        "1.00000000",
        "2.00000000",
        "0",
    ]


def spec(start_ms: int = 0, end_ms: int = 99 * MINUTE, interval: str = "1m", **kw) -> kf.Spec:
    fields = {"symbol": "BTCUSDT", "interval": interval, "start": "0", "end": None}
    fields.update(kw)
    return kf.Spec(start_ms=start_ms, end_ms=end_ms, **fields)


def write_rows(path, s: kf.Spec, opens) -> kf.KlineWriter:
    writer = kf.KlineWriter(path, s)
    writer.resume()
    writer.write_many(kline(t) for t in opens)
    writer.close()
    return writer


def test_fresh_download_starts_a_partial_file_and_finishes_into_csv(tmp_path):
    """Rows go to FILE.partial with a header; finish() renames it and removes the metadata."""
    out = tmp_path / "k.csv"
    writer = kf.KlineWriter(out, spec())
    assert writer.resume() is None
    assert writer.partial_path.name == "k.csv.partial"
    assert json.loads(writer.meta_path.read_text())["symbol"] == "BTCUSDT"
    writer.write_many(kline(t * MINUTE) for t in range(3))
    result = writer.finish()
    assert (result.rows, result.first_ms, result.last_ms, result.gaps) == (3, 0, 2 * MINUTE, [])
    lines = out.read_text().splitlines()
    assert lines[0] == ",".join(kf.COLUMNS)
    assert lines[1].split(",") == [
        "0", "1.00000000", "2.00000000", "0.50000000", "1.50000000", "10.12345678", "59999",
        "26.977644434", "7", "1.00000000", "2.00000000", "0",
    ]  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.csv"]


def test_resume_cuts_a_torn_last_line_and_continues_after_the_last_complete_row(tmp_path):
    """A process killed mid-line leaves a torn row: it is dropped, the rest is kept."""
    out = tmp_path / "k.csv"
    write_rows(out, spec(), [0, MINUTE, 2 * MINUTE])
    partial = tmp_path / "k.csv.partial"
    with open(partial, "a") as f:
        f.write("180000,1.0000")  # torn
    writer = kf.KlineWriter(out, spec())
    assert writer.resume() == 2 * MINUTE
    assert writer.rows_written == 3
    writer.write(kline(3 * MINUTE))
    result = writer.finish()
    assert result.rows == 4 and result.gaps == []
    opens = [int(line.split(",")[0]) for line in out.read_text().splitlines()[1:]]
    assert opens == [0, MINUTE, 2 * MINUTE, 3 * MINUTE]


def test_resume_keeps_the_first_runs_resolved_times(tmp_path):
    """A rerun of '1 day ago UTC' resumes the same window, so results equal one run's."""
    out = tmp_path / "k.csv"
    write_rows(out, spec(start_ms=0, end_ms=50 * MINUTE, start="1 day ago UTC"), [0])
    later = spec(start_ms=5 * MINUTE, end_ms=60 * MINUTE, start="1 day ago UTC")
    writer = kf.KlineWriter(out, later)
    assert writer.resume() == 0
    assert (writer.spec.start_ms, writer.spec.end_ms) == (0, 50 * MINUTE)
    writer.close()


def test_resume_refuses_a_partial_file_of_another_download(tmp_path):
    """Another symbol, interval or date range: ResumeMismatch, and nothing is touched."""
    out = tmp_path / "k.csv"
    write_rows(out, spec(), [0, MINUTE])
    before = (tmp_path / "k.csv.partial").read_bytes()
    other = kf.KlineWriter(out, spec(symbol="ETHUSDT"))
    with pytest.raises(kf.ResumeMismatch, match="BTCUSDT 1m"):
        other.resume()
    assert (tmp_path / "k.csv.partial").read_bytes() == before


def test_resume_with_a_damaged_header_starts_again(tmp_path):
    """A partial file that is not ours (bad header) is rewritten from scratch."""
    out = tmp_path / "k.csv"
    write_rows(out, spec(), [0])
    (tmp_path / "k.csv.partial").write_text("garbage\n0,1\n")
    writer = kf.KlineWriter(out, spec())
    assert writer.resume() is None and writer.rows_written == 0
    writer.close()
    assert (tmp_path / "k.csv.partial").read_text() == ",".join(kf.COLUMNS) + "\n"


def test_resume_stops_at_a_row_that_breaks_the_order(tmp_path):
    """Rows after the first out-of-order one are not trusted: the file is cut there."""
    out = tmp_path / "k.csv"
    write_rows(out, spec(), [0, MINUTE])
    with open(tmp_path / "k.csv.partial", "a") as f:
        f.write(kf._format_row(kline(0)))  # a repeat
        f.write(kf._format_row(kline(2 * MINUTE)))
    writer = kf.KlineWriter(out, spec())
    assert writer.resume() == MINUTE and writer.rows_written == 2
    writer.close()


def test_write_refuses_rows_out_of_order(tmp_path):
    """A repeated or older open time is a bug upstream: refused before it reaches the file."""
    writer = kf.KlineWriter(tmp_path / "k.csv", spec())
    writer.resume()
    writer.write(kline(MINUTE))
    with pytest.raises(ValueError, match="not after"):
        writer.write(kline(MINUTE))
    writer.close()


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (["0,1,2"], "3 fields"),
        ([kf._format_row(kline(0)).replace("1.00000000", "1e5", 1).strip()], "not a decimal"),
        ([kf._format_row(kline(200 * MINUTE)).strip()], "outside the requested range"),
        ([kf._format_row(kline(MINUTE)).strip(), kf._format_row(kline(0)).strip()], "not after"),
        ([kf._format_row(kline(0)).strip(), kf._format_row(kline(90_000)).strip()], "whole number"),
    ],
    ids=["short-row", "scientific", "out-of-range", "out-of-order", "misaligned"],
)
def test_validate_names_the_first_bad_row(tmp_path, rows, problem):
    """validate() raises ValidationError with the line number and what is wrong."""
    writer = kf.KlineWriter(tmp_path / "k.csv", spec())
    writer.resume()
    writer.close()
    with open(writer.partial_path, "a") as f:
        f.write("\n".join(rows) + "\n")
    with pytest.raises(kf.ValidationError, match=problem):
        writer.validate()


def test_validate_reports_gaps_in_minutes(tmp_path):
    """Missing klines between rows are reported as gaps (first, last, count)."""
    writer = write_rows(tmp_path / "k.csv", spec(), [0, MINUTE, 5 * MINUTE, 6 * MINUTE])
    result = writer.validate()
    assert result.gaps == [kf.Gap(2 * MINUTE, 4 * MINUTE, 3)]


def test_validate_reports_gaps_in_calendar_months(tmp_path):
    """Monthly klines step by calendar month: Jan -> Apr 2018 misses Feb and Mar."""
    jan, feb, mar, apr = 1514764800000, 1517443200000, 1519862400000, 1522540800000
    s = spec(start_ms=jan, end_ms=apr, interval="1M")
    writer = kf.KlineWriter(tmp_path / "m.csv", s)
    writer.resume()
    writer.write_many([kline(jan), kline(apr)])
    assert writer.validate().gaps == [kf.Gap(feb, mar, 2)]
    writer.close()


def test_parquet_output_is_exact(tmp_path):
    """Parquet keeps amounts as exact decimals and times as UTC millisecond timestamps."""
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "k.parquet"
    writer = kf.KlineWriter(out, spec())
    writer.resume()
    writer.write_many([kline(0), kline(MINUTE, close="0.00000001")])
    writer.finish()
    table = pq.read_table(out)
    assert table.column_names == list(kf.COLUMNS)
    rows = table.to_pylist()
    assert rows[1]["close"] == Decimal("0.00000001")
    assert rows[0]["quote_asset_volume"] == Decimal("26.977644434")
    assert int(rows[1]["open_time"].timestamp() * 1000) == MINUTE
    assert rows[0]["number_of_trades"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.parquet"]


def test_parquet_without_pyarrow_names_the_extra(monkeypatch):
    """Without pyarrow the message says which extra to install."""
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(kf.ParquetUnavailable, match=r"binance\[parquet\]"):
        kf.check_parquet_available()


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.csv", "csv"), ("a.CSV", "csv"), ("a.parquet", "parquet"), ("a.pq", "parquet")],
)
def test_output_format_by_extension(name, fmt):
    """The extension picks the format."""
    assert kf.output_format(name) == fmt


def test_output_format_rejects_unknown_extensions():
    """Other extensions: ValueError listing the known ones."""
    with pytest.raises(ValueError, match=".csv, .parquet"):
        kf.output_format("klines.txt")
