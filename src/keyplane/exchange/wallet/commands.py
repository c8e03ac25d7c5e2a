"""The wallet's sequencer commands: withdrawals through their states, and deposit credits.

Each is an exchange command like an order: what needs the database (the address book, the USDT
price) is awaited first; then the checks and the mutation of the ledger and the wallet memory run
with no ``await`` between them, so two withdrawals can never both spend the same balance; the
effects join the open group commit, and the caller is answered once it is durable. Funds are
locked when a withdrawal is accepted, taken when the chain confirms it, returned if it fails or is
cancelled before it was sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from keyplane.exchange.amounts import exact_command, floor_to, ledger_amount
from keyplane.exchange.errors import InvalidParameter
from keyplane.exchange.ledger import EXTERNAL_ACCOUNT, FEE_ACCOUNT, Bucket, EntryKind
from keyplane.exchange.wallet.address_book import AddressBook
from keyplane.exchange.wallet.errors import (
    CannotValue,
    DailyLimitExceeded,
    NetworkClosed,
    UnknownWithdrawal,
    WithdrawalAmountRefused,
    WithdrawalBalance,
)
from keyplane.exchange.wallet.models import ChainTransaction
from keyplane.exchange.wallet.networks import CoinNetwork, NetworkTable
from keyplane.exchange.wallet.states import WithdrawStatus, check_withdraw_move
from keyplane.exchange.wallet.transfers import DepositCredit, WalletMemory, Withdrawal, WithdrawalRequest

if TYPE_CHECKING:
    from keyplane.exchange.book import OrderBook
    from keyplane.exchange.ledger import Ledger
    from keyplane.exchange.markets import AssetSpec, MarketSpec
    from keyplane.exchange.matching import Command
    from keyplane.exchange.sequencer import Sequencer

FREE, LOCKED = Bucket.FREE, Bucket.LOCKED


@dataclass(frozen=True, kw_only=True)
class WithdrawalPolicy:
    """What a withdrawal is checked against, besides the key (checked by the HTTP layer)."""

    networks: NetworkTable
    book: AddressBook
    daily_limit_usdt: Decimal


class WalletCommands:
    """Mixed into :class:`~keyplane.exchange.service.Exchange`; uses its ledger, sequencer and memory."""

    if TYPE_CHECKING:
        ledger: Ledger
        wallet: WalletMemory
        assets: dict[str, AssetSpec]
        markets: dict[str, MarketSpec]
        books: dict[str, OrderBook]
        sequencer: Sequencer[Any, Any]
        now: Callable[[], int]

        def _command(self) -> AbstractContextManager[Command]: ...
        async def _known(self, user_id: int) -> None: ...
        def _avg_price_locked(self, symbol: str) -> Decimal: ...

    # -- withdrawals ---------------------------------------------------------------------------
    @exact_command
    async def withdraw(self, req: WithdrawalRequest, policy: WithdrawalPolicy) -> int:
        """Accept a withdrawal and lock its amount and fee; the id of the first one with the same
        ``withdraw_order_id`` if there was one (never two transfers)."""
        await self.sequencer.ready()
        if self._same_order_id(req) is not None:
            return await self._durable_earlier(req)
        spec = policy.networks.get(req.coin, req.network)
        if not spec.withdraw_enable:
            raise NetworkClosed()
        now = self.now()
        # The destination is decoded (checksum included) before any other rule, then looked up.
        book_entry = await asyncio.to_thread(
            policy.book.matured_entry, req.user_id, spec.coin, spec.code, req.address, req.memo, now
        )
        amount = self._withdrawal_amount(req.amount, spec)
        value = amount * await self._usdt_price(spec.coin)
        await self._known(req.user_id)
        await self.sequencer.ready()
        if self._same_order_id(req) is not None:  # another request with the id won meanwhile
            return await self._durable_earlier(req)
        used = self.wallet.withdrawn_in_day(req.user_id, now)
        if used + value > policy.daily_limit_usdt:
            raise DailyLimitExceeded(
                f"The withdrawal would exceed this account's 24-hour withdrawal limit of "
                f"{policy.daily_limit_usdt:f} USDT: {used:f} USDT used, this one is worth {value:f} USDT."
            )
        acc = self.ledger.account_of(req.user_id)
        held = amount + spec.withdraw_fee
        if acc is None or self.ledger.free(acc, spec.coin) < held:
            raise WithdrawalBalance()
        with self._command() as cx:
            wid = self.wallet.next_id
            self.wallet.next_id += 1
            self.ledger.post(
                self.ledger.move(
                    spec.coin, held, (acc, FREE), (acc, LOCKED), EntryKind.WITHDRAWAL, wid, "lock"
                )
            )
            withdrawal = Withdrawal(
                id=wid,
                user_id=req.user_id,
                coin=spec.coin,
                network=spec.code,
                address=book_entry.address,
                memo=book_entry.memo,
                amount=amount,
                fee=spec.withdraw_fee,
                value_usdt=value,
                withdraw_order_id=req.withdraw_order_id,
                status=WithdrawStatus.AWAITING_APPROVAL,
                txid=None,
                info="",
                key_id=req.key_id,
                source_ip=req.source_ip,
                apply_time=cx.now,
                update_time=cx.now,
            )
            cx.withdrawals[wid] = withdrawal
            cx.new_withdrawal_ids.add(wid)
            self.wallet.open[wid] = withdrawal
            if req.withdraw_order_id is not None:
                self.wallet.by_order_id[(req.user_id, req.withdraw_order_id)] = wid
            self.wallet.count(withdrawal)
        durable = self.sequencer.applied()
        self.wallet.durable[wid] = durable
        try:
            await durable
        finally:
            self.wallet.durable.pop(wid, None)
        return wid

    async def _durable_earlier(self, req: WithdrawalRequest) -> int:
        """The first withdrawal with this ``withdrawOrderId``, answered only once it is durable: an
        id whose batch then failed would be forgotten and given to another withdrawal."""
        earlier = self._same_order_id(req)
        assert earlier is not None
        pending = self.wallet.durable.get(earlier)
        if pending is not None:
            await asyncio.shield(pending)  # NotDurable if the first one's batch failed: try again
        return earlier

    def _same_order_id(self, req: WithdrawalRequest) -> int | None:
        if req.withdraw_order_id is None:
            return None
        return self.wallet.by_order_id.get((req.user_id, req.withdraw_order_id))

    def _withdrawal_amount(self, raw: Decimal, spec: CoinNetwork) -> Decimal:
        precision = self.assets[spec.coin].precision if spec.coin in self.assets else 8
        amount = ledger_amount("amount", raw, precision)
        if amount < spec.withdraw_min:
            raise WithdrawalAmountRefused(
                f"The withdrawal amount {amount:f} {spec.coin} is below the minimum of "
                f"{spec.withdraw_min:f} on network {spec.code}."
            )
        if amount > spec.withdraw_max:
            raise WithdrawalAmountRefused(
                f"The withdrawal amount {amount:f} {spec.coin} is above the maximum of "
                f"{spec.withdraw_max:f} on network {spec.code}."
            )
        if amount % spec.withdraw_integer_multiple:
            raise WithdrawalAmountRefused(
                f"The withdrawal amount must be a multiple of {spec.withdraw_integer_multiple:f} "
                f"{spec.coin} on network {spec.code}."
            )
        return amount

    async def _usdt_price(self, coin: str) -> Decimal:
        """The exchange's own price of ``coin`` in USDT: the 5-minute average of its trades, else
        the middle of its book; USDT is 1."""
        if coin == "USDT":
            return Decimal(1)
        symbol = f"{coin}USDT"
        if symbol in self.markets:
            price = await asyncio.to_thread(self._avg_price_locked, symbol)
            if price > 0:
                return price
            bid, ask = self.books[symbol].best_bid(), self.books[symbol].best_ask()
            if bid is not None and ask is not None:
                return (bid[0] + ask[0]) / 2
        raise CannotValue()

    @exact_command
    async def cancel_withdrawal(self, user_id: int, withdrawal_id: int) -> Withdrawal:
        """Cancel a withdrawal not yet handed to the chain; its funds are returned."""
        await self.sequencer.ready()
        withdrawal = self.wallet.open.get(withdrawal_id)
        if withdrawal is None or withdrawal.user_id != user_id:
            raise UnknownWithdrawal()
        check_withdraw_move(withdrawal.status, WithdrawStatus.CANCELLED)
        return await self._close(withdrawal, WithdrawStatus.CANCELLED, "Cancelled by the user.")

    @exact_command
    async def start_sending(self, withdrawal_id: int) -> Withdrawal:
        """The withdrawal is about to be handed to the chain: it can no longer be cancelled."""
        await self.sequencer.ready()
        withdrawal = self._open(withdrawal_id)
        check_withdraw_move(withdrawal.status, WithdrawStatus.PROCESSING)
        with self._command() as cx:
            withdrawal.status, withdrawal.update_time = WithdrawStatus.PROCESSING, cx.now
            cx.withdrawals[withdrawal.id] = withdrawal
        await self.sequencer.applied()
        return withdrawal.snapshot()

    @exact_command
    async def record_txid(self, withdrawal_id: int, txid: str) -> None:
        await self.sequencer.ready()
        withdrawal = self._open(withdrawal_id)
        if withdrawal.txid == txid:
            return
        with self._command() as cx:
            withdrawal.txid, withdrawal.update_time = txid, cx.now
            cx.withdrawals[withdrawal.id] = withdrawal
        await self.sequencer.applied()

    @exact_command
    async def complete_withdrawal(self, withdrawal_id: int) -> None:
        """The chain confirmed it: the amount leaves the exchange and the fee goes to the fee account."""
        await self.sequencer.ready()
        withdrawal = self._open(withdrawal_id)
        check_withdraw_move(withdrawal.status, WithdrawStatus.COMPLETED)
        await self._close(withdrawal, WithdrawStatus.COMPLETED, "")

    @exact_command
    async def fail_withdrawal(self, withdrawal_id: int, reason: str) -> None:
        """Nothing left the wallet: the funds are returned."""
        await self.sequencer.ready()
        withdrawal = self._open(withdrawal_id)
        check_withdraw_move(withdrawal.status, WithdrawStatus.FAILURE)
        await self._close(withdrawal, WithdrawStatus.FAILURE, reason[:200])

    def _open(self, withdrawal_id: int) -> Withdrawal:
        withdrawal = self.wallet.open.get(withdrawal_id)
        if withdrawal is None:
            raise UnknownWithdrawal()
        return withdrawal

    async def _close(self, withdrawal: Withdrawal, status: WithdrawStatus, info: str) -> Withdrawal:
        acc = self.ledger.account_of(withdrawal.user_id)
        assert acc is not None, "a withdrawal was accepted from an account"
        coin, wid = withdrawal.coin, withdrawal.id
        with self._command() as cx:
            if status is WithdrawStatus.COMPLETED:
                entries = self.ledger.move(
                    coin,
                    withdrawal.amount,
                    (acc, LOCKED),
                    (EXTERNAL_ACCOUNT, FREE),
                    EntryKind.WITHDRAWAL,
                    wid,
                    "sent",
                )
                if withdrawal.fee:
                    entries += self.ledger.move(
                        coin,
                        withdrawal.fee,
                        (acc, LOCKED),
                        (FEE_ACCOUNT, FREE),
                        EntryKind.FEE,
                        wid,
                        "network fee",
                    )
            else:
                entries = self.ledger.move(
                    coin, withdrawal.held, (acc, LOCKED), (acc, FREE), EntryKind.WITHDRAWAL, wid, "returned"
                )
                self.wallet.uncount(withdrawal)
            self.ledger.post(entries)
            withdrawal.status, withdrawal.info, withdrawal.update_time = status, info, cx.now
            if status is WithdrawStatus.COMPLETED:
                withdrawal.complete_time = cx.now
            cx.withdrawals[wid] = withdrawal
            del self.wallet.open[wid]
        await self.sequencer.applied()
        return withdrawal.snapshot()

    # -- deposits ------------------------------------------------------------------------------
    @exact_command
    async def credit_deposit(self, tx: ChainTransaction, user_id: int) -> bool:
        """Credit a confirmed chain deposit once; false if it was credited before.

        The chain may carry more decimals than the ledger (ETH has 18): the credit is the amount
        rounded down to the asset's precision, and the rest stays in the wallet as dust."""
        if tx.id in self.wallet.credited:
            return False
        if tx.coin not in self.assets:
            raise InvalidParameter.invalid("coin")
        await self._known(user_id)
        await self.sequencer.ready()
        if tx.id in self.wallet.credited:
            return False
        amount = floor_to(tx.amount, self.assets[tx.coin].precision)
        acc = self.ledger.open_account(user_id)
        with self._command() as cx:
            if amount > 0:
                self.ledger.post(
                    self.ledger.move(
                        tx.coin,
                        amount,
                        (EXTERNAL_ACCOUNT, FREE),
                        (acc, FREE),
                        EntryKind.DEPOSIT,
                        tx.id,
                        tx.txid[:128],
                    )
                )
            cx.deposit_credits.append(
                DepositCredit(
                    chain_tx_id=tx.id, user_id=user_id, coin=tx.coin, amount=amount, credited_at=cx.now
                )
            )
            self.wallet.credited.add(tx.id)
        await self.sequencer.applied()
        return True
