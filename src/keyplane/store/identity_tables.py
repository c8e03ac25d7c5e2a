"""Tables of the console identity: credentials, recovery codes, sessions and the log-in throttle.

Everything is keyed by ``users.id`` and lives beside ``users`` rather than in it, so that the
keys area owns ``users`` and identity can evolve without touching it. No column holds a secret
in the clear: passwords are Argon2id hashes, TOTP secrets are sealed (AES-GCM, user id as
associated data), recovery codes and session tokens are SHA-256 digests.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
)

from keyplane.store.tables import metadata

user_credentials = Table(
    "user_credentials",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    # Active second factor; NULL when 2FA is off.
    Column("totp_secret_sealed", LargeBinary, nullable=True),
    Column("totp_enabled_at", BigInteger, nullable=True),
    # Highest accepted 30 s time step: a code for this step or an earlier one is refused.
    Column("totp_last_step", BigInteger, nullable=True),
    # Enrolment in progress: a secret shown to the user but not yet confirmed by a code.
    Column("totp_pending_sealed", LargeBinary, nullable=True),
    Column("totp_pending_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("used_at", BigInteger, nullable=True),
)

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    # 1 while the password is proven but the second factor is not: such a session opens nothing.
    Column("second_factor_pending", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    Column("source_ip", String(64), nullable=True),
    Column("user_agent", String(256), nullable=False),
)

# One row per (scope, subject): failures in the current window and the lock, shared by instances.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("scope", String(16), nullable=False),
    Column("subject_kind", String(8), nullable=False),
    Column("subject", String(320), nullable=False),
    Column("failures", Integer, nullable=False),
    Column("window_started_at", BigInteger, nullable=False),
    Column("locked_until", BigInteger, nullable=True),
    PrimaryKeyConstraint("scope", "subject_kind", "subject", name="pk_login_throttle"),
)
