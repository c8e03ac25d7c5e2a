"""Tunable limits of the identity service, in one typed object with safe defaults."""

from __future__ import annotations

from dataclasses import dataclass, field

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS


@dataclass(frozen=True)
class ThrottleRule:
    """``max_failures`` within ``window_ms`` lock the subject for ``lockout_ms``."""

    max_failures: int
    window_ms: int
    lockout_ms: int


@dataclass(frozen=True)
class IdentityPolicy:
    """Defaults follow common console practice; an operator may tighten them.

    The per-address rule is looser than the per-account one because many users can share one
    address (an office NAT, a mobile carrier) and one typo-prone colleague must not lock them all.
    """

    session_idle_ms: int = 12 * HOUR_MS
    session_absolute_ms: int = 7 * DAY_MS
    # A session that has proven the password but not the second factor lives only this long.
    pending_second_factor_ms: int = 5 * MINUTE_MS
    # A TOTP enrolment not confirmed within this time must be started again.
    enrolment_ttl_ms: int = 30 * MINUTE_MS
    # Record activity at most this often, so that reading a session is not a write per request.
    touch_interval_ms: int = MINUTE_MS
    account_rule: ThrottleRule = field(
        default_factory=lambda: ThrottleRule(5, 15 * MINUTE_MS, 15 * MINUTE_MS)
    )
    ip_rule: ThrottleRule = field(default_factory=lambda: ThrottleRule(20, 15 * MINUTE_MS, 15 * MINUTE_MS))
    # New accounts per address: enough for a family or an office, too few for an account farm.
    signup_rule: ThrottleRule = field(default_factory=lambda: ThrottleRule(5, HOUR_MS, HOUR_MS))
    totp_issuer: str = "Keyplane"
