"""Failure counting and lockout per account and per client address, stored in the database.

The counters live in ``login_throttle`` so that every server instance sees the same lock. A
fixed window opens at the first failure; reaching the limit inside it sets ``locked_until``
and starts a fresh window. Scopes (``login``, ``totp``) are counted apart: a wrong TOTP code
does not use up password attempts and the reverse.
"""

from __future__ import annotations

from enum import Enum

from sqlalchemy import ColumnElement, Connection, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from keyplane.identity.policy import ThrottleRule
from keyplane.store.identity_tables import login_throttle


class Scope(str, Enum):
    LOGIN = "login"
    TOTP = "totp"


class SubjectKind(str, Enum):
    ACCOUNT = "account"
    IP = "ip"


class Throttle:
    """Report locks and count failures; callers decide what a failure is, when to reset, what to raise."""

    def __init__(self, scope: Scope, account_rule: ThrottleRule, ip_rule: ThrottleRule) -> None:
        self._scope = scope
        self._rules = {SubjectKind.ACCOUNT: account_rule, SubjectKind.IP: ip_rule}

    def locked_until(self, conn: Connection, now: int, account: str, ip: str | None) -> int | None:
        """The latest lock still in force on either subject, or ``None``."""
        until: int | None = None
        for kind, subject in self._subjects(account, ip):
            row = conn.execute(
                select(login_throttle.c.locked_until).where(self._match(kind, subject))
            ).first()
            if row is not None and row.locked_until is not None and row.locked_until > now:
                until = max(until or 0, int(row.locked_until))
        return until

    def record_failure(self, conn: Connection, now: int, account: str, ip: str | None) -> int | None:
        """Count one failure on both subjects; return the lock end if this failure set a lock."""
        locked: int | None = None
        for kind, subject in self._subjects(account, ip):
            rule = self._rules[kind]
            self._ensure_row(conn, kind, subject, now)
            query = select(login_throttle).where(self._match(kind, subject))
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).one()
            failures, window_start = int(row.failures), int(row.window_started_at)
            if now - window_start >= rule.window_ms:
                failures, window_start = 0, now
            failures += 1
            until = row.locked_until
            if failures >= rule.max_failures:
                until = now + rule.lockout_ms
                failures, window_start = 0, now
                locked = max(locked or 0, until)
            conn.execute(
                update(login_throttle)
                .where(self._match(kind, subject))
                .values(failures=failures, window_started_at=window_start, locked_until=until)
            )
        return locked

    def reset_account(self, conn: Connection, account: str) -> None:
        """A success clears the account's count; the address keeps its count (one good password
        must not let an attacker reset the per-address budget)."""
        conn.execute(
            update(login_throttle)
            .where(self._match(SubjectKind.ACCOUNT, account))
            .values(failures=0, locked_until=None)
        )

    def _subjects(self, account: str, ip: str | None) -> list[tuple[SubjectKind, str]]:
        subjects = [(SubjectKind.ACCOUNT, account)]
        if ip:
            subjects.append((SubjectKind.IP, ip))
        return subjects

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
