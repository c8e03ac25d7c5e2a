"""Seal a JSON document under a passphrase: Argon2id derives the key, AES-256-GCM encrypts.

The header (format version and KDF parameters) is bound as associated data, so editing it breaks
the tag just as a wrong passphrase does. Opening raises ``WrongPassphrase`` and never returns
partial data; a caller that opens before it writes therefore changes nothing on a wrong passphrase.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keyplane.client.errors import VaultCorrupt, WrongPassphrase

FORMAT = "keyplane-vault/1"
# RFC 9106's second recommended option is 64 MiB, t=3; one lane, as the machine may have few cores.
DEFAULT_TIME_COST = 3
DEFAULT_MEMORY_KIB = 64 * 1024
MAX_MEMORY_KIB = 1024 * 1024  # a crafted file must not make us allocate without bound
MAX_TIME_COST = 32


@dataclass(frozen=True, slots=True, kw_only=True)
class KdfParams:
    """Argon2id parameters; stored in the header so a vault opens with the cost it was made with."""

    salt: bytes
    time_cost: int = DEFAULT_TIME_COST
    memory_kib: int = DEFAULT_MEMORY_KIB
    parallelism: int = 1

    @classmethod
    def fresh(cls) -> KdfParams:
        return cls(salt=os.urandom(16))

    def as_header(self) -> dict[str, Any]:
        return {
            "name": "argon2id",
            "salt": _b64(self.salt),
            "time_cost": self.time_cost,
            "memory_kib": self.memory_kib,
            "parallelism": self.parallelism,
        }

    @classmethod
    def from_header(cls, header: Any) -> KdfParams:
        try:
            if header["name"] != "argon2id":
                raise VaultCorrupt("the vault uses an unknown key derivation")
            params = cls(
                salt=_unb64(header["salt"]),
                time_cost=int(header["time_cost"]),
                memory_kib=int(header["memory_kib"]),
                parallelism=int(header["parallelism"]),
            )
        except (KeyError, TypeError, ValueError):
            raise VaultCorrupt("the vault header is damaged") from None
        if not (
            1 <= params.time_cost <= MAX_TIME_COST
            and 8 <= params.memory_kib <= MAX_MEMORY_KIB
            and 1 <= params.parallelism <= 16
            and len(params.salt) >= 16
        ):
            raise VaultCorrupt("the vault header asks for out-of-range key-derivation costs")
        return params


def derive_key(passphrase: str, params: KdfParams) -> bytes:
    return hash_secret_raw(
        passphrase.encode("utf-8"),
        params.salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=32,
        type=Type.ID,
    )


def seal(document: dict[str, Any], key: bytes, params: KdfParams) -> dict[str, Any]:
    """The envelope to write: header in clear, ``document`` encrypted under ``key``."""
    header = {"format": FORMAT, "kdf": params.as_header()}
    nonce = os.urandom(12)
    plaintext = json.dumps(document, sort_keys=True).encode("utf-8")
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, _aad(header))
    return {**header, "nonce": _b64(nonce), "ciphertext": _b64(ciphertext)}


def unseal(envelope: dict[str, Any], passphrase: str) -> tuple[dict[str, Any], bytes, KdfParams]:
    """The document, the derived key and the parameters (kept to re-seal without re-deriving)."""
    if envelope.get("format") != FORMAT:
        raise VaultCorrupt("not a Keyplane vault, or written by a newer version")
    params = KdfParams.from_header(envelope.get("kdf"))
    try:
        nonce = _unb64(envelope["nonce"])
        ciphertext = _unb64(envelope["ciphertext"])
    except (KeyError, TypeError, ValueError):
        raise VaultCorrupt("the vault body is damaged") from None
    key = derive_key(passphrase, params)
    header = {"format": FORMAT, "kdf": params.as_header()}
    try:
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, _aad(header))
    except (InvalidTag, ValueError):
        raise WrongPassphrase(
            "wrong passphrase (or the vault file was altered); nothing was changed"
        ) from None
    try:
        document = json.loads(plaintext)
    except ValueError:
        raise VaultCorrupt("the vault body is damaged") from None
    if not isinstance(document, dict):
        raise VaultCorrupt("the vault body is damaged")
    return document, key, params


def _aad(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise TypeError("not base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None
