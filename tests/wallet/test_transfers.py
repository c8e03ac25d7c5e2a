"""Withdrawals and deposit credits as sequencer commands, on a real database, driven by the worker.

The exchange, the address book, the simulated chain and the wallet worker are the real ones; the
clock is moved by hand so that cooling-off, the send delay and block confirmations are exact.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import pytest
from sqlalchemy import Engine, func, select

from keyplane.exchange.ledger import FEE_ACCOUNT
from keyplane.exchange.service import Exchange
from keyplane.exchange.wallet.address_book import AddressBook
from keyplane.exchange.wallet.chain import SimulatedChain
from keyplane.exchange.wallet.commands import WithdrawalPolicy
from keyplane.exchange.wallet.errors import (
    AddressCoolingOff,
    DailyLimitExceeded,
    InvalidAddress,
    NotInAddressBook,
    StatusConflict,
    WithdrawalAmountRefused,
    WithdrawalBalance,
)
from keyplane.exchange.wallet.issuing import DepositAddresses
from keyplane.exchange.wallet.networks import DEFAULT_NETWORKS
from keyplane.exchange.wallet.states import WithdrawStatus
from keyplane.exchange.wallet.transfers import WithdrawalRequest
from keyplane.exchange.wallet.worker import WalletWorker
from keyplane.store.exchange_tables import ex_balances, ex_entries
from keyplane.store.wallet_transfer_tables import wallet_withdrawals
from tests.support.aio import run
from tests.wallet.conftest import BLOCKS, Clock

COOLING_OFF_MS = 60_000
SEND_DELAY_MS = 5_000
DESTINATION = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"  # a real EIP-55 address


class Wallet:
    def __init__(self, engine: Engine, clock: Clock, addresses: DepositAddresses) -> None:
        self.engine, self.clock, self.addresses = engine, clock, addresses
        self.exchange = Exchange(engine, now=clock)
        self.book = AddressBook(engine, DEFAULT_NETWORKS, cooling_off_ms=COOLING_OFF_MS, now=clock)
        self.chain = SimulatedChain(engine, block_interval_ms=BLOCKS, now=clock)
        self.policy = WithdrawalPolicy(networks=DEFAULT_NETWORKS, book=self.book, daily_limit_usdt=D(50_000))
        self.worker = WalletWorker(self.exchange, engine, self.chain, DEFAULT_NETWORKS, SEND_DELAY_MS)

    def restart(self) -> None:
        self.exchange = Exchange(self.engine, now=self.clock)
        self.worker = WalletWorker(self.exchange, self.engine, self.chain, DEFAULT_NETWORKS, SEND_DELAY_MS)

    def free(self, user: int, coin: str = "USDT") -> D:
        acc = self.exchange.ledger.account_of(user)
        return self.exchange.ledger.free(acc, coin) if acc is not None else D(0)

    def locked(self, user: int, coin: str = "USDT") -> D:
        acc = self.exchange.ledger.account_of(user)
        return self.exchange.ledger.locked(acc, coin) if acc is not None else D(0)

    def deposit(self, user: int, amount: str, coin: str = "USDT") -> None:
        address = self.addresses.get(user, coin).address
        self.chain.deposit(address, D(amount), DEFAULT_NETWORKS.get(coin).code, coin=coin)

    def wait(self, ms: int) -> None:
        self.clock.t += ms
        run(self.worker.step())

    def request(self, user: int, amount: str, order_id: str | None = None, address: str = DESTINATION) -> int:
        req = WithdrawalRequest(
            user_id=user,
            coin="USDT",
            network="ETH",
            address=address,
            memo="",
            amount=D(amount),
            withdraw_order_id=order_id,
            key_id=None,
            source_ip="203.0.113.7",
        )
        return run(self.exchange.withdraw(req, self.policy))

    def book_destination(self, user: int, mature: bool = True) -> None:
        self.book.add(user, "USDT", "ETH", DESTINATION, actor="test")
        if mature:
            self.clock.t += COOLING_OFF_MS


@pytest.fixture
def wallet(engine: Engine, clock: Clock, addresses: DepositAddresses) -> Wallet:
    return Wallet(engine, clock, addresses)


def ledger_balances(engine: Engine) -> None:
    """Every asset sums to zero over all accounts, and balances equal the sum of their entries."""
    with engine.connect() as conn:
        sums = dict(
            conn.execute(
                select(ex_entries.c.asset, func.sum(ex_entries.c.amount)).group_by(ex_entries.c.asset)
            ).all()
        )
        by_key = {
            (a, s, b): t
            for a, s, b, t in conn.execute(
                select(
                    ex_entries.c.account_id,
                    ex_entries.c.asset,
                    ex_entries.c.bucket,
                    func.sum(ex_entries.c.amount),
                ).group_by(ex_entries.c.account_id, ex_entries.c.asset, ex_entries.c.bucket)
            )
        }
        balances = list(conn.execute(select(ex_balances)))
    assert all(total == 0 for total in sums.values()), sums
    for b in balances:
        assert b.free == by_key.get((b.account_id, b.asset, "free"), 0)
        assert b.locked == by_key.get((b.account_id, b.asset, "locked"), 0)
        assert b.free >= 0 and b.locked >= 0 or b.account_id == 1


def test_a_deposit_is_credited_once_after_its_confirmations(wallet: Wallet, alice: int) -> None:
    wallet.deposit(alice, "250.5")
    wallet.wait(BLOCKS["ETH"] * 5)
    assert wallet.free(alice) == 0  # 5 of 6 confirmations
    wallet.wait(BLOCKS["ETH"])
    assert wallet.free(alice) == D("250.5")
    wallet.wait(BLOCKS["ETH"] * 10)
    wallet.restart()  # a new process reads every chain change again: still credited once
    wallet.wait(BLOCKS["ETH"])
    assert wallet.free(alice) == D("250.5")
    ledger_balances(wallet.engine)


def test_a_withdrawal_locks_then_sends_then_completes_and_charges_the_fee(wallet: Wallet, alice: int) -> None:
    run(wallet.exchange.credit(alice, "USDT", D(100), "test"))
    wallet.book_destination(alice)
    wid = wallet.request(alice, "40")
    assert (wallet.free(alice), wallet.locked(alice)) == (D(59), D(41))
    wallet.wait(SEND_DELAY_MS - 1)
    assert wallet.exchange.wallet.open[wid].status is WithdrawStatus.AWAITING_APPROVAL
    wallet.wait(1)
    sent = wallet.exchange.wallet.open[wid]
    assert sent.status is WithdrawStatus.PROCESSING and sent.txid is not None and sent.txid.startswith("0x")
    wallet.wait(BLOCKS["ETH"] * 6)
    assert wid not in wallet.exchange.wallet.open
    assert (wallet.free(alice), wallet.locked(alice)) == (D(59), D(0))
    assert wallet.exchange.ledger.free(FEE_ACCOUNT, "USDT") == D(1)
    with wallet.engine.connect() as conn:
        row = conn.execute(select(wallet_withdrawals)).one()
    assert row.status == WithdrawStatus.COMPLETED and row.amount == 40 and row.fee == 1 and row.complete_time
    ledger_balances(wallet.engine)


def test_every_rule_refuses_with_its_own_error_and_changes_nothing(wallet: Wallet, alice: int) -> None:
    run(wallet.exchange.credit(alice, "USDT", D(100_000), "test"))
    with pytest.raises(InvalidAddress):  # a typo in the checksum, before any other rule
        wallet.request(alice, "40", address=DESTINATION.replace("Ef", "eF"))
    with pytest.raises(NotInAddressBook):
        wallet.request(alice, "40")
    wallet.book_destination(alice, mature=False)
    with pytest.raises(AddressCoolingOff):
        wallet.request(alice, "40")
    wallet.clock.t += COOLING_OFF_MS
    with pytest.raises(WithdrawalAmountRefused):
        wallet.request(alice, "9.99")  # below the network minimum of 10
    with pytest.raises(WithdrawalAmountRefused):
        wallet.request(alice, "10.0000001")  # finer than the network's step
    with pytest.raises(DailyLimitExceeded):
        wallet.request(alice, "50000.000001")  # its value passes the 50,000 USDT limit
    assert wallet.free(alice) == D(100_000) and wallet.locked(alice) == 0


def test_the_daily_limit_counts_the_last_24_hours_and_returned_withdrawals_do_not_count(
    wallet: Wallet, alice: int
) -> None:
    run(wallet.exchange.credit(alice, "USDT", D(200_000), "test"))
    wallet.book_destination(alice)
    first = wallet.request(alice, "30000")
    with pytest.raises(DailyLimitExceeded):
        wallet.request(alice, "20000.000001")
    run(wallet.exchange.cancel_withdrawal(alice, first))  # returned: no longer counts
    wallet.request(alice, "50000")
    wallet.clock.t += 24 * 3600 * 1000
    wallet.request(alice, "50000")  # a day later the window has moved on
    ledger_balances(wallet.engine)


def test_a_repeated_withdraw_order_id_gives_the_first_result_and_one_transfer(
    wallet: Wallet, alice: int
) -> None:
    run(wallet.exchange.credit(alice, "USDT", D(100), "test"))
    wallet.book_destination(alice)
    first = wallet.request(alice, "20", order_id="mine-1")
    assert wallet.request(alice, "20", order_id="mine-1") == first
    assert wallet.request(alice, "30", order_id="mine-1") == first  # the first result, whatever is sent
    wallet.restart()
    assert wallet.request(alice, "20", order_id="mine-1") == first
    assert wallet.locked(alice) == D(21)


def test_insufficient_balance_and_concurrent_withdrawals_never_overspend(wallet: Wallet, alice: int) -> None:
    run(wallet.exchange.credit(alice, "USDT", D(500), "test"))
    wallet.book_destination(alice)
    with pytest.raises(WithdrawalBalance):
        wallet.request(alice, "500")  # 500 + the fee of 1

    async def many() -> list[int | BaseException]:
        reqs = [
            WithdrawalRequest(
                user_id=alice,
                coin="USDT",
                network="ETH",
                address=DESTINATION,
                memo="",
                amount=D(37),
                withdraw_order_id=f"c{i}",
                key_id=None,
                source_ip=None,
            )
            for i in range(50)
        ]
        return await asyncio.gather(
            *(wallet.exchange.withdraw(r, wallet.policy) for r in reqs), return_exceptions=True
        )

    outcomes = run(many())
    accepted = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if not isinstance(o, int)]
    assert len(accepted) == 13 and all(isinstance(e, WithdrawalBalance) for e in refused)  # 13 x 38 = 494
    assert wallet.free(alice) == D(6) and wallet.locked(alice) == D(494)
    wallet.restart()
    assert wallet.free(alice) == D(6) and len(wallet.exchange.wallet.open) == 13
    ledger_balances(wallet.engine)


def test_cancel_returns_the_funds_only_before_the_withdrawal_is_sent(wallet: Wallet, alice: int) -> None:
    run(wallet.exchange.credit(alice, "USDT", D(100), "test"))
    wallet.book_destination(alice)
    early = wallet.request(alice, "20")
    cancelled = run(wallet.exchange.cancel_withdrawal(alice, early))
    assert cancelled.status is WithdrawStatus.CANCELLED and wallet.free(alice) == D(100)
    late = wallet.request(alice, "20")
    wallet.wait(SEND_DELAY_MS)
    with pytest.raises(StatusConflict) as refused:
        run(wallet.exchange.cancel_withdrawal(alice, late))
    assert refused.value.code == -4031
    assert wallet.locked(alice) == D(21)


def test_a_send_the_chain_drops_returns_the_funds(wallet: Wallet, alice: int) -> None:
    run(wallet.exchange.credit(alice, "USDT", D(100), "test"))
    wallet.book_destination(alice)
    wid = wallet.request(alice, "20")
    wallet.wait(SEND_DELAY_MS)
    txid = wallet.exchange.wallet.open[wid].txid
    assert txid is not None
    wallet.chain.fail("ETH", txid, "evicted from the mempool")
    wallet.wait(1)
    assert wid not in wallet.exchange.wallet.open and wallet.free(alice) == D(100)
    with wallet.engine.connect() as conn:
        row = conn.execute(select(wallet_withdrawals)).one()
    assert row.status == WithdrawStatus.FAILURE and "mempool" in row.info
    ledger_balances(wallet.engine)
