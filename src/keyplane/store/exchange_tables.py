"""Tables of the exchange: assets, markets, ledger accounts, balances, entries, orders and trades.

The database is the record: the engine keeps books and balances in memory for speed but writes
every command's effects here in one transaction before it answers, and rebuilds from here on start.
Amounts are ``ExactDecimal``; times are integer milliseconds.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from keyplane.store.tables import metadata
from keyplane.store.types import ExactDecimal

ex_assets = Table(
    "ex_assets",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("precision", Integer, nullable=False),
)

ex_markets = Table(
    "ex_markets",
    metadata,
    Column("symbol", String(32), primary_key=True),
    Column("base", String(16), ForeignKey("ex_assets.code"), nullable=False),
    Column("quote", String(16), ForeignKey("ex_assets.code"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("min_price", ExactDecimal, nullable=False),
    Column("max_price", ExactDecimal, nullable=False),
    Column("tick_size", ExactDecimal, nullable=False),
    Column("min_qty", ExactDecimal, nullable=False),
    Column("max_qty", ExactDecimal, nullable=False),
    Column("step_size", ExactDecimal, nullable=False),
    Column("min_notional", ExactDecimal, nullable=False),
    Column("max_notional", ExactDecimal, nullable=False),
    Column("maker_fee", ExactDecimal, nullable=False),
    Column("taker_fee", ExactDecimal, nullable=False),
    Column("stp_mode", String(16), nullable=False),
)

# A ledger account: one per user, plus the "fee" and "external" system accounts (user_id NULL).
ex_accounts = Table(
    "ex_accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=True, unique=True),
)

ex_balances = Table(
    "ex_balances",
    metadata,
    Column("account_id", Integer, ForeignKey("ex_accounts.id"), primary_key=True),
    Column("asset", String(16), ForeignKey("ex_assets.code"), primary_key=True),
    Column("free", ExactDecimal, nullable=False),
    Column("locked", ExactDecimal, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# Double-entry journal: the entries of one ``txn`` sum to zero per asset.
ex_entries = Table(
    "ex_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("txn", BigInteger, nullable=False),
    Column("account_id", Integer, ForeignKey("ex_accounts.id"), nullable=False),
    Column("asset", String(16), nullable=False),
    Column("bucket", String(8), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("ref", BigInteger, nullable=True),
    Column("memo", String(128), nullable=False),
    Column("at", BigInteger, nullable=False),
    Index("ix_ex_entries_txn", "txn"),
    Index("ix_ex_entries_account_asset", "account_id", "asset"),
)

ex_orders = Table(
    "ex_orders",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("symbol", String(32), ForeignKey("ex_markets.symbol"), nullable=False),
    Column("client_order_id", String(36), nullable=False),
    Column("side", String(4), nullable=False),
    Column("type", String(24), nullable=False),
    Column("time_in_force", String(4), nullable=False),
    Column("price", ExactDecimal, nullable=False),
    Column("orig_qty", ExactDecimal, nullable=False),
    Column("orig_quote_order_qty", ExactDecimal, nullable=False),
    Column("executed_qty", ExactDecimal, nullable=False),
    Column("cummulative_quote_qty", ExactDecimal, nullable=False),
    Column("locked_amount", ExactDecimal, nullable=False),
    Column("status", String(20), nullable=False),
    Column("stp_mode", String(16), nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("update_time", BigInteger, nullable=False),
    Column("working_time", BigInteger, nullable=False),
    Column("update_seq", BigInteger, nullable=False),
    # Conditional orders (0 / -1 for the others); trail_price is the peak a trailing order tracks.
    Column("stop_price", ExactDecimal, nullable=False, server_default="0"),
    Column("trailing_delta", BigInteger, nullable=False, server_default="0"),
    Column("trailing_time", BigInteger, nullable=False, server_default="-1"),
    Column("trail_price", ExactDecimal, nullable=False, server_default="0"),
    Column("order_list_id", BigInteger, nullable=False, server_default="-1"),
    Column("queue", BigInteger, nullable=False, server_default="0"),  # time priority in the book
    # Expired by self-trade prevention: its prevented match (0: not) and the quantity expired.
    Column("prevented_match_id", BigInteger, nullable=False, server_default="0"),
    Column("prevented_quantity", ExactDecimal, nullable=False, server_default="0"),
    Index("ix_ex_orders_user_symbol_id", "user_id", "symbol", "id"),
    Index("ix_ex_orders_user_client", "user_id", "client_order_id"),
    Index("ix_ex_orders_open", "is_open", "id"),
    Index("ix_ex_orders_list", "order_list_id"),
)

# Order lists (OCO); their legs are the orders with this ``order_list_id``.
ex_order_lists = Table(
    "ex_order_lists",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("symbol", String(32), ForeignKey("ex_markets.symbol"), nullable=False),
    Column("contingency_type", String(8), nullable=False),
    Column("list_status_type", String(16), nullable=False),
    Column("list_order_status", String(16), nullable=False),
    Column("list_client_order_id", String(36), nullable=False),
    Column("transaction_time", BigInteger, nullable=False),
    Column("update_seq", BigInteger, nullable=False),
    Index("ix_ex_order_lists_user_id", "user_id", "id"),
    Index("ix_ex_order_lists_status", "list_status_type", "id"),
)

ex_trades = Table(
    "ex_trades",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("symbol", String(32), nullable=False),
    Column("price", ExactDecimal, nullable=False),
    Column("qty", ExactDecimal, nullable=False),
    Column("quote_qty", ExactDecimal, nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("is_buyer_maker", Boolean, nullable=False),
    Column("buyer_order_id", BigInteger, nullable=False),
    Column("seller_order_id", BigInteger, nullable=False),
    Column("buyer_user_id", Integer, nullable=False),
    Column("seller_user_id", Integer, nullable=False),
    Column("buyer_fee", ExactDecimal, nullable=False),
    Column("seller_fee", ExactDecimal, nullable=False),
    Index("ix_ex_trades_symbol_id", "symbol", "id"),
    Index("ix_ex_trades_symbol_time", "symbol", "time"),
    Index("ix_ex_trades_buyer", "buyer_user_id", "symbol", "id"),
    Index("ix_ex_trades_seller", "seller_user_id", "symbol", "id"),
)

# Consecutive fills of one taker at one price, as Binance's aggTrades.
ex_agg_trades = Table(
    "ex_agg_trades",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("symbol", String(32), nullable=False),
    Column("price", ExactDecimal, nullable=False),
    Column("qty", ExactDecimal, nullable=False),
    Column("first_trade_id", BigInteger, nullable=False),
    Column("last_trade_id", BigInteger, nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("is_buyer_maker", Boolean, nullable=False),
    Index("ix_ex_agg_symbol_id", "symbol", "id"),
    Index("ix_ex_agg_symbol_time", "symbol", "time"),
)

EXCHANGE_TABLES = (
    ex_assets,
    ex_markets,
    ex_accounts,
    ex_balances,
    ex_entries,
    ex_orders,
    ex_order_lists,
    ex_trades,
    ex_agg_trades,
)

ex_order_amendments = Table(
    "ex_order_amendments",
    metadata,
    Column("execution_id", BigInteger, primary_key=True, autoincrement=False),
    Column("order_id", BigInteger, nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("symbol", String(32), nullable=False),
    Column("orig_client_order_id", String(36), nullable=False),
    Column("new_client_order_id", String(36), nullable=False),
    Column("orig_qty", ExactDecimal, nullable=False),
    Column("new_qty", ExactDecimal, nullable=False),
    Column("time", BigInteger, nullable=False),
    Index("ix_ex_order_amendments_order", "order_id", "execution_id"),
)

# Self-trades that STP prevented (GET /api/v3/myPreventedMatches); ids count per market.
ex_prevented_matches = Table(
    "ex_prevented_matches",
    metadata,
    Column("symbol", String(32), primary_key=True),
    Column("prevented_match_id", BigInteger, primary_key=True, autoincrement=False),
    Column("taker_order_id", BigInteger, nullable=False),
    Column("maker_order_id", BigInteger, nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("price", ExactDecimal, nullable=False),
    Column("maker_prevented_qty", ExactDecimal, nullable=False),
    Column("time", BigInteger, nullable=False),
    Index("ix_ex_prevented_matches_taker", "taker_order_id"),
    Index("ix_ex_prevented_matches_maker", "maker_order_id"),
)
