"""``keyplane history export`` against two real Keyplane servers acting as two exchanges."""

from __future__ import annotations

import csv
import io
import os
import subprocess
from pathlib import Path

from keyplane.client.history.formats import COINTRACKING, KOINLY, OURS
from keyplane.client.vault import create_vault
from tests.client.apps_fixtures import CLIENT, Venue
from tests.support import launch

PASSPHRASE = "history passphrase of a test"


def run(vault: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYPLANE_")}
    env.update(KEYPLANE_VAULT=str(vault), KEYPLANE_VAULT_PASSPHRASE=PASSPHRASE, KEYPLANE_VAULT_BACKEND="file")
    env["COLUMNS"] = "200"
    return launch.run([*CLIENT, *args], env=env, timeout=300)


def make_vault(tmp_path: Path, venues: tuple[Venue, Venue], permissions: str = "read") -> Path:
    path = tmp_path / "vault.json"
    vault = create_vault(path, PASSPHRASE, backend="file")
    for venue in venues:
        vault.add(venue.credentials(permissions))
    return path


def test_export_round_trips_every_trade_deposit_and_withdrawal_exactly_once_across_pages(
    history_venues: tuple[Venue, Venue], tmp_path: Path
) -> None:
    vault = make_vault(tmp_path, history_venues)
    out = tmp_path / "history.csv"
    done = run(vault, "history", "export", "--format", "csv", "--page-size", "2", "--output", str(out))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out.open(newline="")))
    for venue in history_venues:
        mine = [r for r in rows if r["account"] == venue.name]
        for kind, truth in venue.truth.items():
            refs = [r["ref"] for r in mine if r["kind"] == kind]
            assert sorted(refs) == sorted(truth), kind  # each exactly once, none missing, none extra
            assert len(refs) == len(set(refs))
    a, b = history_venues
    assert (len(a.truth["trade"]), len(a.truth["deposit"]), len(a.truth["withdrawal"])) == (6, 2, 2)
    assert (len(b.truth["trade"]), len(b.truth["deposit"]), len(b.truth["withdrawal"])) == (4, 1, 1)
    assert "hist-a: 6 trades, 2 deposits, 2 withdrawals" in done.stderr


def test_export_amounts_are_exact_and_fees_are_their_own_columns(
    history_venues: tuple[Venue, Venue], tmp_path: Path
) -> None:
    a, _ = history_venues
    done = run(make_vault(tmp_path, (a,)), "history", "export", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    buys = [r for r in rows if r["kind"] == "trade" and r["symbol"] == "BTC/USDT" and r["side"] == "buy"]
    assert {r["received_amount"] for r in buys} == {"0.001"} and {r["received_asset"] for r in buys} == {
        "BTC"
    }
    assert sorted(r["sent_amount"] for r in buys) == ["60", "60.01", "60.02"]
    withdrawals = sorted((r for r in rows if r["kind"] == "withdrawal"), key=lambda r: r["sent_amount"])
    assert [(r["sent_amount"], r["sent_asset"], r["fee_amount"], r["fee_asset"]) for r in withdrawals] == [
        ("20", "USDT", "1", "USDT"),
        ("21", "USDT", "1", "USDT"),
    ]
    assert all(r["txid"].startswith("0x") for r in withdrawals)
    assert sorted(r["received_amount"] for r in rows if r["kind"] == "deposit") == ["5000", "700"]


def test_koinly_and_cointracking_layouts_have_the_exact_headers(
    history_venues: tuple[Venue, Venue], tmp_path: Path
) -> None:
    vault = make_vault(tmp_path, history_venues)
    koinly = run(vault, "history", "export", "--format", "koinly")
    assert koinly.returncode == 0, koinly.stderr
    lines = koinly.stdout.splitlines()
    assert lines[0] == ",".join(KOINLY)
    assert lines[0] == (
        "Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
        "Net Worth Amount,Net Worth Currency,Label,Description,TxHash"
    )
    assert len(lines) == 1 + sum(len(v) for venue in history_venues for v in venue.truth.values())
    ct = run(vault, "history", "export", "--format", "cointracking", "--since", "2020-01-01")
    assert ct.returncode == 0, ct.stderr
    header, *body = list(csv.reader(io.StringIO(ct.stdout)))
    assert header == COINTRACKING and header[:7] == ["Type", "Buy", "Cur.", "Sell", "Cur.", "Fee", "Cur."]
    assert {row[0] for row in body} == {"Trade", "Deposit", "Withdrawal"}
    assert all(len(row[10]) == 19 and row[10][2] == "." for row in body)  # dd.mm.yyyy hh:mm:ss
    assert OURS[0] == "time_ms"


def test_since_and_until_bound_the_export(history_venues: tuple[Venue, Venue], tmp_path: Path) -> None:
    vault = make_vault(tmp_path, history_venues)
    done = run(vault, "history", "export", "--until", "2020-01-01")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [",".join(OURS)]
    bad = run(vault, "history", "export", "--since", "yesterday")
    assert bad.returncode != 0 and "is not a date" in bad.stderr and "Traceback" not in bad.stderr


def test_export_refuses_a_key_that_can_trade_and_writes_nothing(
    history_venues: tuple[Venue, Venue], tmp_path: Path
) -> None:
    vault = make_vault(tmp_path, history_venues, permissions="read,trade")
    out = tmp_path / "never.csv"
    refused = run(vault, "history", "export", "--output", str(out))
    assert refused.returncode != 0 and not out.exists()
    assert "refuses account 'hist-a'" in refused.stderr and "trade" in refused.stderr
    assert "Traceback" not in refused.stderr
    key = history_venues[0].key("read,trade")
    assert key["secret"] not in refused.stderr + refused.stdout


def test_export_refuses_a_key_that_can_withdraw_unless_overridden_loudly(
    history_venues: tuple[Venue, Venue], tmp_path: Path
) -> None:
    vault = make_vault(tmp_path, history_venues[:1], permissions="read,trade,withdraw")
    refused = run(vault, "history", "export")
    assert refused.returncode != 0 and "withdraw" in refused.stderr and refused.stdout == ""
    forced = run(vault, "history", "export", "--allow-over-privileged")
    assert forced.returncode == 0, forced.stderr
    assert "WARNING" in forced.stderr and "withdraw" in forced.stderr
    assert len(forced.stdout.splitlines()) == 1 + 10


def test_headless_run_without_the_passphrase_fails_clearly_and_prints_nothing(
    history_venues: tuple[Venue, Venue], tmp_path: Path
) -> None:
    vault = make_vault(tmp_path, history_venues[:1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYPLANE_")}
    env.update(KEYPLANE_VAULT=str(vault), KEYPLANE_VAULT_BACKEND="file")
    done = launch.run([*CLIENT, "history", "export"], env=env)
    assert done.returncode != 0 and "KEYPLANE_VAULT_PASSPHRASE" in done.stderr and done.stdout == ""
    again = run(vault, "history", "export")  # with the passphrase it works: nothing was changed
    assert again.returncode == 0, again.stderr
