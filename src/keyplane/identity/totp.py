"""TOTP (RFC 6238) and recovery codes.

The functions here are pure: they take the secret, the time and the last accepted step and say
which step a code belongs to. Persisting the step (so a code cannot be used twice) and sealing
the secret is the service's job.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
from collections.abc import Callable

import pyotp
import segno

STEP_SECONDS = 30
DIGITS = 6
# Accept the previous and the next step too: phones and servers drift by a few seconds.
VALID_WINDOW = 1
SECRET_BYTES = 20  # 160 bits, the RFC 4226 recommendation
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud without doubt
_RECOVERY_HALF = 5
_CODE_SHAPE = re.compile(f"[0-9]{{{DIGITS}}}")


def new_secret(random_bytes: Callable[[int], bytes]) -> str:
    """A base32 TOTP secret, as authenticator apps expect it."""
    return base64.b32encode(random_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def otpauth_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """A standalone SVG document of the QR code, made locally: the secret never leaves the server."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", xmldecl=False, scale=4, border=4)
    return buffer.getvalue().decode("utf-8")


def step_at(now_ms: int) -> int:
    return (now_ms // 1000) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def matching_steps(secret: str, code: str, now_ms: int) -> list[int]:
    """Every step within the window whose code equals ``code``, compared in constant time."""
    candidate = code.strip().replace(" ", "")
    # ASCII only: str.isdigit() also accepts "²" and "１", which compare_digest cannot take.
    if not _CODE_SHAPE.fullmatch(candidate):
        return []
    current = step_at(now_ms)
    steps = range(current - VALID_WINDOW, current + VALID_WINDOW + 1)
    return [s for s in steps if hmac.compare_digest(code_at(secret, s), candidate)]


def new_recovery_codes(random_bytes: Callable[[int], bytes]) -> tuple[str, ...]:
    """Ten codes like ``k7mqx-3hnwe``, about 49 bits each: high entropy, so SHA-256 is enough."""
    return tuple(_recovery_code(random_bytes) for _ in range(RECOVERY_CODE_COUNT))


def _recovery_code(random_bytes: Callable[[int], bytes]) -> str:
    alphabet = _RECOVERY_ALPHABET
    chars: list[str] = []
    while len(chars) < 2 * _RECOVERY_HALF:
        for byte in random_bytes(16):
            # Rejection sampling keeps the characters uniform.
            if byte < 256 - 256 % len(alphabet) and len(chars) < 2 * _RECOVERY_HALF:
                chars.append(alphabet[byte % len(alphabet)])
    return "".join(chars[:_RECOVERY_HALF]) + "-" + "".join(chars[_RECOVERY_HALF:])


def normalise_recovery_code(code: str) -> str:
    """Users retype codes: ignore case, spaces and dashes."""
    return "".join(ch for ch in code.lower() if ch not in " -\t")


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(normalise_recovery_code(code).encode("utf-8")).hexdigest()
