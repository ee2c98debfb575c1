"""The simulator's order book: price levels of FIFO order queues, plus the order and trade records.

:class:`OrderBook` holds one symbol's resting orders in two sorted maps of :class:`Level` (price
-> FIFO queue). Adding, removing and finding the best level are O(log n) in the number of levels;
removal is O(1) with lazy deletion (a removed order stays in its level's deque, marked off the
book, until matching pops it). Only an iceberg order's visible slice counts towards the displayed
depth. The book also numbers its changes: every changed level raises the symbol's update id by one
and is remembered until :meth:`OrderBook.flush_changes` hands the batch to a ``DepthEvent``
(NOTES.md section 10).

This module also defines the records the facade returns: :class:`Order` (mutable inside the engine;
callers get snapshots), :class:`Fill`, :class:`Trade`, :class:`AggTrade`, :class:`DepthSnapshot`
and :class:`BookTicker`.

No I/O here; it must not import the client, asyncio or json.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sortedcontainers import SortedDict  # type: ignore[import-untyped]  # it ships no type hints

from binance import enums

__all__ = [
    "AggTrade",
    "BookTicker",
    "DepthSnapshot",
    "Fill",
    "Level",
    "Order",
    "OrderBook",
    "Trade",
]

ZERO = Decimal(0)


class Order:
    """One order as Binance reports it (``GET /api/v3/order``), plus the engine's working state.

    The engine mutates its own instance; everything handed out of the engine is a
    :meth:`snapshot`. Decimal fields are exact; ``price``, ``stop_price``, ``iceberg_qty`` and
    ``orig_quote_order_qty`` are 0 when not set, as Binance renders them.
    """

    __slots__ = (
        # -- as reported by Binance
        "symbol",
        "order_id",
        "order_list_id",
        "client_order_id",
        "price",
        "orig_qty",
        "executed_qty",
        "cummulative_quote_qty",
        "status",
        "time_in_force",
        "type",
        "side",
        "stop_price",
        "iceberg_qty",
        "time",
        "update_time",
        "is_working",
        "working_time",
        "orig_quote_order_qty",
        "self_trade_prevention_mode",
        "strategy_id",
        "strategy_type",
        "trailing_delta",
        "trailing_time",
        "trail_extreme",
        "prevented_match_id",
        "prevented_quantity",
        "cancel_client_order_id",
        "transact_time",
        # -- engine state
        "account_id",
        "leaves",
        "display",
        "on_book",
        "lock_asset",
        "locked",
        "base_asset",
        "quote_asset",
    )

    symbol: str
    order_id: int
    order_list_id: int
    client_order_id: str
    """The client id the order was placed with."""
    price: Decimal
    orig_qty: Decimal
    executed_qty: Decimal
    cummulative_quote_qty: Decimal
    status: str
    time_in_force: str
    type: str
    side: str
    stop_price: Decimal
    iceberg_qty: Decimal
    time: int
    update_time: int
    is_working: bool
    working_time: int
    """When the order started working; -1 for a stop order not triggered yet."""
    orig_quote_order_qty: Decimal
    self_trade_prevention_mode: str
    strategy_id: int | None
    strategy_type: int | None
    trailing_delta: int | None
    """Trailing stop distance in basis points (None for a plain stop)."""
    trailing_time: int
    """When trailing started (the activation); -1 before, or for a plain order."""
    trail_extreme: Decimal | None
    """Highest (SELL) or lowest (BUY) last price since trailing started."""
    prevented_match_id: int | None
    """Id of the last self-trade prevention that involved this order (None when never)."""
    prevented_quantity: Decimal
    cancel_client_order_id: str | None
    """The cancel request's client id once canceled (the cancel response's ``clientOrderId``;
    the order's own id is then its ``origClientOrderId``)."""
    transact_time: int
    """Time of the last command that changed the order (``transactTime`` of responses)."""
    account_id: str
    leaves: Decimal
    """Quantity still to fill (``orig_qty - executed_qty`` for quantity orders)."""
    display: Decimal
    """The displayed quantity while on the book (an iceberg's current visible slice)."""
    on_book: bool
    lock_asset: str
    locked: Decimal
    """How much of ``lock_asset`` this order holds locked in its account right now."""
    base_asset: str
    quote_asset: str

    def __init__(
        self,
        *,
        symbol: str,
        order_id: int,
        client_order_id: str,
        account_id: str,
        side: str,
        type: str,
        time_in_force: str,
        price: Decimal,
        orig_qty: Decimal,
        stop_price: Decimal,
        iceberg_qty: Decimal,
        orig_quote_order_qty: Decimal,
        self_trade_prevention_mode: str,
        time: int,
        base_asset: str,
        quote_asset: str,
        strategy_id: int | None = None,
        strategy_type: int | None = None,
        trailing_delta: int | None = None,
    ) -> None:
        self.symbol = symbol
        self.order_id = order_id
        self.order_list_id = -1
        self.client_order_id = client_order_id
        self.cancel_client_order_id = None
        self.account_id = account_id
        self.side = side
        self.type = type
        self.time_in_force = time_in_force
        self.price = price
        self.orig_qty = orig_qty
        self.executed_qty = ZERO
        self.cummulative_quote_qty = ZERO
        self.status = enums.ORDER_STATUS_NEW
        self.stop_price = stop_price
        self.iceberg_qty = iceberg_qty
        self.time = time
        self.update_time = time
        self.transact_time = time
        self.is_working = True
        self.working_time = time
        self.orig_quote_order_qty = orig_quote_order_qty
        self.self_trade_prevention_mode = self_trade_prevention_mode
        self.strategy_id = strategy_id
        self.strategy_type = strategy_type
        self.trailing_delta = trailing_delta
        self.trailing_time = -1
        self.trail_extreme = None
        self.prevented_match_id = None
        self.prevented_quantity = ZERO
        self.leaves = orig_qty
        self.display = ZERO
        self.on_book = False
        self.lock_asset = quote_asset if side == enums.SIDE_BUY else base_asset
        self.locked = ZERO
        self.base_asset = base_asset
        self.quote_asset = quote_asset

    @property
    def is_open(self) -> bool:
        """True while the order can still trade (on the book or waiting for its stop price)."""
        return self.status in enums.OPEN_ORDER_STATUSES

    @property
    def is_buy(self) -> bool:
        """True for a BUY order."""
        return self.side == enums.SIDE_BUY

    def snapshot(self) -> Order:
        """An independent copy of the order as it is now."""
        copied: Order = _copy_order(self)
        return copied

    def __repr__(self) -> str:
        return (
            f"Order({self.symbol} #{self.order_id} {self.side} {self.type} {self.status} "
            f"price={self.price} qty={self.orig_qty} executed={self.executed_qty})"
        )


def _make_copier() -> Any:
    # Snapshots are taken for every execution report: a generated straight-line copy is several
    # times faster than copy.copy on a slotted object.
    lines = ["def copy_order(o):", "    n = _new(Order)"]
    lines += [f"    n.{name} = o.{name}" for name in Order.__slots__]
    lines.append("    return n")
    namespace: dict[str, Any] = {"_new": object.__new__, "Order": Order}
    exec("\n".join(lines), namespace)  # noqa: S102 - generated from our own slot names
    return namespace["copy_order"]


_copy_order = _make_copier()


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill of a new order, as in the ``fills`` of a FULL order response."""

    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    trade_id: int


@dataclass(frozen=True, slots=True)
class Trade:
    """One public trade (``GET /api/v3/trades`` entry)."""

    symbol: str
    id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    time: int
    is_buyer_maker: bool
    buyer_order_id: int
    seller_order_id: int
    agg_trade_id: int
    is_best_match: bool = True


@dataclass(frozen=True, slots=True)
class AggTrade:
    """One aggregate trade (``GET /api/v3/aggTrades`` entry)."""

    id: int
    price: Decimal
    qty: Decimal
    first_trade_id: int
    last_trade_id: int
    time: int
    is_buyer_maker: bool
    is_best_match: bool = True


@dataclass(frozen=True, slots=True)
class DepthSnapshot:
    """The displayed book: bids best (highest) first, asks best (lowest) first."""

    last_update_id: int
    bids: list[tuple[Decimal, Decimal]]
    asks: list[tuple[Decimal, Decimal]]


@dataclass(frozen=True, slots=True)
class BookTicker:
    """Best bid and ask with their displayed quantities; an empty side is price and qty 0."""

    symbol: str
    bid_price: Decimal
    bid_qty: Decimal
    ask_price: Decimal
    ask_qty: Decimal
    update_id: int


class Level:
    """One price level: a FIFO queue of orders with the displayed and total quantities."""

    __slots__ = ("price", "queue", "visible", "total", "count")

    def __init__(self, price: Decimal) -> None:
        self.price = price
        self.queue: deque[Order] = deque()
        self.visible = ZERO
        """Sum of the displayed quantities (what depth shows)."""
        self.total = ZERO
        """Sum of the remaining quantities, hidden iceberg parts included."""
        self.count = 0
        """Orders on this level (removed orders still in ``queue`` are not counted)."""

    def front(self) -> Order | None:
        """The first order still on the book (drops lazily removed ones)."""
        queue = self.queue
        while queue:
            order = queue[0]
            if order.on_book:
                return order
            queue.popleft()
        return None

    def orders(self) -> Iterator[Order]:
        """The orders on this level, in time priority."""
        return (o for o in self.queue if o.on_book)


class OrderBook:
    """One symbol's book: bids and asks as sorted price levels of FIFO queues.

    Args:
        symbol: the symbol this book trades.
    """

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids: SortedDict[Decimal, Level] = SortedDict()
        """price -> :class:`Level`, ascending (best bid is the last)."""
        self.asks: SortedDict[Decimal, Level] = SortedDict()
        """price -> :class:`Level`, ascending (best ask is the first)."""
        self.update_id = 0
        """Id of the last applied book change (``lastUpdateId``)."""
        self._changed_bids: dict[Decimal, None] = {}
        self._changed_asks: dict[Decimal, None] = {}

    # -- reading -----------------------------------------------------------------------------
    def best_bid(self) -> Level | None:
        """The highest bid level, or None."""
        return self.bids.peekitem(-1)[1] if self.bids else None

    def best_ask(self) -> Level | None:
        """The lowest ask level, or None."""
        return self.asks.peekitem(0)[1] if self.asks else None

    def side_levels(self, buy_side: bool) -> Iterator[Level]:
        """Levels of one side, best first (``buy_side`` True = bids)."""
        if buy_side:
            return (self.bids[p] for p in reversed(self.bids))
        return iter(self.asks.values())

    def opposite_levels(self, taker_is_buy: bool) -> Iterator[Level]:
        """The levels a taker on ``taker_is_buy`` side would match against, best first."""
        return self.side_levels(not taker_is_buy)

    def depth(self, limit: int) -> DepthSnapshot:
        """The top ``limit`` displayed levels of each side."""
        bids: list[tuple[Decimal, Decimal]] = []
        if limit > 0:
            for price in reversed(self.bids):
                bids.append((price, self.bids[price].visible))
                if len(bids) >= limit:
                    break
        asks: list[tuple[Decimal, Decimal]] = []
        if limit > 0:
            for price, level in self.asks.items():
                asks.append((price, level.visible))
                if len(asks) >= limit:
                    break
        return DepthSnapshot(self.update_id, bids, asks)

    def top(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """``(bid_price, bid_qty, ask_price, ask_qty)``; zeros for an empty side."""
        bid = self.best_bid()
        ask = self.best_ask()
        return (
            bid.price if bid else ZERO,
            bid.visible if bid else ZERO,
            ask.price if ask else ZERO,
            ask.visible if ask else ZERO,
        )

    # -- writing -----------------------------------------------------------------------------
    def add(self, order: Order) -> None:
        """Put ``order`` at the back of its price level, displaying ``order.display``."""
        side = self.bids if order.side == enums.SIDE_BUY else self.asks
        level = side.get(order.price)
        if level is None:
            level = Level(order.price)
            side[order.price] = level
        level.queue.append(order)
        level.visible += order.display
        level.total += order.leaves
        level.count += 1
        order.on_book = True
        self._touch(order.side, order.price)

    def remove(self, order: Order) -> None:
        """Take ``order`` off the book (O(1): it is skipped lazily by matching)."""
        if not order.on_book:
            return
        order.on_book = False
        side = self.bids if order.side == enums.SIDE_BUY else self.asks
        level = side[order.price]
        level.visible -= order.display
        level.total -= order.leaves
        level.count -= 1
        if level.count == 0:
            del side[order.price]
        else:
            # Drop removed orders sitting at the front so front() stays cheap.
            queue = level.queue
            while queue and not queue[0].on_book:
                queue.popleft()
        self._touch(order.side, order.price)

    def reduce(self, level: Level, order: Order, qty: Decimal) -> None:
        """Record that ``qty`` of ``order``'s displayed part traded (caller updates the order)."""
        level.visible -= qty
        level.total -= qty
        self._touch(order.side, level.price)

    def requeue(self, level: Level, order: Order, new_display: Decimal) -> None:
        """Show an iceberg's next slice: the order goes to the back of its level (time priority)."""
        level.visible += new_display - order.display
        order.display = new_display
        queue = level.queue
        if queue and queue[0] is order:
            queue.popleft()
        else:  # pragma: no cover - matching always refills the front order
            queue.remove(order)
        queue.append(order)
        self._touch(order.side, level.price)

    def drop_level_if_empty(self, level: Level, buy_side: bool) -> None:
        """Delete ``level`` once its last order left (after fills took it off the book)."""
        if level.count == 0:
            side = self.bids if buy_side else self.asks
            if side.get(level.price) is level:
                del side[level.price]

    def _touch(self, side: str, price: Decimal) -> None:
        if side == enums.SIDE_BUY:
            self._changed_bids[price] = None
        else:
            self._changed_asks[price] = None

    def has_changes(self) -> bool:
        """True if levels changed since the last :meth:`flush_changes`."""
        return bool(self._changed_bids or self._changed_asks)

    def flush_changes(
        self,
    ) -> tuple[int, int, tuple[tuple[Decimal, Decimal], ...], tuple[tuple[Decimal, Decimal], ...]]:
        """Number the pending level changes and return ``(U, u, bids, asks)``.

        Each changed level raises the update id by one; quantities are the levels' displayed
        quantities now (0 = the level is gone). Call only when :meth:`has_changes` is True.
        """
        bids = tuple(
            (p, lvl.visible if (lvl := self.bids.get(p)) is not None else ZERO)
            for p in self._changed_bids
        )
        asks = tuple(
            (p, lvl.visible if (lvl := self.asks.get(p)) is not None else ZERO)
            for p in self._changed_asks
        )
        self._changed_bids = {}
        self._changed_asks = {}
        first = self.update_id + 1
        self.update_id += len(bids) + len(asks)
        return first, self.update_id, bids, asks
