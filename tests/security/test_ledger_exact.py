"""Issue #7 item 8: an amount the ledger cannot hold exactly is refused on every path, never rounded.

``keyplane funds credit --amount 1e30`` once rounded an existing balance away (Decimal keeps 28
digits), left entries that no longer add up, and made ``GET /api/v3/account`` answer 500 for good.
Each path into the ledger is attacked here with real processes: the CLI through a running server,
the CLI writing the database itself (no server), and the operator route with a hand-written body.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from keyplane.runtime import load_operator_token
from tests.http.conftest import issue_key
from tests.http.exchange.raw import signed
from tests.support.funded import funded_server
from tests.support.server import Instance

FUNDS = {"alice": {"USDT": "100"}}
# Amounts no ledger of 8-decimal assets in NUMERIC(38, 18) columns can hold exactly.
BAD_AMOUNTS = [
    "1e30",
    "1E+20",
    "100000000000000000000",
    "99999999999999999999",  # fits alone, but 100 + it does not
    "0.000000001",
    "1.5e-9",
    "1.000000000000000000000000000001",
    "NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "-5",
    "0",
    "0E+3",
]
# Numbers Decimal() reads that are not plain ASCII amounts: a second spelling of 5, or of 5000.
ODD_SPELLINGS = ["５", "٥", "5_000", " 5", "5 "]


def usdt(server: Instance, key: dict[str, str]) -> Decimal:
    """Alice's free USDT as the account endpoint shows it; the endpoint must answer 200."""
    answer = signed(server.url, key, "GET", "/api/v3/account")
    assert answer.status_code == 200, answer.text
    free = [b["free"] for b in answer.json()["balances"] if b["asset"] == "USDT"]
    return Decimal(free[0])


def refused(result_stderr: str, result_stdout: str, returncode: int) -> None:
    assert returncode != 0, result_stdout
    assert "Traceback" not in result_stderr + result_stdout
    assert "amount" in result_stderr.lower(), result_stderr


@pytest.fixture
def running(tmp_path: Path, database_url: str) -> Iterator[tuple[Instance, dict[str, str]]]:
    with funded_server(tmp_path, database_url, FUNDS) as server:
        yield server, issue_key(server, "--permissions", "read")


def credit_usdt(server: Instance, amount: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``keyplane funds credit`` of USDT to alice, through the running server."""
    args = ("funds", "credit", "--user", "alice", "--asset", "USDT", "--amount", amount)
    return server.cli(*args, "--server", server.url, check=check)


@pytest.mark.parametrize("amount", BAD_AMOUNTS + ODD_SPELLINGS)
def test_cli_credit_through_the_server_refuses_what_the_ledger_cannot_hold(
    running: tuple[Instance, dict[str, str]], amount: str
) -> None:
    server, key = running
    result = credit_usdt(server, amount, check=False)
    refused(result.stderr, result.stdout, result.returncode)
    assert usdt(server, key) == Decimal(100)


def test_cli_credit_writing_the_database_itself_refuses_a_huge_amount(
    tmp_path: Path, database_url: str
) -> None:
    with funded_server(tmp_path, database_url, FUNDS, start=False) as server:
        server.env["KEYPLANE_PORT"] = str(server.port)  # nothing listens there yet: the CLI writes itself
        for amount in ("1e30", "0.000000001", "99999999999999999999"):
            result = server.cli(
                "funds", "credit", "--user", "alice", "--asset", "USDT", "--amount", amount, check=False
            )
            refused(result.stderr, result.stdout, result.returncode)
        ok = server.cli("funds", "credit", "--user", "alice", "--asset", "USDT", "--amount", "1E+3", "--json")
        assert Decimal(json.loads(ok.stdout)["free"]) == Decimal(1100)
        server.start(tmp_path / "server.log")
        assert usdt(server, issue_key(server, "--permissions", "read")) == Decimal(1100)


def test_exact_amounts_in_any_spelling_are_credited_exactly(running: tuple[Instance, dict[str, str]]) -> None:
    server, key = running
    for amount in ("1E+3", "0.00000001", "12345678901234567.12345678"):
        credit_usdt(server, amount)
    assert usdt(server, key) == Decimal("12345678901235667.12345679")


def test_operator_route_reads_json_numbers_exactly_and_refuses_inexact_ones(
    running: tuple[Instance, dict[str, str]],
) -> None:
    server, key = running
    token = load_operator_token(Path(server.env["KEYPLANE_DATA_DIR"]))

    def post(body: str) -> httpx.Response:
        return httpx.post(
            f"{server.url}/v1/operator/funds/credit",
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=10,
        )

    # A JSON number parsed as a float would silently become 0.1; it has more than 8 decimals.
    for amount in ("0.1000000000000000055511151231257827", "1e30", "1e400", '"NaN"', "true", "[1]"):
        answer = post(f'{{"user": "alice", "asset": "USDT", "amount": {amount}}}')
        assert answer.status_code == 400, (amount, answer.text)
        assert answer.json()["code"] in (-1102, -1108, -1111, -1130), answer.text
    for spelling in ODD_SPELLINGS:
        answer = post(json.dumps({"user": "alice", "asset": "USDT", "amount": spelling}))
        assert answer.status_code == 400, (spelling, answer.text)
        assert answer.json()["code"] == -1130, answer.text
    assert post('{"user": "alice", "asset": "USDT", "amount": 0.5}').status_code == 200
    assert usdt(server, key) == Decimal("100.5")
