"""Binance's deposit and withdrawal states, the moves allowed between them, and the chain's own state.

The chain knows nothing of balances: a :class:`ChainTxStatus` says only how far a transaction got
on the chain. The exchange owns the Binance states (it credits, locks and returns funds) and derives
them from the chain's facts with :func:`deposit_status` and :func:`withdraw_status_of_send`, both
level-triggered, so that reading the same chain facts twice never credits twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, IntEnum

from keyplane.exchange.wallet.errors import StatusConflict


class DepositStatus(IntEnum):
    """``capital/deposit/hisrec`` ``status``."""

    PENDING = 0
    SUCCESS = 1
    REJECTED = 2
    CREDITED_CANNOT_WITHDRAW = 6
    WRONG_DEPOSIT = 7
    WAITING_USER_CONFIRM = 8


class WithdrawStatus(IntEnum):
    """``capital/withdraw/history`` ``status``."""

    EMAIL_SENT = 0
    CANCELLED = 1
    AWAITING_APPROVAL = 2
    REJECTED = 3
    PROCESSING = 4
    FAILURE = 5
    COMPLETED = 6

    @property
    def cancellable(self) -> bool:
        """Not yet handed to the chain: the user may still cancel, and the funds are only locked."""
        return self in (WithdrawStatus.EMAIL_SENT, WithdrawStatus.AWAITING_APPROVAL)


class Direction(str, Enum):
    IN = "IN"
    OUT = "OUT"


class ChainTxStatus(str, Enum):
    """How far a transaction got on the chain.

    ``CONFIRMED``: it reached its required confirmations (a deposit: ``unLockConfirm``; a send:
    ``minConfirm``). ``FAILED``: a send that was dropped or reverted; nothing left the wallet.
    """

    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"


_D = DepositStatus
_W = WithdrawStatus

DEPOSIT_MOVES: Mapping[DepositStatus, frozenset[DepositStatus]] = {
    _D.PENDING: frozenset(
        {_D.CREDITED_CANNOT_WITHDRAW, _D.SUCCESS, _D.WRONG_DEPOSIT, _D.WAITING_USER_CONFIRM, _D.REJECTED}
    ),
    _D.WAITING_USER_CONFIRM: frozenset({_D.PENDING, _D.REJECTED}),
    _D.CREDITED_CANNOT_WITHDRAW: frozenset({_D.SUCCESS}),
    _D.SUCCESS: frozenset(),
    _D.REJECTED: frozenset(),
    _D.WRONG_DEPOSIT: frozenset(),
}

WITHDRAW_MOVES: Mapping[WithdrawStatus, frozenset[WithdrawStatus]] = {
    _W.EMAIL_SENT: frozenset({_W.CANCELLED, _W.AWAITING_APPROVAL, _W.PROCESSING}),
    _W.AWAITING_APPROVAL: frozenset({_W.CANCELLED, _W.REJECTED, _W.PROCESSING}),
    _W.PROCESSING: frozenset({_W.FAILURE, _W.COMPLETED}),
    _W.CANCELLED: frozenset(),
    _W.REJECTED: frozenset(),
    _W.FAILURE: frozenset(),
    _W.COMPLETED: frozenset(),
}


def check_deposit_move(old: DepositStatus, new: DepositStatus) -> None:
    if new not in DEPOSIT_MOVES[old]:
        raise StatusConflict(f"A deposit in state {old.name} cannot become {new.name}.")


def check_withdraw_move(old: WithdrawStatus, new: WithdrawStatus) -> None:
    if new in WITHDRAW_MOVES[old]:
        return
    if new is WithdrawStatus.CANCELLED:
        raise StatusConflict(f"Cancellation failed: the withdrawal is already {old.name.lower()}.")
    raise StatusConflict(f"A withdrawal in state {old.name} cannot become {new.name}.")


def deposit_status(
    chain_status: ChainTxStatus, confirmations: int, min_confirm: int, unlock_confirm: int, credited: bool
) -> DepositStatus:
    """The Binance state of a deposit from the chain's facts and whether the exchange credited it."""
    if chain_status is ChainTxStatus.FAILED:
        return DepositStatus.REJECTED
    if not credited or confirmations < min_confirm:
        return DepositStatus.PENDING
    if confirmations < unlock_confirm:
        return DepositStatus.CREDITED_CANNOT_WITHDRAW
    return DepositStatus.SUCCESS


def withdraw_status_of_send(chain_status: ChainTxStatus) -> WithdrawStatus:
    """The Binance state of a withdrawal once the chain has it."""
    return {
        ChainTxStatus.PENDING: WithdrawStatus.PROCESSING,
        ChainTxStatus.CONFIRMED: WithdrawStatus.COMPLETED,
        ChainTxStatus.FAILED: WithdrawStatus.FAILURE,
    }[chain_status]
