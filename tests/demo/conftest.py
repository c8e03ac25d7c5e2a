"""A platform over the test's real database, as ``keyplane demo`` opens it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from keyplane.runtime import Platform, open_platform
from keyplane.settings import Settings


@pytest.fixture
def platform(tmp_path: Path, database_url: str, engine: Engine) -> Iterator[Platform]:
    opened = open_platform(Settings(data_dir=tmp_path / "data", database_url=database_url))
    yield opened
    opened.engine.dispose()
