"""Helpers for the engine's in-process tests: a settable clock, order requests, invariants.

``check_consistent(ex)`` is the engine's full invariant check, used after every operation:
balances reconcile per asset, each account's locked amount equals what its open orders hold,
books are never crossed and every level's totals match its orders.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from binance.sim.engine.exchange import Exchange, OrderRequest

D = Decimal


class Clock:
    """A settable millisecond clock."""

    def __init__(self, now: int = 1_750_000_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> int:
        self.now += ms
        return self.now


def req(side: str, type: str = "LIMIT", symbol: str = "BTCUSDT", **kw: object) -> OrderRequest:
    """An order request; numbers given as str become Decimal; LIMIT defaults to GTC."""
    for key in ("quantity", "price", "stop_price", "iceberg_qty", "quote_order_qty"):
        if isinstance(kw.get(key), str):
            kw[key] = D(kw[key])  # type: ignore[arg-type]
    if type in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"):
        kw.setdefault("time_in_force", "GTC")
    return OrderRequest(symbol=symbol, side=side, type=type, **kw)  # type: ignore[arg-type]


def check_consistent(ex: Exchange) -> None:
    """Assert every engine invariant (see the module docstring)."""
    assert ex.imbalances() == {}
    held: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for st in ex.engine.states.values():
        book = st.book
        for side in (book.bids, book.asks):
            for price, level in side.items():
                orders = list(level.orders())
                assert orders, f"empty level {price} left in {st.symbol}"
                assert level.count == len(orders)
                assert level.visible == sum((o.display for o in orders), D(0))
                assert level.total == sum((o.leaves for o in orders), D(0))
                for o in orders:
                    assert o.price == price
                    assert o.status in ("NEW", "PARTIALLY_FILLED")
                    assert 0 < o.display <= o.leaves
                    if o.iceberg_qty > 0:
                        assert o.display <= o.iceberg_qty
                    held[o.account_id][o.lock_asset] += o.locked
        for o in st.stop_orders.values():
            held[o.account_id][o.lock_asset] += o.locked
        bid, ask = book.best_bid(), book.best_ask()
        if bid is not None and ask is not None:
            assert bid.price < ask.price, f"crossed book on {st.symbol}"
    for account in ex.accounts.all():
        for asset, amount in account.free.items():
            assert amount >= 0, (account.account_id, asset, amount)
        for asset, amount in account.locked.items():
            assert amount >= 0, (account.account_id, asset, amount)
            assert amount == held[account.account_id][asset], (account.account_id, asset)
        for asset, amount in held[account.account_id].items():
            assert account.locked.get(asset, D(0)) == amount
