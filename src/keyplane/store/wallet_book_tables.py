"""The withdrawal-address book: the destinations each user may withdraw to, per coin and network.

One row per (user, coin, network, address, memo); the address is stored canonical, so two
spellings of one address cannot both be added. Removing an entry deletes its row (the audit log
keeps the history); adding it again starts a new cooling-off. Times are integer milliseconds.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Integer, String, Table, UniqueConstraint

from keyplane.store.tables import metadata

wallet_address_book = Table(
    "wallet_address_book",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("coin", String(16), nullable=False),
    Column("network", String(16), nullable=False),
    Column("address", String(128), nullable=False),
    Column("memo", String(128), nullable=False),
    Column("label", String(64), nullable=False),
    Column("checksummed", Boolean, nullable=False),
    Column("added_at", BigInteger, nullable=False),
    UniqueConstraint("user_id", "coin", "network", "address", "memo", name="uq_wallet_book_entry"),
    # Ids are never reused (SQLite would reuse the highest after a delete): an audit event's
    # entry id, or a form still open on another tab, names one entry only.
    sqlite_autoincrement=True,
)

WALLET_BOOK_TABLES = (wallet_address_book,)
