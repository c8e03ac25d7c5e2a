"""Withdrawal fees and minimums live in the wallet's network table only, not on assets."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from keyplane.store.types import ExactDecimal

revision = "0008_asset_fees_from_networks"
down_revision = "0007_wallet_transfers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ex_assets") as batch:
        batch.drop_column("withdraw_fee")
        batch.drop_column("withdraw_min")


def downgrade() -> None:
    with op.batch_alter_table("ex_assets") as batch:
        batch.add_column(sa.Column("withdraw_fee", ExactDecimal, nullable=False, server_default="0"))
        batch.add_column(sa.Column("withdraw_min", ExactDecimal, nullable=False, server_default="0"))
