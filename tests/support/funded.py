"""A real server whose users were funded before it started (helper fixtures of tests/security)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import REDIS_URL, redis_available
from tests.http.exchange.funding import fund_before_start
from tests.support.databases import backend
from tests.support.server import Instance, free_port, server_env


@contextmanager
def funded_server(
    tmp_path: Path, database_url: str, funds: dict[str, dict[str, str]], start: bool = True, **env: str
) -> Iterator[Instance]:
    """Users named in ``funds`` created and credited, then (``start``) ``keyplane serve`` on a free
    port; ``env`` adds settings."""
    redis_url = REDIS_URL if backend() == "postgresql" and redis_available() else None
    instance = Instance(server_env(tmp_path / "data", database_url, redis_url, **env), free_port())
    for name in funds:
        instance.cli("users", "create", name)
    fund_before_start(database_url, funds)
    try:
        if start:
            instance.start(tmp_path / "server.log")
        yield instance
    finally:
        instance.stop()
