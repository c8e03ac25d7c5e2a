"""Issue #7 item 12: files only their owner can read, and a hung-up client is not an error.

The SQLite database (with its ``-wal``/``-shm`` files) holds sealed secrets, password hashes and
every balance: it and the data directory were created readable by every local user. And a client
that disconnected while sending its body was logged as an internal error, with a traceback.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.databases import fresh_database
from tests.support.rawhttp import connect, read_answer
from tests.support.server import Instance, free_port, server_env


@contextmanager
def umask(mask: int) -> Iterator[None]:
    """The umask the CLI and the server inherit."""
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o000])
def test_a_fresh_data_directory_and_its_database_are_private_whatever_the_umask(
    tmp_path: Path, mask: int
) -> None:
    data = tmp_path / "new" / "data"
    env = server_env(data, "", None)
    del env["KEYPLANE_DATABASE_URL"]  # the default: SQLite in the data directory
    instance = Instance(env, free_port())
    with umask(mask):
        instance.start(tmp_path / "server.log")
    try:
        instance.cli("users", "create", "alice")  # a write, so the WAL is in use
        database = data / "keyplane.db"
        assert mode(data) == 0o700
        assert mode(database) == 0o600
        for side in ("keyplane.db-wal", "keyplane.db-shm"):
            assert (data / side).exists(), side
            assert mode(data / side) == 0o600, side
        assert mode(data / "master.key") == 0o600
    finally:
        instance.stop()


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    database = data / "keyplane.db"
    database.touch()
    database.chmod(0o644)
    env = server_env(data, "", None)
    del env["KEYPLANE_DATABASE_URL"]
    instance = Instance(env, free_port())
    instance.start(tmp_path / "server.log")
    try:
        assert mode(database) == 0o600
    finally:
        instance.stop()


@pytest.fixture
def logged(tmp_path: Path) -> Iterator[tuple[Instance, Path]]:
    with fresh_database(tmp_path) as url:
        instance = Instance(server_env(tmp_path / "data", url, None), free_port())
        log = tmp_path / "server.log"
        instance.start(log)
        try:
            yield instance, log
        finally:
            instance.stop()


@pytest.mark.parametrize("path", ["/api/v3/order", "/console/login"])
def test_a_client_that_hangs_up_mid_body_leaves_no_error_in_the_log(
    logged: tuple[Instance, Path], path: str
) -> None:
    instance, log = logged
    headers = "Content-Type: application/x-www-form-urlencoded\r\n"
    for _ in range(3):
        with connect(instance.port) as sock:
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: 1000\r\n\r\n".encode())
            sock.sendall(b"symbol=BTCUSDT&side=")
    # The server has seen the hang-ups once a later request on a new connection is answered and
    # a moment has passed; an error, if any, is written at once.
    with connect(instance.port) as sock:
        sock.sendall(b"GET /api/v3/ping HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_answer(sock).status == 200
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and "Traceback" not in log.read_text():
        time.sleep(0.1)
    text = log.read_text()
    assert "internal error" not in text
    assert "Traceback" not in text
    assert "Exception in ASGI application" not in text
