"""Console sessions: opaque tokens, their storage as SHA-256 digests, expiry and CSRF tokens.

A session token is 256 random bits; the database holds only its digest, so a read of the
database does not hand out live sessions. The CSRF token is an HMAC keyed by the session
token: a page that knows the session can compute it, a cross-site form cannot.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from keyplane.identity.errors import CsrfInvalid, SessionInvalid, TwoFactorRequired
from keyplane.identity.models import NewSession, SessionInfo
from keyplane.identity.policy import IdentityPolicy
from keyplane.store.identity_tables import console_sessions

TOKEN_PREFIX = "kps_"
TOKEN_BYTES = 32
_CSRF_LABEL = b"keyplane/console/csrf/v1"
MAX_USER_AGENT = 256


def new_token(random_bytes: Callable[[int], bytes]) -> str:
    raw = base64.urlsafe_b64encode(random_bytes(TOKEN_BYTES)).decode("ascii").rstrip("=")
    return TOKEN_PREFIX + raw


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token_for(session_token: str) -> str:
    """Derived, not stored: nothing to keep in sync and nothing more to leak."""
    return hmac.new(session_token.encode("utf-8"), _CSRF_LABEL, hashlib.sha256).hexdigest()


def verify_csrf(session_token: str, csrf_token: str) -> None:
    """Raise ``CsrfInvalid`` unless ``csrf_token`` belongs to ``session_token``."""
    expected = csrf_token_for(session_token)
    if not hmac.compare_digest(expected.encode("ascii"), csrf_token.encode("utf-8", "replace")):
        raise CsrfInvalid()


class SessionStore:
    """Create, read, expire and revoke sessions inside a caller's transaction."""

    def __init__(self, policy: IdentityPolicy, random_bytes: Callable[[int], bytes]) -> None:
        self._policy = policy
        self._random_bytes = random_bytes

    def create(
        self,
        conn: Connection,
        now: int,
        user_id: int,
        *,
        pending: bool,
        source_ip: str | None,
        user_agent: str,
    ) -> NewSession:
        token = new_token(self._random_bytes)
        lifetime = self._policy.pending_second_factor_ms if pending else self._policy.session_absolute_ms
        values: dict[str, Any] = {
            "token_hash": token_digest(token),
            "user_id": user_id,
            "second_factor_pending": 1 if pending else 0,
            "created_at": now,
            "last_seen_at": now,
            "expires_at": now + lifetime,
            "revoked_at": None,
            "source_ip": source_ip,
            "user_agent": user_agent[:MAX_USER_AGENT],
        }
        key = conn.execute(insert(console_sessions).values(**values)).inserted_primary_key
        assert key is not None
        info = SessionInfo(
            session_id=int(key[0]),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=values["expires_at"],
            source_ip=source_ip,
            user_agent=values["user_agent"],
            second_factor_pending=pending,
        )
        return NewSession(token=token, csrf_token=csrf_token_for(token), info=info)

    def find_live(self, conn: Connection, now: int, token: str) -> SessionInfo:
        """The session for ``token`` if it is neither revoked nor expired, else ``SessionInvalid``."""
        row = conn.execute(
            select(console_sessions).where(console_sessions.c.token_hash == token_digest(token))
        ).first()
        if row is None or not self._is_live(row, now):
            raise SessionInvalid()
        return _info(row)

    def authenticate(self, conn: Connection, now: int, token: str) -> SessionInfo:
        """A fully signed-in session; touches ``last_seen_at`` at most once per interval."""
        info = self.find_live(conn, now, token)
        if info.second_factor_pending:
            raise TwoFactorRequired()
        if now - info.last_seen_at >= self._policy.touch_interval_ms:
            conn.execute(
                update(console_sessions)
                .where(console_sessions.c.id == info.session_id)
                .values(last_seen_at=now)
            )
        return info

    def list_live(self, conn: Connection, now: int, user_id: int) -> list[SessionInfo]:
        rows = conn.execute(
            select(console_sessions)
            .where(console_sessions.c.user_id == user_id, console_sessions.c.revoked_at.is_(None))
            .order_by(console_sessions.c.id)
        ).all()
        return [_info(r) for r in rows if self._is_live(r, now)]

    def revoke(self, conn: Connection, now: int, session_id: int, user_id: int | None = None) -> bool:
        query = update(console_sessions).where(
            console_sessions.c.id == session_id, console_sessions.c.revoked_at.is_(None)
        )
        if user_id is not None:
            query = query.where(console_sessions.c.user_id == user_id)
        return conn.execute(query.values(revoked_at=now)).rowcount == 1

    def revoke_all(self, conn: Connection, now: int, user_id: int, keep_session_id: int | None = None) -> int:
        query = update(console_sessions).where(
            console_sessions.c.user_id == user_id, console_sessions.c.revoked_at.is_(None)
        )
        if keep_session_id is not None:
            query = query.where(console_sessions.c.id != keep_session_id)
        return int(conn.execute(query.values(revoked_at=now)).rowcount)

    def _is_live(self, row: Row[Any], now: int) -> bool:
        return (
            row.revoked_at is None
            and now < row.expires_at
            and now - row.last_seen_at < self._policy.session_idle_ms
        )


def _info(row: Row[Any]) -> SessionInfo:
    return SessionInfo(
        session_id=int(row.id),
        user_id=int(row.user_id),
        created_at=int(row.created_at),
        last_seen_at=int(row.last_seen_at),
        expires_at=int(row.expires_at),
        source_ip=row.source_ip,
        user_agent=row.user_agent,
        second_factor_pending=bool(row.second_factor_pending),
    )
