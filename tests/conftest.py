"""Shared fixtures: a real, migrated database of the selected back end, and a running server."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine

from keyplane.store.engine import make_engine, migrate
from tests.support.databases import backend, fresh_database
from tests.support.server import Instance, free_port, server_env


def _redis_url() -> str:
    """Each pytest-xdist worker has a Redis database of its own (10, 11, ...): servers started by
    tests running at the same time on other workers would otherwise add to the weight and bans that
    this worker's servers count for 127.0.0.1."""
    base = os.environ.get("KEYPLANE_TEST_REDIS", "redis://127.0.0.1:6379/0")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return base
    return base.rsplit("/", 1)[0] + f"/{10 + int(worker[2:])}"


REDIS_URL = _redis_url()


def _share_one_tls_context() -> None:
    """httpx builds a TLS context for every client, loading the whole CA bundle (20-90 ms of CPU
    on this machine), and ``httpx.get``/``post``/``request`` build a client per call. The suite
    makes thousands of such calls, all plain HTTP to its own servers: one default context, built
    once, serves every client that asks for the default."""
    from httpx._transports import default as transports

    original = transports.create_ssl_context
    shared = original()

    def create(verify: Any = True, cert: Any = None, trust_env: bool = True) -> ssl.SSLContext:
        if verify is True and cert is None and trust_env:
            return shared
        return original(verify=verify, cert=cert, trust_env=trust_env)

    transports.create_ssl_context = create


_share_one_tls_context()


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session", autouse=True)
def _empty_worker_redis() -> None:
    """A worker's own Redis database starts empty (nothing else uses it)."""
    if REDIS_URL.rsplit("/", 1)[1] != "0" and redis_available():
        client = redis.Redis.from_url(REDIS_URL)
        client.flushdb()
        client.close()


@pytest.fixture
def redis_url() -> str:
    """Redis for tests that need it: skipped only off CI; on CI a missing Redis is a failure."""
    if not redis_available():
        if os.environ.get("CI"):
            pytest.fail("Redis is not running at " + REDIS_URL)
        pytest.skip("Redis is not running")
    return REDIS_URL


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Instance]:
    """A running ``keyplane serve``; on the PostgreSQL run it also uses Redis, as in production."""
    redis_url = REDIS_URL if backend() == "postgresql" and redis_available() else None
    instance = Instance(server_env(tmp_path / "data", database_url, redis_url), free_port())
    instance.cli("users", "create", "alice")
    instance.start(tmp_path / "server.log")
    yield instance
    instance.stop()
