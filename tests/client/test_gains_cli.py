"""``keyplane gains`` on a real exchange's history: FIFO against HIFO, fees in basis against separate."""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.client.apps_fixtures import Venue
from tests.client.test_history_export import make_vault, run

# Exchange A: alice bought 0.001 BTC at 60,000, 60,010 and 60,020 USDT (fee 0.1 % in BTC, so each lot
# holds 0.000999 BTC), then sold 0.001 BTC at 59,000 and 58,990 (fee 0.1 % in USDT).
PROCEEDS = D(59) + D("58.99") - D("0.059") - D("0.05899")
FIFO = PROCEEDS - (D(60) + D("60.01") + D("60.02") * 2 / 999)  # oldest lots, then 2 units of 1e-6 of the last
HIFO = PROCEEDS - (D("60.02") + D("60.01") + D(60) * 2 / 999)  # dearest lots first


def gains_rows(stdout: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(stdout)))


@pytest.fixture
def export_a(history_venues: tuple[Venue, Venue], tmp_path: Path) -> tuple[Path, Path]:
    vault = make_vault(tmp_path, history_venues[:1])
    out = tmp_path / "a.csv"
    done = run(vault, "history", "export", "--format", "csv", "--output", str(out))
    assert done.returncode == 0, done.stderr
    return vault, out


def total(rows: list[dict[str, str]], types: tuple[str, ...] = ("sale", "fee")) -> D:
    return sum((D(r["gain"]) for r in rows if r["type"] in types), D(0))


def test_fifo_and_hifo_on_the_same_sales_match_the_hand_computed_gains(export_a: tuple[Path, Path]) -> None:
    vault, history = export_a
    fifo = run(vault, "gains", "--input", str(history), "--method", "fifo", "--csv", "-")
    hifo = run(vault, "gains", "--input", str(history), "--method", "hifo", "--csv", "-")
    assert fifo.returncode == 0 and hifo.returncode == 0, fifo.stderr + hifo.stderr
    fifo_rows, hifo_rows = gains_rows(fifo.stdout), gains_rows(hifo.stdout)
    assert [r["type"] for r in fifo_rows if r["type"] == "sale"] == ["sale", "sale"]
    assert abs(total(fifo_rows) - FIFO) < D("1e-18")
    assert abs(total(hifo_rows) - HIFO) < D("1e-18")
    assert total(fifo_rows) > total(hifo_rows)
    assert {r["currency"] for r in fifo_rows} == {"USDT"} and {r["method"] for r in hifo_rows} == {"hifo"}
    assert "Realized gains in USDT (FIFO" in fifo.stderr  # the summary table goes to stderr with --csv -


def test_fees_separate_books_every_trade_fee_as_an_expense(export_a: tuple[Path, Path]) -> None:
    vault, history = export_a
    inside = gains_rows(run(vault, "gains", "--input", str(history), "--csv", "-").stdout)
    apart = gains_rows(run(vault, "gains", "--input", str(history), "--fees-separate", "--csv", "-").stdout)
    assert [D(r["cost_basis"]) for r in inside if r["type"] == "expense"] == [D(1), D(1)]  # withdrawal fees
    expenses = [r for r in apart if r["type"] == "expense"]
    assert len(expenses) == 2 + 6  # two withdrawal fees and one fee per trade
    # Selling for USDT: in basis the fee lowers the proceeds; separate, the proceeds are the full price.
    assert sorted(D(r["proceeds"]) for r in inside if r["type"] == "sale") == [D("58.93101"), D("58.941")]
    assert sorted(D(r["proceeds"]) for r in apart if r["type"] == "sale") == [D("58.99"), D(59)]


def test_live_gains_match_the_gains_of_the_export(
    history_venues: tuple[Venue, Venue], tmp_path: Path
) -> None:
    vault = make_vault(tmp_path, history_venues[:1])
    live = run(vault, "gains", "--method", "hifo", "--csv", "-")
    assert live.returncode == 0, live.stderr
    assert abs(total(gains_rows(live.stdout)) - HIFO) < D("1e-18")


def test_gains_refuses_a_key_that_can_trade(history_venues: tuple[Venue, Venue], tmp_path: Path) -> None:
    vault = make_vault(tmp_path, history_venues[:1], permissions="read,trade")
    refused = run(vault, "gains")
    assert refused.returncode != 0 and "refuses account 'hist-a'" in refused.stderr
    assert refused.stdout == "" and "Traceback" not in refused.stderr


def test_a_file_that_is_not_an_export_is_refused_clearly(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.csv"
    bogus.write_text("Date,Amount\n2025-01-01,1\n")
    done = run(tmp_path / "no-vault.json", "gains", "--input", str(bogus))
    assert done.returncode != 0 and "not a `keyplane history export --format csv` file" in done.stderr
    assert "Traceback" not in done.stderr
    bad_method = run(tmp_path / "no-vault.json", "gains", "--method", "lilo")
    assert bad_method.returncode != 0 and "--method must be one of" in bad_method.stderr
