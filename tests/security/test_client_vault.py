"""Attacks on the client side: a stolen or edited vault file, hostile exchange answers, leaks.

A thief with the vault file must learn nothing without the passphrase; an attacker who can write
the file must not be able to make the owner use credentials of the attacker's choosing or make the
vault burn memory; an exchange must not be able to inject formulas or markup into our reports.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from keyplane.client.errors import VaultCorrupt, WrongPassphrase
from keyplane.client.portfolio.model import AccountResult, Holding, Portfolio
from keyplane.client.portfolio.render import to_csv
from keyplane.client.redaction import redact_text
from keyplane.client.sealing import MAX_MEMORY_KIB, KdfParams
from keyplane.client.vault import Credentials, create_vault, open_vault

PASS = "correct horse battery staple"
SECRET = "kps_" + "Z" * 48


def make(path: Path, name: str = "main", secret: str = SECRET) -> None:
    vault = create_vault(path, PASS, backend="file")
    vault.add(Credentials(name=name, exchange="keyplane", url="http://h:1", api_key="kpk_1", secret=secret))


def test_a_stolen_file_shows_nothing_but_the_kdf_parameters(tmp_path: Path) -> None:
    make(tmp_path / "v.json")
    envelope = json.loads((tmp_path / "v.json").read_text())
    assert set(envelope) == {"format", "kdf", "nonce", "ciphertext"}
    assert envelope["kdf"]["name"] == "argon2id" and envelope["kdf"]["memory_kib"] >= 64 * 1024
    assert b"Z" * 8 not in base64.b64decode(envelope["ciphertext"])


def test_a_flipped_ciphertext_bit_is_refused(tmp_path: Path) -> None:
    make(tmp_path / "v.json")
    envelope = json.loads((tmp_path / "v.json").read_text())
    raw = bytearray(base64.b64decode(envelope["ciphertext"]))
    raw[5] ^= 1
    envelope["ciphertext"] = base64.b64encode(bytes(raw)).decode()
    (tmp_path / "v.json").write_text(json.dumps(envelope))
    with pytest.raises(WrongPassphrase):
        open_vault(tmp_path / "v.json", PASS)


def test_a_body_swapped_in_from_another_vault_is_refused(tmp_path: Path) -> None:
    """The attacker's own vault, made with the same passphrase guess, cannot be spliced in."""
    make(tmp_path / "victim.json")
    make(tmp_path / "attacker.json", secret="kps_attacker_controlled_secret_0000")
    victim = json.loads((tmp_path / "victim.json").read_text())
    attacker = json.loads((tmp_path / "attacker.json").read_text())
    victim["nonce"], victim["ciphertext"] = attacker["nonce"], attacker["ciphertext"]
    (tmp_path / "victim.json").write_text(json.dumps(victim))
    with pytest.raises(WrongPassphrase):
        open_vault(tmp_path / "victim.json", PASS)


def test_a_lowered_kdf_cost_is_refused(tmp_path: Path) -> None:
    """Lowering the cost in the header (to speed up a later guess) breaks the tag."""
    make(tmp_path / "v.json")
    envelope = json.loads((tmp_path / "v.json").read_text())
    envelope["kdf"]["memory_kib"] = 8
    (tmp_path / "v.json").write_text(json.dumps(envelope))
    with pytest.raises(WrongPassphrase):
        open_vault(tmp_path / "v.json", PASS)


@pytest.mark.parametrize(
    "field, value", [("memory_kib", MAX_MEMORY_KIB + 1), ("time_cost", 10_000), ("parallelism", 0)]
)
def test_a_crafted_header_cannot_make_the_owner_burn_memory_or_time(
    tmp_path: Path, field: str, value: int
) -> None:
    header = KdfParams.fresh().as_header() | {field: value}
    (tmp_path / "v.json").write_text(
        json.dumps({"format": "keyplane-vault/1", "kdf": header, "nonce": "AA==", "ciphertext": "AA=="})
    )
    with pytest.raises(VaultCorrupt):
        open_vault(tmp_path / "v.json", PASS)


def test_ccxt_style_errors_are_redacted_before_anyone_sees_them() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----"
    text = (
        f"binance GET http://u:pw@h/api/v3/account?timestamp=1&signature=abc123def {SECRET} {pem} "
        "and my-raw-secret-value"
    )
    clean = redact_text(text, ["my-raw-secret-value"])
    for leaked in ("abc123def", SECRET, "MC4CAQAw", "u:pw", "my-raw-secret-value"):
        assert leaked not in clean


def test_hostile_asset_and_error_text_cannot_become_spreadsheet_formulas() -> None:
    folio = Portfolio(
        quote="USDT",
        accounts=(
            AccountResult(
                name="a",
                exchange="keyplane",
                holdings=(
                    Holding(asset='=HYPERLINK("http://evil","x")', amount=Decimal(1), price=None, value=None),
                ),
            ),
            AccountResult(name="b", exchange="keyplane", error="@SUM(A1:A9)"),
        ),
        taken_at=0,
    )
    rows = list(csv.reader(io.StringIO(to_csv(folio))))
    cells = [c for row in rows for c in row]
    assert not any(c.startswith(("=", "@", "+")) for c in cells)
    assert '\'=HYPERLINK("http://evil","x")' in cells and "'@SUM(A1:A9)" in cells


@pytest.mark.parametrize("claimed", ["true", "yes", 1, {"on": True}])
def test_an_odd_withdrawal_flag_counts_as_granted(claimed: object) -> None:
    """A proxy or exchange that answers ``"true"`` instead of ``true`` must not slip past the check."""
    from keyplane.client.privileges import TRACKER, Right, excess, parse_restrictions

    rights = parse_restrictions({"enableReading": True, "enableWithdrawals": claimed})
    assert Right.WITHDRAW in excess(rights, TRACKER)


def test_keyplanes_exact_permissions_win_over_missing_binance_flags() -> None:
    from keyplane.client.privileges import BOT, Right, excess, parse_restrictions

    rights = parse_restrictions(
        {"enableReading": True, "keyplane": {"permissions": ["read", "trade", "withdraw"]}}
    )
    assert excess(rights, BOT) == {Right.WITHDRAW}
