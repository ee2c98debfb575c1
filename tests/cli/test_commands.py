"""Each `binance` sub-command end to end against the local exchange, run in-process."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from decimal import Decimal

import pytest
import requests

from binance.cli import _COMMANDS
from binance.client import Client

from .conftest import TIMEOUT_SCALE, refused_url

# -- help and argument errors ----------------------------------------------------------------------


@pytest.mark.parametrize("command", _COMMANDS)
def test_every_command_has_help(run_cli, command):
    """`binance COMMAND --help` prints its usage and exits 0."""
    status, out, _ = run_cli(command, "--help")
    assert status == 0
    assert out.startswith(f"usage: binance {command}")


def test_top_level_help_lists_every_command(run_cli):
    """`binance --help` names each sub-command."""
    status, out, _ = run_cli("--help")
    assert status == 0
    for command in _COMMANDS:
        assert f"    {command} " in out


def test_help_loads_no_heavy_module():
    """Building the parser imports neither the client, the simulator, rich nor pyarrow."""
    code = (
        "import sys; from binance.cli import build_parser; build_parser(); "
        "heavy = ('requests', 'aiohttp', 'rich', 'pyarrow', 'binance.client', 'binance.sim'); "
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60 * TIMEOUT_SCALE
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


BAD_ARGUMENTS = {
    "no-command": ([], "required: COMMAND"),
    "unknown-command": (["fly"], "invalid choice"),
    "klines-bad-interval": (["klines", "BTCUSDT", "7m", "1 Dec, 2017"], "not a kline interval"),
    "klines-bad-date": (["klines", "BTCUSDT", "1h", "31 Feb, 2018"], "invalid date"),
    "klines-unreadable-date": (["klines", "BTCUSDT", "1h", "soon"], "cannot read date"),
    "klines-start-after-end": (
        ["klines", "ETHBTC", "1h", "2 Dec, 2017", "1 Dec, 2017", "-o", "x.csv", "SIM"],
        "is after END",
    ),
    "klines-no-symbol-placeholder": (
        ["klines", "BTCUSDT,ETHUSDT", "1h", "1 Dec, 2017", "-o", "x.csv"],
        "need {symbol}",
    ),
    "klines-bad-extension": (["klines", "BTCUSDT", "1h", "1 Dec, 2017", "-o", "x.txt"], ".csv"),
    "klines-bad-concurrency": (
        ["klines", "BTCUSDT", "1h", "1 Dec, 2017", "--concurrency", "0"],
        "at least 1",
    ),
    "book-bad-symbol": (["book", "BTC/USDT"], "not a symbol"),
    "book-bad-depth": (["book", "BTCUSDT", "-n", "x"], "not an integer"),
    "book-no-frames": (["book", "BTCUSDT", "--frames", "0"], "at least 1"),
    "book-once-and-frames": (
        ["book", "BTCUSDT", "--once", "--frames", "2"],
        "not allowed with argument --once",
    ),
    "ticker-bad-symbol": (["ticker", "BTC USDT"], "not a symbol"),
    "time-sim-and-testnet": (["time", "--sim", "--testnet"], "--sim starts its own"),
    "time-negative-timeout": (["time", "--timeout", "-1"], "positive"),
    "demo-testnet-without-live": (["demo", "--testnet"], "are for --live"),
    "demo-unknown-option": (["demo", "--quick"], "unrecognized arguments"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS, ids=list(BAD_ARGUMENTS))
def test_bad_arguments_exit_2_with_a_message(run_cli, sim_opts, tmp_path, monkeypatch, case):
    """Bad arguments: exit status 2, usage and a one-line error on stderr, nothing on stdout."""
    monkeypatch.chdir(tmp_path)
    argv, message = BAD_ARGUMENTS[case]
    argv = [a for a in argv if a != "SIM"] + (sim_opts if "SIM" in argv else [])
    status, out, err = run_cli(*argv)
    assert status == 2
    assert out == ""
    assert "usage: binance" in err
    assert message in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # nothing written


# -- time and ticker -------------------------------------------------------------------------------


def test_time_shows_the_offset_from_the_exchanges_clock(run_cli, sim, sim_opts):
    """With the exchange's clock 3 s behind, the local clock is reported 3 s ahead."""
    sim.faults.set_clock_skew(-3000)
    try:
        status, out, _ = run_cli("time", "--json", *sim_opts)
    finally:
        sim.faults.reset()
    assert status == 0
    result = json.loads(out)
    assert abs(result["offset_ms"] - 3000) <= result["round_trip_ms"] + 50
    status, out, _ = run_cli("time", *sim_opts)
    assert status == 0 and out.startswith("server time   20")


def test_ticker_without_symbol_lists_every_price(run_cli, sim, sim_opts):
    """All symbols of exchangeInfo, each with its price."""
    symbols = {
        s["symbol"]
        for s in requests.get(sim.rest_url + "/api/v3/exchangeInfo", timeout=10).json()["symbols"]
    }
    status, out, _ = run_cli("ticker", "--json", *sim_opts)
    assert status == 0
    prices = json.loads(out)
    assert {p["symbol"] for p in prices} == symbols
    status, out, _ = run_cli("ticker", *sim_opts)
    assert status == 0
    assert all(symbol in out for symbol in symbols)


def test_ticker_with_symbols_shows_their_24h_statistics(run_cli, sim_opts):
    """Symbols by spaces or commas, any case: one row each with Binance's statistics."""
    status, out, _ = run_cli("ticker", "--json", "bnbbtc,ETHBTC", "BNBBTC", *sim_opts)
    assert status == 0
    rows = json.loads(out)
    assert [r["symbol"] for r in rows] == ["BNBBTC", "ETHBTC"]
    assert all("priceChangePercent" in r and "lastPrice" in r for r in rows)
    status, out, _ = run_cli("ticker", "ETHBTC", *sim_opts)
    assert status == 0 and "ETHBTC" in out and "change" in out


def test_unknown_symbol_is_the_exchanges_error(run_cli, sim_opts):
    """The exchange's code and message, exit 1, no traceback."""
    status, out, err = run_cli("ticker", "NOPENOPE", *sim_opts)
    assert status == 1
    assert "-1121" in err and "Invalid symbol" in err and "Traceback" not in err


def test_unreachable_exchange_fails_with_a_clear_message(run_cli):
    """Connection refused: exit 1 and a line naming the URL."""
    url = refused_url()
    status, _, err = run_cli("time", "--base-url", url)
    assert status == 1
    assert f"cannot reach {url}" in err


def test_keys_are_never_printed(run_cli, monkeypatch):
    """Keys given by flag or environment appear in no output, even in errors."""
    monkeypatch.setenv("BINANCE_API_SECRET", "env-secret-value-123")
    url = refused_url()
    status, out, err = run_cli(
        "time", "--base-url", url, "--api-key", "flag-key-value-456", "--api-secret", "s3cr3t-789"
    )
    assert status == 1
    for secret in ("env-secret-value-123", "flag-key-value-456", "s3cr3t-789"):
        assert secret not in out + err


def test_ticker_with_an_embedded_exchange(run_cli):
    """--sim starts a local exchange inside the command and stops it afterwards."""
    status, out, _ = run_cli("ticker", "--json", "BTCUSDT", "--sim")
    assert status == 0
    assert json.loads(out)[0]["symbol"] == "BTCUSDT"


# -- klines ----------------------------------------------------------------------------------------


def read_csv(path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))


def as_strings(klines) -> list[list[str]]:
    return [[str(v) for v in k] for k in klines]


def test_klines_csv_equals_the_clients_history(run_cli, sim, sim_opts, tmp_path):
    """The file holds exactly get_historical_klines' rows (the seed's December 2017 example)."""
    out = tmp_path / "eth.csv"
    status, stdout, err = run_cli(
        "klines", "ETHBTC", "30m", "1 Dec, 2017", "1 Jan, 2018", "-o", str(out), *sim_opts
    )
    assert status == 0, err
    client = Client(base_url=sim.rest_url)
    try:
        expected = client.get_historical_klines("ETHBTC", "30m", "1 Dec, 2017", "1 Jan, 2018")
    finally:
        client.close()
    rows = read_csv(out)
    assert rows[0][:2] == ["open_time", "open"]
    assert rows[1:] == as_strings(expected)
    assert len(expected) == 31 * 48 + 1
    assert "1,489 rows" in stdout and str(out) in stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eth.csv"]


def test_klines_several_symbols_to_parquet(run_cli, sim, sim_opts, tmp_path):
    """Comma-separated symbols, {symbol} in the name: one Parquet file each, exact values."""
    pq = pytest.importorskip("pyarrow.parquet")
    template = str(tmp_path / "{symbol}-{interval}.parquet")
    status, _, err = run_cli(
        "klines",
        "ETHBTC,BNBBTC",
        "1d",
        "1 Jan, 2018",
        "2018-03-01",
        "-o",
        template,
        "-q",
        *sim_opts,
    )
    assert status == 0, err
    client = Client(base_url=sim.rest_url)
    try:
        for symbol in ("ETHBTC", "BNBBTC"):
            table = pq.read_table(tmp_path / f"{symbol}-1d.parquet").to_pylist()
            expected = client.get_historical_klines(symbol, "1d", "1 Jan, 2018", "2018-03-01")
            assert len(table) == len(expected) == 60
            assert [r["close"] for r in table] == [Decimal(k[4]) for k in expected]
            assert [int(r["open_time"].timestamp() * 1000) for r in table] == [
                k[0] for k in expected
            ]
    finally:
        client.close()


def test_klines_before_listing_starts_at_the_first_kline(run_cli, sim, sim_opts, tmp_path):
    """A start before the symbol existed costs nothing and the file starts at its first kline."""
    out = tmp_path / "bnb.csv"
    status, _, err = run_cli(
        "klines", "BNBBTC", "1w", "1 Jan, 2010", "1 Jan, 2018", "-o", str(out), *sim_opts
    )
    assert status == 0, err
    first = requests.get(
        sim.rest_url + "/api/v3/klines",
        params={"symbol": "BNBBTC", "interval": "1w", "startTime": 0, "limit": 1},
        timeout=10,
    ).json()[0][0]
    rows = read_csv(out)
    assert int(rows[1][0]) == first


def test_klines_unknown_symbol_fails_and_leaves_no_file(run_cli, sim_opts, tmp_path):
    """The exchange refuses the symbol: exit 1, its message, and no final file."""
    out = tmp_path / "x.csv"
    status, _, err = run_cli(
        "klines", "NOPENOPE", "1h", "1 Dec, 2017", "2 Dec, 2017", "-o", str(out), *sim_opts
    )
    assert status == 1
    assert "NOPENOPE" in err and "Invalid symbol" in err
    assert not out.exists()


def test_klines_refuses_to_resume_another_download(run_cli, sim_opts, tmp_path):
    """A leftover FILE.partial of another request is not mixed in: exit 2, file untouched."""
    out = tmp_path / "k.csv"
    (tmp_path / "k.csv.partial").write_text("open_time\n")
    (tmp_path / "k.csv.partial.json").write_text(
        json.dumps(
            {
                "symbol": "BNBBTC",
                "interval": "1h",
                "start": "1 Dec, 2017",
                "end": None,
                "start_ms": 0,
                "end_ms": 1,
            }
        )
    )
    status, _, err = run_cli(
        "klines", "ETHBTC", "1h", "1 Dec, 2017", "2 Dec, 2017", "-o", str(out), *sim_opts
    )
    assert status == 2
    assert "unfinished download of BNBBTC" in err
    assert (tmp_path / "k.csv.partial").read_text() == "open_time\n"


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


@pytest.mark.parametrize("include_open", [False, True], ids=["closed-only", "include-open"])
def test_klines_up_to_now_write_closed_klines_unless_asked(
    run_cli, sim_opts, tmp_path, include_open
):
    """By default the kline still open is left out (its values would change); with
    --include-open it is the last row."""
    out = tmp_path / "now.csv"
    flags = ["--include-open"] if include_open else []
    before = _wall_ms()
    status, _, err = run_cli(
        "klines", "BNBBTC", "1m", "30 minutes ago UTC", "-o", str(out), *flags, *sim_opts
    )
    after = _wall_ms()
    assert status == 0, err
    rows = read_csv(out)[1:]
    last_close = int(rows[-1][6])
    if include_open:
        assert last_close >= before
    else:
        assert last_close < after
    opens = [int(r[0]) for r in rows]
    assert all(b - a == 60_000 for a, b in zip(opens, opens[1:], strict=False))


def test_last_closed_open_time():
    """Minutes close a minute after they open; months at the next calendar month."""
    from binance.cli.klines import last_closed_open_ms

    jan_1_2018 = 1514764800000
    assert last_closed_open_ms(jan_1_2018 + 30_000, "1m") == jan_1_2018 + 30_000 - 60_000
    # On 15 Jan 2018 the January kline is still open; December 2017's is the last closed.
    assert last_closed_open_ms(jan_1_2018 + 14 * 86_400_000, "1M") == jan_1_2018 - 1


def test_klines_to_parquet_without_pyarrow_names_the_extra(
    run_cli, sim_opts, tmp_path, monkeypatch
):
    """Without pyarrow: exit 1 before downloading, naming the 'parquet' extra."""
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    out = tmp_path / "x.parquet"
    status, _, err = run_cli("klines", "ETHBTC", "1h", "1 Dec, 2017", "-o", str(out), *sim_opts)
    assert status == 1
    assert "pip install 'binance[parquet]'" in err
    assert list(tmp_path.iterdir()) == []


def test_klines_creates_the_output_directory(run_cli, sim_opts, tmp_path):
    """-o into a directory that does not exist yet creates it."""
    out = tmp_path / "data" / "eth" / "{symbol}-{interval}.csv"
    status, _, err = run_cli(
        "klines", "ETHBTC", "1d", "1 Dec, 2017", "10 Dec, 2017", "-o", str(out), "-q", *sim_opts
    )
    assert status == 0, err
    assert len(read_csv(tmp_path / "data" / "eth" / "ETHBTC-1d.csv")) == 1 + 10


def test_klines_unwritable_output_is_a_clear_error(run_cli, sim_opts, tmp_path):
    """A path under a regular file cannot be created: exit 1 naming the file, no traceback."""
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "k.csv"
    status, _, err = run_cli("klines", "ETHBTC", "1d", "1 Dec, 2017", "-o", str(out), *sim_opts)
    assert status == 1
    assert "cannot write" in err and "Traceback" not in err
