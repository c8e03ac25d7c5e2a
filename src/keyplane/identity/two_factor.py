"""The second factor inside a transaction: TOTP checks with replay protection, recovery codes.

``TwoFactor`` holds no state of its own; the caller passes the connection of its transaction,
so the accepted step, the used recovery code, the throttle count and the audit row commit or
roll back together. A refused code is counted (per account and per address) before the error
is raised; the service's transaction commits those writes on any ``IdentityError``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any, NoReturn

from sqlalchemy import Connection, Row, delete, insert, or_, select, update

from keyplane.identity import audit, totp
from keyplane.identity.audit import AuditAction
from keyplane.identity.errors import (
    IdentityError,
    LockedOut,
    RecoveryCodeInvalid,
    SealedSecretUnreadable,
    TotpInvalid,
    TotpReused,
    TwoFactorNotEnabled,
    UserNotFound,
)
from keyplane.identity.models import RecoveryCodes
from keyplane.identity.policy import IdentityPolicy
from keyplane.identity.throttle import Scope, Throttle
from keyplane.store.identity_tables import recovery_codes, user_credentials

SealFn = Callable[[bytes, bytes], bytes]


def secret_associated_data(user_id: int) -> bytes:
    """Binds a sealed secret to its user: a row copied onto another account does not unseal."""
    return f"keyplane/identity/totp/{user_id}".encode("ascii")


class TwoFactor:
    def __init__(
        self, policy: IdentityPolicy, seal: SealFn, unseal: SealFn, random_bytes: Callable[[int], bytes]
    ) -> None:
        self._seal = seal
        self._unseal = unseal
        self._random_bytes = random_bytes
        self.throttle = Throttle(Scope.TOTP, policy.account_rule, policy.ip_rule)

    def seal_secret(self, user_id: int, secret: str) -> bytes:
        return self._seal(secret.encode("ascii"), secret_associated_data(user_id))

    def unseal_secret(self, user_id: int, sealed: bytes) -> str:
        try:
            return self._unseal(bytes(sealed), secret_associated_data(user_id)).decode("ascii")
        except Exception as e:  # the sealer is injected; whatever it raises means "unreadable"
            raise SealedSecretUnreadable() from e

    def credentials(self, conn: Connection, user_id: int) -> Row[Any]:
        """The credentials row, locked for the rest of the transaction on PostgreSQL."""
        query = select(user_credentials).where(user_credentials.c.user_id == user_id)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise UserNotFound()
        return row

    def verify_totp(
        self, conn: Connection, now: int, user_id: int, code: str, source_ip: str | None, purpose: str
    ) -> None:
        """Accept ``code`` for the active secret once, or count a failure and raise."""
        self.check_lock(conn, now, user_id, source_ip, purpose)
        row = self.credentials(conn, user_id)
        if row.totp_secret_sealed is None:
            raise TwoFactorNotEnabled()
        secret = self.unseal_secret(user_id, row.totp_secret_sealed)
        self.accept_step(conn, now, user_id, secret, code, row.totp_last_step, source_ip, purpose)

    def accept_step(
        self,
        conn: Connection,
        now: int,
        user_id: int,
        secret: str,
        code: str,
        last_step: int | None,
        source_ip: str | None,
        purpose: str,
    ) -> None:
        """Record the newest matching step as used; a step at or below ``last_step`` is a replay."""
        steps = totp.matching_steps(secret, code, now)
        fresh = [s for s in steps if last_step is None or s > last_step]
        if fresh:
            step = max(fresh)
            won = conn.execute(
                update(user_credentials)
                .where(
                    user_credentials.c.user_id == user_id,
                    or_(
                        user_credentials.c.totp_last_step.is_(None), user_credentials.c.totp_last_step < step
                    ),
                )
                .values(totp_last_step=step, updated_at=now)
            ).rowcount
            if won == 1:
                self.throttle.reset_account(conn, str(user_id))
                return
        error = TotpReused() if steps else TotpInvalid()
        self.fail(conn, now, user_id, source_ip, error, purpose)

    def use_recovery_code(
        self, conn: Connection, now: int, user_id: int, code: str, source_ip: str | None, purpose: str
    ) -> None:
        """Spend one unused recovery code, or count a failure and raise."""
        self.check_lock(conn, now, user_id, source_ip, purpose)
        if self.credentials(conn, user_id).totp_secret_sealed is None:
            raise TwoFactorNotEnabled()
        digest = totp.hash_recovery_code(code).encode("ascii")
        unused = conn.execute(
            select(recovery_codes.c.id, recovery_codes.c.code_hash).where(
                recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None)
            )
        ).all()
        match: int | None = None
        for row in unused:  # no early exit: every stored digest is compared
            if hmac.compare_digest(row.code_hash.encode("ascii"), digest):
                match = int(row.id)
        if match is not None:
            spent = conn.execute(
                update(recovery_codes)
                .where(recovery_codes.c.id == match, recovery_codes.c.used_at.is_(None))
                .values(used_at=now)
            ).rowcount
            if spent == 1:
                self.throttle.reset_account(conn, str(user_id))
                audit.record(
                    conn,
                    now,
                    AuditAction.RECOVERY_CODE_USED,
                    user_id=user_id,
                    source_ip=source_ip,
                    detail=f"purpose={purpose} remaining={len(unused) - 1}",
                )
                return
        self.fail(conn, now, user_id, source_ip, RecoveryCodeInvalid(), purpose)

    def replace_recovery_codes(self, conn: Connection, now: int, user_id: int) -> RecoveryCodes:
        codes = totp.new_recovery_codes(self._random_bytes)
        conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
        conn.execute(
            insert(recovery_codes),
            [
                {
                    "user_id": user_id,
                    "code_hash": totp.hash_recovery_code(c),
                    "created_at": now,
                    "used_at": None,
                }
                for c in codes
            ],
        )
        return RecoveryCodes(codes=codes)

    def check_lock(
        self, conn: Connection, now: int, user_id: int, source_ip: str | None, purpose: str
    ) -> None:
        """Refuse, and record the refusal, while the account or the address is locked."""
        until = self.throttle.locked_until(conn, now, str(user_id), source_ip)
        if until is not None:
            audit.record(
                conn,
                now,
                AuditAction.TOTP_FAILED,
                user_id=user_id,
                source_ip=source_ip,
                detail=f"purpose={purpose} reason=locked_out",
            )
            raise LockedOut(until)

    def delete_recovery_codes(self, conn: Connection, user_id: int) -> None:
        conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))

    def fail(
        self,
        conn: Connection,
        now: int,
        user_id: int,
        source_ip: str | None,
        error: IdentityError,
        purpose: str,
    ) -> NoReturn:
        until = self.throttle.record_failure(conn, now, str(user_id), source_ip)
        audit.refuse(
            conn,
            now,
            until,
            AuditAction.TOTP_FAILED,
            error,
            user_id=user_id,
            source_ip=source_ip,
            detail=f"purpose={purpose} reason={error.code}",
            scope="totp",
        )
