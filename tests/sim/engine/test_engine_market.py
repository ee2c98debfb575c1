"""Depth update ids, diff continuity and the background market."""

from __future__ import annotations

from decimal import Decimal

from engine_support import Clock, check_consistent, req

from binance.sim.engine.events import BookTickerEvent, DepthEvent, TradeEvent
from binance.sim.engine.exchange import Exchange, ExchangeConfig

D = Decimal


class LocalBook:
    """A client's local book built per NOTES.md section 10 from a snapshot and diffs."""

    def __init__(self, ex: Exchange, symbol: str) -> None:
        snap = ex.depth(symbol, 5000)
        self.update_id = snap.last_update_id
        self.bids = dict(snap.bids)
        self.asks = dict(snap.asks)

    def apply(self, e: DepthEvent) -> None:
        assert e.first_update_id == self.update_id + 1, "gap or overlap in update ids"
        assert e.last_update_id >= e.first_update_id
        assert e.last_update_id - e.first_update_id + 1 == len(e.bids) + len(e.asks)
        for side, levels in ((self.bids, e.bids), (self.asks, e.asks)):
            for price, qty in levels:
                if qty == 0:
                    side.pop(price, None)
                else:
                    side[price] = qty
        self.update_id = e.last_update_id

    def matches(self, ex: Exchange, symbol: str) -> bool:
        snap = ex.depth(symbol, 5000)
        return (
            snap.last_update_id == self.update_id
            and sorted(self.bids.items(), reverse=True) == snap.bids
            and sorted(self.asks.items()) == snap.asks
        )


def test_depth_diffs_continue_the_snapshot(clock: Clock) -> None:
    """Snapshot + every later diff == the book, with ids continuing exactly (NOTES.md 10)."""
    ex = Exchange(seed=3, now_ms=clock, config=ExchangeConfig(activity=5.0))
    local = LocalBook(ex, "BTCUSDT")
    ex.events.subscribe(
        lambda e: local.apply(e) if isinstance(e, DepthEvent) and e.symbol == "BTCUSDT" else None
    )
    user = ex.create_account()
    for i in range(60):
        clock.advance(250)
        ex.tick()
        if i % 10 == 0:
            top = ex.book_ticker("BTCUSDT")
            ex.place_order(user, req("BUY", price=str(top.bid_price), quantity="0.01"))
            ex.place_order(user, req("SELL", type="MARKET", quantity="0.02"))
        assert local.matches(ex, "BTCUSDT")
    ex.cancel_all(user, "BTCUSDT") if ex.open_orders(user, "BTCUSDT") else None
    assert local.matches(ex, "BTCUSDT")
    check_consistent(ex)


def test_book_ticker_events_follow_the_top(clock: Clock) -> None:
    """A BookTickerEvent is published whenever the best bid or ask changes."""
    ex = Exchange(seed=1, now_ms=clock, config=ExchangeConfig(background_market=False))
    user = ex.create_account()
    seen: list[BookTickerEvent] = []
    ex.events.subscribe(lambda e: seen.append(e) if isinstance(e, BookTickerEvent) else None)
    ex.place_order(user, req("BUY", price="90000.00", quantity="0.1"))
    ex.place_order(user, req("BUY", price="89000.00", quantity="0.1"))  # not the top
    ex.place_order(user, req("BUY", price="90000.00", quantity="0.2"))  # top qty changes
    assert [(e.bid_price, e.bid_qty, e.ask_price) for e in seen] == [
        (D("90000.00"), D("0.1"), D(0)),
        (D("90000.00"), D("0.3"), D(0)),
    ]
    assert seen[-1].update_id == ex.book_ticker("BTCUSDT").update_id


def test_background_market_trades_and_keeps_a_book(clock: Clock) -> None:
    """Trading symbols get a deep two-sided book and a few trades per second; halted ones
    stay silent."""
    ex = Exchange(seed=11, now_ms=clock)
    trades: list[TradeEvent] = []
    ex.events.subscribe(lambda e: trades.append(e) if isinstance(e, TradeEvent) else None)
    for _ in range(40):  # 10 seconds
        clock.advance(250)
        ex.tick()
    per_symbol: dict[str, int] = {}
    for t in trades:
        per_symbol[t.symbol] = per_symbol.get(t.symbol, 0) + 1
    for spec in ex.markets.values():
        if spec.status == "TRADING":
            assert per_symbol.get(spec.symbol, 0) >= 10, spec.symbol
            snap = ex.depth(spec.symbol, 100)
            assert len(snap.bids) >= 20 and len(snap.asks) >= 20
        else:
            assert spec.symbol not in per_symbol
            assert ex.depth(spec.symbol).bids == []
    # Live prices continue the kline history's present price.
    assert abs(ex.last_price("BTCUSDT") - D("95000")) < D("2000")
    check_consistent(ex)


def test_background_market_is_deterministic() -> None:
    """Same seed and tick times give the same trades; another seed does not."""

    def run(seed: int) -> list[tuple[str, Decimal, Decimal]]:
        clock = Clock()
        ex = Exchange(seed=seed, now_ms=clock)
        out: list[tuple[str, Decimal, Decimal]] = []
        ex.events.subscribe(
            lambda e: out.append((e.symbol, e.price, e.qty)) if isinstance(e, TradeEvent) else None
        )
        for _ in range(20):
            clock.advance(200)
            ex.tick()
        return out

    first = run(5)
    assert first and first == run(5)
    assert first != run(6)


def test_user_order_trades_against_the_background(clock: Clock) -> None:
    """A user's market order fills against the background market maker."""
    ex = Exchange(seed=2, now_ms=clock)
    user = ex.create_account()
    result = ex.place_order(user, req("BUY", type="MARKET", quantity="0.5"))
    assert result.order.status == "FILLED"
    assert ex.balance(user, "BTC")[0] > D("100.49")
    check_consistent(ex)
