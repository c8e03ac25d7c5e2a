"""One funded exchange server for the whole directory: users alice and bob, and their keys.

Tests in different modules trade different symbols, so they do not see each other's orders.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL, redis_available
from tests.http.conftest import issue_key
from tests.http.exchange.funding import fund_before_start
from tests.support.databases import backend, fresh_database
from tests.support.server import Instance, free_port, server_env

FUNDS = {"USDT": "1000000", "BTC": "10", "ETH": "100", "SOL": "1000"}
# Options of ccxt_compat.md §1.1 that stop calls a spot-only server need not serve.
MINIMAL = {
    "fetchMarkets": {"types": ["spot"]},
    "fetchMargins": False,
    "fetchCurrencies": False,
    "fetchOpenOrders": {"warnWithoutSymbol": False},
    "adjustForTimeDifference": True,
}


@dataclass
class Venue:
    server: Instance
    alice: dict[str, str]
    bob: dict[str, str]
    reader: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="package")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    with running_venue(tmp_path_factory.mktemp("exchange")) as running:
        yield running


@contextmanager
def running_venue(tmp: Path, **env: str) -> Iterator[Venue]:
    """A server on a fresh database with alice and bob funded, and their keys (the package's
    venue); ``env`` adds settings."""
    with fresh_database(tmp) as url:
        redis_url = REDIS_URL if backend() == "postgresql" and redis_available() else None
        server = Instance(server_env(tmp / "data", url, redis_url, **env), free_port())
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
