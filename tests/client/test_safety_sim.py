"""Money-safe behaviour against the local exchange's faults: clock skew, lost answers, 5xx,
rate limits. Zero duplicates, zero losses, zero 418s."""

from __future__ import annotations

import random
import socket
import threading
import time
import traceback
from decimal import Decimal

import pytest

from binance.exceptions import (
    BinanceAPIException,
    BinanceConnectionException,
    BinanceOrderStatusUnknownException,
    BinanceRequestException,
    BinanceTimeoutException,
)

from .conftest import call, close

SYMBOL = "BNBBTC"


async def _low_price(client):
    book = await call(client, "get_orderbook_ticker", symbol=SYMBOL)
    return (Decimal(book["bidPrice"]) * Decimal("0.6")).quantize(Decimal("0.000001"))


async def _orders(client):
    return await call(client, "get_all_orders", symbol=SYMBOL)


# -- clock ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("skew_ms", [-8_000, 8_000])
async def test_minus_1021_resyncs_the_clock_and_retries_once(client, sim, skew_ms):
    """After the server clock jumps, a signed call gets -1021, re-measures, and succeeds."""
    await call(client, "get_account")  # the clock is measured and fresh
    sim.faults.set_clock_skew(skew_ms)
    try:
        offset_before = client._ctx.clock.offset_ms
        account = await call(client, "get_account", recvWindow=2000)
        assert account["canTrade"]
        assert abs(client._ctx.clock.offset_ms - offset_before - skew_ms) < 1_000
        price = await _low_price(client)
        order = await call(client, "order_limit_buy", symbol=SYMBOL, quantity=1, price=price)
        assert [o["orderId"] for o in await _orders(client)] == [order["orderId"]]
    finally:
        sim.faults.reset()
        client._ctx.clock.invalidate()  # the shared estimate now carries the skew


async def test_timestamp_ms_is_the_measured_server_time(client, sim):
    """timestamp_ms() is the server's clock as measured (here 30 s behind this machine's), and
    is answered without I/O, even by the async client."""
    sim.faults.set_clock_skew(-30_000)
    try:
        assert (await call(client, "get_account"))["canTrade"]  # measures (or -1021 re-measures)
        stamp = client.timestamp_ms()
        assert isinstance(stamp, int)
        assert abs(stamp - (time.time() * 1000 - 30_000)) < 5_000
    finally:
        sim.faults.reset()
        client._ctx.clock.invalidate()  # the shared estimate now carries the skew


async def test_sync_clock_measures_without_a_signed_call(client, sim):
    """sync_clock() aligns timestamp_ms() with the server before any signed request."""
    sim.faults.set_clock_skew(45_000)
    try:
        client._ctx.clock.invalidate()
        reply = await call(client, "sync_clock")
        assert abs(reply["serverTime"] - (time.time() * 1000 + 45_000)) < 5_000
        assert abs(client.timestamp_ms() - (time.time() * 1000 + 45_000)) < 5_000
    finally:
        sim.faults.reset()
        client._ctx.clock.invalidate()


# -- orders whose answer is lost ------------------------------------------------------------------


@pytest.mark.parametrize("placed", [True, False], ids=["placed", "not-placed"])
@pytest.mark.parametrize("fault", ["unknown_status_on_next_order", "drop_next_order_response"])
async def test_lost_answer_never_duplicates_or_loses_the_order(client, sim, fault, placed):
    """503 -1007 or a dropped connection: the order is found by its client id, or proven absent
    (after timestamp + recvWindow) and sent again with the same id: exactly one order exists."""
    price = await _low_price(client)
    getattr(sim.faults, fault)(placed=placed)
    order = await call(
        client, "order_limit_buy", symbol=SYMBOL, quantity=1, price=price, recvWindow=500
    )
    orders = await _orders(client)
    assert [o["clientOrderId"] for o in orders] == [order["clientOrderId"]]
    assert orders[0]["orderId"] == order["orderId"] and orders[0]["status"] == "NEW"
    locked = Decimal((await call(client, "get_asset_balance", "BTC"))["locked"])
    assert locked == price  # locked once, not twice


async def test_market_order_recovered_with_its_fills(client, sim):
    """A filled market order whose answer was lost comes back FULL, fills from myTrades."""
    sim.faults.unknown_status_on_next_order(placed=True)
    order = await call(client, "order_market_buy", symbol=SYMBOL, quantity="0.3", recvWindow=500)
    assert order["status"] == "FILLED"
    assert sum(Decimal(f["qty"]) for f in order["fills"]) == Decimal("0.3")
    assert len(await _orders(client)) == 1


async def test_lookup_failing_raises_status_unknown_with_the_client_order_id(client, sim):
    """If the lookup cannot answer either, the client order id comes back in the exception."""
    price = await _low_price(client)
    sim.faults.unknown_status_on_next_order(placed=True)
    sim.faults.fail_next(20, status=503, path="/api/v3/order")
    with pytest.raises(BinanceOrderStatusUnknownException) as info:
        await call(client, "order_limit_buy", symbol=SYMBOL, quantity=1, price=price)
    sim.faults.reset()
    cid = info.value.client_order_id
    assert info.value.symbol == SYMBOL and len(cid) == 22
    # The 503s hit the placement too, so whether it exists is the exchange's business: at most
    # one order, with that id, and the client never sent a second one.
    assert [o["clientOrderId"] for o in await _orders(client)] in ([], [cid])


async def test_random_faults_zero_duplicates_zero_losses(client, sim):
    """Twelve orders under a mix of faults: every returned order exists exactly once, and every
    order on the exchange was returned (or reported unknown with its id)."""
    rng = random.Random(7)
    price = await _low_price(client)
    returned, unknown = [], []
    for i in range(12):
        choice = rng.choice(["none", "unknown-placed", "unknown-absent", "drop", "fail"])
        if choice == "unknown-placed":
            sim.faults.unknown_status_on_next_order(placed=True)
        elif choice == "unknown-absent":
            sim.faults.unknown_status_on_next_order(placed=False)
        elif choice == "drop":
            sim.faults.drop_next_order_response(placed=rng.random() < 0.5)
        elif choice == "fail":
            sim.faults.fail_next(1, status=503, path="/api/v3/order")
        try:
            order = await call(
                client,
                "order_limit_buy",
                symbol=SYMBOL,
                quantity=1,
                price=price - Decimal(i) * Decimal("0.000001"),
                recvWindow=300,
            )
            returned.append(order["clientOrderId"])
        except BinanceOrderStatusUnknownException as exc:
            unknown.append(exc.client_order_id)
        finally:
            sim.faults.reset()
    on_exchange = [o["clientOrderId"] for o in await _orders(client)]
    assert len(on_exchange) == len(set(on_exchange))  # no duplicates
    assert set(returned) <= set(on_exchange)  # nothing returned that does not exist
    assert set(on_exchange) <= set(returned) | set(unknown)  # nothing placed behind our back
    assert len(returned) == 12 - len(unknown)


# -- transport errors -----------------------------------------------------------------------------


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connection_refused_is_our_connection_exception(kind):
    """No server: BinanceConnectionException (also a ConnectionError), nothing sent."""
    from binance import AsyncClient, Client

    cls = Client if kind == "sync" else AsyncClient
    client = cls("key", "secret", base_url=f"http://127.0.0.1:{_free_port()}")
    try:
        with pytest.raises(BinanceConnectionException) as info:
            await call(client, "ping")
        assert isinstance(info.value, ConnectionError) and info.value.sent is False
    finally:
        await close(client)


async def test_timeout_is_our_timeout_exception_and_hides_the_signature(client, sim):
    """A slow answer: BinanceTimeoutException; no signature in its text or its causes."""
    await call(client, "get_account")
    sim.faults.set_latency(1500, path="/api/v3/openOrders")
    with pytest.raises(BinanceTimeoutException) as info:
        await call(client, "get_open_orders", symbol=SYMBOL, requests_params={"timeout": 0.3})
    text = "".join(traceback.format_exception(info.value))
    assert "signature=<redacted>" in text
    assert "signature=" not in text.replace("signature=<redacted>", "")
    assert client._ctx.api_key not in text


async def test_html_error_page_is_a_request_exception(client, sim):
    """A gateway's HTML 502 is BinanceRequestException with the status."""
    sim.faults.fail_next(1, status=502, error=None, path="/api/v3/depth")
    with pytest.raises(BinanceRequestException) as info:
        await call(client, "get_order_book", symbol=SYMBOL)
    assert info.value.status_code == 502


async def test_5xx_json_on_a_read_is_an_api_exception(client, sim):
    sim.faults.fail_next(1, status=503, path="/api/v3/ticker/price")
    with pytest.raises(BinanceAPIException) as info:
        await call(client, "get_symbol_ticker", symbol=SYMBOL)
    assert info.value.status_code == 503 and info.value.code == -1001


# -- the weight governor --------------------------------------------------------------------------


def test_governor_many_threads_lowered_limits_zero_418():
    """16 threads share a budget of 100 weight per minute across a window boundary: every call
    succeeds, the simulator bans nobody, and the governor's waits replace 429s."""
    # (Timing is the simulator's business; the 1.5 s wait happens because the budget is spent.)
    from binance import Client
    from binance.sim import LocalExchange

    with LocalExchange(seed=3, request_weight_per_minute=100) as ex:
        # Put the server's clock 1.5 s before a minute boundary so one test crosses it quickly.
        now = int(time.time() * 1000)
        ex.faults.set_clock_skew((now // 60_000 + 1) * 60_000 - 1_500 - now)
        client = Client(ex.api_key, ex.api_secret, base_url=ex.rest_url)
        results, errors = [], []

        def worker():
            try:
                for _ in range(2):
                    book = client.get_order_book(symbol=SYMBOL, limit=5)  # weight 5
                    results.append(book["lastUpdateId"])
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        client.close()
        assert errors == []
        assert len(results) == 32  # 160 weight + 20 for discovery: two windows
        assert client.governor.rejections[418] == 0
        assert ex.limits.ban_remaining_ms("127.0.0.1", int(time.time() * 1000) + 10**7) == 0
        assert client.governor.limits()[("REQUEST_WEIGHT", 60_000)] <= 100
        assert client.governor.rejections[429] == 0
