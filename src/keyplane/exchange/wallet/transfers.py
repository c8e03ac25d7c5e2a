"""Withdrawals and deposit credits as the exchange holds them, and what it keeps in memory of them.

A withdrawal moves through Binance's states (:class:`~keyplane.exchange.wallet.states.WithdrawStatus`)
by sequencer commands only: accepted (its amount and fee locked) as AWAITING_APPROVAL, PROCESSING
once handed to the chain, then COMPLETED (the funds leave: amount to the external account, fee to
the fee account) or FAILURE (the funds are returned); CANCELLED returns them before it was sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from keyplane.exchange.wallet.states import WithdrawStatus

DAY_MS = 24 * 3600 * 1000


@dataclass(kw_only=True, slots=True)
class Withdrawal:
    """One withdrawal; ``amount`` is what arrives, ``fee`` the network fee charged on top."""

    id: int
    user_id: int
    coin: str
    network: str
    address: str
    memo: str
    amount: Decimal
    fee: Decimal
    value_usdt: Decimal
    withdraw_order_id: str | None
    status: WithdrawStatus
    txid: str | None
    info: str
    key_id: str | None
    source_ip: str | None
    apply_time: int
    update_time: int
    complete_time: int | None = None

    @property
    def held(self) -> Decimal:
        """What the withdrawal keeps locked while it is open: the amount and the fee."""
        return self.amount + self.fee

    @property
    def public_id(self) -> str:
        """The id Binance's JSON carries (a string)."""
        return str(self.id)

    def snapshot(self) -> Withdrawal:
        return dataclasses.replace(self)


@dataclass(frozen=True, kw_only=True, slots=True)
class DepositCredit:
    """A chain deposit the exchange has credited (at most once: ``chain_tx_id`` is unique)."""

    chain_tx_id: int
    user_id: int
    coin: str
    amount: Decimal
    credited_at: int


@dataclass(frozen=True, kw_only=True)
class WithdrawalRequest:
    """``capital/withdraw/apply`` as the HTTP layer parsed it, with the key that signed it."""

    user_id: int
    coin: str
    network: str | None
    address: str
    memo: str
    amount: Decimal
    withdraw_order_id: str | None
    key_id: str | None
    source_ip: str | None


@dataclass
class WalletMemory:
    """The wallet state the exchange holds in memory, read back with the rest on every rebuild."""

    open: dict[int, Withdrawal] = field(default_factory=dict)  # not yet final
    by_order_id: dict[tuple[int, str], int] = field(default_factory=dict)  # (user, withdrawOrderId) -> id
    recent: dict[int, deque[tuple[int, Decimal]]] = field(default_factory=dict)  # user -> (time, USDT value)
    credited: set[int] = field(default_factory=set)  # chain transaction ids already credited
    # Accepted withdrawals whose batch is not yet durable: a repeat of their withdrawOrderId waits.
    durable: dict[int, asyncio.Future[None]] = field(default_factory=dict)
    next_id: int = 1

    def withdrawn_in_day(self, user_id: int, now: int) -> Decimal:
        """The USDT value of the user's withdrawals applied in the rolling 24 hours to ``now``."""
        window = self.recent.get(user_id)
        if not window:
            return Decimal(0)
        while window and window[0][0] <= now - DAY_MS:
            window.popleft()
        return sum((value for _, value in window), Decimal(0))

    def count(self, withdrawal: Withdrawal) -> None:
        self.recent.setdefault(withdrawal.user_id, deque()).append(
            (withdrawal.apply_time, withdrawal.value_usdt)
        )

    def uncount(self, withdrawal: Withdrawal) -> None:
        """A cancelled or failed withdrawal no longer uses the user's daily limit."""
        window = self.recent.get(withdrawal.user_id)
        if window and (withdrawal.apply_time, withdrawal.value_usdt) in window:
            window.remove((withdrawal.apply_time, withdrawal.value_usdt))
