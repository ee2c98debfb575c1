"""Order book benchmark: per depth event, parse / parse+apply / parse+apply+top-5, us vs peers.

Run from the repository root with the dev venv (PyPI access is needed once, for the peers)::

    .venv/bin/python benchmarks/bench_orderbook.py            # both scenarios, ~2-3 minutes
    .venv/bin/python benchmarks/bench_orderbook.py --scenario busy --messages 5000

What it measures, per diff event (a ``<symbol>@depth`` message as JSON text), on a book of
``--depth`` levels per side built from a snapshot:

- ``floor``: ``orjson.loads`` only (the cheapest thing any consumer must do).
- ``parse+apply``: parse, then apply the ``b``/``a`` levels.
- ``parse+apply+top5``: the same, then read the best 5 bids (``get_bids()[:5]`` in the seed).
- ``parse+apply+top5x2``: the same, reading the best 5 bids and the best 5 asks.

Contenders, each fed the same messages:

- ``us (OrderBook)``: `binance.orderbook.OrderBook` (``bids/asks.update`` + ``bids.top(5)``).
- ``us (DepthSync+DepthCache)``: the depth cache manager's hot path: ``orjson.loads`` ->
  `binance._depthsync.DepthSync.on_event` (sequence checks, crossed-book check) ->
  `binance.depthcache.DepthCache.get_bids(5)`.
- ``... pure Python``: the same two with the pure-Python sides (`binance.orderbook.PyBookSide`,
  what runs where ``binance._cbook`` could not be built or ``BINANCE_PURE_PYTHON=1``); the
  others use the C sides when they are built (the header line says which).
- ``us (manager)``: the real per-event path of `binance.depthcache.MultiDepthCacheManager`:
  ``orjson.loads`` -> the handler the socket manager's callback thread calls (cache lock,
  message kind, `DepthSync.on_event`, state and update id bookkeeping, the callback lock) ->
  the user's callback reading ``cache.get_bids(5)`` (none in ``parse+apply``). The socket
  manager is left out (``bench_sockets.py`` measures it); its handler is called directly.
- ``python-binance``: 1.0.37's ``DepthCache`` fed by its manager's ``_apply_orders`` (orjson,
  as its websocket uses when installed), read with ``get_bids()[:5]``. It sorts the whole book on
  every read, so read modes run on the first ``--pb-messages`` events only (checked against
  the true book at that point).
- ``ccxt``: ``ccxt.pro.binance().handle_order_book_message`` into ccxt's ``OrderBook``
  (bisect-sorted ``Bids``/``Asks`` lists), read with ``book['bids'][:5]``. This leaves out
  ccxt's sequence checks, so it is a generous floor for ccxt.

The peers run in ``benchmarks/.peers/`` (see ``_peers.py``) in a subprocess on the same data; every
contender's final top-5 is checked against the generator's true book. Only the event loop is
timed, for every contender: building the book from the snapshot and checking the result are
setup (a one-off per book, not a cost per event). Rates are the best of ``--repeat`` runs. The
scenarios (deterministic, seeded):

- ``busy``: ~22 levels per event (a liquid market on ``@depth@100ms``); 85 % of changes within
  a few ticks of the best price (exponential, mean ``--near-ticks``), 15 % anywhere in the book.
- ``quiet``: ~4 levels per event, same mix.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from sortedcontainers import SortedDict

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peers import peer_versions, print_table, run_peer  # noqa: E402
from binance._depthsync import DepthSync  # noqa: E402
from binance.depthcache import DepthCache, MultiDepthCacheManager  # noqa: E402
from binance.orderbook import ACCELERATED, OrderBook, PyBookSide  # noqa: E402

SCENARIOS = {"busy": 15.0, "quiet": 3.0}  # mean levels per side per event
PURE = " pure Python"  # suffix of the rows measured with the pure-Python sides


class PyOrderBook(OrderBook):
    """An OrderBook with the pure-Python sides (the fallback without ``binance._cbook``)."""

    __slots__ = ()
    side_class = PyBookSide


TARGETS = {"python-binance": 100.0, "ccxt": 2.0}  # required "us is N x faster" on top5
FLOOR_SHARE = 0.5  # required: our parse+apply+top5 rate >= this share of the floor rate


# -- the data -------------------------------------------------------------------------------------
def _price(ticks: int) -> str:
    return f"{ticks // 100}.{ticks % 100:02d}000000"


def _qty(units: int) -> str:
    return f"{units // 10**8}.{units % 10**8:08d}"


def make_stream(
    messages: int,
    depth: int,
    mean_levels: float,
    near_ticks: float,
    seed: int = 7,
    checkpoint: int = 0,
) -> tuple[dict, list[str], tuple[list, list], tuple[list, list]]:
    """A snapshot, ``messages`` depthUpdate texts, the true top 5 (price, qty) of each side at
    the end, and the same after the first ``checkpoint`` messages."""
    rng = random.Random(seed)
    mid = 6_500_000  # 65,000.00 in ticks of 0.01
    books = (SortedDict(), SortedDict())  # bids, asks: ticks -> qty units
    for book, sign in zip(books, (-1, 1), strict=True):
        offset = 1
        while len(book) < depth:  # dense near the top, sparser deeper
            book[mid + sign * offset] = rng.randint(1, 5 * 10**8)
            offset += 1 if offset < 500 else rng.randint(1, 6)
    bids, asks = books
    snapshot = {
        "lastUpdateId": 1_000,
        "bids": [[_price(p), _qty(q)] for p, q in reversed(bids.items())],
        "asks": [[_price(p), _qty(q)] for p, q in asks.items()],
    }
    update_id = 1_000
    event_time = 1_700_000_000_000
    out = []
    for _ in range(messages):
        changes: tuple[dict, dict] = ({}, {})
        for book, changed, sign in zip(books, changes, (-1, 1), strict=True):
            for _ in range(min(80, 1 + int(rng.expovariate(1 / mean_levels)))):
                best = book.peekitem(-1)[0] if sign < 0 else book.peekitem(0)[0]
                if rng.random() < 0.85:  # near the top, may improve the best by a tick
                    price = best + sign * (int(rng.expovariate(1 / near_ticks)) - 1)
                    if sign < 0:
                        price = min(price, asks.peekitem(0)[0] - 1)
                    else:
                        price = max(price, bids.peekitem(-1)[0] + 1)
                    if price in book and len(book) > 1 and rng.random() < 0.4:
                        del book[price]
                        changed[price] = 0
                    else:
                        book[price] = changed[price] = rng.randint(1, 5 * 10**8)
                elif rng.random() < 0.6 or len(book) < 100:  # a deep level changes size
                    price = book.peekitem(rng.randrange(len(book)))[0]
                    book[price] = changed[price] = rng.randint(1, 5 * 10**8)
                elif len(book) > depth:  # a deep level goes
                    price = book.peekitem(rng.randrange(len(book)))[0]
                    if price != best:
                        del book[price]
                        changed[price] = 0
                else:  # a deep level appears
                    price = best + sign * rng.randint(50, 25_000)
                    book[price] = changed[price] = rng.randint(1, 5 * 10**8)
        first = update_id + 1
        update_id += rng.randint(1, 40)
        event_time += rng.randint(90, 110)
        event = {
            "e": "depthUpdate",
            "E": event_time,
            "s": "BTCUSDT",
            "U": first,
            "u": update_id,
            "b": [[_price(p), _qty(q)] for p, q in changes[0].items()],
            "a": [[_price(p), _qty(q)] for p, q in changes[1].items()],
        }
        out.append(orjson.dumps(event).decode())
        if len(out) == checkpoint:
            early = _top5(bids, asks)
    final = _top5(bids, asks)
    return snapshot, out, final, early if checkpoint else final


def _top5(bids: SortedDict, asks: SortedDict) -> tuple[list, list]:
    return (
        [[_price(p), _qty(q)] for p, q in bids.items()[-5:][::-1]],
        [[_price(p), _qty(q)] for p, q in asks.items()[:5]],
    )


# -- our side -------------------------------------------------------------------------------------
def rate(run: Callable[[], tuple[int, float]]) -> float:
    """Operations per second of one run. ``run`` returns its op count and the seconds its
    event loop took: building the book from the snapshot and checking the result are setup,
    timed for nobody. (`main` keeps the best of its interleaved rounds.)"""
    count, took = run()
    return count / took


def measure_us(snapshot: dict, msgs: list[str], final: tuple) -> dict[str, dict]:
    loads = orjson.loads

    def floor() -> tuple[int, float]:
        start = time.perf_counter()
        for m in msgs:
            loads(m)
        return len(msgs), time.perf_counter() - start

    def book_run(reads: int, book_class: type[OrderBook]) -> Callable[[], tuple[int, float]]:
        def run() -> tuple[int, float]:
            book = book_class(snapshot["bids"], snapshot["asks"])
            bids, asks = book.bids, book.asks
            start = time.perf_counter()
            for m in msgs:
                event = loads(m)
                bids.update(event["b"])
                asks.update(event["a"])
                if reads:
                    bids.top(5)
                    if reads == 2:
                        asks.top(5)
            took = time.perf_counter() - start
            check(book.top_bids(5, decimal=True), book.top_asks(5, decimal=True), final)
            return len(msgs), took

        return run

    def cache_run(reads: int, book_class: type[OrderBook]) -> Callable[[], tuple[int, float]]:
        def run() -> tuple[int, float]:
            cache = DepthCache("BTCUSDT")
            cache.book = book_class()
            # The snapshot's size as the limit, as the managers ask: sides with a horizon.
            sync = DepthSync("BTCUSDT", book=cache.book, snapshot_limit=len(snapshot["bids"]))
            sync.on_snapshot(snapshot)
            on_event = sync.on_event
            start = time.perf_counter()
            for m in msgs:
                on_event(loads(m))
                if reads:
                    cache.get_bids(5)
                    if reads == 2:
                        cache.get_asks(5)
            took = time.perf_counter() - start
            assert sync.events_applied == len(msgs) and sync.resyncs == 0
            check(cache.book.top_bids(5, decimal=True), cache.book.top_asks(5, decimal=True), final)
            return len(msgs), took

        return run

    def dict_run() -> tuple[int, float]:
        bids = dict(snapshot["bids"])
        asks = dict(snapshot["asks"])
        start = time.perf_counter()
        for m in msgs:
            event = loads(m)
            bids.update(event["b"])
            asks.update(event["a"])
        return len(msgs), time.perf_counter() - start

    rates: dict[str, dict] = {"floor": {}, "parse+apply": {}, "top5": {}, "top5x2": {}}
    rates["parse+apply"]["bare dict.update"] = rate(dict_run)

    def json_floor() -> tuple[int, float]:
        start = time.perf_counter()
        for m in msgs:
            json.loads(m)
        return len(msgs), time.perf_counter() - start

    rates["floor"]["us"] = rate(floor)
    rates["floor"]["stdlib json"] = rate(json_floor)
    for mode, reads in (("parse+apply", 0), ("top5", 1), ("top5x2", 2)):
        for suffix, book_class in (("", OrderBook), (PURE, PyOrderBook)):
            rates[mode][f"us (OrderBook){suffix}"] = rate(book_run(reads, book_class))
            rates[mode][f"us (DepthSync+DepthCache){suffix}"] = rate(cache_run(reads, book_class))
        rates[mode]["us (manager)"] = _manager_rate(snapshot, msgs, final, reads)
    return rates


class _Sockets:
    """Stands in for the socket manager: keeps the handler the depth cache manager registers,
    so the benchmark calls it as the socket manager's callback thread would."""

    pool = None

    def start_multiplex_socket(self, streams: list[str], callback: Callable, **options) -> str:
        self.handler = callback
        return "streams=" + "/".join(streams)

    def stop_socket(self, key: str) -> None:
        pass


class _Snapshots:
    """Stands in for the REST client: answers ``get_order_book`` with the benchmark's snapshot."""

    def __init__(self, snapshot: dict) -> None:
        self.snapshot = snapshot

    def get_order_book(self, symbol: str, limit: int) -> dict:
        return self.snapshot


def _manager_rate(snapshot: dict, msgs: list[str], final: tuple, reads: int) -> float:
    """Events per second through `MultiDepthCacheManager`'s per-event handler."""
    loads = orjson.loads

    def on_depth(cache: DepthCache) -> None:
        cache.get_bids(5)
        if reads == 2:
            cache.get_asks(5)

    sockets = _Sockets()
    manager = MultiDepthCacheManager(
        _Snapshots(snapshot),
        ["BTCUSDT"],
        callback=on_depth if reads else None,
        refresh_interval=0,
        limit=len(snapshot["bids"]),
        bm=sockets,  # type: ignore[arg-type]
    )
    try:
        handler = sockets.handler
        handler(loads(msgs[0]))  # buffered; the manager fetches the snapshot and syncs
        assert manager.wait_synced(timeout=30), manager.states()
        rest = msgs[1:]
        start = time.perf_counter()
        for m in rest:
            handler(loads(m))
        took = time.perf_counter() - start
        cache = manager.caches["BTCUSDT"]
        assert cache.counters()["events_applied"] == len(msgs)
        check(cache.book.top_bids(5, decimal=True), cache.book.top_asks(5, decimal=True), final)
    finally:
        manager.close()
    return len(rest) / took


def check(bids: list, asks: list, final: tuple) -> None:
    from decimal import Decimal

    want = tuple([[Decimal(p), Decimal(q)] for p, q in side] for side in final)
    assert (bids, asks) == want, f"wrong book: {bids[:2]} {asks[:2]} vs {want[0][:2]} {want[1][:2]}"


# -- the peers (runs inside benchmarks/.peers/venv) -----------------------------------------------
PEER_CODE = r"""
import json, sys, time, types
import orjson

data = json.loads(open(sys.argv[1]).read())
snapshot, msgs, final, pb_n, pb_final = (
    data["snapshot"], data["messages"], data["final"], data["pb_messages"], data["pb_final"])
loads = orjson.loads
want = [[[float(p), float(q)] for p, q in side] for side in final]
pb_want = [[[float(p), float(q)] for p, q in side] for side in pb_final]

def rate(run, n):  # run() returns the seconds its event loop took
    return n / run()

out = {"floor": {}, "parse+apply": {}, "top5": {}, "top5x2": {}}
def floor():
    t = time.perf_counter()
    for m in msgs:
        loads(m)
    return time.perf_counter() - t
out["floor"]["peers' venv"] = rate(floor, len(msgs))

# python-binance 1.0.37: DepthCache fed as DepthCacheManager._apply_orders does.
try:
    from binance.depthcache import DepthCache, DepthCacheManager
except ImportError:
    from binance.ws.depthcache import DepthCache, DepthCacheManager
apply_orders = DepthCacheManager._apply_orders

def pb_run(reads, n):
    def run():
        cache = DepthCache("BTCUSDT")
        for bid in snapshot["bids"]:
            cache.add_bid(bid)
        for ask in snapshot["asks"]:
            cache.add_ask(ask)
        manager = types.SimpleNamespace(_depth_cache=cache)
        t = time.perf_counter()
        for m in msgs[:n]:
            apply_orders(manager, loads(m))
            if reads:
                cache.get_bids()[:5]
                if reads == 2:
                    cache.get_asks()[:5]
        took = time.perf_counter() - t
        truth = want if n == len(msgs) else pb_want
        assert [cache.get_bids()[:5], cache.get_asks()[:5]] == truth, "python-binance book"
        return took
    return run

# ccxt: ccxt.pro binance's own delta handler into ccxt's OrderBook.
import ccxt.pro
exchange = ccxt.pro.binance()

def ccxt_run(reads):
    def run():
        book = exchange.order_book({})
        book.reset({
            "bids": [[float(p), float(q)] for p, q in snapshot["bids"]],
            "asks": [[float(p), float(q)] for p, q in snapshot["asks"]],
            "nonce": snapshot["lastUpdateId"],
        })
        handle = exchange.handle_order_book_message
        t = time.perf_counter()
        for m in msgs:
            handle(None, loads(m), book)
            if reads:
                book["bids"][:5]
                if reads == 2:
                    book["asks"][:5]
        took = time.perf_counter() - t
        assert [book["bids"][:5], book["asks"][:5]] == want, "ccxt book"
        return took
    return run

for mode, reads in (("parse+apply", 0), ("top5", 1), ("top5x2", 2)):
    n = len(msgs) if reads == 0 else pb_n
    out[mode]["python-binance"] = rate(pb_run(reads, n), n)
    out[mode]["ccxt"] = rate(ccxt_run(reads), len(msgs))
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--depth", type=int, default=5_000)
    parser.add_argument("--near-ticks", type=float, default=12.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pb-messages", type=int, default=500)
    args = parser.parse_args()

    versions = peer_versions()
    print(
        f"python {sys.version.split()[0]}, orjson {orjson.__version__}; order book sides: "
        + ("C (binance._cbook)" if ACCELERATED else "pure Python")
        + "; peers: "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
    )
    failures = []
    for name in SCENARIOS if args.scenario == "all" else [args.scenario]:
        pb_messages = min(args.pb_messages, args.messages)
        snapshot, msgs, final, pb_final = make_stream(
            args.messages, args.depth, SCENARIOS[name], args.near_ticks, checkpoint=pb_messages
        )
        levels = sum(len(e["b"]) + len(e["a"]) for e in map(orjson.loads, msgs)) / len(msgs)
        print(
            f"\n=== scenario {name}: {len(msgs):,} events, {levels:.1f} levels/event, "
            f"{sum(map(len, msgs)) / len(msgs):.0f} bytes/event, book {args.depth:,}/side ==="
        )
        rates: dict[str, dict] = {}
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "data.json"
            payload = {
                "snapshot": snapshot,
                "messages": msgs,
                "final": final,
                "pb_messages": pb_messages,
                "pb_final": pb_final,
            }
            path.write_text(json.dumps(payload))
            for _ in range(args.repeat):  # interleaved, so noise from other load hits all alike
                for part in (
                    measure_us(snapshot, msgs, final),
                    run_peer(PEER_CODE, args=[str(path)]),
                ):
                    for mode, row in part.items():
                        for who, rate in row.items():
                            rates.setdefault(mode, {})
                            rates[mode][who] = max(rate, rates[mode].get(who, 0.0))
        print_table("floor: orjson.loads only (events/s)", rates["floor"], base="us")
        titles = {
            "parse+apply": "parse + apply",
            "top5": "parse + apply + top-5 bids",
            "top5x2": "parse + apply + top-5 bids + top-5 asks",
        }
        for mode, title in titles.items():
            base = "us (DepthSync+DepthCache)"
            print_table(f"{title} (events/s)", rates[mode], base=base)
            floor = rates["floor"]["us"]
            for who in (base, base + PURE):
                print(f"  {who} runs at {rates[mode][who] / floor:.2f} of the floor")
        top5 = rates["top5"]
        base = top5["us (DepthSync+DepthCache)"]
        for peer, need in TARGETS.items():
            got = base / top5[peer]
            status = "ok" if got >= need else "MISSED"
            print(f"  target top5 vs {peer}: >= {need:g}x, got {got:.1f}x  {status}")
            if got < need:
                failures.append(f"{name}: {peer} {got:.1f}x < {need:g}x")
        share = base / rates["floor"]["us"]
        status = "ok" if share >= FLOOR_SHARE else "MISSED"
        print(f"  target top5 vs floor: >= {FLOOR_SHARE:g}, got {share:.2f}  {status}")
        if share < FLOOR_SHARE:
            failures.append(f"{name}: floor share {share:.2f} < {FLOOR_SHARE:g}")
    print("\nmissed targets: " + ("; ".join(failures) if failures else "none"))


if __name__ == "__main__":
    main()
