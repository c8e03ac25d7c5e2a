"""Values the identity service takes and returns.

Secrets (session tokens, CSRF tokens, TOTP secrets, recovery codes) are ``repr=False`` so that a
logged or printed value never shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class User:
    user_id: int
    email: str
    created_at: int
    two_factor_enabled: bool


@dataclass(frozen=True)
class SessionInfo:
    """A console session as the user may see it in "where you are signed in"."""

    session_id: int
    user_id: int
    created_at: int
    last_seen_at: int
    expires_at: int
    source_ip: str | None
    user_agent: str
    second_factor_pending: bool


@dataclass(frozen=True)
class NewSession:
    """Returned once at log-in: the token goes into the cookie, the CSRF token into forms."""

    token: str = field(repr=False)
    csrf_token: str = field(repr=False)
    info: SessionInfo

    @property
    def needs_second_factor(self) -> bool:
        return self.info.second_factor_pending


@dataclass(frozen=True)
class TotpEnrolment:
    """Shown once while enrolling: the QR code (SVG), the URI it encodes and the secret for manual entry."""

    secret: str = field(repr=False)
    otpauth_uri: str = field(repr=False)
    qr_svg: str = field(repr=False)


@dataclass(frozen=True)
class RecoveryCodes:
    """Shown once; only their SHA-256 digests are stored."""

    codes: tuple[str, ...] = field(repr=False)
