"""The events the engine publishes: trades, depth diffs, book tickers, execution reports, balances.

Every state change of the exchange appends one or more of these frozen dataclasses to the
:class:`EventLog` (``exchange.events``). The market streams and the WebSocket API only subscribe to
the log and render events with :mod:`binance.sim._render`; they never reach into the engine.

Callbacks run synchronously, in subscription order, inside the engine call that caused the event,
so a subscriber sees events in exactly the order the engine made them. A callback must be quick and
must not call back into the exchange (hand the event to a queue instead).

No I/O here; nothing here imports asyncio, json or the client.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from binance.sim.engine.book import Order

__all__ = [
    "AggTradeEvent",
    "BalanceEvent",
    "BalanceUpdateEvent",
    "BookTickerEvent",
    "DepthEvent",
    "Event",
    "EventLog",
    "OrderEvent",
    "TradeEvent",
]

Level = tuple[Decimal, Decimal]
"""One book level: ``(price, quantity)``."""


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """One fill between a taker and a maker (the ``<symbol>@trade`` stream)."""

    symbol: str
    trade_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    time: int
    """Trade time in ms (``T``)."""
    buyer_order_id: int
    seller_order_id: int
    is_buyer_maker: bool
    agg_trade_id: int
    """Id of the aggregate trade this fill belongs to (see :class:`AggTradeEvent`)."""


@dataclass(frozen=True, slots=True)
class AggTradeEvent:
    """A closed aggregate trade: consecutive fills of one taker order at one price.

    Published once, after the last fill it aggregates (the ``<symbol>@aggTrade`` stream).
    """

    symbol: str
    agg_trade_id: int
    price: Decimal
    qty: Decimal
    first_trade_id: int
    last_trade_id: int
    time: int
    is_buyer_maker: bool


@dataclass(frozen=True, slots=True)
class DepthEvent:
    """A batch of book changes on one symbol (the ``<symbol>@depth`` stream's ``depthUpdate``).

    The symbol's book update id rises by one for every level changed, so the ids of one event
    are ``first_update_id..last_update_id`` and the next event starts at ``last_update_id + 1``;
    :meth:`Exchange.depth <binance.sim.engine.exchange.Exchange.depth>` returns the id of the last
    change applied (NOTES.md section 10).
    """

    symbol: str
    first_update_id: int
    """``U``: first update id in this event."""
    last_update_id: int
    """``u``: last update id in this event."""
    bids: tuple[Level, ...]
    """Changed bid levels, absolute quantity; quantity 0 means the level was removed."""
    asks: tuple[Level, ...]
    """Changed ask levels, absolute quantity; quantity 0 means the level was removed."""
    time: int


@dataclass(frozen=True, slots=True)
class BookTickerEvent:
    """The best bid or ask changed in price or quantity (the ``<symbol>@bookTicker`` stream).

    A side with no orders has price and quantity 0.
    """

    symbol: str
    update_id: int
    """The book update id after the change (``u``)."""
    bid_price: Decimal
    bid_qty: Decimal
    ask_price: Decimal
    ask_qty: Decimal
    time: int


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An execution report for one of a user's orders (user-data ``executionReport``).

    ``order`` is a snapshot of the order after the change (it never changes afterwards).
    """

    account_id: str
    order: Order
    execution_type: str
    """``x``: one of ``enums.EXECUTION_TYPE_*``."""
    time: int
    """Transaction time ``T`` (also used as event time ``E``)."""
    execution_id: int
    """``I``: exchange-wide increasing execution id."""
    reject_reason: str = "NONE"
    last_qty: Decimal = Decimal(0)
    last_price: Decimal = Decimal(0)
    last_quote_qty: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)
    commission_asset: str | None = None
    trade_id: int = -1
    is_maker: bool = False
    orig_client_order_id: str = ""
    """``C``: the original client order id of a canceled order, ``""`` otherwise."""
    prevented_match_id: int | None = None
    """``v``: set when this report is about a self-trade prevention."""
    last_prevented_qty: Decimal | None = None
    """``B``: quantity prevented by this STP event (``A`` is ``order.prevented_quantity``)."""


@dataclass(frozen=True, slots=True)
class BalanceEvent:
    """Free/locked balances after a change (user-data ``outboundAccountPosition``)."""

    account_id: str
    time: int
    balances: tuple[tuple[str, Decimal, Decimal], ...]
    """``(asset, free, locked)`` for each asset that may have changed."""


@dataclass(frozen=True, slots=True)
class BalanceUpdateEvent:
    """A deposit, withdrawal or transfer credited or debited (user-data ``balanceUpdate``)."""

    account_id: str
    asset: str
    delta: Decimal
    """Signed change of the free balance."""
    time: int
    """Clear time ``T`` (also event time ``E``)."""


Event = (
    TradeEvent
    | AggTradeEvent
    | DepthEvent
    | BookTickerEvent
    | OrderEvent
    | BalanceEvent
    | BalanceUpdateEvent
)
"""Any event the engine publishes."""

Callback = Callable[[Event], None]


class EventLog:
    """The exchange's ordered event log with synchronous subscribers.

    Keeps the last ``retain`` events for inspection (tests, late joiners) and a sequence number that
    counts every event ever appended. Subscribers are called in subscription order for each event.

    Args:
        retain: how many recent events to keep in memory.
    """

    def __init__(self, retain: int = 10_000) -> None:
        self._recent: deque[Event] = deque(maxlen=retain)
        self._subscribers: tuple[Callback, ...] = ()
        self.seq = 0
        """How many events were appended so far (the last event's sequence number)."""

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call ``callback(event)`` for every future event; returns a function that unsubscribes.

        Calling the returned function twice is harmless.
        """
        token = _Subscription(callback)
        self._subscribers = (*self._subscribers, token)

        def unsubscribe() -> None:
            self._subscribers = tuple(s for s in self._subscribers if s is not token)

        return unsubscribe

    def append(self, event: Event) -> None:
        """Record ``event`` and deliver it to every subscriber (engine use only)."""
        self.seq += 1
        self._recent.append(event)
        for subscriber in self._subscribers:
            subscriber(event)

    def extend(self, events: list[Event]) -> None:
        """Append several events in order (engine use only)."""
        for event in events:
            self.append(event)

    def recent(self, n: int | None = None) -> list[Event]:
        """The last ``n`` retained events (all retained ones when ``n`` is None), oldest first."""
        if n is None:
            return list(self._recent)
        if n <= 0:
            return []
        return list(self._recent)[-n:]

    def clear(self) -> None:
        """Forget the retained events (subscribers and the sequence number are kept)."""
        self._recent.clear()

    def __iter__(self) -> Iterator[Event]:
        return iter(list(self._recent))

    def __len__(self) -> int:
        return len(self._recent)


class _Subscription:
    """A subscriber wrapper, so the same callback can be subscribed twice independently."""

    __slots__ = ("callback",)

    def __init__(self, callback: Callback) -> None:
        self.callback = callback

    def __call__(self, event: Event) -> None:
        self.callback(event)
