"""Seeded background traders that keep every trading symbol's market alive.

Per symbol, a market maker quotes ``book_levels`` price levels on each side of a mid price that
follows a random walk, and a taker sends market orders of varied sizes a few times per second, so
trades, tickers and depth change by themselves and users' orders have counterparties. They trade
through the same matching engine as users, from internal accounts users never see.

Everything is driven by :meth:`BackgroundMarket.tick` with the current time: given the seed and
the sequence of tick times (and the users' own orders), the market is identical run to run. Each
symbol has its own ``random.Random`` seeded from ``(seed, symbol)``; the global ``random`` module is
never used.

No I/O here; must not import the client, asyncio or json.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from binance import enums
from binance.sim.engine.accounts import Account, Accounts
from binance.sim.engine.book import Order
from binance.sim.engine.matching import Batch, MatchingEngine, SymbolState

__all__ = ["BackgroundMarket", "MAKER_ACCOUNT", "TAKER_ACCOUNT"]

MAKER_ACCOUNT = "__background_maker__"
"""Internal account of the market maker (not a user account)."""
TAKER_ACCOUNT = "__background_taker__"
"""Internal account of the background taker (not a user account)."""

#: Balance of each asset in the internal accounts: deep enough never to run out.
_DEEP = Decimal(10) ** 12

#: Trades per second per symbol at activity 1.0.
_TRADES_PER_SECOND = 3.0
#: Volatility of the mid price per square-root second (about 6 % a day).
_SIGMA = 0.0002
#: Mean reversion towards the starting price per second (keeps long runs plausible).
_REVERSION = 1e-5
#: Half the spread and the level spacing, as fractions of the mid price.
_HALF_SPREAD = 0.0001
_SPACING = 0.0004


class _SymbolTrader:
    """The market maker and taker of one symbol."""

    def __init__(self, st: SymbolState, seed: int, start_price: Decimal, now: int) -> None:
        self.st = st
        self.rng = random.Random(f"{seed}:{st.symbol}")
        self.anchor = float(start_price)
        self.mid = float(start_price)
        self.last_ms = now
        self.quotes: dict[Decimal, Order] = {}
        """The maker's resting orders by price."""
        spec = st.spec
        self.tick_size = spec.tick_size
        self.step = spec.step_size
        self.min_qty = spec.min_qty
        self.min_notional = spec.min_notional
        # Fixed level spacing (a multiple of the tick) so small moves of the mid leave the
        # grid, and the book, unchanged.
        tick = self.tick_size
        units = (start_price * Decimal(repr(_SPACING)) / tick).to_integral_value(ROUND_FLOOR)
        self.spacing = max(units, Decimal(1)) * tick

    # -- sizes and prices ----------------------------------------------------------------------
    def _qty_for(self, notional: float, price: Decimal) -> Decimal:
        raw = Decimal(repr(notional)) / price
        qty = (raw / self.step).to_integral_value(rounding=ROUND_FLOOR) * self.step
        if qty < self.min_qty:
            qty = self.min_qty
        if qty * price < self.min_notional:
            qty = ((self.min_notional / price) / self.step).to_integral_value(
                rounding=ROUND_CEILING
            ) * self.step
        return qty

    def _grid(self, levels: int) -> tuple[list[Decimal], list[Decimal]]:
        """Bid and ask prices: multiples of the spacing around the mid, best first."""
        mid = Decimal(repr(self.mid))
        spacing = self.spacing
        top_bid = mid * Decimal(repr(1 - _HALF_SPREAD))
        top_ask = mid * Decimal(repr(1 + _HALF_SPREAD))
        k_bid = (top_bid / spacing).to_integral_value(rounding=ROUND_FLOOR)
        k_ask = (top_ask / spacing).to_integral_value(rounding=ROUND_CEILING)
        if k_ask <= k_bid:
            k_ask = k_bid + 1
        bids = [(k_bid - i) * spacing for i in range(levels) if k_bid - i > 0]
        asks = [(k_ask + i) * spacing for i in range(levels)]
        return bids, asks

    # -- one tick ------------------------------------------------------------------------------
    def advance(
        self,
        engine: MatchingEngine,
        batch: Batch,
        maker: Account,
        taker: Account,
        now: int,
        activity: float,
        levels: int,
        max_catch_up_ms: int,
    ) -> None:
        elapsed = min(now - self.last_ms, max_catch_up_ms)
        self.last_ms = max(self.last_ms, now)
        if elapsed < 0:
            return
        seconds = elapsed / 1000.0
        rng = self.rng
        # Random walk of the mid price, with a little pull back to where it started.
        if seconds > 0:
            drift = -_REVERSION * seconds * math.log(self.mid / self.anchor)
            self.mid *= math.exp(drift + _SIGMA * math.sqrt(seconds) * rng.gauss(0.0, 1.0))
        self._requote(engine, batch, maker, levels)
        # Takers: a Poisson number of market orders, sides leaning with the last move.
        rate = _TRADES_PER_SECOND * activity * seconds
        count = _poisson(rng, rate) if rate > 0 else 0
        for _ in range(count):
            side = enums.SIDE_BUY if rng.random() < 0.5 else enums.SIDE_SELL
            st = self.st
            book = st.book
            best = book.best_ask() if side == enums.SIDE_BUY else book.best_bid()
            if best is None:
                continue
            notional = float(self.min_notional) * rng.lognormvariate(3.5, 1.0)
            qty = self._qty_for(notional, best.price)
            engine.place_internal(batch, taker, st.symbol, side, qty)
        if count:
            self._requote(engine, batch, maker, levels)

    def _requote(self, engine: MatchingEngine, batch: Batch, maker: Account, levels: int) -> None:
        bids, asks = self._grid(levels)
        quotes = self.quotes
        wanted = {p: enums.SIDE_BUY for p in bids}
        wanted.update({p: enums.SIDE_SELL for p in asks})
        for price, order in list(quotes.items()):
            if order.status not in enums.OPEN_ORDER_STATUSES:
                del quotes[price]
            elif wanted.get(price) != order.side:
                engine.cancel_internal(batch, order)
                del quotes[price]
        rng = self.rng
        base = float(self.min_notional)
        symbol = self.st.symbol
        for price, side in wanted.items():
            if price in quotes:
                continue
            notional = base * rng.lognormvariate(6.0, 0.8)
            qty = self._qty_for(notional, price)
            placed = engine.place_internal(batch, maker, symbol, side, qty, price)
            if placed is not None and placed.status in enums.OPEN_ORDER_STATUSES:
                quotes[price] = placed


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; ``mean`` is small here)."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit = math.exp(-mean)
    k = 0
    p = rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class BackgroundMarket:
    """The background traders of every trading symbol.

    Args:
        engine: the matching engine to trade through.
        accounts: the ledger (internal accounts are created in it).
        seed: the exchange's seed.
        start_prices: ``{symbol: price}`` where each symbol's live market starts.
        now: the current time (ms); the book is built at once.
        assets: every asset listed, to fund the internal accounts.
        activity: trading intensity (1.0 = a few trades per second per symbol).
        levels: levels quoted per side.
        max_catch_up_ms: the longest stretch one tick simulates.
    """

    def __init__(
        self,
        engine: MatchingEngine,
        accounts: Accounts,
        seed: int,
        start_prices: dict[str, Decimal],
        now: int,
        assets: Iterable[str],
        *,
        activity: float = 1.0,
        levels: int = 30,
        max_catch_up_ms: int = 5_000,
    ) -> None:
        self.engine = engine
        self.activity = activity
        self.levels = levels
        self.max_catch_up_ms = max_catch_up_ms
        funding = {asset: _DEEP for asset in assets}
        self.maker = accounts.create(MAKER_ACCOUNT, funding, now, internal=True)
        self.taker = accounts.create(TAKER_ACCOUNT, funding, now, internal=True)
        self.traders = {
            symbol: _SymbolTrader(engine.states[symbol], seed, price, now)
            for symbol, price in start_prices.items()
        }
        batch = engine.begin(now)
        for trader in self.traders.values():
            if trader.st.status == enums.SYMBOL_STATUS_TRADING:
                trader._requote(engine, batch, self.maker, levels)
        engine.commit(batch)

    def tick(self, batch: Batch, now: int) -> None:
        """Simulate the market up to ``now`` inside ``batch``."""
        for trader in self.traders.values():
            if trader.st.status != enums.SYMBOL_STATUS_TRADING:
                trader.last_ms = max(trader.last_ms, now)
                continue
            trader.advance(
                self.engine,
                batch,
                self.maker,
                self.taker,
                now,
                self.activity,
                self.levels,
                self.max_catch_up_ms,
            )
