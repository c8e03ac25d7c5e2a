"""Conditional orders: stop price, trailing delta and tracking state on each order; its order list."""

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


def downgrade() -> None:
    with op.batch_alter_table("ex_orders") as batch:
        for name in ("order_list_id", "trail_price", "trailing_time", "trailing_delta", "stop_price"):
            batch.drop_column(name)
        batch.alter_column("type", existing_type=sa.String(24), type_=sa.String(16), existing_nullable=False)
