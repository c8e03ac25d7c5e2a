"""Master-key rotation: re-seal every sealed secret under a new master key in one transaction.

It lives beside ``runtime`` rather than in ``keys`` because sealed secrets belong to several
areas (API secrets, TOTP secrets), each with its own associated data. Order: write the new key to ``master.key.next`` (loaded beside the current one from then on),
re-seal and commit, then move it over ``master.key``. A crash at any point leaves every blob
openable. Other tables with sealed columns register them in ``SEALED_COLUMNS``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, select, update

from keyplane.identity.two_factor import secret_associated_data
from keyplane.keys.masterkey import KEY_FILE, NEXT_FILE, load_sealer, write_key_file
from keyplane.keys.sealing import Sealer
from keyplane.store.identity_tables import user_credentials
from keyplane.store.tables import api_keys


@dataclass(frozen=True)
class SealedColumn:
    table: Table
    primary_key: str
    column: str
    associated: Callable[[Any], bytes]


SEALED_COLUMNS: list[SealedColumn] = [
    SealedColumn(api_keys, "id", "secret_sealed", lambda row: row.key_id.encode("ascii")),
    SealedColumn(api_keys, "id", "previous_secret_sealed", lambda row: row.key_id.encode("ascii")),
    SealedColumn(
        user_credentials, "user_id", "totp_secret_sealed", lambda row: secret_associated_data(row.user_id)
    ),
    SealedColumn(
        user_credentials, "user_id", "totp_pending_sealed", lambda row: secret_associated_data(row.user_id)
    ),
]


def reseal_all(engine: Engine, old: Sealer, new: Sealer) -> int:
    """Re-seal every registered sealed column; returns how many blobs changed."""
    count = 0
    with engine.begin() as conn:
        for sealed in SEALED_COLUMNS:
            table = sealed.table
            column = table.c[sealed.column]
            rows = conn.execute(select(table).where(column.is_not(None))).all()
            for row in rows:
                aad = sealed.associated(row)
                plaintext = old.unseal(getattr(row, sealed.column), aad)
                conn.execute(
                    update(table)
                    .where(table.c[sealed.primary_key] == getattr(row, sealed.primary_key))
                    .values({sealed.column: new.seal(plaintext, aad)})
                )
                count += 1
    return count


def rotate_master_key(engine: Engine, data_dir: Path) -> int:
    """Rotate the file-based master key; returns the number of re-sealed secrets."""
    old = load_sealer(data_dir, None)
    next_path = data_dir / NEXT_FILE
    if not next_path.exists():
        write_key_file(next_path, os.urandom(32))
    both = load_sealer(data_dir, None)
    count = reseal_all(engine, old, both)
    os.replace(next_path, data_dir / KEY_FILE)
    return count
