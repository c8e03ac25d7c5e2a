"""Real databases for tests: a fresh SQLite file, or a fresh PostgreSQL database per test session.

``KEYPLANE_TEST_DB`` picks the back end (``sqlite``, the default, or ``postgresql``).
``KEYPLANE_TEST_PG`` is the server URL (default ``postgresql://postgres@127.0.0.1:5432``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

PG_SERVER = os.environ.get("KEYPLANE_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


def backend() -> str:
    return os.environ.get("KEYPLANE_TEST_DB", "sqlite")


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards."""
    name = "kp_test_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_SERVER + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(PG_SERVER + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(tmp_dir: Path, kind: str | None = None) -> Iterator[str]:
    """A new, empty database of the selected back end; yields its URL."""
    kind = kind or backend()
    if kind == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_dir / ('kp-' + uuid.uuid4().hex[:8] + '.db')}"
