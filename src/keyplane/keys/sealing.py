"""Secrets at rest: AES-256-GCM under a master key, with the key id as associated data.

A sealed blob is ``b"KP1" + master-key id (4 bytes) + nonce (12) + ciphertext``; the master-key id
lets a rotation keep old and new master keys side by side until every blob is re-sealed.
Binding the key id as associated data means a sealed secret copied onto another key row fails to open.
"""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"KP1"


class SealingError(Exception):
    """A blob that cannot be opened: wrong master key, tampering or a foreign key id."""


def master_key_id(master_key: bytes) -> bytes:
    return hashlib.sha256(b"keyplane-master-key-id" + master_key).digest()[:4]


class Sealer:
    """Seals with the current master key; opens with any master key it was given."""

    def __init__(self, current: bytes, *older: bytes) -> None:
        for key in (current, *older):
            if len(key) != 32:
                raise ValueError("a master key is 32 bytes")
        self._current_id = master_key_id(current)
        self._masters = (current, *older)
        self._ciphers = {master_key_id(key): AESGCM(key) for key in (*older, current)}

    def __repr__(self) -> str:
        return f"Sealer(current={self._current_id.hex()}, keys={len(self._ciphers)})"

    @property
    def current_id(self) -> bytes:
        return self._current_id

    def seal(self, plaintext: bytes, associated: bytes) -> bytes:
        nonce = os.urandom(12)
        sealed = self._ciphers[self._current_id].encrypt(nonce, plaintext, associated)
        return MAGIC + self._current_id + nonce + sealed

    def unseal(self, blob: bytes, associated: bytes) -> bytes:
        if len(blob) < 3 + 4 + 12 + 16 or blob[:3] != MAGIC:
            raise SealingError("not a sealed secret")
        cipher = self._ciphers.get(blob[3:7])
        if cipher is None:
            raise SealingError("sealed under an unknown master key")
        try:
            return cipher.decrypt(blob[7:19], blob[19:], associated)
        except InvalidTag:
            raise SealingError("sealed secret failed authentication") from None

    def sealed_with_current(self, blob: bytes) -> bool:
        return blob[3:7] == self._current_id

    def derived_keys(self, purpose: bytes) -> list[bytes]:
        """32-byte keys for ``purpose`` (HKDF-SHA256), one per master key, the current one first.

        Instances that share the master key share these keys without storing them anywhere; during
        a master-key rotation an instance still accepts what its peers make with the older key."""
        return [
            HKDF(algorithm=SHA256(), length=32, salt=None, info=b"keyplane/" + purpose).derive(master)
            for master in self._masters
        ]
