"""Request signing exactly as Binance (and Keyplane) verify it.

The payload is the query string, then the form body, as sent. HMAC-SHA256 signs it with the
secret and is sent as lowercase hex; Ed25519 and RSA (PKCS#1 v1.5, SHA-256) sign it with the
private key and are sent as standard base64 (URL-encoded by the caller, like any parameter).
"""

from __future__ import annotations

import base64
import hmac
from typing import Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from keyplane.client.errors import InvalidCredentials


class Signer(Protocol):
    kind: str

    def sign(self, payload: bytes) -> str: ...


class HmacSigner:
    kind = "hmac"
    __slots__ = ("_secret",)

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode("utf-8")

    def __repr__(self) -> str:
        return "HmacSigner(***)"

    def sign(self, payload: bytes) -> str:
        return hmac.digest(self._secret, payload, "sha256").hex()


class Ed25519Signer:
    kind = "ed25519"
    __slots__ = ("_key",)

    def __init__(self, key: ed25519.Ed25519PrivateKey) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "Ed25519Signer(***)"

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(self._key.sign(payload)).decode("ascii")


class RsaSigner:
    kind = "rsa"
    __slots__ = ("_key",)

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "RsaSigner(***)"

    def sign(self, payload: bytes) -> str:
        signature = self._key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode("ascii")


def signer_from_pem(pem: str) -> Ed25519Signer | RsaSigner:
    try:
        key = serialization.load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        raise InvalidCredentials("the private key is not an unencrypted PEM private key") from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return Ed25519Signer(key)
    if isinstance(key, rsa.RSAPrivateKey):
        return RsaSigner(key)
    raise InvalidCredentials("only Ed25519 and RSA private keys are supported")


def make_signer(secret: str | None = None, private_key: str | None = None) -> Signer:
    """The signer for an HMAC ``secret`` or a PEM ``private_key`` (exactly one)."""
    if (secret is None) == (private_key is None):
        raise InvalidCredentials("give either a secret or a private key")
    return HmacSigner(secret) if secret is not None else signer_from_pem(private_key or "")
