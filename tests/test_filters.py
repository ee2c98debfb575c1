"""binance.filters against Binance's documented filter rules (filters.md, NOTES.md section 6).

Filter values are the ``/exchangeInfo format`` examples of filters.md unless a case says
otherwise; each case states the order and which filter (if any) must reject it.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest

from binance import errorcodes
from binance.filters import FilterFailure, SymbolRules, to_decimal

# filters.md's documented example of each filter.
PRICE_FILTER = {
    "filterType": "PRICE_FILTER",
    "minPrice": "0.00000100",
    "maxPrice": "100000.00000000",
    "tickSize": "0.00000100",
}
PERCENT_PRICE = {
    "filterType": "PERCENT_PRICE",
    "multiplierUp": "1.3000",
    "multiplierDown": "0.7000",
    "avgPriceMins": 5,
}
PERCENT_PRICE_BY_SIDE = {
    "filterType": "PERCENT_PRICE_BY_SIDE",
    "bidMultiplierUp": "1.2",
    "bidMultiplierDown": "0.2",
    "askMultiplierUp": "5",
    "askMultiplierDown": "0.8",
    "avgPriceMins": 1,
}
LOT_SIZE = {
    "filterType": "LOT_SIZE",
    "minQty": "0.00100000",
    "maxQty": "100000.00000000",
    "stepSize": "0.00100000",
}
MIN_NOTIONAL = {
    "filterType": "MIN_NOTIONAL",
    "minNotional": "0.00100000",
    "applyToMarket": True,
    "avgPriceMins": 5,
}
NOTIONAL = {
    "filterType": "NOTIONAL",
    "minNotional": "10.00000000",
    "applyMinToMarket": False,
    "maxNotional": "10000.00000000",
    "applyMaxToMarket": False,
    "avgPriceMins": 5,
}
ICEBERG_PARTS = {"filterType": "ICEBERG_PARTS", "limit": 10}
MARKET_LOT_SIZE = {
    "filterType": "MARKET_LOT_SIZE",
    "minQty": "0.00100000",
    "maxQty": "100000.00000000",
    "stepSize": "0.00100000",
}
MAX_NUM_ORDERS = {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 25}
MAX_NUM_ALGO_ORDERS = {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5}
MAX_NUM_ICEBERG_ORDERS = {"filterType": "MAX_NUM_ICEBERG_ORDERS", "maxNumIcebergOrders": 5}
MAX_POSITION = {"filterType": "MAX_POSITION", "maxPosition": "10.00000000"}
TRAILING_DELTA = {
    "filterType": "TRAILING_DELTA",
    "minTrailingAboveDelta": 10,
    "maxTrailingAboveDelta": 2000,
    "minTrailingBelowDelta": 10,
    "maxTrailingBelowDelta": 2000,
}
MAX_NUM_ORDER_LISTS = {"filterType": "MAX_NUM_ORDER_LISTS", "maxNumOrderLists": 20}
MAX_NUM_ORDER_AMENDS = {"filterType": "MAX_NUM_ORDER_AMENDS", "maxNumOrderAmends": 10}
EXCHANGE_FILTERS = [
    {"filterType": "EXCHANGE_MAX_NUM_ORDERS", "maxNumOrders": 1000},
    {"filterType": "EXCHANGE_MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 200},
    {"filterType": "EXCHANGE_MAX_NUM_ICEBERG_ORDERS", "maxNumIcebergOrders": 10000},
    {"filterType": "EXCHANGE_MAX_NUM_ORDER_LISTS", "maxNumOrderLists": 20},
]


def rules(*filters: dict, exchange_filters: list | None = None, **info: object) -> SymbolRules:
    """SymbolRules for a symbol with exactly ``filters``."""
    symbol = {"symbol": "ETHBTC", "baseAsset": "ETH", "quoteAsset": "BTC", **info}
    return SymbolRules.from_symbol_info(
        {**symbol, "filters": list(filters)}, exchange_filters or ()
    )


def failure(rules_: SymbolRules, *args: object, **kwargs: object) -> str | None:
    """The filter type that rejects the order, or None if it passes."""
    try:
        rules_.check_order(*args, **kwargs)  # type: ignore[arg-type]
    except FilterFailure as exc:
        return exc.filter_type
    return None


# -- (rules, check_order args, kwargs, expected failing filter or None) ---------------------------
CASES = [
    # PRICE_FILTER: min, max, tick; price and stopPrice alike.
    ("price-at-min", [PRICE_FILTER], ("BUY", "LIMIT"), {"price": "0.000001"}, None),
    ("price-below-min", [PRICE_FILTER], ("BUY", "LIMIT"), {"price": "0.0000009"}, "PRICE_FILTER"),
    ("price-at-max", [PRICE_FILTER], ("BUY", "LIMIT"), {"price": "100000"}, None),
    (
        "price-above-max",
        [PRICE_FILTER],
        ("BUY", "LIMIT"),
        {"price": "100000.000001"},
        "PRICE_FILTER",
    ),
    ("price-off-tick", [PRICE_FILTER], ("BUY", "LIMIT"), {"price": "0.0000015"}, "PRICE_FILTER"),
    ("price-exact-multiple", [PRICE_FILTER], ("SELL", "LIMIT"), {"price": "1.234567"}, None),
    (
        "stop-price-off-tick",
        [PRICE_FILTER],
        ("SELL", "STOP_LOSS"),
        {"quantity": "1", "stop_price": "0.0000015"},
        "PRICE_FILTER",
    ),
    (
        # 2022 rule: price % tickSize == 0 with no minPrice offset; 0.02 passes although
        # (0.02 - 0.015) % 0.01 != 0 under the 2018 rule.
        "tick-rule-has-no-min-offset",
        [{"filterType": "PRICE_FILTER", "minPrice": "0.015", "maxPrice": "0", "tickSize": "0.01"}],
        ("BUY", "LIMIT"),
        {"price": "0.02"},
        None,
    ),
    (
        "price-filter-all-disabled",
        [{"filterType": "PRICE_FILTER", "minPrice": "0", "maxPrice": "0", "tickSize": "0"}],
        ("BUY", "LIMIT"),
        {"price": "123456789.123456789"},
        None,
    ),
    # LOT_SIZE: quantity and icebergQty.
    ("qty-at-min", [LOT_SIZE], ("BUY", "LIMIT"), {"quantity": "0.001"}, None),
    ("qty-below-min", [LOT_SIZE], ("BUY", "LIMIT"), {"quantity": "0.0009"}, "LOT_SIZE"),
    ("qty-at-max", [LOT_SIZE], ("BUY", "LIMIT"), {"quantity": "100000"}, None),
    ("qty-above-max", [LOT_SIZE], ("BUY", "LIMIT"), {"quantity": "100000.001"}, "LOT_SIZE"),
    ("qty-off-step", [LOT_SIZE], ("BUY", "LIMIT"), {"quantity": "0.0015"}, "LOT_SIZE"),
    ("qty-zero", [LOT_SIZE], ("BUY", "LIMIT"), {"quantity": "0"}, "LOT_SIZE"),
    ("lot-size-also-for-market", [LOT_SIZE], ("BUY", "MARKET"), {"quantity": "0.0015"}, "LOT_SIZE"),
    (
        "iceberg-qty-off-step",
        [LOT_SIZE],
        ("BUY", "LIMIT"),
        {"quantity": "1", "iceberg_qty": "0.0005"},
        "LOT_SIZE",
    ),
    (
        # 2023 rule: qty % stepSize == 0, no minQty offset.
        "step-rule-has-no-min-offset",
        [{"filterType": "LOT_SIZE", "minQty": "0.0015", "maxQty": "10", "stepSize": "0.001"}],
        ("BUY", "LIMIT"),
        {"quantity": "0.002"},
        None,
    ),
    (
        "tiny-step-multiple",
        [{"filterType": "LOT_SIZE", "minQty": "0.00000001", "maxQty": "9e9", "stepSize": "1e-8"}],
        ("SELL", "LIMIT"),
        {"quantity": "1.23456789"},
        None,
    ),
    (
        "tiny-step-off",
        [{"filterType": "LOT_SIZE", "minQty": "0.00000001", "maxQty": "9e9", "stepSize": "1e-8"}],
        ("SELL", "LIMIT"),
        {"quantity": "0.000000015"},
        "LOT_SIZE",
    ),
    (
        "quote-qty-market-skips-lot-size",
        [LOT_SIZE, MARKET_LOT_SIZE],
        ("BUY", "MARKET"),
        {"quote_order_qty": "0.0001234"},
        None,
    ),
    # MARKET_LOT_SIZE: market quantities only; live 0 fields are disabled.
    (
        "market-qty-above-max",
        [MARKET_LOT_SIZE],
        ("SELL", "MARKET"),
        {"quantity": "100001"},
        "MARKET_LOT_SIZE",
    ),
    (
        "limit-ignores-market-lot",
        [MARKET_LOT_SIZE],
        ("SELL", "LIMIT"),
        {"quantity": "100001"},
        None,
    ),
    (
        "market-lot-zero-fields-disabled",
        [
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": "0.00000000",
                "maxQty": "93.77384734",
                "stepSize": "0.00000000",
            }
        ],
        ("SELL", "MARKET"),
        {"quantity": "93.77384734"},
        None,
    ),
    (
        "market-lot-live-max",
        [
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": "0.00000000",
                "maxQty": "93.77384734",
                "stepSize": "0.00000000",
            }
        ],
        ("SELL", "MARKET"),
        {"quantity": "93.77384735"},
        "MARKET_LOT_SIZE",
    ),
    # NOTIONAL: min and max, market flags, reference price.
    (
        "notional-below-min",
        [NOTIONAL],
        ("BUY", "LIMIT"),
        {"quantity": "1", "price": "9.99"},
        "NOTIONAL",
    ),
    ("notional-at-min", [NOTIONAL], ("BUY", "LIMIT"), {"quantity": "2", "price": "5"}, None),
    ("notional-at-max", [NOTIONAL], ("BUY", "LIMIT"), {"quantity": "100", "price": "100"}, None),
    (
        "notional-above-max",
        [NOTIONAL],
        ("BUY", "LIMIT"),
        {"quantity": "100", "price": "100.01"},
        "NOTIONAL",
    ),
    (
        "market-notional-flags-off",
        [NOTIONAL],
        ("BUY", "MARKET"),
        {"quantity": "0.001", "reference_price": "1"},
        None,
    ),
    (
        "market-notional-min-applied",
        [{**NOTIONAL, "applyMinToMarket": True}],
        ("BUY", "MARKET"),
        {"quantity": "1", "reference_price": "9.99"},
        "NOTIONAL",
    ),
    (
        "market-notional-max-applied",
        [{**NOTIONAL, "applyMaxToMarket": True}],
        ("SELL", "MARKET"),
        {"quantity": "1001", "reference_price": "10"},
        "NOTIONAL",
    ),
    (
        "market-notional-unknown-reference-skipped",
        [{**NOTIONAL, "applyMinToMarket": True}],
        ("BUY", "MARKET"),
        {"quantity": "0.001"},
        None,
    ),
    (
        "quote-qty-market-notional-is-the-quote-qty",
        [{**NOTIONAL, "applyMinToMarket": True}],
        ("BUY", "MARKET"),
        {"quote_order_qty": "9.99999999"},
        "NOTIONAL",
    ),
    (
        "stop-loss-notional-uses-stop-price",
        [{**NOTIONAL, "applyMinToMarket": True}],
        ("SELL", "STOP_LOSS"),
        {"quantity": "1", "stop_price": "9", "reference_price": "20"},
        "NOTIONAL",
    ),
    (
        "max-notional-zero-disabled",
        [{**NOTIONAL, "maxNotional": "0"}],
        ("BUY", "LIMIT"),
        {"quantity": "1000000", "price": "1000000"},
        None,
    ),
    # MIN_NOTIONAL (legacy).
    (
        "min-notional-below",
        [MIN_NOTIONAL],
        ("BUY", "LIMIT"),
        {"quantity": "1", "price": "0.0009"},
        "MIN_NOTIONAL",
    ),
    (
        "min-notional-exact",
        [MIN_NOTIONAL],
        ("BUY", "LIMIT"),
        {"quantity": "1", "price": "0.001"},
        None,
    ),
    (
        "min-notional-market-uses-reference",
        [MIN_NOTIONAL],
        ("SELL", "MARKET"),
        {"quantity": "1", "reference_price": "0.0005"},
        "MIN_NOTIONAL",
    ),
    (
        "min-notional-market-not-applied",
        [{**MIN_NOTIONAL, "applyToMarket": False}],
        ("SELL", "MARKET"),
        {"quantity": "1", "reference_price": "0.0005"},
        None,
    ),
    # PERCENT_PRICE around the reference price.
    (
        "pp-at-up",
        [PERCENT_PRICE],
        ("BUY", "LIMIT"),
        {"price": "130", "reference_price": "100"},
        None,
    ),
    (
        "pp-above-up",
        [PERCENT_PRICE],
        ("BUY", "LIMIT"),
        {"price": "130.01", "reference_price": "100"},
        "PERCENT_PRICE",
    ),
    (
        "pp-at-down",
        [PERCENT_PRICE],
        ("SELL", "LIMIT"),
        {"price": "70", "reference_price": "100"},
        None,
    ),
    (
        "pp-below-down",
        [PERCENT_PRICE],
        ("SELL", "LIMIT"),
        {"price": "69.99", "reference_price": "100"},
        "PERCENT_PRICE",
    ),
    ("pp-no-reference-skipped", [PERCENT_PRICE], ("SELL", "LIMIT"), {"price": "1"}, None),
    # PERCENT_PRICE_BY_SIDE: bid range for BUY, ask range for SELL.
    (
        "ppbs-buy-at-up",
        [PERCENT_PRICE_BY_SIDE],
        ("BUY", "LIMIT"),
        {"price": "120", "reference_price": "100"},
        None,
    ),
    (
        "ppbs-buy-above",
        [PERCENT_PRICE_BY_SIDE],
        ("BUY", "LIMIT"),
        {"price": "120.01", "reference_price": "100"},
        "PERCENT_PRICE_BY_SIDE",
    ),
    (
        "ppbs-buy-at-down",
        [PERCENT_PRICE_BY_SIDE],
        ("BUY", "LIMIT"),
        {"price": "20", "reference_price": "100"},
        None,
    ),
    (
        "ppbs-buy-below",
        [PERCENT_PRICE_BY_SIDE],
        ("BUY", "LIMIT"),
        {"price": "19.99", "reference_price": "100"},
        "PERCENT_PRICE_BY_SIDE",
    ),
    (
        "ppbs-sell-at-up",
        [PERCENT_PRICE_BY_SIDE],
        ("SELL", "LIMIT"),
        {"price": "500", "reference_price": "100"},
        None,
    ),
    (
        "ppbs-sell-above",
        [PERCENT_PRICE_BY_SIDE],
        ("SELL", "LIMIT"),
        {"price": "500.01", "reference_price": "100"},
        "PERCENT_PRICE_BY_SIDE",
    ),
    (
        "ppbs-sell-below",
        [PERCENT_PRICE_BY_SIDE],
        ("SELL", "LIMIT"),
        {"price": "79.99", "reference_price": "100"},
        "PERCENT_PRICE_BY_SIDE",
    ),
    (
        "ppbs-sell-at-down",
        [PERCENT_PRICE_BY_SIDE],
        ("SELL", "LIMIT"),
        {"price": "80", "reference_price": "100"},
        None,
    ),
    (
        "ppbs-market-has-no-price",
        [PERCENT_PRICE_BY_SIDE],
        ("SELL", "MARKET"),
        {"quantity": "1", "reference_price": "100"},
        None,
    ),
    # ICEBERG_PARTS: CEIL(qty / icebergQty) <= limit.
    (
        "iceberg-10-parts",
        [ICEBERG_PARTS],
        ("BUY", "LIMIT"),
        {"quantity": "1", "iceberg_qty": "0.1"},
        None,
    ),
    (
        "iceberg-11-parts",
        [ICEBERG_PARTS],
        ("BUY", "LIMIT"),
        {"quantity": "1", "iceberg_qty": "0.099"},
        "ICEBERG_PARTS",
    ),
    (
        "iceberg-ceil",
        [ICEBERG_PARTS],
        ("BUY", "LIMIT"),
        {"quantity": "1.001", "iceberg_qty": "0.1"},
        "ICEBERG_PARTS",
    ),
    # Count filters.
    ("orders-below-limit", [MAX_NUM_ORDERS], ("BUY", "LIMIT"), {"open_orders": 24}, None),
    ("orders-at-limit", [MAX_NUM_ORDERS], ("BUY", "LIMIT"), {"open_orders": 25}, "MAX_NUM_ORDERS"),
    (
        "order-list-adds-two",
        [MAX_NUM_ORDERS],
        ("BUY", "LIMIT"),
        {"open_orders": 24, "new_orders": 2},
        "MAX_NUM_ORDERS",
    ),
    (
        "algo-at-limit",
        [MAX_NUM_ALGO_ORDERS],
        ("BUY", "STOP_LOSS_LIMIT"),
        {"open_algo_orders": 5},
        "MAX_NUM_ALGO_ORDERS",
    ),
    (
        "algo-limit-ignores-limit-orders",
        [MAX_NUM_ALGO_ORDERS],
        ("BUY", "LIMIT"),
        {"open_algo_orders": 5},
        None,
    ),
    (
        "iceberg-count-at-limit",
        [MAX_NUM_ICEBERG_ORDERS],
        ("BUY", "LIMIT"),
        {"quantity": "1", "iceberg_qty": "0.5", "open_iceberg_orders": 5},
        "MAX_NUM_ICEBERG_ORDERS",
    ),
    (
        "iceberg-count-ignores-plain",
        [MAX_NUM_ICEBERG_ORDERS],
        ("BUY", "LIMIT"),
        {"quantity": "1", "open_iceberg_orders": 5},
        None,
    ),
    # MAX_POSITION: BUY only; position includes open BUY orders (computed by the caller).
    (
        "position-reaches-max",
        [MAX_POSITION],
        ("BUY", "LIMIT"),
        {"quantity": "1", "position": "9"},
        None,
    ),
    (
        "position-overflows",
        [MAX_POSITION],
        ("BUY", "LIMIT"),
        {"quantity": "1", "position": "9.001"},
        "MAX_POSITION",
    ),
    (
        "position-sell-ignored",
        [MAX_POSITION],
        ("SELL", "LIMIT"),
        {"quantity": "5", "position": "20"},
        None,
    ),
    ("position-unknown-skipped", [MAX_POSITION], ("BUY", "LIMIT"), {"quantity": "50"}, None),
    # TRAILING_DELTA bounds (BIPS).
    ("trailing-at-min", [TRAILING_DELTA], ("BUY", "STOP_LOSS"), {"trailing_delta": 10}, None),
    (
        "trailing-below-min",
        [TRAILING_DELTA],
        ("BUY", "STOP_LOSS"),
        {"trailing_delta": 9},
        "TRAILING_DELTA",
    ),
    (
        "trailing-above-max",
        [TRAILING_DELTA],
        ("SELL", "TAKE_PROFIT_LIMIT"),
        {"trailing_delta": 2001},
        "TRAILING_DELTA",
    ),
    (
        "trailing-at-max",
        [TRAILING_DELTA],
        ("SELL", "STOP_LOSS_LIMIT"),
        {"trailing_delta": 2000},
        None,
    ),
    # Filters that never reject a new order here.
    (
        "amends-and-lists-not-order-filters",
        [MAX_NUM_ORDER_AMENDS, MAX_NUM_ORDER_LISTS],
        ("BUY", "LIMIT"),
        {"open_orders": 10**6},
        None,
    ),
    (
        "unknown-filter-ignored",
        [{"filterType": "SOMETHING_NEW", "x": "1"}],
        ("BUY", "LIMIT"),
        {"price": "1"},
        None,
    ),
]


@pytest.mark.parametrize(
    ("filters", "args", "kwargs", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_documented_rule(filters: list, args: tuple, kwargs: dict, expected: str | None) -> None:
    """Each documented case passes or fails with exactly the expected filter."""
    assert failure(rules(*filters), *args, **kwargs) == expected


def test_the_first_failing_filter_in_listed_order_is_reported() -> None:
    """An order breaking several filters reports the one the symbol lists first."""
    order = {"quantity": "0.0015", "price": "0.0000015"}  # off tick and off step
    assert failure(rules(PRICE_FILTER, LOT_SIZE), "BUY", "LIMIT", **order) == "PRICE_FILTER"
    assert failure(rules(LOT_SIZE, PRICE_FILTER), "BUY", "LIMIT", **order) == "LOT_SIZE"


def test_exchange_filters_apply_after_symbol_filters() -> None:
    """EXCHANGE_MAX_NUM_* count the whole account, after the symbol's own filters."""
    r = rules(MAX_NUM_ORDERS, LOT_SIZE, exchange_filters=EXCHANGE_FILTERS)
    assert failure(r, "BUY", "LIMIT", quantity="1", account_open_orders=999) is None
    assert failure(r, "BUY", "LIMIT", quantity="1", account_open_orders=1000) == (
        "EXCHANGE_MAX_NUM_ORDERS"
    )
    assert failure(r, "BUY", "LIMIT", quantity="1.0001", account_open_orders=1000) == "LOT_SIZE"
    assert failure(r, "BUY", "STOP_LOSS", quantity="1", account_open_algo_orders=200) == (
        "EXCHANGE_MAX_NUM_ALGO_ORDERS"
    )
    assert failure(
        r, "BUY", "LIMIT", quantity="1", iceberg_qty="0.5", account_open_iceberg_orders=10000
    ) == ("EXCHANGE_MAX_NUM_ICEBERG_ORDERS")


def test_order_list_counts() -> None:
    """A new order list needs room under MAX_NUM_ORDER_LISTS and its exchange twin."""
    r = rules(MAX_NUM_ORDER_LISTS, exchange_filters=EXCHANGE_FILTERS)
    r.check_order_lists(open_order_lists=19, account_open_order_lists=19)
    with pytest.raises(FilterFailure) as exc:
        r.check_order_lists(open_order_lists=20)
    assert exc.value.filter_type == "MAX_NUM_ORDER_LISTS"
    with pytest.raises(FilterFailure) as exc:
        r.check_order_lists(account_open_order_lists=20)
    assert exc.value.filter_type == "EXCHANGE_MAX_NUM_ORDER_LISTS"
    assert r.max_order_amends() is None
    assert rules(MAX_NUM_ORDER_AMENDS).max_order_amends() == 10


def test_failure_carries_binance_text_and_a_detail() -> None:
    """The message is Binance's -1013 text exactly; the detail explains the allowed range."""
    with pytest.raises(FilterFailure) as exc:
        rules(LOT_SIZE).check_order("BUY", "LIMIT", quantity="0.0015")
    failure_ = exc.value
    assert failure_.filter_type == "LOT_SIZE"
    assert failure_.message == "Filter failure: LOT_SIZE"
    assert failure_.error is errorcodes.INVALID_MESSAGE
    assert failure_.error.payload(failure_.message) == {
        "code": -1013,
        "msg": "Filter failure: LOT_SIZE",
    }
    assert failure_.detail == (
        "quantity 0.0015 is not a multiple of stepSize 0.001 (nearest below: 0.001)"
    )
    assert str(failure_) == f"Filter failure: LOT_SIZE ({failure_.detail})"


def test_detail_names_the_range_for_price_percent() -> None:
    """A percent-price failure says the bound and the reference price it came from."""
    with pytest.raises(FilterFailure) as exc:
        rules(PERCENT_PRICE_BY_SIDE).check_order("BUY", "LIMIT", price="121", reference_price="100")
    assert exc.value.detail == "price 121 is above 120 (1.2 x reference price 100)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.1"), Decimal("0.1")),
        ("0.10000000", Decimal("0.1")),
        (0.1, Decimal("0.1")),  # through str(): no binary artefact
        (1.1 + 2.2, Decimal("3.3000000000000003")),  # the float's shortest repr, exactly
        (3, Decimal(3)),
        (" 5 ", Decimal(5)),
    ],
)
def test_numbers_are_read_without_float_arithmetic(value: object, expected: Decimal) -> None:
    """Decimal, str, int and float inputs become the Decimal a person would write."""
    assert to_decimal(value) == expected  # type: ignore[arg-type]


def test_float_inputs_pass_on_exact_multiples() -> None:
    """0.1 + 0.2 style floats don't break the step rule when their repr is a multiple."""
    r = rules(LOT_SIZE, PRICE_FILTER)
    r.check_order("BUY", "LIMIT", quantity=0.3, price=0.000003)
    assert failure(r, "BUY", "LIMIT", quantity=0.1 + 0.2) == "LOT_SIZE"  # 0.30000000000000004


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (True, TypeError),
        ([1], TypeError),
        ("abc", ValueError),
        ("NaN", ValueError),
        (float("inf"), ValueError),
        ("", ValueError),
    ],
)
def test_bad_numbers_are_refused(value: object, error: type[Exception]) -> None:
    """Non-numbers raise TypeError/ValueError, never a filter failure."""
    with pytest.raises(error):
        rules(LOT_SIZE).check_order("BUY", "LIMIT", quantity=value)  # type: ignore[arg-type]


def test_checks_ignore_the_callers_decimal_context() -> None:
    """A caller's low-precision decimal context changes nothing."""
    r = rules(PRICE_FILTER, LOT_SIZE, NOTIONAL)
    with localcontext() as ctx:
        ctx.prec = 3
        r.check_order("BUY", "LIMIT", quantity="99.999", price="99.999999")
        assert r.round_price("12345.6789999") == Decimal("12345.678999")


def test_round_price_and_quantity_round_down() -> None:
    """Rounding goes down to the tick and step, keeping exact multiples unchanged."""
    r = rules(PRICE_FILTER, LOT_SIZE)
    assert r.round_price("0.0123456789") == Decimal("0.012345")
    assert str(r.round_price("0.0123456789")) == "0.012345"
    assert r.round_price("1.000001") == Decimal("1.000001")
    assert r.round_price(Decimal("0.0000005")) == Decimal("0")
    assert r.round_quantity("1.23456") == Decimal("1.234")
    assert r.round_quantity(2) == Decimal("2")
    assert str(r.round_quantity("2")) == "2.000"
    assert r.round_quantity(0.0019) == Decimal("0.001")


def test_round_quantity_for_market_orders_uses_market_step() -> None:
    """``market=True`` uses MARKET_LOT_SIZE's step, or LOT_SIZE's when that is disabled (0)."""
    market = {**MARKET_LOT_SIZE, "stepSize": "0.1"}
    assert rules(LOT_SIZE, market).round_quantity("1.2345", market=True) == Decimal("1.2")
    assert rules(LOT_SIZE, market).round_quantity("1.2345") == Decimal("1.234")
    disabled = {**MARKET_LOT_SIZE, "minQty": "0", "stepSize": "0"}
    assert rules(LOT_SIZE, disabled).round_quantity("1.2345", market=True) == Decimal("1.234")


def test_rounding_without_rules_returns_the_value() -> None:
    """No tick or step rule: rounding leaves the number as given (as Decimal)."""
    r = rules()
    assert r.round_price(0.1) == Decimal("0.1")
    assert r.round_quantity("7.77") == Decimal("7.77")


def test_steps_larger_than_one() -> None:
    """A step of 10 rounds to tens and checks multiples of ten."""
    r = rules({"filterType": "LOT_SIZE", "minQty": "10", "maxQty": "0", "stepSize": "10"})
    assert r.round_quantity("129") == Decimal("120")
    assert str(r.round_quantity("129")) == "120"
    assert failure(r, "SELL", "LIMIT", quantity="125") == "LOT_SIZE"
    assert failure(r, "SELL", "LIMIT", quantity="10000000") is None  # maxQty 0: no maximum


def test_properties_read_the_filters() -> None:
    """The convenience properties expose the parsed filter values."""
    r = rules(
        PRICE_FILTER,
        LOT_SIZE,
        NOTIONAL,
        baseAssetPrecision=8,
        quoteAssetPrecision=6,
        status="BREAK",
    )
    assert r.symbol == "ETHBTC"
    assert (r.base_asset, r.quote_asset, r.status) == ("ETH", "BTC", "BREAK")
    assert r.tick_size == Decimal("0.000001")
    assert (r.min_price, r.max_price) == (Decimal("0.000001"), Decimal("100000"))
    assert r.step_size == Decimal("0.001")
    assert (r.min_qty, r.max_qty) == (Decimal("0.001"), Decimal("100000"))
    assert (r.min_notional, r.max_notional) == (Decimal("10"), Decimal("10000"))
    assert (r.base_asset_precision, r.quote_asset_precision) == (8, 6)
    assert r.avg_price_mins == 5
    assert r.filter_types == ("PRICE_FILTER", "LOT_SIZE", "NOTIONAL")
    assert "ETHBTC" in repr(r)


def test_legacy_min_notional_feeds_min_notional_property() -> None:
    """A symbol with only MIN_NOTIONAL reports it as min_notional; none at all reads 0."""
    assert rules(MIN_NOTIONAL).min_notional == Decimal("0.001")
    empty = rules()
    assert (empty.min_notional, empty.tick_size, empty.step_size) == (0, 0, 0)
    assert empty.avg_price_mins is None


def test_docs_example_symbol_parses_and_checks() -> None:
    """The exchangeInfo example symbol (all documented filters) accepts a sane order."""
    r = rules(
        PRICE_FILTER,
        PERCENT_PRICE_BY_SIDE,
        LOT_SIZE,
        NOTIONAL,
        ICEBERG_PARTS,
        MARKET_LOT_SIZE,
        TRAILING_DELTA,
        MAX_NUM_ORDERS,
        MAX_NUM_ALGO_ORDERS,
        MAX_NUM_ICEBERG_ORDERS,
        MAX_POSITION,
        MAX_NUM_ORDER_AMENDS,
        MAX_NUM_ORDER_LISTS,
        exchange_filters=EXCHANGE_FILTERS,
    )
    r.check_order(
        "BUY",
        "LIMIT",
        quantity="2",
        price="50",
        iceberg_qty="0.5",
        reference_price="55",
        open_orders=3,
        position="1",
    )
    assert (
        failure(r, "BUY", "LIMIT", quantity="2", price="50", reference_price="55", position="9")
        == "MAX_POSITION"
    )
