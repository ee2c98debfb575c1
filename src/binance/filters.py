"""Binance's exchangeInfo filter rules, shared by the client and the simulator.

``SymbolRules`` is built once from a symbol object of ``GET /api/v3/exchangeInfo`` (the filter
values arrive as strings and are parsed into ``Decimal`` once), then checks any number of orders
cheaply. A failing filter raises ``FilterFailure``: its ``message`` is Binance's own ``-1013``
text (``"Filter failure: LOT_SIZE"``), which the simulator sends as is, and its ``detail`` says
in words what was wrong and what is allowed, which the client shows to its users.

The rules are those of NOTES.md section 6 (Binance's ``filters.md``), current version:
``price % tickSize == 0`` and ``quantity % stepSize == 0`` (no ``minPrice``/``minQty`` offset),
``NOTIONAL`` with separate min/max market flags, the reference price (or average price) standing
in for the price of market orders.

Money-safe: numbers may be given as ``Decimal``, ``str``, ``int`` or ``float`` (a float goes
through ``str()`` first, so ``0.1`` means ``Decimal("0.1")``); all arithmetic is ``Decimal`` in a
private 60-digit context, never float, and never depends on the caller's decimal context.

No I/O here; this module imports nothing from the client or the simulator.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import (
    ROUND_FLOOR,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any

from . import enums, errorcodes

__all__ = ["FilterFailure", "SymbolRules", "NumberLike", "to_decimal"]

#: What the checks accept for prices and quantities.
NumberLike = Decimal | str | int | float

# A context of our own: exchangeInfo values have 8 decimals and prices reach 1e6, so products
# and remainders stay far below 60 digits; traps turn nonsense into errors instead of NaN.
_CTX = Context(prec=60, traps=[InvalidOperation, DivisionByZero, Overflow])
_ZERO = Decimal(0)

_MARKET = enums.ORDER_TYPE_MARKET
# Orders that become market orders when triggered: no limit price, so the notional filters price
# them like MARKET orders (stop price, or the reference price for a trailing-only stop).
_MARKET_LIKE = (enums.ORDER_TYPE_MARKET, enums.ORDER_TYPE_STOP_LOSS, enums.ORDER_TYPE_TAKE_PROFIT)
# NOTES.md section 6, TRAILING_DELTA: which range applies to which order.
_ABOVE_TYPES = {
    (enums.ORDER_TYPE_STOP_LOSS, enums.SIDE_BUY),
    (enums.ORDER_TYPE_STOP_LOSS_LIMIT, enums.SIDE_BUY),
    (enums.ORDER_TYPE_TAKE_PROFIT, enums.SIDE_SELL),
    (enums.ORDER_TYPE_TAKE_PROFIT_LIMIT, enums.SIDE_SELL),
}


class FilterFailure(Exception):
    """An order breaks one of the symbol's (or the exchange's) filters.

    Attributes:
        filter_type: The failing filter, e.g. ``"LOT_SIZE"``.
        message: Binance's ``-1013`` text, ``"Filter failure: <filter_type>"``; the only text
            the simulator may put on the wire.
        detail: What was wrong and the allowed range, in words, for people; ``None`` if unknown.
    """

    def __init__(self, filter_type: str, detail: str | None = None) -> None:
        self.filter_type = filter_type
        self.message = errorcodes.INVALID_MESSAGE.msg(filter_type)
        self.detail = detail
        super().__init__(self.message if detail is None else f"{self.message} ({detail})")

    @property
    def error(self) -> errorcodes.ErrorCode:
        """The Binance error this failure is answered with (``-1013``, HTTP 400)."""
        return errorcodes.INVALID_MESSAGE


def to_decimal(value: NumberLike, name: str = "value") -> Decimal:
    """``value`` as a finite ``Decimal``; a float goes through ``str()`` so 0.1 stays 0.1.

    Raises:
        TypeError: ``value`` is not a number or a string (``bool`` is refused too).
        ValueError: ``value`` is not a finite number.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise TypeError(f"{name} must be a number, not bool")
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise ValueError(f"{name} is not a number: {value!r}") from None
    elif isinstance(value, float):
        result = Decimal(str(value))
    else:
        raise TypeError(f"{name} must be Decimal, str, int or float, not {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, not {value!r}")
    return result


def _opt(value: NumberLike | None, name: str) -> Decimal | None:
    return None if value is None else to_decimal(value, name)


def _is_multiple(value: Decimal, step: Decimal) -> bool:
    return _CTX.remainder(value, step) == 0


def _floor_to(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of ``step`` not above ``value``, with ``step``'s decimal places."""
    units = _CTX.divide(value, step).to_integral_value(rounding=ROUND_FLOOR)
    result = _CTX.multiply(units, step)
    exponent = step.normalize().as_tuple().exponent
    places = exponent if isinstance(exponent, int) and exponent < 0 else 0
    return result.quantize(Decimal(1).scaleb(places), context=_CTX)


def _plain(value: Decimal) -> str:
    """A decimal as people write it: no exponent, no trailing zeros."""
    return format(value.normalize(_CTX), "f")


# -- parsed filters --------------------------------------------------------------------------------
# One small frozen dataclass per filter kind, so a check reads named fields and parsing happens
# once per symbol. A value of 0 disables a bound (filters.md: "disabled on ... == 0").


@dataclass(frozen=True)
class _PriceFilter:
    min_price: Decimal
    max_price: Decimal
    tick_size: Decimal


@dataclass(frozen=True)
class _PercentPrice:
    multiplier_up: Decimal
    multiplier_down: Decimal
    avg_price_mins: int


@dataclass(frozen=True)
class _PercentPriceBySide:
    bid_multiplier_up: Decimal
    bid_multiplier_down: Decimal
    ask_multiplier_up: Decimal
    ask_multiplier_down: Decimal
    avg_price_mins: int


@dataclass(frozen=True)
class _LotSize:
    min_qty: Decimal
    max_qty: Decimal
    step_size: Decimal


@dataclass(frozen=True)
class _MinNotional:
    min_notional: Decimal
    apply_to_market: bool
    avg_price_mins: int


@dataclass(frozen=True)
class _Notional:
    min_notional: Decimal
    apply_min_to_market: bool
    max_notional: Decimal
    apply_max_to_market: bool
    avg_price_mins: int


@dataclass(frozen=True)
class _TrailingDelta:
    min_above: int
    max_above: int
    min_below: int
    max_below: int


@dataclass(frozen=True)
class _Count:
    limit: int


@dataclass(frozen=True)
class _MaxPosition:
    max_position: Decimal


def _dec(raw: Mapping[str, Any], key: str, default: str = "0") -> Decimal:
    return to_decimal(raw.get(key, default), key)


def _int(raw: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"{key} must be an integer, not {value!r}")
    return int(value)


def _bool(raw: Mapping[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if isinstance(value, str):  # tolerate "true"/"false" from hand-written tables
        return value.lower() == "true"
    return bool(value)


def _parse_filter(raw: Mapping[str, Any]) -> tuple[str, object] | None:
    """One exchangeInfo filter dict as ``(filterType, parsed)``; ``None`` if not an order rule."""
    kind = raw.get("filterType")
    if kind == "PRICE_FILTER":
        return kind, _PriceFilter(
            _dec(raw, "minPrice"), _dec(raw, "maxPrice"), _dec(raw, "tickSize")
        )
    if kind == "PERCENT_PRICE":
        return kind, _PercentPrice(
            _dec(raw, "multiplierUp"), _dec(raw, "multiplierDown"), _int(raw, "avgPriceMins")
        )
    if kind == "PERCENT_PRICE_BY_SIDE":
        return kind, _PercentPriceBySide(
            _dec(raw, "bidMultiplierUp"),
            _dec(raw, "bidMultiplierDown"),
            _dec(raw, "askMultiplierUp"),
            _dec(raw, "askMultiplierDown"),
            _int(raw, "avgPriceMins"),
        )
    if kind in ("LOT_SIZE", "MARKET_LOT_SIZE"):
        return kind, _LotSize(_dec(raw, "minQty"), _dec(raw, "maxQty"), _dec(raw, "stepSize"))
    if kind == "MIN_NOTIONAL":
        return kind, _MinNotional(
            _dec(raw, "minNotional"),
            _bool(raw, "applyToMarket", True),
            _int(raw, "avgPriceMins"),
        )
    if kind == "NOTIONAL":
        return kind, _Notional(
            _dec(raw, "minNotional"),
            _bool(raw, "applyMinToMarket", True),
            _dec(raw, "maxNotional"),
            _bool(raw, "applyMaxToMarket", False),
            _int(raw, "avgPriceMins"),
        )
    if kind == "ICEBERG_PARTS":
        return kind, _Count(_int(raw, "limit"))
    if kind in ("MAX_NUM_ORDERS", "EXCHANGE_MAX_NUM_ORDERS"):
        return kind, _Count(_int(raw, "maxNumOrders"))
    if kind in ("MAX_NUM_ALGO_ORDERS", "EXCHANGE_MAX_NUM_ALGO_ORDERS"):
        return kind, _Count(_int(raw, "maxNumAlgoOrders"))
    if kind in ("MAX_NUM_ICEBERG_ORDERS", "EXCHANGE_MAX_NUM_ICEBERG_ORDERS"):
        return kind, _Count(_int(raw, "maxNumIcebergOrders"))
    if kind in ("MAX_NUM_ORDER_LISTS", "EXCHANGE_MAX_NUM_ORDER_LISTS"):
        return kind, _Count(_int(raw, "maxNumOrderLists"))
    if kind == "MAX_NUM_ORDER_AMENDS":
        return kind, _Count(_int(raw, "maxNumOrderAmends"))
    if kind == "MAX_POSITION":
        return kind, _MaxPosition(_dec(raw, "maxPosition"))
    if kind == "TRAILING_DELTA":
        return kind, _TrailingDelta(
            _int(raw, "minTrailingAboveDelta"),
            _int(raw, "maxTrailingAboveDelta"),
            _int(raw, "minTrailingBelowDelta"),
            _int(raw, "maxTrailingBelowDelta"),
        )
    return None  # unknown or not an order filter (MAX_ASSET is per account, via /myFilters)


@dataclass(frozen=True)
class _Order:
    """One order's numbers, normalised, as the checks read them."""

    side: str
    order_type: str
    quantity: Decimal | None
    price: Decimal | None
    stop_price: Decimal | None
    iceberg_qty: Decimal | None
    quote_order_qty: Decimal | None
    trailing_delta: int | None
    reference_price: Decimal | None

    @property
    def is_market(self) -> bool:
        return self.order_type == _MARKET

    @property
    def is_market_like(self) -> bool:
        return self.order_type in _MARKET_LIKE

    @property
    def is_iceberg(self) -> bool:
        return self.iceberg_qty is not None and self.iceberg_qty > 0

    @property
    def is_algo(self) -> bool:
        return self.order_type in enums.STOP_ORDER_TYPES

    def notional(self) -> Decimal | None:
        """``price * quantity`` as the notional filters see it, or ``None`` if unknowable.

        A quote-quantity MARKET order's notional is its quote quantity. Other market-like
        orders are priced at the stop price when they have one, else at the reference price.
        """
        if self.is_market and self.quantity is None:
            return self.quote_order_qty
        if self.quantity is None:
            return None
        if self.is_market_like:
            price = self.reference_price if self.is_market else self.stop_price
            if price is None:
                price = self.reference_price
        else:
            price = self.price
        if price is None:
            return None
        return _CTX.multiply(price, self.quantity)


class SymbolRules:
    """The filters of one symbol, parsed once; ``check_order`` applies them to an order.

    Build it with ``SymbolRules.from_symbol_info(info)`` from one entry of exchangeInfo's
    ``symbols`` list. Binance does not document the order it evaluates filters in; we use the
    order the symbol lists them (live symbols: ``PRICE_FILTER``, ``LOT_SIZE``, ``ICEBERG_PARTS``,
    ``MARKET_LOT_SIZE``, ``TRAILING_DELTA``, ``PERCENT_PRICE_BY_SIDE``, ``NOTIONAL``, then the
    count filters), so an order breaking several reports the first one listed. Exchange filters
    (``EXCHANGE_MAX_NUM_*``) come after the symbol's own.

    Example:
        >>> rules = SymbolRules.from_symbol_info(info)
        >>> rules.check_order("BUY", "LIMIT", quantity="0.001", price="65000.01")
        >>> rules.round_quantity(Decimal("0.0012345"))
        Decimal('0.00123')
    """

    def __init__(
        self,
        symbol: str,
        filters: Iterable[tuple[str, object]],
        *,
        base_asset: str = "",
        quote_asset: str = "",
        status: str = enums.SYMBOL_STATUS_TRADING,
        base_asset_precision: int = 8,
        quote_asset_precision: int = 8,
        exchange_filters: Iterable[tuple[str, object]] = (),
    ) -> None:
        """Rules from already parsed filters; most callers want ``from_symbol_info``."""
        self.symbol = symbol
        """The symbol's name, e.g. ``"BTCUSDT"``."""
        self.base_asset = base_asset
        self.quote_asset = quote_asset
        self.status = status
        """The symbol's trading status when the rules were built (``"TRADING"``...)."""
        self.base_asset_precision = base_asset_precision
        """Decimal places Binance shows for base-asset amounts."""
        self.quote_asset_precision = quote_asset_precision
        """Decimal places Binance shows for quote-asset amounts."""
        self._filters = tuple(filters)
        self._exchange_filters = tuple(exchange_filters)
        self._by_type: dict[str, object] = {}
        for kind, parsed in self._filters:
            self._by_type.setdefault(kind, parsed)

    @classmethod
    def from_symbol_info(
        cls,
        info: Mapping[str, Any],
        exchange_filters: Iterable[Mapping[str, Any]] = (),
    ) -> SymbolRules:
        """Rules for one symbol object of ``GET /api/v3/exchangeInfo``.

        Args:
            info: The symbol's dict as Binance sends it (``symbol``, ``filters``, precisions...).
            exchange_filters: The response's ``exchangeFilters`` list, to also check the
                account-wide ``EXCHANGE_MAX_NUM_*`` limits.

        Raises:
            ValueError, TypeError: A filter value is not a number.
        """
        parsed = [p for p in map(_parse_filter, info.get("filters", ())) if p is not None]
        exchange = [p for p in map(_parse_filter, exchange_filters) if p is not None]
        quote_precision = info.get("quoteAssetPrecision", info.get("quotePrecision", 8))
        return cls(
            str(info.get("symbol", "")),
            parsed,
            base_asset=str(info.get("baseAsset", "")),
            quote_asset=str(info.get("quoteAsset", "")),
            status=str(info.get("status", enums.SYMBOL_STATUS_TRADING)),
            base_asset_precision=int(info.get("baseAssetPrecision", 8)),
            quote_asset_precision=int(quote_precision),
            exchange_filters=exchange,
        )

    def __repr__(self) -> str:
        kinds = ",".join(kind for kind, _ in self._filters)
        return f"SymbolRules({self.symbol!r}, filters=[{kinds}])"

    # -- facts ---------------------------------------------------------------------------------
    @property
    def filter_types(self) -> tuple[str, ...]:
        """The filter types this symbol has, in evaluation order."""
        return tuple(kind for kind, _ in self._filters)

    def _get(self, kind: str) -> Any:
        return self._by_type.get(kind)

    @property
    def tick_size(self) -> Decimal:
        """``PRICE_FILTER.tickSize`` (0 when the symbol has no tick rule)."""
        f = self._get("PRICE_FILTER")
        return f.tick_size if f else _ZERO

    @property
    def min_price(self) -> Decimal:
        """``PRICE_FILTER.minPrice`` (0 = no minimum)."""
        f = self._get("PRICE_FILTER")
        return f.min_price if f else _ZERO

    @property
    def max_price(self) -> Decimal:
        """``PRICE_FILTER.maxPrice`` (0 = no maximum)."""
        f = self._get("PRICE_FILTER")
        return f.max_price if f else _ZERO

    @property
    def step_size(self) -> Decimal:
        """``LOT_SIZE.stepSize`` (0 when the symbol has no step rule)."""
        f = self._get("LOT_SIZE")
        return f.step_size if f else _ZERO

    @property
    def min_qty(self) -> Decimal:
        """``LOT_SIZE.minQty``."""
        f = self._get("LOT_SIZE")
        return f.min_qty if f else _ZERO

    @property
    def max_qty(self) -> Decimal:
        """``LOT_SIZE.maxQty`` (0 = no maximum)."""
        f = self._get("LOT_SIZE")
        return f.max_qty if f else _ZERO

    @property
    def min_notional(self) -> Decimal:
        """The smallest ``price * quantity`` allowed: ``NOTIONAL``, else legacy ``MIN_NOTIONAL``."""
        f = self._get("NOTIONAL") or self._get("MIN_NOTIONAL")
        return f.min_notional if f else _ZERO

    @property
    def max_notional(self) -> Decimal:
        """``NOTIONAL.maxNotional`` (0 = no maximum)."""
        f = self._get("NOTIONAL")
        return f.max_notional if f else _ZERO

    @property
    def avg_price_mins(self) -> int | None:
        """Minutes of the average price the price-dependent filters use; ``None`` if none does."""
        for kind in ("PERCENT_PRICE_BY_SIDE", "PERCENT_PRICE", "NOTIONAL", "MIN_NOTIONAL"):
            f = self._get(kind)
            if f is not None:
                return int(f.avg_price_mins)
        return None

    # -- rounding --------------------------------------------------------------------------------
    def round_price(self, price: NumberLike) -> Decimal:
        """``price`` rounded down to a multiple of ``tickSize`` (unchanged if there is none)."""
        value = to_decimal(price, "price")
        tick = self.tick_size
        return _floor_to(value, tick) if tick > 0 else value

    def round_quantity(self, qty: NumberLike, market: bool = False) -> Decimal:
        """``qty`` rounded down to a multiple of the step size.

        The step is ``MARKET_LOT_SIZE``'s if ``market`` and it has one, else ``LOT_SIZE``'s;
        ``qty`` comes back unchanged if neither has a step.
        """
        value = to_decimal(qty, "quantity")
        step = _ZERO
        if market:
            f = self._get("MARKET_LOT_SIZE")
            step = f.step_size if f else _ZERO
        if step <= 0:
            step = self.step_size
        return _floor_to(value, step) if step > 0 else value

    # -- checks ----------------------------------------------------------------------------------
    def check_order(
        self,
        side: str,
        order_type: str,
        *,
        quantity: NumberLike | None = None,
        price: NumberLike | None = None,
        stop_price: NumberLike | None = None,
        iceberg_qty: NumberLike | None = None,
        quote_order_qty: NumberLike | None = None,
        trailing_delta: int | None = None,
        reference_price: NumberLike | None = None,
        open_orders: int = 0,
        open_algo_orders: int = 0,
        open_iceberg_orders: int = 0,
        position: NumberLike | None = None,
        new_orders: int = 1,
        account_open_orders: int = 0,
        account_open_algo_orders: int = 0,
        account_open_iceberg_orders: int = 0,
    ) -> None:
        """Check one new order against every filter; raise for the first that fails.

        Args:
            side: ``"BUY"`` or ``"SELL"``.
            order_type: ``"LIMIT"``, ``"MARKET"``, ``"STOP_LOSS_LIMIT"``...
            quantity: Base quantity (``None`` for a quote-quantity MARKET order).
            price: Limit price (``None`` for market-like orders).
            stop_price: Trigger price of stop orders.
            iceberg_qty: Visible quantity of an iceberg order.
            quote_order_qty: Quote quantity of a MARKET order given by ``quoteOrderQty``.
            trailing_delta: Trailing delta in basis points.
            reference_price: The reference price *R* of NOTES.md section 6 (reference price, or
                the average price over ``avg_price_mins``). ``None`` skips what needs it
                (``PERCENT_PRICE*`` and market-order notionals): a client may not know it, the
                simulator always passes it.
            open_orders: The account's open orders on this symbol (algo orders included).
            open_algo_orders: Its open STOP_LOSS/TAKE_PROFIT(_LIMIT) orders on this symbol.
            open_iceberg_orders: Its open iceberg orders on this symbol.
            position: For ``MAX_POSITION``: free + locked base asset + quantity of all open BUY
                orders on the symbol. ``None`` skips the filter.
            new_orders: How many orders the request adds (order lists add 2 or 3).
            account_open_orders: Open orders on the whole account (``EXCHANGE_MAX_NUM_ORDERS``).
            account_open_algo_orders: Open algo orders on the whole account.
            account_open_iceberg_orders: Open iceberg orders on the whole account.

        Raises:
            FilterFailure: The first failing filter, in evaluation order.
            TypeError, ValueError: A number is malformed (not a filter failure).
        """
        order = _Order(
            side=side,
            order_type=order_type,
            quantity=_opt(quantity, "quantity"),
            price=_opt(price, "price"),
            stop_price=_opt(stop_price, "stopPrice"),
            iceberg_qty=_opt(iceberg_qty, "icebergQty"),
            quote_order_qty=_opt(quote_order_qty, "quoteOrderQty"),
            trailing_delta=None if trailing_delta is None else int(trailing_delta),
            reference_price=_opt(reference_price, "reference price"),
        )
        counts = {
            "MAX_NUM_ORDERS": open_orders,
            "MAX_NUM_ALGO_ORDERS": open_algo_orders,
            "MAX_NUM_ICEBERG_ORDERS": open_iceberg_orders,
            "EXCHANGE_MAX_NUM_ORDERS": account_open_orders,
            "EXCHANGE_MAX_NUM_ALGO_ORDERS": account_open_algo_orders,
            "EXCHANGE_MAX_NUM_ICEBERG_ORDERS": account_open_iceberg_orders,
        }
        pos = _opt(position, "position")
        for kind, parsed in self._filters + self._exchange_filters:
            self._check_one(kind, parsed, order, counts, pos, new_orders)

    def check_order_lists(
        self, open_order_lists: int = 0, account_open_order_lists: int = 0
    ) -> None:
        """Check that one more order list may be opened.

        Applies ``MAX_NUM_ORDER_LISTS`` and ``EXCHANGE_MAX_NUM_ORDER_LISTS`` (an OTOCO counts as
        one list). The orders inside the list go through ``check_order`` with ``new_orders``.

        Raises:
            FilterFailure: The limit is already reached.
        """
        exchange = dict(self._exchange_filters)
        for kind, have in (
            ("MAX_NUM_ORDER_LISTS", open_order_lists),
            ("EXCHANGE_MAX_NUM_ORDER_LISTS", account_open_order_lists),
        ):
            f: Any = self._by_type.get(kind) or exchange.get(kind)
            if f is not None:
                _check_count(kind, f.limit, have, 1, "open order lists")

    def max_order_amends(self) -> int | None:
        """``MAX_NUM_ORDER_AMENDS.maxNumOrderAmends`` (exceeding it is ``-2038``), or ``None``."""
        f = self._get("MAX_NUM_ORDER_AMENDS")
        return f.limit if f else None

    # -- one filter each -----------------------------------------------------------------------
    def _check_one(
        self,
        kind: str,
        f: Any,
        order: _Order,
        counts: Mapping[str, int],
        position: Decimal | None,
        new_orders: int,
    ) -> None:
        if kind == "PRICE_FILTER":
            for name, value in (("price", order.price), ("stopPrice", order.stop_price)):
                if value is not None:
                    _check_price(f, name, value)
        elif kind == "PERCENT_PRICE":
            if order.price is not None and order.reference_price is not None:
                _check_range(
                    kind, order.price, order.reference_price, f.multiplier_down, f.multiplier_up
                )
        elif kind == "PERCENT_PRICE_BY_SIDE":
            if order.price is not None and order.reference_price is not None:
                if order.side == enums.SIDE_BUY:
                    down, up = f.bid_multiplier_down, f.bid_multiplier_up
                else:
                    down, up = f.ask_multiplier_down, f.ask_multiplier_up
                _check_range(kind, order.price, order.reference_price, down, up)
        elif kind == "LOT_SIZE":
            # NOTES.md 4.1: quoteOrderQty MARKET orders never break LOT_SIZE (the engine sizes
            # the fills to the step); with a quantity, LOT_SIZE applies to every order type.
            if order.quantity is not None:
                _check_lot(kind, f, "quantity", order.quantity)
            if order.iceberg_qty is not None and order.is_iceberg:
                _check_lot(kind, f, "icebergQty", order.iceberg_qty)
        elif kind == "MARKET_LOT_SIZE":
            if order.is_market and order.quantity is not None:
                _check_lot(kind, f, "quantity", order.quantity)
        elif kind == "ICEBERG_PARTS":
            if order.iceberg_qty is not None and order.is_iceberg and order.quantity is not None:
                parts = math.ceil(_CTX.divide(order.quantity, order.iceberg_qty))
                if parts > f.limit:
                    raise FilterFailure(
                        kind,
                        f"quantity / icebergQty makes {parts} parts; at most {f.limit} allowed",
                    )
        elif kind == "NOTIONAL":
            _check_notional(f, order)
        elif kind == "MIN_NOTIONAL":
            if order.is_market_like and not f.apply_to_market:
                return
            notional = order.notional()
            if notional is not None and notional < f.min_notional:
                raise FilterFailure(
                    kind,
                    f"notional {_plain(notional)} is below minNotional {_plain(f.min_notional)}",
                )
        elif kind == "TRAILING_DELTA":
            _check_trailing(f, order)
        elif kind in ("MAX_NUM_ORDERS", "EXCHANGE_MAX_NUM_ORDERS"):
            _check_count(kind, f.limit, counts[kind], new_orders, "open orders")
        elif kind in ("MAX_NUM_ALGO_ORDERS", "EXCHANGE_MAX_NUM_ALGO_ORDERS"):
            if order.is_algo:
                _check_count(kind, f.limit, counts[kind], 1, "open stop/take-profit orders")
        elif kind in ("MAX_NUM_ICEBERG_ORDERS", "EXCHANGE_MAX_NUM_ICEBERG_ORDERS"):
            if order.is_iceberg:
                _check_count(kind, f.limit, counts[kind], 1, "open iceberg orders")
        elif kind == "MAX_POSITION":
            _check_position(f, order, position)
        # MAX_NUM_ORDER_LISTS: check_order_lists; MAX_NUM_ORDER_AMENDS: the amend path (-2038).


def _check_price(f: _PriceFilter, name: str, value: Decimal) -> None:
    if f.min_price > 0 and value < f.min_price:
        raise FilterFailure(
            "PRICE_FILTER", f"{name} {_plain(value)} is below minPrice {_plain(f.min_price)}"
        )
    if f.max_price > 0 and value > f.max_price:
        raise FilterFailure(
            "PRICE_FILTER", f"{name} {_plain(value)} is above maxPrice {_plain(f.max_price)}"
        )
    # NOTES.md section 6: since 2022-02-24 the tick rule is price % tickSize == 0 (no offset).
    if f.tick_size > 0 and not _is_multiple(value, f.tick_size):
        below = _floor_to(value, f.tick_size)
        raise FilterFailure(
            "PRICE_FILTER",
            f"{name} {_plain(value)} is not a multiple of tickSize {_plain(f.tick_size)}"
            f" (nearest below: {_plain(below)})",
        )


def _check_range(kind: str, price: Decimal, reference: Decimal, down: Decimal, up: Decimal) -> None:
    low = _CTX.multiply(reference, down)
    high = _CTX.multiply(reference, up)
    if down > 0 and price < low:
        raise FilterFailure(
            kind,
            f"price {_plain(price)} is below {_plain(low)}"
            f" ({_plain(down)} x reference price {_plain(reference)})",
        )
    if up > 0 and price > high:
        raise FilterFailure(
            kind,
            f"price {_plain(price)} is above {_plain(high)}"
            f" ({_plain(up)} x reference price {_plain(reference)})",
        )


def _check_lot(kind: str, f: _LotSize, name: str, qty: Decimal) -> None:
    # NOTES.md section 6: since 2023-03-13 the step rule is qty % stepSize == 0 (no minQty
    # offset). A 0 field disables its rule, as MARKET_LOT_SIZE's live "0.00000000" do.
    if qty < f.min_qty or qty <= 0:
        raise FilterFailure(kind, f"{name} {_plain(qty)} is below minQty {_plain(f.min_qty)}")
    if f.max_qty > 0 and qty > f.max_qty:
        raise FilterFailure(kind, f"{name} {_plain(qty)} is above maxQty {_plain(f.max_qty)}")
    if f.step_size > 0 and not _is_multiple(qty, f.step_size):
        below = _floor_to(qty, f.step_size)
        raise FilterFailure(
            kind,
            f"{name} {_plain(qty)} is not a multiple of stepSize {_plain(f.step_size)}"
            f" (nearest below: {_plain(below)})",
        )


def _check_notional(f: _Notional, order: _Order) -> None:
    market = order.is_market_like
    check_min = not market or f.apply_min_to_market
    check_max = f.max_notional > 0 and (not market or f.apply_max_to_market)
    if not (check_min or check_max):
        return
    notional = order.notional()
    if notional is None:
        return
    if check_min and notional < f.min_notional:
        raise FilterFailure(
            "NOTIONAL",
            f"notional {_plain(notional)} is below minNotional {_plain(f.min_notional)}",
        )
    if check_max and notional > f.max_notional:
        raise FilterFailure(
            "NOTIONAL",
            f"notional {_plain(notional)} is above maxNotional {_plain(f.max_notional)}",
        )


def _check_trailing(f: _TrailingDelta, order: _Order) -> None:
    if order.trailing_delta is None or not order.is_algo:
        return
    if (order.order_type, order.side) in _ABOVE_TYPES:
        low, high, which = f.min_above, f.max_above, "above"
    else:
        low, high, which = f.min_below, f.max_below, "below"
    if not low <= order.trailing_delta <= high:
        raise FilterFailure(
            "TRAILING_DELTA",
            f"trailingDelta {order.trailing_delta} is outside the {which}-market range"
            f" {low}..{high}",
        )


def _check_count(kind: str, limit: int, have: int, adding: int, what: str) -> None:
    if have + adding > limit:
        raise FilterFailure(kind, f"{have} {what} already; at most {limit} allowed")


def _check_position(f: _MaxPosition, order: _Order, position: Decimal | None) -> None:
    if order.side != enums.SIDE_BUY or position is None:
        return
    qty = order.quantity
    if qty is None and order.quote_order_qty is not None and order.reference_price:
        qty = _CTX.divide(order.quote_order_qty, order.reference_price)  # estimate
    total = position + (qty or _ZERO)
    if total > f.max_position:
        raise FilterFailure(
            "MAX_POSITION",
            f"position would be {_plain(total)}; maxPosition is {_plain(f.max_position)}",
        )
