"""Exchange: the engine's facade, the only object the simulator's adapters call.

It owns the markets, the ledger of accounts, the matching engine (books, stops, trade history),
the background traders, and the kline history, statistics and wallet. Every method is synchronous
and I/O-free; time comes from the injected ``now_ms`` clock and every random choice from ``seed``,
so two exchanges built alike and fed the same calls and ticks behave identically.

Errors are :class:`~binance.sim.engine.EngineError` carrying Binance's code and message. Every
state change is published on :attr:`Exchange.events` (see ``events.py``). Methods are safe to call
from several threads (one re-entrant lock); event callbacks run while it is held, so they must be
quick and must not block on another thread that calls the exchange.

All engine arithmetic runs in a private decimal context (60 digits, invalid operations trapped),
whatever the calling thread's context is.

No I/O here; must not import asyncio, aiohttp, json or the client.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import importlib
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext
from typing import Any, Concatenate, ParamSpec, TypeVar

from binance import enums, errorcodes
from binance.sim.engine import EngineError
from binance.sim.engine.accounts import (
    AccountInfo,
    Accounts,
    AccountTrade,
    CommissionRates,
)
from binance.sim.engine.book import AggTrade, BookTicker, DepthSnapshot, Fill, Order, Trade
from binance.sim.engine.events import BalanceEvent, BalanceUpdateEvent, EventLog
from binance.sim.engine.markets import DEFAULT_SYMBOLS, SymbolSpec
from binance.sim.engine.matching import (
    CancelReplaceResult,
    MatchingEngine,
    OrderRequest,
    PlaceResult,
)
from binance.sim.engine.participants import BackgroundMarket

__all__ = [
    "AccountInfo",
    "AccountTrade",
    "AggTrade",
    "BookTicker",
    "CancelReplaceResult",
    "CommissionRates",
    "DEFAULT_BALANCES",
    "DepthSnapshot",
    "EngineError",
    "Exchange",
    "ExchangeConfig",
    "Fill",
    "Order",
    "OrderRequest",
    "PlaceResult",
    "SimConfig",
    "Trade",
]

#: Starting balances of a new account when none are given; assets listed by the markets but not
#: named here get ``DEFAULT_OTHER_BALANCE``.
DEFAULT_BALANCES: Mapping[str, Decimal] = {
    "USDT": Decimal("1000000"),
    "BTC": Decimal("100"),
    "ETH": Decimal("1000"),
    "BNB": Decimal("10000"),
    "NEO": Decimal("10000"),
}
DEFAULT_OTHER_BALANCE = Decimal("10000")

#: The engine's decimal context: far more digits than any price * quantity needs.
ENGINE_CONTEXT = Context(prec=60, traps=[InvalidOperation, DivisionByZero, Overflow])

_MAX_LIMIT = 1000  # trades / aggTrades / allOrders / myTrades (NOTES.md 4.1)
_MAX_DEPTH = 5000  # depth (NOTES.md 4.1)


@dataclass
class ExchangeConfig:
    """The engine's settings (the server's own are ``binance.sim._context.SimConfig``).

    Attributes:
        markets: the symbols listed (default: ``markets.DEFAULT_SYMBOLS``).
        starting_balances: free balances of each new account created without explicit balances;
            ``None`` funds every listed asset (``DEFAULT_BALANCES``, else
            ``DEFAULT_OTHER_BALANCE``).
        maker_commission: maker commission rate (0.001 = 0.1 %).
        taker_commission: taker commission rate.
        background_market: run the seeded background traders (live book and trades).
        activity: background trading intensity; 1.0 is a few trades per second per symbol.
        book_levels: price levels the background market maker keeps on each side.
        trade_history: trades (and aggregate trades) kept per symbol for the history endpoints.
        event_history: events kept in ``Exchange.events`` for inspection.
        max_catch_up_ms: the longest stretch one ``tick`` simulates (a paused server does not
            replay hours of trading when it resumes).
        extra: free-form settings passed to MDW's kline/stats/wallet modules (unused here).
    """

    markets: Sequence[SymbolSpec] = DEFAULT_SYMBOLS
    starting_balances: Mapping[str, Decimal] | None = None
    maker_commission: Decimal = Decimal("0.001")
    taker_commission: Decimal = Decimal("0.001")
    background_market: bool = True
    activity: float = 1.0
    book_levels: int = 30
    trade_history: int = 100_000
    event_history: int = 10_000
    max_catch_up_ms: int = 5_000
    extra: dict[str, Any] = field(default_factory=dict)


SimConfig = ExchangeConfig
"""The name the architecture notes use for the engine's settings."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _locked(
    method: Callable[Concatenate[Exchange, _P], _R],
) -> Callable[Concatenate[Exchange, _P], _R]:
    """Run ``method`` under the exchange's lock and decimal context."""

    @functools.wraps(method)
    def wrapper(self: Exchange, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._lock, localcontext(ENGINE_CONTEXT):
            return method(self, *args, **kwargs)

    return wrapper


def _optional_module(name: str) -> Any:
    """MDW's modules (klines, stats, wallet), or None while they do not exist."""
    try:
        return importlib.import_module(f"binance.sim.engine.{name}")
    except ImportError:
        return None


class Exchange:
    """The simulated exchange: accounts, orders, books, history, background market, wallet.

    Args:
        seed: seeds every random choice (background traders, ids, kline history, wallet).
        now_ms: the clock, in integer milliseconds since the epoch.
        config: engine settings; defaults to ``ExchangeConfig()``.

    Attributes:
        events: the :class:`~binance.sim.engine.events.EventLog` every change is published on.
        markets: ``{symbol: SymbolSpec}`` of the listed symbols (replaced on status changes).
        accounts: the ledger (:class:`~binance.sim.engine.accounts.Accounts`).
        engine: the :class:`~binance.sim.engine.matching.MatchingEngine`.
        klines: kline history and live aggregation (``klines.Klines``), or None if unavailable.
        stats: tickers and average price (``stats.Stats``), or None if unavailable.
        wallet: coins, deposits and withdrawals (``wallet.Wallet``), or None if unavailable.
        background: the background traders, or None when ``config.background_market`` is off.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        now_ms: Callable[[], int],
        config: ExchangeConfig | None = None,
    ) -> None:
        self.seed = seed
        self.now_ms = now_ms
        self.config = config = config or ExchangeConfig()
        self._lock = threading.RLock()
        self._rng = random.Random(f"{seed}:exchange")
        self._next_account = 1
        now = now_ms()
        self.started_ms = now
        self.events = EventLog(config.event_history)
        self.markets: dict[str, SymbolSpec] = {spec.symbol: spec for spec in config.markets}
        self.assets: list[str] = sorted(
            {a for spec in self.markets.values() for a in (spec.base_asset, spec.quote_asset)}
        )
        self.accounts = Accounts(
            CommissionRates(maker=config.maker_commission, taker=config.taker_commission)
        )
        with localcontext(ENGINE_CONTEXT):
            self.klines = self._make_klines(seed, now)
            start_prices = {
                symbol: self._start_price(spec, now) for symbol, spec in self.markets.items()
            }
            self.engine = MatchingEngine(
                ((spec, start_prices[spec.symbol]) for spec in self.markets.values()),
                self.accounts,
                self.events,
                random.Random(f"{seed}:ids"),
                trade_history=config.trade_history,
                on_trade=self._on_trade if self.klines is not None else None,
            )
            if self.klines is not None:
                # Live trade ids continue the history's (klines.trade_count_before docs).
                for symbol, st in self.engine.states.items():
                    try:
                        first = self.klines.trade_count_before(
                            symbol, self.klines.history_end_ms(symbol)
                        )
                    except EngineError:
                        continue
                    st.next_trade_id = st.next_agg_id = int(first)
            self.stats = self._make_stats()
            if self.stats is not None and hasattr(self.stats, "avg_price"):
                self.engine.reference_source = self._avg_price
            self.wallet = self._make_wallet(seed, now)
            self.background: BackgroundMarket | None = None
            if config.background_market:
                self.background = BackgroundMarket(
                    self.engine,
                    self.accounts,
                    seed,
                    {s: p for s, p in start_prices.items()},
                    now,
                    self.assets,
                    activity=config.activity,
                    levels=config.book_levels,
                    max_catch_up_ms=config.max_catch_up_ms,
                )

    # -- wiring of MDW's modules ---------------------------------------------------------------
    def _make_klines(self, seed: int, now: int) -> Any:
        module = _optional_module("klines")
        if module is None or not hasattr(module, "Klines"):
            return None
        listings = [
            module.Listing(
                symbol=spec.symbol,
                listed_ms=spec.listed_ms,
                listing_price=spec.listing_price,
                present_price=spec.present_price,
                tick_size=spec.tick_size,
                step_size=spec.step_size,
                delisted_ms=spec.delisted_ms,
            )
            for spec in self.markets.values()
        ]
        return module.Klines(seed, listings, now)

    def _make_stats(self) -> Any:
        module = _optional_module("stats")
        if module is None or self.klines is None or not hasattr(module, "Stats"):
            return None
        return module.Stats(self.klines)

    def _make_wallet(self, seed: int, now: int) -> Any:
        module = _optional_module("wallet")
        if module is None or not hasattr(module, "Wallet"):
            return None
        return module.Wallet(seed, ledger=self)

    def _start_price(self, spec: SymbolSpec, now: int) -> Decimal:
        """Where live trading starts: the kline history's price now, else the spec's price."""
        price: Decimal | None = None
        if self.klines is not None:
            try:
                price = Decimal(self.klines.price_at(spec.symbol, now))
            except Exception:  # noqa: BLE001 - history unavailable for this symbol
                price = None
        if price is None or price <= 0:
            price = spec.present_price
        tick = spec.tick_size
        price = (price / tick).to_integral_value() * tick
        return price if price > 0 else tick

    def _avg_price(self, symbol: str, mins: int, now: int) -> Decimal | None:
        try:
            found = self.stats.avg_price(symbol, mins, now)
        except EngineError:
            return None
        return None if found is None else found[0]

    def _on_trade(
        self,
        symbol: str,
        time: int,
        price: Decimal,
        qty: Decimal,
        quote_qty: Decimal,
        is_buyer_maker: bool,
    ) -> None:
        try:
            self.klines.record_trade(symbol, time, price, qty, quote_qty, is_buyer_maker)
        except (EngineError, ValueError):
            # A symbol without history, a delisted one reopened by a test, or a clock set back
            # into the history: the trade still happened; only its kline is lost.
            pass

    # -- accounts ------------------------------------------------------------------------------
    @_locked
    def create_account(
        self,
        account_id: str | None = None,
        balances: Mapping[str, Decimal] | None = None,
    ) -> str:
        """Open an account and return its id.

        Args:
            account_id: the id to use; ``None`` picks a new one (``"account-<n>"``).
            balances: free balances per asset; ``None`` uses ``config.starting_balances``, or
                funds every listed asset generously (``DEFAULT_BALANCES``).

        Raises:
            ValueError: the id exists already or is reserved, or a balance is negative.
        """
        if account_id is None:
            while f"account-{self._next_account}" in self.accounts:
                self._next_account += 1
            account_id = f"account-{self._next_account}"
            self._next_account += 1
        if account_id.startswith("__"):
            raise ValueError("account ids starting with '__' are reserved")
        if balances is None:
            balances = self.config.starting_balances
        if balances is None:
            balances = {a: DEFAULT_BALANCES.get(a, DEFAULT_OTHER_BALANCE) for a in self.assets}
        self.accounts.create(
            account_id, {a: Decimal(v) for a, v in balances.items()}, self.now_ms()
        )
        self.engine.register_account(account_id)
        return account_id

    @_locked
    def has_account(self, account_id: str) -> bool:
        """True if ``account_id`` is a user account of this exchange."""
        return account_id in self.accounts and not self.accounts.get(account_id).internal

    @_locked
    def account(self, account_id: str) -> AccountInfo:
        """Balances, commission rates and permissions (``GET /api/v3/account``).

        Every listed asset appears (0 when never held), sorted by asset name.
        """
        account = self._user(account_id)
        free = account.free
        locked = account.locked
        assets = sorted(set(self.assets) | set(free) | set(locked))
        zero = Decimal(0)
        return AccountInfo(
            account_id=account_id,
            uid=account.uid,
            commission_rates=self.accounts.rates(account_id),
            can_trade=account.can_trade,
            can_withdraw=account.can_withdraw,
            can_deposit=account.can_deposit,
            update_time=account.update_time,
            balances=tuple((a, free.get(a, zero), locked.get(a, zero)) for a in assets),
        )

    @_locked
    def balance(self, account_id: str, asset: str) -> tuple[Decimal, Decimal]:
        """``(free, locked)`` of one asset."""
        self._user(account_id)
        return self.accounts.free(account_id, asset), self.accounts.locked(account_id, asset)

    @_locked
    def commission(self, account_id: str, symbol: str) -> CommissionRates:
        """The account's commission rates on ``symbol`` (``GET /api/v3/account/commission``).

        Raises:
            EngineError: -1121 unknown symbol.
        """
        self._user(account_id)
        self.engine.state(symbol)
        return self.accounts.rates(account_id)

    @_locked
    def set_commission(self, account_id: str, rates: CommissionRates | None) -> None:
        """Give one account its own commission rates (``None``: back to the defaults)."""
        self._user(account_id).commission = rates

    @_locked
    def set_account_flags(
        self,
        account_id: str,
        *,
        can_trade: bool | None = None,
        can_withdraw: bool | None = None,
        can_deposit: bool | None = None,
    ) -> None:
        """Switch an account's ``canTrade``/``canWithdraw``/``canDeposit`` (``None``: keep).

        An account that cannot trade gets -2010 "This account may not place or cancel
        orders." for new orders.
        """
        account = self._user(account_id)
        if can_trade is not None:
            account.can_trade = can_trade
        if can_withdraw is not None:
            account.can_withdraw = can_withdraw
        if can_deposit is not None:
            account.can_deposit = can_deposit

    @_locked
    def deposit_funds(self, account_id: str, asset: str, amount: Decimal) -> None:
        """Credit a deposit to the free balance; publishes ``BalanceUpdateEvent`` and
        ``BalanceEvent`` (the wallet calls this when a deposit completes).

        Raises:
            KeyError: unknown account. ValueError: ``amount`` not positive.
        """
        self._user(account_id)
        self.accounts.deposit_funds(account_id, asset, Decimal(amount))
        self._publish_transfer(account_id, asset, Decimal(amount))

    @_locked
    def withdraw_funds(self, account_id: str, asset: str, amount: Decimal) -> None:
        """Debit a withdrawal from the free balance; publishes ``BalanceUpdateEvent`` and
        ``BalanceEvent``.

        Raises:
            EngineError: -2010 "Account has insufficient balance for requested action."
            KeyError: unknown account. ValueError: ``amount`` not positive.
        """
        self._user(account_id)
        self.accounts.withdraw_funds(account_id, asset, Decimal(amount))
        self._publish_transfer(account_id, asset, -Decimal(amount))

    def _publish_transfer(self, account_id: str, asset: str, delta: Decimal) -> None:
        now = self.now_ms()
        self.accounts.get(account_id).update_time = now
        self.events.append(BalanceUpdateEvent(account_id, asset, delta, now))
        self.events.append(
            BalanceEvent(account_id, now, self.accounts.position(account_id, [asset]))
        )

    def _user(self, account_id: str) -> Any:
        account = self.accounts.get(account_id)
        if account.internal:
            raise KeyError(account_id)
        return account

    # -- orders --------------------------------------------------------------------------------
    @_locked
    def place_order(self, account_id: str, request: OrderRequest) -> PlaceResult:
        """Validate, match and (if it rests) book a new order (``POST /api/v3/order``).

        Raises:
            EngineError: -1121, -1116/-1117/-1115 bad enums, -1102 mandatory parameter missing,
                -1106 parameter sent when not required, -1013 "Market is closed." or
                "Filter failure: X", -2010 (insufficient balance, duplicate client order id,
                LIMIT_MAKER would take, stop would trigger immediately, unsupported type).
        """
        self._user(account_id)
        batch = self.engine.begin(self.now_ms())
        try:
            result = self.engine.place(batch, account_id, request)
        finally:
            self.engine.commit(batch)
        assert result is not None
        return result

    @_locked
    def test_order(self, account_id: str, request: OrderRequest) -> None:
        """Validate a new order exactly as :meth:`place_order` does, changing nothing
        (``POST /api/v3/order/test``)."""
        self._user(account_id)
        batch = self.engine.begin(self.now_ms())
        self.engine.place(batch, account_id, request, test=True)

    @_locked
    def cancel_order(
        self,
        account_id: str,
        symbol: str,
        order_id: int | None = None,
        orig_client_order_id: str | None = None,
        new_client_order_id: str | None = None,
        cancel_restrictions: str | None = None,
    ) -> Order:
        """Cancel one open order and return it (``DELETE /api/v3/order``).

        The returned order's ``cancel_client_order_id`` is the cancel's client id (the
        response's ``clientOrderId``); its ``client_order_id`` is the ``origClientOrderId``.

        Raises:
            EngineError: -1121 unknown symbol, -1102 neither id sent, -2011 "Unknown order
                sent." (not found or not open), -2011 "Order was not canceled due to cancel
                restrictions.", -1145 bad ``cancel_restrictions``.
        """
        self._user(account_id)
        batch = self.engine.begin(self.now_ms())
        try:
            return self.engine.cancel(
                batch,
                account_id,
                symbol,
                order_id,
                orig_client_order_id,
                new_client_order_id,
                cancel_restrictions,
            )
        finally:
            self.engine.commit(batch)

    @_locked
    def cancel_all(self, account_id: str, symbol: str) -> list[Order]:
        """Cancel every open order on ``symbol`` (``DELETE /api/v3/openOrders``), oldest first.

        Raises:
            EngineError: -1121 unknown symbol, -2011 "Unknown order sent." when none is open.
        """
        self._user(account_id)
        batch = self.engine.begin(self.now_ms())
        try:
            return self.engine.cancel_all(batch, account_id, symbol)
        finally:
            self.engine.commit(batch)

    @_locked
    def cancel_replace(
        self,
        account_id: str,
        symbol: str,
        mode: str,
        request: OrderRequest,
        *,
        cancel_order_id: int | None = None,
        cancel_orig_client_order_id: str | None = None,
        cancel_new_client_order_id: str | None = None,
        cancel_restrictions: str | None = None,
    ) -> CancelReplaceResult:
        """Cancel an order and place a new one (``POST /api/v3/order/cancelReplace``).

        Parameter and filter errors of the new order raise before anything happens (NOTES.md
        section 6). Otherwise the outcome is returned: ``result.error`` is None when both steps
        succeeded, else the -2021 (HTTP 409) or -2022 (HTTP 400) error to send with the result
        as ``data`` (see ``examples/order_cancelReplace_*.json``).

        Raises:
            EngineError: validation errors of the request (-1102, -1106, -1013, -1121...).
        """
        self._user(account_id)
        batch = self.engine.begin(self.now_ms())
        try:
            return self.engine.cancel_replace(
                batch,
                account_id,
                symbol,
                mode,
                request,
                cancel_order_id,
                cancel_orig_client_order_id,
                cancel_new_client_order_id,
                cancel_restrictions,
            )
        finally:
            self.engine.commit(batch)

    @_locked
    def get_order(
        self,
        account_id: str,
        symbol: str,
        order_id: int | None = None,
        orig_client_order_id: str | None = None,
    ) -> Order:
        """One of the account's orders, open or closed (``GET /api/v3/order``).

        Raises:
            EngineError: -1121 unknown symbol, -1102 neither id sent, -2013 "Order does not
                exist.", -2039 both ids sent and they do not match.
        """
        self._user(account_id)
        return self.engine.get_order(account_id, symbol, order_id, orig_client_order_id)

    @_locked
    def open_orders(self, account_id: str, symbol: str | None = None) -> list[Order]:
        """Open orders, oldest first, of one symbol or all (``GET /api/v3/openOrders``)."""
        self._user(account_id)
        return self.engine.open_orders(account_id, symbol)

    @_locked
    def all_orders(
        self,
        account_id: str,
        symbol: str,
        order_id: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = 500,
    ) -> list[Order]:
        """Orders of any status on ``symbol`` (``GET /api/v3/allOrders``): from ``order_id``
        upwards, or within the time range, else the most recent ``limit``; ascending ids.

        Raises:
            EngineError: -1121 unknown symbol, -1127 more than 24 hours between the times.
        """
        self._user(account_id)
        return self.engine.all_orders(
            account_id, symbol, order_id, start_time, end_time, _clamp(limit, _MAX_LIMIT)
        )

    @_locked
    def my_trades(
        self,
        account_id: str,
        symbol: str,
        order_id: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        from_id: int | None = None,
        limit: int = 500,
    ) -> list[AccountTrade]:
        """The account's fills on ``symbol`` (``GET /api/v3/myTrades``), ascending ids.

        Raises:
            EngineError: -1121 unknown symbol, -1127 more than 24 hours between the times,
                -1128 ``from_id`` with a time range.
        """
        self._user(account_id)
        return self.engine.my_trades(
            account_id,
            symbol,
            order_id,
            start_time,
            end_time,
            from_id,
            _clamp(limit, _MAX_LIMIT),
        )

    # -- market data ---------------------------------------------------------------------------
    @_locked
    def symbol(self, symbol: str) -> SymbolSpec:
        """The listed symbol's definition.

        Raises:
            EngineError: -1121 unknown symbol.
        """
        return self.engine.state(symbol).spec

    @_locked
    def set_symbol_status(self, symbol: str, status: str) -> None:
        """Change a symbol's trading status (tests and demos: halt or reopen a market).

        Raises:
            EngineError: -1121 unknown symbol. ValueError: unknown status.
        """
        spec = self.engine.state(symbol).spec
        if status not in enums.SYMBOL_STATUSES:
            raise ValueError(f"unknown symbol status {status!r}")
        new = dataclasses.replace(spec, status=status)
        self.markets[symbol] = new
        self.engine.replace_spec(new)

    @_locked
    def depth(self, symbol: str, limit: int = 100) -> DepthSnapshot:
        """The displayed book, top ``limit`` levels per side (``GET /api/v3/depth``).

        ``last_update_id`` is the id of the last change applied; diff events continue at
        ``last_update_id + 1`` (NOTES.md section 10).
        """
        return self.engine.state(symbol).book.depth(_clamp(limit, _MAX_DEPTH))

    @_locked
    def recent_trades(self, symbol: str, limit: int = 500) -> list[Trade]:
        """The latest ``limit`` trades, oldest first (``GET /api/v3/trades``)."""
        trades = self.engine.state(symbol).trades
        limit = _clamp(limit, _MAX_LIMIT)
        return trades[-limit:] if limit else []

    @_locked
    def historical_trades(
        self, symbol: str, from_id: int | None = None, limit: int = 500
    ) -> list[Trade]:
        """Trades from id ``from_id`` (the latest when None), oldest first
        (``GET /api/v3/historicalTrades``). Ids older than the kept history start at the
        oldest kept trade."""
        trades = self.engine.state(symbol).trades
        limit = _clamp(limit, _MAX_LIMIT)
        if from_id is None:
            return trades[-limit:] if limit else []
        if not trades:
            return []
        start = max(0, from_id - trades[0].id)
        return trades[start : start + limit]

    @_locked
    def agg_trades(
        self,
        symbol: str,
        from_id: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = 500,
    ) -> list[AggTrade]:
        """Aggregate trades (``GET /api/v3/aggTrades``): from ``from_id``, or in the time range
        (both ends inclusive), else the most recent; oldest first.

        Raises:
            EngineError: -1128 ``from_id`` together with a time.
        """
        aggs = self.engine.state(symbol).aggs
        limit = _clamp(limit, _MAX_LIMIT)
        if from_id is not None:
            if start_time is not None or end_time is not None:
                raise EngineError(errorcodes.OPTIONAL_PARAMS_BAD_COMBO)
            if not aggs:
                return []
            start = max(0, from_id - aggs[0].id)
            return aggs[start : start + limit]
        if start_time is None and end_time is None:
            return aggs[-limit:] if limit else []
        lo = 0 if start_time is None else bisect.bisect_left(aggs, start_time, key=_agg_time)
        hi = len(aggs) if end_time is None else bisect.bisect_right(aggs, end_time, key=_agg_time)
        if start_time is None:
            return aggs[max(lo, hi - limit) : hi]
        return aggs[lo : min(hi, lo + limit)]

    @_locked
    def book_ticker(self, symbol: str) -> BookTicker:
        """Best bid and ask (``GET /api/v3/ticker/bookTicker``); an empty side shows 0."""
        book = self.engine.state(symbol).book
        bid_price, bid_qty, ask_price, ask_qty = book.top()
        return BookTicker(symbol, bid_price, bid_qty, ask_price, ask_qty, book.update_id)

    @_locked
    def last_price(self, symbol: str) -> Decimal | None:
        """Price of the last live trade, or ``None`` if the symbol has not traded live."""
        return self.engine.state(symbol).last_price

    @_locked
    def reference_price(self, symbol: str) -> Decimal:
        """The price the filters use for market orders: the average over ``avgPriceMins``,
        else the last price, else the price live trading started at (NOTES.md section 6)."""
        st = self.engine.state(symbol)
        return self.engine.reference_price(st, self.now_ms())

    # -- clock ---------------------------------------------------------------------------------
    def tick(self, now_ms: int | None = None) -> None:
        """Advance the background market and the wallet to ``now_ms`` (default: the clock).

        The server calls this every 100-250 ms. Stop orders trigger as soon as a trade reaches
        them, inside whichever call made the trade.
        """
        with self._lock, localcontext(ENGINE_CONTEXT):
            now = self.now_ms() if now_ms is None else now_ms
            if self.background is not None:
                batch = self.engine.begin(now)
                try:
                    self.background.tick(batch, now)
                finally:
                    self.engine.commit(batch)
            if self.wallet is not None and hasattr(self.wallet, "advance"):
                self.wallet.advance(now)

    # -- checks --------------------------------------------------------------------------------
    @_locked
    def imbalances(self) -> dict[str, Decimal]:
        """Assets whose books do not balance (free + locked + fees vs. money in); empty = ok."""
        return self.accounts.imbalances()


def _clamp(limit: int, maximum: int) -> int:
    return max(0, min(int(limit), maximum))


def _agg_time(agg: AggTrade) -> int:
    return agg.time
