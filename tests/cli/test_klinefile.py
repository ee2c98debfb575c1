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


# -- every byte of an interruption, chunk boundaries, pages ----------------------------------------


@pytest.mark.parametrize("scan_bytes", [kf._SCAN_BYTES, 7], ids=["default-reads", "tiny-reads"])
def test_resume_after_a_kill_at_any_byte_continues_into_the_same_file(
    tmp_path, monkeypatch, scan_bytes
):
    """Wherever a kill cut the partial file, resume keeps exactly the complete rows, and the
    finished file equals an uninterrupted one byte for byte (also when reads split lines)."""
    monkeypatch.setattr(kf, "_SCAN_BYTES", scan_bytes)
    rows = [kline(t * MINUTE) for t in range(6)]
    reference = tmp_path / "ref.csv"
    write_rows(reference, spec(), range(0, 6 * MINUTE, MINUTE)).finish()
    whole = reference.read_bytes()
    header = len(whole.split(b"\n", 1)[0]) + 1
    out = tmp_path / "k.csv"
    for cut in range(header, len(whole) + 1):
        partial = tmp_path / "k.csv.partial"
        write_rows(out, spec(), [])  # a fresh partial file and its metadata
        partial.write_bytes(whole[:cut])
        writer = kf.KlineWriter(out, spec())
        after = writer.resume()
        complete = whole[:cut].count(b"\n") - 1
        assert writer.rows_written == complete, cut
        assert after == (None if complete == 0 else (complete - 1) * MINUTE), cut
        writer.write_many(rows[complete:])
        writer.finish()
        assert out.read_bytes() == whole, cut
        out.unlink()


def test_a_bad_row_in_a_page_keeps_the_rows_before_it(tmp_path):
    """write_many refuses a page's bad row with ValidationError: the rows before it are in the
    file, it and the rest are not, and a resume continues after the last good one."""
    out = tmp_path / "k.csv"
    writer = kf.KlineWriter(out, spec())
    writer.resume()
    page = [kline(0), kline(MINUTE), kline(2 * MINUTE, close="1e5"), kline(3 * MINUTE)]
    with pytest.raises(kf.ValidationError, match=r"kline 120000 refused: close is not a decimal"):
        writer.write_many(page)
    assert (writer.rows_written, writer.last_open_ms) == (2, MINUTE)
    writer.close()
    resumed = kf.KlineWriter(out, spec())
    assert resumed.resume() == MINUTE
    resumed.write_many([kline(2 * MINUTE), kline(3 * MINUTE)])
    assert resumed.finish().rows == 4


def test_write_keeps_rows_until_a_page_is_full_or_flushed(tmp_path):
    """Rows given one by one reach the file by the thousand, or at flush()/close()."""
    writer = kf.KlineWriter(tmp_path / "k.csv", spec(end_ms=2000 * MINUTE))
    writer.resume()
    for t in range(1500):
        writer.write(kline(t * MINUTE))
    assert writer.rows_written == 1500 and writer.last_open_ms == 1499 * MINUTE
    assert writer.partial_path.read_bytes().count(b"\n") == 1 + 1000
    writer.flush()
    assert writer.partial_path.read_bytes().count(b"\n") == 1 + 1500
    writer.write(kline(1500 * MINUTE))
    writer.close()
    assert writer.partial_path.read_bytes().count(b"\n") == 1 + 1501


def test_validate_rechecks_a_file_changed_behind_the_writer(tmp_path):
    """A change of the same size (not visible to a size check) is found by the CRC: the
    whole file is checked again and the bad row named."""
    writer = kf.KlineWriter(tmp_path / "k.csv", spec())
    writer.resume()
    writer.write_many(kline(t * MINUTE) for t in range(5))
    data = writer.partial_path.read_bytes()
    writer.partial_path.write_bytes(data.replace(b"60000,1.00000000", b"60000,1e000000", 1))
    with pytest.raises(kf.ValidationError, match=r"line 3: open is not a decimal number"):
        writer.validate()
    writer.close()


def test_validate_after_an_outside_change_reports_the_file_as_it_is(tmp_path):
    """Rows appended by someone else are checked, counted, and writing continues after them."""
    writer = kf.KlineWriter(tmp_path / "k.csv", spec())
    writer.resume()
    writer.write_many([kline(0)])
    with open(writer.partial_path, "a") as f:
        f.write(kf._format_row(kline(3 * MINUTE)))
    result = writer.validate()
    assert (result.rows, result.last_ms, result.gaps) == (
        2,
        3 * MINUTE,
        [kf.Gap(MINUTE, 2 * MINUTE, 2)],
    )
    writer.write_many([kline(4 * MINUTE)])
    result = writer.finish()
    assert (result.rows, result.gaps) == (3, [kf.Gap(MINUTE, 2 * MINUTE, 2)])
    opens = [int(line.split(",")[0]) for line in (tmp_path / "k.csv").read_text().splitlines()[1:]]
    assert opens == [0, 3 * MINUTE, 4 * MINUTE]


# One field of the middle row of three, and whether the row is a valid kline. The fast path
# (a page at once) and the row-by-row check must agree on every case, writing and scanning.
FIELD_CASES = [
    (1, "1.5", True),
    (1, "-1.5", True),
    (1, ".5", True),
    (1, "5.", True),
    (1, "5", True),
    (1, "-.5", True),
    (1, "12345678901234567890.123456789012345678", True),
    (1, "", False),
    (1, ".", False),
    (1, "-", False),
    (1, "1e5", False),
    (1, " 1.5", False),
    (1, "1.5 ", False),
    (1, "+1.5", False),
    (1, "1_0.5", False),
    (1, "1.2.3", False),
    (1, "--1", False),
    (1, "\u0661.5", False),  # an Arabic-Indic digit: str.isdigit() says yes, ASCII says no
    (10, ".", False),
    (8, 7, True),
    (8, "007", True),
    (8, "", False),
    (8, -3, False),
    (8, "3.0", False),
    (8, True, False),
    (6, "", False),
    (6, 30_000, False),  # close before open
    (11, "0", True),
    (11, "", True),
    (11, "note", True),
    (11, '"0"', False),
    (11, "0\r", False),
]


def _with_field(open_ms: int, column: int, value) -> list:
    row = kline(open_ms)
    row[column] = value
    return row


@pytest.mark.parametrize(("column", "value", "valid"), [*FIELD_CASES, (0, "", False)], ids=repr)
def test_page_and_row_checks_agree_when_writing(tmp_path, column, value, valid):
    """A page with one odd field: written whole when the field is valid, else cut before it."""
    rows = [kline(0), _with_field(MINUTE, column, value), kline(2 * MINUTE)]
    writer = kf.KlineWriter(tmp_path / "k.csv", spec())
    writer.resume()
    if valid:
        writer.write_many(rows)
    else:
        with pytest.raises(kf.ValidationError, match=r"kline .* refused"):
            writer.write_many(rows)
    expected = rows if valid else rows[:1]
    assert writer.rows_written == len(expected)
    writer.close()
    text = writer.partial_path.read_text(encoding="ascii")
    assert text == kf._HEADER + "".join(kf._format_row(r) for r in expected)


@pytest.mark.parametrize(("column", "value", "valid"), FIELD_CASES + [(0, "", False)], ids=repr)
def test_page_and_row_checks_agree_when_scanning(tmp_path, column, value, valid):
    """The same field in a file (written by someone else): validate() accepts it or names the
    line, and resume() keeps the rows before it."""
    writer = write_rows(tmp_path / "k.csv", spec(), [])
    lines = [kf._format_row(kline(t * MINUTE)) for t in range(50)]
    lines[20] = kf._format_row(_with_field(20 * MINUTE, column, value))
    with open(writer.partial_path, "a", encoding="utf-8", newline="") as f:
        f.write("".join(lines))
    checker = kf.KlineWriter(tmp_path / "k.csv", spec())
    if valid:
        assert checker.validate().rows == 50
    else:
        with pytest.raises(kf.ValidationError, match="line 22: "):
            checker.validate()
    assert checker.resume() == (49 if valid else 19) * MINUTE
    checker.close()


def test_resume_cuts_a_line_without_end(tmp_path):
    """Garbage without line breaks after the rows is cut off (and not read whole into memory)."""
    writer = write_rows(tmp_path / "k.csv", spec(), [0, MINUTE])
    with open(writer.partial_path, "ab") as f:
        f.write(
            b"9" * (kf._LINE_MAX + kf._SCAN_BYTES + 1)
            + b"\n"
            + kf._format_row(kline(2 * MINUTE)).encode()
        )
    resumed = kf.KlineWriter(tmp_path / "k.csv", spec())
    assert resumed.resume() == MINUTE and resumed.rows_written == 2
    resumed.close()


def test_parquet_refuses_an_amount_it_cannot_hold_exactly(tmp_path):
    """decimal128(38, 18) holds 18 decimals: a 19th is a ValidationError, never a rounding;
    the partial file stays for inspection."""
    pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "k.parquet"
    writer = kf.KlineWriter(out, spec())
    writer.resume()
    writer.write_many([kline(0, close="0.1234567890123456789")])
    with pytest.raises(kf.ValidationError, match="cannot convert to Parquet exactly"):
        writer.finish()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "k.parquet.partial",
        "k.parquet.partial.json",
    ]


def test_parquet_in_several_row_groups_equals_the_csv(tmp_path, monkeypatch):
    """Row groups bound the memory of a long conversion; the table is the CSV, value for value."""
    pq = pytest.importorskip("pyarrow.parquet")
    monkeypatch.setattr(kf, "_ROW_GROUP_ROWS", 100)
    rows = [kline(t * MINUTE, close=f"{t}.{t:08d}") for t in range(1000)]
    s = spec(end_ms=999 * MINUTE)
    out = tmp_path / "k.parquet"
    writer = kf.KlineWriter(out, s)
    writer.resume()
    writer.write_many(rows)
    writer.finish()
    table = pq.read_table(out)
    assert table.num_rows == 1000
    assert table.column("close").to_pylist() == [Decimal(f"{t}.{t:08d}") for t in range(1000)]
    assert table.column("number_of_trades").to_pylist() == [7] * 1000
