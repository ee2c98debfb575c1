"""The simulator's markets: which symbols exist, their rules, and the exchangeInfo they publish.

A market is a ``SymbolSpec``: its assets, precisions, filter values, flags and history anchors
(listing date, price at listing, present-day price) that the kline history and the background
traders start from. ``DEFAULT_SYMBOLS`` is the default set: six trading symbols Binance really
lists, with today's real filter values, plus ``BCCBTC`` (Bitcoin Cash's old ticker, in ``BREAK``)
so clients meet a symbol they cannot trade. Users of the simulator add their own markets by
building ``SymbolSpec`` objects, whose defaults are those of a typical live Binance symbol.

``SymbolSpec.to_exchange_info()`` renders the exact symbol object of ``GET /api/v3/exchangeInfo``
and ``exchange_info(...)`` the whole response; ``SymbolSpec.rules`` parses that same object with
``binance.filters`` (the client's rules too), so what the simulator publishes is what it enforces.

No I/O here; must not import asyncio, aiohttp, json or the client (``binance.filters``,
``binance.enums`` and ``binance.errorcodes`` are shared facts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from binance import enums, errorcodes
from binance.filters import SymbolRules, to_decimal
from binance.sim.engine import EngineError

__all__ = [
    "SymbolSpec",
    "DEFAULT_SYMBOLS",
    "DEFAULT_EXCHANGE_FILTERS",
    "DEFAULT_PERMISSIONS",
    "assets",
    "get_spec",
    "exchange_info",
    "format_decimal",
]

#: ``orderTypes`` in the order Binance lists them.
_ALL_ORDER_TYPES = (
    enums.ORDER_TYPE_LIMIT,
    enums.ORDER_TYPE_LIMIT_MAKER,
    enums.ORDER_TYPE_MARKET,
    enums.ORDER_TYPE_STOP_LOSS,
    enums.ORDER_TYPE_STOP_LOSS_LIMIT,
    enums.ORDER_TYPE_TAKE_PROFIT,
    enums.ORDER_TYPE_TAKE_PROFIT_LIMIT,
)
#: STP modes offered on every symbol since TRANSFER reached all symbols (2026-04-02, NOTES.md §5).
_ALL_STP_MODES = (
    enums.STP_MODE_NONE,
    enums.STP_MODE_EXPIRE_TAKER,
    enums.STP_MODE_EXPIRE_MAKER,
    enums.STP_MODE_EXPIRE_BOTH,
    enums.STP_MODE_DECREMENT,
    enums.STP_MODE_TRANSFER,
)

#: Permissions shown when a caller gives none (rest-api.md, exchangeInfo notes).
DEFAULT_PERMISSIONS = (enums.PERMISSION_SPOT, enums.PERMISSION_MARGIN, enums.PERMISSION_LEVERAGED)

#: Statuses ``symbolStatus`` accepts on exchangeInfo (enums.md; CANCEL_ONLY since 2026-07).
_QUERYABLE_STATUSES = enums.SYMBOL_STATUSES

#: Account-wide filters: the values filters.md documents (live Binance currently sends an empty
#: list; the simulator publishes these so clients meet and obey them).
DEFAULT_EXCHANGE_FILTERS: tuple[Mapping[str, Any], ...] = (
    {"filterType": "EXCHANGE_MAX_NUM_ORDERS", "maxNumOrders": 1000},
    {"filterType": "EXCHANGE_MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 200},
    {"filterType": "EXCHANGE_MAX_NUM_ICEBERG_ORDERS", "maxNumIcebergOrders": 10000},
    {"filterType": "EXCHANGE_MAX_NUM_ORDER_LISTS", "maxNumOrderLists": 20},
)

_DECIMAL_FIELDS = (
    "tick_size",
    "step_size",
    "min_qty",
    "min_notional",
    "listing_price",
    "present_price",
    "max_qty",
    "min_price",
    "max_price",
    "max_notional",
    "market_max_qty",
    "bid_multiplier_up",
    "bid_multiplier_down",
    "ask_multiplier_up",
    "ask_multiplier_down",
)


def format_decimal(value: Decimal, places: int = 8) -> str:
    """``value`` as exchangeInfo writes it: fixed point with at least ``places`` decimals.

    >>> format_decimal(Decimal("0.01"))
    '0.01000000'
    """
    exponent = value.normalize().as_tuple().exponent
    needed = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return format(value.quantize(Decimal(1).scaleb(-max(places, needed))), "f")


def _plain(value: Decimal) -> str:
    """A multiplier as Binance writes it: ``"5"``, ``"0.2"`` (no padding)."""
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class SymbolSpec:
    """One market of the simulator: everything its exchangeInfo entry and its history need.

    Numbers may be given as ``Decimal``, ``str`` or ``int`` (``float`` through ``str()``); they are
    stored as ``Decimal``. Only the first ten fields are required; the rest default to the values
    a typical live Binance symbol has today.

    Example:
        >>> SymbolSpec("SOLUSDT", "SOL", "USDT", tick_size="0.01", step_size="0.001",
        ...            min_qty="0.001", min_notional="5", listed_ms=1597125600000,
        ...            listing_price="2.85", present_price="180.00")

    Attributes:
        symbol: The symbol's name, e.g. ``"BTCUSDT"``.
        base_asset: The asset bought and sold (``"BTC"``).
        quote_asset: The asset prices are in (``"USDT"``).
        tick_size: ``PRICE_FILTER.tickSize``; every price is a multiple of it.
        step_size: ``LOT_SIZE.stepSize``; every quantity is a multiple of it.
        min_qty: ``LOT_SIZE.minQty``.
        min_notional: ``NOTIONAL.minNotional`` in quote asset.
        listed_ms: When trading began (ms since the epoch, UTC): kline history starts here.
        listing_price: The first traded price (history's starting point).
        present_price: The price "today", where history ends and live trading starts; for a
            symbol that no longer trades, its last price.
        status: ``TRADING``, ``HALT``, ``BREAK``, ``END_OF_DAY`` or ``CANCEL_ONLY``.
        delisted_ms: When trading stopped, for a symbol that is not ``TRADING`` (history ends
            there); ``None`` if it trades.
        max_qty: ``LOT_SIZE.maxQty``.
        min_price: ``PRICE_FILTER.minPrice``; ``None`` means one tick.
        max_price: ``PRICE_FILTER.maxPrice``.
        max_notional: ``NOTIONAL.maxNotional``.
        market_max_qty: ``MARKET_LOT_SIZE.maxQty`` (its minQty and stepSize are 0, as live).
        apply_min_to_market: ``NOTIONAL.applyMinToMarket``.
        apply_max_to_market: ``NOTIONAL.applyMaxToMarket``.
        avg_price_mins: Minutes of average price used by ``NOTIONAL`` and
            ``PERCENT_PRICE_BY_SIDE``.
        bid_multiplier_up, bid_multiplier_down, ask_multiplier_up, ask_multiplier_down:
            ``PERCENT_PRICE_BY_SIDE`` multipliers.
        iceberg_parts: ``ICEBERG_PARTS.limit`` (100 since 2026-03-12, NOTES.md §6).
        max_num_orders, max_num_algo_orders, max_num_order_lists, max_num_order_amends:
            the count filters' limits.
        min_trailing_above_delta, max_trailing_above_delta, min_trailing_below_delta,
        max_trailing_below_delta: ``TRAILING_DELTA`` bounds in basis points.
        extra_filters: More filter dicts appended as given (e.g. ``MAX_POSITION``).
        base_asset_precision, quote_asset_precision, base_commission_precision,
        quote_commission_precision: Decimal places Binance shows for each.
        order_types: ``orderTypes``.
        iceberg_allowed ... is_margin_trading_allowed: the exchangeInfo flags of the same names.
        permission_sets: ``permissionSets``: OR-sets that are AND-ed.
        default_stp_mode: ``defaultSelfTradePreventionMode``.
        allowed_stp_modes: ``allowedSelfTradePreventionModes``.
    """

    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    min_notional: Decimal
    listed_ms: int
    listing_price: Decimal
    present_price: Decimal
    status: str = enums.SYMBOL_STATUS_TRADING
    delisted_ms: int | None = None
    max_qty: Decimal = Decimal("9000")
    min_price: Decimal | None = None
    max_price: Decimal = Decimal("1000000")
    max_notional: Decimal = Decimal("9000000")
    market_max_qty: Decimal = Decimal("1000")
    apply_min_to_market: bool = True
    apply_max_to_market: bool = False
    avg_price_mins: int = 5
    bid_multiplier_up: Decimal = Decimal("5")
    bid_multiplier_down: Decimal = Decimal("0.2")
    ask_multiplier_up: Decimal = Decimal("5")
    ask_multiplier_down: Decimal = Decimal("0.2")
    iceberg_parts: int = 100
    max_num_orders: int = 200
    max_num_algo_orders: int = 5
    max_num_order_lists: int = 20
    max_num_order_amends: int = 10
    min_trailing_above_delta: int = 10
    max_trailing_above_delta: int = 2000
    min_trailing_below_delta: int = 10
    max_trailing_below_delta: int = 2000
    extra_filters: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)
    base_asset_precision: int = 8
    quote_asset_precision: int = 8
    base_commission_precision: int = 8
    quote_commission_precision: int = 8
    order_types: tuple[str, ...] = _ALL_ORDER_TYPES
    iceberg_allowed: bool = True
    oco_allowed: bool = True
    oto_allowed: bool = True
    opo_allowed: bool = True
    quote_order_qty_market_allowed: bool = True
    allow_trailing_stop: bool = True
    cancel_replace_allowed: bool = True
    amend_allowed: bool = True
    peg_instructions_allowed: bool = False
    is_spot_trading_allowed: bool = True
    is_margin_trading_allowed: bool = True
    permission_sets: tuple[tuple[str, ...], ...] = (
        (enums.PERMISSION_SPOT, enums.PERMISSION_MARGIN),
    )
    default_stp_mode: str = enums.STP_MODE_EXPIRE_MAKER
    allowed_stp_modes: tuple[str, ...] = _ALL_STP_MODES

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise once, here
        for name in _DECIMAL_FIELDS:
            value = getattr(self, name)
            if value is not None:
                set_(self, name, to_decimal(value, name))
        if self.min_price is None:
            set_(self, "min_price", self.tick_size)
        set_(self, "order_types", tuple(self.order_types))
        set_(self, "allowed_stp_modes", tuple(self.allowed_stp_modes))
        set_(self, "permission_sets", tuple(tuple(s) for s in self.permission_sets))
        set_(self, "extra_filters", tuple(dict(f) for f in self.extra_filters))
        self._validate()

    def _validate(self) -> None:
        def bad(why: str) -> ValueError:
            return ValueError(f"SymbolSpec {self.symbol!r}: {why}")

        if not self.symbol or not self.base_asset or not self.quote_asset:
            raise bad("symbol, base_asset and quote_asset must be non-empty")
        if self.base_asset == self.quote_asset:
            raise bad("base_asset and quote_asset must differ")
        if self.status not in enums.SYMBOL_STATUSES:
            raise bad(f"status must be one of {enums.SYMBOL_STATUSES}, not {self.status!r}")
        if self.tick_size <= 0 or self.step_size <= 0:
            raise bad("tick_size and step_size must be positive")
        if self.min_qty <= 0 or self.min_qty % self.step_size != 0:
            raise bad("min_qty must be a positive multiple of step_size")
        if self.max_qty < self.min_qty:
            raise bad("max_qty must be at least min_qty")
        if self.min_notional < 0 or self.max_notional < self.min_notional:
            raise bad("need 0 <= min_notional <= max_notional")
        for name in ("listing_price", "present_price"):
            price = getattr(self, name)
            if price <= 0 or price % self.tick_size != 0:
                raise bad(f"{name} {price} must be a positive multiple of tick_size")
            if not self.min_price <= price <= self.max_price:
                raise bad(f"{name} {price} is outside min_price..max_price")
        if self.delisted_ms is not None and self.delisted_ms < self.listed_ms:
            raise bad("delisted_ms is before listed_ms")
        unknown = set(self.order_types) - set(enums.ORDER_TYPES)
        if unknown:
            raise bad(f"unknown order types {sorted(unknown)}")
        if self.default_stp_mode not in self.allowed_stp_modes:
            raise bad("default_stp_mode must be one of allowed_stp_modes")
        if set(self.allowed_stp_modes) - set(enums.STP_MODES):
            raise bad("unknown self-trade prevention mode")

    @property
    def permissions(self) -> frozenset[str]:
        """Every permission named in ``permission_sets``."""
        return frozenset(p for group in self.permission_sets for p in group)

    def to_exchange_info(self, show_permission_sets: bool = True) -> dict[str, Any]:
        """The symbol object exactly as ``GET /api/v3/exchangeInfo`` lists it today.

        Args:
            show_permission_sets: ``False`` sends ``permissionSets`` empty, as Binance does for
                ``showPermissionSets=false``.
        """
        return {
            "symbol": self.symbol,
            "status": self.status,
            "baseAsset": self.base_asset,
            "baseAssetPrecision": self.base_asset_precision,
            "quoteAsset": self.quote_asset,
            "quotePrecision": self.quote_asset_precision,  # legacy twin of quoteAssetPrecision
            "quoteAssetPrecision": self.quote_asset_precision,
            "baseCommissionPrecision": self.base_commission_precision,
            "quoteCommissionPrecision": self.quote_commission_precision,
            "orderTypes": list(self.order_types),
            "icebergAllowed": self.iceberg_allowed,
            "ocoAllowed": self.oco_allowed,
            "otoAllowed": self.oto_allowed,
            "opoAllowed": self.opo_allowed,
            "quoteOrderQtyMarketAllowed": self.quote_order_qty_market_allowed,
            "allowTrailingStop": self.allow_trailing_stop,
            "cancelReplaceAllowed": self.cancel_replace_allowed,
            "amendAllowed": self.amend_allowed,
            "pegInstructionsAllowed": self.peg_instructions_allowed,
            "isSpotTradingAllowed": self.is_spot_trading_allowed,
            "isMarginTradingAllowed": self.is_margin_trading_allowed,
            "filters": self._filters(),
            "permissions": [],  # emptied 2024-04-10 in favour of permissionSets (NOTES.md §5)
            "permissionSets": [list(s) for s in self.permission_sets]
            if show_permission_sets
            else [],
            "defaultSelfTradePreventionMode": self.default_stp_mode,
            "allowedSelfTradePreventionModes": list(self.allowed_stp_modes),
        }

    def _filters(self) -> list[dict[str, Any]]:
        # The order live symbols use; binance.filters evaluates them in this order.
        f8 = format_decimal
        assert self.min_price is not None  # __post_init__ made None one tick
        filters: list[dict[str, Any]] = [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": f8(self.min_price),
                "maxPrice": f8(self.max_price),
                "tickSize": f8(self.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": f8(self.min_qty),
                "maxQty": f8(self.max_qty),
                "stepSize": f8(self.step_size),
            },
            {"filterType": "ICEBERG_PARTS", "limit": self.iceberg_parts},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": f8(Decimal(0)),
                "maxQty": f8(self.market_max_qty),
                "stepSize": f8(Decimal(0)),
            },
            {
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": self.min_trailing_above_delta,
                "maxTrailingAboveDelta": self.max_trailing_above_delta,
                "minTrailingBelowDelta": self.min_trailing_below_delta,
                "maxTrailingBelowDelta": self.max_trailing_below_delta,
            },
            {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": _plain(self.bid_multiplier_up),
                "bidMultiplierDown": _plain(self.bid_multiplier_down),
                "askMultiplierUp": _plain(self.ask_multiplier_up),
                "askMultiplierDown": _plain(self.ask_multiplier_down),
                "avgPriceMins": self.avg_price_mins,
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": f8(self.min_notional),
                "applyMinToMarket": self.apply_min_to_market,
                "maxNotional": f8(self.max_notional),
                "applyMaxToMarket": self.apply_max_to_market,
                "avgPriceMins": self.avg_price_mins,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": self.max_num_orders},
            {"filterType": "MAX_NUM_ORDER_LISTS", "maxNumOrderLists": self.max_num_order_lists},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": self.max_num_algo_orders},
            {
                "filterType": "MAX_NUM_ORDER_AMENDS",
                "maxNumOrderAmends": self.max_num_order_amends,
            },
        ]
        filters.extend(dict(f) for f in self.extra_filters)
        return filters

    @cached_property
    def rules(self) -> SymbolRules:
        """The filter rules this symbol publishes, parsed by ``binance.filters`` (cached).

        Built from ``to_exchange_info()`` and ``DEFAULT_EXCHANGE_FILTERS``, so the engine
        enforces exactly what exchangeInfo shows.
        """
        return SymbolRules.from_symbol_info(self.to_exchange_info(), DEFAULT_EXCHANGE_FILTERS)


def _btc_quoted(**kw: Any) -> SymbolSpec:
    """A BTC-quoted symbol: BTC-sized notional bounds (min 0.0001 BTC, max 9,000,000 BTC)."""
    kw.setdefault("quote_asset", "BTC")
    kw.setdefault("max_qty", Decimal("100000"))
    kw.setdefault("min_notional", Decimal("0.0001"))
    return SymbolSpec(**kw)


# Listing times are the open of each symbol's first kline on Binance (UTC): Binance opened on
# 2017-07-14 with ETHBTC, NEOBTC and BNBBTC among its first markets; BTCUSDT and ETHUSDT followed
# on 2017-08-17 and BNBUSDT on 2017-11-06. Listing prices are those first opens (approximate for
# BNBBTC, NEOBTC and BNBUSDT). Present prices are plausible late-2026 values with the cross rates
# consistent (BNBBTC ~ BNBUSDT / BTCUSDT). Filter values are Binance's live ones for these symbols.
_JUL_14_2017 = 1500004800000  # 2017-07-14 04:00 UTC
_AUG_17_2017 = 1502942400000  # 2017-08-17 04:00 UTC
_NOV_06_2017 = 1509940800000  # 2017-11-06 04:00 UTC

#: The simulator's default markets, in the relative order Binance's exchangeInfo lists them.
DEFAULT_SYMBOLS: tuple[SymbolSpec, ...] = (
    _btc_quoted(
        symbol="ETHBTC",
        base_asset="ETH",
        tick_size=Decimal("0.00001"),
        step_size=Decimal("0.0001"),
        min_qty=Decimal("0.0001"),
        max_price=Decimal("922327"),
        market_max_qty=Decimal("2700"),
        listed_ms=_JUL_14_2017,
        listing_price=Decimal("0.08"),
        present_price=Decimal("0.03684"),
    ),
    _btc_quoted(
        symbol="BNBBTC",
        base_asset="BNB",
        tick_size=Decimal("0.000001"),
        step_size=Decimal("0.001"),
        min_qty=Decimal("0.001"),
        market_max_qty=Decimal("8000"),
        max_price=Decimal("100000"),
        listed_ms=_JUL_14_2017,
        listing_price=Decimal("0.0002"),
        present_price=Decimal("0.009474"),
    ),
    _btc_quoted(
        symbol="NEOBTC",
        base_asset="NEO",
        tick_size=Decimal("0.00000001"),
        step_size=Decimal("0.01"),
        min_qty=Decimal("0.01"),
        max_price=Decimal("100000"),
        market_max_qty=Decimal("10000"),
        listed_ms=_JUL_14_2017,
        listing_price=Decimal("0.005"),
        present_price=Decimal("0.00003900"),
        is_margin_trading_allowed=False,
        permission_sets=((enums.PERMISSION_SPOT,),),
    ),
    # Bitcoin Cash's first Binance ticker (listed 2017-08-01, after the fork); trading stopped
    # for the November 2018 fork and the symbol never reopened: a realistic non-TRADING symbol.
    _btc_quoted(
        symbol="BCCBTC",
        base_asset="BCC",
        status=enums.SYMBOL_STATUS_BREAK,
        tick_size=Decimal("0.000001"),
        step_size=Decimal("0.001"),
        min_qty=Decimal("0.001"),
        max_price=Decimal("100000"),
        market_max_qty=Decimal("10000"),
        listed_ms=1501545600000,  # 2017-08-01 00:00 UTC
        delisted_ms=1542240000000,  # 2018-11-15 00:00 UTC
        listing_price=Decimal("0.120000"),
        present_price=Decimal("0.070000"),
        oto_allowed=False,
        opo_allowed=False,
        allow_trailing_stop=False,
        cancel_replace_allowed=False,
        amend_allowed=False,
        is_margin_trading_allowed=False,
        permission_sets=((enums.PERMISSION_SPOT,),),
    ),
    SymbolSpec(
        symbol="BTCUSDT",
        base_asset="BTC",
        quote_asset="USDT",
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.00001"),
        min_qty=Decimal("0.00001"),
        min_notional=Decimal("5"),
        market_max_qty=Decimal("100"),
        listed_ms=_AUG_17_2017,
        listing_price=Decimal("4261.48"),
        present_price=Decimal("95000.00"),
        peg_instructions_allowed=True,
    ),
    SymbolSpec(
        symbol="ETHUSDT",
        base_asset="ETH",
        quote_asset="USDT",
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.0001"),
        min_qty=Decimal("0.0001"),
        min_notional=Decimal("5"),
        market_max_qty=Decimal("3000"),
        listed_ms=_AUG_17_2017,
        listing_price=Decimal("301.13"),
        present_price=Decimal("3500.00"),
        peg_instructions_allowed=True,
    ),
    SymbolSpec(
        symbol="BNBUSDT",
        base_asset="BNB",
        quote_asset="USDT",
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.001"),
        min_qty=Decimal("0.001"),
        min_notional=Decimal("5"),
        max_qty=Decimal("900000"),
        max_price=Decimal("100000"),
        market_max_qty=Decimal("8000"),
        listed_ms=_NOV_06_2017,
        listing_price=Decimal("1.50"),
        present_price=Decimal("900.00"),
    ),
)


def assets(markets: Iterable[SymbolSpec] = DEFAULT_SYMBOLS) -> list[str]:
    """Every asset traded in ``markets`` (base and quote), sorted."""
    return sorted({a for spec in markets for a in (spec.base_asset, spec.quote_asset)})


def get_spec(symbol: str, markets: Iterable[SymbolSpec] = DEFAULT_SYMBOLS) -> SymbolSpec:
    """The market named ``symbol``.

    Raises:
        EngineError: ``-1121`` Invalid symbol.
    """
    for spec in markets:
        if spec.symbol == symbol:
            return spec
    raise EngineError(errorcodes.BAD_SYMBOL)


def exchange_info(
    symbols: Iterable[str] | None = None,
    permissions: Iterable[str] | None = None,
    symbol_status: str | None = None,
    *,
    now_ms: int,
    rate_limits: Sequence[Mapping[str, Any]],
    symbol: str | None = None,
    show_permission_sets: bool = True,
    markets: Sequence[SymbolSpec] = DEFAULT_SYMBOLS,
    exchange_filters: Sequence[Mapping[str, Any]] = DEFAULT_EXCHANGE_FILTERS,
) -> dict[str, Any]:
    """The whole ``GET /api/v3/exchangeInfo`` response.

    Args:
        symbols: Only these symbols, in this order (``symbols=[...]``).
        permissions: Only symbols with one of these permissions; default SPOT, MARGIN and
            LEVERAGED (rest-api.md).
        symbol_status: Only symbols in this status. With ``symbol``, a mismatch is ``-1220``;
            with ``symbols`` or nothing, mismatching symbols are left out (CHANGELOG
            2025-10-28). Binance documents that exchangeInfo refuses ``symbolStatus`` together
            with ``symbol``/``symbols``; that is the adapter's call to make before calling here.
        now_ms: ``serverTime``.
        rate_limits: The rate limiter's configured limits, each ``{"rateLimitType",
            "interval", "intervalNum", "limit"}``.
        symbol: Only this symbol (``symbol=``).
        show_permission_sets: ``False`` empties every ``permissionSets``.
        markets: The market set to describe.
        exchange_filters: ``exchangeFilters``.

    Raises:
        EngineError: ``-1121`` unknown symbol, ``-1151`` a symbol listed twice, ``-1122`` unknown
            status, ``-1220`` ``symbol`` not in ``symbol_status``.
    """
    if symbol_status is not None and symbol_status not in _QUERYABLE_STATUSES:
        raise EngineError(errorcodes.INVALID_SYMBOLSTATUS)
    by_name = {spec.symbol: spec for spec in markets}
    if symbol is not None:
        spec = by_name.get(symbol)
        if spec is None:
            raise EngineError(errorcodes.BAD_SYMBOL)
        if symbol_status is not None and spec.status != symbol_status:
            raise EngineError(errorcodes.SYMBOL_DOES_NOT_MATCH_STATUS)
        chosen = [spec]
    elif symbols is not None:
        names = list(symbols)
        if len(set(names)) != len(names):
            raise EngineError(errorcodes.DUPLICATE_SYMBOLS)
        chosen = []
        for name in names:
            if name not in by_name:
                raise EngineError(errorcodes.BAD_SYMBOL)
            chosen.append(by_name[name])
    else:
        wanted = frozenset(DEFAULT_PERMISSIONS if permissions is None else permissions)
        chosen = [spec for spec in markets if spec.permissions & wanted]
    if symbol_status is not None:
        chosen = [spec for spec in chosen if spec.status == symbol_status]
    return {
        "timezone": "UTC",
        "serverTime": now_ms,
        "rateLimits": [dict(limit) for limit in rate_limits],
        "exchangeFilters": [dict(f) for f in exchange_filters],
        "symbols": [spec.to_exchange_info(show_permission_sets) for spec in chosen],
    }
