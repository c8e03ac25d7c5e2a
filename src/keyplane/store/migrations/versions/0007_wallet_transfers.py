"""Withdrawals and credited deposits, written by the exchange's group commits."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from keyplane.store.types import ExactDecimal

revision = "0007_wallet_transfers"
down_revision = "0006_address_book"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_withdrawals",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("coin", sa.String(16), nullable=False),
        sa.Column("network", sa.String(16), nullable=False),
        sa.Column("address", sa.String(128), nullable=False),
        sa.Column("memo", sa.String(128), nullable=False),
        sa.Column("amount", ExactDecimal, nullable=False),
        sa.Column("fee", ExactDecimal, nullable=False),
        sa.Column("value_usdt", ExactDecimal, nullable=False),
        sa.Column("withdraw_order_id", sa.String(64), nullable=True),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("txid", sa.String(128), nullable=True),
        sa.Column("info", sa.String(200), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=True),
        sa.Column("source_ip", sa.String(64), nullable=True),
        sa.Column("apply_time", sa.BigInteger, nullable=False),
        sa.Column("update_time", sa.BigInteger, nullable=False),
        sa.Column("complete_time", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("user_id", "withdraw_order_id", name="uq_wallet_withdrawal_order_id"),
    )
    op.create_index("ix_wallet_withdrawals_user_time", "wallet_withdrawals", ["user_id", "apply_time"])
    op.create_index("ix_wallet_withdrawals_status", "wallet_withdrawals", ["status"])
    op.create_table(
        "wallet_deposit_credits",
        sa.Column("chain_tx_id", sa.Integer, sa.ForeignKey("wallet_chain_transactions.id"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("coin", sa.String(16), nullable=False),
        sa.Column("amount", ExactDecimal, nullable=False),
        sa.Column("credited_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("wallet_deposit_credits")
    op.drop_index("ix_wallet_withdrawals_status", "wallet_withdrawals")
    op.drop_index("ix_wallet_withdrawals_user_time", "wallet_withdrawals")
    op.drop_table("wallet_withdrawals")
