"""Tables of the exchange's side of the wallet: withdrawals, and the deposits it has credited.

Both are written by the exchange's group commits, in the same transaction as the ledger entries
that lock, take or return a withdrawal's funds and credit a deposit: a withdrawal is never half
accepted and a deposit never credited twice (``chain_tx_id`` is the key). A user's
``withdraw_order_id`` is unique, which makes ``capital/withdraw/apply`` idempotent on it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint

from keyplane.store.tables import metadata
from keyplane.store.types import ExactDecimal

wallet_withdrawals = Table(
    "wallet_withdrawals",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("coin", String(16), nullable=False),
    Column("network", String(16), nullable=False),
    Column("address", String(128), nullable=False),
    Column("memo", String(128), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("fee", ExactDecimal, nullable=False),
    Column("value_usdt", ExactDecimal, nullable=False),
    Column("withdraw_order_id", String(64), nullable=True),
    Column("status", Integer, nullable=False),
    Column("txid", String(128), nullable=True),
    Column("info", String(200), nullable=False),
    Column("key_id", String(64), nullable=True),
    Column("source_ip", String(64), nullable=True),
    Column("apply_time", BigInteger, nullable=False),
    Column("update_time", BigInteger, nullable=False),
    Column("complete_time", BigInteger, nullable=True),
    UniqueConstraint("user_id", "withdraw_order_id", name="uq_wallet_withdrawal_order_id"),
    Index("ix_wallet_withdrawals_user_time", "user_id", "apply_time"),
    Index("ix_wallet_withdrawals_status", "status"),
)

wallet_deposit_credits = Table(
    "wallet_deposit_credits",
    metadata,
    Column("chain_tx_id", Integer, ForeignKey("wallet_chain_transactions.id"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("coin", String(16), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("credited_at", BigInteger, nullable=False),
)

WALLET_TRANSFER_TABLES = (wallet_withdrawals, wallet_deposit_credits)
