"""``IdentityService``: console accounts, log-in with TOTP 2FA, sessions and step-up checks.

Plain Python over an SQLAlchemy engine; the web console calls one method per action. Time
(``now``, milliseconds) and randomness (``random_bytes``) are injected so tests are exact;
TOTP secrets are sealed by an injected ``seal``/``unseal`` pair (AES-GCM from the keys package).

Each method runs in one transaction. A refusal (any ``IdentityError``) still commits what was
written before it: a throttle count and an audit row are facts to keep, not partial work.
Methods therefore raise only after their writes are complete.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from keyplane.clock import now_ms
from keyplane.identity import audit, sessions
from keyplane.identity.audit import AuditAction
from keyplane.identity.enrolment import Enrolment
from keyplane.identity.errors import (
    EmailTaken,
    IdentityError,
    SessionInvalid,
    SessionNotFound,
    TooManySignUps,
    UserNotFound,
)
from keyplane.identity.login import LogIn
from keyplane.identity.models import NewSession, RecoveryCodes, SessionInfo, TotpEnrolment, User
from keyplane.identity.passwords import (
    Passwords,
    normalise_email,
    personal_words,
    validate_email,
    validate_password,
)
from keyplane.identity.policy import IdentityPolicy
from keyplane.identity.sessions import SessionStore
from keyplane.identity.throttle import Scope, Throttle
from keyplane.identity.two_factor import SealFn, TwoFactor
from keyplane.store.identity_tables import user_credentials
from keyplane.store.tables import users

USER_NAME_MAX = 64


def user_name_for(email: str) -> str:
    """``users.name`` is 64 characters; a longer email keeps a readable head and a unique tail."""
    if len(email) <= USER_NAME_MAX:
        return email
    return email[: USER_NAME_MAX - 17] + "~" + hashlib.sha256(email.encode("utf-8")).hexdigest()[:16]


class IdentityService:
    def __init__(
        self,
        engine: Engine,
        seal: SealFn,
        unseal: SealFn,
        *,
        now: Callable[[], int] = now_ms,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
        password_hasher: PasswordHasher | None = None,
        policy: IdentityPolicy | None = None,
    ) -> None:
        self._engine = engine
        self._now = now
        self._policy = policy or IdentityPolicy()
        self._passwords = Passwords(password_hasher)
        self._sessions = SessionStore(self._policy, random_bytes)
        self._signup_throttle = Throttle(Scope.SIGNUP, None, self._policy.signup_rule)
        self._two_factor = TwoFactor(self._policy, seal, unseal, random_bytes)
        self._enrolment = Enrolment(self._policy, self._two_factor, random_bytes)
        self._log_in = LogIn(self._policy, self._tx, self._passwords, self._two_factor, self._sessions)

    # -- accounts ---------------------------------------------------------------------------

    def sign_up(self, email: str, password: str, *, source_ip: str | None = None) -> User:
        """Create a console user; raises ``InvalidEmail``, ``WeakPassword``, ``TooManySignUps``
        or ``EmailTaken``.

        The user is a ``users`` row named after the email plus a ``user_credentials`` row. A
        ``users`` row of that name made elsewhere (e.g. by the CLI) also counts as taken: it is
        never adopted, since nobody proved they own it. Each attempt that gets past the input
        checks counts against the address (a taken email too: probing for accounts is what the
        limit is for).
        """
        email = validate_email(email)
        validate_password(password, personal_words(email))
        now = self._now()
        if source_ip:  # refuse a throttled address before spending Argon2 on it
            with self._engine.connect() as conn:
                until = self._signup_throttle.address_locked_until(conn, now, source_ip)
            if until is not None:
                raise TooManySignUps(until)
        password_hash = self._passwords.hash(password)
        try:
            with self._tx() as conn:
                if source_ip:
                    self._admit_sign_up(conn, now, source_ip)
                taken = (
                    conn.execute(
                        select(user_credentials.c.user_id).where(user_credentials.c.email == email)
                    ).first()
                    or conn.execute(select(users.c.id).where(users.c.name == user_name_for(email))).first()
                )
                if taken is not None:
                    raise EmailTaken()
                user_id = self._insert_user(conn, now, email, password_hash)
                audit.record(conn, now, AuditAction.SIGNED_UP, user_id=user_id, source_ip=source_ip)
        except IntegrityError as e:  # lost a race with a concurrent sign-up of the same address
            raise EmailTaken() from e
        return User(user_id=user_id, email=email, created_at=now, two_factor_enabled=False)

    def get_user(self, user_id: int) -> User:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(user_credentials.c.email, user_credentials.c.totp_secret_sealed, users.c.created_at)
                .join(users, users.c.id == user_credentials.c.user_id)
                .where(user_credentials.c.user_id == user_id)
            ).first()
        if row is None:
            raise UserNotFound()
        return User(user_id, row.email, int(row.created_at), row.totp_secret_sealed is not None)

    # -- log-in -----------------------------------------------------------------------------

    def log_in(
        self,
        email: str,
        password: str,
        *,
        source_ip: str | None = None,
        user_agent: str = "",
        totp_code: str | None = None,
    ) -> NewSession:
        """Check the password and open a session.

        With 2FA on, the session is *pending* (``needs_second_factor``): it opens nothing until
        ``complete_two_factor`` swaps it for a full one. Raises ``InvalidCredentials`` (the same
        for an unknown email and a wrong password) or ``LockedOut``. While only the client's
        address is locked (``AddressLockedOut``), the password with a valid ``totp_code`` opens a
        full session at once; see ``keyplane.identity.login`` for why.
        """
        return self._log_in(self._now(), normalise_email(email), password, source_ip, user_agent, totp_code)

    def complete_two_factor(
        self, pending_token: str, code: str, *, source_ip: str | None = None
    ) -> NewSession:
        """Second step of log-in with a TOTP code; returns a new full session, the pending one ends."""
        return self._complete(pending_token, code, source_ip, recovery=False)

    def complete_two_factor_with_recovery_code(
        self, pending_token: str, recovery_code: str, *, source_ip: str | None = None
    ) -> NewSession:
        """Second step of log-in with a single-use recovery code instead of a TOTP code."""
        return self._complete(pending_token, recovery_code, source_ip, recovery=True)

    # -- sessions ---------------------------------------------------------------------------

    def authenticate(self, token: str) -> SessionInfo:
        """The session behind a cookie; raises ``SessionInvalid`` or, if pending, ``TwoFactorRequired``."""
        with self._tx() as conn:
            return self._sessions.authenticate(conn, self._now(), token)

    def verify_csrf(self, token: str, csrf_token: str) -> None:
        """Raises ``CsrfInvalid`` unless ``csrf_token`` was derived from this session token."""
        sessions.verify_csrf(token, csrf_token)

    def list_sessions(self, user_id: int) -> list[SessionInfo]:
        with self._engine.connect() as conn:
            return self._sessions.list_live(conn, self._now(), user_id)

    def revoke_session(self, user_id: int, session_id: int, *, source_ip: str | None = None) -> None:
        """End one of the user's own sessions; raises ``SessionNotFound`` for any other id."""
        now = self._now()
        with self._tx() as conn:
            if not self._sessions.revoke(conn, now, session_id, user_id):
                raise SessionNotFound()
            audit.record(
                conn,
                now,
                AuditAction.SESSION_REVOKED,
                user_id=user_id,
                source_ip=source_ip,
                detail=f"session_id={session_id}",
            )

    def log_out(self, token: str, *, source_ip: str | None = None) -> None:
        """End the current session; an unknown or ended token is not an error."""
        now = self._now()
        with self._tx() as conn:
            try:
                info = self._sessions.find_live(conn, now, token)
            except SessionInvalid:
                return
            self._sessions.revoke(conn, now, info.session_id)
            audit.record(
                conn,
                now,
                AuditAction.LOGGED_OUT,
                user_id=info.user_id,
                source_ip=source_ip,
                detail=f"session_id={info.session_id}",
            )

    def log_out_everywhere(
        self, user_id: int, *, source_ip: str | None = None, keep_session_id: int | None = None
    ) -> int:
        """Revoke every session of the user (optionally but the current one); returns how many."""
        now = self._now()
        with self._tx() as conn:
            count = self._sessions.revoke_all(conn, now, user_id, keep_session_id)
            audit.record(
                conn,
                now,
                AuditAction.SESSIONS_REVOKED_ALL,
                user_id=user_id,
                source_ip=source_ip,
                detail=f"count={count}",
            )
        return count

    # -- two-factor set-up ------------------------------------------------------------------

    def begin_totp_enrolment(self, user_id: int, *, source_ip: str | None = None) -> TotpEnrolment:
        """A new secret, its ``otpauth://`` URI and QR code; 2FA is on only after confirmation."""
        with self._tx() as conn:
            return self._enrolment.begin(conn, self._now(), user_id, source_ip)

    def confirm_totp_enrolment(
        self, user_id: int, code: str, *, source_ip: str | None = None
    ) -> RecoveryCodes:
        """Turn 2FA on with a first valid code; returns the ten recovery codes, shown only now."""
        with self._tx() as conn:
            return self._enrolment.confirm(conn, self._now(), user_id, code, source_ip)

    def disable_totp(self, user_id: int, code: str, *, source_ip: str | None = None) -> None:
        """Turn 2FA off; needs a fresh TOTP code (a recovery code is not enough)."""
        with self._tx() as conn:
            self._enrolment.disable(conn, self._now(), user_id, code, source_ip)

    def regenerate_recovery_codes(
        self, user_id: int, code: str, *, source_ip: str | None = None
    ) -> RecoveryCodes:
        """Replace every recovery code (used or not) after a fresh TOTP code."""
        now = self._now()
        with self._tx() as conn:
            self._two_factor.verify_totp(conn, now, user_id, code, source_ip, "regenerate_recovery_codes")
            codes = self._two_factor.replace_recovery_codes(conn, now, user_id)
            audit.record(
                conn, now, AuditAction.RECOVERY_CODES_REGENERATED, user_id=user_id, source_ip=source_ip
            )
        return codes

    def verify_fresh_totp(
        self, user_id: int, code: str, *, source_ip: str | None = None, purpose: str = "step_up"
    ) -> None:
        """Step-up for a sensitive action: a TOTP code not used before, or an error.

        ``purpose`` names the action (``create_key``, ``add_withdraw``...) for the audit trail.
        Raises ``TwoFactorNotEnabled`` when the user has no second factor: the caller decides
        whether the action needs one.
        """
        now = self._now()
        with self._tx() as conn:
            self._two_factor.verify_totp(conn, now, user_id, code, source_ip, purpose)
            audit.record(
                conn,
                now,
                AuditAction.STEP_UP_VERIFIED,
                user_id=user_id,
                source_ip=source_ip,
                detail=f"purpose={purpose}",
            )

    # -- internals --------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """A transaction that commits on success and on ``IdentityError``, rolls back otherwise."""
        with self._engine.connect() as conn:
            transaction = conn.begin()
            try:
                yield conn
            except IdentityError:
                transaction.commit()
                raise
            except BaseException:
                transaction.rollback()
                raise
            transaction.commit()

    def _admit_sign_up(self, conn: Connection, now: int, source_ip: str) -> None:
        until = self._signup_throttle.admit_address(conn, now, source_ip)
        if until is not None:
            audit.record(
                conn,
                now,
                AuditAction.SIGNUP_THROTTLED,
                user_id=None,
                source_ip=source_ip,
                detail=f"until={until}",
            )
            raise TooManySignUps(until)

    def _insert_user(self, conn: Connection, now: int, email: str, password_hash: str) -> int:
        key = conn.execute(
            insert(users).values(name=user_name_for(email), created_at=now)
        ).inserted_primary_key
        assert key is not None
        user_id = int(key[0])
        conn.execute(
            insert(user_credentials).values(
                user_id=user_id,
                email=email,
                password_hash=password_hash,
                totp_secret_sealed=None,
                totp_enabled_at=None,
                totp_last_step=None,
                totp_pending_sealed=None,
                totp_pending_at=None,
                created_at=now,
                updated_at=now,
            )
        )
        return user_id

    def _complete(
        self, pending_token: str, code: str, source_ip: str | None, *, recovery: bool
    ) -> NewSession:
        now = self._now()
        with self._tx() as conn:
            pending = self._sessions.find_live(conn, now, pending_token)
            if not pending.second_factor_pending:
                raise SessionInvalid()
            if recovery:
                self._two_factor.use_recovery_code(conn, now, pending.user_id, code, source_ip, "login")
            else:
                self._two_factor.verify_totp(conn, now, pending.user_id, code, source_ip, "login")
            self._sessions.revoke(conn, now, pending.session_id)
            audit.record(
                conn,
                now,
                AuditAction.LOGIN_SUCCEEDED,
                user_id=pending.user_id,
                source_ip=source_ip,
                detail="second_factor=" + ("recovery_code" if recovery else "totp"),
            )
            return self._sessions.create(
                conn, now, pending.user_id, pending=False, source_ip=source_ip, user_agent=pending.user_agent
            )
