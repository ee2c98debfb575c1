"""How many orders the local exchange matches per second over loopback HTTP.

Each worker owns two fresh accounts: a maker rests a SELL LIMIT and a taker crosses it with a
BUY LIMIT IOC at the same price, both signed HMAC requests over real HTTP on 127.0.0.1. The
simulator runs in a background thread with the background market off (only our orders trade)
and with order limits raised out of the way.

Two figures are printed: one worker on a plain ``requests.Session`` (what a simple bot does), and
``--workers`` concurrent aiohttp workers. The in-process matching figure (no HTTP) is
``bench_matching_inprocess.py``.

Run: ``.venv/bin/python benchmarks/bench_sim_orders.py [--seconds 5] [--workers 8]``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import time
from decimal import Decimal
from urllib.parse import urlencode

import aiohttp
import requests

from binance.sim import Credentials, LocalExchange

PRICE = "95000.00"
QTY = "0.00100"


def _signed_query(credentials: Credentials, params: dict[str, str]) -> str:
    params = dict(params, timestamp=str(int(time.time() * 1000)))
    query = urlencode(params)
    assert credentials.api_secret is not None
    signature = hmac.new(credentials.api_secret.encode(), query.encode(), hashlib.sha256)
    return f"{query}&signature={signature.hexdigest()}"


def _orders(maker: Credentials, taker: Credentials) -> list[tuple[Credentials, dict[str, str]]]:
    base = {"symbol": "BTCUSDT", "quantity": QTY, "price": PRICE, "type": "LIMIT"}
    return [
        (maker, dict(base, side="SELL", timeInForce="GTC", newOrderRespType="ACK")),
        (taker, dict(base, side="BUY", timeInForce="IOC", newOrderRespType="RESULT")),
    ]


def run_sequential(ex: LocalExchange, seconds: float) -> tuple[int, Decimal]:
    """One worker, one requests.Session: returns (orders sent, base quantity matched)."""
    maker, taker = ex.new_account(), ex.new_account()
    session = requests.Session()
    sent, matched = 0, Decimal(0)
    deadline = time.perf_counter() + seconds
    try:
        while time.perf_counter() < deadline:
            for credentials, params in _orders(maker, taker):
                reply = session.post(
                    f"{ex.rest_url}/api/v3/order?{_signed_query(credentials, params)}",
                    headers={"X-MBX-APIKEY": credentials.api_key},
                )
                reply.raise_for_status()
                sent += 1
                matched += (
                    Decimal(reply.json().get("executedQty", "0")) if params["side"] == "BUY" else 0
                )
    finally:
        session.close()
    return sent, matched


async def _worker(
    ex: LocalExchange,
    session: aiohttp.ClientSession,
    maker: Credentials,
    taker: Credentials,
    deadline: float,
) -> tuple[int, Decimal]:
    sent, matched = 0, Decimal(0)
    while time.perf_counter() < deadline:
        for credentials, params in _orders(maker, taker):
            url = f"{ex.rest_url}/api/v3/order?{_signed_query(credentials, params)}"
            async with session.post(url, headers={"X-MBX-APIKEY": credentials.api_key}) as reply:
                reply.raise_for_status()
                body = await reply.json()
            sent += 1
            if params["side"] == "BUY":
                matched += Decimal(body.get("executedQty", "0"))
    return sent, matched


async def run_concurrent(ex: LocalExchange, seconds: float, workers: int) -> tuple[int, Decimal]:
    """``workers`` concurrent aiohttp workers: returns (orders sent, base quantity matched)."""
    pairs = [(ex.new_account(), ex.new_account()) for _ in range(workers)]
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(connector=connector) as session:
        results = await asyncio.gather(
            *(_worker(ex, session, maker, taker, deadline) for maker, taker in pairs)
        )
    return sum(r[0] for r in results), sum((r[1] for r in results), Decimal(0))


def _report(label: str, sent: int, matched: Decimal, seconds: float) -> None:
    fills = matched / Decimal(QTY)
    print(
        f"{label:<34} {sent / seconds:9.0f} orders/s  {float(fills) / seconds:8.0f} matches/s"
        f"  ({sent} orders, {fills:.0f} matches in {seconds:.1f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each run")
    parser.add_argument("--workers", type=int, default=8, help="concurrent aiohttp workers")
    args = parser.parse_args()
    with LocalExchange(
        seed=1,
        background_market=False,
        orders_per_10s=10_000_000,
        orders_per_day=100_000_000,
        request_weight_per_minute=100_000_000,
        raw_requests_per_5m=100_000_000,
    ) as ex:
        print(f"local exchange at {ex.rest_url}; placing {QTY} BTCUSDT @ {PRICE} pairs")
        sent, matched = run_sequential(ex, args.seconds)
        _report("requests.Session, 1 worker", sent, matched, args.seconds)
        sent, matched = asyncio.run(run_concurrent(ex, args.seconds, args.workers))
        _report(f"aiohttp, {args.workers} workers", sent, matched, args.seconds)


if __name__ == "__main__":
    main()
