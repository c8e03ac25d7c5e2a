"""Email and password rules, and Argon2id hashing.

A password must be long enough and hard to guess: zxcvbn estimates the guesses an attacker
needs (dictionaries, keyboard patterns, dates, the user's own email) and we ask for a score of 3
("safely unguessable" online) and hand its feedback to the user. No composition rules (NIST SP
800-63B).

Hashing is Argon2id through argon2-cffi; the hasher is injectable so that tests (and small
machines) can pick cheaper parameters, and a stored hash made with older parameters is
re-hashed at the next successful log-in.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from keyplane.identity.errors import InvalidEmail, WeakPassword

MIN_PASSWORD_LENGTH = 10
# Long enough for any passphrase, short enough that nobody hashes megabytes on our CPU.
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 254
MIN_STRENGTH = 3  # zxcvbn's scale 0-4; 3 means about 10^8 guesses or more
# zxcvbn refuses longer input (its cost grows fast): a longer passphrase is judged by its head.
STRENGTH_PREFIX = 72
DEFAULT_ADVICE = "Add another word or two. Uncommon words are better."
# zxcvbn keeps the user inputs of the current call in a module-level dictionary.
_ZXCVBN_LOCK = threading.Lock()

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


def personal_words(email: str) -> list[str]:
    """What zxcvbn should treat as known to an attacker: the address and its parts."""
    parts = [part for part in re.split(r"[^a-z0-9]+", email.lower()) if len(part) >= 3]
    return [email.lower(), email.lower().split("@", 1)[0], *parts]


def validate_password(password: str, user_inputs: Sequence[str] = ()) -> None:
    """Raise ``WeakPassword`` unless the password is 10 to 1024 characters and hard to guess.

    ``user_inputs`` are words an attacker would try first (the email address, the name); the
    error carries zxcvbn's feedback so that the user knows what to change, never the password.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"Use at most {MAX_PASSWORD_LENGTH} characters.")
    with _ZXCVBN_LOCK:
        estimate = zxcvbn(password[:STRENGTH_PREFIX], user_inputs=list(user_inputs))
    if estimate["score"] < MIN_STRENGTH:
        feedback = estimate["feedback"]
        advice = [str(feedback["warning"]), *map(str, feedback["suggestions"])]
        advice = [_sentence(text) for text in advice if text] or [DEFAULT_ADVICE]
        raise WeakPassword(" ".join(["This password is easy to guess.", *advice]))


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


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
