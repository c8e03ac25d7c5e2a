"""Real databases for tests: a fresh SQLite file, or a fresh PostgreSQL database per test.

``KEYPLANE_TEST_DB`` picks the back end (``sqlite``, the default, or ``postgresql``).
``KEYPLANE_TEST_PG`` is the server URL (default ``postgresql://postgres@127.0.0.1:5432``).

Each fresh database is a copy of one that this worker migrated from empty with Keyplane's own
migrations at its first use (``CREATE DATABASE ... TEMPLATE`` on PostgreSQL, a file copy on SQLite):
the migrations still run from empty once per worker and back end, and the servers a test starts
find the schema current instead of building it again (0.3-0.6 s per database on PostgreSQL).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from keyplane.store.engine import make_engine, migrate

PG_SERVER = os.environ.get("KEYPLANE_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


def backend() -> str:
    return os.environ.get("KEYPLANE_TEST_DB", "sqlite")


_templates: dict[str, str] = {}


def _migrated(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()


def _drop_postgres(name: str) -> None:
    with psycopg.connect(PG_SERVER + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_template() -> str:
    """This worker's migrated PostgreSQL database that fresh ones are copied from (never connected to
    again: PostgreSQL copies a template only while no one is connected to it)."""
    if "postgresql" not in _templates:
        name = "kp_template_" + uuid.uuid4().hex[:12]
        with psycopg.connect(PG_SERVER + "/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        atexit.register(_drop_postgres, name)
        _migrated(f"{PG_SERVER}/{name}")
        _templates["postgresql"] = name
    return _templates["postgresql"]


def _sqlite_template() -> Path:
    if "sqlite" not in _templates:
        folder = Path(tempfile.mkdtemp(prefix="kp-template-"))
        atexit.register(shutil.rmtree, folder, True)
        _migrated(f"sqlite:///{folder / 'template.db'}")
        _templates["sqlite"] = str(folder / "template.db")
    return Path(_templates["sqlite"])


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create a uniquely named, migrated database, yield its URL, drop it afterwards."""
    name = "kp_test_" + uuid.uuid4().hex[:12]
    template = _postgres_template()
    with psycopg.connect(PG_SERVER + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        _drop_postgres(name)


@contextmanager
def fresh_database(tmp_dir: Path, kind: str | None = None) -> Iterator[str]:
    """A new database of the selected back end, migrated and holding no data; yields its URL."""
    kind = kind or backend()
    if kind == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        path = tmp_dir / ("kp-" + uuid.uuid4().hex[:8] + ".db")
        shutil.copyfile(_sqlite_template(), path)
        path.chmod(0o600)  # as Keyplane creates it
        yield f"sqlite:///{path}"
