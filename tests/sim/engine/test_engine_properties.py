"""Property tests: random order streams keep every invariant of the engine.

Three accounts send random orders of every type, time in force and STP mode around one price,
and cancel at random. After every step: each asset is conserved (commissions included), locked
balances equal what open orders hold, the book is never crossed, fills happen at the maker's
price, and no IOC/FOK/MARKET order ever rests.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine_support import Clock, check_consistent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binance.sim.engine import EngineError
from binance.sim.engine.events import OrderEvent, TradeEvent
from binance.sim.engine.exchange import Exchange, ExchangeConfig, OrderRequest

D = Decimal
SYMBOL = "ETHUSDT"  # tick 0.01, step 0.0001, min notional 5; starts at 3500
ACCOUNTS = ("a", "b", "c")

prices = st.integers(min_value=-20, max_value=20).map(lambda k: D("3500.00") + D("0.50") * k)
quantities = st.integers(min_value=15, max_value=400).map(lambda n: D(n) / D(100))
stp_modes = st.sampled_from(
    [None, "NONE", "EXPIRE_MAKER", "EXPIRE_TAKER", "EXPIRE_BOTH", "DECREMENT", "TRANSFER"]
)
sides = st.sampled_from(["BUY", "SELL"])


@st.composite
def order_requests(draw: Any) -> OrderRequest:
    kind = draw(
        st.sampled_from(
            ["LIMIT", "LIMIT", "LIMIT", "MARKET", "MARKET_QUOTE", "LIMIT_MAKER", "STOP", "ICE"]
        )
    )
    side = draw(sides)
    stp = draw(stp_modes)
    qty = draw(quantities)
    common: dict[str, Any] = {"symbol": SYMBOL, "side": side, "self_trade_prevention_mode": stp}
    if kind == "LIMIT":
        tif = draw(st.sampled_from(["GTC", "GTC", "IOC", "FOK"]))
        return OrderRequest(
            type="LIMIT", time_in_force=tif, price=draw(prices), quantity=qty, **common
        )
    if kind == "ICE":
        return OrderRequest(
            type="LIMIT",
            time_in_force="GTC",
            price=draw(prices),
            quantity=qty,
            iceberg_qty=(qty / 4).quantize(D("0.0001")),
            **common,
        )
    if kind == "MARKET":
        return OrderRequest(type="MARKET", quantity=qty, **common)
    if kind == "MARKET_QUOTE":
        return OrderRequest(type="MARKET", quote_order_qty=qty * 1000, **common)
    if kind == "LIMIT_MAKER":
        return OrderRequest(type="LIMIT_MAKER", price=draw(prices), quantity=qty, **common)
    stop_type = draw(
        st.sampled_from(["STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"])
    )
    limit = stop_type.endswith("_LIMIT")
    return OrderRequest(
        type=stop_type,
        time_in_force="GTC" if limit else None,
        price=draw(prices) if limit else None,
        stop_price=draw(prices),
        quantity=qty,
        **common,
    )


steps = st.lists(
    st.one_of(
        st.tuples(st.just("place"), st.sampled_from(ACCOUNTS), order_requests()),
        st.tuples(st.just("cancel"), st.sampled_from(ACCOUNTS), st.integers(0, 50)),
    ),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=steps)
def test_random_order_streams_keep_invariants(steps: list[tuple[str, str, Any]]) -> None:
    clock = Clock()
    ex = Exchange(seed=1, now_ms=clock, config=ExchangeConfig(background_market=False))
    for account in ACCOUNTS:
        ex.create_account(account, {"ETH": D("50"), "USDT": D("200000")})
    events: list[Any] = []
    ex.events.subscribe(events.append)
    for action, account, arg in steps:
        clock.advance(10)
        events.clear()
        if action == "place":
            try:
                result = ex.place_order(account, arg)
            except EngineError as exc:
                assert exc.code in (-2010, -1013), exc
                assert events == []
                continue
            order = result.order
            if arg.type == "MARKET" or arg.time_in_force in ("IOC", "FOK"):
                assert not order.is_open, f"{arg.type}/{arg.time_in_force} left resting"
            if arg.time_in_force == "FOK":
                assert order.status in ("FILLED", "EXPIRED", "EXPIRED_IN_MATCH")
                if order.status == "EXPIRED":
                    assert order.executed_qty in (0, order.orig_qty)
            if arg.type == "LIMIT_MAKER":
                assert not result.fills
            if order.executed_qty:
                assert sum(f.qty for f in result.fills) == order.executed_qty
        else:
            open_orders = ex.open_orders(account, SYMBOL)
            if open_orders:
                victim = open_orders[arg % len(open_orders)]
                ex.cancel_order(account, SYMBOL, order_id=victim.order_id)
        check_consistent(ex)
        # Fills at the maker's price; each trade has exactly one maker report when the maker
        # is a user (all are, here).
        trades = {e.trade_id: e for e in events if isinstance(e, TradeEvent)}
        for e in events:
            if isinstance(e, OrderEvent) and e.execution_type == "TRADE" and e.is_maker:
                assert e.last_price == e.order.price == trades[e.trade_id].price
        for e in events:
            if isinstance(e, OrderEvent) and e.execution_type == "TRADE":
                assert e.last_price in {t.price for t in trades.values()}
