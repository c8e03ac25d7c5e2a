"""Persistence of withdrawals and deposit credits: the exchange's memory of them, their batch
writes, and the history queries of ``capital/withdraw/history`` and ``capital/deposit/hisrec``."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, update

from keyplane.exchange.wallet.models import ChainTransaction
from keyplane.exchange.wallet.states import Direction, WithdrawStatus
from keyplane.exchange.wallet.transfers import DAY_MS, DepositCredit, WalletMemory, Withdrawal
from keyplane.store.wallet_repo import chain_tx_from_row
from keyplane.store.wallet_tables import wallet_chain_transactions as chain_txs
from keyplane.store.wallet_tables import wallet_deposit_addresses as addresses
from keyplane.store.wallet_transfer_tables import wallet_deposit_credits as credits
from keyplane.store.wallet_transfer_tables import wallet_withdrawals as withdrawals

OPEN = (WithdrawStatus.EMAIL_SENT, WithdrawStatus.AWAITING_APPROVAL, WithdrawStatus.PROCESSING)
RETURNED = (WithdrawStatus.CANCELLED, WithdrawStatus.REJECTED, WithdrawStatus.FAILURE)
CHANGING_COLUMNS = ("status", "txid", "info", "update_time", "complete_time")


def load_memory(conn: Connection, now: int) -> WalletMemory:
    """Open withdrawals, every withdrawOrderId, the last day's withdrawals and the credited deposits."""
    memory = WalletMemory()
    w = withdrawals.c
    for row in conn.execute(select(withdrawals).where(w.status.in_([int(s) for s in OPEN]))).mappings():
        found = _withdrawal(row)
        memory.open[found.id] = found
    for user_id, order_id, wid in conn.execute(
        select(w.user_id, w.withdraw_order_id, w.id).where(w.withdraw_order_id.is_not(None))
    ):
        memory.by_order_id[(user_id, order_id)] = wid
    recent = select(w.user_id, w.apply_time, w.value_usdt).where(
        w.apply_time > now - DAY_MS, w.status.not_in([int(s) for s in RETURNED])
    )
    for user_id, at, value in conn.execute(recent.order_by(w.apply_time)):
        memory.recent.setdefault(user_id, deque()).append((at, value))
    memory.credited = {row[0] for row in conn.execute(select(credits.c.chain_tx_id))}
    memory.next_id = int(conn.execute(select(func.coalesce(func.max(w.id), 0))).scalar_one()) + 1
    return memory


def write(
    conn: Connection, changed: Iterable[Withdrawal], new_ids: set[int], credited: Iterable[DepositCredit]
) -> None:
    """Inside a batch's transaction: new withdrawals, state changes of earlier ones, new credits."""
    rows = [_row(x) for x in changed]
    inserts = [r for r in rows if r["id"] in new_ids]
    updates = [
        {"w_id": r["id"], **{"w_" + c: r[c] for c in CHANGING_COLUMNS}}
        for r in rows
        if r["id"] not in new_ids
    ]
    if inserts:
        conn.execute(withdrawals.insert(), inserts)
    if updates:
        conn.execute(
            update(withdrawals)
            .where(withdrawals.c.id == bindparam("w_id"))
            .values({c: bindparam("w_" + c) for c in CHANGING_COLUMNS}),
            updates,
        )
    credit_rows = [
        {
            "chain_tx_id": c.chain_tx_id,
            "user_id": c.user_id,
            "coin": c.coin,
            "amount": c.amount,
            "credited_at": c.credited_at,
        }
        for c in credited
    ]
    if credit_rows:
        conn.execute(credits.insert(), credit_rows)


def withdrawal_history(
    conn: Connection,
    user_id: int,
    *,
    coin: str | None,
    withdraw_order_id: str | None,
    status: int | None,
    ids: list[int] | None,
    start: int,
    end: int,
    offset: int,
    limit: int,
) -> list[Withdrawal]:
    """Newest first, as Binance lists them."""
    w = withdrawals.c
    query = select(withdrawals).where(w.user_id == user_id, w.apply_time >= start, w.apply_time <= end)
    if coin is not None:
        query = query.where(w.coin == coin)
    if withdraw_order_id is not None:
        query = query.where(w.withdraw_order_id == withdraw_order_id)
    if status is not None:
        query = query.where(w.status == status)
    if ids is not None:
        query = query.where(w.id.in_(ids))
    query = query.order_by(w.apply_time.desc(), w.id.desc()).offset(offset).limit(limit)
    return [_withdrawal(r) for r in conn.execute(query).mappings()]


def incoming_of(
    conn: Connection, user_id: int, *, coin: str | None, txid: str | None, start: int, end: int
) -> list[tuple[ChainTransaction, DepositCredit | None]]:
    """Chain transactions into the user's deposit addresses (newest first), with their credit if any."""
    c, a = chain_txs.c, addresses.c
    query = (
        select(chain_txs, credits.c.amount.label("credited_amount"), credits.c.credited_at)
        .join(addresses, and_(a.network == c.network, a.address == c.address, a.coin == c.coin))
        .outerjoin(credits, credits.c.chain_tx_id == c.id)
        .where(
            a.user_id == user_id,
            c.direction == Direction.IN.value,
            c.created_at >= start,
            c.created_at <= end,
        )
    )
    if coin is not None:
        query = query.where(c.coin == coin)
    if txid is not None:
        query = query.where(c.txid == txid)
    found: list[tuple[ChainTransaction, DepositCredit | None]] = []
    for row in conn.execute(query.order_by(c.created_at.desc(), c.id.desc())).mappings():
        tx = chain_tx_from_row(row)
        credit = None
        if row["credited_at"] is not None:
            credit = DepositCredit(
                chain_tx_id=tx.id,
                user_id=user_id,
                coin=tx.coin,
                amount=row["credited_amount"],
                credited_at=row["credited_at"],
            )
        found.append((tx, credit))
    return found


def _row(x: Withdrawal) -> dict[str, Any]:
    return {
        "id": x.id,
        "user_id": x.user_id,
        "coin": x.coin,
        "network": x.network,
        "address": x.address,
        "memo": x.memo,
        "amount": x.amount,
        "fee": x.fee,
        "value_usdt": x.value_usdt,
        "withdraw_order_id": x.withdraw_order_id,
        "status": int(x.status),
        "txid": x.txid,
        "info": x.info,
        "key_id": x.key_id,
        "source_ip": x.source_ip,
        "apply_time": x.apply_time,
        "update_time": x.update_time,
        "complete_time": x.complete_time,
    }


def _withdrawal(row: Any) -> Withdrawal:
    return Withdrawal(
        id=row["id"],
        user_id=row["user_id"],
        coin=row["coin"],
        network=row["network"],
        address=row["address"],
        memo=row["memo"],
        amount=Decimal(row["amount"]),
        fee=Decimal(row["fee"]),
        value_usdt=Decimal(row["value_usdt"]),
        withdraw_order_id=row["withdraw_order_id"],
        status=WithdrawStatus(row["status"]),
        txid=row["txid"],
        info=row["info"],
        key_id=row["key_id"],
        source_ip=row["source_ip"],
        apply_time=row["apply_time"],
        update_time=row["update_time"],
        complete_time=row["complete_time"],
    )
