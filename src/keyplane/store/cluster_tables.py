"""Where the exchange writer says who it is: one row, written when an instance takes the lock.

Gateways read ``url`` to know where to forward exchange commands. ``epoch`` grows with every
take-over and fences the writer: a batch is written only while the row still holds the epoch its
writer claimed (:func:`keyplane.store.writer_lock.fence`), so an instance that lost the lock
without noticing can never write beside its successor.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table

from keyplane.store.tables import metadata

exchange_writer = Table(
    "exchange_writer",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("epoch", BigInteger, nullable=False),
    Column("url", String(255), nullable=False),
    Column("since", BigInteger, nullable=False),
)
