"""Rows handed to the database driver as plain tuples, through statements built once.

Why: a group commit writes hundreds of rows. Through SQLAlchemy's compiled statements every row
pays for parameter processing in Python (bind processors, the money columns' exactness check):
measured, that was most of the writer's time and half of all the time under a burst of orders.
Here the SQL is built once per table and dialect, the caller gives each row as a tuple already in
the column's storage form (:func:`keyplane.store.types.money` for the money columns: the column
type's own conversion), and the driver's ``executemany`` does the rest (psycopg sends the rows in
one pipeline). The transaction stays SQLAlchemy's.

On PostgreSQL a whole batch's statements go in one pipeline (:func:`pipelined`): sent without
waiting for each one's result, which then arrive together. Under load the writer thread waited for
the interpreter after every statement's answer as well as for the answer itself; the engine bench's
group commits on PostgreSQL went from about 2,300-3,200 to 3,200-4,600 commands/s. The rows go
through the driver's own cursor there: SQLAlchemy reads each statement's result as soon as it is
sent, which in a pipeline waits for it, one round trip per statement again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Dialect, Table

# The placeholder of each DB-API parameter style these statements support (positional only).
PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


@dataclass(frozen=True)
class Bulk:
    """``INSERT INTO table (columns)``, or ``UPDATE table SET columns WHERE keys`` when ``keys``
    are given (a row is then the new values followed by the keys)."""

    table: Table
    columns: tuple[str, ...]
    keys: tuple[str, ...] = ()
    _sql: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def sql(self, dialect: Dialect) -> str:
        cached = self._sql.get(dialect.name)
        if cached is None:
            cached = self._sql[dialect.name] = self._build(dialect)
        return cached

    def _build(self, dialect: Dialect) -> str:
        try:
            mark = PLACEHOLDERS[dialect.paramstyle]
        except KeyError:
            raise NotImplementedError(f"parameter style {dialect.paramstyle!r}") from None
        quote = dialect.identifier_preparer.quote
        for name in (*self.columns, *self.keys):
            if name not in self.table.c:
                raise ValueError(f"{self.table.name} has no column {name!r}")
        table = quote(self.table.name)
        if not self.keys:
            names = ", ".join(quote(c) for c in self.columns)
            return f"INSERT INTO {table} ({names}) VALUES ({', '.join(mark for _ in self.columns)})"
        sets = ", ".join(f"{quote(c)} = {mark}" for c in self.columns)
        where = " AND ".join(f"{quote(k)} = {mark}" for k in self.keys)
        return f"UPDATE {table} SET {sets} WHERE {where}"

    def run(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Execute for every row (nothing for none), inside the caller's transaction."""
        if not rows:
            return
        if conn.dialect.name == "postgresql":
            with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
                cursor.executemany(self.sql(conn.dialect), rows)
        else:
            conn.exec_driver_sql(self.sql(conn.dialect), list(rows))

    def run_one(self, conn: Connection, row: tuple[Any, ...]) -> int:
        """Execute for one row; the number of rows it touched."""
        return conn.exec_driver_sql(self.sql(conn.dialect), row).rowcount


@contextlib.contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """On PostgreSQL, the statements inside are sent without waiting for their results (psycopg's
    pipeline mode): the results, and the first error if any, arrive by the end of the block. Other
    back ends run them as usual."""
    if conn.dialect.name != "postgresql":
        yield
        return
    with conn.connection.driver_connection.pipeline():  # type: ignore[union-attr]
        yield
