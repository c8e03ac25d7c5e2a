"""The key life cycle: create, edit, disable, enable, revoke (final), rotate, each an audit event.

Every change commits together with its audit event and a ``key_changes`` row, then is announced:
to this process's own cache at once, and (Redis, when configured) to the other instances, which
also poll ``key_changes``, so every instance drops its cached copy within a second.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

from keyplane.clock import now_ms
from keyplane.keys import policy
from keyplane.keys.cache import CachedKey
from keyplane.keys.errors import KeyManagementError
from keyplane.keys.formats import new_key_id, new_secret
from keyplane.keys.model import ApiKey, KeyKind, KeyStatus, Permission, format_permissions
from keyplane.keys.records import row_to_key, verifiers_for
from keyplane.keys.schemes import load_public_key, normalise_pem
from keyplane.keys.sealing import Sealer
from keyplane.store import key_repo

UNSET: Any = object()


@dataclass(frozen=True)
class Actor:
    """Who asked for a change, and from where: recorded with every audit event."""

    name: str
    source_ip: str | None = None


@dataclass(frozen=True)
class IssuedKey:
    """A new or rotated key. ``secret`` is the only time an HMAC secret is ever returned."""

    key: ApiKey
    secret: str | None = field(default=None, repr=False)


class KeyService:
    def __init__(
        self,
        engine: Engine,
        sealer: Sealer,
        rules: policy.PlatformRules | None = None,
        announce: Callable[[str], None] | None = None,
        now_ms: Callable[[], int] = now_ms,
    ) -> None:
        self._engine = engine
        self._sealer = sealer
        self.rules = rules or policy.PlatformRules()
        self._listeners: list[Callable[[str], None]] = [announce] if announce is not None else []
        self._now_ms = now_ms

    # -- users -------------------------------------------------------------------------------
    def create_user(self, name: str, actor: Actor) -> int:
        name = name.strip()
        if not name or len(name) > 64:
            raise KeyManagementError("a user name is 1 to 64 characters", "bad_user")
        with self._engine.begin() as conn:
            if key_repo.user_by_name(conn, name) is not None:
                raise KeyManagementError(f"user {name!r} already exists", "user_exists")
            user_id = key_repo.create_user(conn, name, self._now_ms())
            self._audit(conn, actor, "user.create", user_id, None, {"name": name})
        return user_id

    def user_id(self, name: str) -> int:
        with self._engine.connect() as conn:
            row = key_repo.user_by_name(conn, name)
        if row is None:
            raise KeyManagementError(f"no user named {name!r}", "unknown_user")
        return int(row["id"])

    # -- reads -------------------------------------------------------------------------------
    def get(self, key_id: str) -> ApiKey:
        with self._engine.connect() as conn:
            row = key_repo.key_by_id(conn, key_id)
        if row is None:
            raise KeyManagementError(f"no API key {key_id}", "unknown_key")
        return row_to_key(row)

    def list(self, user_id: int | None = None) -> list[ApiKey]:
        with self._engine.connect() as conn:
            return [row_to_key(row) for row in key_repo.keys_of(conn, user_id)]

    def load_for_cache(self, key_id: str) -> CachedKey | None:
        """What the verification cache holds for ``key_id``; None when unknown."""
        with self._engine.connect() as conn:
            row = key_repo.key_by_id(conn, key_id)
        if row is None:
            return None
        return CachedKey.build(row_to_key(row), verifiers_for(row, self._sealer, self._now_ms()))

    # -- life cycle --------------------------------------------------------------------------
    def create(
        self,
        user_id: int,
        actor: Actor,
        *,
        label: str = "",
        permissions: frozenset[Permission] = frozenset({Permission.READ}),
        ip_allowlist: tuple[str, ...] = (),
        symbols: tuple[str, ...] = (),
        expires_at: int | None = None,
        public_key_pem: str | None = None,
    ) -> IssuedKey:
        now = self._now_ms()
        ips = policy.clean_ips(ip_allowlist)
        perms = policy.clean_permissions(permissions, ips)
        values: dict[str, Any] = {
            "user_id": user_id,
            "label": policy.clean_label(label),
            "permissions": format_permissions(perms),
            "ip_allowlist": ",".join(ips),
            "symbols": ",".join(sorted(policy.clean_symbols(symbols))),
            "expires_at": policy.clean_expiry(expires_at, now),
            "status": KeyStatus.ACTIVE.value,
            "status_reason": "",
            "created_at": now,
            "updated_at": now,
            "trade_since": now if Permission.TRADE in perms else None,
        }
        key_id = new_key_id()
        secret = None
        if public_key_pem is None:
            secret = new_secret()
            values.update(
                kind=KeyKind.HMAC.value, secret_sealed=self._sealer.seal(secret.encode(), key_id.encode())
            )
        else:
            kind, _ = load_public_key(public_key_pem)
            values.update(kind=kind.value, public_key_pem=normalise_pem(public_key_pem))
        with self._engine.begin() as conn:
            if key_repo.user_by_id(conn, user_id) is None:
                raise KeyManagementError(f"no user with id {user_id}", "unknown_user")
            if key_repo.count_live_keys(conn, user_id) >= self.rules.max_keys_per_user:
                raise KeyManagementError(
                    f"this user already has {self.rules.max_keys_per_user} keys, the most allowed; "
                    "revoke one first",
                    "too_many_keys",
                )
            key_repo.insert_key(conn, {"key_id": key_id, **values})
            detail = {
                "kind": values["kind"],
                "permissions": values["permissions"],
                "ip_allowlist": values["ip_allowlist"],
                "symbols": values["symbols"],
                "expires_at": values["expires_at"],
                "label": values["label"],
            }
            self._changed(conn, actor, "key.create", user_id, key_id, detail)
        self._announced(key_id)
        return IssuedKey(self.get(key_id), secret)

    def edit(
        self,
        key_id: str,
        actor: Actor,
        *,
        label: str | None = None,
        permissions: frozenset[Permission] | None = None,
        ip_allowlist: tuple[str, ...] | None = None,
        symbols: tuple[str, ...] | None = None,
        expires_at: int | None = UNSET,
    ) -> ApiKey:
        now = self._now_ms()
        with self._engine.begin() as conn:
            key = self._live(conn, key_id)
            ips = policy.clean_ips(ip_allowlist) if ip_allowlist is not None else key.ip_allowlist
            perms = policy.clean_permissions(permissions if permissions is not None else key.permissions, ips)
            values: dict[str, Any] = {"updated_at": now}
            if label is not None:
                values["label"] = policy.clean_label(label)
            if permissions is not None or ip_allowlist is not None:
                values["permissions"] = format_permissions(perms)
                values["ip_allowlist"] = ",".join(ips)
                if Permission.TRADE in perms and Permission.TRADE not in key.permissions:
                    values["trade_since"] = now
                if Permission.TRADE not in perms:
                    values["trade_since"] = None
            if symbols is not None:
                values["symbols"] = ",".join(sorted(policy.clean_symbols(symbols)))
            if expires_at is not UNSET:
                values["expires_at"] = policy.clean_expiry(expires_at, now)
            key_repo.update_key(conn, key_id, values)
            detail = {k: v for k, v in values.items() if k not in ("updated_at",)}
            self._changed(conn, actor, "key.edit", key.user_id, key_id, detail)
        self._announced(key_id)
        return self.get(key_id)

    def disable(self, key_id: str, actor: Actor, reason: str = "") -> ApiKey:
        return self._set_status(key_id, actor, KeyStatus.DISABLED, reason or f"disabled by {actor.name}")

    def enable(self, key_id: str, actor: Actor) -> ApiKey:
        return self._set_status(key_id, actor, KeyStatus.ACTIVE, "")

    def revoke(self, key_id: str, actor: Actor, reason: str = "") -> ApiKey:
        return self._set_status(key_id, actor, KeyStatus.REVOKED, reason or f"revoked by {actor.name}")

    def rotate(
        self, key_id: str, actor: Actor, grace_seconds: int = 0, public_key_pem: str | None = None
    ) -> IssuedKey:
        """New material for the same key id; the old one stays valid for ``grace_seconds``."""
        if grace_seconds < 0 or grace_seconds > 7 * 86400:
            raise KeyManagementError("the grace period is 0 to 604800 seconds (7 days)", "bad_grace")
        now = self._now_ms()
        secret = None
        with self._engine.begin() as conn:
            row = key_repo.key_by_id(conn, key_id, for_update=True)
            key = self._live(conn, key_id, row)
            assert row is not None
            values: dict[str, Any] = {
                "updated_at": now,
                "previous_until": now + grace_seconds * 1000 if grace_seconds else None,
            }
            if key.kind is KeyKind.HMAC:
                if public_key_pem is not None:
                    raise KeyManagementError(
                        "an HMAC key rotates to a new secret; no public key is needed", "bad_rotate"
                    )
                secret = new_secret()
                values["secret_sealed"] = self._sealer.seal(secret.encode(), key_id.encode())
                values["previous_secret_sealed"] = row["secret_sealed"] if grace_seconds else None
            else:
                if public_key_pem is None:
                    raise KeyManagementError(
                        "rotating an Ed25519/RSA key needs the new public key", "bad_rotate"
                    )
                kind, _ = load_public_key(public_key_pem)
                if kind is not key.kind:
                    raise KeyManagementError(
                        f"this key is {key.kind.value}; the new public key is {kind.value}", "bad_rotate"
                    )
                values["public_key_pem"] = normalise_pem(public_key_pem)
                values["previous_public_key_pem"] = row["public_key_pem"] if grace_seconds else None
            key_repo.update_key(conn, key_id, values)
            self._changed(conn, actor, "key.rotate", key.user_id, key_id, {"grace_seconds": grace_seconds})
        self._announced(key_id)
        return IssuedKey(self.get(key_id), secret)

    # -- internals -----------------------------------------------------------------------------
    def _set_status(self, key_id: str, actor: Actor, status: KeyStatus, reason: str) -> ApiKey:
        with self._engine.begin() as conn:
            key = self._live(conn, key_id)
            key_repo.update_key(
                conn,
                key_id,
                {"status": status.value, "status_reason": reason[:200], "updated_at": self._now_ms()},
            )
            action = {
                KeyStatus.ACTIVE: "key.enable",
                KeyStatus.DISABLED: "key.disable",
                KeyStatus.REVOKED: "key.revoke",
            }
            self._changed(conn, actor, action[status], key.user_id, key_id, {"reason": reason})
        self._announced(key_id)
        return self.get(key_id)

    def _live(self, conn: Connection, key_id: str, row: Any = None) -> ApiKey:
        row = row if row is not None else key_repo.key_by_id(conn, key_id, for_update=True)
        if row is None:
            raise KeyManagementError(f"no API key {key_id}", "unknown_key")
        key = row_to_key(row)
        if key.status is KeyStatus.REVOKED:
            raise KeyManagementError(f"API key {key_id} is revoked; revocation is final", "revoked")
        return key

    def _changed(
        self, conn: Connection, actor: Actor, action: str, user_id: int, key_id: str, detail: dict[str, Any]
    ) -> None:
        key_repo.record_change(conn, key_id, self._now_ms())
        self._audit(conn, actor, action, user_id, key_id, detail)

    def _audit(
        self,
        conn: Connection,
        actor: Actor,
        action: str,
        user_id: int | None,
        key_id: str | None,
        detail: dict[str, Any],
    ) -> None:
        key_repo.insert_audit(
            conn,
            [
                {
                    "at": self._now_ms(),
                    "actor": actor.name,
                    "action": action,
                    "user_id": user_id,
                    "key_id": key_id,
                    "source_ip": actor.source_ip,
                    "detail": json.dumps(detail, default=str),
                }
            ],
        )

    def on_change(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(key_id)`` after each committed change made through this service."""
        self._listeners.append(listener)

    def _announced(self, key_id: str) -> None:
        for listener in self._listeners:
            listener(key_id)
