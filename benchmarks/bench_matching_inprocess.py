"""Orders matched per second by the simulator's engine, in-process (no HTTP).

Run: ``.venv/bin/python benchmarks/bench_matching_inprocess.py [--orders N]``

Three workloads on a quiet exchange (no background market), each timing ``Exchange.place_order``
plus a subscriber that receives every event (as the streams do):

- ``rest``: LIMIT GTC orders that rest without matching (book grows to N orders),
- ``cross``: alternating resting and crossing LIMIT orders (every second order trades),
- ``market``: MARKET orders against a deep book refilled by resting orders,
- ``cancel``: place then cancel.

Not collected by pytest.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import time
from decimal import Decimal

from binance.sim.engine.exchange import Exchange, ExchangeConfig, OrderRequest
from binance.sim.engine.markets import DEFAULT_SYMBOLS

D = Decimal


def _exchange() -> tuple[Exchange, list[int]]:
    clock = [1_750_000_000_000]
    # Deep books need more than Binance's 200 open orders per account and symbol.
    markets = tuple(
        dataclasses.replace(spec, max_num_orders=10**9) if spec.symbol == "BTCUSDT" else spec
        for spec in DEFAULT_SYMBOLS
    )
    config = ExchangeConfig(background_market=False, markets=markets)
    ex = Exchange(seed=1, now_ms=lambda: clock[0], config=config)
    counter = [0]

    def on_event(_: object) -> None:
        counter[0] += 1

    ex.events.subscribe(on_event)
    return ex, counter


def _prices(n: int, seed: int) -> list[Decimal]:
    rng = random.Random(seed)
    return [D("95000.00") + D(rng.randint(-500, 500)) for _ in range(n)]


def bench_rest(n: int) -> float:
    ex, _ = _exchange()
    # EXCHANGE_MAX_NUM_ORDERS allows 1000 open orders per account: spread over accounts.
    accounts = [
        ex.create_account(f"a{i}", {"USDT": D("1e12"), "BTC": D("1e9")})
        for i in range(n // 900 + 1)
    ]
    reqs = [
        (accounts[i // 900], OrderRequest("BTCUSDT", "BUY", "LIMIT", "GTC", D("0.01"), price=p))
        for i, p in enumerate(_prices(n, 1))
    ]
    start = time.perf_counter()
    for account, r in reqs:
        ex.place_order(account, r)
    return n / (time.perf_counter() - start)


def bench_cross(n: int) -> float:
    ex, _ = _exchange()
    a = ex.create_account("a", {"USDT": D("1e12"), "BTC": D("1e9")})
    b = ex.create_account("b", {"USDT": D("1e12"), "BTC": D("1e9")})
    prices = _prices(n, 2)
    reqs = []
    for i, p in enumerate(prices):
        if i % 2 == 0:
            reqs.append((a, OrderRequest("BTCUSDT", "SELL", "LIMIT", "GTC", D("0.01"), price=p)))
        else:
            reqs.append(
                (b, OrderRequest("BTCUSDT", "BUY", "LIMIT", "GTC", D("0.01"), price=p + 600))
            )
    start = time.perf_counter()
    for account, r in reqs:
        ex.place_order(account, r)
    return n / (time.perf_counter() - start)


def bench_market(n: int) -> float:
    ex, _ = _exchange()
    a = ex.create_account("a", {"USDT": D("1e12"), "BTC": D("1e9")})
    b = ex.create_account("b", {"USDT": D("1e12"), "BTC": D("1e9")})
    for p in _prices(900, 3):
        ex.place_order(a, OrderRequest("BTCUSDT", "SELL", "LIMIT", "GTC", D("0.05"), price=p + 600))
    start = time.perf_counter()
    for i in range(n):
        if i % 2:
            ex.place_order(b, OrderRequest("BTCUSDT", "BUY", "MARKET", quantity=D("0.02")))
        else:
            ex.place_order(
                a, OrderRequest("BTCUSDT", "SELL", "LIMIT", "GTC", D("0.02"), price=D("94000.00"))
            )
    return n / (time.perf_counter() - start)


def bench_cancel(n: int) -> float:
    ex, _ = _exchange()
    a = ex.create_account("a", {"USDT": D("1e12"), "BTC": D("1e9")})
    prices = _prices(n, 4)
    start = time.perf_counter()
    for p in prices:
        order = ex.place_order(
            a, OrderRequest("BTCUSDT", "BUY", "LIMIT", "GTC", D("0.01"), price=p - 1000)
        ).order
        ex.cancel_order(a, "BTCUSDT", order_id=order.order_id)
    return 2 * n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    args = parser.parse_args()
    n = args.orders
    for name, fn, unit in (
        ("rest", bench_rest, "orders/s"),
        ("cross", bench_cross, "orders/s"),
        ("market", bench_market, "orders/s"),
        ("cancel", bench_cancel, "commands/s"),
    ):
        rate = fn(n)
        print(f"{name:>7}: {rate:10,.0f} {unit}  ({n} orders)")


if __name__ == "__main__":
    main()
