"""The simulator's default markets and user-defined SymbolSpec objects."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

import pytest

from binance import enums
from binance.filters import FilterFailure
from binance.sim.engine import EngineError
from binance.sim.engine.markets import (
    DEFAULT_SYMBOLS,
    SymbolSpec,
    assets,
    format_decimal,
    get_spec,
)

BY_NAME = {spec.symbol: spec for spec in DEFAULT_SYMBOLS}
EIGHT_DECIMALS = re.compile(r"^\d+\.\d{8}$")


def solusdt(**overrides: object) -> SymbolSpec:
    """A user-defined market with only the required fields (plus overrides)."""
    fields: dict[str, object] = {
        "symbol": "SOLUSDT",
        "base_asset": "SOL",
        "quote_asset": "USDT",
        "tick_size": "0.01",
        "step_size": "0.001",
        "min_qty": "0.001",
        "min_notional": "5",
        "listed_ms": 1597125600000,
        "listing_price": "2.85",
        "present_price": 180,
    }
    fields.update(overrides)
    return SymbolSpec(**fields)  # type: ignore[arg-type]


def test_default_set_is_the_six_trading_symbols_and_one_in_break() -> None:
    """Six real trading symbols plus BCCBTC in BREAK."""
    trading = {s.symbol for s in DEFAULT_SYMBOLS if s.status == enums.SYMBOL_STATUS_TRADING}
    assert trading == {"BTCUSDT", "ETHUSDT", "BNBUSDT", "BNBBTC", "ETHBTC", "NEOBTC"}
    others = [(s.symbol, s.status) for s in DEFAULT_SYMBOLS if s.symbol not in trading]
    assert others == [("BCCBTC", enums.SYMBOL_STATUS_BREAK)]
    assert BY_NAME["BCCBTC"].delisted_ms is not None
    assert len(BY_NAME) == len(DEFAULT_SYMBOLS)


@pytest.mark.parametrize(
    ("symbol", "base", "quote", "tick", "step", "min_notional"),
    [
        ("BTCUSDT", "BTC", "USDT", "0.01", "0.00001", "5"),
        ("ETHUSDT", "ETH", "USDT", "0.01", "0.0001", "5"),
        ("BNBUSDT", "BNB", "USDT", "0.01", "0.001", "5"),
        ("ETHBTC", "ETH", "BTC", "0.00001", "0.0001", "0.0001"),
        ("BNBBTC", "BNB", "BTC", "0.000001", "0.001", "0.0001"),
        ("NEOBTC", "NEO", "BTC", "0.00000001", "0.01", "0.0001"),
    ],
)
def test_default_symbols_have_live_binance_rules(
    symbol: str, base: str, quote: str, tick: str, step: str, min_notional: str
) -> None:
    """Assets, tick, step and minimum notional are Binance's live values."""
    spec = BY_NAME[symbol]
    assert (spec.base_asset, spec.quote_asset) == (base, quote)
    assert spec.rules.tick_size == Decimal(tick)
    assert spec.rules.step_size == Decimal(step)
    assert spec.rules.min_qty == Decimal(step)
    assert spec.rules.min_notional == Decimal(min_notional)
    assert (spec.rules.base_asset_precision, spec.rules.quote_asset_precision) == (8, 8)


def test_history_anchors_are_ordered_and_on_the_tick() -> None:
    """Listing dates follow Binance's history; anchor prices are valid prices."""
    july_14_2017 = 1500004800000
    aug_17_2017 = 1502942400000
    assert {s.symbol: s.listed_ms for s in DEFAULT_SYMBOLS if s.listed_ms == july_14_2017} == {
        "ETHBTC": july_14_2017,
        "BNBBTC": july_14_2017,
        "NEOBTC": july_14_2017,
    }
    assert BY_NAME["BTCUSDT"].listed_ms == BY_NAME["ETHUSDT"].listed_ms == aug_17_2017
    assert BY_NAME["BNBUSDT"].listed_ms == 1509940800000  # 2017-11-06
    assert BY_NAME["BTCUSDT"].listing_price == Decimal("4261.48")
    assert BY_NAME["ETHUSDT"].listing_price == Decimal("301.13")
    for spec in DEFAULT_SYMBOLS:
        for price in (spec.listing_price, spec.present_price):
            spec.rules.check_order("BUY", "LIMIT", price=price)  # on the tick, within range
        if spec.delisted_ms is not None:
            assert spec.listed_ms < spec.delisted_ms


def test_cross_rates_are_consistent() -> None:
    """BNBBTC and ETHBTC present prices match the USDT pairs within 0.1%."""
    btc = BY_NAME["BTCUSDT"].present_price
    for base in ("BNB", "ETH"):
        implied = BY_NAME[f"{base}USDT"].present_price / btc
        assert abs(BY_NAME[f"{base}BTC"].present_price / implied - 1) < Decimal("0.001")


def test_exchange_info_symbol_object_matches_binance_shape() -> None:
    """Key order, flags, STP fields and 8-decimal strings are as Binance sends them."""
    info = BY_NAME["BTCUSDT"].to_exchange_info()
    assert list(info) == [
        "symbol",
        "status",
        "baseAsset",
        "baseAssetPrecision",
        "quoteAsset",
        "quotePrecision",
        "quoteAssetPrecision",
        "baseCommissionPrecision",
        "quoteCommissionPrecision",
        "orderTypes",
        "icebergAllowed",
        "ocoAllowed",
        "otoAllowed",
        "opoAllowed",
        "quoteOrderQtyMarketAllowed",
        "allowTrailingStop",
        "cancelReplaceAllowed",
        "amendAllowed",
        "pegInstructionsAllowed",
        "isSpotTradingAllowed",
        "isMarginTradingAllowed",
        "filters",
        "permissions",
        "permissionSets",
        "defaultSelfTradePreventionMode",
        "allowedSelfTradePreventionModes",
    ]
    assert info["orderTypes"] == [
        "LIMIT",
        "LIMIT_MAKER",
        "MARKET",
        "STOP_LOSS",
        "STOP_LOSS_LIMIT",
        "TAKE_PROFIT",
        "TAKE_PROFIT_LIMIT",
    ]
    assert info["defaultSelfTradePreventionMode"] == "EXPIRE_MAKER"
    assert "EXPIRE_MAKER" in info["allowedSelfTradePreventionModes"]
    assert info["permissions"] == []
    assert info["permissionSets"] == [["SPOT", "MARGIN"]]
    filters = {f["filterType"]: f for f in info["filters"]}
    assert filters["PRICE_FILTER"] == {
        "filterType": "PRICE_FILTER",
        "minPrice": "0.01000000",
        "maxPrice": "1000000.00000000",
        "tickSize": "0.01000000",
    }
    assert filters["LOT_SIZE"] == {
        "filterType": "LOT_SIZE",
        "minQty": "0.00001000",
        "maxQty": "9000.00000000",
        "stepSize": "0.00001000",
    }
    assert filters["NOTIONAL"]["minNotional"] == "5.00000000"
    assert filters["MARKET_LOT_SIZE"]["stepSize"] == "0.00000000"
    assert filters["PERCENT_PRICE_BY_SIDE"]["bidMultiplierUp"] == "5"
    assert filters["PERCENT_PRICE_BY_SIDE"]["askMultiplierDown"] == "0.2"


def test_every_decimal_string_has_eight_places() -> None:
    """Every amount string in every default symbol's filters is fixed-point with 8 decimals."""
    multipliers = {"bidMultiplierUp", "bidMultiplierDown", "askMultiplierUp", "askMultiplierDown"}
    for spec in DEFAULT_SYMBOLS:
        for f in spec.to_exchange_info()["filters"]:
            for key, value in f.items():
                if isinstance(value, str) and key != "filterType" and key not in multipliers:
                    assert EIGHT_DECIMALS.match(value), (spec.symbol, key, value)


def test_format_decimal() -> None:
    """exchangeInfo number format: 8 places minimum, more only when needed, no exponent."""
    assert format_decimal(Decimal("0.01")) == "0.01000000"
    assert format_decimal(Decimal("1E+6")) == "1000000.00000000"
    assert format_decimal(Decimal("0")) == "0.00000000"
    assert format_decimal(Decimal("1E-10")) == "0.0000000001"


def test_rules_enforce_what_exchange_info_publishes() -> None:
    """spec.rules is parsed from to_exchange_info() plus the exchange filters, and cached."""
    spec = BY_NAME["BTCUSDT"]
    assert spec.rules is spec.rules
    assert spec.rules.filter_types == tuple(
        f["filterType"] for f in spec.to_exchange_info()["filters"]
    )
    spec.rules.check_order("BUY", "LIMIT", quantity="0.001", price="95000.00")
    with pytest.raises(FilterFailure) as exc:
        spec.rules.check_order("BUY", "LIMIT", quantity="0.000001", price="95000.00")
    assert exc.value.filter_type == "LOT_SIZE"
    with pytest.raises(FilterFailure) as exc:
        spec.rules.check_order("BUY", "LIMIT", quantity="0.00005", price="95000.00")
    assert exc.value.filter_type == "NOTIONAL"  # 4.75 USDT < 5
    with pytest.raises(FilterFailure) as exc:
        spec.rules.check_order(
            "BUY", "LIMIT", quantity="1", price="95000", account_open_orders=1000
        )
    assert exc.value.filter_type == "EXCHANGE_MAX_NUM_ORDERS"


def test_assets_lists_every_asset_once() -> None:
    """assets() is the sorted union of base and quote assets."""
    assert assets() == ["BCC", "BNB", "BTC", "ETH", "NEO", "USDT"]
    assert assets([solusdt()]) == ["SOL", "USDT"]


def test_get_spec_finds_or_raises_invalid_symbol() -> None:
    """An unknown name is Binance's -1121."""
    assert get_spec("ETHBTC") is BY_NAME["ETHBTC"]
    with pytest.raises(EngineError) as exc:
        get_spec("DOGEUSDT")
    assert exc.value.code == -1121


def test_user_defined_spec_takes_strings_and_gets_live_defaults() -> None:
    """A custom market needs ten facts; numbers are stored as Decimal; defaults look live."""
    spec = solusdt()
    assert spec.tick_size == Decimal("0.01") and isinstance(spec.tick_size, Decimal)
    assert spec.present_price == Decimal("180")
    assert spec.min_price == spec.tick_size
    assert spec.status == "TRADING"
    info = spec.to_exchange_info()
    assert info["symbol"] == "SOLUSDT"
    assert info["defaultSelfTradePreventionMode"] == "EXPIRE_MAKER"
    assert [f["filterType"] for f in info["filters"]][:3] == [
        "PRICE_FILTER",
        "LOT_SIZE",
        "ICEBERG_PARTS",
    ]
    assert hash(spec) == hash(solusdt())
    assert spec == solusdt()


def test_user_spec_extra_filters_are_published_and_enforced() -> None:
    """extra_filters (e.g. MAX_POSITION) appear in exchangeInfo and in the rules."""
    spec = solusdt(extra_filters=[{"filterType": "MAX_POSITION", "maxPosition": "10.00000000"}])
    assert spec.to_exchange_info()["filters"][-1]["filterType"] == "MAX_POSITION"
    with pytest.raises(FilterFailure) as exc:
        spec.rules.check_order("BUY", "LIMIT", quantity="2", price="180", position="9")
    assert exc.value.filter_type == "MAX_POSITION"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"symbol": ""}, "non-empty"),
        ({"quote_asset": "SOL"}, "differ"),
        ({"status": "PRE_TRADING"}, "status"),
        ({"tick_size": "0"}, "positive"),
        ({"min_qty": "0.0015"}, "multiple of step_size"),
        ({"max_qty": "0.0001"}, "max_qty"),
        ({"min_notional": "1e8"}, "min_notional"),
        ({"present_price": "180.005"}, "present_price"),
        ({"listing_price": "0"}, "listing_price"),
        ({"max_price": "100"}, "present_price"),
        ({"delisted_ms": 1}, "delisted_ms"),
        ({"order_types": ("LIMIT", "ICEBERG")}, "order types"),
        ({"default_stp_mode": "NONE", "allowed_stp_modes": ("EXPIRE_MAKER",)}, "default_stp"),
        ({"allowed_stp_modes": ("EXPIRE_MAKER", "WHATEVER")}, "self-trade"),
        ({"tick_size": "abc"}, "not a number"),
    ],
)
def test_invalid_specs_are_refused(overrides: dict, message: str) -> None:
    """A spec that could not be a Binance symbol fails at construction, naming the problem."""
    with pytest.raises(ValueError, match=message):
        solusdt(**overrides)


def test_specs_are_immutable_and_replaceable() -> None:
    """SymbolSpec is frozen; dataclasses.replace derives a variant (e.g. a halted market)."""
    spec = solusdt()
    with pytest.raises(AttributeError):
        spec.status = "HALT"  # type: ignore[misc]
    halted = replace(spec, status=enums.SYMBOL_STATUS_HALT)
    assert halted.to_exchange_info()["status"] == "HALT"
    assert halted.rules.status == "HALT"
