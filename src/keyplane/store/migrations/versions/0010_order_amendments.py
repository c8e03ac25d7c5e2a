"""Order amendments (``PUT /api/v3/order/amend/keepPriority``), for ``GET /api/v3/order/amendments``."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from keyplane.store.types import ExactDecimal

revision = "0010_order_amendments"
down_revision = "0009_conditional_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ex_order_amendments",
        sa.Column("execution_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("order_id", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("orig_client_order_id", sa.String(36), nullable=False),
        sa.Column("new_client_order_id", sa.String(36), nullable=False),
        sa.Column("orig_qty", ExactDecimal, nullable=False),
        sa.Column("new_qty", ExactDecimal, nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_ex_order_amendments_order", "ex_order_amendments", ["order_id", "execution_id"])


def downgrade() -> None:
    op.drop_index("ix_ex_order_amendments_order", table_name="ex_order_amendments")
    op.drop_table("ex_order_amendments")
