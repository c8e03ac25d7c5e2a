"""Wallet: issued deposit addresses and the simulated chain's transactions."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from keyplane.store.types import ExactDecimal

revision = "0005_wallet"
down_revision = "0004_exchange_writer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_deposit_addresses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("coin", sa.String(16), nullable=False),
        sa.Column("network", sa.String(16), nullable=False),
        sa.Column("address", sa.String(128), nullable=False),
        sa.Column("memo", sa.String(128), nullable=False),
        sa.Column("derivation_path", sa.String(64), nullable=False),
        sa.Column("key_fingerprint", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("user_id", "coin", "network", name="uq_wallet_address_user_coin_network"),
    )
    op.create_index("ix_wallet_address_network_address", "wallet_deposit_addresses", ["network", "address"])
    op.create_table(
        "wallet_chain_transactions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("txid", sa.String(128), nullable=False),
        sa.Column("output_index", sa.Integer, nullable=False),
        sa.Column("network", sa.String(16), nullable=False),
        sa.Column("coin", sa.String(16), nullable=False),
        sa.Column("address", sa.String(128), nullable=False),
        sa.Column("memo", sa.String(128), nullable=False),
        sa.Column("amount", ExactDecimal, nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("confirmations", sa.Integer, nullable=False),
        sa.Column("required_confirmations", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("withdrawal_id", sa.String(64), nullable=True),
        sa.Column("failure_reason", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("seq", name="uq_wallet_chain_seq"),
        sa.UniqueConstraint("network", "txid", "output_index", name="uq_wallet_chain_txid"),
        sa.UniqueConstraint("withdrawal_id", name="uq_wallet_chain_withdrawal"),
    )
    op.create_index("ix_wallet_chain_status", "wallet_chain_transactions", ["status", "id"])
    op.create_index("ix_wallet_chain_address", "wallet_chain_transactions", ["network", "address", "id"])


def downgrade() -> None:
    op.drop_table("wallet_chain_transactions")
    op.drop_table("wallet_deposit_addresses")
