"""The exchange writer's address and fencing epoch (one row)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_exchange_writer"
down_revision = "0002_exchange"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_writer",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        sa.Column("url", sa.String(255), nullable=False),
        sa.Column("since", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("exchange_writer")
