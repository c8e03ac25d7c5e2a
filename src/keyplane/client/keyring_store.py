"""Secrets in the operating system's keyring, where a real backend exists.

On a desktop, ``keyring`` reaches macOS Keychain, the Freedesktop Secret Service, KWallet or the
Windows Credential Locker. Headless machines usually have none (``keyring`` then offers only its
``fail`` or ``null`` backends): the vault falls back to its encrypted file.
"""

from __future__ import annotations

import json
from typing import Any

SERVICE = "keyplane-vault"


def keyring_available() -> bool:
    """True when ``keyring`` has a backend that really stores secrets."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return False
    backend = keyring.get_keyring()
    module = type(backend).__module__
    if isinstance(backend, fail.Keyring) or module.endswith((".null", ".fail")):
        return False
    try:
        return float(getattr(backend, "priority", 0)) > 0
    except Exception:  # noqa: BLE001 - a backend's priority may probe D-Bus and fail any way
        return False


def _username(vault_id: str, account: str) -> str:
    return f"{vault_id}/{account}"


def store(vault_id: str, account: str, secrets: dict[str, Any]) -> None:
    import keyring

    keyring.set_password(SERVICE, _username(vault_id, account), json.dumps(secrets, sort_keys=True))


def load(vault_id: str, account: str) -> dict[str, Any] | None:
    import keyring

    text = keyring.get_password(SERVICE, _username(vault_id, account))
    if text is None:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else None


def delete(vault_id: str, account: str) -> None:
    import keyring
    from keyring.errors import PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, _username(vault_id, account))
    except PasswordDeleteError:
        pass
