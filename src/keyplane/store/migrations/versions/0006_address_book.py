"""Wallet: the withdrawal-address book."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_address_book"
down_revision = "0005_wallet"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_address_book",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("coin", sa.String(16), nullable=False),
        sa.Column("network", sa.String(16), nullable=False),
        sa.Column("address", sa.String(128), nullable=False),
        sa.Column("memo", sa.String(128), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("checksummed", sa.Boolean, nullable=False),
        sa.Column("added_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("user_id", "coin", "network", "address", "memo", name="uq_wallet_book_entry"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("wallet_address_book")
