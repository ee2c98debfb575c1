"""How many market-stream messages per second the local exchange publishes to N clients.

The simulator runs in this process (a background thread) with a busy background market. The
clients run in a separate process (so they do not share the simulator's GIL): N plain aiohttp
WebSocket connections, each subscribed to the same streams (trade, aggTrade, bookTicker and
diff depth of every trading symbol, one combined connection each). For each N the benchmark
prints the frames the server queued per second (``MarketStreams.published``), the frames the
clients received per second, and how many clients were dropped as too slow.

What it shows: an engine event is rendered and serialized once per stream name, then the same
bytes go to every subscriber, so frames/s should grow almost linearly with N until the socket
writes saturate the server's thread. There is no peer figure: python-binance and ccxt have no
local exchange to compare with.

Run: ``.venv/bin/python benchmarks/bench_sim_streams.py [--seconds 5] [--clients 1,10,50,100]
[--client-procs 1]`` (more client processes help only with more than two cores: when the
clients cannot keep up, "client msgs/s" stays below "server frames/s" and the queues grow).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import time

from binance.sim import LocalExchange
from binance.sim.market_streams import MarketStreams

SYMBOLS = ("btcusdt", "ethusdt", "bnbusdt", "ethbtc", "bnbbtc", "neobtc")
KINDS = ("trade", "aggTrade", "bookTicker", "depth@100ms")


def _client_process(url: str, clients: int, seconds: float, out: multiprocessing.Queue) -> None:
    """Open ``clients`` connections, count frames for ``seconds``, report through ``out``."""
    import aiohttp

    async def main() -> dict[str, float]:
        counts = [0] * clients
        dropped = 0
        connected = asyncio.Event()
        ready = 0

        async def one(index: int, session: aiohttp.ClientSession, stop: float) -> None:
            nonlocal dropped, ready
            async with session.ws_connect(url, max_msg_size=0) as ws:
                ready += 1
                if ready == clients:
                    connected.set()
                await connected.wait()
                while True:
                    remaining = stop - time.perf_counter()
                    if remaining <= 0:
                        return
                    try:
                        msg = await asyncio.wait_for(ws.receive(), remaining)
                    except asyncio.TimeoutError:
                        return
                    if msg.type is not aiohttp.WSMsgType.TEXT:
                        dropped += 1
                        return
                    counts[index] += 1

        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            warmup = 1.0
            stop = time.perf_counter() + seconds + warmup + 5.0
            tasks = [asyncio.ensure_future(one(i, session, stop)) for i in range(clients)]
            await asyncio.wait_for(connected.wait(), 30)
            await asyncio.sleep(warmup)
            start_counts = sum(counts)
            started = time.perf_counter()
            await asyncio.sleep(seconds)
            received = sum(counts) - start_counts
            elapsed = time.perf_counter() - started
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return {"received_per_s": received / elapsed, "dropped": dropped}

    out.put(asyncio.run(main()))


def measure(ex: LocalExchange, clients: int, seconds: float, procs: int) -> dict[str, float]:
    streams = next(a for a in ex.server.adapters if isinstance(a, MarketStreams))
    names = "/".join(f"{s}@{k}" for s in SYMBOLS for k in KINDS)
    url = f"{ex.stream_url}/stream?streams={names}"
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue = ctx.Queue()
    procs = max(1, min(procs, clients))
    shares = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    workers = [
        ctx.Process(target=_client_process, args=(url, share, seconds, out)) for share in shares
    ]
    for worker in workers:
        worker.start()
    # sample the server's counter over (about) the same window as the clients
    while ex.call(lambda: len(streams.connections)) < clients:
        time.sleep(0.05)
    time.sleep(1.0)
    before = ex.call(lambda: streams.published)
    started = time.perf_counter()
    time.sleep(seconds)
    published = ex.call(lambda: streams.published) - before
    elapsed = time.perf_counter() - started
    results = [out.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(60)
    return {
        "received_per_s": sum(r["received_per_s"] for r in results),
        "dropped": sum(r["dropped"] for r in results),
        "published_per_s": published / elapsed,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="1,10,50,100")
    parser.add_argument("--activity", type=float, default=20.0, help="background market speed")
    parser.add_argument("--client-procs", type=int, default=1, help="client processes")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.clients.split(",")]
    with LocalExchange(seed=0, activity=args.activity, tick_interval_ms=20) as ex:
        print(f"python {sys.version.split()[0]}, {len(SYMBOLS) * len(KINDS)} streams per client")
        print(
            f"{'clients':>8} {'server frames/s':>16} {'client msgs/s':>14} "
            f"{'per client/s':>13} {'dropped':>8}"
        )
        rows = []
        for n in counts:
            result = measure(ex, n, args.seconds, args.client_procs)
            rows.append({"clients": n, **result})
            print(
                f"{n:>8} {result['published_per_s']:>16,.0f} {result['received_per_s']:>14,.0f} "
                f"{result['received_per_s'] / n:>13,.0f} {int(result['dropped']):>8}"
            )
            # let the server notice the closed connections before the next round
            streams = next(a for a in ex.server.adapters if isinstance(a, MarketStreams))
            while ex.call(lambda s=streams: len(s.connections)) > 0:
                time.sleep(0.05)
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
