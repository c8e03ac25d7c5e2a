"""Queries on users, API keys, the key-change log and audit events. Rows in, rows out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, bindparam, func, insert, select, update

from keyplane.clock import now_ms
from keyplane.store.tables import api_keys, audit_events, key_changes, users


def create_user(conn: Connection, name: str, now_ms: int) -> int:
    result = conn.execute(insert(users).values(name=name, created_at=now_ms).returning(users.c.id))
    return int(result.scalar_one())


def user_by_name(conn: Connection, name: str) -> RowMapping | None:
    return conn.execute(select(users).where(users.c.name == name)).mappings().first()


def user_by_id(conn: Connection, user_id: int) -> RowMapping | None:
    return conn.execute(select(users).where(users.c.id == user_id)).mappings().first()


def all_users(conn: Connection) -> Sequence[RowMapping]:
    return conn.execute(select(users).order_by(users.c.id)).mappings().all()


def insert_key(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(insert(api_keys).values(**values))


def key_by_id(conn: Connection, key_id: str, for_update: bool = False) -> RowMapping | None:
    query = select(api_keys).where(api_keys.c.key_id == key_id)
    if for_update:
        query = query.with_for_update()
    return conn.execute(query).mappings().first()


def keys_of(conn: Connection, user_id: int | None = None) -> Sequence[RowMapping]:
    query = select(api_keys).order_by(api_keys.c.id)
    if user_id is not None:
        query = query.where(api_keys.c.user_id == user_id)
    return conn.execute(query).mappings().all()


def count_live_keys(conn: Connection, user_id: int) -> int:
    query = select(func.count()).where(api_keys.c.user_id == user_id, api_keys.c.status != "revoked")
    return int(conn.execute(query).scalar_one())


def update_key(conn: Connection, key_id: str, values: Mapping[str, Any]) -> None:
    conn.execute(update(api_keys).where(api_keys.c.key_id == key_id).values(**values))


def record_change(conn: Connection, key_id: str, now_ms: int) -> None:
    conn.execute(insert(key_changes).values(key_id=key_id, changed_at=now_ms))


def latest_change(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(key_changes.c.id), 0))).scalar_one())


def changes_since(conn: Connection, last_id: int) -> Sequence[RowMapping]:
    query = select(key_changes).where(key_changes.c.id > last_id).order_by(key_changes.c.id)
    return conn.execute(query).mappings().all()


def touch_last_used(conn: Connection, used: Mapping[str, int]) -> None:
    """One executemany per batch; last-used never goes backwards."""
    if not used:
        return
    statement = (
        update(api_keys)
        .where(api_keys.c.key_id == bindparam("k"))
        .where(api_keys.c.last_used_at.is_(None) | (api_keys.c.last_used_at < bindparam("at")))
        .values(last_used_at=bindparam("at"))
    )
    conn.execute(statement, [{"k": key_id, "at": at} for key_id, at in used.items()])


def insert_audit(conn: Connection, events: Iterable[Mapping[str, Any]]) -> None:
    rows = list(events)
    if rows:
        conn.execute(insert(audit_events), rows)


def record_audit(
    engine: Engine,
    *,
    actor: str,
    action: str,
    user_id: int | None,
    key_id: str | None,
    source_ip: str | None,
    detail: Mapping[str, Any],
) -> None:
    """One audit event in its own transaction: the write every non-key action shares."""
    event = {
        "at": now_ms(),
        "actor": actor,
        "action": action,
        "user_id": user_id,
        "key_id": key_id,
        "source_ip": source_ip,
        "detail": json.dumps(detail, default=str),
    }
    with engine.begin() as conn:
        insert_audit(conn, [event])


def audit_of(
    conn: Connection, user_id: int | None = None, key_id: str | None = None, limit: int = 100
) -> Sequence[RowMapping]:
    query = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(audit_events.c.user_id == user_id)
    if key_id is not None:
        query = query.where(audit_events.c.key_id == key_id)
    return conn.execute(query).mappings().all()
