"""Helpers for the depth cache manager tests: a fast simulator, exact checkpoints, deadlines.

The checkpoint comparison is exact, never "close enough in time":

- `Recorder` is the manager's callback. Each time a cache changes, it reads the cache's update
  id and its top levels together under ``cache.lock`` and files them by update id: what the
  cache showed at that id.
- `truth` reads the simulator's book and its update id together on the server's loop (one call,
  under the engine's lock): what Binance's book was at that id.
- `compare` pairs the two by update id. A truth sample whose id the cache never showed (the
  engine moved on between two diff events, or the cache was resyncing) is not compared; every
  pair that exists must be equal. A difference is a divergence the manager failed to detect.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from binance._streams.rules import StreamConfig
from sim_clients import async_client_for, client_for  # noqa: F401 (re-exported)
from waiting import TIMEOUT_SCALE, async_wait_until, deadline, wait_until  # noqa: F401 (re-exported)

#: Levels compared per side at each checkpoint.
DEPTH = 10

#: Stream knobs that make reconnects quick (the defaults wait 0.1 s and more).
FAST_STREAMS = StreamConfig(
    reconnect_initial_s=0.05,
    reconnect_max_s=0.5,
    max_retries=8,
    open_timeout_s=5.0,
    close_timeout_s=0.5,
)

#: The busy markets of the simulator's default set.
SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT")


def steady(cache: Any, events: int = 2) -> bool:
    """Wait until ``cache`` is synced and has applied ``events`` more diffs: only then does a
    skipped diff surely leave a gap. (Right after a sync, the next diff may lie inside the
    snapshot already; skipping it then changes nothing, and the cache rightly carries on.)"""
    start = cache.counters()["events_applied"]
    wait_until(
        lambda: cache.synced and cache.counters()["events_applied"] >= start + events,
        what=f"{cache.symbol} to apply {events} more diffs",
    )
    return True


async def async_steady(cache: Any, events: int = 2) -> bool:
    """`steady` for coroutines."""
    start = cache.counters()["events_applied"]
    await async_wait_until(
        lambda: cache.synced and cache.counters()["events_applied"] >= start + events,
        what=f"{cache.symbol} to apply {events} more diffs",
    )
    return True


def _depth_now(exchange: Any, symbol: str, depth: int) -> tuple[int, list[Any], list[Any]]:
    snap = exchange.depth(symbol, depth)
    return (
        snap.last_update_id,
        [[p, q] for p, q in snap.bids],
        [[p, q] for p, q in snap.asks],
    )


def truth(sim: Any, symbol: str, depth: int = DEPTH) -> tuple[int, list[Any], list[Any]]:
    """The simulator's true top ``depth`` levels and the update id they belong to, read
    atomically on the server's loop."""
    return sim.call(_depth_now, sim.exchange, symbol, depth)


class Recorder:
    """A depth cache callback that files what each cache showed, by update id.

    Also counts calls, ``None`` calls (the seed's "cache not usable") and caches seen in a
    state other than SYNCED. Thread-safe; works as a sync or async manager's callback.
    """

    def __init__(self, depth: int = DEPTH) -> None:
        self.depth = depth
        self.lock = threading.Lock()
        self.seen: dict[str, dict[int, tuple[list[Any], list[Any]]]] = collections.defaultdict(dict)
        self.inconsistent: list[str] = []  # one id shown with two different books
        self.calls = 0
        self.nones = 0
        self.unsynced: collections.Counter[str] = collections.Counter()
        self.threads: set[str] = set()

    def __call__(self, cache: Any) -> None:
        name = threading.current_thread().name
        if cache is None:
            with self.lock:
                self.calls += 1
                self.nones += 1
                self.threads.add(name)
            return
        with cache.lock:
            synced = cache.synced
            uid = cache.last_update_id
            view = (
                cache.book.top_bids(self.depth, decimal=True),
                cache.book.top_asks(self.depth, decimal=True),
            )
        with self.lock:
            self.calls += 1
            self.threads.add(name)
            if not synced:
                self.unsynced[cache.symbol] += 1
                return
            book = self.seen[cache.symbol]
            before = book.get(uid)
            if before is not None and before != view:
                self.inconsistent.append(f"{cache.symbol}@{uid}")
            book[uid] = view

    def ids(self, symbol: str) -> set[int]:
        with self.lock:
            return set(self.seen.get(symbol, ()))


class Truths:
    """Truth samples per symbol, taken at many moments while faults fly."""

    def __init__(self, sim: Any, depth: int = DEPTH) -> None:
        self.sim = sim
        self.depth = depth
        self.samples: dict[str, list[tuple[int, list[Any], list[Any]]]] = collections.defaultdict(
            list
        )

    def sample(self, symbol: str) -> int:
        sample = truth(self.sim, symbol, self.depth)
        self.samples[symbol].append(sample)
        return sample[0]

    def last_id(self, symbol: str) -> int:
        return max(s[0] for s in self.samples[symbol])


def compare(recorder: Recorder, truths: Truths) -> tuple[int, list[str]]:
    """Pair truth samples with what the cache showed at the same update id.

    Returns:
        (how many pairs were compared, descriptions of those that differ).
    """
    compared = 0
    diverged: list[str] = []
    with recorder.lock:
        for symbol, samples in truths.samples.items():
            shown = recorder.seen.get(symbol, {})
            for uid, bids, asks in samples:
                view = shown.get(uid)
                if view is None:
                    continue
                compared += 1
                if view != (bids, asks):
                    diverged.append(
                        f"{symbol}@{uid}: cache {view[0][:2]}/{view[1][:2]} "
                        f"vs true {bids[:2]}/{asks[:2]}"
                    )
    return compared, diverged


@pytest.fixture(scope="package")
def fast_sim() -> Iterator[Any]:
    """A busy local exchange: the engine ticks every 5 ms with heavy background trading and the
    streams tick every 5 ms, so ``@depth@100ms`` streams carry ~200 diff events a second."""
    from binance.sim import LocalExchange

    with LocalExchange(
        seed=11,
        activity=20.0,
        tick_interval_ms=5,
        ws_stream_tick_ms=5.0,
        request_weight_per_minute=10_000_000,
        raw_requests_per_5m=10_000_000,
    ) as exchange:
        yield exchange


@pytest.fixture(scope="package")
def quiet_sim() -> Iterator[Any]:
    """A local exchange with no background market: BTCUSDT's book changes only when a test
    places an order (`place_bid`), so a lost diff leaves no trace in later ones."""
    from binance.sim import LocalExchange

    with LocalExchange(seed=5, background_market=False) as exchange:
        yield exchange


def place_bid(rest: Any, sim: Any) -> float:
    """Place a BTCUSDT bid of 0.001 one dollar above the best bid (there are no asks, so it
    rests) over plain REST; returns its price."""
    _, bids, _ = truth(sim, "BTCUSDT", 1)
    price = bids[0][0] + 1 if bids else Decimal("90000")
    reply = rest.signed(
        "POST",
        "/api/v3/order",
        {"api_key": sim.api_key, "api_secret": sim.api_secret, "key_type": "HMAC"},
        query={
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.00100",
            "price": f"{price:.2f}",
        },
    )
    assert reply.status_code == 200, reply.text
    return float(price)


@pytest.fixture
def faults(fast_sim: Any) -> Iterator[Any]:
    """The fast simulator's stream faults, switched off after the test."""
    controls = fast_sim.faults.streams
    try:
        yield controls
    finally:
        fast_sim.faults.reset()
