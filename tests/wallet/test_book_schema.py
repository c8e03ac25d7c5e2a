"""The address-book migration creates exactly the table the code uses, on both back ends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from keyplane.store.tables import metadata
from keyplane.store.wallet_book_tables import WALLET_BOOK_TABLES
from tests.wallet.test_schema import _table_of


def test_migration_creates_exactly_the_address_book_table(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    names = {t.name for t in WALLET_BOOK_TABLES}
    assert [d for d in diff if _table_of(d) in names] == []
    assert names <= set(inspect(engine).get_table_names())
