"""Self-trades that STP prevented, for ``GET /api/v3/myPreventedMatches``, and on each order it
expired the match and the quantity (Binance's ``preventedMatchId`` and ``preventedQuantity``)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from keyplane.store.types import ExactDecimal

revision = "0011_prevented_matches"
down_revision = "0010_order_amendments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ex_orders") as batch:
        batch.add_column(sa.Column("prevented_match_id", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("prevented_quantity", ExactDecimal, nullable=False, server_default="0"))
    op.create_table(
        "ex_prevented_matches",
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("prevented_match_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("taker_order_id", sa.BigInteger, nullable=False),
        sa.Column("maker_order_id", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("price", ExactDecimal, nullable=False),
        sa.Column("maker_prevented_qty", ExactDecimal, nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_ex_prevented_matches_taker", "ex_prevented_matches", ["taker_order_id"])
    op.create_index("ix_ex_prevented_matches_maker", "ex_prevented_matches", ["maker_order_id"])


def downgrade() -> None:
    op.drop_index("ix_ex_prevented_matches_maker", table_name="ex_prevented_matches")
    op.drop_index("ix_ex_prevented_matches_taker", table_name="ex_prevented_matches")
    op.drop_table("ex_prevented_matches")
    with op.batch_alter_table("ex_orders") as batch:
        batch.drop_column("prevented_quantity")
        batch.drop_column("prevented_match_id")
