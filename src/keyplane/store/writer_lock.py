"""One exchange writer per database, enforced across processes.

The exchange keeps its books and balances in memory, so a second process writing the same
database would fork them. The first process to open the exchange takes this lock and holds it
while it lives: a PostgreSQL session advisory lock, or an ``flock`` on a file beside the SQLite
database. Another process that asks gets ``None`` and must not write the exchange.

The holder then records its address and a new fencing epoch (:func:`claim`): other instances
forward exchange commands to that address (:func:`current_writer`), and every batch the holder
writes first checks that the epoch is still its own (:func:`fence`). A lock can be lost without
its holder noticing (its database session dropped); the fence keeps such a holder from writing
once a successor has claimed.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, Engine, select, text, update

from keyplane.clock import now_ms
from keyplane.store.bulk import Bulk
from keyplane.store.cluster_tables import exchange_writer

# Built once: it runs at the start of every group commit.
FENCE = Bulk(exchange_writer, ("epoch",), keys=("id", "epoch"))
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


class Deposed(Exception):
    """Another instance has claimed the exchange since this one did: it must stop writing."""


@dataclass(frozen=True, kw_only=True)
class WriterRecord:
    url: str
    epoch: int


def claim(engine: Engine, url: str) -> int:
    """Record ``url`` as the writer's address under a new epoch; call only while holding the lock."""
    with engine.begin() as conn:
        row = conn.execute(select(exchange_writer.c.epoch).where(exchange_writer.c.id == 1)).first()
        epoch = (row[0] if row else 0) + 1
        values = {"epoch": epoch, "url": url, "since": now_ms()}
        if row is None:
            conn.execute(exchange_writer.insert().values(id=1, **values))
        else:
            conn.execute(update(exchange_writer).where(exchange_writer.c.id == 1).values(**values))
    return epoch


def current_writer(engine: Engine) -> WriterRecord | None:
    """The address and epoch of the last instance that claimed the exchange (it may have died)."""
    with engine.connect() as conn:
        row = conn.execute(select(exchange_writer.c.url, exchange_writer.c.epoch)).first()
    return WriterRecord(url=row[0], epoch=row[1]) if row else None


def fence(conn: Connection, epoch: int) -> None:
    """Inside a batch's transaction: raise :class:`Deposed` unless ``epoch`` is still the claimed one.

    The UPDATE takes the row's lock, so a successor's :func:`claim` either commits first (and this
    batch is refused) or waits until this batch has committed (and its state read includes it)."""
    if FENCE.run_one(conn, (epoch, 1, epoch)) != 1:
        raise Deposed(f"epoch {epoch} is no longer the exchange writer's")
