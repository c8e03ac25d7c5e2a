"""The wallet migration creates exactly the tables the code uses, on both back ends."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, Table, inspect

from keyplane.store.tables import metadata
from keyplane.store.wallet_tables import WALLET_TABLES


def _table_of(item: Any) -> str:
    if isinstance(item, list):
        return str(item[0][2])
    obj = item[1]
    if isinstance(obj, Table):
        return str(obj.name)
    table = getattr(obj, "table", None)
    return str(table.name) if table is not None else str(item[2])


def test_migration_creates_exactly_the_wallet_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    names = {t.name for t in WALLET_TABLES}
    assert [d for d in diff if _table_of(d) in names] == []
    assert names <= set(inspect(engine).get_table_names())
