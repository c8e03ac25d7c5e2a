"""Validation of a key's policy: permissions, IP allowlist, symbols, expiry and label."""

from __future__ import annotations

import re
from dataclasses import dataclass

from keyplane.keys.errors import KeyManagementError
from keyplane.keys.model import Permission, parse_networks

SYMBOL = re.compile(r"^[A-Z0-9]{2,20}$")
MAX_LABEL = 128
MAX_NETWORKS = 30


@dataclass(frozen=True)
class PlatformRules:
    """The operator's numbers for the platform rules; see ``keyplane review``."""

    trade_without_ip_days: int = 30
    unused_key_days: int = 90
    max_keys_per_user: int = 30


def clean_permissions(
    permissions: frozenset[Permission], ip_allowlist: tuple[str, ...]
) -> frozenset[Permission]:
    """Every key can read; ``withdraw`` is refused unless the key has an IP allowlist."""
    result = permissions | {Permission.READ}
    if Permission.WITHDRAW in result and not ip_allowlist:
        raise KeyManagementError(
            "the withdraw permission needs an IP allowlist: add --ip with the addresses that may withdraw",
            "withdraw_needs_ip",
        )
    return frozenset(result)


def clean_ips(ip_allowlist: tuple[str, ...]) -> tuple[str, ...]:
    if len(ip_allowlist) > MAX_NETWORKS:
        raise KeyManagementError(f"at most {MAX_NETWORKS} IP allowlist entries", "too_many_ips")
    try:
        networks = parse_networks(ip_allowlist)
    except ValueError as error:
        raise KeyManagementError(str(error), "bad_ip") from None
    return tuple(dict.fromkeys(str(network) for network in networks))


def clean_symbols(symbols: tuple[str, ...]) -> frozenset[str]:
    cleaned = frozenset(symbol.strip().upper() for symbol in symbols if symbol.strip())
    for symbol in cleaned:
        if not SYMBOL.match(symbol):
            raise KeyManagementError(f"not a symbol: {symbol!r} (use e.g. BTCUSDT)", "bad_symbol")
    return cleaned


def clean_label(label: str) -> str:
    label = label.strip()
    if len(label) > MAX_LABEL or any(ord(ch) < 32 for ch in label):
        raise KeyManagementError(f"a label is at most {MAX_LABEL} printable characters", "bad_label")
    return label


def clean_expiry(expires_at: int | None, now_ms: int) -> int | None:
    if expires_at is not None and expires_at <= now_ms:
        raise KeyManagementError("the expiry must be in the future", "bad_expiry")
    return expires_at
