"""Order types, time in force, fills, locking and commissions, in-process."""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_support import Clock, check_consistent, req

from binance.sim.engine import EngineError
from binance.sim.engine.events import OrderEvent
from binance.sim.engine.exchange import Exchange

D = Decimal


@pytest.fixture
def maker(ex: Exchange) -> str:
    return ex.create_account("maker")


@pytest.fixture
def user(ex: Exchange) -> str:
    return ex.create_account("user")


def test_limit_gtc_rests_locks_quote_and_shows_in_depth(ex: Exchange, user: str) -> None:
    """A resting BUY LIMIT locks price * qty of the quote asset and appears in depth."""
    free_before, _ = ex.balance(user, "USDT")
    result = ex.place_order(user, req("BUY", price="90000.00", quantity="0.5"))
    assert result.order.status == "NEW"
    assert result.resp_type == "FULL" and result.fills == []
    assert ex.balance(user, "USDT") == (free_before - D("45000.00"), D("45000.00"))
    snap = ex.depth("BTCUSDT")
    assert snap.bids == [(D("90000.00"), D("0.5"))] and snap.asks == []
    check_consistent(ex)


def test_cancel_unlocks_exactly(ex: Exchange, user: str) -> None:
    """Canceling returns every locked unit and the order reads CANCELED."""
    before = ex.balance(user, "BTC")
    placed = ex.place_order(user, req("SELL", price="99000.00", quantity="0.12345"))
    assert ex.balance(user, "BTC")[1] == D("0.12345")
    canceled = ex.cancel_order(user, "BTCUSDT", order_id=placed.order.order_id)
    assert canceled.status == "CANCELED"
    assert (
        canceled.cancel_client_order_id and canceled.client_order_id == placed.order.client_order_id
    )
    assert ex.balance(user, "BTC") == before
    assert ex.depth("BTCUSDT").asks == []
    check_consistent(ex)


def test_fill_at_maker_price_with_commission_from_received_asset(
    ex: Exchange, maker: str, user: str
) -> None:
    """A crossing BUY fills at the resting ask's price and pays commission in the base asset."""
    ex.place_order(maker, req("SELL", price="95000.00", quantity="0.2"))
    usdt0, btc0 = ex.balance(user, "USDT")[0], ex.balance(user, "BTC")[0]
    result = ex.place_order(user, req("BUY", price="96000.00", quantity="0.1"))
    assert result.order.status == "FILLED"
    [fill] = result.fills
    assert fill.price == D("95000.00") and fill.qty == D("0.1")
    assert fill.commission == D("0.0001") and fill.commission_asset == "BTC"
    # Price improvement: the excess locked at 96000 went back to free.
    assert ex.balance(user, "USDT") == (usdt0 - D("9500.000"), D(0))
    assert ex.balance(user, "BTC")[0] == btc0 + D("0.1") - D("0.0001")
    # The maker received quote minus its commission.
    assert ex.balance(maker, "USDT")[0] == D("1000000") + D("9500") - D("9.5")
    check_consistent(ex)


def test_price_time_priority(ex: Exchange, maker: str, user: str) -> None:
    """Better prices fill first; at one price the earlier order fills first."""
    other = ex.create_account("other")
    first = ex.place_order(maker, req("SELL", price="95000.00", quantity="0.1")).order
    second = ex.place_order(other, req("SELL", price="95000.00", quantity="0.1")).order
    better = ex.place_order(other, req("SELL", price="94990.00", quantity="0.1")).order
    result = ex.place_order(user, req("BUY", type="MARKET", quantity="0.15"))
    assert [(f.price, f.qty) for f in result.fills] == [
        (D("94990.00"), D("0.1")),
        (D("95000.00"), D("0.05")),
    ]
    assert ex.get_order("other", "BTCUSDT", better.order_id).status == "FILLED"
    assert ex.get_order("maker", "BTCUSDT", first.order_id).status == "PARTIALLY_FILLED"
    assert ex.get_order("other", "BTCUSDT", second.order_id).status == "NEW"
    check_consistent(ex)


def test_ioc_partial_fill_expires_rest(ex: Exchange, maker: str, user: str) -> None:
    """IOC fills what it can and expires the remainder, releasing its lock."""
    ex.place_order(maker, req("SELL", price="95000.00", quantity="0.1"))
    result = ex.place_order(user, req("BUY", price="95000.00", quantity="0.3", time_in_force="IOC"))
    assert result.order.status == "EXPIRED"
    assert result.order.executed_qty == D("0.1")
    assert ex.balance(user, "USDT")[1] == 0
    check_consistent(ex)


def test_fok_fills_completely_or_not_at_all(ex: Exchange, maker: str, user: str) -> None:
    """FOK expires without trading when the book cannot fill it whole."""
    ex.place_order(maker, req("SELL", price="95000.00", quantity="0.1"))
    ex.place_order(maker, req("SELL", price="95001.00", quantity="0.1"))
    short = ex.place_order(user, req("BUY", price="95001.00", quantity="0.3", time_in_force="FOK"))
    assert short.order.status == "EXPIRED" and short.fills == []
    assert ex.recent_trades("BTCUSDT") == []
    full = ex.place_order(user, req("BUY", price="95001.00", quantity="0.2", time_in_force="FOK"))
    assert full.order.status == "FILLED" and len(full.fills) == 2
    check_consistent(ex)


def test_market_by_quantity_sweeps_levels(ex: Exchange, maker: str, user: str) -> None:
    """A MARKET order walks the book and expires what liquidity cannot fill."""
    ex.place_order(maker, req("BUY", price="94000.00", quantity="0.1"))
    ex.place_order(maker, req("BUY", price="93000.00", quantity="0.1"))
    result = ex.place_order(user, req("SELL", type="MARKET", quantity="0.25"))
    assert [f.price for f in result.fills] == [D("94000.00"), D("93000.00")]
    assert result.order.status == "EXPIRED" and result.order.executed_qty == D("0.2")
    assert result.order.cummulative_quote_qty == D("18700.000")
    assert result.order.time_in_force == "GTC"
    check_consistent(ex)


def test_market_quote_order_qty_respects_step(ex: Exchange, maker: str, user: str) -> None:
    """quoteOrderQty buys whole steps only and ends FILLED when the rest buys no step."""
    ex.place_order(maker, req("SELL", price="30000.00", quantity="1"))
    result = ex.place_order(user, req("BUY", type="MARKET", quote_order_qty="100"))
    order = result.order
    # 100 / 30000 = 0.0033333.. -> 0.00333 (stepSize 0.00001)
    assert order.executed_qty == D("0.00333") and order.orig_qty == D("0.00333")
    assert order.cummulative_quote_qty == D("99.9000")
    assert order.status == "FILLED" and order.orig_quote_order_qty == D("100")
    assert ex.balance(user, "USDT")[1] == 0
    check_consistent(ex)


def test_market_quote_order_qty_without_liquidity_expires(
    ex: Exchange, maker: str, user: str
) -> None:
    """A quoteOrderQty order that runs out of book ends EXPIRED with what it bought."""
    ex.place_order(maker, req("BUY", price="30000.00", quantity="0.001"))
    result = ex.place_order(user, req("SELL", type="MARKET", quote_order_qty="100"))
    assert result.order.status == "EXPIRED"
    assert result.order.executed_qty == D("0.001")
    check_consistent(ex)


def test_market_buy_needs_quote_for_the_walk(ex: Exchange, maker: str) -> None:
    """A MARKET BUY whose walk costs more than the free quote is rejected."""
    poor = ex.create_account("poor", {"USDT": D("100")})
    ex.place_order(maker, req("SELL", price="95000.00", quantity="1"))
    with pytest.raises(EngineError) as info:
        ex.place_order(poor, req("BUY", type="MARKET", quantity="0.01"))
    assert info.value.code == -2010
    assert info.value.message == "Account has insufficient balance for requested action."
    check_consistent(ex)


def test_limit_maker_rejected_when_it_would_take(ex: Exchange, maker: str, user: str) -> None:
    """LIMIT_MAKER crossing the book is -2010; otherwise it rests."""
    ex.place_order(maker, req("SELL", price="95000.00", quantity="0.1"))
    with pytest.raises(EngineError) as info:
        ex.place_order(user, req("BUY", type="LIMIT_MAKER", price="95000.00", quantity="0.1"))
    assert (info.value.code, info.value.message) == (
        -2010,
        "Order would immediately match and take.",
    )
    ok = ex.place_order(user, req("BUY", type="LIMIT_MAKER", price="94999.99", quantity="0.1"))
    assert ok.order.status == "NEW" and ok.resp_type == "ACK"
    check_consistent(ex)


def test_stop_loss_sell_triggers_on_trade_price(ex: Exchange, maker: str, user: str) -> None:
    """STOP_LOSS SELL waits, then sells at market once a trade prints at or below its stop."""
    ex.place_order(maker, req("BUY", price="95000.00", quantity="0.1"))
    ex.place_order(maker, req("SELL", price="95100.00", quantity="1"))
    ex.place_order(user, req("SELL", type="MARKET", quantity="0.01"))  # prints 95000
    assert ex.last_price("BTCUSDT") == D("95000.00")
    stop = ex.place_order(
        user, req("SELL", type="STOP_LOSS", quantity="0.05", stop_price="94500.00")
    )
    assert stop.order.status == "NEW" and not stop.order.is_working
    assert stop.order.working_time == -1 and stop.resp_type == "ACK"
    ex.place_order(maker, req("BUY", price="94400.00", quantity="1"))
    # Sell through 95000 down to 94400: the trade at 94400 triggers the stop.
    seller = ex.create_account("seller")
    ex.place_order(seller, req("SELL", type="MARKET", quantity="0.19"))
    triggered = ex.get_order(user, "BTCUSDT", stop.order.order_id)
    assert triggered.status == "FILLED" and triggered.is_working
    assert triggered.executed_qty == D("0.05")
    check_consistent(ex)


def test_stop_that_would_trigger_immediately_is_rejected(
    ex: Exchange, maker: str, user: str
) -> None:
    """A stop already reached by the last price is -2010."""
    ex.place_order(maker, req("SELL", price="95000.00", quantity="1"))
    ex.place_order(user, req("BUY", type="MARKET", quantity="0.01"))
    for side, type_, stop in (
        ("BUY", "STOP_LOSS_LIMIT", "94000.00"),  # triggers when price >= stop: already true
        ("SELL", "STOP_LOSS_LIMIT", "96000.00"),
        ("BUY", "TAKE_PROFIT_LIMIT", "96000.00"),
        ("SELL", "TAKE_PROFIT_LIMIT", "94000.00"),
    ):
        with pytest.raises(EngineError) as info:
            ex.place_order(
                user, req(side, type=type_, quantity="0.01", price="95000.00", stop_price=stop)
            )
        assert info.value.message == "Order would trigger immediately."
    check_consistent(ex)


def test_take_profit_limit_buy_rests_after_trigger(ex: Exchange, maker: str, user: str) -> None:
    """TAKE_PROFIT_LIMIT BUY triggers when the price falls to its stop and rests as a limit."""
    ex.place_order(maker, req("SELL", price="95000.00", quantity="1"))
    ex.place_order(user, req("BUY", type="MARKET", quantity="0.01"))
    tp = ex.place_order(
        user,
        req(
            "BUY", type="TAKE_PROFIT_LIMIT", quantity="0.1", price="90000.00", stop_price="94000.00"
        ),
    )
    assert ex.balance(user, "USDT")[1] == D("9000.000")
    ex.place_order(maker, req("BUY", price="93900.00", quantity="0.01"))
    ex.place_order(ex.create_account(), req("SELL", type="MARKET", quantity="0.01"))  # 93900
    order = ex.get_order(user, "BTCUSDT", tp.order.order_id)
    assert order.status == "NEW" and order.is_working and order.on_book
    assert ex.depth("BTCUSDT").bids[0] == (D("90000.00"), D("0.1"))
    check_consistent(ex)


def test_iceberg_shows_only_visible_part_and_refills_at_back(
    ex: Exchange, maker: str, user: str
) -> None:
    """Depth shows an iceberg's slice; after a slice fills, the refill queues behind others."""
    ice = ex.place_order(
        maker, req("SELL", price="95000.00", quantity="1", iceberg_qty="0.1")
    ).order
    other = ex.create_account("other")
    plain = ex.place_order(other, req("SELL", price="95000.00", quantity="0.1")).order
    assert ex.depth("BTCUSDT").asks == [(D("95000.00"), D("0.2"))]
    first = ex.place_order(user, req("BUY", type="MARKET", quantity="0.1"))
    assert first.fills[0].qty == D("0.1")
    assert ex.get_order("maker", "BTCUSDT", ice.order_id).executed_qty == D("0.1")
    # The refilled slice went behind the plain order: the next buy hits the plain order.
    ex.place_order(user, req("BUY", type="MARKET", quantity="0.1"))
    assert ex.get_order("other", "BTCUSDT", plain.order_id).status == "FILLED"
    assert ex.depth("BTCUSDT").asks == [(D("95000.00"), D("0.1"))]
    # A large taker consumes the hidden quantity slice after slice.
    big = ex.place_order(user, req("BUY", type="MARKET", quantity="0.9"))
    assert sum(f.qty for f in big.fills) == D("0.9")
    assert ex.get_order("maker", "BTCUSDT", ice.order_id).status == "FILLED"
    check_consistent(ex)


def test_aggregate_trades_group_one_taker_per_price(ex: Exchange, maker: str, user: str) -> None:
    """Consecutive fills of one taker at one price form one aggregate trade."""
    ex.place_order(maker, req("SELL", price="95000.00", quantity="0.1"))
    ex.place_order(maker, req("SELL", price="95000.00", quantity="0.1"))
    ex.place_order(maker, req("SELL", price="95001.00", quantity="0.1"))
    ex.place_order(user, req("BUY", type="MARKET", quantity="0.3"))
    aggs = ex.agg_trades("BTCUSDT")
    trades = ex.recent_trades("BTCUSDT")
    t0 = trades[0].id  # live ids continue the kline history's trade count
    assert [t.id for t in trades] == [t0, t0 + 1, t0 + 2]
    assert [(a.price, a.qty, a.first_trade_id, a.last_trade_id) for a in aggs] == [
        (D("95000.00"), D("0.2"), t0, t0 + 1),
        (D("95001.00"), D("0.1"), t0 + 2, t0 + 2),
    ]
    assert aggs[1].id == aggs[0].id + 1 and not aggs[0].is_buyer_maker
    assert [t.agg_trade_id for t in trades] == [aggs[0].id, aggs[0].id, aggs[1].id]
    assert ex.historical_trades("BTCUSDT", from_id=t0 + 1, limit=1)[0].id == t0 + 1
    assert ex.agg_trades("BTCUSDT", from_id=aggs[1].id) == [aggs[1]]
    assert ex.agg_trades("BTCUSDT", start_time=aggs[0].time, end_time=aggs[0].time) == aggs


def test_execution_reports_in_order(ex: Exchange, maker: str, user: str) -> None:
    """A taker gets NEW then TRADE reports; the last says FILLED; balances follow."""
    seen: list[object] = []
    unsubscribe = ex.events.subscribe(seen.append)
    ex.place_order(maker, req("SELL", price="95000.00", quantity="0.1"))
    seen.clear()
    ex.place_order(user, req("BUY", type="MARKET", quantity="0.1"))
    unsubscribe()
    reports = [e for e in seen if isinstance(e, OrderEvent) and e.account_id == user]
    assert [(r.execution_type, r.order.status) for r in reports] == [
        ("NEW", "NEW"),
        ("TRADE", "FILLED"),
    ]
    kinds = [type(e).__name__ for e in seen]
    assert kinds.index("TradeEvent") < kinds.index("DepthEvent")
    assert kinds.count("BalanceEvent") == 2  # maker and user
    ex.place_order(user, req("SELL", price="99000.00", quantity="0.01"))
    assert len(seen) == len(kinds)  # unsubscribed


def test_open_all_orders_and_my_trades(ex: Exchange, clock: Clock, maker: str, user: str) -> None:
    """Order and trade queries select by id, time and limit."""
    ex.place_order(maker, req("SELL", price="95000.00", quantity="1"))
    ids = []
    for _ in range(3):
        clock.advance(1000)
        ids.append(ex.place_order(user, req("BUY", type="MARKET", quantity="0.01")).order.order_id)
    resting = ex.place_order(user, req("BUY", price="50000.00", quantity="0.01")).order
    assert [o.order_id for o in ex.open_orders(user, "BTCUSDT")] == [resting.order_id]
    assert [o.order_id for o in ex.all_orders(user, "BTCUSDT", limit=2)] == [
        ids[2],
        resting.order_id,
    ]
    assert [o.order_id for o in ex.all_orders(user, "BTCUSDT", order_id=ids[1])] == [
        ids[1],
        ids[2],
        resting.order_id,
    ]
    trades = ex.my_trades(user, "BTCUSDT")
    assert len(trades) == 3 and all(t.is_buyer and not t.is_maker for t in trades)
    assert [t.order_id for t in ex.my_trades(user, "BTCUSDT", order_id=ids[0])] == [ids[0]]
    assert ex.my_trades(user, "BTCUSDT", from_id=trades[1].id, limit=1) == [trades[1]]
    assert ex.my_trades(user, "BTCUSDT", start_time=clock.now, end_time=clock.now) == [trades[2]]
    maker_trades = ex.my_trades(maker, "BTCUSDT")
    assert all(t.is_maker and not t.is_buyer for t in maker_trades)


def test_account_reports_every_asset(ex: Exchange, user: str) -> None:
    """account() lists every listed asset with free and locked."""
    info = ex.account(user)
    assets = [a for a, _, _ in info.balances]
    assert assets == sorted(ex.assets)
    assert dict((a, f) for a, f, _ in info.balances)["USDT"] == D("1000000")
    assert info.commission_rates.maker == D("0.001")
    rates = ex.commission(user, "ETHBTC")
    assert rates.taker == D("0.001")


def test_test_order_validates_without_changing_anything(ex: Exchange, user: str) -> None:
    """test_order runs every check and leaves no trace."""
    seq = ex.events.seq
    ex.test_order(user, req("BUY", price="90000.00", quantity="0.1"))
    assert ex.events.seq == seq and ex.open_orders(user) == []
    with pytest.raises(EngineError) as info:
        ex.test_order(user, req("BUY", price="90000.00", quantity="100"))
    assert info.value.code == -2010


def test_deposit_and_withdraw_funds_publish_events(ex: Exchange, user: str) -> None:
    """Wallet movements change the free balance and emit balanceUpdate + position events."""
    seen: list[object] = []
    ex.events.subscribe(seen.append)
    ex.deposit_funds(user, "ETH", D("2.5"))
    assert ex.balance(user, "ETH")[0] == D("1002.5")
    ex.withdraw_funds(user, "ETH", D("1"))
    assert ex.balance(user, "ETH")[0] == D("1001.5")
    with pytest.raises(EngineError) as info:
        ex.withdraw_funds(user, "ETH", D("5000"))
    assert info.value.code == -2010
    assert [type(e).__name__ for e in seen] == [
        "BalanceUpdateEvent",
        "BalanceEvent",
        "BalanceUpdateEvent",
        "BalanceEvent",
    ]
    check_consistent(ex)


def test_trailing_stop_sell_follows_the_high(ex: Exchange, maker: str, user: str) -> None:
    """A trailing STOP_LOSS SELL triggers once the price falls trailingDelta below its peak."""
    trader = ex.create_account("trader")

    def print_price(price: str) -> None:
        ex.place_order(maker, req("SELL", price=price, quantity="0.01"))
        ex.place_order(trader, req("BUY", type="MARKET", quantity="0.01"))

    print_price("95000.00")
    ex.place_order(maker, req("BUY", price="90000.00", quantity="1"))
    stop = ex.place_order(user, req("SELL", type="STOP_LOSS", quantity="0.1", trailing_delta=100))
    assert stop.order.trailing_time == stop.transact_time
    print_price("96000.00")  # new high: the trigger moves up to 95040
    print_price("95100.00")  # 0.94 % below the high: not yet
    assert ex.get_order(user, "BTCUSDT", stop.order.order_id).status == "NEW"
    print_price("95040.00")  # exactly 1 % below 96000: triggers, sells into the 90000 bid
    done = ex.get_order(user, "BTCUSDT", stop.order.order_id)
    assert done.status == "FILLED" and done.cummulative_quote_qty == D("9000.000")
    check_consistent(ex)


def test_trailing_stop_with_activation_price(ex: Exchange, maker: str, user: str) -> None:
    """With a stopPrice, trailing starts only once the price reaches it."""
    trader = ex.create_account("trader")

    def print_price(price: str) -> None:
        ex.place_order(maker, req("SELL", price=price, quantity="0.01"))
        ex.place_order(trader, req("BUY", type="MARKET", quantity="0.01"))

    print_price("95000.00")
    tp = ex.place_order(
        user,
        req("SELL", type="TAKE_PROFIT", quantity="0.1", stop_price="97000.00", trailing_delta=50),
    )
    assert tp.order.trailing_time == -1
    print_price("96000.00")
    assert ex.get_order(user, "BTCUSDT", tp.order.order_id).trailing_time == -1
    print_price("97500.00")  # activates at 97500
    active = ex.get_order(user, "BTCUSDT", tp.order.order_id)
    assert active.trailing_time > 0 and active.status == "NEW"
    check_consistent(ex)


def test_placement_answer_is_the_order_before_the_stops_it_triggers(ex: Exchange) -> None:
    """A stop triggered by an order's own trades runs after it: the placement's answer shows
    that order as its matching left it (executed qty = its fills), even when the triggered
    stop then fills the rest of it as a maker."""
    a = ex.create_account("a", {"ETH": D("50"), "USDT": D("200000")})
    b = ex.create_account("b", {"ETH": D("50"), "USDT": D("200000")})
    sym = "ETHUSDT"
    ex.place_order(a, req("BUY", symbol=sym, price="3499.50", quantity="0.15"))
    ex.place_order(a, req("SELL", "STOP_LOSS", symbol=sym, stop_price="3500.00", quantity="0.15"))
    ex.place_order(a, req("SELL", "LIMIT_MAKER", symbol=sym, price="3500.00", quantity="0.15"))
    result = ex.place_order(b, req("BUY", symbol=sym, price="3500.00", quantity="0.16"))
    assert sum(f.qty for f in result.fills) == D("0.15")
    assert result.order.executed_qty == D("0.15")
    assert result.order.status == "PARTIALLY_FILLED"
    # The stop sold into the rest of b's order afterwards.
    later = ex.get_order(b, sym, order_id=result.order.order_id)
    assert later.executed_qty == D("0.16") and later.status == "FILLED"
    check_consistent(ex)
