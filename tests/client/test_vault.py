"""The vault keeps credentials sealed; a wrong passphrase changes nothing; secrets never show."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from keyplane.client.errors import (
    AccountExists,
    InvalidCredentials,
    UnknownAccount,
    VaultCorrupt,
    VaultMissing,
    WrongPassphrase,
)
from keyplane.client.vault import Credentials, Vault, create_vault, open_vault
from tests.client.conftest import PASSPHRASE

SECRET = "kps_" + "s3cr3t" * 8
API_KEY = "kpk_visiblekeyid0123456789"


def hmac_credentials(name: str = "main") -> Credentials:
    return Credentials(
        name=name, exchange="keyplane", url="http://127.0.0.1:1", api_key=API_KEY, secret=SECRET
    )


def ed25519_pem() -> str:
    return (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )


def test_added_credentials_come_back_after_reopening(vault: Vault, vault_path: Path) -> None:
    vault.add(hmac_credentials())
    again = open_vault(vault_path, PASSPHRASE)
    creds = again.credentials("main")
    assert (creds.api_key, creds.secret, creds.url, creds.kind) == (
        API_KEY,
        SECRET,
        "http://127.0.0.1:1",
        "hmac",
    )
    assert [a.name for a in again.accounts()] == ["main"]


def test_the_file_holds_no_secret_key_id_or_account_name_in_plaintext(vault: Vault, vault_path: Path) -> None:
    pem = ed25519_pem()
    vault.add(hmac_credentials("hmac-acct"))
    vault.add(
        Credentials(name="ed-acct", exchange="keyplane", url="http://x:1", api_key="kpk_ed", private_key=pem)
    )
    raw = vault_path.read_bytes()
    for needle in (SECRET, API_KEY, "hmac-acct", "ed-acct", "PRIVATE KEY", pem.splitlines()[1][:20]):
        assert needle.encode() not in raw
    assert stat.S_IMODE(vault_path.stat().st_mode) == 0o600


def test_a_wrong_passphrase_fails_cleanly_and_changes_nothing(vault: Vault, vault_path: Path) -> None:
    vault.add(hmac_credentials())
    before = vault_path.read_bytes()
    with pytest.raises(WrongPassphrase) as refused:
        open_vault(vault_path, "not the passphrase")
    assert refused.value.code == "vault.passphrase" and SECRET not in str(refused.value)
    assert vault_path.read_bytes() == before
    assert sorted(p.name for p in vault_path.parent.iterdir()) == ["vault.json"]  # no stray temp file
    assert open_vault(vault_path, PASSPHRASE).credentials("main").secret == SECRET


def test_an_edited_header_is_refused_like_a_wrong_passphrase(vault: Vault, vault_path: Path) -> None:
    vault.add(hmac_credentials())
    envelope = json.loads(vault_path.read_text())
    envelope["kdf"]["time_cost"] = envelope["kdf"]["time_cost"] + 1
    vault_path.write_text(json.dumps(envelope))
    with pytest.raises(WrongPassphrase):
        open_vault(vault_path, PASSPHRASE)


@pytest.mark.parametrize(
    "body", ["not json", "[]", '{"format": "other"}', '{"format": "keyplane-vault/1", "kdf": {"name": "x"}}']
)
def test_a_damaged_file_is_a_clear_error(vault_path: Path, body: str) -> None:
    vault_path.parent.mkdir(parents=True)
    vault_path.write_text(body)
    with pytest.raises(VaultCorrupt):
        open_vault(vault_path, PASSPHRASE)


def test_absurd_kdf_costs_in_a_crafted_file_are_refused_before_deriving(
    vault: Vault, vault_path: Path
) -> None:
    envelope = json.loads(vault_path.read_text())
    envelope["kdf"]["memory_kib"] = 64 * 1024 * 1024  # 64 GiB
    vault_path.write_text(json.dumps(envelope))
    with pytest.raises(VaultCorrupt, match="out-of-range"):
        open_vault(vault_path, PASSPHRASE)


def test_a_missing_vault_says_how_to_make_one(vault_path: Path) -> None:
    with pytest.raises(VaultMissing, match="vault add"):
        open_vault(vault_path, PASSPHRASE)


def test_repr_and_str_never_show_key_material(vault: Vault) -> None:
    pem = ed25519_pem()
    creds = [
        hmac_credentials(),
        Credentials(name="e", exchange="keyplane", url="http://x:1", api_key="kpk_e", private_key=pem),
    ]
    for item in creds:
        for text in (repr(item), str(item), f"{item}", repr([item])):
            assert SECRET not in text and "PRIVATE" not in text and API_KEY not in text
    assert creds[1].kind == "ed25519"
    vault.add(creds[0])
    assert SECRET not in repr(vault) and SECRET not in repr(vault.accounts())


def test_logging_credentials_leaks_nothing(vault: Vault, caplog: pytest.LogCaptureFixture) -> None:
    vault.add(hmac_credentials())
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("using %s / %r", vault.credentials("main"), vault.accounts())
    assert SECRET not in caplog.text and API_KEY not in caplog.text and "main" in caplog.text


def test_names_are_unique_and_removal_is_final(vault: Vault, vault_path: Path) -> None:
    vault.add(hmac_credentials())
    with pytest.raises(AccountExists):
        vault.add(hmac_credentials())
    vault.remove("main")
    with pytest.raises(UnknownAccount):
        open_vault(vault_path, PASSPHRASE).credentials("main")


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "../etc"},
        {"exchange": "Not An Id"},
        {"url": None},
        {"url": "ftp://x"},
        {"api_key": ""},
        {"secret": None},
        {"private_key": "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"},
    ],
)
def test_bad_credentials_are_refused_and_nothing_is_written(
    vault: Vault, vault_path: Path, bad: dict[str, object]
) -> None:
    before = vault_path.read_bytes()
    fields: dict[str, object] = {
        "name": "ok",
        "exchange": "keyplane",
        "url": "http://h:1",
        "api_key": "k",
        "secret": "s",
    }
    fields.update(bad)
    if "private_key" in bad:
        fields["secret"] = None
    with pytest.raises(InvalidCredentials):
        vault.add(Credentials(**fields))  # type: ignore[arg-type]
    assert vault_path.read_bytes() == before


def test_creating_over_an_existing_vault_is_refused(vault: Vault, vault_path: Path) -> None:
    vault.add(hmac_credentials())
    with pytest.raises(Exception, match="already exists"):
        create_vault(vault_path, "another passphrase", backend="file")
    assert open_vault(vault_path, PASSPHRASE).names() == ["main"]
