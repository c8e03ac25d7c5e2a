"""``keyplane portfolio`` against two real Keyplane servers acting as two exchanges."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from keyplane.client.vault import Credentials, create_vault
from tests.client.cli import run, vault_env
from tests.client.conftest import PASSPHRASE, Exchange, start_exchange
from tests.support.server import free_port

# What alice holds on each exchange and the prices the fixture trades at.
HOLD_A = {"USDT": "10000", "BTC": "1.5", "ETH": "20"}
HOLD_B = {"USDT": "2500", "BTC": "0.25", "SOL": "40", "ETH": "3"}
PRICES_A = {"BTC/USDT": "40000", "ETH/USDT": "2000"}
PRICES_B = {"BTC/USDT": "41000", "SOL/USDT": "150", "ETH/BTC": "0.05"}  # ETH on B: only via BTC
# 10000 + 1.5*40000 + 20*2000 = 110000; 2500 + 0.25*41000 + 40*150 + 3*0.05*41000 = 24900
TOTAL_A, TOTAL_B = Decimal(110000), Decimal(24900)


@pytest.fixture(scope="module")
def markets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Exchange, Exchange]]:
    with (
        start_exchange(tmp_path_factory.mktemp("pa"), "alpha", HOLD_A) as a,
        start_exchange(tmp_path_factory.mktemp("pb"), "beta", HOLD_B) as b,
    ):
        for exchange, prices in ((a, PRICES_A), (b, PRICES_B)):
            for symbol, price in prices.items():
                exchange.trade_at(symbol, price, "0.01" if symbol.startswith("BTC") else "1")
        yield a, b


def make_vault(path: Path, *entries: Credentials) -> dict[str, str]:
    vault = create_vault(path, PASSPHRASE, backend="file")
    for creds in entries:
        vault.add(creds)
    return vault_env(path)


def portfolio_json(env: dict[str, str], *extra: str) -> tuple[int, dict[str, object], str]:
    result = run(env, "portfolio", "--json", *extra)
    return result.returncode, json.loads(result.stdout), result.stderr


def test_totals_equal_the_sum_of_the_balances_valued_at_each_exchanges_prices(
    markets: tuple[Exchange, Exchange], tmp_path: Path
) -> None:
    a, b = markets
    env = make_vault(tmp_path / "v.json", a.credentials("read"), b.credentials("read"))
    code, report, stderr = portfolio_json(env)
    assert code == 0, stderr
    accounts = {acc["account"]: acc for acc in report["accounts"]}  # type: ignore[attr-defined]
    assert Decimal(accounts["alpha"]["total"]) == TOTAL_A and Decimal(accounts["beta"]["total"]) == TOTAL_B
    assert Decimal(report["total"]) == TOTAL_A + TOTAL_B  # type: ignore[arg-type]
    for acc, held in ((accounts["alpha"], HOLD_A), (accounts["beta"], HOLD_B)):
        assert {h["asset"]: Decimal(h["amount"]) for h in acc["holdings"]} == {
            k: Decimal(v) for k, v in held.items()
        }
        assert sum(Decimal(h["value"]) for h in acc["holdings"]) == Decimal(acc["total"])
    eth_b = next(h for h in accounts["beta"]["holdings"] if h["asset"] == "ETH")
    assert Decimal(eth_b["price"]) == Decimal(2050)  # 0.05 BTC at B's 41000, not A's ETH price
    shares = {row["asset"]: Decimal(row["share"]) for row in report["allocation"]}  # type: ignore[attr-defined]
    assert shares["BTC"] == Decimal("52.08")  # (60000 + 10250) / 134900 = 52.076
    assert abs(sum(shares.values()) - 100) <= Decimal("0.05")


def test_csv_rows_add_up_to_the_total_row(markets: tuple[Exchange, Exchange], tmp_path: Path) -> None:
    a, b = markets
    env = make_vault(tmp_path / "v.json", a.credentials("read"), b.credentials("read"))
    result = run(env, "portfolio", "--csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    total = next(r for r in rows if r["account"] == "TOTAL")
    assert (
        sum(Decimal(r["value"]) for r in rows if r["status"] == "ok")
        == Decimal(total["value"])
        == TOTAL_A + TOTAL_B
    )


def test_the_table_shows_totals_and_allocation(markets: tuple[Exchange, Exchange], tmp_path: Path) -> None:
    a, b = markets
    env = make_vault(tmp_path / "v.json", a.credentials("read"), b.credentials("read"))
    result = run(env, "portfolio")
    assert result.returncode == 0, result.stderr
    assert (
        "134,900.00" in result.stdout
        and "110,000.00" in result.stdout
        and "Allocation by asset" in result.stdout
    )


def test_an_account_that_fails_is_shown_failed_not_hidden(
    markets: tuple[Exchange, Exchange], tmp_path: Path
) -> None:
    a, _ = markets
    dead = Credentials(
        name="gone", exchange="keyplane", url=f"http://127.0.0.1:{free_port()}", api_key="k", secret="s"
    )
    env = make_vault(tmp_path / "v.json", a.credentials("read"), dead)
    code, report, stderr = portfolio_json(env)
    assert code == 1
    accounts = {acc["account"]: acc for acc in report["accounts"]}  # type: ignore[attr-defined]
    assert accounts["gone"]["ok"] is False and accounts["gone"]["error"]
    assert Decimal(accounts["alpha"]["total"]) == TOTAL_A == Decimal(report["total"])  # type: ignore[arg-type]
    assert "gone: failed" in stderr and "Traceback" not in stderr
    human = run(env, "portfolio")
    assert "FAILED" in human.stdout and "alpha" in human.stdout


def test_a_key_that_can_trade_is_refused_and_the_override_warns(
    markets: tuple[Exchange, Exchange], tmp_path: Path
) -> None:
    a, b = markets
    env = make_vault(tmp_path / "v.json", a.credentials("read"), b.credentials("read,trade"))
    code, report, stderr = portfolio_json(env)
    accounts = {acc["account"]: acc for acc in report["accounts"]}  # type: ignore[attr-defined]
    assert code == 1 and accounts["beta"]["refused"] is True and accounts["beta"]["holdings"] == []
    assert "--permissions read" in accounts["beta"]["error"]
    assert Decimal(report["total"]) == TOTAL_A  # type: ignore[arg-type]
    code, report, stderr = portfolio_json(env, "--allow-over-privileged")
    assert code == 0 and Decimal(report["total"]) == TOTAL_A + TOTAL_B  # type: ignore[arg-type]
    assert "WARNING" in stderr and "trade" in stderr


def test_a_key_that_can_withdraw_is_refused(markets: tuple[Exchange, Exchange], tmp_path: Path) -> None:
    a, _ = markets
    env = make_vault(tmp_path / "v.json", a.credentials("read,withdraw"))
    code, report, _ = portfolio_json(env)
    assert (
        code == 1
        and report["accounts"][0]["refused"] is True
        and "withdraw" in report["accounts"][0]["error"]
    )  # type: ignore[index]


def test_the_html_report_draws_both_charts_locally(
    markets: tuple[Exchange, Exchange], tmp_path: Path
) -> None:
    a, b = markets
    env = make_vault(tmp_path / "v.json", a.credentials("read"), b.credentials("read"))
    page = tmp_path / "report.html"
    result = run(env, "portfolio", "--html", str(page), "--days", "7")
    assert result.returncode == 0, result.stderr
    html = page.read_text()
    assert (
        html.count("<svg") == 2
        and 'aria-label="allocation"' in html
        and 'aria-label="value over time"' in html
    )
    assert "<script" not in html and "https://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "no daily candles yet" not in html  # today's candle from the fixture's trades is drawn
    assert "134,900.00" in html and "alpha" in html and "beta" in html


def test_no_output_contains_a_secret_or_key(markets: tuple[Exchange, Exchange], tmp_path: Path) -> None:
    a, b = markets
    creds = [a.credentials("read"), b.credentials("read,trade")]
    env = make_vault(tmp_path / "v.json", *creds)
    page = tmp_path / "r.html"
    outputs = [run(env, "portfolio", *args) for args in ((), ("--json",), ("--csv",), ("--html", str(page)))]
    text = "".join(r.stdout + r.stderr for r in outputs) + page.read_text()
    for c in creds:
        assert c.secret is not None and c.secret not in text and c.api_key not in text
