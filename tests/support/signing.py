"""Request signing as Binance clients do it, for tests that build requests by hand."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa


def hmac_hex(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def ed25519_pair() -> tuple[ed25519.Ed25519PrivateKey, str]:
    private = ed25519.Ed25519PrivateKey.generate()
    return private, public_pem(private)


def rsa_pair(bits: int = 2048) -> tuple[rsa.RSAPrivateKey, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return private, public_pem(private)


def public_pem(private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> str:
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def asym_signature(private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey, payload: str) -> str:
    """Base64 signature, URI-encoded as both clients send it."""
    if isinstance(private, rsa.RSAPrivateKey):
        raw = private.sign(payload.encode(), padding.PKCS1v15(), hashes.SHA256())
    else:
        raw = private.sign(payload.encode())
    return quote(base64.b64encode(raw).decode(), safe="")
