"""Kline files that survive interruption: ``FILE.partial`` grows in order, then becomes FILE.

A download writes CSV rows, oldest first, to ``FILE.partial`` and records what it is downloading
in ``FILE.partial.json`` (symbol, interval, the dates as typed and as resolved to milliseconds).
Rows are appended in open-time order only, so whatever an interruption leaves (even a process
killed in the middle of a line) is a prefix of the finished file plus at most one torn line.
`KlineWriter.resume` keeps the longest valid prefix, cuts the rest, and says where to continue:
after the last complete row's open time. That gives no duplicates and no holes.

Every row is checked before it reaches the file (well-formed; open times strictly increasing,
one interval apart or a whole number of intervals for a gap, inside the requested range), and
a page of rows goes to the OS in one write. So the file is, at every moment, a checked series:
the rows kept by `resume` were checked when it scanned them, the rows appended since when they
were written. `KlineWriter.finish` then checks the whole file once more, cheaply: its size and
CRC-32 must equal those of the bytes checked (another process or a disk error changing the file
is caught); if they differ, every row is read and checked again. Only then is the file moved
into place atomically: renamed for CSV, converted for Parquet (``pyarrow``, the optional
``parquet`` extra, imported only then). Gaps are reported to the caller, which decides whether
Binance really has no klines there (real markets have outages) or something went wrong.

Columns (Binance's kline array, NOTES.md section 5): ``open_time``, ``open``, ``high``, ``low``,
``close``, ``volume``, ``close_time``, ``quote_asset_volume``, ``number_of_trades``,
``taker_buy_base_asset_volume``, ``taker_buy_quote_asset_volume``, ``ignore``. CSV keeps
Binance's strings exactly; Parquet stores times as UTC timestamps (ms) and amounts as
``decimal128(38, 18)``, exact (an amount that does not fit is a `ValidationError`, never rounded).

Speed (``benchmarks/bench_klinefile.py``): the checks run on whole pages at C speed (one
``%``-format per row, one ``bytes.translate`` per page for the shape of every field, list
comparisons for the open times); rows that are not in the common shape (a gap, a negative
amount, a malformed field) fall back to a row-by-row check that names the problem.

File I/O only; no network, no client, no simulator.
"""

from __future__ import annotations

import json
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import islice
from operator import itemgetter, le
from pathlib import Path
from typing import IO, Any

from binance.helpers import add_interval, interval_to_milliseconds

__all__ = [
    "COLUMNS",
    "FORMATS",
    "Gap",
    "KlineWriter",
    "ParquetUnavailable",
    "ResumeMismatch",
    "Spec",
    "Validation",
    "ValidationError",
    "check_parquet_available",
    "output_format",
]

COLUMNS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_asset_volume",
    "number_of_trades",
    "taker_buy_base_asset_volume",
    "taker_buy_quote_asset_volume",
    "ignore",
)
_HEADER = ",".join(COLUMNS) + "\n"
_HEADER_BYTES = _HEADER.encode("ascii")
_DECIMAL_COLUMNS = (1, 2, 3, 4, 5, 7, 9, 10)
_INT_COLUMNS = (0, 6, 8)

#: Output formats by file extension.
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}

PARQUET_EXTRA_HINT = "Parquet output needs pyarrow: pip install 'binance[parquet]'"

#: Rows kept in memory by `KlineWriter.write` before they go to the file (`write_many` and
#: `flush` send them at once).
_FLUSH_ROWS = 1000
#: Rows checked and written at once by `KlineWriter.write_many` (bounds the text in memory).
_BLOCK_ROWS = 4096
#: Bytes read at once when scanning a partial file (`KlineWriter.resume`, a full recheck).
_SCAN_BYTES = 1 << 20
#: A longer line is not a kline row (a row is under 300 bytes); the scan stops there.
_LINE_MAX = 1 << 16
#: Rows per Parquet row group (about 40 MB of Arrow memory while converting).
_ROW_GROUP_ROWS = 1 << 18

# One row as CSV: every value through str() (Binance's strings unchanged, never through float).
_ROW_FORMAT = ",".join(["%s"] * len(COLUMNS)) + "\n"
# What is left of a row in the common shape once its digits are deleted: integers vanish,
# each amount leaves its decimal point, ``ignore`` ("0") vanishes.
_SKELETON = (
    ",".join("." if i in _DECIMAL_COLUMNS else "" for i in range(len(COLUMNS))) + "\n"
).encode("ascii")
_DIGITS = b"0123456789"
# Open and close time of each row of a block already known to be in the common shape.
_OPEN_CLOSE = re.compile(rb"^([0-9]+),(?:[^,]*,){5}([0-9]+),", re.MULTILINE)
# The row-by-row grammar (ASCII digits only: str.isdigit would take other scripts' digits).
_INTEGER = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_IGNORE = re.compile(r'[^"\r\n]*')  # free text, but nothing a CSV reader would take apart

_first = itemgetter(0)
_close_time = itemgetter(6)


class ResumeMismatch(Exception):
    """``FILE.partial`` belongs to a different download (other symbol, interval or dates)."""


class ValidationError(ValueError):
    """Rows that are not a valid, ordered, in-range kline series (the message says why)."""


class ParquetUnavailable(Exception):
    """Parquet output was asked for but ``pyarrow`` is not installed."""


def output_format(path: str | os.PathLike[str]) -> str:
    """``"csv"`` or ``"parquet"`` from the file's extension.

    Raises:
        ValueError: another extension (the message lists the known ones).
    """
    suffix = Path(path).suffix.lower()
    try:
        return FORMATS[suffix]
    except KeyError:
        raise ValueError(
            f"cannot tell the format of {str(path)!r}: use a name ending in {', '.join(FORMATS)}"
        ) from None


def check_parquet_available() -> None:
    """Raise `ParquetUnavailable` (naming the ``parquet`` extra) unless pyarrow imports."""
    try:
        import pyarrow  # type: ignore[import-untyped]  # noqa: F401
        import pyarrow.parquet  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        raise ParquetUnavailable(PARQUET_EXTRA_HINT) from None


@dataclass(frozen=True)
class Spec:
    """What a file holds: a symbol's klines of one interval, open times in ``[start_ms, end_ms]``.

    ``start``/``end`` are the dates as the user typed them (``"1 day ago UTC"``); a rerun with
    the same text resumes and reuses the first run's ``start_ms``/``end_ms``, so a resumed file
    equals an uninterrupted one even for relative dates.
    """

    symbol: str
    interval: str
    start: str
    end: str | None
    start_ms: int
    end_ms: int

    def same_request(self, other: Spec) -> bool:
        """True when ``other`` asks for the same download (the resolved times may differ)."""
        return (self.symbol, self.interval, self.start, self.end) == (
            other.symbol,
            other.interval,
            other.start,
            other.end,
        )


@dataclass(frozen=True)
class Gap:
    """Klines missing between two rows: open times ``first_ms`` .. ``last_ms`` (inclusive)."""

    first_ms: int
    last_ms: int
    count: int


@dataclass
class Validation:
    """The checked file: how many rows, first/last open times, and the gaps between rows."""

    rows: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    gaps: list[Gap] = field(default_factory=list)


class _RowChecker:
    """Checks a series as it grows: shape, order and spacing, and the requested range.

    `check_block` takes many rows at once when they are in the common shape (contiguous, plain
    positive amounts); `check` takes one row and says what is wrong with it. Both accept
    exactly the same rows: the first is a fast path of the second.
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.monthly = spec.interval.endswith("M")
        self.step = 0 if self.monthly else interval_to_milliseconds(spec.interval)
        self.result = Validation()

    def check_block(self, opens: list[int], closes: list[int]) -> bool:
        """Accept rows whose fields are known to be well-formed (`_common_shape`) if their open
        times continue the series one interval apart, inside the range, and no close time is
        before its open time. False (nothing accepted): check them one by one instead.
        """
        if not opens or len(closes) != len(opens) or self.monthly:
            return False
        res, step, first = self.result, self.step, opens[0]
        if res.last_ms is not None and first != res.last_ms + step:
            return False
        stop = first + len(opens) * step
        if first < self.spec.start_ms or stop - step > self.spec.end_ms:
            return False
        if opens != list(range(first, stop, step)) or not all(map(le, opens, closes)):
            return False
        if res.last_ms is None:
            res.first_ms = first
        res.last_ms = stop - step
        res.rows += len(opens)
        return True

    def check(self, fields: Sequence[str]) -> str | None:
        """Accept one row (as CSV fields) or say what is wrong with it."""
        if len(fields) != len(COLUMNS):
            return f"{len(fields)} fields instead of {len(COLUMNS)}"
        if not all(_INTEGER.fullmatch(fields[i]) for i in _INT_COLUMNS):
            return "a time or trade count is not an integer"
        for i in _DECIMAL_COLUMNS:
            if not _DECIMAL.fullmatch(fields[i]):
                return f"{COLUMNS[i]} is not a decimal number: {fields[i]!r}"
        if not _IGNORE.fullmatch(fields[11]):
            return f"{COLUMNS[11]} holds a quote or line break: {fields[11]!r}"
        open_ms, close_ms = int(fields[0]), int(fields[6])
        if close_ms < open_ms:
            return "close_time before open_time"
        if not self.spec.start_ms <= open_ms <= self.spec.end_ms:
            return f"open_time {open_ms} outside the requested range"
        res = self.result
        if res.last_ms is not None:
            if open_ms <= res.last_ms:
                return f"open_time {open_ms} not after the previous row's {res.last_ms}"
            expected = self._next_open(res.last_ms)
            if open_ms != expected:
                gap = self._gap(res.last_ms, expected, open_ms)
                if gap is None:
                    return f"open_time {open_ms} is not a whole number of intervals later"
                res.gaps.append(gap)
        else:
            res.first_ms = open_ms
        res.last_ms = open_ms
        res.rows += 1
        return None

    def _next_open(self, open_ms: int) -> int:
        return open_ms + self.step if self.step else add_interval(open_ms, self.spec.interval)

    def _gap(self, last: int, expected: int, got: int) -> Gap | None:
        if not self.monthly:
            if (got - last) % self.step:
                return None
            return Gap(expected, got - self.step, (got - expected) // self.step)
        count, moment, previous = 0, expected, last
        while moment < got:
            count, previous, moment = count + 1, moment, self._next_open(moment)
        return Gap(expected, previous, count) if moment == got else None


def _common_shape(data: bytes, rows: int) -> bool:
    """True when ``data`` is ``rows`` CSV lines whose fields are all well-formed and plain:
    digits for the integers and ``ignore``, digits around one decimal point for the amounts;
    except that the first field may be empty, which the callers see when they read the open
    times (``int("")`` fails; `_OPEN_CLOSE` needs a digit at the start of each line).

    Deleting the digits must leave exactly `_SKELETON` per row; that fixes the commas, the line
    ends and the decimal points. What it cannot see is an empty field or an amount that is only
    a point: inside a line, the only ways to get ``,,`` or ``,.,``.
    """
    return (
        data.translate(None, _DIGITS) == _SKELETON * rows
        and b",," not in data
        and b",.," not in data
    )


def _format_row(row: Sequence[Any]) -> str:
    # Binance's own strings, unchanged: never through float (money).
    return ",".join(str(value) for value in row[: len(COLUMNS)]) + "\n"


class _Scan:
    """What a scan of a partial file found: the valid prefix, its CRC, the series it holds,
    and the first problem after it (the line number and what is wrong), if any."""

    def __init__(self, checker: _RowChecker) -> None:
        self.checker = checker
        self.kept = 0
        self.crc = 0
        self.problem: tuple[int, str] | None = None


class KlineWriter:
    """Writes one kline series to ``FILE.partial`` in order, and finishes it into ``FILE``.

    Example::

        writer = KlineWriter("btc.csv", spec)
        after = writer.resume()                   # None: start at spec.start_ms
        for page in pages_from(after + 1 if after is not None else spec.start_ms):
            writer.write_many(page)               # checked, then in the file
        validation = writer.finish()              # btc.csv now exists; partial files gone

    Args:
        path: the final file (``.csv`` or ``.parquet``).
        spec: what is being downloaded.
    """

    def __init__(self, path: str | os.PathLike[str], spec: Spec) -> None:
        self.path = Path(path)
        """The final file."""
        self.format = output_format(self.path)
        """``"csv"`` or ``"parquet"``."""
        self.spec = spec
        """What is being downloaded (after `resume`, the first run's resolved times)."""
        self.partial_path = self.path.with_name(self.path.name + ".partial")
        """Where rows accumulate (CSV, whatever the final format)."""
        self.meta_path = self.path.with_name(self.path.name + ".partial.json")
        """The download's description, for resuming."""
        self._file: IO[bytes] | None = None
        self._checker = _RowChecker(spec)  # the series in the file, as checked
        self._size = 0  # bytes of the file checked (header included) ...
        self._crc = 0  # ... and their CRC-32
        self._trusted = False  # the three above describe the file (set by resume)
        self._pending: list[Sequence[Any]] = []  # rows of write() not yet in the file
        self._pending_last: int | None = None

    @property
    def rows_written(self) -> int:
        """Rows in the partial file (kept ones after `resume`, plus those written since)."""
        return self._checker.result.rows + len(self._pending)

    @property
    def last_open_ms(self) -> int | None:
        """Open time of the last row in the partial file (or written and not yet flushed)."""
        return self._pending_last if self._pending else self._checker.result.last_ms

    # -- resume ----------------------------------------------------------------------------------

    def resume(self) -> int | None:
        """Open the partial file, resuming an interrupted download of the same request.

        A partial file of another request raises `ResumeMismatch` (nothing is touched). A torn
        or invalid tail is cut off. Without a partial file a new one is started.

        Returns:
            The open time of the last complete row kept (continue after it), or None when
            starting from ``spec.start_ms``.
        """
        if self._file is not None:  # resumed before: start over from what the file holds
            self._file.close()
            self._file = None
        stored = self._read_meta()
        scan: _Scan | None = None
        if stored is not None and self.partial_path.exists():
            if not stored.same_request(self.spec):
                raise ResumeMismatch(
                    f"{self.partial_path} is an unfinished download of {_describe(stored)}, "
                    f"not {_describe(self.spec)}: rerun that command to finish it, or delete "
                    f"{self.partial_path} and {self.meta_path}"
                )
            self.spec = stored  # the first run's resolved times: identical results
            scan = self._scan()
            if scan.kept == 0:
                scan = None
        self._pending, self._trusted = [], False
        if scan is None:
            self._checker = _RowChecker(self.spec)
            self._write_meta()
            with open(self.partial_path, "wb"):
                pass  # empty; then appended to only (also after someone else appended)
            self._file = open(self.partial_path, "ab")
            self._size, self._crc = 0, 0
            self._append(_HEADER_BYTES)
        else:
            with open(self.partial_path, "r+b") as raw:
                raw.truncate(scan.kept)
            self._file = open(self.partial_path, "ab")
            self._checker, self._size, self._crc = scan.checker, scan.kept, scan.crc
        self._trusted = True
        return self.last_open_ms

    def _read_meta(self) -> Spec | None:
        try:
            data = json.loads(self.meta_path.read_text(encoding="utf-8"))
            return Spec(**data)
        except (OSError, ValueError, TypeError):
            return None

    def _write_meta(self) -> None:
        tmp = self.meta_path.with_name(self.meta_path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self.spec)) + "\n", encoding="utf-8")
        os.replace(tmp, self.meta_path)

    def _scan(self) -> _Scan:
        """Check the partial file from its start: the valid prefix (header + complete valid
        rows) and the first problem after it. A file with another header keeps nothing."""
        scan = _Scan(_RowChecker(self.spec))
        with open(self.partial_path, "rb") as raw:
            header = raw.readline(len(_HEADER_BYTES))
            if header != _HEADER_BYTES:
                scan.problem = (1, "unexpected header")
                return scan
            scan.kept, scan.crc = len(header), zlib.crc32(header)
            line, tail = 1, b""  # lines before ``tail``; bytes after the last line end read
            while True:
                chunk = raw.read(_SCAN_BYTES)
                if not chunk:
                    break
                data = tail + chunk
                cut = data.rfind(b"\n") + 1
                block, tail = data[:cut], data[cut:]
                good, problem = _check_lines(scan.checker, block)
                scan.kept += good
                scan.crc = zlib.crc32(block[:good], scan.crc)
                if problem is None and len(tail) > _LINE_MAX:
                    good, problem = len(block), "not a kline row (no line end)"  # bounds memory
                if problem is not None:
                    scan.problem = (line + block.count(b"\n", 0, good) + 1, problem)
                    return scan
                line += block.count(b"\n")
            if tail:
                scan.problem = (line + 1, "incomplete")  # torn by an interruption
        return scan

    # -- write -----------------------------------------------------------------------------------

    def write(self, row: Sequence[Any]) -> None:
        """Append one kline (Binance's array); rows must come in open-time order.

        Rows are kept in memory and written (checked) by the thousand; `flush` writes them now.

        Raises:
            ValidationError: the row is not after the previous one (a bug upstream: nothing
                written); other problems are raised by the `flush` that writes the row.
        """
        if self._file is None:
            raise RuntimeError("call resume() before write()")
        open_ms = int(row[0])
        last = self.last_open_ms
        if last is not None and open_ms <= last:
            raise ValidationError(f"kline {open_ms} is not after the last written {last}")
        self._pending.append(row)
        self._pending_last = open_ms
        if len(self._pending) >= _FLUSH_ROWS:
            self.flush()

    def write_many(self, rows: Iterable[Sequence[Any]]) -> None:
        """Append rows in open-time order, checked and written to the OS page by page.

        Raises:
            ValidationError: a malformed, repeated, out-of-order or out-of-range row; the rows
                before it are in the file, it and the rows after it are not.
        """
        if self._file is None:
            raise RuntimeError("call resume() before write_many()")
        self.flush()
        iterator = iter(rows)
        while block := list(islice(iterator, _BLOCK_ROWS)):
            self._write_block(block)

    def flush(self) -> None:
        """Check and write the rows given to `write`, so that a killed process keeps them.

        Raises:
            ValidationError: see `write_many`.
        """
        if self._pending:
            block, self._pending = self._pending, []
            self._write_block(block)

    def close(self) -> None:
        """Flush and close the partial file, leaving it for a later resume."""
        if self._file is not None:
            try:
                self.flush()
            finally:
                self._file.close()
                self._file = None

    def _write_block(self, rows: list[Sequence[Any]]) -> None:
        # Until the checker and the file agree again, validate() must not trust the checker
        # (an interruption in between, e.g. Ctrl-C or a full disk, makes it rescan the file).
        trusted, self._trusted = self._trusted, False
        try:
            self._check_and_append(rows)
        except ValidationError:
            self._trusted = trusted  # the rows before the bad one are in the file, and checked
            raise
        self._trusted = trusted

    def _check_and_append(self, rows: list[Sequence[Any]]) -> None:
        # The page at once, at C speed: one %-format per row (str() of each value, the same
        # bytes as `_format_row`), then `_common_shape` and `_RowChecker.check_block`.
        data, opens, closes = b"", [], []
        try:
            data = "".join(map(_ROW_FORMAT.__mod__, map(tuple, rows))).encode("ascii")
            if _common_shape(data, len(rows)):
                # These fields' text is digits (or an empty open time, which int() refuses):
                # int() of the values is what the file says.
                opens = list(map(int, map(_first, rows)))
                closes = list(map(int, map(_close_time, rows)))
        except (TypeError, ValueError):  # not 12 values per row, or not ASCII
            opens, closes = [], []
        if self._checker.check_block(opens, closes):
            self._append(data)
            return
        # Row by row: the rows before the first bad one are written, and it is named.
        good: list[str] = []
        for row in rows:
            line = _format_row(row)
            problem = None if line.isascii() else "not ASCII text"
            problem = problem or self._checker.check(line[:-1].split(","))
            if problem is not None:
                self._append("".join(good).encode("ascii"))
                raise ValidationError(f"{self.partial_path}: kline {row[0]!r} refused: {problem}")
            good.append(line)
        self._append("".join(good).encode("ascii"))

    def _append(self, data: bytes) -> None:
        assert self._file is not None
        self._file.write(data)
        self._file.flush()  # in the OS: a killed process keeps it
        self._size += len(data)
        self._crc = zlib.crc32(data, self._crc)

    # -- finish ----------------------------------------------------------------------------------

    def validate(self) -> Validation:
        """Check the whole partial file (see the module docstring).

        Reads the file once for its CRC-32; if it is not exactly the bytes checked while
        writing (or the writer did not write it), every row is checked again.

        Raises:
            ValidationError: a malformed, repeated, out-of-order or out-of-range row, or a torn
                last line.
        """
        self.flush()
        if not (self._trusted and self._unchanged()):
            scan = self._scan()
            if scan.problem is not None:
                number, problem = scan.problem
                where = "" if number == 1 else f" line {number}"
                raise ValidationError(f"{self.partial_path}{where}: {problem}")
            # The file as it is now is the series to continue.
            self._checker, self._size, self._crc = scan.checker, scan.kept, scan.crc
            self._trusted = self._file is not None
        result = self._checker.result
        return replace(result, gaps=list(result.gaps))

    def _unchanged(self) -> bool:
        try:
            if os.stat(self.partial_path).st_size != self._size:
                return False
            crc = 0
            with open(self.partial_path, "rb") as raw:
                while chunk := raw.read(_SCAN_BYTES):
                    crc = zlib.crc32(chunk, crc)
        except OSError:
            return False
        return crc == self._crc

    def finish(self, validation: Validation | None = None) -> Validation:
        """Validate, then move the file into place (atomically) and remove the partial files.

        Args:
            validation: a result of `validate` already obtained (skips checking twice).

        Raises:
            ValidationError: see `validate`, or an amount Parquet's decimal128(38, 18) cannot
                hold exactly (the partial file is left for inspection).
            ParquetUnavailable: Parquet output without pyarrow.
        """
        result = validation if validation is not None else self.validate()
        self.close()
        if self.format == "csv":
            os.replace(self.partial_path, self.path)
        else:
            tmp = self.path.with_name(self.path.name + ".tmp")
            try:
                csv_to_parquet(self.partial_path, tmp)
                os.replace(tmp, self.path)
            finally:
                tmp.unlink(missing_ok=True)
            self.partial_path.unlink()
        self.meta_path.unlink(missing_ok=True)
        return result

    def __enter__(self) -> KlineWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_lines(checker: _RowChecker, block: bytes) -> tuple[int, str | None]:
    """Feed complete CSV lines to ``checker``: the bytes accepted, and the problem that stopped
    it (None: all accepted)."""
    rows = block.count(b"\n")
    if rows and _common_shape(block, rows):
        pairs = _OPEN_CLOSE.findall(block)  # one per line, unless a line has no open time
        opens = list(map(int, map(_first, pairs)))
        closes = list(map(int, map(itemgetter(1), pairs)))
        if len(opens) == rows and checker.check_block(opens, closes):
            return len(block), None
    good = 0
    for line in _lines(block):
        try:
            text = line.decode("ascii")
        except UnicodeDecodeError:
            return good, "not ASCII text"
        problem = checker.check(text[:-1].split(","))
        if problem is not None:
            return good, problem
        good += len(line)
    return good, None


def _lines(block: bytes) -> Iterator[bytes]:
    start = 0
    while (end := block.find(b"\n", start) + 1) > 0:
        yield block[start:end]
        start = end


def _describe(spec: Spec) -> str:
    end = spec.end if spec.end is not None else "now"
    return f"{spec.symbol} {spec.interval} from {spec.start!r} to {end!r}"


def parquet_schema() -> Any:
    """The Parquet schema (pyarrow): UTC millisecond timestamps, exact decimals, int64 counts."""
    import pyarrow as pa

    amount = pa.decimal128(38, 18)
    time = pa.timestamp("ms", tz="UTC")
    types = {0: time, 6: time, 8: pa.int64(), 11: pa.string()}
    return pa.schema([(name, types.get(i, amount)) for i, name in enumerate(COLUMNS)])


def csv_to_parquet(csv_path: str | os.PathLike[str], parquet_path: str | os.PathLike[str]) -> int:
    """Convert a kline CSV (our columns, checked) to Parquet, streaming; returns the rows written.

    Memory stays bounded: the CSV is read in blocks and written in row groups of
    `_ROW_GROUP_ROWS` rows.

    Raises:
        ParquetUnavailable: pyarrow is not installed.
        ValidationError: a value Parquet cannot hold exactly (an amount with more than 18
            decimals or 20 integer digits).
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv  # type: ignore[import-untyped]
        import pyarrow.parquet as pq
    except ImportError:
        raise ParquetUnavailable(PARQUET_EXTRA_HINT) from None
    schema = parquet_schema()
    # pyarrow parses the amounts straight into exact decimals (a value that does not fit is an
    # error, never rounded) and the times as int64, cast to timestamps (same 8 bytes).
    read_types = {
        name: (pa.int64() if i in _INT_COLUMNS else schema.field(i).type)
        for i, name in enumerate(COLUMNS)
    }
    rows = 0
    try:
        reader = pacsv.open_csv(
            csv_path,
            read_options=pacsv.ReadOptions(block_size=1 << 22),
            # Checked rows hold no quotes: none is taken for one.
            parse_options=pacsv.ParseOptions(quote_char=False),
            convert_options=pacsv.ConvertOptions(
                column_types=read_types, strings_can_be_null=False, check_utf8=False
            ),
        )
        with pq.ParquetWriter(parquet_path, schema) as writer:
            group: list[Any] = []
            grouped = 0
            for batch in reader:
                columns = [
                    batch.column(i).cast(schema.field(i).type) if i in (0, 6) else batch.column(i)
                    for i in range(len(COLUMNS))
                ]
                group.append(pa.RecordBatch.from_arrays(columns, schema=schema))
                grouped += batch.num_rows
                if grouped >= _ROW_GROUP_ROWS:
                    writer.write_table(pa.Table.from_batches(group, schema))
                    rows, group, grouped = rows + grouped, [], 0
            if group:
                writer.write_table(pa.Table.from_batches(group, schema))
                rows += grouped
    except pa.ArrowInvalid as exc:
        raise ValidationError(f"{csv_path}: cannot convert to Parquet exactly: {exc}") from None
    return rows
