"""``binance klines``: download kline history to CSV or Parquet, resumably, with a progress bar.

::

    binance klines BTCUSDT 1h "1 Jan, 2024" "1 Jan, 2025" -o btc-1h.csv
    binance klines BTCUSDT,ETHUSDT 1m "30 days ago UTC" -o "{symbol}-{interval}.parquet"

The range is cut into windows of 1000 klines fetched concurrently by the client's history
downloader (`binance.history`), within the weight budget its governor keeps. Rows go to
``FILE.partial`` in order (see `binance.cli._klinefile`); after an interruption (Ctrl-C, a
killed process, a lost connection) the same command resumes after the last complete row. At the
end the file is validated (ordered, no repeats, inside the range) and checked against the
exchange: no kline may exist before the first row, after the last one, or inside a gap between
rows. Gaps Binance itself has (trading halts) are reported; a hole we made is an error.

Dates take the seed's forms ("1 Dec, 2017", "1 day ago UTC", "now UTC"), ISO 8601 or epoch
milliseconds; relative dates are read against the exchange's clock. END is inclusive (an open
time) and defaults to now. Only closed klines are written unless ``--include-open`` is given: the
kline still open changes until it closes, and a file should hold final values.

Imports only the standard library at module level (``binance --help`` stays fast).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from binance.cli._common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    CommandError,
    Connection,
    UsageError,
    add_connection_options,
    console,
    describe_error,
    format_ms,
    parse_date,
    parse_interval,
    parse_symbols,
    positive_int,
    write_err,
)

if TYPE_CHECKING:  # pragma: no cover
    from binance.cli._klinefile import Spec, Validation

__all__ = ["register", "run", "output_paths", "download"]

#: Default output name (placeholders: {symbol}, {interval}).
DEFAULT_OUTPUT = "{symbol}-{interval}.csv"
#: Gaps checked one by one against the exchange; more than this is reported unchecked.
MAX_GAPS_CHECKED = 100
#: Seconds between progress bar updates while rows arrive.
_PROGRESS_EVERY_S = 0.5
#: Rows handed to the file at once (one page of ``GET /api/v3/klines``).
_PAGE_ROWS = 1000


def register(subparsers: Any) -> None:
    """Add the ``klines`` sub-command."""
    parser = subparsers.add_parser(
        "klines",
        help="download kline history to CSV or Parquet (resumable)",
        description=(
            "Download every closed kline of SYMBOL with open time from START to END\n"
            "(inclusive; default now) into FILE: CSV for .csv, Parquet for .parquet (needs\n"
            "the 'parquet' extra: pip install 'binance[parquet]'). Windows of 1000 klines are\n"
            "fetched concurrently within the rate limits, and the file is checked at the end.\n"
            "\n"
            "Interrupted? Run the same command again: it resumes from FILE.partial without\n"
            "repeating or missing a row."
        ),
        epilog=(
            "dates:\n"
            "  '1 Dec, 2017', 'Dec 1, 2017', '1 day ago UTC', '6 months ago UTC', 'now UTC',\n"
            "  '2017-12-01', '2017-12-01T10:00:00Z', or epoch milliseconds (UTC unless an\n"
            "  offset is given)\n"
            "\n"
            "examples:\n"
            "  binance klines BTCUSDT 1h '1 Jan, 2024' '31 Dec, 2024' -o btc-1h.csv\n"
            "  binance klines BTCUSDT,ETHUSDT 1m '30 days ago UTC' -o 'data/{symbol}.parquet'"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "symbols",
        type=parse_symbols,
        metavar="SYMBOL",
        help="a symbol, or several separated by commas (then FILE must contain {symbol})",
    )
    parser.add_argument("interval", type=parse_interval, metavar="INTERVAL", help="e.g. 1m, 1h, 1d")
    parser.add_argument("start", metavar="START", help="first open time, e.g. '1 Dec, 2017'")
    parser.add_argument("end", nargs="?", metavar="END", help="last open time (default: now)")
    parser.add_argument(
        "-o",
        "--output",
        default=DEFAULT_OUTPUT,
        metavar="FILE",
        help=f"output file, .csv or .parquet; {{symbol}} and {{interval}} are replaced "
        f"(default {DEFAULT_OUTPUT})",
    )
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=None,
        metavar="N",
        help="windows of 1000 klines in flight at once (default 10; the weight governor "
        "still paces them)",
    )
    parser.add_argument(
        "--include-open",
        action="store_true",
        help="also write the kline still open now (its values change until it closes); by "
        "default only closed klines are written",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    add_connection_options(parser)
    parser.set_defaults(func=run)


def output_paths(template: str, symbols: Sequence[str], interval: str) -> dict[str, Path]:
    """The output file of each symbol from ``-o`` (``{symbol}``/``{interval}`` replaced).

    Raises:
        UsageError: several symbols but one file, or an extension we cannot write.
    """
    from binance.cli._klinefile import output_format

    if len(symbols) > 1 and "{symbol}" not in template:
        raise UsageError(
            "several symbols need {symbol} in the output name, e.g. -o '{symbol}-"
            + interval
            + ".csv'"
        )
    paths = {
        s: Path(template.replace("{symbol}", s).replace("{interval}", interval)) for s in symbols
    }
    for path in paths.values():
        try:
            output_format(path)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return paths


def _progress(quiet: bool) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console(stderr=True, quiet=quiet),
        transient=False,
        disable=quiet,
    )


def _estimate_rows(start_ms: int, end_ms: int, interval: str) -> int:
    from binance.helpers import add_interval, interval_to_milliseconds

    if start_ms > end_ms:
        return 0
    if not interval.endswith("M"):
        return (end_ms - start_ms) // interval_to_milliseconds(interval) + 1
    count, moment = 0, start_ms
    while moment <= end_ms:
        count, moment = count + 1, add_interval(moment, interval)
    return count


def last_closed_open_ms(now_ms: int, interval: str) -> int:
    """The latest open time whose kline has closed by ``now_ms`` (later ones may still change).

    >>> last_closed_open_ms(1512086430000, "1m")  # 00:00:30: the 23:59 kline closed last
    1512086370000
    """
    import datetime as dt

    from binance.helpers import interval_to_milliseconds

    if not interval.endswith("M"):
        # A kline opening at t closes at t + step - 1: closed iff t <= now - step.
        return now_ms - interval_to_milliseconds(interval)
    moment = dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.timezone.utc)
    month_start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return int(month_start.timestamp()) * 1000 - 1


def _first_open_ms(client: Any, symbol: str, interval: str) -> int | None:
    rows = client.get_klines(symbol=symbol, interval=interval, startTime=0, limit=1)
    return int(rows[0][0]) if rows else None


def _exists(client: Any, spec: Spec, lo: int, hi: int) -> int | None:
    """Open time of a kline the exchange has in ``[lo, hi]``, or None."""
    if lo > hi:
        return None
    rows = client.get_klines(
        symbol=spec.symbol, interval=spec.interval, startTime=lo, endTime=hi, limit=1
    )
    rows = [r for r in rows if lo <= int(r[0]) <= hi]
    return int(rows[0][0]) if rows else None


def verify_against_exchange(client: Any, spec: Spec, result: Validation) -> list[str]:
    """Check a validated file against the exchange: nothing before its first row, after its
    last, or inside its gaps (up to `MAX_GAPS_CHECKED` of them).

    Returns:
        Notes for the user (unchecked gaps).

    Raises:
        CommandError: the exchange has a kline the file lacks.
    """
    notes: list[str] = []
    holes: list[tuple[int, int]] = []
    if result.rows == 0:
        holes.append((spec.start_ms, spec.end_ms))
    else:
        assert result.first_ms is not None and result.last_ms is not None
        holes.append((spec.start_ms, result.first_ms - 1))
        holes.append((result.last_ms + 1, spec.end_ms))
    for gap in result.gaps[:MAX_GAPS_CHECKED]:
        holes.append((gap.first_ms, gap.last_ms))
    if len(result.gaps) > MAX_GAPS_CHECKED:
        notes.append(f"{len(result.gaps) - MAX_GAPS_CHECKED} more gaps were not checked")
    for lo, hi in holes:
        found = _exists(client, spec, lo, hi)
        if found is not None:
            raise CommandError(
                f"{spec.symbol}: the file lacks the kline opening at {format_ms(found)} "
                "although the exchange has it; delete the .partial file and download again"
            )
    return notes


def download(client: Any, writer: Any, progress: Any) -> tuple[Validation, list[str]]:
    """Fill ``writer`` (already resumed) with the klines of its spec, showing progress; then
    validate it and check it against the exchange. Does not finish the writer.

    Returns:
        The validation and notes for the user.

    Raises:
        CommandError: the file fails its checks.
    """
    from binance.cli._klinefile import ValidationError

    spec = writer.spec
    first = _first_open_ms(client, spec.symbol, spec.interval)
    begin = spec.start_ms if first is None else max(spec.start_ms, first)
    after = writer.last_open_ms
    resume_from = begin if after is None else after + 1
    done = writer.rows_written
    total = done + _estimate_rows(resume_from, spec.end_ms, spec.interval) if first else done
    label = f"{spec.symbol} {spec.interval}"
    task = progress.add_task(label, total=max(total, 1), completed=done, rate="")
    started = time.monotonic()
    last_update = started
    fetched = 0
    if first is not None and resume_from <= spec.end_ms:
        rows = client.get_historical_klines_generator(
            spec.symbol, spec.interval, resume_from, spec.end_ms
        )
        try:
            # A page at a time: each is checked and handed to the OS in one write, so a killed
            # process keeps every page written (resumable from there).
            while page := list(islice(rows, _PAGE_ROWS)):
                try:
                    writer.write_many(page)
                except ValidationError as exc:
                    raise CommandError(
                        f"{exc} (the rows before it are kept in {writer.partial_path})"
                    ) from None
                fetched += len(page)
                now = time.monotonic()
                if now - last_update >= _PROGRESS_EVERY_S:
                    last_update = now
                    per_s = fetched / max(now - started, 1e-6)
                    progress.update(task, completed=writer.rows_written, rate=f"{per_s:,.0f}/s")
        finally:
            rows.close()  # stops the download threads at once on an interruption
    writer.flush()
    elapsed = time.monotonic() - started
    rate = f"{fetched / elapsed:,.0f}/s" if fetched and elapsed > 0 else ""
    progress.update(
        task, completed=writer.rows_written, total=max(writer.rows_written, 1), rate=rate
    )
    try:
        result = writer.validate()
    except ValidationError as exc:
        raise CommandError(f"{exc}; delete the .partial file and download again") from None
    notes = verify_against_exchange(client, spec, result)
    return result, notes


def _summary(spec: Spec, path: Path, result: Validation, resumed_rows: int) -> str:
    if result.rows == 0:
        return f"{spec.symbol} {spec.interval}: no klines in range; wrote an empty {path}"
    assert result.first_ms is not None and result.last_ms is not None
    text = (
        f"{spec.symbol} {spec.interval}: {result.rows:,} rows, {format_ms(result.first_ms)} to "
        f"{format_ms(result.last_ms)} -> {path}"
    )
    if resumed_rows:
        text += f" (resumed after {resumed_rows:,} rows)"
    if result.gaps:
        missing = sum(g.count for g in result.gaps)
        first_gap = result.gaps[0]
        text += (
            f"\n  {len(result.gaps)} gap(s), {missing:,} klines the exchange does not have "
            f"(e.g. {format_ms(first_gap.first_ms)} to {format_ms(first_gap.last_ms)})"
        )
    return text


def run(args: argparse.Namespace) -> int:
    """Download each symbol's klines; returns the exit status."""
    from binance.cli import _klinefile as kf

    symbols: list[str] = args.symbols
    paths = output_paths(args.output, symbols, args.interval)
    if len(set(paths.values())) != len(paths):
        raise UsageError("two symbols would write the same file")
    if any(kf.output_format(p) == "parquet" for p in paths.values()):
        try:
            kf.check_parquet_available()
        except kf.ParquetUnavailable as exc:
            raise CommandError(str(exc)) from None
    # Catch a malformed date before connecting (read again below on the exchange's clock).
    parse_date(args.start)
    if args.end is not None:
        parse_date(args.end)
    out = console(quiet=args.quiet)
    failed = False
    with Connection(args) as conn:
        extra = {} if args.concurrency is None else {"history_concurrency": args.concurrency}
        client = conn.client(**extra)
        server_now = int(client.get_server_time()["serverTime"])
        start_ms = parse_date(args.start, now_ms=lambda: server_now)
        end_ms = server_now if args.end is None else parse_date(args.end, now_ms=lambda: server_now)
        if start_ms > end_ms:
            raise UsageError(f"START ({format_ms(start_ms)}) is after END ({format_ms(end_ms)})")
        if not args.include_open:
            # A kline still open would be a guess in a file meant to hold facts.
            end_ms = min(end_ms, last_closed_open_ms(server_now, args.interval))
        with _progress(args.quiet) as progress:
            for symbol in symbols:
                spec = kf.Spec(symbol, args.interval, args.start, args.end, start_ms, end_ms)
                writer = kf.KlineWriter(paths[symbol], spec)
                try:
                    try:
                        paths[symbol].parent.mkdir(parents=True, exist_ok=True)
                        writer.resume()
                    except kf.ResumeMismatch as exc:
                        raise UsageError(str(exc)) from None
                    resumed_rows = writer.rows_written
                    result, notes = download(client, writer, progress)
                    try:
                        writer.finish(result)
                    except kf.ValidationError as exc:  # e.g. an amount Parquet cannot hold
                        raise CommandError(
                            f"{exc}; the downloaded rows stay in {writer.partial_path}"
                        ) from None
                except KeyboardInterrupt:
                    writer.close()
                    progress.stop()
                    sys.stderr.write(
                        f"{args._parser.prog}: interrupted: {writer.rows_written:,} rows kept "
                        f"in {writer.partial_path}; run the same command again to resume\n"
                    )
                    return EXIT_INTERRUPTED
                except (UsageError, CommandError):
                    writer.close()
                    raise
                except Exception as exc:
                    writer.close()
                    message = describe_error(exc, conn.label)
                    if message is None and isinstance(exc, OSError):
                        raise CommandError(
                            f"cannot write {paths[symbol]}: {exc.strerror or exc}"
                        ) from None
                    if message is None:
                        raise
                    # One symbol failing (e.g. an unknown symbol) does not stop the others.
                    write_err(args._parser.prog, f"{symbol}: {message}")
                    failed = True
                    continue
                out.print(_summary(writer.spec, paths[symbol], result, resumed_rows))
                for note in notes:
                    out.print(f"  note: {note}")
    return EXIT_FAILURE if failed else 0
