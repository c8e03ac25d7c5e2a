"""One funded server for the stream tests (alice, bob; a read key), and ccxt pro pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import REDIS_URL, redis_available
from tests.http.conftest import issue_key
from tests.http.exchange.conftest import FUNDS, Venue
from tests.http.exchange.funding import fund_before_start
from tests.support.databases import backend, fresh_database
from tests.support.server import Instance, free_port, server_env


@pytest.fixture(scope="package")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    tmp = tmp_path_factory.mktemp("streams")
    with fresh_database(tmp) as url:
        redis_url = REDIS_URL if backend() == "postgresql" and redis_available() else None
        server = Instance(server_env(tmp / "data", url, redis_url), free_port())
        server.cli("users", "create", "alice")
        server.cli("users", "create", "bob")
        fund_before_start(url, {"alice": FUNDS, "bob": FUNDS})
        server.start(tmp / "server.log")
        try:
            yield Venue(
                server,
                issue_key(server, "--permissions", "read,trade"),
                issue_key(server, "--permissions", "read,trade", user="bob"),
                issue_key(server, "--permissions", "read"),
            )
        finally:
            server.stop()
