"""Log-in with a password, and the one way past a lock on the client's address.

The per-address lock stops password spraying: one password tried on many accounts from one
address. It must not also shut out, for as long as a storm lasts, every other user behind that
address (an office NAT, a mobile carrier). So while only the address is locked, a right password
sent *together with* a valid TOTP code still opens a session: the sprayer has neither. On that
path every refusal is the same ``AddressLockedOut`` and counts as a failed password on the
account, whatever was wrong, so it reveals nothing about the password and the per-account lock
still holds. An account without 2FA cannot be told apart from the sprayer's next target, so it
waits for the address lock to lift.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, NoReturn

from sqlalchemy import Connection, Row, select, update

from keyplane.identity import audit
from keyplane.identity.audit import AuditAction
from keyplane.identity.errors import (
    AddressLockedOut,
    AuthenticationFailed,
    IdentityError,
    InvalidCredentials,
    LockedOut,
    TwoFactorNotEnabled,
)
from keyplane.identity.models import NewSession
from keyplane.identity.passwords import Passwords
from keyplane.identity.policy import IdentityPolicy
from keyplane.identity.sessions import SessionStore
from keyplane.identity.throttle import Scope, Throttle
from keyplane.identity.two_factor import TwoFactor
from keyplane.store.identity_tables import user_credentials

Transaction = Callable[[], AbstractContextManager[Connection]]


class LogIn:
    """The password step of log-in; ``transaction`` commits on ``IdentityError`` (see the service)."""

    def __init__(
        self,
        policy: IdentityPolicy,
        transaction: Transaction,
        passwords: Passwords,
        two_factor: TwoFactor,
        sessions: SessionStore,
    ) -> None:
        self._tx = transaction
        self._passwords = passwords
        self._two_factor = two_factor
        self._sessions = sessions
        self._throttle = Throttle(Scope.LOGIN, policy.account_rule, policy.ip_rule)

    def __call__(
        self,
        now: int,
        email: str,
        password: str,
        source_ip: str | None,
        user_agent: str,
        totp_code: str | None,
    ) -> NewSession:
        with self._tx() as conn:
            lock = self._lock(conn, now, email, source_ip)
            row = conn.execute(select(user_credentials).where(user_credentials.c.email == email)).first()
            user_id = int(row.user_id) if row is not None else None
            past_address_lock = isinstance(lock, AddressLockedOut) and bool(totp_code)
            if lock is not None and not past_address_lock:
                audit.record(
                    conn,
                    now,
                    AuditAction.LOGIN_FAILED,
                    user_id=user_id,
                    source_ip=source_ip,
                    detail="reason=locked_out",
                )
                raise lock
        # Argon2 runs outside the transaction: SQLite would otherwise hold its write lock for it.
        ok, new_hash = self._check_password(row, password)
        with self._tx() as conn:
            if past_address_lock:
                assert isinstance(lock, AddressLockedOut) and totp_code
                self._second_factor_or_refuse(conn, now, email, user_id, ok, totp_code, source_ip, lock)
            elif user_id is None or not ok:
                self._refuse(conn, now, email, user_id, source_ip, InvalidCredentials())
            else:
                # A lock set by parallel guesses meanwhile also refuses a right guess still in flight.
                lock = self._lock(conn, now, email, source_ip)
                if lock is not None:
                    raise lock
            assert user_id is not None
            return self._open(conn, now, user_id, email, new_hash, source_ip, user_agent, past_address_lock)

    def _lock(self, conn: Connection, now: int, email: str, source_ip: str | None) -> LockedOut | None:
        """The lock in force: the account's first (nothing gets past it), then the address's."""
        account = self._throttle.account_locked_until(conn, now, email)
        if account is not None:
            return LockedOut(account)
        address = self._throttle.address_locked_until(conn, now, source_ip)
        return AddressLockedOut(address) if address is not None else None

    def _check_password(self, row: Row[Any] | None, password: str) -> tuple[bool, str | None]:
        """Whether the password is right, and its new hash when the stored one is outdated."""
        if row is None:
            self._passwords.burn_time(password)
            return False, None
        if not self._passwords.verify(row.password_hash, password):
            return False, None
        if self._passwords.needs_rehash(row.password_hash):
            return True, self._passwords.hash(password)
        return True, None

    def _second_factor_or_refuse(
        self,
        conn: Connection,
        now: int,
        email: str,
        user_id: int | None,
        password_ok: bool,
        code: str,
        source_ip: str | None,
        lock: AddressLockedOut,
    ) -> None:
        """Return only for a right password with a valid, unused TOTP code; refuse all else alike."""
        account = self._throttle.account_locked_until(conn, now, email)
        if account is not None:
            raise LockedOut(account)
        if user_id is not None and password_ok and self._totp_accepted(conn, now, user_id, code, source_ip):
            return
        self._refuse(conn, now, email, user_id, source_ip, lock, reason="address_locked")

    def _totp_accepted(
        self, conn: Connection, now: int, user_id: int, code: str, source_ip: str | None
    ) -> bool:
        if self._two_factor.credentials(conn, user_id).totp_secret_sealed is None:
            return False
        try:
            self._two_factor.verify_totp(conn, now, user_id, code, source_ip, "login")
        except (AuthenticationFailed, TwoFactorNotEnabled):  # counted and audited by TwoFactor
            return False
        return True

    def _refuse(
        self,
        conn: Connection,
        now: int,
        email: str,
        user_id: int | None,
        source_ip: str | None,
        error: IdentityError,
        *,
        reason: str | None = None,
    ) -> NoReturn:
        """Count a failed password on the account and the address, audit it, and raise."""
        until = self._throttle.record_failure(conn, now, email, source_ip)
        reason = reason or ("bad_password" if user_id is not None else "unknown_account")
        audit.record(
            conn,
            now,
            AuditAction.LOGIN_FAILED,
            user_id=user_id,
            source_ip=source_ip,
            detail=f"reason={reason}",
        )
        if until is not None:
            audit.record(
                conn,
                now,
                AuditAction.LOCKED_OUT,
                user_id=user_id,
                source_ip=source_ip,
                detail=f"scope=login until={until}",
            )
            raise self._lock(conn, now, email, source_ip) or LockedOut(until)
        raise error

    def _open(
        self,
        conn: Connection,
        now: int,
        user_id: int,
        email: str,
        new_hash: str | None,
        source_ip: str | None,
        user_agent: str,
        second_factor_done: bool,
    ) -> NewSession:
        self._throttle.reset_account(conn, email)
        # Read again: 2FA may have been switched on while the password was being checked.
        row = self._two_factor.credentials(conn, user_id)
        if new_hash is not None:
            conn.execute(
                update(user_credentials)
                .where(user_credentials.c.user_id == user_id)
                .values(password_hash=new_hash, updated_at=now)
            )
            audit.record(conn, now, AuditAction.PASSWORD_REHASHED, user_id=user_id, source_ip=source_ip)
        pending = row.totp_secret_sealed is not None and not second_factor_done
        action = AuditAction.LOGIN_PASSWORD_ACCEPTED if pending else AuditAction.LOGIN_SUCCEEDED
        detail = "second_factor=totp past_address_lock" if second_factor_done else ""
        audit.record(conn, now, action, user_id=user_id, source_ip=source_ip, detail=detail)
        return self._sessions.create(
            conn, now, user_id, pending=pending, source_ip=source_ip, user_agent=user_agent
        )
