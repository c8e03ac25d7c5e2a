"""Conditional orders: stop price, trailing delta and tracking state on each order; order lists (OCO)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from keyplane.store.types import ExactDecimal

revision = "0009_conditional_orders"
down_revision = "0008_asset_fees_from_networks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ex_orders") as batch:
        # "TAKE_PROFIT_LIMIT" is 17 characters.
        batch.alter_column("type", existing_type=sa.String(16), type_=sa.String(24), existing_nullable=False)
        batch.add_column(sa.Column("stop_price", ExactDecimal, nullable=False, server_default="0"))
        batch.add_column(sa.Column("trailing_delta", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("trailing_time", sa.BigInteger, nullable=False, server_default="-1"))
        batch.add_column(sa.Column("trail_price", ExactDecimal, nullable=False, server_default="0"))
        batch.add_column(sa.Column("order_list_id", sa.BigInteger, nullable=False, server_default="-1"))
        batch.add_column(sa.Column("queue", sa.BigInteger, nullable=False, server_default="0"))
        batch.create_index("ix_ex_orders_list", ["order_list_id"])
    op.create_table(
        "ex_order_lists",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("symbol", sa.String(32), sa.ForeignKey("ex_markets.symbol"), nullable=False),
        sa.Column("contingency_type", sa.String(8), nullable=False),
        sa.Column("list_status_type", sa.String(16), nullable=False),
        sa.Column("list_order_status", sa.String(16), nullable=False),
        sa.Column("list_client_order_id", sa.String(36), nullable=False),
        sa.Column("transaction_time", sa.BigInteger, nullable=False),
        sa.Column("update_seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_ex_order_lists_user_id", "ex_order_lists", ["user_id", "id"])
    op.create_index("ix_ex_order_lists_status", "ex_order_lists", ["list_status_type", "id"])


def downgrade() -> None:
    op.drop_table("ex_order_lists")
    with op.batch_alter_table("ex_orders") as batch:
        batch.drop_index("ix_ex_orders_list")
        for name in (
            "queue",
            "order_list_id",
            "trail_price",
            "trailing_time",
            "trailing_delta",
            "stop_price",
        ):
            batch.drop_column(name)
        batch.alter_column("type", existing_type=sa.String(24), type_=sa.String(16), existing_nullable=False)
