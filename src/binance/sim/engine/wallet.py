"""The simulated wallet: coins and networks, deposit addresses, withdrawals and deposits over time.

It answers the ``/sapi/v1/capital/*`` and ``/sapi/v1/asset/assetDetail`` questions (NOTES.md §4.3)
in Binance's shapes and moves money only through a :class:`Ledger` (the engine's accounts): a
withdrawal debits its amount (plus the fee when ``transactionFeeFlag`` is true) when it is applied
and then goes ``4`` processing -> ``6`` completed as the clock passes; an operator-credited
deposit goes ``0`` pending -> ``1`` success and is credited then. Addresses are deterministic per
(seed, account, coin, network) and match the network's ``addressRegex``.

Amounts: without ``transactionFeeFlag`` the requested amount includes the fee (the recipient gets
``amount - fee``); with it the fee is added on top (the recipient gets ``amount``). History
records show the amount the recipient gets and the fee apart.

No I/O here; must not import asyncio, aiohttp, json or the client.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NoReturn, Protocol, TypeVar

from binance import errorcodes
from binance.sim.engine import EngineError

__all__ = [
    "CoinConfig",
    "Ledger",
    "NetworkConfig",
    "Wallet",
    "WalletChange",
    "default_coins",
    "DEFAULT_ASSETS",
    "WITHDRAW_STATUS_PROCESSING",
    "WITHDRAW_STATUS_COMPLETED",
    "DEPOSIT_STATUS_PENDING",
    "DEPOSIT_STATUS_SUCCESS",
]

# Status codes of /sapi/v1/capital/withdraw/history and /deposit/hisrec (NOTES.md §4.3).
WITHDRAW_STATUS_PROCESSING = 4
WITHDRAW_STATUS_COMPLETED = 6
WITHDRAW_STATUSES = range(0, 7)
DEPOSIT_STATUS_PENDING = 0
DEPOSIT_STATUS_SUCCESS = 1
DEPOSIT_STATUSES = (0, 1, 2, 6, 7, 8)

_DAY_MS = 86_400_000
#: Default and maximum span of the history endpoints; 7 days when ``withdrawOrderId`` is given.
HISTORY_SPAN_MS = 90 * _DAY_MS
ORDER_ID_SPAN_MS = 7 * _DAY_MS
MAX_HISTORY_LIMIT = 1000
MAX_ID_LIST = 45  # NOTES.md §14: 45 (connector) vs 50 (some pages)

_MAX_WITHDRAW = Decimal("9999999999.99999999")
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_HEX = "0123456789abcdef"
_T = TypeVar("_T")


class Ledger(Protocol):
    """Where the wallet moves money: the engine's accounts implement it."""

    def withdraw_funds(self, account_id: str, asset: str, amount: Decimal) -> None:
        """Debit ``amount`` from the free balance; raise ``EngineError`` if it is short."""

    def deposit_funds(self, account_id: str, asset: str, amount: Decimal) -> None:
        """Credit ``amount`` to the free balance."""


@dataclass
class NetworkConfig:
    """One network a coin moves on (an item of ``networkList`` in ``capital/config/getall``).

    ``address_kind`` picks how deposit addresses are made: ``"btc"`` (bech32 ``bc1q...``),
    ``"evm"`` (``0x`` + 40 hex, the same address on every EVM network), ``"tron"`` (``T`` + 33
    base58), ``"neo3"`` (``N`` + 33 base58), ``"ton"`` (``EQ`` + 46 url-safe base64) or
    ``"base58"`` (34 base58). A network with a ``memo_regex`` requires a memo (``tag``) on
    deposits and accepts ``addressTag`` on withdrawals; others reject it (-4106).
    """

    network: str
    name: str
    address_regex: str
    withdraw_fee: Decimal
    withdraw_min: Decimal
    withdraw_max: Decimal = _MAX_WITHDRAW
    withdraw_integer_multiple: Decimal = Decimal("0.00000001")
    memo_regex: str = ""
    withdraw_enable: bool = True
    deposit_enable: bool = True
    min_confirm: int = 1
    unlock_confirm: int = 0
    is_default: bool = False
    special_tips: str = ""
    deposit_desc: str = ""
    withdraw_desc: str = ""
    same_address: bool = False
    address_kind: str = "evm"
    explorer_url: str = ""
    """Address page template with ``{address}`` (the ``url`` of ``deposit/address``)."""

    @property
    def needs_memo(self) -> bool:
        """True if deposits need a memo/tag (the network has a ``memoRegex``)."""
        return bool(self.memo_regex)


@dataclass
class CoinConfig:
    """One coin of ``capital/config/getall``."""

    coin: str
    name: str
    networks: list[NetworkConfig]
    is_legal_money: bool = False
    trading: bool = True

    def network(self, name: str | None) -> NetworkConfig:
        """The named network, or the default one when ``name`` is None.

        Raises:
            EngineError: -4088 unknown network.
        """
        if name is None:
            for net in self.networks:
                if net.is_default:
                    return net
            if self.networks:
                return self.networks[0]
        else:
            for net in self.networks:
                if net.network == name:
                    return net
        raise EngineError(errorcodes.WALLET_INVALID_NETWORK)


@dataclass(frozen=True)
class WalletChange:
    """A balance change the wallet made through the ledger (already applied there).

    ``kind`` is ``"withdraw"`` (``delta`` negative) or ``"deposit"``; the engine may publish it as
    a ``balanceUpdate`` if its ledger does not do so itself.
    """

    kind: str
    account_id: str
    asset: str
    delta: Decimal
    time: int
    record_id: str


@dataclass
class _Withdrawal:
    id: str
    account_id: str
    coin: str
    network: str
    address: str
    address_tag: str
    amount: Decimal  # what the recipient gets
    fee: Decimal
    apply_time: int
    withdraw_order_id: str | None
    wallet_type: int
    name: str | None
    status: int = WITHDRAW_STATUS_PROCESSING
    tx_id: str = ""
    confirm_no: int = 0
    complete_time: int | None = None


@dataclass
class _Deposit:
    id: str
    account_id: str
    coin: str
    network: str
    address: str
    address_tag: str
    amount: Decimal
    tx_id: str
    insert_time: int
    confirms_needed: int
    unlock_confirm: int
    source_address: str
    status: int = DEPOSIT_STATUS_PENDING
    complete_time: int | None = None
    credited: bool = field(default=False)


def _fmt(value: Decimal) -> str:
    """Plain string with at least 8 decimals (``"0.00000220"``), never scientific notation."""
    exponent = value.as_tuple().exponent
    places = max(8, -exponent) if isinstance(exponent, int) else 8
    return f"{value:.{places}f}"


def _plain(value: Decimal) -> str:
    """Plain string without trailing zeros (``"0.004"``), never scientific notation."""
    return f"{value.normalize():f}"


def _utc_text(ms: int) -> str:
    """``"2019-10-12 11:12:02"`` (UTC), the SAPI withdraw history time format."""
    moment = _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


# -- default coins ---------------------------------------------------------------------------------
_EVM_REGEX = "^(0x)[0-9A-Fa-f]{40}$"
_MEMO_TIPS = (
    "Both a MEMO and an Address are required to successfully deposit your {coin} to Binance."
)


def _evm(network: str, name: str, fee: str, minimum: str, *, default: bool = False,
         confirm: int = 12, unlock: int = 0, multiple: str = "0.00000001",
         explorer: str = "") -> NetworkConfig:  # fmt: skip
    return NetworkConfig(
        network=network,
        name=name,
        address_regex=_EVM_REGEX,
        withdraw_fee=Decimal(fee),
        withdraw_min=Decimal(minimum),
        withdraw_integer_multiple=Decimal(multiple),
        min_confirm=confirm,
        unlock_confirm=unlock,
        is_default=default,
        address_kind="evm",
        explorer_url=explorer,
    )


def _eth(
    fee: str, minimum: str, default: bool = False, multiple: str = "0.00000001"
) -> NetworkConfig:
    return _evm("ETH", "Ethereum (ERC20)", fee, minimum, default=default, confirm=6, unlock=64,
                multiple=multiple, explorer="https://etherscan.io/address/{address}")  # fmt: skip


def _bsc(
    fee: str, minimum: str, default: bool = False, multiple: str = "0.00000001"
) -> NetworkConfig:
    return _evm("BSC", "BNB Smart Chain (BEP20)", fee, minimum, default=default, confirm=15,
                multiple=multiple, explorer="https://bscscan.com/address/{address}")  # fmt: skip


def _known_coins() -> dict[str, CoinConfig]:
    btc = CoinConfig("BTC", "Bitcoin", [
        NetworkConfig(
            network="BTC", name="Bitcoin", is_default=True,
            address_regex="^(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,62}$",
            withdraw_fee=Decimal("0.000012"), withdraw_min=Decimal("0.0001"),
            min_confirm=1, unlock_confirm=2, address_kind="btc",
            explorer_url="https://mempool.space/address/{address}",
        ),
        _bsc("0.0000024", "0.0000048"),
        _eth("0.00006", "0.00012"),
    ])  # fmt: skip
    eth = CoinConfig("ETH", "Ethereum", [
        _eth("0.0008", "0.0016", default=True),
        _bsc("0.00003", "0.00006"),
        _evm("ARBITRUM", "Arbitrum One", "0.0001", "0.0002", confirm=12,
             explorer="https://arbiscan.io/address/{address}"),
    ])  # fmt: skip
    bnb = CoinConfig("BNB", "BNB", [
        _bsc("0.0005", "0.01", default=True),
        NetworkConfig(
            network="BNB", name="BNB Beacon Chain (BEP2)",
            address_regex="^(bnb1)[0-9a-z]{38}$", memo_regex="^[0-9A-Za-z\\-_]{1,120}$",
            withdraw_fee=Decimal("0.0005"), withdraw_min=Decimal("0.01"),
            withdraw_enable=False, deposit_enable=False,
            deposit_desc="Network retired, Deposit Suspended",
            withdraw_desc="Network retired, Withdrawal Suspended",
            special_tips=_MEMO_TIPS.format(coin="BNB"), address_kind="bech32_bnb",
        ),
    ])  # fmt: skip
    usdt = CoinConfig("USDT", "TetherUS", [
        _eth("1.5", "3", default=True),
        NetworkConfig(
            network="TRX", name="Tron (TRC20)", address_regex="^T[1-9A-HJ-NP-Za-km-z]{33}$",
            withdraw_fee=Decimal("1"), withdraw_min=Decimal("10"),
            withdraw_integer_multiple=Decimal("0.000001"), min_confirm=1, unlock_confirm=0,
            address_kind="tron", explorer_url="https://tronscan.org/#/address/{address}",
        ),
        _bsc("0.01", "0.02"),
        NetworkConfig(
            network="TON", name="The Open Network",
            address_regex="^[UE][Qf][0-9a-zA-Z\\-_]{46}$", memo_regex="^[0-9A-Za-z\\-_]{1,120}$",
            withdraw_fee=Decimal("0.2"), withdraw_min=Decimal("1"),
            withdraw_integer_multiple=Decimal("0.000001"), min_confirm=1,
            special_tips=_MEMO_TIPS.format(coin="USDT"), address_kind="ton",
            explorer_url="https://tonviewer.com/{address}",
        ),
    ])  # fmt: skip
    neo = CoinConfig("NEO", "NEO", [
        NetworkConfig(
            network="NEO3", name="NEO N3", is_default=True,
            address_regex="^(N)[A-Za-z0-9]{33}$", withdraw_fee=Decimal("0"),
            withdraw_min=Decimal("1"), withdraw_integer_multiple=Decimal("1"),
            min_confirm=1, address_kind="neo3",
            explorer_url="https://explorer.onegate.space/accountprofile/{address}",
        ),
    ])  # fmt: skip
    bcc = CoinConfig("BCC", "Bitcoin Cash (old ticker)", [
        NetworkConfig(
            network="BCC", name="Bitcoin Cash", is_default=True,
            address_regex="^[13][a-km-zA-HJ-NP-Z1-9]{25,34}$",
            withdraw_fee=Decimal("0.001"), withdraw_min=Decimal("0.002"),
            withdraw_enable=False, deposit_enable=False,
            deposit_desc="Delisted, Deposit Suspended",
            withdraw_desc="Delisted, Withdrawal Suspended", address_kind="base58",
        ),
    ], trading=False)  # fmt: skip
    return {c.coin: c for c in (btc, eth, bnb, usdt, neo, bcc)}


#: The assets of the simulator's default markets.
DEFAULT_ASSETS = ("BCC", "BNB", "BTC", "ETH", "NEO", "USDT")


def default_coins(assets: Iterable[str] = DEFAULT_ASSETS) -> list[CoinConfig]:
    """Wallet configs for ``assets``: realistic networks for known coins, and for any other
    asset a generic ERC20 network (``0x`` addresses, fee 0.1, minimum 0.2), sorted by coin."""
    known = _known_coins()
    coins: list[CoinConfig] = []
    for asset in sorted(set(assets)):
        coin = known.get(asset)
        if coin is None:
            coin = CoinConfig(asset, asset, [_eth("0.1", "0.2", default=True)])
        coins.append(coin)
    return coins


# -- the wallet ------------------------------------------------------------------------------------
class Wallet:
    """Coins, deposit addresses, withdrawals and deposits of every account.

    Args:
        seed: makes addresses, ids and transaction hashes deterministic.
        ledger: debited on withdrawal, credited when a deposit succeeds.
        coins: the coin configs; ``None`` uses ``default_coins()``.
        withdraw_processing_ms: after this a withdrawal gets its ``txId`` (still processing).
        withdraw_complete_ms: after this a withdrawal is completed (status 6).
        deposit_confirm_ms: after this a pending deposit succeeds and is credited.
    """

    def __init__(
        self,
        seed: int,
        ledger: Ledger,
        coins: Iterable[CoinConfig] | None = None,
        *,
        withdraw_processing_ms: int = 60_000,
        withdraw_complete_ms: int = 300_000,
        deposit_confirm_ms: int = 120_000,
    ) -> None:
        self.seed = seed
        self.ledger = ledger
        self.coins: dict[str, CoinConfig] = {
            c.coin: c for c in (coins if coins is not None else default_coins())
        }
        self.withdraw_processing_ms = withdraw_processing_ms
        self.withdraw_complete_ms = max(withdraw_complete_ms, withdraw_processing_ms)
        self.deposit_confirm_ms = deposit_confirm_ms
        self._withdrawals: list[_Withdrawal] = []
        self._deposits: list[_Deposit] = []
        self._counter = 0

    # -- coins ---------------------------------------------------------------------------------
    def coin(self, coin: str) -> CoinConfig:
        """The config of ``coin``.

        Raises:
            EngineError: -4081 unknown coin.
        """
        try:
            return self.coins[coin]
        except KeyError:
            raise EngineError(errorcodes.WALLET_UNKNOWN_COIN) from None

    def coins_info(
        self,
        account_id: str | None = None,
        balances: Mapping[str, tuple[Decimal, Decimal]] | None = None,
    ) -> list[dict[str, object]]:
        """``GET /sapi/v1/capital/config/getall``: every coin with its networks.

        Args:
            account_id: whose pending withdrawals fill ``withdrawing``.
            balances: ``{asset: (free, locked)}`` of that account for ``free``/``locked``.
        """
        zero = "0.00000000"
        withdrawing: dict[str, Decimal] = {}
        if account_id is not None:
            for w in self._withdrawals:
                if w.account_id == account_id and w.status == WITHDRAW_STATUS_PROCESSING:
                    withdrawing[w.coin] = withdrawing.get(w.coin, Decimal(0)) + w.amount + w.fee
        out: list[dict[str, object]] = []
        for coin in self.coins.values():
            free, locked = (balances or {}).get(coin.coin, (Decimal(0), Decimal(0)))
            out.append(
                {
                    "coin": coin.coin,
                    "depositAllEnable": any(n.deposit_enable for n in coin.networks),
                    "free": _fmt(free),
                    "freeze": zero,
                    "ipoable": zero,
                    "ipoing": zero,
                    "isLegalMoney": coin.is_legal_money,
                    "locked": _fmt(locked),
                    "name": coin.name,
                    "networkList": [self._network_info(coin, n) for n in coin.networks],
                    "storage": zero,
                    "trading": coin.trading,
                    "withdrawAllEnable": any(n.withdraw_enable for n in coin.networks),
                    "withdrawing": _fmt(withdrawing.get(coin.coin, Decimal(0))),
                }
            )
        return out

    @staticmethod
    def _network_info(coin: CoinConfig, net: NetworkConfig) -> dict[str, object]:
        return {
            "addressRegex": net.address_regex,
            "coin": coin.coin,
            "depositDesc": "" if net.deposit_enable else net.deposit_desc,
            "depositEnable": net.deposit_enable,
            "isDefault": net.is_default,
            "memoRegex": net.memo_regex,
            "minConfirm": net.min_confirm,
            "name": net.name,
            "network": net.network,
            "specialTips": net.special_tips,
            "unLockConfirm": net.unlock_confirm,
            "withdrawDesc": "" if net.withdraw_enable else net.withdraw_desc,
            "withdrawEnable": net.withdraw_enable,
            "withdrawFee": _fmt(net.withdraw_fee),
            "withdrawIntegerMultiple": _fmt(net.withdraw_integer_multiple),
            "withdrawMax": _fmt(net.withdraw_max),
            "withdrawMin": _fmt(net.withdraw_min),
            "sameAddress": net.same_address,
        }

    def asset_detail(self, asset: str | None = None) -> dict[str, dict[str, object]]:
        """``GET /sapi/v1/asset/assetDetail``: per coin, its default network's limits.

        ``withdrawFee`` is a ``Decimal`` that Binance sends as a JSON number; ``depositTip``
        appears only while deposits are suspended. An unknown ``asset`` gives ``{}``.
        """
        if asset is None:
            coins = list(self.coins.values())
        else:
            coins = [self.coins[asset]] if asset in self.coins else []
        out: dict[str, dict[str, object]] = {}
        for coin in coins:
            net = coin.network(None)
            item: dict[str, object] = {
                "minWithdrawAmount": _fmt(net.withdraw_min),
                "depositStatus": net.deposit_enable,
                "withdrawFee": net.withdraw_fee,
                "withdrawStatus": net.withdraw_enable,
            }
            if not net.deposit_enable:
                item["depositTip"] = net.deposit_desc
            out[coin.coin] = item
        return out

    # -- addresses -----------------------------------------------------------------------------
    def deposit_address(
        self, account_id: str, coin: str, network: str | None = None
    ) -> dict[str, str]:
        """``GET /sapi/v1/capital/deposit/address``: ``{address, coin, tag, url}``.

        The same (seed, account, coin, network) always gives the same address; EVM networks
        share one address per account. Memo networks give a numeric ``tag``.

        Raises:
            EngineError: -4081 unknown coin, -4088 unknown network.
        """
        cfg = self.coin(coin)
        net = cfg.network(network)
        address, tag = self._address(account_id, cfg.coin, net)
        url = net.explorer_url.format(address=address) if net.explorer_url else ""
        return {"address": address, "coin": cfg.coin, "tag": tag, "url": url}

    def _address(self, account_id: str, coin: str, net: NetworkConfig) -> tuple[str, str]:
        kind = net.address_kind
        # EVM networks (and coins on them) share one address per account, as on Binance.
        key = (self.seed, account_id, "evm") if kind == "evm" else (
            self.seed, account_id, coin, net.network)  # fmt: skip
        stream = _Stream(key)
        if kind == "evm":
            address = "0x" + stream.chars(_HEX, 40)
        elif kind == "btc":
            address = "bc1q" + stream.chars(_BECH32, 38)
        elif kind == "tron":
            address = "T" + stream.chars(_BASE58, 33)
        elif kind == "neo3":
            address = "N" + stream.chars(_BASE58, 33)
        elif kind == "ton":
            address = "EQ" + stream.chars(_B64URL, 46)
        elif kind == "bech32_bnb":
            address = "bnb1" + stream.chars(_BECH32, 38)
        else:
            address = "1" + stream.chars(_BASE58, 33)
        tag = str(100_000_000 + stream.number() % 900_000_000) if net.needs_memo else ""
        return address, tag

    # -- withdrawals ---------------------------------------------------------------------------
    def withdraw(
        self,
        account_id: str,
        *,
        coin: str,
        address: str,
        amount: Decimal,
        network: str | None = None,
        address_tag: str | None = None,
        transaction_fee_flag: bool = False,
        name: str | None = None,
        withdraw_order_id: str | None = None,
        wallet_type: int = 0,
        now_ms: int,
    ) -> str:
        """``POST /sapi/v1/capital/withdraw/apply``: validate, debit the ledger, return the id.

        Without ``transaction_fee_flag`` ``amount`` includes the fee; with it the fee is added.

        Raises:
            EngineError: -4081 unknown coin, -4088 unknown network, -4019 withdrawals disabled,
                -4106 tag on a network without memos, -4107 bad tag, -4003 bad address,
                -4006 / -4007 below minimum / above maximum, -4005 not a multiple,
                -4020 amount not above the fee, -4108 duplicate ``withdrawOrderId``,
                -4026 insufficient balance.
        """
        cfg = self.coin(coin)
        net = cfg.network(network)
        if not net.withdraw_enable:
            raise EngineError(errorcodes.WALLET_WITHDRAW_DISABLED)
        tag = address_tag or ""
        if tag and not net.needs_memo:
            raise EngineError(errorcodes.WALLET_TAG_NOT_SUPPORTED)
        if tag and not re.search(net.memo_regex, tag):
            raise EngineError(errorcodes.WALLET_INVALID_ADDRESS_TAG)
        if not re.search(net.address_regex, address):
            raise EngineError(errorcodes.WALLET_INVALID_ADDRESS)
        if amount < net.withdraw_min or amount <= 0:
            raise EngineError(errorcodes.WALLET_AMOUNT_TOO_LOW)
        if amount > net.withdraw_max:
            raise EngineError(errorcodes.WALLET_AMOUNT_TOO_HIGH)
        multiple = net.withdraw_integer_multiple
        if multiple > 0 and amount % multiple != 0:
            bad = errorcodes.WALLET_AMOUNT_NOT_MULTIPLE
            raise EngineError(bad, bad.msg(_plain(multiple)))
        fee = net.withdraw_fee
        if transaction_fee_flag:
            debit, received = amount + fee, amount
        else:
            if amount <= fee:
                raise EngineError(errorcodes.WALLET_WITHDRAW_FEE_TOO_LOW)
            debit, received = amount, amount - fee
        if withdraw_order_id is not None and any(
            w.account_id == account_id and w.withdraw_order_id == withdraw_order_id
            for w in self._withdrawals
        ):
            raise EngineError(errorcodes.WALLET_DUPLICATE_WITHDRAW_ORDER_ID)
        try:
            self.ledger.withdraw_funds(account_id, cfg.coin, debit)
        except EngineError as exc:
            raise EngineError(errorcodes.WALLET_INSUFFICIENT_BALANCE) from exc
        self._counter += 1
        record = _Withdrawal(
            id=_Stream((self.seed, "withdraw", self._counter)).chars(_HEX, 32),
            account_id=account_id,
            coin=cfg.coin,
            network=net.network,
            address=address,
            address_tag=tag,
            amount=received,
            fee=fee,
            apply_time=now_ms,
            withdraw_order_id=withdraw_order_id,
            wallet_type=wallet_type,
            name=name,
        )
        self._withdrawals.append(record)
        return record.id

    def withdraw_history(
        self,
        account_id: str,
        *,
        coin: str | None = None,
        withdraw_order_id: str | None = None,
        status: int | None = None,
        offset: int = 0,
        limit: int = 1000,
        id_list: Iterable[str] | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        now_ms: int,
    ) -> list[dict[str, object]]:
        """``GET /sapi/v1/capital/withdraw/history``, newest first.

        Default window: the last 90 days (7 with ``withdraw_order_id``); a longer span is an
        error. ``limit`` is capped at 1000; ``id_list`` takes at most 45 ids.

        Raises:
            EngineError: -1127 span too long, -1130 bad status, offset, limit or idList.
        """
        span = ORDER_ID_SPAN_MS if withdraw_order_id is not None else HISTORY_SPAN_MS
        start, end = _window(start_time, end_time, span, now_ms)
        if status is not None and status not in WITHDRAW_STATUSES:
            _invalid("status")
        ids = set(id_list) if id_list is not None else None
        if ids is not None and len(ids) > MAX_ID_LIST:
            _invalid("idList")
        chosen = [
            w
            for w in self._withdrawals
            if w.account_id == account_id
            and start <= w.apply_time <= end
            and (coin is None or w.coin == coin)
            and (withdraw_order_id is None or w.withdraw_order_id == withdraw_order_id)
            and (status is None or w.status == status)
            and (ids is None or w.id in ids)
        ]
        chosen.sort(key=lambda w: w.apply_time, reverse=True)
        return [self._withdraw_dict(w) for w in _page(chosen, offset, limit)]

    def _withdraw_dict(self, w: _Withdrawal) -> dict[str, object]:
        item: dict[str, object] = {
            "id": w.id,
            "amount": _fmt(w.amount),
            "transactionFee": _plain(w.fee),
            "coin": w.coin,
            "status": w.status,
            "address": w.address,
            "txId": w.tx_id,
            "applyTime": _utc_text(w.apply_time),
            "network": w.network,
            "transferType": 0,
        }
        if w.address_tag:
            item["addressTag"] = w.address_tag
        if w.withdraw_order_id is not None:
            item["withdrawOrderId"] = w.withdraw_order_id
        item["info"] = ""
        item["confirmNo"] = w.confirm_no
        item["walletType"] = w.wallet_type
        item["txKey"] = ""
        if w.complete_time is not None:
            item["completeTime"] = _utc_text(w.complete_time)
        return item

    # -- deposits ------------------------------------------------------------------------------
    def credit_deposit(
        self,
        account_id: str,
        coin: str,
        amount: Decimal,
        *,
        network: str | None = None,
        address: str | None = None,
        tx_id: str | None = None,
        now_ms: int,
    ) -> dict[str, object]:
        """The operator's way to send a deposit: pending now, credited ``deposit_confirm_ms`` later.

        ``address`` defaults to the account's deposit address on that network. Returns the
        deposit record as ``deposit/hisrec`` shows it.

        Raises:
            EngineError: -4081 unknown coin, -4088 unknown network.
            ValueError: ``amount`` not positive, or deposits disabled on the network.
        """
        cfg = self.coin(coin)
        net = cfg.network(network)
        if amount <= 0:
            raise ValueError("deposit amount must be positive")
        if not net.deposit_enable:
            raise ValueError(f"deposits of {coin} on {net.network} are suspended")
        own_address, tag = self._address(account_id, cfg.coin, net)
        self._counter += 1
        stream = _Stream((self.seed, "deposit", self._counter))
        record = _Deposit(
            id=str(700_000_000_000_000_000 + stream.number() % 100_000_000_000_000_000),
            account_id=account_id,
            coin=cfg.coin,
            network=net.network,
            address=address if address is not None else own_address,
            address_tag=tag,
            amount=amount,
            tx_id=tx_id if tx_id is not None else _tx_hash(net, stream),
            insert_time=now_ms,
            confirms_needed=max(1, net.min_confirm),
            unlock_confirm=net.unlock_confirm,
            source_address=self._address("source:" + str(self._counter), cfg.coin, net)[0],
        )
        self._deposits.append(record)
        if self.deposit_confirm_ms <= 0:
            self.advance(now_ms)
        return self._deposit_dict(record, include_source=False)

    def deposit_history(
        self,
        account_id: str,
        *,
        coin: str | None = None,
        status: int | None = None,
        offset: int = 0,
        limit: int = 1000,
        start_time: int | None = None,
        end_time: int | None = None,
        tx_id: str | None = None,
        include_source: bool = False,
        now_ms: int,
    ) -> list[dict[str, object]]:
        """``GET /sapi/v1/capital/deposit/hisrec``, newest first (default window: 90 days).

        Raises:
            EngineError: -1127 span over 90 days, -1130 bad status, offset or limit.
        """
        start, end = _window(start_time, end_time, HISTORY_SPAN_MS, now_ms)
        if status is not None and status not in DEPOSIT_STATUSES:
            _invalid("status")
        chosen = [
            d
            for d in self._deposits
            if d.account_id == account_id
            and start <= d.insert_time <= end
            and (coin is None or d.coin == coin)
            and (status is None or d.status == status)
            and (tx_id is None or d.tx_id == tx_id)
        ]
        chosen.sort(key=lambda d: d.insert_time, reverse=True)
        return [self._deposit_dict(d, include_source) for d in _page(chosen, offset, limit)]

    def _deposit_dict(self, d: _Deposit, include_source: bool) -> dict[str, object]:
        done = d.status == DEPOSIT_STATUS_SUCCESS
        confirms = d.confirms_needed if done else 0
        item: dict[str, object] = {
            "id": d.id,
            "amount": _plain(d.amount),
            "coin": d.coin,
            "network": d.network,
            "status": d.status,
            "address": d.address,
            "addressTag": d.address_tag,
            "txId": d.tx_id,
            "insertTime": d.insert_time,
            "transferType": 0,
            "confirmTimes": f"{confirms}/{d.confirms_needed}",
            "unlockConfirm": d.unlock_confirm,
            "walletType": 0,
        }
        if include_source:
            item["sourceAddress"] = d.source_address
        return item

    # -- time ----------------------------------------------------------------------------------
    def advance(self, now_ms: int) -> list[WalletChange]:
        """Move withdrawals and deposits along to ``now_ms``; credit deposits that succeed.

        Returns:
            The deposits credited through the ledger in this call, in time order.
        """
        changes: list[WalletChange] = []
        for w in self._withdrawals:
            if w.status != WITHDRAW_STATUS_PROCESSING:
                continue
            if not w.tx_id and now_ms >= w.apply_time + self.withdraw_processing_ms:
                net = self.coins[w.coin].network(w.network)
                w.tx_id = _tx_hash(net, _Stream((self.seed, "tx", w.id)))
                w.confirm_no = 1
            if now_ms >= w.apply_time + self.withdraw_complete_ms:
                net = self.coins[w.coin].network(w.network)
                if not w.tx_id:
                    w.tx_id = _tx_hash(net, _Stream((self.seed, "tx", w.id)))
                w.status = WITHDRAW_STATUS_COMPLETED
                w.confirm_no = max(net.min_confirm, 1)
                w.complete_time = w.apply_time + self.withdraw_complete_ms
        for d in self._deposits:
            if (
                d.status == DEPOSIT_STATUS_PENDING
                and now_ms >= d.insert_time + self.deposit_confirm_ms
            ):
                d.status = DEPOSIT_STATUS_SUCCESS
                d.complete_time = d.insert_time + self.deposit_confirm_ms
                self.ledger.deposit_funds(d.account_id, d.coin, d.amount)
                d.credited = True
                changes.append(
                    WalletChange("deposit", d.account_id, d.coin, d.amount, d.complete_time, d.id)
                )
        changes.sort(key=lambda c: c.time)
        return changes


# -- helpers ---------------------------------------------------------------------------------------
class _Stream:
    """Deterministic pseudo-random characters from a key (blake2b in counter mode)."""

    def __init__(self, key: object) -> None:
        self._key = repr(key).encode()
        self._block = 0
        self._buffer = b""

    def _bytes(self, n: int) -> bytes:
        while len(self._buffer) < n:
            digest = hashlib.blake2b(self._key + self._block.to_bytes(4, "big"), digest_size=64)
            self._buffer += digest.digest()
            self._block += 1
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def chars(self, alphabet: str, n: int) -> str:
        size = len(alphabet)
        limit = 256 - 256 % size  # rejection sampling keeps the characters uniform
        out: list[str] = []
        while len(out) < n:
            for byte in self._bytes(n - len(out) + 8):
                if byte < limit and len(out) < n:
                    out.append(alphabet[byte % size])
        return "".join(out)

    def number(self) -> int:
        return int.from_bytes(self._bytes(8), "big")


def _tx_hash(net: NetworkConfig, stream: _Stream) -> str:
    digits = stream.chars(_HEX, 64)
    return "0x" + digits if net.address_kind == "evm" else digits


def _invalid(param: str) -> NoReturn:
    bad = errorcodes.INVALID_PARAMETER
    raise EngineError(bad, bad.msg(param))


def _window(start: int | None, end: int | None, span: int, now_ms: int) -> tuple[int, int]:
    """Binance's default window: the last ``span`` ms; a span longer than ``span`` is an error."""
    if start is None and end is None:
        return now_ms - span, now_ms
    if start is None:
        assert end is not None
        return end - span, end
    if end is None:
        return start, min(start + span, max(now_ms, start))
    if end - start > span:
        bad = errorcodes.MORE_THAN_XX_HOURS
        raise EngineError(bad, bad.msg(span // 3_600_000))
    if end < start:
        _invalid("startTime")
    return start, end


def _page(items: list[_T], offset: int, limit: int) -> list[_T]:
    if offset < 0:
        _invalid("offset")
    if limit < 1:
        _invalid("limit")
    return items[offset : offset + min(limit, MAX_HISTORY_LIMIT)]
