"""Failure counting and lockout per account and per client address, stored in the database.

The counters live in ``login_throttle`` so that every server instance sees the same lock. A
fixed window opens at the first failure; reaching the limit inside it sets ``locked_until``
and starts a fresh window. Scopes (``login``, ``totp``, ``signup``) are counted apart: a wrong
TOTP code does not use up password attempts and the reverse. Sign-ups are not failures, but the
same counter limits how many accounts one address may open.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from keyplane.identity.policy import ThrottleRule
from keyplane.store.identity_tables import login_throttle


class Scope(str, Enum):
    LOGIN = "login"
    TOTP = "totp"
    SIGNUP = "signup"


class SubjectKind(str, Enum):
    ACCOUNT = "account"
    IP = "ip"


class Throttle:
    """Report locks and count failures; callers decide what a failure is, when to reset, what to raise.

    A scope without an ``account_rule`` counts addresses only (sign-ups: there is no account yet).
    """

    def __init__(self, scope: Scope, account_rule: ThrottleRule | None, ip_rule: ThrottleRule) -> None:
        self._scope = scope
        self._rules = {SubjectKind.IP: ip_rule}
        if account_rule is not None:
            self._rules[SubjectKind.ACCOUNT] = account_rule

    def locked_until(self, conn: Connection, now: int, account: str, ip: str | None) -> int | None:
        """The latest lock still in force on either subject, or ``None``."""
        locks = [self.account_locked_until(conn, now, account), self.address_locked_until(conn, now, ip)]
        return max((until for until in locks if until is not None), default=None)

    def account_locked_until(self, conn: Connection, now: int, account: str) -> int | None:
        return self._lock_of(conn, now, SubjectKind.ACCOUNT, account)

    def address_locked_until(self, conn: Connection, now: int, ip: str | None) -> int | None:
        return self._lock_of(conn, now, SubjectKind.IP, ip) if ip else None

    def record_failure(self, conn: Connection, now: int, account: str, ip: str | None) -> int | None:
        """Count one failure on both subjects; return the lock end if this failure set a lock."""
        locked: int | None = None
        for kind, subject in self._subjects(account, ip):
            until = self._count(conn, now, kind, subject, self._locked_row(conn, now, kind, subject))
            if until is not None:
                locked = max(locked or 0, until)
        return locked

    def admit_address(self, conn: Connection, now: int, ip: str) -> int | None:
        """Count one event from ``ip`` unless the address is locked; then return the lock end.

        The row is locked before it is read, so parallel requests cannot all slip under the limit.
        """
        row = self._locked_row(conn, now, SubjectKind.IP, ip)
        if row.locked_until is not None and row.locked_until > now:
            return int(row.locked_until)
        self._count(conn, now, SubjectKind.IP, ip, row)
        return None

    def reset_account(self, conn: Connection, account: str) -> None:
        """A success clears the account's count; the address keeps its count (one good password
        must not let an attacker reset the per-address budget)."""
        conn.execute(
            update(login_throttle)
            .where(self._match(SubjectKind.ACCOUNT, account))
            .values(failures=0, locked_until=None)
        )

    def _subjects(self, account: str, ip: str | None) -> list[tuple[SubjectKind, str]]:
        subjects = [(SubjectKind.ACCOUNT, account)] if SubjectKind.ACCOUNT in self._rules else []
        if ip:
            subjects.append((SubjectKind.IP, ip))
        return subjects

    def _lock_of(self, conn: Connection, now: int, kind: SubjectKind, subject: str) -> int | None:
        row = conn.execute(select(login_throttle.c.locked_until).where(self._match(kind, subject))).first()
        if row is not None and row.locked_until is not None and row.locked_until > now:
            return int(row.locked_until)
        return None

    def _locked_row(self, conn: Connection, now: int, kind: SubjectKind, subject: str) -> Row[Any]:
        """The subject's row, made if missing and locked for the transaction on PostgreSQL
        (on SQLite the insert already took the database's write lock)."""
        self._ensure_row(conn, kind, subject, now)
        query = select(login_throttle).where(self._match(kind, subject))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return conn.execute(query).one()

    def _count(
        self, conn: Connection, now: int, kind: SubjectKind, subject: str, row: Row[Any]
    ) -> int | None:
        """Add one to the window's count; return the lock end if the count reached the limit."""
        rule = self._rules[kind]
        failures, window_start = int(row.failures), int(row.window_started_at)
        if now - window_start >= rule.window_ms:
            failures, window_start = 0, now
        failures += 1
        until, locked = row.locked_until, None
        if failures >= rule.max_failures:
            until = locked = now + rule.lockout_ms
            failures, window_start = 0, now
        conn.execute(
            update(login_throttle)
            .where(self._match(kind, subject))
            .values(failures=failures, window_started_at=window_start, locked_until=until)
        )
        return locked

    def _match(self, kind: SubjectKind, subject: str) -> ColumnElement[bool]:
        return and_(
            login_throttle.c.scope == self._scope.value,
            login_throttle.c.subject_kind == kind.value,
            login_throttle.c.subject == subject,
        )

    def _ensure_row(self, conn: Connection, kind: SubjectKind, subject: str, now: int) -> None:
        values = {
            "scope": self._scope.value,
            "subject_kind": kind.value,
            "subject": subject,
            "failures": 0,
            "window_started_at": now,
            "locked_until": None,
        }
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(login_throttle).values(**values).on_conflict_do_nothing())
