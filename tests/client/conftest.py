"""Client-side fixtures: two real Keyplane servers acting as two exchanges, keys, and a file vault.

Apps' fixtures live in ``tests/client/apps_fixtures.py`` (imported below when present).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from keyplane.client.vault import Credentials, Vault, create_vault
from tests.conftest import REDIS_URL, redis_available
from tests.http.conftest import issue_key
from tests.http.exchange.funding import fund_before_start
from tests.support.clients import ccxt_binance
from tests.support.databases import backend, fresh_database
from tests.support.server import Instance, free_port, server_env

PASSPHRASE = "correct horse battery staple"
# Exchange A and B hold different balances so a sum that mixed them up would show.
FUNDS_A = {"USDT": "10000", "BTC": "1.5", "ETH": "20"}
FUNDS_B = {"USDT": "2500", "BTC": "0.25", "SOL": "40"}


@dataclass
class Exchange:
    """One running Keyplane server; ``name`` is the account name used in vaults."""

    name: str
    server: Instance
    funds: dict[str, str]
    keys: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def key(self, permissions: str = "read", user: str = "alice") -> dict[str, str]:
        """A key (cached per permission set and user) issued through the real CLI."""
        wanted = f"{user}:{permissions}"
        if wanted not in self.keys:
            # Keyplane insists that a key able to withdraw is bound to addresses: ours is localhost.
            bound = ["--ip", "127.0.0.1"] if "withdraw" in permissions else []
            self.keys[wanted] = issue_key(self.server, "--permissions", permissions, *bound, user=user)
        return self.keys[wanted]

    def trade_at(self, symbol: str, price: str, amount: str = "0.01") -> None:
        """bob sells to carol at ``price``: the exchange's last price (and today's candle) is set."""
        seller = self.key("read,trade", user="bob")
        buyer = self.key("read,trade", user="carol")
        sell = ccxt_binance(self.url, seller["key"], seller["secret"], fetchMarkets={"types": ["spot"]})
        buy = ccxt_binance(self.url, buyer["key"], buyer["secret"], fetchMarkets={"types": ["spot"]})
        sell.create_order(symbol, "limit", "sell", float(amount), float(price))
        filled = buy.create_order(symbol, "limit", "buy", float(amount), float(price))
        assert filled["status"] == "closed", filled

    def credentials(self, permissions: str = "read", name: str | None = None) -> Credentials:
        key = self.key(permissions)
        return Credentials(
            name=name or self.name,
            exchange="keyplane",
            url=self.url,
            api_key=key["key"],
            secret=key["secret"],
        )


MARKET_FUNDS = {"USDT": "1000000", "BTC": "100", "ETH": "1000", "SOL": "10000"}


@contextmanager
def start_exchange(tmp: Path, name: str, funds: dict[str, str]) -> Iterator[Exchange]:
    """A server whose ``alice`` holds ``funds``; ``bob`` and ``carol`` hold plenty to make markets."""
    with fresh_database(tmp) as url:
        redis_url = REDIS_URL if backend() == "postgresql" and redis_available() else None
        server = Instance(server_env(tmp / "data", url, redis_url), free_port())
        for user in ("alice", "bob", "carol"):
            server.cli("users", "create", user)
        fund_before_start(url, {"alice": funds, "bob": MARKET_FUNDS, "carol": MARKET_FUNDS})
        server.start(tmp / "server.log")
        try:
            yield Exchange(name, server, funds)
        finally:
            server.stop()


def _start(tmp: Path, name: str, funds: dict[str, str]) -> Iterator[Exchange]:
    with start_exchange(tmp, name, funds) as exchange:
        yield exchange


@pytest.fixture(scope="package")
def exchange_a(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exchange]:
    yield from _start(tmp_path_factory.mktemp("exchange-a"), "kp-a", FUNDS_A)


@pytest.fixture(scope="package")
def exchange_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exchange]:
    yield from _start(tmp_path_factory.mktemp("exchange-b"), "kp-b", FUNDS_B)


@pytest.fixture
def vault_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A vault location for this test, on the file back end, with the passphrase in the environment."""
    path = tmp_path / "vault" / "vault.json"
    monkeypatch.setenv("KEYPLANE_VAULT", str(path))
    monkeypatch.setenv("KEYPLANE_VAULT_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("KEYPLANE_VAULT_BACKEND", "file")
    return path


@pytest.fixture
def vault(vault_path: Path) -> Vault:
    """A new, empty file vault at ``vault_path``."""
    return create_vault(vault_path, PASSPHRASE, backend="file")


try:
    from tests.client.apps_fixtures import *
except ModuleNotFoundError as missing:
    if missing.name != "tests.client.apps_fixtures":
        raise
