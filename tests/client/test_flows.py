"""Flows driven by hand, step by step: what they send, when they wait, what they conclude.

A flow is a plain generator (no I/O), so these tests feed it answers directly, as websockets'
core tests feed bytes to the protocol. End-to-end behaviour against the simulator is in
test_client_sim.py.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson
import pytest

from binance import _endpoints as E
from binance import _flows
from binance._clock import ServerClock
from binance._core import PreparedRequest, Reply
from binance._governor import Governor
from binance._signing import HmacSigner
from binance.exceptions import (
    BinanceAPIException,
    BinanceOrderStatusUnknownException,
    BinanceTimeoutException,
)


class Clock:
    def __init__(self):
        self.now = 1_000_000

    def __call__(self):
        return self.now


def make_ctx(clock):
    server = ServerClock(wall_ms=1_700_000_000_000, mono_ms=clock.now)
    return _flows.Context(
        base_url="http://sim",
        api_key="key",
        signer=HmacSigner("secret"),
        governor=Governor(headroom=1.0),
        clock=server,
        mono_ms=clock,
        new_id=lambda: "cid-1",
        validate_orders=False,
        lookup_margin_ms=1000,
    )


def ok(body, status=200):
    return Reply(status, {}, orjson.dumps(body))


def params_of(request: PreparedRequest):
    raw = request.body.decode() if request.body else request.url.partition("?")[2]
    return dict(parse_qsl(raw))


class Driver:
    """Feeds a flow: each answer is a Reply, an exception to throw, or None for a Wait."""

    def __init__(self, flow, clock):
        self.flow, self.clock, self.steps = flow, clock, []
        self.step = next(flow)
        self.steps.append(self.step)

    def answer(self, outcome):
        if isinstance(self.step, _flows.Wait):
            self.clock.now += int(self.step.seconds * 1000)
        try:
            if isinstance(outcome, BaseException):
                self.step = self.flow.throw(outcome)
            else:
                self.step = self.flow.send(outcome)
        except StopIteration as stop:
            self.step = None
            return stop.value
        self.steps.append(self.step)
        return None


def test_first_signed_call_measures_the_clock():
    """Before the first signed request: GET /api/v3/time, then the request stamped with it."""
    clock = Clock()
    ctx = make_ctx(clock)
    d = Driver(_flows.call(ctx, E.ACCOUNT, {}), clock)
    assert d.step.url == "http://sim/api/v3/time"
    clock.now += 10
    d.answer(ok({"serverTime": 1_800_000_000_000}))
    assert params_of(d.step)["timestamp"] == str(1_800_000_000_000 + 5)
    assert d.answer(ok({"balances": []})) == {"balances": []}


def test_minus_1021_resyncs_and_retries_once():
    """-1021: invalidate the clock, measure again, send once more; a second -1021 raises."""
    clock = Clock()
    ctx = make_ctx(clock)
    ctx.clock.observe(clock.now, 1_700_000_000_000, clock.now)
    d = Driver(_flows.call(ctx, E.ACCOUNT, {"recvWindow": 5000}), clock)
    assert d.step.endpoint is E.ACCOUNT
    bad = ok(
        {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}, 400
    )
    d.answer(bad)
    assert d.step.endpoint is E.TIME
    d.answer(ok({"serverTime": 1_700_000_009_000}))
    retried = d.step
    assert retried.endpoint is E.ACCOUNT
    assert params_of(retried)["timestamp"] == str(1_700_000_009_000)
    assert params_of(retried)["recvWindow"] == "5000"
    with pytest.raises(BinanceAPIException) as info:
        d.answer(bad)
    assert info.value.code == -1021


def _order_params():
    return {
        "symbol": "BNBBTC",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "1",
        "price": "0.1",
        "recvWindow": 1000,
    }


def _synced(clock):
    ctx = make_ctx(clock)
    ctx.clock.observe(clock.now, 1_700_000_000_000, clock.now)
    return ctx


def test_order_gets_a_client_order_id():
    clock = Clock()
    d = Driver(_flows.place_order(_synced(clock), E.ORDER, _order_params()), clock)
    assert params_of(d.step)["newClientOrderId"] == "cid-1"


def test_timeout_then_order_found_returns_it_without_resending():
    """After a timeout the order is looked up by origClientOrderId; found means done."""
    clock = Clock()
    d = Driver(_flows.place_order(_synced(clock), E.ORDER, _order_params()), clock)
    sent = d.step
    d.answer(BinanceTimeoutException("t", request=sent))
    lookup = d.step
    assert lookup.endpoint is E.GET_ORDER
    assert params_of(lookup)["origClientOrderId"] == "cid-1"
    order = {
        "symbol": "BNBBTC",
        "orderId": 5,
        "orderListId": -1,
        "clientOrderId": "cid-1",
        "price": "0.1",
        "origQty": "1",
        "executedQty": "0",
        "status": "NEW",
        "type": "LIMIT",
        "side": "BUY",
        "time": 7,
        "updateTime": 8,
        "isWorking": True,
    }
    d.answer(ok(order))
    assert d.step.endpoint is E.MY_TRADES  # FULL is LIMIT's default: fetch the fills
    result = d.answer(ok([]))
    assert result["orderId"] == 5 and result["transactTime"] == 7 and result["fills"] == []
    assert "isWorking" not in result
    assert [s.endpoint for s in d.steps if isinstance(s, PreparedRequest)].count(E.ORDER) == 1


def test_absent_order_is_resent_only_after_its_recv_window_has_passed():
    """-2013 before timestamp+recvWindow+margin: wait; after it: resend with the same id."""
    clock = Clock()
    ctx = _synced(clock)
    d = Driver(_flows.place_order(ctx, E.ORDER, _order_params()), clock)
    sent = d.step
    stamp = int(params_of(sent)["timestamp"])
    d.answer(ok({"code": -1007, "msg": "Timeout waiting for response"}, 503))
    assert d.step.endpoint is E.GET_ORDER
    d.answer(ok({"code": -2013, "msg": "Order does not exist."}, 400))
    assert isinstance(d.step, _flows.Wait)
    d.answer(None)
    assert ctx.server_ms() >= stamp + 1000 + 1000
    assert d.step.endpoint is E.GET_ORDER
    d.answer(ok({"code": -2013, "msg": "Order does not exist."}, 400))
    resent = d.step
    assert resent.endpoint is E.ORDER
    assert params_of(resent)["newClientOrderId"] == "cid-1"
    assert int(params_of(resent)["timestamp"]) > stamp
    assert d.answer(ok({"orderId": 9})) == {"orderId": 9}


def test_lookup_that_keeps_failing_raises_status_unknown_with_the_id():
    """Never resend blindly: if the lookup cannot answer, raise with the client order id."""
    clock = Clock()
    d = Driver(_flows.place_order(_synced(clock), E.ORDER, _order_params()), clock)
    d.answer(BinanceTimeoutException("t", request=d.step))
    with pytest.raises(BinanceOrderStatusUnknownException) as info:
        for _ in range(20):
            if isinstance(d.step, _flows.Wait):
                d.answer(None)
            else:
                assert d.step.endpoint is E.GET_ORDER
                d.answer(BinanceTimeoutException("t", request=d.step))
    assert info.value.client_order_id == "cid-1"
    assert [s.endpoint for s in d.steps if isinstance(s, PreparedRequest)].count(E.ORDER) == 1


def test_a_definite_rejection_is_not_retried():
    """A 4xx answer is final: raised as is, nothing looked up."""
    clock = Clock()
    d = Driver(_flows.place_order(_synced(clock), E.ORDER, _order_params()), clock)
    with pytest.raises(BinanceAPIException) as info:
        d.answer(ok({"code": -2010, "msg": "Account has insufficient balance"}, 400))
    assert info.value.code == -2010


def test_rate_limited_read_waits_out_retry_after_then_retries():
    """A 429 on a GET: the governor blocks until Retry-After, then the read is sent again."""
    clock = Clock()
    ctx = make_ctx(clock)
    d = Driver(_flows.call(ctx, E.DEPTH, {"symbol": "BNBBTC"}), clock)
    d.answer(Reply(429, {"retry-after": "2"}, b'{"code":-1003,"msg":"Too much"}'))
    assert isinstance(d.step, _flows.Wait) and 2.0 <= d.step.seconds <= 2.6
    d.answer(None)
    assert d.step.endpoint is E.DEPTH
    assert d.answer(ok({"lastUpdateId": 1, "bids": [], "asks": []}))["lastUpdateId"] == 1
