"""One database connection kept open for a single writer's transactions, one after another.

Why: the exchange writes a group commit after another, each in one transaction. Taking a pooled
connection for each costs a check-out and a check-in with its reset (a rollback), and on
PostgreSQL a pre-ping: a round trip per batch before the batch's own statements. A connection
that failed is closed, and the next transaction opens a fresh one.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from sqlalchemy import Connection, Engine


class HeldConnection:
    """Transactions on one kept connection, from any thread, one at a time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None
        self._lock = threading.Lock()  # a transaction, or closing, at a time

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction: committed if the block ends normally, else rolled back and the
        connection closed."""
        with self._lock:
            conn = self._conn
            if conn is None or conn.closed or conn.invalidated:
                conn = self._conn = self._engine.connect()
            try:
                with conn.begin():
                    yield conn
            except BaseException:
                self._close()
                raise

    def close(self) -> None:
        """Close the connection (after the transaction in progress, if any)."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a broken connection may fail to close: it is gone
                conn.close()
