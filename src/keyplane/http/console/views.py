"""View models: what a template shows of a key, a finding or an audit event, already worded."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import RowMapping

from keyplane.keys.model import PERMISSION_ORDER, ApiKey, KeyStatus
from keyplane.keys.review import Finding, findings_for
from keyplane.keys.service import KeyService

WARNINGS = {
    "unused": "unused",
    "old": "old",
    "no_ip_allowlist": "no IP allowlist",
    "trade_without_ip": "trades without IP allowlist",
    "can_withdraw": "can withdraw",
}
KIND_NAMES = {"hmac": "HMAC", "ed25519": "Ed25519", "rsa": "RSA"}


@dataclass(frozen=True)
class KeyRow:
    key: ApiKey
    kind: str
    permissions: tuple[str, ...]
    warnings: tuple[str, ...]
    findings: tuple[Finding, ...]
    expired: bool

    @property
    def live(self) -> bool:
        return self.key.status is not KeyStatus.REVOKED


def key_row(key: ApiKey, service: KeyService, now_ms: int) -> KeyRow:
    found = tuple(findings_for(key, service, now_ms))
    return KeyRow(
        key=key,
        kind=KIND_NAMES.get(key.kind.value, key.kind.value),
        permissions=tuple(p.value for p in PERMISSION_ORDER if p in key.permissions),
        warnings=tuple(WARNINGS.get(f.issue, f.issue) for f in found),
        findings=found,
        expired=key.status is KeyStatus.ACTIVE and not key.is_usable(now_ms),
    )


def key_rows(service: KeyService, user_id: int, now_ms: int) -> list[KeyRow]:
    keys = sorted(service.list(user_id), key=lambda k: (k.status is KeyStatus.REVOKED, -k.created_at))
    return [key_row(key, service, now_ms) for key in keys]


@dataclass(frozen=True)
class AuditRow:
    at: int
    action: str
    key_id: str | None
    source_ip: str | None
    detail: str


def audit_row(row: RowMapping) -> AuditRow:
    detail = str(row["detail"] or "")
    return AuditRow(
        int(row["at"]),
        str(row["action"]),
        row["key_id"],
        row["source_ip"],
        detail if len(detail) <= 160 else detail[:157] + "...",
    )
