"""Account balances (free and locked) with exact reconciliation, and the account records.

:class:`Accounts` is the ledger of the simulator: every account's free and locked amount per
asset, and the commission collected by the exchange. All movements go through a handful of methods
(lock, unlock, settle a fill, deposit, withdraw) so one invariant always holds, per asset::

    sum(free + locked over all accounts) + fees collected
        == sum(starting balances) + deposits - withdrawals

The wallet (``wallet.py``) moves money in and out through :meth:`Accounts.deposit_funds` and
:meth:`Accounts.withdraw_funds`; the matching engine through the others.

No I/O here; must not import the client, asyncio or json.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from binance import errorcodes
from binance.errorcodes import EngineMessage
from binance.sim.engine import EngineError

__all__ = [
    "Account",
    "AccountInfo",
    "AccountTrade",
    "Accounts",
    "CommissionRates",
]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class CommissionRates:
    """Commission rates as fractions (0.001 = 0.1 %); Binance's ``commissionRates`` object."""

    maker: Decimal
    taker: Decimal
    buyer: Decimal = ZERO
    seller: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class AccountTrade:
    """One of the account's fills (``GET /api/v3/myTrades`` entry)."""

    symbol: str
    id: int
    order_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool
    order_list_id: int = -1
    is_best_match: bool = True


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """What ``GET /api/v3/account`` reports."""

    account_id: str
    uid: int
    commission_rates: CommissionRates
    can_trade: bool
    can_withdraw: bool
    can_deposit: bool
    update_time: int
    balances: tuple[tuple[str, Decimal, Decimal], ...]
    """``(asset, free, locked)`` for every asset, sorted by asset."""
    account_type: str = "SPOT"
    permissions: tuple[str, ...] = ("SPOT",)
    brokered: bool = False
    require_self_trade_prevention: bool = False
    prevent_sor: bool = False


@dataclass(slots=True)
class Account:
    """One account's balances and flags (engine state; read through :class:`Accounts`)."""

    account_id: str
    uid: int
    free: dict[str, Decimal] = field(default_factory=dict)
    locked: dict[str, Decimal] = field(default_factory=dict)
    can_trade: bool = True
    can_withdraw: bool = True
    can_deposit: bool = True
    update_time: int = 0
    commission: CommissionRates | None = None
    """Account-specific rates; ``None`` uses the exchange's defaults."""
    internal: bool = False
    """True for the background traders' accounts (never shown to users)."""


class Accounts:
    """The ledger: all accounts' free/locked balances and the fees collected.

    Args:
        default_rates: commission rates of accounts without their own.
    """

    def __init__(self, default_rates: CommissionRates) -> None:
        self.default_rates = default_rates
        self._accounts: dict[str, Account] = {}
        self.fees: dict[str, Decimal] = {}
        """Commission collected by the exchange, per asset."""
        self.net_inflow: dict[str, Decimal] = {}
        """Starting balances + deposits - withdrawals, per asset (for reconciliation)."""
        self._next_uid = 354937868  # uid in Binance's account example

    # -- accounts ----------------------------------------------------------------------------
    def create(
        self,
        account_id: str,
        balances: Mapping[str, Decimal],
        now_ms: int,
        *,
        internal: bool = False,
    ) -> Account:
        """Open ``account_id`` with ``balances`` free (raises ``ValueError`` if it exists)."""
        if account_id in self._accounts:
            raise ValueError(f"account {account_id!r} already exists")
        account = Account(account_id, self._next_uid, update_time=now_ms, internal=internal)
        self._next_uid += 1
        for asset, amount in balances.items():
            amount = Decimal(amount)
            if amount < 0:
                raise ValueError(f"negative starting balance for {asset}")
            account.free[asset] = amount
            account.locked.setdefault(asset, ZERO)
            self.net_inflow[asset] = self.net_inflow.get(asset, ZERO) + amount
        self._accounts[account_id] = account
        return account

    def get(self, account_id: str) -> Account:
        """The account, or ``KeyError``."""
        return self._accounts[account_id]

    def __contains__(self, account_id: object) -> bool:
        return account_id in self._accounts

    def ids(self, include_internal: bool = False) -> list[str]:
        """Ids of all accounts (users' only unless ``include_internal``)."""
        return [a.account_id for a in self._accounts.values() if include_internal or not a.internal]

    def all(self) -> Iterable[Account]:
        """Every account, internal ones included."""
        return self._accounts.values()

    def rates(self, account_id: str) -> CommissionRates:
        """The commission rates that apply to ``account_id``."""
        return self._accounts[account_id].commission or self.default_rates

    def free(self, account_id: str, asset: str) -> Decimal:
        """Free balance of ``asset`` (0 if never held)."""
        return self._accounts[account_id].free.get(asset, ZERO)

    def locked(self, account_id: str, asset: str) -> Decimal:
        """Locked balance of ``asset`` (0 if never held)."""
        return self._accounts[account_id].locked.get(asset, ZERO)

    def balances(self, account_id: str) -> tuple[tuple[str, Decimal, Decimal], ...]:
        """``(asset, free, locked)`` for every asset the account has seen, sorted by asset."""
        account = self._accounts[account_id]
        return tuple(
            (asset, account.free.get(asset, ZERO), account.locked.get(asset, ZERO))
            for asset in sorted(set(account.free) | set(account.locked))
        )

    def position(
        self, account_id: str, assets: Iterable[str]
    ) -> tuple[tuple[str, Decimal, Decimal], ...]:
        """``(asset, free, locked)`` for ``assets`` (the ``outboundAccountPosition`` content)."""
        account = self._accounts[account_id]
        return tuple(
            (asset, account.free.get(asset, ZERO), account.locked.get(asset, ZERO))
            for asset in assets
        )

    # -- engine movements --------------------------------------------------------------------
    def lock(self, account: Account, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from free to locked, or raise -2010 insufficient balance."""
        free = account.free.get(asset, ZERO)
        if amount > free:
            raise EngineError(errorcodes.NEW_ORDER_REJECTED, EngineMessage.INSUFFICIENT_BALANCE)
        account.free[asset] = free - amount
        account.locked[asset] = account.locked.get(asset, ZERO) + amount

    def unlock(self, account: Account, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from locked back to free."""
        if amount:
            account.locked[asset] -= amount
            account.free[asset] = account.free.get(asset, ZERO) + amount

    def settle(
        self,
        payer: Account,
        pay_asset: str,
        pay_amount: Decimal,
        receive_asset: str,
        receive_amount: Decimal,
        commission: Decimal,
    ) -> None:
        """One side of a fill: ``pay_amount`` leaves ``payer``'s locked balance, ``receive_amount``
        minus ``commission`` arrives in its free balance and the commission goes to the fees."""
        payer.locked[pay_asset] -= pay_amount
        payer.free[receive_asset] = (
            payer.free.get(receive_asset, ZERO) + receive_amount - commission
        )
        payer.locked.setdefault(receive_asset, ZERO)
        if commission:
            self.fees[receive_asset] = self.fees.get(receive_asset, ZERO) + commission

    # -- wallet movements --------------------------------------------------------------------
    def deposit_funds(self, account_id: str, asset: str, amount: Decimal) -> None:
        """Credit ``amount`` of ``asset`` to the free balance (a deposit arriving).

        Raises:
            KeyError: unknown account.
            ValueError: ``amount`` is not positive.
        """
        if amount <= 0:
            raise ValueError("deposit amount must be positive")
        account = self._accounts[account_id]
        account.free[asset] = account.free.get(asset, ZERO) + amount
        account.locked.setdefault(asset, ZERO)
        self.net_inflow[asset] = self.net_inflow.get(asset, ZERO) + amount

    def withdraw_funds(self, account_id: str, asset: str, amount: Decimal) -> None:
        """Debit ``amount`` of ``asset`` from the free balance (a withdrawal leaving).

        Raises:
            EngineError: -2010 "Account has insufficient balance for requested action." when the
                free balance is smaller than ``amount``.
            KeyError: unknown account.
            ValueError: ``amount`` is not positive.
        """
        if amount <= 0:
            raise ValueError("withdrawal amount must be positive")
        account = self._accounts[account_id]
        free = account.free.get(asset, ZERO)
        if amount > free:
            raise EngineError(errorcodes.NEW_ORDER_REJECTED, EngineMessage.INSUFFICIENT_BALANCE)
        account.free[asset] = free - amount
        self.net_inflow[asset] = self.net_inflow.get(asset, ZERO) - amount

    # -- checks ------------------------------------------------------------------------------
    def totals(self) -> dict[str, Decimal]:
        """Per asset: free + locked over all accounts + fees (equals :attr:`net_inflow`)."""
        totals: dict[str, Decimal] = dict(self.fees)
        for account in self._accounts.values():
            for asset, amount in account.free.items():
                totals[asset] = totals.get(asset, ZERO) + amount
            for asset, amount in account.locked.items():
                totals[asset] = totals.get(asset, ZERO) + amount
        return totals

    def imbalances(self) -> dict[str, Decimal]:
        """Assets whose totals differ from :attr:`net_inflow`, with the difference (empty = ok)."""
        totals = self.totals()
        out: dict[str, Decimal] = {}
        for asset in set(totals) | set(self.net_inflow):
            diff = totals.get(asset, ZERO) - self.net_inflow.get(asset, ZERO)
            if diff:
                out[asset] = diff
        return out
