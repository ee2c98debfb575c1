"""/sapi/v1 wallet endpoints over real HTTP: shapes, deposits, withdrawals, weights."""

from __future__ import annotations

from decimal import Decimal

import pytest

from schemas_util import validate_response


def _ok(reply, method: str, path: str):
    assert reply.status_code == 200, reply.text
    payload = reply.json()
    validate_response(method, path, payload)
    return payload


def test_system_and_account_status(sim_rest, account):
    """system/status, account/status and apiTradingStatus answer Binance's shapes."""
    status = _ok(sim_rest.get("/sapi/v1/system/status"), "GET", "/sapi/v1/system/status")
    assert status == {"status": 0, "msg": "normal"}
    assert _ok(
        sim_rest.signed("GET", "/sapi/v1/account/status", account), "GET", "/sapi/v1/account/status"
    ) == {"data": "Normal"}
    trading = _ok(
        sim_rest.signed("GET", "/sapi/v1/account/apiTradingStatus", account),
        "GET",
        "/sapi/v1/account/apiTradingStatus",
    )
    assert trading["data"]["isLocked"] is False
    assert trading["data"]["indicators"] == {}  # an account with no orders has none


def test_coins_and_asset_details(sim_rest, account):
    """capital/config/getall lists coins with networks; assetDetail and tradeFee validate."""
    coins = _ok(
        sim_rest.signed("GET", "/sapi/v1/capital/config/getall", account),
        "GET",
        "/sapi/v1/capital/config/getall",
    )
    usdt = next(c for c in coins if c["coin"] == "USDT")
    assert Decimal(usdt["free"]) > 0 and usdt["networkList"]
    detail = _ok(
        sim_rest.signed("GET", "/sapi/v1/asset/assetDetail", account, {"asset": "BTC"}),
        "GET",
        "/sapi/v1/asset/assetDetail",
    )
    assert set(detail) == {"BTC"}
    assert {"minWithdrawAmount", "depositStatus", "withdrawFee", "withdrawStatus"} <= set(
        detail["BTC"]
    )
    fee = detail["BTC"]["withdrawFee"]  # a JSON number, as Binance sends it
    assert isinstance(fee, (int, float)) and fee > 0
    every = _ok(
        sim_rest.signed("GET", "/sapi/v1/asset/assetDetail", account),
        "GET",
        "/sapi/v1/asset/assetDetail",
    )
    suspended = [item for item in every.values() if not item["depositStatus"]]
    assert suspended and all(item["depositTip"] for item in suspended)
    fees = _ok(
        sim_rest.signed("GET", "/sapi/v1/asset/tradeFee", account, {"symbol": "BTCUSDT"}),
        "GET",
        "/sapi/v1/asset/tradeFee",
    )
    assert fees == [{"symbol": "BTCUSDT", "makerCommission": "0.001", "takerCommission": "0.001"}]


def test_deposit_address_and_credited_deposit(sim, sim_rest, account):
    """A credited deposit raises the balance and shows in deposit/hisrec as a success."""
    address = _ok(
        sim_rest.signed("GET", "/sapi/v1/capital/deposit/address", account, {"coin": "USDT"}),
        "GET",
        "/sapi/v1/capital/deposit/address",
    )
    assert address["coin"] == "USDT" and address["address"]
    before = sim.call(sim.exchange.balance, account.account_id, "USDT")[0]
    record = sim.credit_deposit("USDT", "250", account_id=account.account_id)
    assert record["status"] == 1
    after = sim.call(sim.exchange.balance, account.account_id, "USDT")[0]
    assert after - before == Decimal("250")
    history = _ok(
        sim_rest.signed("GET", "/sapi/v1/capital/deposit/hisrec", account, {"coin": "USDT"}),
        "GET",
        "/sapi/v1/capital/deposit/hisrec",
    )
    assert [(h["txId"], h["status"], h["amount"]) for h in history] == [(record["txId"], 1, "250")]


def test_pending_deposit_is_not_credited_yet(sim, sim_rest, account):
    """pending=True records the deposit without crediting it."""
    before = sim.call(sim.exchange.balance, account.account_id, "BTC")[0]
    record = sim.credit_deposit("BTC", "0.5", account_id=account.account_id, pending=True)
    assert record["status"] == 0
    assert sim.call(sim.exchange.balance, account.account_id, "BTC")[0] == before


def test_withdrawal_debits_and_is_listed(sim, sim_rest, account):
    """withdraw/apply debits the balance and returns an id found in withdraw/history."""
    address = sim_rest.signed(
        "GET", "/sapi/v1/capital/deposit/address", sim.keys[0], {"coin": "USDT"}
    ).json()["address"]
    before = sim.call(sim.exchange.balance, account.account_id, "USDT")[0]
    applied = _ok(
        sim_rest.signed(
            "POST",
            "/sapi/v1/capital/withdraw/apply",
            account,
            {"coin": "USDT", "address": address, "amount": "100", "withdrawOrderId": "w1"},
        ),
        "POST",
        "/sapi/v1/capital/withdraw/apply",
    )
    after = sim.call(sim.exchange.balance, account.account_id, "USDT")[0]
    assert before - after == Decimal("100")
    history = _ok(
        sim_rest.signed("GET", "/sapi/v1/capital/withdraw/history", account),
        "GET",
        "/sapi/v1/capital/withdraw/history",
    )
    assert [h["id"] for h in history] == [applied["id"]]
    assert history[0]["coin"] == "USDT" and history[0]["withdrawOrderId"] == "w1"
    # Without a withdrawOrderId, Binance's record has none.
    second = sim_rest.signed(
        "POST",
        "/sapi/v1/capital/withdraw/apply",
        account,
        {"coin": "USDT", "address": address, "amount": "50"},
    ).json()
    history = _ok(
        sim_rest.signed("GET", "/sapi/v1/capital/withdraw/history", account),
        "GET",
        "/sapi/v1/capital/withdraw/history",
    )
    plain = next(h for h in history if h["id"] == second["id"])
    assert "withdrawOrderId" not in plain


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"coin": "NOPE", "address": "x", "amount": "1"}, -4081),
        ({"coin": "USDT", "address": "not-an-address", "amount": "100"}, -4003),
        ({"coin": "USDT", "address": "x", "amount": "1e3"}, -1100),
        ({"coin": "USDT", "amount": "100"}, -1102),
    ],
)
def test_withdrawal_errors(sim_rest, account, params, code):
    """Bad withdrawals are refused with their code (HTTP 400)."""
    reply = sim_rest.signed("POST", "/sapi/v1/capital/withdraw/apply", account, params)
    assert reply.status_code == 400 and reply.json()["code"] == code


def test_uid_weighted_endpoint_reports_uid_weight(sim_rest, account):
    """withdraw/history is weighted per account: X-SAPI-USED-UID-WEIGHT-1M."""
    reply = sim_rest.signed("GET", "/sapi/v1/capital/withdraw/history", account)
    assert reply.headers["X-SAPI-USED-UID-WEIGHT-1M"] == "18000"
    assert "X-MBX-USED-WEIGHT-1M" not in reply.headers
