"""Audit events of the identity area, written in the same transaction as the change they record.

``detail`` holds reasons and names only, never a password, a code, a token or a secret; an
unknown email typed at log-in is not recorded either (users paste passwords into that field).
"""

from __future__ import annotations

from enum import Enum
from typing import NoReturn

from sqlalchemy import Connection, insert

from keyplane.identity.errors import IdentityError, LockedOut
from keyplane.store.tables import audit_events


class AuditAction(str, Enum):
    SIGNED_UP = "identity.signup"
    SIGNUP_THROTTLED = "identity.signup.throttled"
    LOGIN_SUCCEEDED = "identity.login.succeeded"
    LOGIN_PASSWORD_ACCEPTED = "identity.login.password_accepted"
    LOGIN_FAILED = "identity.login.failed"
    LOCKED_OUT = "identity.locked_out"
    LOGGED_OUT = "identity.logout"
    SESSION_REVOKED = "identity.session.revoked"
    SESSIONS_REVOKED_ALL = "identity.session.revoked_all"
    TOTP_ENROLMENT_STARTED = "identity.2fa.enrolment_started"
    TOTP_ENABLED = "identity.2fa.enabled"
    TOTP_DISABLED = "identity.2fa.disabled"
    TOTP_FAILED = "identity.2fa.failed"
    RECOVERY_CODE_USED = "identity.2fa.recovery_code_used"
    RECOVERY_CODES_REGENERATED = "identity.2fa.recovery_codes_regenerated"
    STEP_UP_VERIFIED = "identity.step_up.verified"
    PASSWORD_REHASHED = "identity.password.rehashed"


def actor_for(user_id: int | None) -> str:
    return f"user:{user_id}" if user_id is not None else "anonymous"


def record(
    conn: Connection,
    now: int,
    action: AuditAction,
    *,
    user_id: int | None,
    source_ip: str | None,
    detail: str = "",
) -> None:
    conn.execute(
        insert(audit_events).values(
            at=now,
            actor=actor_for(user_id),
            action=action.value,
            user_id=user_id,
            key_id=None,
            source_ip=source_ip,
            detail=detail,
        )
    )


def refuse(
    conn: Connection,
    now: int,
    locked_until: int | None,
    failed: AuditAction,
    error: IdentityError,
    *,
    user_id: int | None,
    source_ip: str | None,
    detail: str,
    scope: str,
) -> NoReturn:
    """Audit a failed attempt and raise: ``LockedOut`` when it tipped the throttle, else ``error``."""
    record(conn, now, failed, user_id=user_id, source_ip=source_ip, detail=detail)
    if locked_until is not None:
        record(
            conn,
            now,
            AuditAction.LOCKED_OUT,
            user_id=user_id,
            source_ip=source_ip,
            detail=f"scope={scope} until={locked_until}",
        )
        raise LockedOut(locked_until)
    raise error
