"""The wallet's clock on the exchange writer: confirm deposits, send withdrawals, settle them.

Every ``poll`` seconds, on the instance that runs the exchange only: the chain is brought up to
now; its changes since the last look are read (from the start after a restart or a take-over:
crediting and settling are idempotent, so reading a change twice does nothing); a deposit with
enough confirmations is credited once; a withdrawal the chain confirmed is completed and one it
dropped is failed (funds returned); withdrawals accepted ``send_delay`` ago (the user's time to
cancel) are marked as processing and handed to the chain, whose ``send`` is idempotent on the
withdrawal id, so a crash between the two never sends twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from keyplane.exchange.errors import ExchangeError
from keyplane.exchange.service import Exchange
from keyplane.exchange.wallet.chain import Chain
from keyplane.exchange.wallet.errors import WalletError
from keyplane.exchange.wallet.models import ChainTransaction, SendRequest
from keyplane.exchange.wallet.networks import NetworkTable
from keyplane.exchange.wallet.states import ChainTxStatus, Direction, WithdrawStatus
from keyplane.store import wallet_repo

log = logging.getLogger(__name__)


@dataclass
class WalletWorker:
    exchange: Exchange
    engine: Engine
    chain: Chain
    networks: NetworkTable
    send_delay_ms: int
    cursor: int = 0  # the last chain change handled

    async def run(self, poll_seconds: float) -> None:
        while True:
            try:
                await self.step()
            except Exception:
                log.exception("the wallet step failed; it runs again")
            await asyncio.sleep(poll_seconds)

    async def step(self) -> None:
        """One tick: chain first, then what it changed, then what is due to be sent."""
        await asyncio.to_thread(self.chain.advance, self.exchange.now())
        while True:
            changes = await asyncio.to_thread(self.chain.changes, self.cursor)
            if not changes:
                break
            for tx in changes:
                await self._settle(tx)
                self.cursor = tx.seq
        await self._send_due()

    async def _settle(self, tx: ChainTransaction) -> None:
        if tx.direction is Direction.IN:
            spec = self.networks.get(tx.coin, tx.network)
            if tx.status is not ChainTxStatus.FAILED and tx.confirmations >= spec.min_confirm:
                owner = await asyncio.to_thread(self._owner, tx)
                if owner is not None:
                    await self.exchange.credit_deposit(tx, owner)
            return
        if tx.withdrawal_id is None or not tx.withdrawal_id.isdigit():
            return
        withdrawal = self.exchange.wallet.open.get(int(tx.withdrawal_id))
        if withdrawal is None or withdrawal.status is not WithdrawStatus.PROCESSING:
            return
        if withdrawal.txid != tx.txid:
            await self.exchange.record_txid(withdrawal.id, tx.txid)
        if tx.status is ChainTxStatus.CONFIRMED:
            await self.exchange.complete_withdrawal(withdrawal.id)
        elif tx.status is ChainTxStatus.FAILED:
            await self.exchange.fail_withdrawal(withdrawal.id, tx.failure_reason or "The network dropped it.")

    def _owner(self, tx: ChainTransaction) -> int | None:
        with self.engine.connect() as conn:
            issued = wallet_repo.deposit_addresses_at(conn, tx.address, tx.network)
        owners = {a.user_id for a in issued if a.coin == tx.coin}
        return owners.pop() if len(owners) == 1 else None

    async def _send_due(self) -> None:
        now = self.exchange.now()
        for withdrawal in list(self.exchange.wallet.open.values()):
            try:
                if withdrawal.status is WithdrawStatus.AWAITING_APPROVAL:
                    if now - withdrawal.apply_time < self.send_delay_ms:
                        continue
                    withdrawal = await self.exchange.start_sending(withdrawal.id)
                if withdrawal.status is WithdrawStatus.PROCESSING and withdrawal.txid is None:
                    request = SendRequest(
                        withdrawal_id=withdrawal.public_id,
                        coin=withdrawal.coin,
                        network=withdrawal.network,
                        address=withdrawal.address,
                        memo=withdrawal.memo,
                        amount=withdrawal.amount,
                    )
                    try:
                        txid = await asyncio.to_thread(self.chain.send, request)
                    except WalletError as refused:  # nothing was broadcast: the funds go back
                        await self.exchange.fail_withdrawal(withdrawal.id, refused.msg)
                        continue
                    await self.exchange.record_txid(withdrawal.id, txid)
            except (ExchangeError, WalletError) as error:  # cancelled meanwhile, or not durable: next tick
                log.info("withdrawal %s not sent this tick: %s", withdrawal.id, error)
