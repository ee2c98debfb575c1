"""Kline files that survive interruption: ``FILE.partial`` grows in order, then becomes FILE.

A download writes CSV rows, oldest first, to ``FILE.partial`` and records what it is downloading
in ``FILE.partial.json`` (symbol, interval, the dates as typed and as resolved to milliseconds).
Rows are appended in open-time order only, so whatever an interruption leaves (even a process
killed in the middle of a line) is a prefix of the finished file plus at most one torn line.
`KlineWriter.resume` keeps the longest valid prefix, cuts the rest, and says where to continue:
after the last complete row's open time. That gives no duplicates and no holes.

`KlineWriter.finish` checks the whole file (every row well-formed; open times strictly
increasing, one interval apart, inside the requested range), then moves it into place
atomically: renamed for CSV, converted for Parquet (``pyarrow``, the optional ``parquet`` extra,
imported only then). Gaps are reported to the caller, which decides whether Binance really has
no klines there (real markets have outages) or something went wrong.

Columns (Binance's kline array, NOTES.md section 5): ``open_time``, ``open``, ``high``, ``low``,
``close``, ``volume``, ``close_time``, ``quote_asset_volume``, ``number_of_trades``,
``taker_buy_base_asset_volume``, ``taker_buy_quote_asset_volume``, ``ignore``. CSV keeps
Binance's strings exactly; Parquet stores times as UTC timestamps (ms) and amounts as
``decimal128(38, 18)``, exact.

File I/O only; no network, no client, no simulator.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
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
_DECIMAL_COLUMNS = (1, 2, 3, 4, 5, 7, 9, 10)
_INT_COLUMNS = (0, 6, 8)

#: Output formats by file extension.
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}

PARQUET_EXTRA_HINT = "Parquet output needs pyarrow: pip install 'binance[parquet]'"

#: Rows written between flushes to the partial file (a flush also happens on every batch end).
_FLUSH_ROWS = 1000


class ResumeMismatch(Exception):
    """``FILE.partial`` belongs to a different download (other symbol, interval or dates)."""


class ValidationError(Exception):
    """The finished file is not a valid, ordered, in-range kline series (the message says why)."""


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


def _next_open(open_ms: int, interval: str) -> int:
    return add_interval(open_ms, interval)


class _RowChecker:
    """Checks rows one by one: shape, order and spacing, and the requested range."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.monthly = spec.interval.endswith("M")
        self.step = 0 if self.monthly else interval_to_milliseconds(spec.interval)
        self.result = Validation()

    def check(self, fields: Sequence[str]) -> str | None:
        """Accept one row (as CSV fields) or say what is wrong with it."""
        if len(fields) != len(COLUMNS):
            return f"{len(fields)} fields instead of {len(COLUMNS)}"
        try:
            open_ms, close_ms = int(fields[0]), int(fields[6])
            int(fields[8])
        except ValueError:
            return "a time or trade count is not an integer"
        for i in _DECIMAL_COLUMNS:
            if not _is_decimal(fields[i]):
                return f"{COLUMNS[i]} is not a decimal number: {fields[i]!r}"
        if close_ms < open_ms:
            return "close_time before open_time"
        if not self.spec.start_ms <= open_ms <= self.spec.end_ms:
            return f"open_time {open_ms} outside the requested range"
        res = self.result
        if res.last_ms is not None:
            if open_ms <= res.last_ms:
                return f"open_time {open_ms} not after the previous row's {res.last_ms}"
            expected = _next_open(res.last_ms, self.spec.interval)
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

    def _gap(self, last: int, expected: int, got: int) -> Gap | None:
        if not self.monthly:
            if (got - last) % self.step:
                return None
            return Gap(expected, got - self.step, (got - expected) // self.step)
        count, moment, previous = 0, expected, last
        while moment < got:
            count, previous, moment = count + 1, moment, _next_open(moment, self.spec.interval)
        return Gap(expected, previous, count) if moment == got else None


def _is_decimal(text: str) -> bool:
    if not text or len(text) > 80:
        return False
    body = text[1:] if text[0] == "-" else text
    whole, _, frac = body.partition(".")
    return (whole.isdigit() or (not whole and frac.isdigit())) and (not frac or frac.isdigit())


def _format_row(row: Sequence[Any]) -> str:
    # Binance's own strings, unchanged: never through float (money).
    return ",".join(str(value) for value in row[: len(COLUMNS)]) + "\n"


class KlineWriter:
    """Writes one kline series to ``FILE.partial`` in order, and finishes it into ``FILE``.

    Example::

        writer = KlineWriter("btc.csv", spec)
        after = writer.resume()                   # None: start at spec.start_ms
        for row in klines_from(after + 1 if after is not None else spec.start_ms):
            writer.write(row)
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
        self.rows_written = 0
        """Rows in the partial file (kept ones after `resume`, plus those written since)."""
        self.last_open_ms: int | None = None
        """Open time of the last row in the partial file."""
        self._file: IO[str] | None = None
        self._unflushed = 0

    # -- resume ----------------------------------------------------------------------------------

    def resume(self) -> int | None:
        """Open the partial file, resuming an interrupted download of the same request.

        A partial file of another request raises `ResumeMismatch` (nothing is touched). A torn
        or invalid tail is cut off. Without a partial file a new one is started.

        Returns:
            The open time of the last complete row kept (continue after it), or None when
            starting from ``spec.start_ms``.
        """
        stored = self._read_meta()
        if stored is not None and self.partial_path.exists():
            if not stored.same_request(self.spec):
                raise ResumeMismatch(
                    f"{self.partial_path} is an unfinished download of {_describe(stored)}, "
                    f"not {_describe(self.spec)}: rerun that command to finish it, or delete "
                    f"{self.partial_path} and {self.meta_path}"
                )
            self.spec = stored  # the first run's resolved times: identical results
            keep_bytes = self._scan()
        else:
            keep_bytes = 0
        if keep_bytes == 0:
            self.rows_written, self.last_open_ms = 0, None
            self._write_meta()
            self._file = open(self.partial_path, "w", encoding="ascii", newline="")
            self._file.write(_HEADER)
            self._file.flush()
        else:
            with open(self.partial_path, "r+b") as raw:
                raw.truncate(keep_bytes)
            self._file = open(self.partial_path, "a", encoding="ascii", newline="")
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

    def _scan(self) -> int:
        """Bytes of the partial file worth keeping (header + valid complete rows)."""
        checker = _RowChecker(self.spec)
        kept = 0
        with open(self.partial_path, "rb") as raw:
            header = raw.readline()
            if header.decode("ascii", "replace") != _HEADER:
                return 0
            kept = len(header)
            for line in raw:
                if not line.endswith(b"\n"):
                    break  # torn by the interruption
                try:
                    text = line.decode("ascii")
                except UnicodeDecodeError:
                    break
                if checker.check(text[:-1].split(",")) is not None:
                    break
                kept += len(line)
        self.rows_written = checker.result.rows
        self.last_open_ms = checker.result.last_ms
        return kept

    # -- write -----------------------------------------------------------------------------------

    def write(self, row: Sequence[Any]) -> None:
        """Append one kline (Binance's array); rows must come in open-time order.

        Raises:
            ValueError: the row is not after the previous one (a bug upstream: nothing written).
        """
        if self._file is None:
            raise RuntimeError("call resume() before write()")
        open_ms = int(row[0])
        if self.last_open_ms is not None and open_ms <= self.last_open_ms:
            raise ValueError(f"kline {open_ms} is not after the last written {self.last_open_ms}")
        self._file.write(_format_row(row))
        self.last_open_ms = open_ms
        self.rows_written += 1
        self._unflushed += 1
        if self._unflushed >= _FLUSH_ROWS:
            self.flush()

    def write_many(self, rows: Iterable[Sequence[Any]]) -> None:
        """Append rows in order, then flush."""
        for row in rows:
            self.write(row)
        self.flush()

    def flush(self) -> None:
        """Push written rows to the OS, so that a killed process keeps them."""
        if self._file is not None:
            self._file.flush()
            self._unflushed = 0

    def close(self) -> None:
        """Flush and close the partial file, leaving it for a later resume."""
        if self._file is not None:
            self._file.flush()
            self._file.close()
            self._file = None

    # -- finish ----------------------------------------------------------------------------------

    def validate(self) -> Validation:
        """Check every row of the partial file (see the module docstring).

        Raises:
            ValidationError: a malformed, repeated, out-of-order or out-of-range row.
        """
        self.flush()
        checker = _RowChecker(self.spec)
        with open(self.partial_path, encoding="ascii", newline="") as text:
            if text.readline() != _HEADER:
                raise ValidationError(f"{self.partial_path}: unexpected header")
            for number, line in enumerate(text, start=2):
                if not line.endswith("\n"):
                    raise ValidationError(f"{self.partial_path} line {number}: incomplete")
                problem = checker.check(line[:-1].split(","))
                if problem is not None:
                    raise ValidationError(f"{self.partial_path} line {number}: {problem}")
        return checker.result

    def finish(self, validation: Validation | None = None) -> Validation:
        """Validate, then move the file into place (atomically) and remove the partial files.

        Args:
            validation: a result of `validate` already obtained (skips checking twice).

        Raises:
            ValidationError: see `validate` (the partial file is left for inspection).
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
    """Convert a kline CSV (our columns) to Parquet, streaming; returns the rows written.

    Raises:
        ParquetUnavailable: pyarrow is not installed.
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv  # type: ignore[import-untyped]
        import pyarrow.parquet as pq
    except ImportError:
        raise ParquetUnavailable(PARQUET_EXTRA_HINT) from None
    schema = parquet_schema()
    # Read times as int64 and amounts as exact decimals, then cast times to timestamps.
    read_types = {
        name: (pa.int64() if i in _INT_COLUMNS else schema.field(i).type)
        for i, name in enumerate(COLUMNS)
    }
    reader = pacsv.open_csv(
        csv_path,
        read_options=pacsv.ReadOptions(block_size=1 << 22),
        convert_options=pacsv.ConvertOptions(column_types=read_types, strings_can_be_null=False),
    )
    rows = 0
    with pq.ParquetWriter(parquet_path, schema) as writer:
        for batch in reader:
            columns = [
                batch.column(i).cast(schema.field(i).type) if i in (0, 6) else batch.column(i)
                for i in range(len(COLUMNS))
            ]
            writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=schema))
            rows += batch.num_rows
    return rows
