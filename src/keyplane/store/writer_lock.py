"""One exchange writer per database, enforced across processes.

The exchange keeps its books and balances in memory, so a second process writing the same
database would fork them. The first process to open the exchange takes this lock and holds it
while it lives: a PostgreSQL session advisory lock, or an ``flock`` on a file beside the SQLite
database. Another process that asks gets ``None`` and must not write the exchange.
"""

from __future__ import annotations

import fcntl
import os
from typing import Protocol

from sqlalchemy import Connection, Engine, text

# An arbitrary 63-bit constant naming "the Keyplane exchange writer" among advisory locks.
ADVISORY_KEY = 0x4B50_4558_5752_4954 & 0x7FFF_FFFF_FFFF_FFFF


class WriterLock(Protocol):
    def release(self) -> None: ...


class _PostgresLock:
    def __init__(self, conn: Connection) -> None:
        self._conn: Connection | None = conn

    def release(self) -> None:
        if self._conn is not None:
            # Closing the DBAPI connection ends the session, and with it the lock.
            self._conn.invalidate()
            self._conn.close()
            self._conn = None


class _FileLock:
    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def try_acquire(engine: Engine) -> WriterLock | None:
    """Take the writer lock of ``engine``'s database, or return None if another holder has it."""
    if engine.dialect.name == "postgresql":
        conn = engine.connect()
        if conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar():
            conn.commit()
            return _PostgresLock(conn)
        conn.close()
        return None
    database = engine.url.database
    if not database or database == ":memory:":
        raise ValueError("the exchange needs a database file")
    fd = os.open(database + ".writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return _FileLock(fd)
