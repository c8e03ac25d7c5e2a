"""Console identity: users, Argon2id passwords, TOTP 2FA, recovery codes, console sessions.

Start at ``IdentityService``; errors are in ``keyplane.identity.errors``.
"""

from __future__ import annotations

from keyplane.identity.models import NewSession, RecoveryCodes, SessionInfo, TotpEnrolment, User
from keyplane.identity.policy import IdentityPolicy, ThrottleRule
from keyplane.identity.service import IdentityService

__all__ = [
    "IdentityPolicy",
    "IdentityService",
    "NewSession",
    "RecoveryCodes",
    "SessionInfo",
    "ThrottleRule",
    "TotpEnrolment",
    "User",
]
