"""Tables of the wallet: the deposit addresses issued to users, and the (simulated) chain's transactions.

The chain table is the simulated chain itself (a node adapter would keep its own view in the same
shape). Amounts are ``ExactDecimal``; times are integer milliseconds. ``seq`` orders every change
to a chain transaction, so a consumer can resume after the last one it handled.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint

from keyplane.store.tables import metadata
from keyplane.store.types import ExactDecimal

wallet_deposit_addresses = Table(
    "wallet_deposit_addresses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("coin", String(16), nullable=False),
    Column("network", String(16), nullable=False),
    Column("address", String(128), nullable=False),
    Column("memo", String(128), nullable=False),
    Column("derivation_path", String(64), nullable=False),
    Column("key_fingerprint", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("user_id", "coin", "network", name="uq_wallet_address_user_coin_network"),
    Index("ix_wallet_address_network_address", "network", "address"),
)

wallet_chain_transactions = Table(
    "wallet_chain_transactions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False),
    Column("txid", String(128), nullable=False),
    Column("output_index", Integer, nullable=False),
    Column("network", String(16), nullable=False),
    Column("coin", String(16), nullable=False),
    Column("address", String(128), nullable=False),
    Column("memo", String(128), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("direction", String(3), nullable=False),
    Column("confirmations", Integer, nullable=False),
    Column("required_confirmations", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    # OUT only: the exchange's withdrawal id; unique, so a retried send cannot broadcast twice.
    Column("withdrawal_id", String(64), nullable=True),
    Column("failure_reason", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("seq", name="uq_wallet_chain_seq"),
    UniqueConstraint("network", "txid", "output_index", name="uq_wallet_chain_txid"),
    UniqueConstraint("withdrawal_id", name="uq_wallet_chain_withdrawal"),
    Index("ix_wallet_chain_status", "status", "id"),
    Index("ix_wallet_chain_address", "network", "address", "id"),
)

WALLET_TABLES = (wallet_deposit_addresses, wallet_chain_transactions)
