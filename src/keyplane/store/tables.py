"""Tables of the key platform: users, API keys, key-change log and audit events.

Other areas define their tables in their own modules on the same ``metadata``
(``exchange_tables.py``, ``identity_tables.py``); Alembic migrations create them all.
Times are integer milliseconds since the epoch (UTC), as on Binance.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_id", String(80), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    # HMAC: the secret sealed with the master key. Asymmetric: NULL.
    Column("secret_sealed", LargeBinary, nullable=True),
    # Ed25519/RSA: the registered public key (PEM). HMAC: NULL.
    Column("public_key_pem", Text, nullable=True),
    # After a rotation, the previous material stays valid until ``previous_until``.
    Column("previous_secret_sealed", LargeBinary, nullable=True),
    Column("previous_public_key_pem", Text, nullable=True),
    Column("previous_until", BigInteger, nullable=True),
    Column("label", String(128), nullable=False, default=""),
    Column("permissions", String(64), nullable=False),
    Column("ip_allowlist", Text, nullable=False, default=""),
    Column("symbols", Text, nullable=False, default=""),
    Column("expires_at", BigInteger, nullable=True),
    Column("status", String(16), nullable=False),
    Column("status_reason", String(200), nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("trade_since", BigInteger, nullable=True),
    Column("last_used_at", BigInteger, nullable=True),
)

# Append-only log of key changes; every instance polls it to drop stale cache entries.
key_changes = Table(
    "key_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_id", String(80), nullable=False),
    Column("changed_at", BigInteger, nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("user_id", Integer, nullable=True),
    Column("key_id", String(80), nullable=True),
    Column("source_ip", String(64), nullable=True),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_audit_user_at", "user_id", "at"),
    Index("ix_audit_key_at", "key_id", "at"),
)
