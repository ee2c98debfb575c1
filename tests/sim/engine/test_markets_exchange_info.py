"""markets.exchange_info(): the whole GET /api/v3/exchangeInfo response and its errors."""

from __future__ import annotations

import pytest

from binance import errorcodes
from binance.filters import SymbolRules
from binance.sim.engine import EngineError
from binance.sim.engine.markets import (
    DEFAULT_EXCHANGE_FILTERS,
    DEFAULT_SYMBOLS,
    SymbolSpec,
    exchange_info,
)
from schemas_util import validate_response

NOW = 1_795_000_000_000
#: What the rate limiter passes in: Binance's current values (NOTES.md section 3).
RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 300000},
]


def info(*args: object, **kwargs: object) -> dict:
    return exchange_info(*args, now_ms=NOW, rate_limits=RATE_LIMITS, **kwargs)  # type: ignore[arg-type]


def names(response: dict) -> list[str]:
    return [s["symbol"] for s in response["symbols"]]


def engine_error(**kwargs: object) -> errorcodes.ErrorCode:
    with pytest.raises(EngineError) as exc:
        info(**kwargs)
    return exc.value.error


def test_full_response_matches_the_official_schema() -> None:
    """The default response validates against spot_api.yaml's exchangeInfo schema."""
    response = info()
    validate_response("GET", "/api/v3/exchangeInfo", response)
    assert response["timezone"] == "UTC"
    assert response["serverTime"] == NOW
    assert response["rateLimits"] == RATE_LIMITS
    assert response["rateLimits"] is not RATE_LIMITS
    assert response["exchangeFilters"] == [dict(f) for f in DEFAULT_EXCHANGE_FILTERS]
    assert names(response) == [s.symbol for s in DEFAULT_SYMBOLS]


@pytest.mark.parametrize("spec", DEFAULT_SYMBOLS, ids=lambda s: s.symbol)
def test_each_symbol_alone_matches_the_schema(spec: SymbolSpec) -> None:
    """symbol=X answers just X, in the official shape."""
    response = info(symbol=spec.symbol)
    validate_response("GET", "/api/v3/exchangeInfo", response)
    assert names(response) == [spec.symbol]


def test_the_published_rules_parse_back_into_the_same_checks() -> None:
    """A client reading the response builds the same rules the engine enforces."""
    response = info()
    for symbol_info, spec in zip(response["symbols"], DEFAULT_SYMBOLS, strict=True):
        client_rules = SymbolRules.from_symbol_info(symbol_info, response["exchangeFilters"])
        assert client_rules.filter_types == spec.rules.filter_types
        assert client_rules.tick_size == spec.tick_size
        assert client_rules.step_size == spec.step_size
        assert client_rules.min_notional == spec.min_notional


def test_symbols_keep_the_requested_order() -> None:
    """symbols=[...] lists exactly those symbols, in the order asked."""
    assert names(info(["NEOBTC", "BTCUSDT"])) == ["NEOBTC", "BTCUSDT"]


def test_unknown_symbol_is_invalid_symbol() -> None:
    """An unknown symbol in symbol or symbols is -1121."""
    assert engine_error(symbol="DOGEUSDT") is errorcodes.BAD_SYMBOL
    assert engine_error(symbols=["BTCUSDT", "DOGEUSDT"]) is errorcodes.BAD_SYMBOL


def test_duplicate_symbols_are_refused() -> None:
    """The same symbol twice in symbols is -1151."""
    assert engine_error(symbols=["BTCUSDT", "BTCUSDT"]) is errorcodes.DUPLICATE_SYMBOLS


def test_symbol_status_filters_the_list() -> None:
    """symbolStatus keeps only symbols in that status, with or without symbols=[...]."""
    assert names(info(symbol_status="BREAK")) == ["BCCBTC"]
    assert "BCCBTC" not in names(info(symbol_status="TRADING"))
    assert names(info(["BCCBTC", "BTCUSDT"], symbol_status="TRADING")) == ["BTCUSDT"]
    assert names(info(symbol_status="HALT")) == []


def test_symbol_status_mismatch_for_one_symbol() -> None:
    """symbol=X with another symbolStatus is -1220; a matching one answers X."""
    assert engine_error(symbol="BTCUSDT", symbol_status="BREAK") is (
        errorcodes.SYMBOL_DOES_NOT_MATCH_STATUS
    )
    assert names(info(symbol="BCCBTC", symbol_status="BREAK")) == ["BCCBTC"]


def test_unknown_symbol_status_is_invalid() -> None:
    """A symbolStatus that is not a status is -1122."""
    assert engine_error(symbol_status="PRE_TRADING") is errorcodes.INVALID_SYMBOLSTATUS


def test_permissions_select_symbols() -> None:
    """permissions keeps symbols having any of them; SPOT/MARGIN/LEVERAGED by default."""
    margin = names(info(permissions=["MARGIN"]))
    assert "BTCUSDT" in margin
    assert "NEOBTC" not in margin  # SPOT only
    assert names(info(permissions=["SPOT"])) == [s.symbol for s in DEFAULT_SYMBOLS]
    assert names(info(permissions=["TRD_GRP_004"])) == []


def test_show_permission_sets_false_empties_them() -> None:
    """showPermissionSets=false sends empty permissionSets, still schema-valid."""
    response = info(show_permission_sets=False)
    assert all(s["permissionSets"] == [] for s in response["symbols"])
    validate_response("GET", "/api/v3/exchangeInfo", response)


def test_custom_market_set() -> None:
    """A user-defined market set and exchange filters are described as given."""
    sol = SymbolSpec(
        "SOLUSDT",
        "SOL",
        "USDT",
        tick_size="0.01",  # type: ignore[arg-type]
        step_size="0.001",  # type: ignore[arg-type]
        min_qty="0.001",  # type: ignore[arg-type]
        min_notional="5",  # type: ignore[arg-type]
        listed_ms=1597125600000,
        listing_price="2.85",  # type: ignore[arg-type]
        present_price="180",  # type: ignore[arg-type]
    )
    response = info(markets=[sol], exchange_filters=[])
    validate_response("GET", "/api/v3/exchangeInfo", response)
    assert names(response) == ["SOLUSDT"]
    assert response["exchangeFilters"] == []
