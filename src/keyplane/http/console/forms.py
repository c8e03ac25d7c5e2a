"""Parse and check the key forms before any TOTP code is spent on them.

Everything the key service would refuse (bad IP, symbol, label, expiry, PEM) is refused here
first, with the same rules, so a typo does not burn the user's one-time code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from starlette.datastructures import FormData

from keyplane.keys import policy
from keyplane.keys.errors import KeyManagementError
from keyplane.keys.model import ApiKey, Permission
from keyplane.keys.schemes import load_public_key

_SPLIT = re.compile(r"[\s,]+")
_ASCII_COUNT = re.compile(r"[0-9]{1,18}")
SENSITIVE = frozenset({Permission.TRADE, Permission.WITHDRAW})
MAX_GRACE_SECONDS = 7 * 86400  # as the key service allows


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def ascii_count(value: str) -> int | None:
    """A whole number in ASCII digits, or None: ``int()`` also takes "٣", "+3" and "1_000"."""
    value = value.strip()
    return int(value) if _ASCII_COUNT.fullmatch(value) else None


def split_list(value: str) -> tuple[str, ...]:
    return tuple(part for part in _SPLIT.split(value.strip()) if part)


def parse_expiry(value: str) -> int | None:
    """A date (``YYYY-MM-DD``): the key works until the end of that day, UTC."""
    value = value.strip()
    if not value:
        return None
    try:
        last_day = date.fromisoformat(value)
    except ValueError:
        raise KeyManagementError("enter the expiry as a date, e.g. 2027-01-31", "bad_expiry") from None
    end = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=UTC)
    return int(end.timestamp() * 1000)


def permissions_of(form: FormData) -> frozenset[Permission]:
    chosen = {Permission.READ}
    for name in form.getlist("permission"):
        try:
            chosen.add(Permission(str(name)))
        except ValueError:
            raise KeyManagementError(f"unknown permission {name!r}", "bad_permission") from None
    return frozenset(chosen)


@dataclass(frozen=True)
class KeyForm:
    """The create and edit forms, checked; ``public_key_pem`` is None for an HMAC key."""

    label: str
    permissions: frozenset[Permission]
    ip_allowlist: tuple[str, ...]
    symbols: tuple[str, ...]
    expires_at: int | None
    expiry_text: str
    public_key_pem: str | None = field(default=None, repr=False)


def parse_key_form(form: FormData, now_ms: int, *, creating: bool) -> KeyForm:
    ips = policy.clean_ips(split_list(text(form, "ip_allowlist")))
    permissions = policy.clean_permissions(permissions_of(form), ips)
    symbols = tuple(sorted(policy.clean_symbols(split_list(text(form, "symbols")))))
    expiry_text = text(form, "expires").strip()
    expires_at = parse_expiry(expiry_text)
    pem = None
    if creating:
        policy.clean_expiry(expires_at, now_ms)
        if text(form, "kind") == "public":
            pem = text(form, "public_key_pem").strip()
            if not pem:
                raise KeyManagementError("paste the PEM public key, or choose an HMAC key", "bad_public_key")
            load_public_key(pem)
    return KeyForm(
        policy.clean_label(text(form, "label")), permissions, ips, symbols, expires_at, expiry_text, pem
    )


def extends_life(key: ApiKey, edited: KeyForm) -> bool:
    """A later expiry, or none at all where there was one: the key works longer than agreed."""
    if key.expires_at is None:
        return False
    return edited.expires_at is None or edited.expires_at > key.expires_at


def needs_step_up(key: ApiKey, edited: KeyForm, *, expiry_changed: bool) -> bool:
    """Whatever gives the key more power needs a fresh TOTP code: adding trade or withdraw,
    changing the IP allowlist, or extending its expiry. Narrowing a key never does."""
    added = edited.permissions - key.permissions
    return (
        bool(added & SENSITIVE)
        or set(edited.ip_allowlist) != set(key.ip_allowlist)
        or (expiry_changed and extends_life(key, edited))
    )


def form_values(form: FormData) -> dict[str, object]:
    """What the user typed, to fill the form again after a refusal (never the TOTP code)."""
    return {
        "label": text(form, "label"),
        "kind": text(form, "kind") or "hmac",
        "public_key_pem": text(form, "public_key_pem"),
        "permissions": {str(p) for p in form.getlist("permission")},
        "ip_allowlist": text(form, "ip_allowlist"),
        "symbols": text(form, "symbols"),
        "expires": text(form, "expires"),
    }
