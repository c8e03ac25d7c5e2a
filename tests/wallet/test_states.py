"""Binance's deposit and withdrawal states, the moves between them, and how chain facts map to them."""

from __future__ import annotations

import pytest

from keyplane.exchange.wallet.errors import StatusConflict
from keyplane.exchange.wallet.states import (
    DEPOSIT_MOVES,
    WITHDRAW_MOVES,
    ChainTxStatus,
    DepositStatus,
    WithdrawStatus,
    check_deposit_move,
    check_withdraw_move,
    deposit_status,
    withdraw_status_of_send,
)


def test_codes_are_binances() -> None:
    assert {s.name: s.value for s in WithdrawStatus} == {
        "EMAIL_SENT": 0,
        "CANCELLED": 1,
        "AWAITING_APPROVAL": 2,
        "REJECTED": 3,
        "PROCESSING": 4,
        "FAILURE": 5,
        "COMPLETED": 6,
    }
    assert {s.name: s.value for s in DepositStatus} == {
        "PENDING": 0,
        "SUCCESS": 1,
        "REJECTED": 2,
        "CREDITED_CANNOT_WITHDRAW": 6,
        "WRONG_DEPOSIT": 7,
        "WAITING_USER_CONFIRM": 8,
    }
    assert set(WITHDRAW_MOVES) == set(WithdrawStatus) and set(DEPOSIT_MOVES) == set(DepositStatus)


def test_a_withdrawal_can_be_cancelled_only_before_the_chain_has_it() -> None:
    for status in WithdrawStatus:
        assert status.cancellable == (WithdrawStatus.CANCELLED in WITHDRAW_MOVES[status])
    check_withdraw_move(WithdrawStatus.AWAITING_APPROVAL, WithdrawStatus.CANCELLED)
    with pytest.raises(StatusConflict) as refused:
        check_withdraw_move(WithdrawStatus.PROCESSING, WithdrawStatus.CANCELLED)
    assert refused.value.code == -4031 and refused.value.msg.startswith("Cancellation failed")


def test_final_states_are_final() -> None:
    for final in (
        WithdrawStatus.CANCELLED,
        WithdrawStatus.REJECTED,
        WithdrawStatus.FAILURE,
        WithdrawStatus.COMPLETED,
    ):
        for other in WithdrawStatus:
            with pytest.raises(StatusConflict):
                check_withdraw_move(final, other)
    for other in DepositStatus:
        with pytest.raises(StatusConflict):
            check_deposit_move(DepositStatus.SUCCESS, other)
    check_deposit_move(DepositStatus.PENDING, DepositStatus.CREDITED_CANNOT_WITHDRAW)
    check_deposit_move(DepositStatus.CREDITED_CANNOT_WITHDRAW, DepositStatus.SUCCESS)


@pytest.mark.parametrize(
    ("status", "confirmations", "credited", "expected"),
    [
        (ChainTxStatus.PENDING, 0, False, DepositStatus.PENDING),
        (ChainTxStatus.PENDING, 6, False, DepositStatus.PENDING),  # creditable, not yet credited
        (ChainTxStatus.PENDING, 6, True, DepositStatus.CREDITED_CANNOT_WITHDRAW),
        (ChainTxStatus.PENDING, 11, True, DepositStatus.CREDITED_CANNOT_WITHDRAW),
        (ChainTxStatus.CONFIRMED, 12, True, DepositStatus.SUCCESS),
        (ChainTxStatus.FAILED, 0, False, DepositStatus.REJECTED),
    ],
)
def test_deposit_status_from_chain_facts(
    status: ChainTxStatus, confirmations: int, credited: bool, expected: DepositStatus
) -> None:
    assert deposit_status(status, confirmations, 6, 12, credited) is expected


def test_withdraw_status_of_a_send() -> None:
    assert withdraw_status_of_send(ChainTxStatus.PENDING) is WithdrawStatus.PROCESSING
    assert withdraw_status_of_send(ChainTxStatus.CONFIRMED) is WithdrawStatus.COMPLETED
    assert withdraw_status_of_send(ChainTxStatus.FAILED) is WithdrawStatus.FAILURE
