"""Between database rows and domain objects: ``ApiKey`` and the material that verifies its signatures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keyplane.keys.model import ApiKey, KeyKind, KeyStatus, parse_permissions
from keyplane.keys.schemes import HmacVerifier, SignatureVerifier, load_public_key
from keyplane.keys.sealing import Sealer


def split_list(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split(",") if part)


def row_to_key(row: Mapping[Any, Any]) -> ApiKey:
    return ApiKey(
        key_id=row["key_id"],
        user_id=row["user_id"],
        kind=KeyKind(row["kind"]),
        label=row["label"],
        permissions=parse_permissions(row["permissions"]),
        ip_allowlist=split_list(row["ip_allowlist"]),
        symbols=frozenset(split_list(row["symbols"])),
        expires_at=row["expires_at"],
        status=KeyStatus(row["status"]),
        status_reason=row["status_reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        trade_since=row["trade_since"],
        last_used_at=row["last_used_at"],
        previous_until=row["previous_until"],
        public_key_pem=row["public_key_pem"],
    )


def verifiers_for(row: Mapping[Any, Any], sealer: Sealer, now_ms: int) -> tuple[SignatureVerifier, ...]:
    """The current verifier, then the previous one while a rotation's grace period lasts.

    The pipeline re-checks the grace end on use, since a cached entry outlives ``now_ms``.
    """
    key_id = row["key_id"].encode("ascii")
    in_grace = row["previous_until"] is not None and now_ms < row["previous_until"]
    if row["kind"] == KeyKind.HMAC.value:
        sealed = [row["secret_sealed"]] + ([row["previous_secret_sealed"]] if in_grace else [])
        return tuple(HmacVerifier(sealer.unseal(blob, key_id)) for blob in sealed if blob)
    pems = [row["public_key_pem"]] + ([row["previous_public_key_pem"]] if in_grace else [])
    return tuple(load_public_key(pem)[1] for pem in pems if pem)
