"""Turning TOTP 2FA on and off, inside the caller's transaction.

Enrolment has two steps so that 2FA is never switched on with a secret the user's app does not
hold: ``begin`` stores a *pending* sealed secret and shows it once; ``confirm`` promotes it when
the app produces a valid code, and only then are recovery codes issued.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, update

from keyplane.identity import audit, totp
from keyplane.identity.audit import AuditAction
from keyplane.identity.errors import EnrolmentNotStarted, TwoFactorAlreadyEnabled
from keyplane.identity.models import RecoveryCodes, TotpEnrolment
from keyplane.identity.policy import IdentityPolicy
from keyplane.identity.two_factor import TwoFactor
from keyplane.store.identity_tables import user_credentials


class Enrolment:
    def __init__(
        self, policy: IdentityPolicy, two_factor: TwoFactor, random_bytes: Callable[[int], bytes]
    ) -> None:
        self._policy = policy
        self._two_factor = two_factor
        self._random_bytes = random_bytes

    def begin(self, conn: Connection, now: int, user_id: int, source_ip: str | None) -> TotpEnrolment:
        row = self._two_factor.credentials(conn, user_id)
        if row.totp_secret_sealed is not None:
            raise TwoFactorAlreadyEnabled()
        secret = totp.new_secret(self._random_bytes)
        self._set(
            conn,
            user_id,
            totp_pending_sealed=self._two_factor.seal_secret(user_id, secret),
            totp_pending_at=now,
            updated_at=now,
        )
        audit.record(conn, now, AuditAction.TOTP_ENROLMENT_STARTED, user_id=user_id, source_ip=source_ip)
        uri = totp.otpauth_uri(secret, row.email, self._policy.totp_issuer)
        return TotpEnrolment(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg(uri))

    def confirm(
        self, conn: Connection, now: int, user_id: int, code: str, source_ip: str | None
    ) -> RecoveryCodes:
        self._two_factor.check_lock(conn, now, user_id, source_ip, "enrol")
        row = self._two_factor.credentials(conn, user_id)
        if row.totp_secret_sealed is not None:
            raise TwoFactorAlreadyEnabled()
        if row.totp_pending_sealed is None or now - row.totp_pending_at > self._policy.enrolment_ttl_ms:
            raise EnrolmentNotStarted()
        secret = self._two_factor.unseal_secret(user_id, row.totp_pending_sealed)
        self._two_factor.accept_step(conn, now, user_id, secret, code, None, source_ip, "enrol")
        self._set(
            conn,
            user_id,
            totp_secret_sealed=row.totp_pending_sealed,
            totp_enabled_at=now,
            totp_pending_sealed=None,
            totp_pending_at=None,
            updated_at=now,
        )
        codes = self._two_factor.replace_recovery_codes(conn, now, user_id)
        audit.record(conn, now, AuditAction.TOTP_ENABLED, user_id=user_id, source_ip=source_ip)
        return codes

    def disable(self, conn: Connection, now: int, user_id: int, code: str, source_ip: str | None) -> None:
        """Needs a fresh TOTP code: a recovery code (perhaps printed and stolen) is not enough."""
        self._two_factor.verify_totp(conn, now, user_id, code, source_ip, "disable_2fa")
        self._set(
            conn,
            user_id,
            totp_secret_sealed=None,
            totp_enabled_at=None,
            totp_last_step=None,
            totp_pending_sealed=None,
            totp_pending_at=None,
            updated_at=now,
        )
        self._two_factor.delete_recovery_codes(conn, user_id)
        audit.record(conn, now, AuditAction.TOTP_DISABLED, user_id=user_id, source_ip=source_ip)

    def _set(self, conn: Connection, user_id: int, **values: object) -> None:
        conn.execute(update(user_credentials).where(user_credentials.c.user_id == user_id).values(**values))
