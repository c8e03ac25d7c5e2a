"""Key pairs made on the user's machine: the private half never leaves it.

With an Ed25519 API key the exchange stores only the public key, so a breach of the exchange leaks
nothing that signs. The user pastes the public key into the console (or
``keyplane keys create --public-key``) and gets back the API key id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


@dataclass(frozen=True, slots=True)
class KeyPair:
    public_pem: str
    private_pem: str = field(repr=False)


def ed25519_pair() -> KeyPair:
    private = ed25519.Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return KeyPair(public_pem=public_pem, private_pem=private_pem)
