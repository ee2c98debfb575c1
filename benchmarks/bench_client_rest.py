"""Our REST client against python-binance 1.0.37 and ccxt, side by side, on the local exchange.

Two measurements, in one run, against one simulator started as a separate process (a
``LocalExchange`` in a child Python), so that its CPU is not charged to any client:

1. **CPU per signed call**: process CPU time (``time.process_time``) per signed
   ``GET /api/v3/openOrders?symbol=BNBBTC`` (a tiny answer, so the client's own work dominates),
   and per signed ``POST /api/v3/order/test``, no latency injected. Ours is measured for the sync
   and the async client; the peers run in their own venv (``_peers.py``).
2. **One year of 1m klines** (525,600 rows of BTCUSDT, 2023) with 50 ms latency injected by the
   simulator on every answer: ours (``get_historical_klines``, sync and async), python-binance's
   ``get_historical_klines`` and ccxt's async ``fetch_ohlcv(..., params={"paginate": True})``
   (with its request timeout raised from 10 s to 600 s: ccxt starts every page at once, and with
   the default the last pages of a year time out while queued at the server).
   Wall time and the client process's CPU time are printed. A first, untimed download fills
   the simulator's kline row cache (sized for the whole year here), so every library then meets
   the same server answering each page from rendered rows in ~2 ms, as a real server reads
   stored klines: the clients, not the simulator's history generator, set the pace.

Run: ``.venv/bin/python benchmarks/bench_client_rest.py`` (about 5 minutes: python-binance
sleeps one second every third request). ``--days 30`` shortens the kline range, ``--calls``
sets the number of signed calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from _peers import peer_versions, print_table, run_peer
from binance import AsyncClient, Client

SYMBOL_CPU = "BNBBTC"
SYMBOL_KLINES = "BTCUSDT"
START_MS = 1_672_531_200_000  # 2023-01-01 00:00 UTC
MINUTE = 60_000


_SIM_CHILD = """
import json, sys
from binance.sim import LocalExchange
settings = json.loads(sys.argv[2])
with LocalExchange(int(sys.argv[1]), **settings) as ex:
    print(json.dumps(ex.info()), flush=True)
    sys.stdin.read()  # serve until the parent closes our stdin
"""


@contextmanager
def local_exchange(seed: int = 1) -> Any:
    """A LocalExchange in a child process (its CPU is not ours); yields its info dict."""
    # Limits raised out of the way: this measures clients, not the governor.
    # The kline row cache holds the whole year, so after the warm-up every page is a join of
    # rendered rows (as a real server reads stored klines) and the clients, not the
    # simulator's history generator, set the pace.
    settings = {
        "request_weight_per_minute": 10**8,
        "raw_requests_per_5m": 10**8,
        "kline_cache_rows": 600_000,
    }
    cmd = [sys.executable, "-c", _SIM_CHILD, str(seed), json.dumps(settings)]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        yield json.loads(proc.stdout.readline())
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def set_faults(info: dict[str, Any], doc: dict[str, Any]) -> None:
    reply = requests.post(info["rest_url"] + "/sim/v1/faults", json=doc, timeout=10)
    reply.raise_for_status()


# -- ours ------------------------------------------------------------------------------------------


def ours_cpu_sync(info: dict[str, Any], calls: int) -> dict[str, float]:
    client = Client(info["api_key"], info["api_secret"], base_url=info["rest_url"])
    out = {}
    try:
        for name, fn in (
            ("get", lambda: client.get_open_orders(symbol=SYMBOL_CPU)),
            (
                "post",
                lambda: client.create_test_order(
                    symbol=SYMBOL_CPU,
                    side="BUY",
                    type="LIMIT",
                    timeInForce="GTC",
                    quantity="1",
                    price="0.005",
                ),
            ),
        ):
            for _ in range(50):
                fn()
            cpu = time.process_time()
            for _ in range(calls):
                fn()
            out[name] = (time.process_time() - cpu) / calls * 1e6
    finally:
        client.close()
    return out


async def _ours_cpu_async(info: dict[str, Any], calls: int) -> dict[str, float]:
    out = {}
    async with AsyncClient(info["api_key"], info["api_secret"], base_url=info["rest_url"]) as c:
        for name, fn in (
            ("get", lambda: c.get_open_orders(symbol=SYMBOL_CPU)),
            (
                "post",
                lambda: c.create_test_order(
                    symbol=SYMBOL_CPU,
                    side="BUY",
                    type="LIMIT",
                    timeInForce="GTC",
                    quantity="1",
                    price="0.005",
                ),
            ),
        ):
            for _ in range(50):
                await fn()
            cpu = time.process_time()
            for _ in range(calls):
                await fn()
            out[name] = (time.process_time() - cpu) / calls * 1e6
    return out


def ours_klines_sync(info: dict[str, Any], end_ms: int) -> dict[str, float]:
    client = Client(base_url=info["rest_url"], history_concurrency=16)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        rows = client.get_historical_klines(SYMBOL_KLINES, "1m", START_MS, end_ms)
        return {
            "rows": len(rows),
            "wall_s": time.perf_counter() - wall,
            "cpu_s": time.process_time() - cpu,
        }
    finally:
        client.close()


async def _ours_klines_async(info: dict[str, Any], end_ms: int) -> dict[str, float]:
    async with AsyncClient(base_url=info["rest_url"], history_concurrency=16) as client:
        wall, cpu = time.perf_counter(), time.process_time()
        rows = await client.get_historical_klines(SYMBOL_KLINES, "1m", START_MS, end_ms)
        return {
            "rows": len(rows),
            "wall_s": time.perf_counter() - wall,
            "cpu_s": time.process_time() - cpu,
        }


# -- peers (run in benchmarks/.peers/venv) ---------------------------------------------------------

PEER_CODE = r"""
import asyncio, json, sys, time
mode, rest, key, secret, n, start_ms, end_ms = sys.argv[1:8]
n, start_ms, end_ms = int(n), int(start_ms), int(end_ms)

def repoint(urls):
    for name, value in list(urls.items()):
        if isinstance(value, dict):
            repoint(value)
        elif isinstance(value, str):
            urls[name] = value.replace("https://api.binance.com", rest)

CCXT_OPTIONS = {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}, "fetchMargins": False,
                "fetchCurrencies": False}

def pb_client():
    from binance.client import Client
    client = Client(key, secret, ping=False)
    client.API_URL = rest + "/api"
    return client

def per_call(fn):
    for _ in range(50):
        fn()
    cpu = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - cpu) / n * 1e6

out = {}
if mode == "cpu":
    pb = pb_client()
    out["pb_get"] = per_call(lambda: pb.get_open_orders(symbol="BNBBTC"))
    out["pb_post"] = per_call(lambda: pb.create_test_order(
        symbol="BNBBTC", side="BUY", type="LIMIT", timeInForce="GTC", quantity="1",
        price="0.005"))
    import ccxt
    ex = ccxt.binance({"apiKey": key, "secret": secret, "enableRateLimit": False,
                       "options": dict(CCXT_OPTIONS)})
    repoint(ex.urls["api"])
    ex.load_markets()
    out["ccxt_get"] = per_call(lambda: ex.fetch_open_orders("BNB/BTC"))
    out["ccxt_post"] = per_call(lambda: ex.create_order(
        "BNB/BTC", "limit", "buy", 1, 0.005, {"test": True}))
elif mode == "pb_klines":
    pb = pb_client()
    wall, cpu = time.perf_counter(), time.process_time()
    rows = pb.get_historical_klines("BTCUSDT", "1m", start_ms, end_ms)
    out = {"rows": len(rows), "wall_s": time.perf_counter() - wall,
           "cpu_s": time.process_time() - cpu}
elif mode == "ccxt_klines":
    import ccxt.async_support as accxt
    async def main():
        # ccxt fires every page of a paginated fetch at once; with its default 10 s timeout
        # the last pages of a year time out while queued behind the others on a server
        # that needs ~35 ms per page, so the timeout is raised to get a number at all.
        ex = accxt.binance({"options": dict(CCXT_OPTIONS), "timeout": 600000})
        repoint(ex.urls["api"])
        try:
            await ex.load_markets()
            wall, cpu = time.perf_counter(), time.process_time()
            rows = await ex.fetch_ohlcv("BTC/USDT", "1m", since=start_ms, params={
                "paginate": True, "paginationCalls": 2000, "until": end_ms})
            return {"rows": len(rows), "wall_s": time.perf_counter() - wall,
                    "cpu_s": time.process_time() - cpu}
        finally:
            await ex.close()
    out = asyncio.run(main())
print(json.dumps(out))
"""


def peer(mode: str, info: dict[str, Any], calls: int = 0, end_ms: int = 0) -> Any:
    args = [mode, info["rest_url"], info["api_key"], info["api_secret"], str(calls)]
    return run_peer(PEER_CODE, args=[*args, str(START_MS), str(end_ms)])


# -- main ------------------------------------------------------------------------------------------


def print_targets(results: dict[str, Any]) -> None:
    """The issue's targets: klines >= 50x python-binance and >= 3x ccxt; CPU/call <= pb's."""
    checks = []
    cpu = results.get("cpu_us")
    if cpu:
        for kind in ("get", "post"):
            ratio = cpu["peers"][f"pb_{kind}"] / cpu["ours"][kind]
            checks.append((f"CPU per signed {kind.upper()} vs python-binance", ratio, 1.0))
    runs = results.get("klines", {})
    ours = runs.get("ours (sync)")
    if ours:
        for name, target in (("python-binance", 50.0), ("ccxt (async, paginate)", 3.0)):
            if name in runs:
                ratio = runs[name]["wall_s"] / ours["wall_s"]
                checks.append((f"klines download vs {name}", ratio, target))
    print("\ntargets:")
    for label, ratio, target in checks:
        verdict = "ok" if ratio >= target else "MISSED"
        print(f"  {label}: >= {target:g}x, got {ratio:.2f}x  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000, help="signed calls per measurement")
    parser.add_argument("--days", type=int, default=365, help="days of 1m klines")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--skip", default="", help="comma list: cpu,klines,pb,ccxt")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    end_ms = START_MS + args.days * 1440 * MINUTE - MINUTE
    print(f"peers: {peer_versions()}", flush=True)
    results: dict[str, Any] = {}
    with local_exchange() as info:
        if "cpu" not in skip:
            ours = ours_cpu_sync(info, args.calls)
            ours_async = asyncio.run(_ours_cpu_async(info, args.calls))
            theirs = peer("cpu", info, calls=args.calls)
            results["cpu_us"] = {"ours": ours, "ours_async": ours_async, "peers": theirs}
            for kind in ("get", "post"):
                print_table(
                    f"signed {'GET /api/v3/openOrders' if kind == 'get' else 'POST /order/test'}"
                    " -- calls per CPU second (higher is better)",
                    {
                        "ours (sync)": 1e6 / ours[kind],
                        "ours (async)": 1e6 / ours_async[kind],
                        "python-binance": 1e6 / theirs[f"pb_{kind}"],
                        "ccxt": 1e6 / theirs[f"ccxt_{kind}"],
                    },
                    base="ours (sync)",
                    unit="calls/cpu-s",
                )
        if "klines" not in skip:
            print(f"\nwarming the simulator's kline cache ({args.days} days)...", flush=True)
            ours_klines_sync(info, end_ms)
            set_faults(info, {"latency": {"ms": args.latency_ms}})
            runs = {
                "ours (sync)": ours_klines_sync(info, end_ms),
                "ours (async)": asyncio.run(_ours_klines_async(info, end_ms)),
            }
            if "ccxt" not in skip:
                runs["ccxt (async, paginate)"] = peer("ccxt_klines", info, end_ms=end_ms)
            if "pb" not in skip:
                runs["python-binance"] = peer("pb_klines", info, end_ms=end_ms)
            results["klines"] = runs
            print(f"\n{args.days} days of 1m klines, {args.latency_ms:g} ms latency per answer:")
            for name, run in runs.items():
                print(
                    f"  {name:<24} rows={run['rows']:>7}  wall={run['wall_s']:8.2f} s"
                    f"  client cpu={run['cpu_s']:7.2f} s"
                )
            print_table(
                "klines download -- rows per wall second (higher is better)",
                {name: run["rows"] / run["wall_s"] for name, run in runs.items()},
                base="ours (sync)",
                unit="rows/s",
            )
    print_targets(results)
    out = Path(__file__).with_name(".peers") / "bench_client_rest.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"\nraw results: {out}")


if __name__ == "__main__":
    main()
