"""MatchingEngine: order validation, price-time matching, stops, self-trade prevention, cancels.

The engine keeps, per symbol, the book (``book.py``), the waiting stop orders and the trade
history, and, per user account, the index of its orders and fills. Commands arrive through the
facade (``exchange.py``) inside a *batch*: ``begin(now)`` opens one, the commands record their
events in it, and ``commit(batch)`` numbers the book changes of the batch, adds the depth, book
ticker and balance events, and publishes everything on the event log in order. Subscribers never
see a half-applied command.

Rules implemented (NOTES.md section 4.1 unless noted):

- Validation in Binance's order: symbol (-1121), enums, type-dependent mandatory parameters
  (-1102) and parameters sent when not required (-1106), symbol status (-1013 "Market is
  closed."), symbol capabilities (-2010), filters (-1013 "Filter failure: X", via
  ``binance.filters``), then the engine checks (-2010): duplicate open client order id, a
  LIMIT_MAKER that would take, a stop that would trigger immediately, insufficient balance.
- Price-time priority; fills at the maker's price; LIMIT GTC/IOC/FOK, MARKET by quantity or by
  ``quoteOrderQty`` (fills sized to the step, never breaking LOT_SIZE; left-over liquidity
  shortfall ends ``EXPIRED``), LIMIT_MAKER, STOP_LOSS(_LIMIT) and TAKE_PROFIT(_LIMIT) waiting for
  the last trade price to reach the stop price, iceberg orders (only the visible slice is shown;
  each refill goes to the back of its level).
- Self-trade prevention (NOTES.md section 5): the taker's mode applies; TRANSFER between orders of
  one account acts as DECREMENT. Expired orders end ``EXPIRED_IN_MATCH``.
- Balances: a LIMIT BUY locks ``price * qty`` of the quote asset, a SELL locks ``qty`` of the base
  asset; a MARKET BUY by quantity locks the cost of walking the book, by ``quoteOrderQty`` that
  amount. Every fill moves exactly what it consumes and an order's lock is released exactly when
  it ends, so ``Accounts.imbalances()`` stays empty. Commission is taken from the asset received.

No I/O here; must not import the client, asyncio or json.
"""

from __future__ import annotations

import base64
import bisect
import random
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_UP, Decimal
from typing import Any

from sortedcontainers import SortedList  # type: ignore[import-untyped]  # it ships no type hints

from binance import enums, errorcodes
from binance.errorcodes import EngineMessage
from binance.filters import FilterFailure, SymbolRules
from binance.sim.engine import EngineError
from binance.sim.engine.accounts import Account, Accounts, AccountTrade
from binance.sim.engine.book import AggTrade, Fill, Level, Order, OrderBook, Trade
from binance.sim.engine.events import (
    AggTradeEvent,
    BalanceEvent,
    BookTickerEvent,
    DepthEvent,
    Event,
    EventLog,
    OrderEvent,
    TradeEvent,
)
from binance.sim.engine.markets import SymbolSpec

__all__ = [
    "CancelReplaceResult",
    "MatchingEngine",
    "OrderRequest",
    "PlaceResult",
    "SymbolState",
]

ZERO = Decimal(0)
INFINITY = Decimal("Infinity")
_FEE_QUANTUM = Decimal("1e-8")  # commission precision: 8 places (baseCommissionPrecision)

_BUY = enums.SIDE_BUY
_SELL = enums.SIDE_SELL
_LIMIT = enums.ORDER_TYPE_LIMIT
_MARKET = enums.ORDER_TYPE_MARKET
_LIMIT_MAKER = enums.ORDER_TYPE_LIMIT_MAKER
_STOP_LOSS = enums.ORDER_TYPE_STOP_LOSS
_STOP_LOSS_LIMIT = enums.ORDER_TYPE_STOP_LOSS_LIMIT
_TAKE_PROFIT = enums.ORDER_TYPE_TAKE_PROFIT
_TAKE_PROFIT_LIMIT = enums.ORDER_TYPE_TAKE_PROFIT_LIMIT
_GTC = enums.TIME_IN_FORCE_GTC
_IOC = enums.TIME_IN_FORCE_IOC
_FOK = enums.TIME_IN_FORCE_FOK

_NEW = enums.ORDER_STATUS_NEW
_PARTIALLY_FILLED = enums.ORDER_STATUS_PARTIALLY_FILLED
_FILLED = enums.ORDER_STATUS_FILLED
_CANCELED = enums.ORDER_STATUS_CANCELED
_EXPIRED = enums.ORDER_STATUS_EXPIRED
_EXPIRED_IN_MATCH = enums.ORDER_STATUS_EXPIRED_IN_MATCH

_X_NEW = enums.EXECUTION_TYPE_NEW
_X_TRADE = enums.EXECUTION_TYPE_TRADE
_X_CANCELED = enums.EXECUTION_TYPE_CANCELED
_X_EXPIRED = enums.EXECUTION_TYPE_EXPIRED
_X_PREVENTION = enums.EXECUTION_TYPE_TRADE_PREVENTION

#: Order types with a limit price (they can rest on the book).
_LIMIT_TYPES = frozenset({_LIMIT, _LIMIT_MAKER, _STOP_LOSS_LIMIT, _TAKE_PROFIT_LIMIT})
#: Stop types and whether they trigger when the price rises to the stop (True) or falls to it.
#: NOTES.md 4.1: stop price above market for STOP_LOSS BUY and TAKE_PROFIT SELL, below for
#: STOP_LOSS SELL and TAKE_PROFIT BUY.
_TRIGGERS_UP = {
    (_STOP_LOSS, _BUY): True,
    (_STOP_LOSS_LIMIT, _BUY): True,
    (_TAKE_PROFIT, _SELL): True,
    (_TAKE_PROFIT_LIMIT, _SELL): True,
    (_STOP_LOSS, _SELL): False,
    (_STOP_LOSS_LIMIT, _SELL): False,
    (_TAKE_PROFIT, _BUY): False,
    (_TAKE_PROFIT_LIMIT, _BUY): False,
}
_STOP_TYPES = frozenset(enums.STOP_ORDER_TYPES)

#: Symbol capability messages for each order type (-2010, NOTES.md 7.2).
_TYPE_NOT_SUPPORTED = {
    _MARKET: EngineMessage.MARKET_NOT_SUPPORTED,
    _STOP_LOSS: EngineMessage.STOP_LOSS_NOT_SUPPORTED,
    _STOP_LOSS_LIMIT: EngineMessage.STOP_LOSS_LIMIT_NOT_SUPPORTED,
    _TAKE_PROFIT: EngineMessage.TAKE_PROFIT_NOT_SUPPORTED,
    _TAKE_PROFIT_LIMIT: EngineMessage.TAKE_PROFIT_LIMIT_NOT_SUPPORTED,
}

#: NOTES.md 4.1 "Order type-dependent mandatory params", in the order Binance names them.
_MANDATORY: dict[str, tuple[str, ...]] = {
    _LIMIT: ("timeInForce", "quantity", "price"),
    _MARKET: (),  # quantity or quoteOrderQty, checked apart
    _STOP_LOSS: ("quantity", "stopPrice"),
    _TAKE_PROFIT: ("quantity", "stopPrice"),
    _STOP_LOSS_LIMIT: ("timeInForce", "quantity", "price", "stopPrice"),
    _TAKE_PROFIT_LIMIT: ("timeInForce", "quantity", "price", "stopPrice"),
    _LIMIT_MAKER: ("quantity", "price"),
}
#: Parameters each type accepts besides its mandatory ones; anything else sent is -1106.
_OPTIONAL: dict[str, frozenset[str]] = {
    _LIMIT: frozenset({"icebergQty"}),
    _MARKET: frozenset({"quantity", "quoteOrderQty"}),
    _STOP_LOSS: frozenset({"trailingDelta"}),
    _TAKE_PROFIT: frozenset({"trailingDelta"}),
    _STOP_LOSS_LIMIT: frozenset({"icebergQty", "trailingDelta"}),
    _TAKE_PROFIT_LIMIT: frozenset({"icebergQty", "trailingDelta"}),
    _LIMIT_MAKER: frozenset({"icebergQty"}),
}
#: Checked for "sent when not required" in this order.
_CHECKED_PARAMS = (
    "timeInForce",
    "quantity",
    "quoteOrderQty",
    "price",
    "stopPrice",
    "icebergQty",
    "trailingDelta",
)

#: Binance rejects a halted symbol's orders with -1013 "Market is closed." (observed on the live
#: exchange, e.g. fj317/PumpBot#46; errors.md lists the text among the engine's messages).
MARKET_CLOSED_ERROR = errorcodes.INVALID_MESSAGE


def _reject(message: str) -> EngineError:
    return EngineError(errorcodes.NEW_ORDER_REJECTED, message)


def _fee(amount: Decimal) -> Decimal:
    """Commission rounded up to 8 places (the exchange never undercharges)."""
    exponent = amount.as_tuple().exponent  # an int for every finite amount
    if isinstance(exponent, int) and exponent >= -8:
        return amount
    return amount.quantize(_FEE_QUANTUM, rounding=ROUND_UP)


def _floor_step(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of ``step`` not above ``value`` (``value`` >= 0)."""
    return (value // step) * step


# ----------------------------------------------------------------------------------------------
# Requests and results
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRequest:
    """A new order, with Binance's ``POST /api/v3/order`` parameters (already parsed to types).

    ``None`` means "not sent". Enum-valued fields take the wire strings (``enums.SIDE_BUY``...).
    """

    symbol: str
    side: str
    type: str
    time_in_force: str | None = None
    quantity: Decimal | None = None
    quote_order_qty: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    iceberg_qty: Decimal | None = None
    new_client_order_id: str | None = None
    new_order_resp_type: str | None = None
    self_trade_prevention_mode: str | None = None
    strategy_id: int | None = None
    strategy_type: int | None = None
    trailing_delta: int | None = None

    def sent(self) -> dict[str, Any]:
        """The order parameters that were sent, by wire name (for the -1102/-1106 checks)."""
        values = {
            "timeInForce": self.time_in_force,
            "quantity": self.quantity,
            "quoteOrderQty": self.quote_order_qty,
            "price": self.price,
            "stopPrice": self.stop_price,
            "icebergQty": self.iceberg_qty,
            "trailingDelta": self.trailing_delta,
        }
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class PlaceResult:
    """A placed order: its state after matching and the fills of this placement."""

    order: Order
    """Snapshot of the order after matching."""
    fills: list[Fill] = field(default_factory=list)
    resp_type: str = enums.ORDER_RESP_TYPE_FULL
    """The effective ``newOrderRespType`` (ACK, RESULT or FULL)."""
    transact_time: int = 0


@dataclass(frozen=True)
class CancelReplaceResult:
    """Outcome of ``POST /api/v3/order/cancelReplace``.

    ``cancel_result`` and ``new_order_result`` are ``"SUCCESS"``, ``"FAILURE"`` or
    ``"NOT_ATTEMPTED"``; for an attempted step exactly one of ``canceled``/``cancel_error``
    (resp. ``new_order``/``new_order_error``) is set.
    """

    cancel_result: str
    new_order_result: str
    canceled: Order | None = None
    cancel_error: EngineError | None = None
    new_order: PlaceResult | None = None
    new_order_error: EngineError | None = None

    @property
    def error(self) -> EngineError | None:
        """None when both steps succeeded; else -2022 (nothing done, HTTP 400) or -2021 (one
        step done, HTTP 409), to be sent with this result as ``data``."""
        if self.cancel_result == "SUCCESS" and self.new_order_result == "SUCCESS":
            return None
        if self.cancel_result == "SUCCESS" or self.new_order_result == "SUCCESS":
            return EngineError(errorcodes.CANCEL_REPLACE_PARTIAL)
        return EngineError(errorcodes.CANCEL_REPLACE_FAILED)


# ----------------------------------------------------------------------------------------------
# Engine state
# ----------------------------------------------------------------------------------------------


class SymbolState:
    """One symbol's live state: book, waiting stops, counters and public trade history."""

    def __init__(self, spec: SymbolSpec, initial_price: Decimal, history: int) -> None:
        self.spec = spec
        self.symbol = spec.symbol
        self.rules: SymbolRules = spec.rules
        self.has_max_position = "MAX_POSITION" in self.rules.filter_types
        self.step = spec.step_size
        self.book = OrderBook(spec.symbol)
        # (stop price, order id) pairs: "up" ones trigger when last >= stop, "down" when <= stop.
        self.stops_up: SortedList[tuple[Decimal, int]] = SortedList()
        self.stops_down: SortedList[tuple[Decimal, int]] = SortedList()
        self.stop_orders: dict[int, Order] = {}
        self.trailing: dict[int, Order] = {}  # trailing stops, activated or not
        self.next_order_id = 1
        self.next_trade_id = 1
        self.next_agg_id = 1
        self.next_prevented_id = 1
        self.trades: list[Trade] = []
        self.aggs: list[AggTrade] = []
        self.history = history
        self.last_price: Decimal | None = None
        self.last_trade_time = 0
        self.initial_price = initial_price
        # Trades of the last ``avg_price_mins`` minutes for the reference price (NOTES.md 6).
        self.window: deque[tuple[int, Decimal, Decimal]] = deque()
        self.window_pq = ZERO
        self.window_q = ZERO
        self.window_ms = int(spec.rules.avg_price_mins or 5) * 60_000
        self.last_top = (ZERO, ZERO, ZERO, ZERO)
        self.reference_cache: tuple[int, Decimal] | None = None

    @property
    def status(self) -> str:
        return self.spec.status

    def record(self, trade: Trade) -> None:
        self.trades.append(trade)
        if len(self.trades) > self.history + self.history // 8 + 1:
            del self.trades[: len(self.trades) - self.history]
        self.last_price = trade.price
        self.last_trade_time = trade.time
        window = self.window
        window.append((trade.time, trade.quote_qty, trade.qty))
        self.window_pq += trade.quote_qty
        self.window_q += trade.qty

    def record_agg(self, agg: AggTrade) -> None:
        self.aggs.append(agg)
        if len(self.aggs) > self.history + self.history // 8 + 1:
            del self.aggs[: len(self.aggs) - self.history]

    def reference_price(self, now: int) -> Decimal:
        """Volume-weighted average price over the window; else the last price; else the
        price live trading started from (NOTES.md section 6, avgPrice rule)."""
        window = self.window
        cutoff = now - self.window_ms
        while window and window[0][0] < cutoff:
            _, pq, q = window.popleft()
            self.window_pq -= pq
            self.window_q -= q
        if self.window_q > 0:
            return self.window_pq / self.window_q
        if self.last_price is not None:
            return self.last_price
        return self.initial_price


class _AccountIndex:
    """A user account's orders and fills, for queries and the count filters."""

    __slots__ = (
        "open",
        "client_ids",
        "orders",
        "by_id",
        "trades",
        "counts",
        "n_open",
        "n_algo",
        "n_iceberg",
    )

    def __init__(self) -> None:
        self.open: dict[str, dict[int, Order]] = {}
        self.client_ids: dict[tuple[str, str], Order] = {}
        self.orders: dict[str, list[Order]] = {}
        self.by_id: dict[str, dict[int, Order]] = {}
        self.trades: dict[str, list[AccountTrade]] = {}
        self.counts: dict[str, list[int]] = {}  # symbol -> [open, algo, iceberg]
        self.n_open = 0
        self.n_algo = 0
        self.n_iceberg = 0


class Batch:
    """The events and touched state of one command (or one tick of the background market)."""

    __slots__ = ("now", "events", "touched", "symbols", "fills", "agg", "last_taker_event")

    def __init__(self, now: int) -> None:
        self.now = now
        self.events: list[Event] = []
        self.touched: dict[str, dict[str, None]] = {}
        self.symbols: dict[str, SymbolState] = {}
        self.fills: list[Fill] | None = None
        self.agg: list[Any] | None = None  # [agg_id, price, qty, first, last, time, buyer_maker]
        self.last_taker_event = -1


# ----------------------------------------------------------------------------------------------
# The engine
# ----------------------------------------------------------------------------------------------


class MatchingEngine:
    """Books, stops, orders and fills of every symbol; see the module docstring.

    Args:
        symbols: the listed markets with the price each starts live trading at.
        accounts: the ledger.
        events: the log to publish on.
        rng: random source for generated client order ids.
        trade_history: trades kept per symbol.
        on_trade: called as ``on_trade(symbol, time, price, qty, quote_qty, is_buyer_maker)``
            for every trade (the kline aggregation).
    """

    def __init__(
        self,
        symbols: Iterable[tuple[SymbolSpec, Decimal]],
        accounts: Accounts,
        events: EventLog,
        rng: random.Random,
        *,
        trade_history: int = 100_000,
        on_trade: Callable[[str, int, Decimal, Decimal, Decimal, bool], None] | None = None,
    ) -> None:
        self.accounts = accounts
        self.log = events
        self.rng = rng
        self.on_trade = on_trade
        self.states: dict[str, SymbolState] = {
            spec.symbol: SymbolState(spec, price, trade_history) for spec, price in symbols
        }
        self._index: dict[str, _AccountIndex] = {}
        self.reference_source: Callable[[str, int, int], Decimal | None] | None = None
        """``(symbol, avg_price_mins, now) -> price``: the published average price, if any."""
        self._next_execution_id = 1

    # -- batches ----------------------------------------------------------------------------
    def begin(self, now: int) -> Batch:
        """Open a batch for commands at time ``now``."""
        return Batch(now)

    def commit(self, batch: Batch) -> None:
        """Number the batch's book changes and publish all its events in order."""
        events = batch.events
        now = batch.now
        for st in batch.symbols.values():
            book = st.book
            if book.has_changes():
                first, last, bids, asks = book.flush_changes()
                events.append(DepthEvent(st.symbol, first, last, bids, asks, now))
                top = book.top()
                if top != st.last_top:
                    st.last_top = top
                    events.append(BookTickerEvent(st.symbol, last, *top, now))
        accounts = self.accounts
        for account_id, assets in batch.touched.items():
            account = accounts.get(account_id)
            account.update_time = now
            events.append(BalanceEvent(account_id, now, accounts.position(account_id, assets)))
        if events:
            self.log.extend(events)
        batch.events = []
        batch.touched = {}
        batch.symbols = {}

    # -- accounts ---------------------------------------------------------------------------
    def reference_price(self, st: SymbolState, now: int) -> Decimal:
        """The filters' reference price *R* (NOTES.md section 6): ``reference_source`` (the
        published ``avgPrice``) when set and known, else the engine's own live average."""
        source = self.reference_source
        if source is not None:
            # Computed at most once per symbol and clock second: the published average has
            # second resolution, and recomputing it after every trade would dominate matching.
            key = now // 1000
            cached = st.reference_cache
            if cached is not None and cached[0] == key:
                return cached[1]
            price = source(st.symbol, st.rules.avg_price_mins or 0, now)
            if price is not None and price > 0:
                st.reference_cache = (key, price)
                return price
        return st.reference_price(now)

    def register_account(self, account_id: str) -> None:
        """Start indexing a user account's orders and trades."""
        self._index[account_id] = _AccountIndex()

    def state(self, symbol: str) -> SymbolState:
        """The symbol's state, or -1121 Invalid symbol."""
        st = self.states.get(symbol)
        if st is None:
            raise EngineError(errorcodes.BAD_SYMBOL)
        return st

    def replace_spec(self, spec: SymbolSpec) -> None:
        """Swap a symbol's definition (e.g. a status change); the book is kept."""
        st = self.state(spec.symbol)
        st.spec = spec
        st.rules = spec.rules
        st.has_max_position = "MAX_POSITION" in spec.rules.filter_types

    # -- placing ----------------------------------------------------------------------------
    def place(
        self, batch: Batch, account_id: str, req: OrderRequest, *, test: bool = False
    ) -> PlaceResult | None:
        """Validate and execute a user's new order (``test``: validate only, return None)."""
        st = self.state(req.symbol)
        account = self.accounts.get(account_id)
        stp = self._validate_static(st, account_id, req, batch.now)
        if not account.can_trade:
            raise _reject(EngineMessage.ACCOUNT_CANNOT_TRADE)
        return self._place_validated(batch, st, account, req, stp, test=test)

    def _place_validated(
        self,
        batch: Batch,
        st: SymbolState,
        account: Account,
        req: OrderRequest,
        stp: str,
        *,
        test: bool = False,
    ) -> PlaceResult | None:
        account_id = account.account_id
        index = self._index[account_id]
        if req.new_client_order_id is not None:
            existing = index.client_ids.get((st.symbol, req.new_client_order_id))
            if existing is not None and existing.status in enums.OPEN_ORDER_STATUSES:
                raise _reject(EngineMessage.DUPLICATE_ORDER)
        order = self._new_order(st, account_id, req, stp, batch.now)
        book = st.book
        is_buy = order.side == _BUY
        otype = order.type
        if otype == _LIMIT_MAKER:
            best = book.best_ask() if is_buy else book.best_bid()
            if best is not None and (
                best.price <= order.price if is_buy else best.price >= order.price
            ):
                raise _reject(EngineMessage.WOULD_MATCH_AND_TAKE)
        elif otype in _STOP_TYPES and order.stop_price > 0:
            last = st.last_price
            if last is not None:
                up = _TRIGGERS_UP[(otype, order.side)]
                if (last >= order.stop_price) if up else (last <= order.stop_price):
                    raise _reject(EngineMessage.WOULD_TRIGGER_IMMEDIATELY)
        lock = self._lock_amount(st, order, req.quote_order_qty, at_placement=True)
        if lock > account.free.get(order.lock_asset, ZERO):
            raise _reject(EngineMessage.INSUFFICIENT_BALANCE)
        if test:
            return None
        # -- accepted: from here on nothing raises
        order.order_id = st.next_order_id
        st.next_order_id += 1
        if req.new_client_order_id is None:
            order.client_order_id = self._client_id()
        self._open(order, index)
        if not (otype in _STOP_TYPES and otype not in _LIMIT_TYPES and is_buy):
            self.accounts.lock(account, order.lock_asset, lock)
            order.locked = lock
        batch.symbols[st.symbol] = st
        self._touch(batch, order)
        self._report(batch, order, _X_NEW)
        fills: list[Fill] = []
        if otype in _STOP_TYPES:
            order.is_working = False
            order.working_time = -1
            st.stop_orders[order.order_id] = order
            if order.trailing_delta is not None:
                st.trailing[order.order_id] = order
                if order.stop_price <= 0:
                    # No activation price: trailing starts now, from the last price.
                    order.trailing_time = batch.now
                    order.trail_extreme = st.last_price or st.reference_price(batch.now)
            else:
                key = (order.stop_price, order.order_id)
                if _TRIGGERS_UP[(otype, order.side)]:
                    st.stops_up.add(key)
                else:
                    st.stops_down.add(key)
            snapshot = order.snapshot()
        else:
            batch.fills = fills
            self._execute(batch, st, order, req.quote_order_qty)
            batch.fills = None
            # The answer is the order as its own matching left it: stops its trades trigger
            # run after it (and may fill it further as a maker), like separate requests.
            snapshot = order.snapshot()
            self._run_triggers(batch, st)
        resp_type = req.new_order_resp_type
        if resp_type is None:
            resp_type = (
                enums.ORDER_RESP_TYPE_FULL
                if otype in (_MARKET, _LIMIT)
                else enums.ORDER_RESP_TYPE_ACK
            )
        return PlaceResult(snapshot, fills, resp_type, batch.now)

    def place_internal(
        self,
        batch: Batch,
        account: Account,
        symbol: str,
        side: str,
        qty: Decimal,
        price: Decimal | None = None,
        time_in_force: str = _GTC,
    ) -> Order | None:
        """A background trader's order: no validation, no execution reports.

        ``price`` None makes a MARKET order by quantity. Returns the order, or None when the
        account cannot pay for it.
        """
        st = self.states[symbol]
        spec = st.spec
        order = Order(
            symbol=symbol,
            order_id=st.next_order_id,
            client_order_id="",
            account_id=account.account_id,
            side=side,
            type=_LIMIT if price is not None else _MARKET,
            time_in_force=time_in_force if price is not None else _GTC,
            price=price if price is not None else ZERO,
            orig_qty=qty,
            stop_price=ZERO,
            iceberg_qty=ZERO,
            orig_quote_order_qty=ZERO,
            self_trade_prevention_mode=enums.STP_MODE_NONE,
            time=batch.now,
            base_asset=spec.base_asset,
            quote_asset=spec.quote_asset,
        )
        lock = self._lock_amount(st, order, None, at_placement=True)
        if lock > account.free.get(order.lock_asset, ZERO):
            return None
        st.next_order_id += 1
        self.accounts.lock(account, order.lock_asset, lock)
        order.locked = lock
        batch.symbols[symbol] = st
        self._execute(batch, st, order, None)
        self._run_triggers(batch, st)
        return order

    def cancel_internal(self, batch: Batch, order: Order) -> None:
        """Cancel a background trader's open order."""
        if order.status not in enums.OPEN_ORDER_STATUSES:
            return
        st = self.states[order.symbol]
        batch.symbols[order.symbol] = st
        self._finish(batch, st, order, _CANCELED, None)

    def _new_order(
        self, st: SymbolState, account_id: str, req: OrderRequest, stp: str, now: int
    ) -> Order:
        spec = st.spec
        otype = req.type
        qty = req.quantity
        if qty is None:  # quoteOrderQty MARKET: the quantity is known once it has traded
            qty = ZERO
        order = Order(
            symbol=st.symbol,
            order_id=0,
            client_order_id=req.new_client_order_id or "",
            account_id=account_id,
            side=req.side,
            type=otype,
            time_in_force=req.time_in_force or _GTC,
            price=req.price if req.price is not None else ZERO,
            orig_qty=qty,
            stop_price=req.stop_price if req.stop_price is not None else ZERO,
            iceberg_qty=req.iceberg_qty if req.iceberg_qty is not None else ZERO,
            orig_quote_order_qty=req.quote_order_qty if req.quote_order_qty is not None else ZERO,
            self_trade_prevention_mode=stp,
            time=now,
            base_asset=spec.base_asset,
            quote_asset=spec.quote_asset,
            strategy_id=req.strategy_id,
            strategy_type=req.strategy_type,
            trailing_delta=req.trailing_delta,
        )
        if req.quote_order_qty is not None:
            order.leaves = INFINITY
        return order

    def _validate_static(
        self, st: SymbolState, account_id: str, req: OrderRequest, now: int
    ) -> str:
        """Everything Binance checks before its matching engine; returns the STP mode."""
        otype = req.type
        if otype not in _MANDATORY:
            raise EngineError(errorcodes.INVALID_ORDER_TYPE)
        if req.side not in enums.SIDES:
            raise EngineError(errorcodes.INVALID_SIDE)
        if req.time_in_force is not None and req.time_in_force not in enums.TIME_IN_FORCES:
            raise EngineError(errorcodes.INVALID_TIF)
        if req.new_order_resp_type is not None and (
            req.new_order_resp_type not in enums.ORDER_RESP_TYPES
        ):
            raise EngineError(
                errorcodes.INVALID_PARAMETER, errorcodes.INVALID_PARAMETER.msg("newOrderRespType")
            )
        if req.new_client_order_id == "":
            raise EngineError(errorcodes.EMPTY_NEW_CL_ORD_ID)
        sent = req.sent()
        for name in _MANDATORY[otype]:
            if name not in sent:
                if name == "stopPrice" and "trailingDelta" in sent:
                    continue  # NOTES.md 4.1: stopPrice and/or trailingDelta
                raise EngineError(
                    errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
                    errorcodes.MANDATORY_PARAM_EMPTY_OR_MALFORMED.msg(name),
                )
        if otype == _MARKET:
            if req.quantity is None and req.quote_order_qty is None:
                raise EngineError(
                    errorcodes.PARAM_EITHER_REQUIRED,
                    errorcodes.PARAM_EITHER_REQUIRED.msg("quantity", "quoteOrderQty"),
                )
            if req.quantity is not None and req.quote_order_qty is not None:
                raise EngineError(
                    errorcodes.PARAM_NOT_REQUIRED,
                    errorcodes.PARAM_NOT_REQUIRED.msg("quoteOrderQty"),
                )
        allowed = _OPTIONAL[otype]
        mandatory = _MANDATORY[otype]
        for name in _CHECKED_PARAMS:
            if name in sent and name not in mandatory and name not in allowed:
                raise EngineError(
                    errorcodes.PARAM_NOT_REQUIRED, errorcodes.PARAM_NOT_REQUIRED.msg(name)
                )
        if req.strategy_type is not None and req.strategy_type < 1_000_000:
            raise EngineError(errorcodes.BAD_STRATEGY_TYPE)
        spec = st.spec
        if spec.status != enums.SYMBOL_STATUS_TRADING:
            raise EngineError(MARKET_CLOSED_ERROR, EngineMessage.MARKET_CLOSED)
        if otype not in spec.order_types:
            raise _reject(_TYPE_NOT_SUPPORTED.get(otype, EngineMessage.UNSUPPORTED_COMBINATION))
        iceberg = req.iceberg_qty is not None and req.iceberg_qty > 0
        if iceberg:
            if not spec.iceberg_allowed:
                raise _reject(EngineMessage.ICEBERG_NOT_SUPPORTED)
            if req.time_in_force != _GTC and otype != _LIMIT_MAKER:
                # NOTES.md 4.1: an iceberg order requires timeInForce GTC.
                raise EngineError(errorcodes.UNKNOWN_ORDER_COMPOSITION)
        if req.quote_order_qty is not None and not spec.quote_order_qty_market_allowed:
            raise _reject(EngineMessage.QUOTE_ORDER_QTY_NOT_SUPPORTED)
        if req.trailing_delta is not None and not spec.allow_trailing_stop:
            raise _reject(EngineMessage.TRAILING_STOP_NOT_SUPPORTED)
        stp = req.self_trade_prevention_mode or spec.default_stp_mode
        if stp not in spec.allowed_stp_modes:
            raise EngineError(
                errorcodes.INVALID_PARAMETER,
                errorcodes.INVALID_PARAMETER.msg("selfTradePreventionMode"),
            )
        index = self._index[account_id]
        counts = index.counts.get(st.symbol) or (0, 0, 0)
        base = self.accounts.get(account_id)
        try:
            st.rules.check_order(
                req.side,
                otype,
                quantity=req.quantity,
                price=req.price,
                stop_price=req.stop_price,
                iceberg_qty=req.iceberg_qty,
                quote_order_qty=req.quote_order_qty,
                trailing_delta=req.trailing_delta,
                reference_price=self.reference_price(st, now),
                open_orders=counts[0],
                open_algo_orders=counts[1],
                open_iceberg_orders=counts[2],
                position=self._position(index, base, st),
                account_open_orders=index.n_open,
                account_open_algo_orders=index.n_algo,
                account_open_iceberg_orders=index.n_iceberg,
            )
        except FilterFailure as failure:
            raise EngineError(errorcodes.INVALID_MESSAGE, failure.message) from None
        if (
            iceberg
            and req.iceberg_qty is not None
            and req.quantity is not None
            and req.iceberg_qty >= req.quantity
        ):
            raise _reject(EngineMessage.ICEBERG_EXCEEDS_QTY)
        if req.quote_order_qty is not None and req.quote_order_qty <= 0:
            raise _reject(EngineMessage.PRICE_QTY_ZERO)
        return stp

    def _position(self, index: _AccountIndex, account: Account, st: SymbolState) -> Decimal | None:
        if not st.has_max_position:
            return None
        base = st.spec.base_asset
        total = account.free.get(base, ZERO) + account.locked.get(base, ZERO)
        for order in index.open.get(st.symbol, {}).values():
            if order.side == _BUY:
                total += order.leaves if order.leaves.is_finite() else ZERO
        return total

    def _lock_amount(
        self, st: SymbolState, order: Order, quote_qty: Decimal | None, *, at_placement: bool
    ) -> Decimal:
        """What the order must lock (or, for a waiting BUY stop-market, must hold free)."""
        is_buy = order.side == _BUY
        otype = order.type
        if otype in _LIMIT_TYPES:
            return order.price * order.orig_qty if is_buy else order.orig_qty
        if otype in _STOP_TYPES and at_placement:
            # A waiting stop-market BUY has no price yet: it must be affordable at the stop price
            # (or, trailing without one, the reference price) now, and locks when it triggers;
            # the SELL locks its quantity at once.
            if not is_buy:
                return order.orig_qty
            price = order.stop_price
            if price <= 0:
                price = st.last_price or st.initial_price
            return price * order.orig_qty
        stp_active = order.self_trade_prevention_mode != enums.STP_MODE_NONE
        if quote_qty is not None:
            if is_buy:
                return quote_qty
            return self._walk_base_for_quote(st, order, quote_qty, stp_active)
        if is_buy:
            return self._walk_cost(st, order, order.orig_qty, stp_active)
        return order.orig_qty

    @staticmethod
    def _available(level: Level, order: Order, stp_active: bool) -> Decimal:
        if not stp_active:
            return level.total
        own = order.account_id
        return sum((o.leaves for o in level.orders() if o.account_id != own), ZERO)

    def _walk_cost(self, st: SymbolState, order: Order, qty: Decimal, stp_active: bool) -> Decimal:
        """Quote needed to buy ``qty`` from the asks (own orders skipped under STP)."""
        cost = ZERO
        remaining = qty
        for level in st.book.asks.values():
            take = self._available(level, order, stp_active)
            if take > remaining:
                take = remaining
            cost += take * level.price
            remaining -= take
            if remaining <= 0:
                break
        return cost

    def _walk_base_for_quote(
        self, st: SymbolState, order: Order, quote: Decimal, stp_active: bool
    ) -> Decimal:
        """Base needed to sell for ``quote`` into the bids, fills sized to the step."""
        base = ZERO
        left = quote
        step = st.step
        for level in st.book.side_levels(True):
            can = _floor_step(left / level.price, step)
            if can <= 0:
                break
            take = self._available(level, order, stp_active)
            if take > can:
                take = can
            base += take
            left -= take * level.price
        return base

    # -- execution --------------------------------------------------------------------------
    def _execute(
        self, batch: Batch, st: SymbolState, taker: Order, quote_qty: Decimal | None
    ) -> None:
        """Match ``taker`` against the book, then rest, expire or finish it."""
        book = st.book
        is_buy = taker.side == _BUY
        has_limit = taker.type in _LIMIT_TYPES
        limit = taker.price if has_limit else None
        if taker.time_in_force == _FOK and has_limit:
            if self._fillable(st, taker, limit) < taker.leaves:
                self._finish(batch, st, taker, _EXPIRED, None)
                return
        side_map = book.asks if is_buy else book.bids
        stp_mode = taker.self_trade_prevention_mode
        stp_active = stp_mode != enums.STP_MODE_NONE
        own = taker.account_id
        step = st.step
        quote_mode = quote_qty is not None
        quote_left = ZERO if quote_qty is None else quote_qty  # read in quote mode only
        stopped_by_stp = False
        no_liquidity = False
        batch.agg = None
        batch.last_taker_event = -1
        while True:
            if quote_mode:
                if quote_left <= 0:
                    break
            elif taker.leaves <= 0:
                break
            if not side_map:
                no_liquidity = True
                break
            level: Level = side_map.peekitem(0 if is_buy else -1)[1]
            price = level.price
            if limit is not None and (price > limit if is_buy else price < limit):
                break
            maker = level.front()
            if maker is None:  # pragma: no cover - a level with no order is deleted at once
                del side_map[price]
                continue
            if quote_mode:
                qty = _floor_step(quote_left / price, step)
                if qty <= 0:
                    break
                if maker.display < qty:
                    qty = maker.display
            else:
                qty = taker.leaves if taker.leaves < maker.display else maker.display
            if stp_active and maker.account_id == own:
                stopped_by_stp, decremented = self._prevent(batch, st, taker, maker, level, qty)
                if stopped_by_stp:
                    break
                if quote_mode and decremented:
                    quote_left -= qty * price
                continue
            if is_buy and not has_limit and not quote_mode and qty * price > taker.locked:
                # Safety net: never spend more than the order locked (it locked the walk cost).
                qty = _floor_step(taker.locked / price, step)
                if qty <= 0:
                    break
            self._fill(batch, st, taker, maker, level, price, qty)
            if quote_mode:
                quote_left -= qty * price
                taker.orig_qty = taker.executed_qty
        self._close_agg(batch, st)
        if stopped_by_stp:
            if taker.status in enums.OPEN_ORDER_STATUSES:
                self._finish(batch, st, taker, _EXPIRED_IN_MATCH, None)
            return
        if quote_mode:
            taker.orig_qty = taker.executed_qty
            taker.leaves = ZERO
            if taker.executed_qty > 0 and not no_liquidity:
                self._finish(batch, st, taker, _FILLED, None, trade_report=True)
            elif taker.executed_qty > 0 and quote_left == 0:
                self._finish(batch, st, taker, _FILLED, None, trade_report=True)
            else:
                self._finish(batch, st, taker, _EXPIRED, None)
            return
        if taker.leaves <= 0:
            # The last TRADE report already says FILLED; give back what the lock overshot.
            self._release(taker)
            self._close(taker)
            return
        if has_limit and taker.time_in_force == _GTC:
            iceberg = taker.iceberg_qty
            taker.display = iceberg if 0 < iceberg < taker.leaves else taker.leaves
            book.add(taker)
            return
        self._finish(batch, st, taker, _EXPIRED, None)

    def _fillable(self, st: SymbolState, taker: Order, limit: Decimal | None) -> Decimal:
        """Quantity a FOK order could fill now (own orders excluded under STP)."""
        is_buy = taker.side == _BUY
        stp_active = taker.self_trade_prevention_mode != enums.STP_MODE_NONE
        total = ZERO
        for level in st.book.opposite_levels(is_buy):
            if limit is not None and (level.price > limit if is_buy else level.price < limit):
                break
            total += self._available(level, taker, stp_active)
            if total >= taker.leaves:
                break
        return total

    def _fill(
        self,
        batch: Batch,
        st: SymbolState,
        taker: Order,
        maker: Order,
        level: Level,
        price: Decimal,
        qty: Decimal,
    ) -> None:
        """One trade of ``qty`` at the maker's ``price``: balances, orders, records, events."""
        now = batch.now
        quote = price * qty
        accounts = self.accounts
        taker_is_buy = taker.side == _BUY
        if taker_is_buy:
            buy_order, sell_order = taker, maker
        else:
            buy_order, sell_order = maker, taker
        buyer = accounts.get(buy_order.account_id)
        seller = accounts.get(sell_order.account_id)
        buyer_rates = buyer.commission or accounts.default_rates
        seller_rates = seller.commission or accounts.default_rates
        buyer_commission = _fee(qty * (buyer_rates.taker if taker_is_buy else buyer_rates.maker))
        seller_commission = _fee(
            quote * (seller_rates.maker if taker_is_buy else seller_rates.taker)
        )
        base_asset = st.spec.base_asset
        quote_asset = st.spec.quote_asset
        accounts.settle(buyer, quote_asset, quote, base_asset, qty, buyer_commission)
        buy_order.locked -= quote
        accounts.settle(seller, base_asset, qty, quote_asset, quote, seller_commission)
        sell_order.locked -= qty

        # The maker.
        maker.executed_qty += qty
        maker.cummulative_quote_qty += quote
        maker.leaves -= qty
        maker.display -= qty
        maker.update_time = now
        maker.transact_time = now
        st.book.reduce(level, maker, qty)
        if maker.leaves <= 0:
            maker.status = _FILLED
            st.book.remove(maker)
            self._close(maker)
        else:
            maker.status = _PARTIALLY_FILLED
            if maker.display <= 0:
                iceberg = maker.iceberg_qty
                st.book.requeue(level, maker, iceberg if iceberg < maker.leaves else maker.leaves)
        # The taker.
        taker.executed_qty += qty
        taker.cummulative_quote_qty += quote
        taker.leaves -= qty
        taker.update_time = now
        taker.transact_time = now
        taker.status = _FILLED if taker.leaves <= 0 else _PARTIALLY_FILLED
        if taker.type in _LIMIT_TYPES:
            self._release_excess(taker)

        # Records.
        trade_id = st.next_trade_id
        st.next_trade_id += 1
        agg = batch.agg
        if agg is None or agg[1] != price:
            self._close_agg(batch, st)
            agg = [st.next_agg_id, price, ZERO, trade_id, trade_id, now, not taker_is_buy]
            batch.agg = agg
            st.next_agg_id += 1
        agg[2] += qty
        agg[4] = trade_id
        st.record(
            Trade(
                st.symbol,
                trade_id,
                price,
                qty,
                quote,
                now,
                not taker_is_buy,
                buy_order.order_id,
                sell_order.order_id,
                agg[0],
            )
        )
        if self.on_trade is not None:
            self.on_trade(st.symbol, now, price, qty, quote, not taker_is_buy)
        events = batch.events
        events.append(
            TradeEvent(
                st.symbol,
                trade_id,
                price,
                qty,
                quote,
                now,
                buy_order.order_id,
                sell_order.order_id,
                not taker_is_buy,
                agg[0],
            )
        )
        index = self._index
        for order, commission, is_maker in (
            (taker, buyer_commission if taker_is_buy else seller_commission, False),
            (maker, seller_commission if taker_is_buy else buyer_commission, True),
        ):
            account_index = index.get(order.account_id)
            if account_index is None:
                continue  # a background trader: no reports
            is_buyer = order is buy_order
            commission_asset = base_asset if is_buyer else quote_asset
            account_index.trades.setdefault(st.symbol, []).append(
                AccountTrade(
                    st.symbol,
                    trade_id,
                    order.order_id,
                    price,
                    qty,
                    quote,
                    commission,
                    commission_asset,
                    now,
                    is_buyer,
                    is_maker,
                )
            )
            if not is_maker:
                batch.last_taker_event = len(events)
                if batch.fills is not None:
                    batch.fills.append(Fill(price, qty, commission, commission_asset, trade_id))
            events.append(
                OrderEvent(
                    order.account_id,
                    order.snapshot(),
                    _X_TRADE,
                    now,
                    self._execution_id(),
                    last_qty=qty,
                    last_price=price,
                    last_quote_qty=quote,
                    commission=commission,
                    commission_asset=commission_asset,
                    trade_id=trade_id,
                    is_maker=is_maker,
                )
            )
            touched = batch.touched.setdefault(order.account_id, {})
            touched[base_asset] = None
            touched[quote_asset] = None

    def _close_agg(self, batch: Batch, st: SymbolState) -> None:
        agg = batch.agg
        if agg is None:
            return
        batch.agg = None
        agg_id, price, qty, first, last, time, buyer_maker = agg
        st.record_agg(AggTrade(agg_id, price, qty, first, last, time, buyer_maker))
        batch.events.append(
            AggTradeEvent(st.symbol, agg_id, price, qty, first, last, time, buyer_maker)
        )

    def _prevent(
        self,
        batch: Batch,
        st: SymbolState,
        taker: Order,
        maker: Order,
        level: Level,
        qty: Decimal,
    ) -> tuple[bool, bool]:
        """Self-trade prevention between ``taker`` and its own ``maker`` for a match of ``qty``.

        Returns ``(taker_expired, taker_decremented)``.
        """
        mode = taker.self_trade_prevention_mode
        if mode == enums.STP_MODE_TRANSFER:
            # NOTES.md 5: TRANSFER needs both sides in TRANSFER; between orders of one account
            # it prevents the match like DECREMENT.
            mode = enums.STP_MODE_DECREMENT
        match_id = st.next_prevented_id
        st.next_prevented_id += 1
        now = batch.now
        for order in (taker, maker):
            order.prevented_match_id = match_id
            order.prevented_quantity += qty
            order.update_time = now
            order.transact_time = now
        expire_taker = mode in (enums.STP_MODE_EXPIRE_TAKER, enums.STP_MODE_EXPIRE_BOTH)
        expire_maker = mode in (enums.STP_MODE_EXPIRE_MAKER, enums.STP_MODE_EXPIRE_BOTH)
        if mode == enums.STP_MODE_DECREMENT:
            # Both orders lose the prevented quantity; an order left with none expires.
            maker.leaves -= qty
            maker.display -= qty
            st.book.reduce(level, maker, qty)
            self._release_excess(maker)
            if maker.leaves <= 0:
                expire_maker = True
            elif maker.display <= 0:
                iceberg = maker.iceberg_qty
                st.book.requeue(level, maker, iceberg if iceberg < maker.leaves else maker.leaves)
            taker.leaves -= qty
            if taker.type in _LIMIT_TYPES:
                self._release_excess(taker)
            elif taker.side == _SELL and taker.orig_quote_order_qty == 0:
                self._unlock(taker, qty)
            if taker.leaves <= 0:
                expire_taker = True
        if expire_maker:
            self._finish(batch, st, maker, _EXPIRED_IN_MATCH, match_id, prevented=qty)
        else:
            self._report(batch, maker, _X_PREVENTION, prevented_match_id=match_id, prevented=qty)
        if expire_taker:
            self._close_agg(batch, st)
            self._finish(batch, st, taker, _EXPIRED_IN_MATCH, match_id, prevented=qty)
            return True, False
        self._report(batch, taker, _X_PREVENTION, prevented_match_id=match_id, prevented=qty)
        return False, mode == enums.STP_MODE_DECREMENT

    def _run_triggers(self, batch: Batch, st: SymbolState) -> None:
        """Trigger the stops the last trade price reached, oldest first, until none is due."""
        while st.stop_orders:
            last = st.last_price
            if last is None:
                return
            due: list[int] = []
            if st.trailing:
                due.extend(self._due_trailing(st, last, batch.now))
            up = st.stops_up
            while up and up[0][0] <= last:
                due.append(up.pop(0)[1])
            down = st.stops_down
            while down and down[-1][0] >= last:
                due.append(down.pop()[1])
            if not due:
                return
            due.sort()
            for order_id in due:
                order = st.stop_orders.pop(order_id)
                self._trigger(batch, st, order)

    @staticmethod
    def _due_trailing(st: SymbolState, last: Decimal, now: int) -> list[int]:
        """Trailing stops the last price activates or triggers (Binance's trailing stop FAQ).

        A trailing stop starts trailing at placement, or once the price reaches its
        ``stopPrice`` (the activation price) in the stop's usual direction. A SELL then
        triggers when the price falls ``trailingDelta`` basis points below the highest price
        since; a BUY when it rises that much above the lowest.
        """
        due = []
        for order_id, order in list(st.trailing.items()):
            if order.trail_extreme is None:
                up = _TRIGGERS_UP[(order.type, order.side)]
                if not ((last >= order.stop_price) if up else (last <= order.stop_price)):
                    continue
                order.trailing_time = now
                order.trail_extreme = last
                continue
            delta = Decimal(order.trailing_delta or 0) / 10000
            if order.side == _SELL:
                if last > order.trail_extreme:
                    order.trail_extreme = last
                elif last <= order.trail_extreme * (1 - delta):
                    due.append(order_id)
            else:
                if last < order.trail_extreme:
                    order.trail_extreme = last
                elif last >= order.trail_extreme * (1 + delta):
                    due.append(order_id)
        for order_id in due:
            del st.trailing[order_id]
        return due

    def _trigger(self, batch: Batch, st: SymbolState, order: Order) -> None:
        now = batch.now
        order.is_working = True
        order.working_time = now
        order.update_time = now
        order.transact_time = now
        if order.type not in _LIMIT_TYPES and order.side == _BUY:
            # A stop-market BUY locks the cost of walking the book only now.
            account = self.accounts.get(order.account_id)
            lock = self._lock_amount(st, order, None, at_placement=False)
            if lock > account.free.get(order.lock_asset, ZERO):
                self._finish(batch, st, order, _EXPIRED, None)
                return
            self.accounts.lock(account, order.lock_asset, lock)
            order.locked = lock
            self._touch(batch, order)
        self._execute(batch, st, order, None)

    # -- order lifecycle --------------------------------------------------------------------
    def _finish(
        self,
        batch: Batch,
        st: SymbolState,
        order: Order,
        status: str,
        prevented_match_id: int | None,
        *,
        prevented: Decimal | None = None,
        trade_report: bool = False,
        cancel_client_order_id: str | None = None,
    ) -> None:
        """End an open order: off the book or stop list, lock released, report sent."""
        now = batch.now
        if order.on_book:
            st.book.remove(order)
        elif st.stop_orders.get(order.order_id) is order:
            del st.stop_orders[order.order_id]
            if st.trailing.pop(order.order_id, None) is None:
                key = (order.stop_price, order.order_id)
                if _TRIGGERS_UP[(order.type, order.side)]:
                    st.stops_up.discard(key)
                else:
                    st.stops_down.discard(key)
        order.status = status
        order.update_time = now
        order.transact_time = now
        self._release(order)
        self._close(order)
        if trade_report and batch.last_taker_event >= 0:
            # quoteOrderQty MARKET: the final status is known after the last fill; Binance's
            # last TRADE report already says FILLED.
            event = batch.events[batch.last_taker_event]
            assert isinstance(event, OrderEvent)
            batch.events[batch.last_taker_event] = OrderEvent(
                event.account_id,
                order.snapshot(),
                event.execution_type,
                event.time,
                event.execution_id,
                last_qty=event.last_qty,
                last_price=event.last_price,
                last_quote_qty=event.last_quote_qty,
                commission=event.commission,
                commission_asset=event.commission_asset,
                trade_id=event.trade_id,
                is_maker=event.is_maker,
            )
            return
        if status == _CANCELED:
            order.cancel_client_order_id = cancel_client_order_id
            self._report(batch, order, _X_CANCELED)
        elif prevented_match_id is not None:
            self._report(
                batch,
                order,
                _X_PREVENTION,
                prevented_match_id=prevented_match_id,
                prevented=prevented,
            )
        elif status != _FILLED:
            self._report(batch, order, _X_EXPIRED)

    def _release_excess(self, order: Order) -> None:
        """Unlock what a limit order holds beyond what its remaining quantity needs."""
        need = order.price * order.leaves if order.side == _BUY else order.leaves
        excess = order.locked - need
        if excess > 0:
            self._unlock(order, excess)

    def _release(self, order: Order) -> None:
        if order.locked:
            self._unlock(order, order.locked)

    def _unlock(self, order: Order, amount: Decimal) -> None:
        account = self.accounts.get(order.account_id)
        self.accounts.unlock(account, order.lock_asset, amount)
        order.locked -= amount

    def _touch(self, batch: Batch, order: Order) -> None:
        if order.account_id in self._index:
            touched = batch.touched.setdefault(order.account_id, {})
            touched[order.lock_asset] = None

    def _report(
        self,
        batch: Batch,
        order: Order,
        execution_type: str,
        *,
        prevented_match_id: int | None = None,
        prevented: Decimal | None = None,
    ) -> None:
        if order.account_id not in self._index:
            return
        self._touch(batch, order)
        batch.events.append(
            OrderEvent(
                order.account_id,
                order.snapshot(),
                execution_type,
                batch.now,
                self._execution_id(),
                orig_client_order_id=(
                    order.client_order_id if execution_type == _X_CANCELED else ""
                ),
                prevented_match_id=prevented_match_id,
                last_prevented_qty=prevented,
            )
        )

    def _client_id(self) -> str:
        """A generated client order id: 22 URL-safe characters, like Binance's."""
        raw = self.rng.getrandbits(132).to_bytes(17, "little")
        return base64.urlsafe_b64encode(raw).decode()[:22]

    def _execution_id(self) -> int:
        value = self._next_execution_id
        self._next_execution_id = value + 1
        return value

    def _open(self, order: Order, index: _AccountIndex) -> None:
        symbol = order.symbol
        index.open.setdefault(symbol, {})[order.order_id] = order
        index.client_ids[(symbol, order.client_order_id)] = order
        index.orders.setdefault(symbol, []).append(order)
        index.by_id.setdefault(symbol, {})[order.order_id] = order
        counts = index.counts.setdefault(symbol, [0, 0, 0])
        counts[0] += 1
        index.n_open += 1
        if order.type in _STOP_TYPES:
            counts[1] += 1
            index.n_algo += 1
        if order.iceberg_qty > 0:
            counts[2] += 1
            index.n_iceberg += 1

    def _close(self, order: Order) -> None:
        index = self._index.get(order.account_id)
        if index is None:
            return
        open_orders = index.open.get(order.symbol)
        if open_orders is None or open_orders.pop(order.order_id, None) is None:
            return
        counts = index.counts[order.symbol]
        counts[0] -= 1
        index.n_open -= 1
        if order.type in _STOP_TYPES:
            counts[1] -= 1
            index.n_algo -= 1
        if order.iceberg_qty > 0:
            counts[2] -= 1
            index.n_iceberg -= 1

    # -- cancels ----------------------------------------------------------------------------
    def find_order(
        self,
        account_id: str,
        symbol: str,
        order_id: int | None,
        orig_client_order_id: str | None,
    ) -> Order | None:
        """The account's order by id (or client id); both given must agree."""
        index = self._index[account_id]
        if order_id is not None:
            order = index.by_id.get(symbol, {}).get(order_id)
            if order is not None and orig_client_order_id is not None:
                if order.client_order_id != orig_client_order_id:
                    return None
            return order
        if orig_client_order_id is not None:
            return index.client_ids.get((symbol, orig_client_order_id))
        return None

    def cancel(
        self,
        batch: Batch,
        account_id: str,
        symbol: str,
        order_id: int | None,
        orig_client_order_id: str | None,
        new_client_order_id: str | None,
        cancel_restrictions: str | None,
    ) -> Order:
        """Cancel one of the account's open orders; returns its snapshot."""
        st = self.state(symbol)
        if order_id is None and orig_client_order_id is None:
            raise EngineError(
                errorcodes.PARAM_EITHER_REQUIRED,
                errorcodes.PARAM_EITHER_REQUIRED.msg("orderId", "origClientOrderId"),
            )
        if cancel_restrictions is not None and cancel_restrictions not in (
            enums.CANCEL_RESTRICTIONS
        ):
            raise EngineError(errorcodes.INVALID_CANCEL_RESTRICTIONS)
        order = self.find_order(account_id, symbol, order_id, orig_client_order_id)
        if order is None or order.status not in enums.OPEN_ORDER_STATUSES:
            raise EngineError(errorcodes.CANCEL_REJECTED, EngineMessage.UNKNOWN_ORDER)
        if (cancel_restrictions == enums.CANCEL_RESTRICTIONS_ONLY_NEW and order.status != _NEW) or (
            cancel_restrictions == enums.CANCEL_RESTRICTIONS_ONLY_PARTIALLY_FILLED
            and order.status != _PARTIALLY_FILLED
        ):
            raise EngineError(errorcodes.CANCEL_REJECTED, EngineMessage.CANCEL_RESTRICTIONS_NOT_MET)
        if not new_client_order_id:
            new_client_order_id = self._client_id()
        batch.symbols[symbol] = st
        self._finish(batch, st, order, _CANCELED, None, cancel_client_order_id=new_client_order_id)
        return order.snapshot()

    def cancel_all(self, batch: Batch, account_id: str, symbol: str) -> list[Order]:
        """Cancel all the account's open orders on ``symbol`` (-2011 if there is none)."""
        st = self.state(symbol)
        open_orders = list(self._index[account_id].open.get(symbol, {}).values())
        if not open_orders:
            raise EngineError(errorcodes.CANCEL_REJECTED, EngineMessage.UNKNOWN_ORDER)
        batch.symbols[symbol] = st
        out = []
        for order in open_orders:
            new_id = self._client_id()
            self._finish(batch, st, order, _CANCELED, None, cancel_client_order_id=new_id)
            out.append(order.snapshot())
        return out

    def cancel_replace(
        self,
        batch: Batch,
        account_id: str,
        symbol: str,
        mode: str,
        req: OrderRequest,
        cancel_order_id: int | None,
        cancel_orig_client_order_id: str | None,
        cancel_new_client_order_id: str | None,
        cancel_restrictions: str | None,
    ) -> CancelReplaceResult:
        """Cancel then place, per ``mode`` (STOP_ON_FAILURE or ALLOW_FAILURE)."""
        st = self.state(symbol)
        if mode not in enums.CANCEL_REPLACE_MODES:
            raise EngineError(
                errorcodes.INVALID_PARAMETER, errorcodes.INVALID_PARAMETER.msg("cancelReplaceMode")
            )
        if req.symbol != symbol:
            raise EngineError(errorcodes.BAD_SYMBOL)
        if cancel_order_id is None and cancel_orig_client_order_id is None:
            raise EngineError(
                errorcodes.PARAM_EITHER_REQUIRED,
                errorcodes.PARAM_EITHER_REQUIRED.msg("cancelOrderId", "cancelOrigClientOrderId"),
            )
        if cancel_restrictions is not None and cancel_restrictions not in (
            enums.CANCEL_RESTRICTIONS
        ):
            raise EngineError(errorcodes.INVALID_CANCEL_RESTRICTIONS)
        # NOTES.md 6: the new order's parameters and filters are checked before the cancel.
        stp = self._validate_static(st, account_id, req, batch.now)
        if not st.spec.cancel_replace_allowed:
            raise _reject(EngineMessage.CANCEL_REPLACE_NOT_SUPPORTED)
        canceled: Order | None = None
        cancel_error: EngineError | None = None
        try:
            canceled = self.cancel(
                batch,
                account_id,
                symbol,
                cancel_order_id,
                cancel_orig_client_order_id,
                cancel_new_client_order_id,
                cancel_restrictions,
            )
        except EngineError as exc:
            cancel_error = exc
        if cancel_error is not None and mode == enums.CANCEL_REPLACE_MODE_STOP_ON_FAILURE:
            return CancelReplaceResult("FAILURE", "NOT_ATTEMPTED", cancel_error=cancel_error)
        account = self.accounts.get(account_id)
        try:
            placed = self._place_validated(batch, st, account, req, stp)
        except EngineError as exc:
            return CancelReplaceResult(
                "SUCCESS" if canceled is not None else "FAILURE",
                "FAILURE",
                canceled=canceled,
                cancel_error=cancel_error,
                new_order_error=exc,
            )
        return CancelReplaceResult(
            "SUCCESS" if canceled is not None else "FAILURE",
            "SUCCESS",
            canceled=canceled,
            cancel_error=cancel_error,
            new_order=placed,
        )

    # -- queries ----------------------------------------------------------------------------
    def get_order(
        self,
        account_id: str,
        symbol: str,
        order_id: int | None,
        orig_client_order_id: str | None,
    ) -> Order:
        """One order, any status (-2013 when unknown)."""
        self.state(symbol)
        if order_id is None:
            if orig_client_order_id is None:
                raise EngineError(
                    errorcodes.PARAM_EITHER_REQUIRED,
                    errorcodes.PARAM_EITHER_REQUIRED.msg("orderId", "origClientOrderId"),
                )
            order = self._index[account_id].client_ids.get((symbol, orig_client_order_id))
            if order is None:
                raise EngineError(errorcodes.NO_SUCH_ORDER)
            return order.snapshot()
        order = self._index[account_id].by_id.get(symbol, {}).get(order_id)
        if order is None:
            raise EngineError(errorcodes.NO_SUCH_ORDER)
        if orig_client_order_id is not None and order.client_order_id != orig_client_order_id:
            raise EngineError(errorcodes.CLIENT_ORDER_ID_INVALID)
        return order.snapshot()

    def open_orders(self, account_id: str, symbol: str | None) -> list[Order]:
        index = self._index[account_id]
        if symbol is not None:
            self.state(symbol)
            return [o.snapshot() for o in index.open.get(symbol, {}).values()]
        out = [o.snapshot() for orders in index.open.values() for o in orders.values()]
        out.sort(key=lambda o: (o.time, o.symbol, o.order_id))
        return out

    def all_orders(
        self,
        account_id: str,
        symbol: str,
        order_id: int | None,
        start_time: int | None,
        end_time: int | None,
        limit: int,
    ) -> list[Order]:
        self.state(symbol)
        _check_window(start_time, end_time)
        orders = self._index[account_id].orders.get(symbol, [])
        if order_id is not None:
            start = bisect.bisect_left(orders, order_id, key=lambda o: o.order_id)
            selected = [o for o in orders[start:] if _in_range(o.time, start_time, end_time)]
            return [o.snapshot() for o in selected[:limit]]
        if start_time is not None or end_time is not None:
            selected = [o for o in orders if _in_range(o.time, start_time, end_time)]
            if start_time is None:
                return [o.snapshot() for o in selected[-limit:]]
            return [o.snapshot() for o in selected[:limit]]
        return [o.snapshot() for o in orders[-limit:]]

    def my_trades(
        self,
        account_id: str,
        symbol: str,
        order_id: int | None,
        start_time: int | None,
        end_time: int | None,
        from_id: int | None,
        limit: int,
    ) -> list[AccountTrade]:
        self.state(symbol)
        _check_window(start_time, end_time)
        if from_id is not None and (start_time is not None or end_time is not None):
            raise EngineError(errorcodes.OPTIONAL_PARAMS_BAD_COMBO)
        trades = self._index[account_id].trades.get(symbol, [])
        if order_id is not None:
            trades = [t for t in trades if t.order_id == order_id]
        if from_id is not None:
            start = bisect.bisect_left(trades, from_id, key=lambda t: t.id)
            return trades[start : start + limit]
        if start_time is not None or end_time is not None:
            selected = [t for t in trades if _in_range(t.time, start_time, end_time)]
            if start_time is None:
                return selected[-limit:]
            return selected[:limit]
        return trades[-limit:]


def _in_range(value: int, start: int | None, end: int | None) -> bool:
    return (start is None or value >= start) and (end is None or value <= end)


def _check_window(start_time: int | None, end_time: int | None) -> None:
    """NOTES.md 4.1: allOrders/myTrades accept at most 24 hours between start and end."""
    if start_time is not None and end_time is not None:
        if end_time < start_time:
            raise EngineError(
                errorcodes.INVALID_PARAMETER, errorcodes.INVALID_PARAMETER.msg("endTime")
            )
        if end_time - start_time > 24 * 3_600_000:
            raise EngineError(errorcodes.MORE_THAN_XX_HOURS, errorcodes.MORE_THAN_XX_HOURS.msg(24))
