"""Email and password rules, and Argon2id hashing.

Hashing is Argon2id through argon2-cffi; the hasher is injectable so that tests (and small
machines) can pick cheaper parameters, and a stored hash made with older parameters is
re-hashed at the next successful log-in.
"""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from keyplane.identity.errors import InvalidEmail, WeakPassword

MIN_PASSWORD_LENGTH = 10
# Long enough for any passphrase, short enough that nobody hashes megabytes on our CPU.
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 254

_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def normalise_email(email: str) -> str:
    """The lookup form of an address: trimmed and lower-cased, so ``A@x.io`` and ``a@x.io`` match."""
    return email.strip().lower()


def validate_email(email: str) -> str:
    """Return the normalised address or raise ``InvalidEmail``; only the shape is checked."""
    normalised = normalise_email(email)
    if len(normalised) > MAX_EMAIL_LENGTH or not _EMAIL_SHAPE.match(normalised):
        raise InvalidEmail()
    return normalised


def validate_password(password: str) -> None:
    """Length is the rule that matters (NIST SP 800-63B); no composition rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"Use at most {MAX_PASSWORD_LENGTH} characters.")


class Passwords:
    """Argon2id hash and verify; verification of an unknown account costs the same as a real one."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    def burn_time(self, password: str) -> None:
        """Verify against a throw-away hash so that an unknown email is not faster to refuse."""
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash("keyplane-no-such-account")
        self.verify(self._dummy_hash, password)
