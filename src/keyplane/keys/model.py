"""What an API key is: kind, permissions, policy and status."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import Enum

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Permission(str, Enum):
    READ = "read"
    TRADE = "trade"
    WITHDRAW = "withdraw"


class KeyKind(str, Enum):
    HMAC = "hmac"
    ED25519 = "ed25519"
    RSA = "rsa"


class KeyStatus(str, Enum):
    ACTIVE = "active"
    DISABLED = "disabled"
    REVOKED = "revoked"


PERMISSION_ORDER = (Permission.READ, Permission.TRADE, Permission.WITHDRAW)


def format_permissions(permissions: frozenset[Permission]) -> str:
    return ",".join(p.value for p in PERMISSION_ORDER if p in permissions)


def parse_permissions(text: str) -> frozenset[Permission]:
    """Parse ``read,trade``; unknown names raise ``ValueError`` naming the bad one."""
    result = set()
    for part in text.split(","):
        name = part.strip().lower()
        if not name:
            continue
        try:
            result.add(Permission(name))
        except ValueError:
            raise ValueError(f"unknown permission {name!r}; use read, trade or withdraw") from None
    return frozenset(result)


def parse_networks(cidrs: tuple[str, ...]) -> tuple[IpNetwork, ...]:
    """Parse an allowlist; a bare address is a /32 or /128 network."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or CIDR network: {cidr!r}") from None
    return tuple(networks)


@dataclass(frozen=True)
class ApiKey:
    """A key as the platform sees it; never holds secret material."""

    key_id: str
    user_id: int
    kind: KeyKind
    label: str
    permissions: frozenset[Permission]
    ip_allowlist: tuple[str, ...]
    symbols: frozenset[str]
    expires_at: int | None
    status: KeyStatus
    status_reason: str
    created_at: int
    updated_at: int
    trade_since: int | None
    last_used_at: int | None
    previous_until: int | None = None
    public_key_pem: str | None = field(default=None, repr=False)

    def is_usable(self, now_ms: int) -> bool:
        return self.status is KeyStatus.ACTIVE and (self.expires_at is None or now_ms < self.expires_at)

    def inactive_reason(self, now_ms: int) -> str:
        if self.status is KeyStatus.REVOKED:
            return "This API key has been revoked."
        if self.status is KeyStatus.DISABLED:
            reason = f": {self.status_reason}" if self.status_reason else "."
            return f"This API key is disabled{reason}"
        if self.expires_at is not None and now_ms >= self.expires_at:
            return "This API key has expired."
        return ""
