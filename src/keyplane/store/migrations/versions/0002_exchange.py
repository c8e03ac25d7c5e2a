"""Exchange: assets, markets, ledger accounts, balances, journal entries, orders, trades, aggTrades."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from keyplane.store.types import ExactDecimal

revision = "0002_exchange"
down_revision = "0001_keys"
branch_labels = None
depends_on = None


def _money(name: str) -> sa.Column[object]:
    return sa.Column(name, ExactDecimal, nullable=False)


def upgrade() -> None:
    op.create_table(
        "ex_assets",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("precision", sa.Integer, nullable=False),
        _money("withdraw_fee"),
        _money("withdraw_min"),
    )
    op.create_table(
        "ex_markets",
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("base", sa.String(16), sa.ForeignKey("ex_assets.code"), nullable=False),
        sa.Column("quote", sa.String(16), sa.ForeignKey("ex_assets.code"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _money("min_price"),
        _money("max_price"),
        _money("tick_size"),
        _money("min_qty"),
        _money("max_qty"),
        _money("step_size"),
        _money("min_notional"),
        _money("max_notional"),
        _money("maker_fee"),
        _money("taker_fee"),
        sa.Column("stp_mode", sa.String(16), nullable=False),
    )
    op.create_table(
        "ex_accounts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True, unique=True),
    )
    op.create_table(
        "ex_balances",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("ex_accounts.id"), primary_key=True),
        sa.Column("asset", sa.String(16), sa.ForeignKey("ex_assets.code"), primary_key=True),
        _money("free"),
        _money("locked"),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ex_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("txn", sa.BigInteger, nullable=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("ex_accounts.id"), nullable=False),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("bucket", sa.String(8), nullable=False),
        _money("amount"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.BigInteger, nullable=True),
        sa.Column("memo", sa.String(128), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_ex_entries_txn", "ex_entries", ["txn"])
    op.create_index("ix_ex_entries_account_asset", "ex_entries", ["account_id", "asset"])
    op.create_table(
        "ex_orders",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("symbol", sa.String(32), sa.ForeignKey("ex_markets.symbol"), nullable=False),
        sa.Column("client_order_id", sa.String(36), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("time_in_force", sa.String(4), nullable=False),
        _money("price"),
        _money("orig_qty"),
        _money("orig_quote_order_qty"),
        _money("executed_qty"),
        _money("cummulative_quote_qty"),
        _money("locked_amount"),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("stp_mode", sa.String(16), nullable=False),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.Column("update_time", sa.BigInteger, nullable=False),
        sa.Column("working_time", sa.BigInteger, nullable=False),
        sa.Column("update_seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_ex_orders_user_symbol_id", "ex_orders", ["user_id", "symbol", "id"])
    op.create_index("ix_ex_orders_user_client", "ex_orders", ["user_id", "client_order_id"])
    op.create_index("ix_ex_orders_open", "ex_orders", ["is_open", "id"])
    op.create_table(
        "ex_trades",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        _money("price"),
        _money("qty"),
        _money("quote_qty"),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.Column("is_buyer_maker", sa.Boolean, nullable=False),
        sa.Column("buyer_order_id", sa.BigInteger, nullable=False),
        sa.Column("seller_order_id", sa.BigInteger, nullable=False),
        sa.Column("buyer_user_id", sa.Integer, nullable=False),
        sa.Column("seller_user_id", sa.Integer, nullable=False),
        _money("buyer_fee"),
        _money("seller_fee"),
    )
    op.create_index("ix_ex_trades_symbol_id", "ex_trades", ["symbol", "id"])
    op.create_index("ix_ex_trades_symbol_time", "ex_trades", ["symbol", "time"])
    op.create_index("ix_ex_trades_buyer", "ex_trades", ["buyer_user_id", "symbol", "id"])
    op.create_index("ix_ex_trades_seller", "ex_trades", ["seller_user_id", "symbol", "id"])
    op.create_table(
        "ex_agg_trades",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        _money("price"),
        _money("qty"),
        sa.Column("first_trade_id", sa.BigInteger, nullable=False),
        sa.Column("last_trade_id", sa.BigInteger, nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.Column("is_buyer_maker", sa.Boolean, nullable=False),
    )
    op.create_index("ix_ex_agg_symbol_id", "ex_agg_trades", ["symbol", "id"])
    op.create_index("ix_ex_agg_symbol_time", "ex_agg_trades", ["symbol", "time"])


def downgrade() -> None:
    for name in (
        "ex_agg_trades",
        "ex_trades",
        "ex_orders",
        "ex_entries",
        "ex_balances",
        "ex_accounts",
        "ex_markets",
        "ex_assets",
    ):
        op.drop_table(name)
