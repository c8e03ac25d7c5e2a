"""Issue #7 items 13 and 14: what a newcomer hit after the README's first command.

13. ``keyplane demo`` a second time on the same data directory exited with "Parameter 'amount' has
    too much precision.": fees had left balances with 18 decimals that the top-up could not match.
14. ``keyplane demo --port 9000`` (or ``serve --port``), then ``keyplane funds credit`` without
    ``--server``, failed with "The exchange of this database runs in another Keyplane process":
    the command looked for the server on the default port. The server now records its address in
    the data directory, and a file left by a killed server must not get in the way.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from keyplane.store.engine import make_engine
from keyplane.store.exchange_tables import ex_assets, ex_balances
from keyplane.store.types import decimal_places
from tests.http.conftest import issue_key
from tests.http.exchange.raw import signed
from tests.support import launch
from tests.support.demo import running_demo
from tests.support.funded import funded_server
from tests.support.server import KEYPLANE, Instance, free_port, server_env

ADDRESS = "server.json"


def trade_count(base: str) -> int:
    total = 0
    for symbol in ("BTCUSDT", "ETHUSDT", "ETHBTC", "SOLUSDT"):
        answer = httpx.get(f"{base}/api/v3/trades", params={"symbol": symbol}, timeout=5)
        assert answer.status_code == 200, answer.text
        total += len(answer.json())
    return total


def balances_off_precision(database_url: str) -> list[tuple[int, str, Decimal]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            precision = dict(conn.execute(select(ex_assets.c.code, ex_assets.c.precision)).all())
            rows = conn.execute(select(ex_balances)).mappings().all()
    finally:
        engine.dispose()
    return [
        (r["account_id"], r["asset"], amount)
        for r in rows
        for amount in (r["free"], r["locked"])
        if decimal_places(amount) > precision[r["asset"]]
    ]


def test_demo_starts_again_on_the_same_data_directory_after_trading(
    tmp_path: Path, database_url: str
) -> None:
    data = tmp_path / "data"
    with running_demo(data, database_url, log_name="first.log") as first:
        deadline, trades = time.monotonic() + 90, 0
        while time.monotonic() < deadline and trades < 12:  # the taker crosses now and then: fees
            time.sleep(0.5)
            trades = trade_count(first.url)
        assert trades >= 12, "the market maker made no trades"
    # Every amount the engine produced, fees included, is at its asset's precision.
    assert balances_off_precision(database_url) == []

    with running_demo(data, database_url, log_name="second.log") as second:
        assert httpx.get(f"{second.url}/api/v3/ping", timeout=5).status_code == 200
        assert "precision" not in second.log.read_text()
        # Item 14 as the issue tells it: `demo --port N`, then `funds credit` with no --server.
        credit = launch.run(
            [*KEYPLANE, "funds", "credit", "--user", "demo", "--asset", "USDT", "--amount", "1"],
            env=server_env(data, database_url, None),
        )
        assert credit.returncode == 0, credit.stderr


@pytest.fixture
def serving(tmp_path: Path, database_url: str) -> Iterator[tuple[Instance, dict[str, str]]]:
    """``keyplane serve --port <random>`` holding the exchange, and a read key of alice's."""
    with funded_server(tmp_path, database_url, {"alice": {"USDT": "100"}}) as server:
        key = issue_key(server, "--permissions", "read")
        assert signed(server.url, key, "GET", "/api/v3/account").status_code == 200  # exchange is open
        yield server, key


def usdt(server: Instance, key: dict[str, str]) -> Decimal:
    balances = signed(server.url, key, "GET", "/api/v3/account").json()["balances"]
    return Decimal(next(b["free"] for b in balances if b["asset"] == "USDT"))


def credit_without_server_option(server: Instance, amount: str) -> subprocess.CompletedProcess[str]:
    return server.cli(
        "funds", "credit", "--user", "alice", "--asset", "USDT", "--amount", amount, check=False
    )


def test_funds_credit_finds_a_server_on_any_port_through_the_data_directory(
    serving: tuple[Instance, dict[str, str]],
) -> None:
    server, key = serving
    result = credit_without_server_option(server, "25")
    assert result.returncode == 0, result.stderr
    assert usdt(server, key) == Decimal(125)  # the serving process applied it, in memory and on disk


def test_the_address_file_is_private_while_serving_and_gone_after_a_clean_stop(
    serving: tuple[Instance, dict[str, str]],
) -> None:
    server, _ = serving
    path = Path(server.env["KEYPLANE_DATA_DIR"]) / ADDRESS
    assert json.loads(path.read_text())["url"] == server.url
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    server.stop()
    assert not path.exists()


def test_a_stale_address_file_from_a_killed_server_breaks_nothing(
    serving: tuple[Instance, dict[str, str]], tmp_path: Path
) -> None:
    server, key = serving
    assert server.process is not None
    path = Path(server.env["KEYPLANE_DATA_DIR"]) / ADDRESS
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()
    assert path.exists()  # left behind

    deadline = time.monotonic() + 30  # PostgreSQL ends the dead server's session (and lock) soon
    result = credit_without_server_option(server, "5")  # nobody serves: the command writes itself
    while (
        result.returncode != 0 and "another Keyplane process" in result.stderr and time.monotonic() < deadline
    ):
        time.sleep(0.5)
        result = credit_without_server_option(server, "5")
    assert result.returncode == 0, result.stderr
    assert re.search(r"USDT free 105", result.stdout), result.stdout

    server.port = free_port()
    server.start(tmp_path / "again.log")
    assert json.loads(path.read_text())["url"] == server.url
    assert credit_without_server_option(server, "1").returncode == 0
    assert usdt(server, key) == Decimal(106)


def test_demo_refuses_to_seed_beside_the_server_of_its_data_directory(
    serving: tuple[Instance, dict[str, str]],
) -> None:
    server, _ = serving
    result = server.cli("demo", "--port", str(free_port()), check=False)
    assert result.returncode != 0
    assert f"already serves this data directory at {server.url}" in result.stderr
