"""The wallet: coin configs, deposit addresses, withdrawal rules, status over time, history."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from binance import errorcodes
from binance.sim.engine import EngineError
from binance.sim.engine.wallet import (
    CoinConfig,
    NetworkConfig,
    Wallet,
    WalletChange,
    default_coins,
)
from schemas_util import load_example

D = Decimal
DAY = 86_400_000
T0 = 1_735_689_600_000
BTC_ADDR = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
EVM_ADDR = "0x94df8b352de7f46f64b01d3666bf6e936e44ce60"
TRX_ADDR = "TQrZ8tKfjRrxNZBXJfZDJjVGNvA5FvGxXh"
TON_ADDR = "EQ" + "A" * 46


class TinyLedger:
    """Free balances per (account, asset); refuses to go negative like the engine's accounts."""

    def __init__(self) -> None:
        self.free: dict[tuple[str, str], Decimal] = {}

    def deposit_funds(self, account_id: str, asset: str, amount: Decimal) -> None:
        key = (account_id, asset)
        self.free[key] = self.free.get(key, D(0)) + amount

    def withdraw_funds(self, account_id: str, asset: str, amount: Decimal) -> None:
        key = (account_id, asset)
        if self.free.get(key, D(0)) < amount:
            raise EngineError(
                errorcodes.NEW_ORDER_REJECTED, errorcodes.EngineMessage.INSUFFICIENT_BALANCE
            )
        self.free[key] -= amount


@pytest.fixture
def ledger():
    ledger = TinyLedger()
    for asset, amount in {
        "BTC": "10",
        "USDT": "100000",
        "NEO": "100",
        "ETH": "50",
        "XYZ": "9",
    }.items():
        ledger.deposit_funds("alice", asset, D(amount))
    return ledger


@pytest.fixture
def wallet(ledger):
    coins = default_coins(["BTC", "ETH", "BNB", "USDT", "NEO", "BCC", "XYZ"])
    return Wallet(7, ledger, coins, withdraw_processing_ms=1_000, withdraw_complete_ms=5_000,
                  deposit_confirm_ms=2_000)  # fmt: skip


def withdraw(wallet, **kw):
    kw.setdefault("now_ms", T0)
    kw.setdefault("coin", "BTC")
    kw.setdefault("address", BTC_ADDR)
    kw.setdefault("amount", D("0.5"))
    return wallet.withdraw("alice", **kw)


# -- configs and addresses -------------------------------------------------------------------------
def test_coins_info_has_the_getall_shape(wallet):
    """Every coin and network carries exactly the keys of capital/config/getall."""
    [example] = load_example("sapi_capital_config_getall.json")
    info = wallet.coins_info("alice", {"BTC": (D("1.5"), D("0.25"))})
    assert [c["coin"] for c in info] == ["BCC", "BNB", "BTC", "ETH", "NEO", "USDT", "XYZ"]
    for coin in info:
        assert set(coin) == set(example)
        for net in coin["networkList"]:
            assert set(net) == set(example["networkList"][0])
            assert net["coin"] == coin["coin"]
            assert isinstance(net["withdrawFee"], str) and "E" not in net["withdrawFee"]
        assert sum(n["isDefault"] for n in coin["networkList"]) == 1
    btc = next(c for c in info if c["coin"] == "BTC")
    assert (btc["free"], btc["locked"]) == ("1.50000000", "0.25000000")
    bcc = next(c for c in info if c["coin"] == "BCC")
    assert bcc["depositAllEnable"] is False and bcc["networkList"][0]["depositDesc"]


def test_unknown_assets_get_a_generic_network(wallet):
    """An asset without a known config gets a default ERC20 network."""
    [net] = wallet.coin("XYZ").networks
    assert net.network == "ETH" and net.is_default and net.withdraw_enable


def test_deposit_addresses_are_deterministic_and_valid(ledger):
    """Same seed, account, coin and network: same address; it matches the network's regex."""
    one, two, other = Wallet(1, ledger), Wallet(1, ledger), Wallet(2, ledger)
    for coin in one.coins.values():
        for net in coin.networks:
            a = one.deposit_address("alice", coin.coin, net.network)
            assert a == two.deposit_address("alice", coin.coin, net.network)
            assert a != one.deposit_address("bob", coin.coin, net.network)
            assert a != other.deposit_address("alice", coin.coin, net.network)
            assert re.search(net.address_regex, a["address"]), (coin.coin, net.network, a)
            assert a["coin"] == coin.coin
            if net.memo_regex:
                assert re.search(net.memo_regex, a["tag"])
            else:
                assert a["tag"] == ""


def test_evm_networks_share_one_address_and_default_network_is_used(wallet):
    """ETH, BSC and Arbitrum give one address; no network means the default one."""
    eth = wallet.deposit_address("alice", "ETH", "ETH")
    assert wallet.deposit_address("alice", "ETH", "BSC")["address"] == eth["address"]
    assert wallet.deposit_address("alice", "USDT", "BSC")["address"] == eth["address"]
    assert wallet.deposit_address("alice", "BTC")["address"].startswith("bc1q")
    assert wallet.deposit_address("alice", "BTC")["url"].endswith(
        wallet.deposit_address("alice", "BTC")["address"]
    )


def test_asset_detail_shape(wallet):
    """assetDetail gives per coin the default network's limits (depositTip when suspended)."""
    [example] = load_example("sapi_asset_assetDetail.json").values()
    detail = wallet.asset_detail()
    assert set(detail["BCC"]) == set(example)
    assert set(detail["BTC"]) == set(example) - {"depositTip"}
    assert detail["BTC"]["withdrawFee"] == D("0.000012")
    assert wallet.asset_detail("NEO").keys() == {"NEO"}
    assert wallet.asset_detail("NOPE") == {}


# -- withdrawal validation -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"coin": "DOGE"}, -4081),
        ({"network": "SOL"}, -4088),
        ({"coin": "BCC", "address": "1" * 30}, -4019),
        ({"coin": "BNB", "network": "BNB", "address": "bnb1" + "q" * 38}, -4019),
        ({"address_tag": "123"}, -4106),
        (
            {
                "coin": "USDT",
                "network": "TON",
                "address": TON_ADDR,
                "amount": D("5"),
                "address_tag": "bad tag!",
            },
            -4107,
        ),  # fmt: skip
        ({"address": "0x1234"}, -4003),
        ({"address": EVM_ADDR}, -4003),
        ({"coin": "USDT", "network": "TRX", "address": "T123"}, -4003),
        ({"amount": D("0.00001")}, -4006),
        ({"amount": D("0")}, -4006),
        ({"amount": D("0.000000001")}, -4006),
        ({"coin": "NEO", "network": "NEO3", "address": "N" + "a" * 33, "amount": D("1.5")}, -4005),
        ({"amount": D("0.123456789")}, -4005),
        ({"amount": D("11")}, -4026),
    ],
)
def test_withdraw_validation_errors(wallet, ledger, kwargs, code):
    """Each broken rule has its wallet code, and nothing is debited."""
    before = dict(ledger.free)
    with pytest.raises(EngineError) as err:
        withdraw(wallet, **kwargs)
    assert err.value.code == code
    assert ledger.free == before
    assert wallet.withdraw_history("alice", now_ms=T0) == []


def test_withdraw_above_maximum_and_not_above_fee(ledger):
    """withdrawMax is enforced (-4007); an amount not above the fee is -4020."""
    net = NetworkConfig("ETH", "Ethereum (ERC20)", "^(0x)[0-9A-Fa-f]{40}$", withdraw_fee=D("2"),
                        withdraw_min=D("1"), withdraw_max=D("5"), is_default=True)  # fmt: skip
    wallet = Wallet(1, ledger, [CoinConfig("XYZ", "Xyz", [net])])
    for amount, code in ((D("6"), -4007), (D("2"), -4020), (D("1.5"), -4020)):
        with pytest.raises(EngineError) as err:
            withdraw(wallet, coin="XYZ", address=EVM_ADDR, amount=amount)
        assert err.value.code == code
    # With transactionFeeFlag the fee is added on top, so a small amount is fine.
    withdraw(wallet, coin="XYZ", address=EVM_ADDR, amount=D("1.5"), transaction_fee_flag=True)
    assert ledger.free[("alice", "XYZ")] == D("5.5")


def test_duplicate_withdraw_order_id(wallet):
    """A withdrawOrderId is used once per account."""
    withdraw(wallet, withdraw_order_id="w1")
    with pytest.raises(EngineError) as err:
        withdraw(wallet, withdraw_order_id="w1")
    assert err.value.code == -4108


def test_memo_network_accepts_a_tag(wallet):
    """On a memo network the tag is kept in the history."""
    withdraw(wallet, coin="USDT", network="TON", address=TON_ADDR, amount=D("5"), address_tag="42")
    [item] = wallet.withdraw_history("alice", now_ms=T0)
    assert item["addressTag"] == "42" and item["network"] == "TON"


# -- fee arithmetic and status over time -----------------------------------------------------------
def test_fee_is_inside_the_amount_by_default(wallet, ledger):
    """Without transactionFeeFlag the debit is the amount and the recipient gets amount - fee."""
    wid = withdraw(wallet, amount=D("0.5"))
    assert ledger.free[("alice", "BTC")] == D("9.5")
    [item] = wallet.withdraw_history("alice", now_ms=T0)
    assert item["id"] == wid and re.fullmatch("[0-9a-f]{32}", wid)
    assert (item["amount"], item["transactionFee"]) == ("0.49998800", "0.000012")


def test_fee_is_added_with_transaction_fee_flag(wallet, ledger):
    """With transactionFeeFlag the debit is amount + fee and the recipient gets the amount."""
    withdraw(wallet, amount=D("0.5"), transaction_fee_flag=True)
    assert ledger.free[("alice", "BTC")] == D("9.499988")
    [item] = wallet.withdraw_history("alice", now_ms=T0)
    assert item["amount"] == "0.50000000"


def test_withdrawal_status_moves_with_the_clock(wallet):
    """Processing (4) without txId, then with txId, then completed (6) with completeTime."""
    withdraw(wallet, withdraw_order_id="abc")
    [w] = wallet.withdraw_history("alice", now_ms=T0)
    assert (w["status"], w["txId"], w["applyTime"]) == (4, "", "2025-01-01 00:00:00")
    assert "completeTime" not in w and w["withdrawOrderId"] == "abc"
    assert wallet.advance(T0 + 999) == []
    assert wallet.withdraw_history("alice", now_ms=T0)[0]["txId"] == ""
    wallet.advance(T0 + 1_000)
    [w] = wallet.withdraw_history("alice", now_ms=T0)
    assert w["status"] == 4 and re.fullmatch("[0-9a-f]{64}", w["txId"])
    assert wallet.coins_info("alice")[2]["withdrawing"] == "0.50000000"
    wallet.advance(T0 + 5_000)
    [done] = wallet.withdraw_history("alice", now_ms=T0)
    assert done["status"] == 6 and done["completeTime"] == "2025-01-01 00:00:05"
    assert done["txId"] == w["txId"]
    assert wallet.coins_info("alice")[2]["withdrawing"] == "0.00000000"


# -- deposits --------------------------------------------------------------------------------------
def test_deposit_is_pending_then_credited(wallet, ledger):
    """credit_deposit: status 0 and no balance, then status 1 and the ledger credited."""
    record = wallet.credit_deposit("bob", "USDT", D("250"), network="TRX", now_ms=T0)
    assert record["status"] == 0 and record["confirmTimes"] == "0/1"
    assert record["address"] == wallet.deposit_address("bob", "USDT", "TRX")["address"]
    assert ("bob", "USDT") not in ledger.free
    assert wallet.advance(T0 + 1_999) == []
    changes = wallet.advance(T0 + 2_000)
    assert changes == [WalletChange("deposit", "bob", "USDT", D("250"), T0 + 2_000, record["id"])]
    assert ledger.free[("bob", "USDT")] == D("250")
    [item] = wallet.deposit_history("bob", now_ms=T0 + 2_000)
    [example, _] = load_example("sapi_deposit_history.json")
    assert set(item) == set(example)
    assert item["status"] == 1 and item["confirmTimes"] == "1/1" and item["amount"] == "250"
    assert wallet.advance(T0 + 10_000) == []  # credited once


def test_deposit_rules(wallet):
    """Deposits need a positive amount, a known coin/network and an open network."""
    with pytest.raises(ValueError):
        wallet.credit_deposit("bob", "BTC", D("0"), now_ms=T0)
    with pytest.raises(ValueError):
        wallet.credit_deposit("bob", "BCC", D("1"), now_ms=T0)
    with pytest.raises(EngineError) as err:
        wallet.credit_deposit("bob", "BTC", D("1"), network="XRP", now_ms=T0)
    assert err.value.code == -4088


# -- history ---------------------------------------------------------------------------------------
def test_withdraw_history_filters_and_paging(wallet):
    """coin, status, withdrawOrderId, idList, offset and limit; newest first."""
    ids = [withdraw(wallet, now_ms=T0 + i * 10_000, withdraw_order_id=f"o{i}") for i in range(5)]
    usdt = withdraw(wallet, coin="USDT", network="TRX", address=TRX_ADDR, amount=D("20"),
                    now_ms=T0 + 60_000)  # fmt: skip
    wallet.advance(T0 + 25_000)  # the first three complete
    now = T0 + 100_000
    everything = wallet.withdraw_history("alice", now_ms=now)
    assert [w["id"] for w in everything] == [usdt, *reversed(ids)]
    assert [w["id"] for w in wallet.withdraw_history("alice", coin="USDT", now_ms=now)] == [usdt]
    done = wallet.withdraw_history("alice", status=6, now_ms=now)
    assert {w["id"] for w in done} == set(ids[:3])
    by_order = wallet.withdraw_history("alice", withdraw_order_id="o3", now_ms=now)
    assert [w["id"] for w in by_order] == [ids[3]]
    listed = wallet.withdraw_history("alice", id_list=[ids[0], usdt], now_ms=now)
    assert [w["id"] for w in listed] == [usdt, ids[0]]
    page = wallet.withdraw_history("alice", offset=2, limit=2, now_ms=now)
    assert [w["id"] for w in page] == [ids[3], ids[2]]
    window = wallet.withdraw_history("alice", start_time=T0 + 15_000, end_time=T0 + 35_000,
                                     now_ms=now)  # fmt: skip
    assert [w["id"] for w in window] == [ids[3], ids[2]]
    assert wallet.withdraw_history("bob", now_ms=now) == []


def test_history_windows(wallet):
    """Default window: the last 90 days; longer spans are -1127; bad params -1130."""
    old = withdraw(wallet, now_ms=T0)
    now = T0 + 91 * DAY
    assert wallet.withdraw_history("alice", now_ms=now) == []
    got = wallet.withdraw_history("alice", start_time=T0 - DAY, end_time=T0 + DAY, now_ms=now)
    assert [w["id"] for w in got] == [old]
    with pytest.raises(EngineError) as err:
        wallet.withdraw_history("alice", start_time=T0, end_time=T0 + 91 * DAY, now_ms=now)
    assert err.value.code == -1127
    with pytest.raises(EngineError) as err:
        wallet.withdraw_history("alice", withdraw_order_id="x", start_time=T0,
                                end_time=T0 + 8 * DAY, now_ms=now)  # fmt: skip
    assert err.value.code == -1127
    with pytest.raises(EngineError) as err:
        wallet.deposit_history("alice", start_time=T0, end_time=T0 + 91 * DAY, now_ms=now)
    assert err.value.code == -1127
    for kwargs in (
        {"status": 9},
        {"limit": 0},
        {"offset": -1},
        {"id_list": [str(i) for i in range(46)]},
    ):
        with pytest.raises(EngineError) as err:
            wallet.withdraw_history("alice", now_ms=now, **kwargs)
        assert err.value.code == -1130


def test_deposit_history_filters(wallet):
    """coin, status, txId and includeSource filter and shape the deposit history."""
    a = wallet.credit_deposit("bob", "BTC", D("1"), now_ms=T0)
    b = wallet.credit_deposit("bob", "ETH", D("2"), tx_id="0xabc", now_ms=T0 + 5_000)
    wallet.advance(T0 + 3_000)
    now = T0 + 6_000
    assert [d["id"] for d in wallet.deposit_history("bob", now_ms=now)] == [b["id"], a["id"]]
    assert [d["id"] for d in wallet.deposit_history("bob", coin="BTC", now_ms=now)] == [a["id"]]
    assert [d["id"] for d in wallet.deposit_history("bob", status=0, now_ms=now)] == [b["id"]]
    assert [d["id"] for d in wallet.deposit_history("bob", tx_id="0xabc", now_ms=now)] == [b["id"]]
    [src] = wallet.deposit_history("bob", coin="ETH", include_source=True, now_ms=now)
    assert re.fullmatch("0x[0-9a-f]{40}", src["sourceAddress"])
    assert "sourceAddress" not in wallet.deposit_history("bob", coin="ETH", now_ms=now)[0]
    assert re.fullmatch("[0-9]{18}", a["id"]) and re.fullmatch("[0-9a-f]{64}", a["txId"])
