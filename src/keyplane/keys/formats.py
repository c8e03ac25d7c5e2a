"""Key id and secret formats: fixed prefix, base62 body and a CRC32 checksum, like GitHub tokens.

``kpk_`` + 30 random base62 + 6 checksum characters is a key id; ``kps_`` + 40 + 6 is an HMAC secret.
The checksum lets a malformed key be refused before any lookup and lets a scanner find leaked
secrets with few false positives.
"""

from __future__ import annotations

import re
import secrets
import zlib
from collections.abc import Callable

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY_PREFIX = "kpk_"
SECRET_PREFIX = "kps_"
KEY_BODY = 30
SECRET_BODY = 40
CHECKSUM_LEN = 6

KEY_ID_PATTERN = re.compile(r"^kpk_[0-9A-Za-z]{36}$")
SECRET_PATTERN = re.compile(r"kps_[0-9A-Za-z]{46}")


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits))


def checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LEN)


def _random_body(length: int, rng: Callable[[int], str] | None) -> str:
    if rng is not None:
        return rng(length)
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_key_id(rng: Callable[[int], str] | None = None) -> str:
    body = _random_body(KEY_BODY, rng)
    return KEY_PREFIX + body + checksum(body)


def new_secret(rng: Callable[[int], str] | None = None) -> str:
    body = _random_body(SECRET_BODY, rng)
    return SECRET_PREFIX + body + checksum(body)


def is_well_formed_key_id(key_id: str) -> bool:
    if not KEY_ID_PATTERN.match(key_id):
        return False
    body = key_id[len(KEY_PREFIX) : -CHECKSUM_LEN]
    return checksum(body) == key_id[-CHECKSUM_LEN:]


def is_well_formed_secret(secret: str) -> bool:
    if len(secret) != len(SECRET_PREFIX) + SECRET_BODY + CHECKSUM_LEN or not SECRET_PATTERN.fullmatch(secret):
        return False
    body = secret[len(SECRET_PREFIX) : -CHECKSUM_LEN]
    return checksum(body) == secret[-CHECKSUM_LEN:]


def find_leaked_secrets(text: str) -> list[str]:
    """Every well-formed Keyplane secret in ``text``: what a secret scanner reports."""
    return [match for match in SECRET_PATTERN.findall(text) if is_well_formed_secret(match)]
