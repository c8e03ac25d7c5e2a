"""Fixtures of the client apps (history, gains, bot): two real Keyplane servers with a history.

Each venue is a real ``keyplane serve`` with its simulated chain: alice receives deposits through
``keyplane chain deposit``, trades with unmodified ccxt against bob's resting orders, and
withdraws to a matured address-book entry. The venues are built once per test package.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from keyplane.client.vault import Credentials
from tests.conftest import REDIS_URL, redis_available
from tests.http.conftest import issue_key
from tests.http.exchange.conftest import MINIMAL
from tests.support.clients import ccxt_binance
from tests.support.databases import backend, fresh_database
from tests.support.demo import RunningDemo, running_demo
from tests.support.server import Instance
from tests.support.wallet_server import DESTINATION, alice_and_bob_wallet_server

CLIENT = [sys.executable, "-c", "from keyplane.client.cli import app; app()"]
WALLET_OPTIONS = {k: v for k, v in MINIMAL.items() if k != "fetchCurrencies"}
T = TypeVar("T")


def eventually(check: Callable[[], T | None], seconds: float = 60) -> T:
    """Poll until ``check`` returns something truthy (a readiness wait, not a timed assert)."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.2)


@dataclass
class Venue:
    """One exchange with alice's history on it; ``truth`` is what the exchange itself reports."""

    name: str
    server: Instance
    keys: dict[str, dict[str, str]] = field(default_factory=dict)
    truth: dict[str, set[str]] = field(default_factory=dict)

    def key(self, permissions: str) -> dict[str, str]:
        if permissions not in self.keys:
            bound = ["--ip", "127.0.0.1"] if "withdraw" in permissions else []
            self.keys[permissions] = issue_key(self.server, "--permissions", permissions, *bound)
        return self.keys[permissions]

    def ccxt(self, permissions: str) -> Any:
        key = self.key(permissions)
        return ccxt_binance(self.server.url, key["key"], key["secret"], **WALLET_OPTIONS)

    def credentials(self, permissions: str = "read") -> Credentials:
        key = self.key(permissions)
        return Credentials(
            name=self.name, exchange="keyplane", url=self.server.url, api_key=key["key"], secret=key["secret"]
        )


def _deposit(venue: Venue, alice: Any, amount: str) -> None:
    address = alice.fetch_deposit_address("USDT", {"network": "ETH"})["address"]
    before = len(alice.fetch_deposits("USDT"))
    venue.server.cli(
        "chain", "deposit", "--address", address, "--amount", amount, "--coin", "USDT", "--network", "ETH"
    )
    eventually(lambda: len([d for d in alice.fetch_deposits("USDT") if d["status"] == "ok"]) > before)


def _make_history(venue: Venue, deposits: list[str], buys: int, sells: int, withdrawals: int) -> None:
    bob = issue_key(venue.server, "--permissions", "read,trade", user="bob")
    maker = ccxt_binance(venue.server.url, bob["key"], bob["secret"], **MINIMAL)
    for i in range(buys):
        maker.create_order("BTC/USDT", "limit", "sell", 0.001, 60000 + 10 * i)
    for i in range(sells):
        maker.create_order("BTC/USDT", "limit", "buy", 0.001, 59000 - 10 * i)
    maker.create_order("ETH/USDT", "limit", "sell", 0.1, 3000)
    alice = venue.ccxt("read,trade,withdraw")
    for amount in deposits:
        _deposit(venue, alice, amount)
    for _ in range(buys):
        alice.create_order("BTC/USDT", "market", "buy", 0.001)
    alice.create_order("ETH/USDT", "market", "buy", 0.1)
    for _ in range(sells):
        alice.create_order("BTC/USDT", "market", "sell", 0.001)
    made = [
        alice.withdraw("USDT", 20 + i, DESTINATION, params={"network": "ETH"})["id"]
        for i in range(withdrawals)
    ]
    eventually(lambda: {w["id"] for w in alice.fetch_withdrawals("USDT") if w["status"] == "ok"} >= set(made))
    venue.truth = {
        "trade": {t["id"] for s in ("BTC/USDT", "ETH/USDT") for t in alice.fetch_my_trades(s, limit=1000)},
        "deposit": {d["id"] for d in alice.fetch_deposits() if d["status"] == "ok"},
        "withdrawal": {w["id"] for w in alice.fetch_withdrawals() if w["status"] == "ok"},
    }


def _venue(tmp: Path, name: str) -> Iterator[Venue]:
    with fresh_database(tmp) as url:
        redis_url = REDIS_URL if backend() == "postgresql" and redis_available() else None
        with alice_and_bob_wallet_server(
            tmp,
            url,
            redis_url,
            cooling_off_seconds="1",
            send_delay_seconds="0.2",
            bob_funds={"BTC": "10", "ETH": "100", "USDT": "1000000"},
        ) as server:
            yield Venue(name, server)


@pytest.fixture(scope="package")
def history_venues(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Venue, Venue]]:
    """Two exchanges: A with 2 deposits, 6 trades, 2 withdrawals; B with 1, 4 and 1."""
    first = _venue(tmp_path_factory.mktemp("history-a"), "hist-a")
    second = _venue(tmp_path_factory.mktemp("history-b"), "hist-b")
    a, b = next(first), next(second)
    try:
        time.sleep(1)  # the address-book entries mature (cooling-off of one second)
        _make_history(a, ["5000", "700"], buys=3, sells=2, withdrawals=2)
        _make_history(b, ["3000"], buys=2, sells=1, withdrawals=1)
        yield a, b
    finally:
        for gen in (first, second):
            gen.close()


@dataclass
class Demo:
    """A running ``keyplane demo``: its market maker quotes and trades; ``key`` is the demo user's."""

    url: str
    key: dict[str, str] = field(repr=False)  # holds the secret: never in a failure's output
    running: RunningDemo = field(repr=False)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.running.cli(*args)


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("demo")
    with (
        fresh_database(tmp) as url,
        running_demo(tmp / "data", url, KEYPLANE_WEIGHT_LIMIT_PER_KEY="1000000") as running,
    ):
        yield Demo(running.url, {"key": running.key, "secret": running.secret}, running)
