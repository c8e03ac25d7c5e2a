"""``keyplane keygen ed25519``: the private key stays in the vault, the public key goes to the server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keyplane.client.errors import UnknownAccount
from keyplane.client.sdk import Keyplane
from keyplane.client.vault import open_vault
from tests.client.cli import run, vault_env
from tests.client.conftest import PASSPHRASE, Exchange


def test_a_generated_key_signs_for_the_server_after_its_public_key_is_registered(
    exchange_a: Exchange, tmp_path: Path
) -> None:
    path = tmp_path / "v.json"
    env = vault_env(path)
    made = run(
        env,
        "keygen",
        "ed25519",
        "laptop",
        "--url",
        exchange_a.url,
        "--public-key-out",
        str(tmp_path / "pub.pem"),
    )
    assert made.returncode == 0, made.stderr
    public = (tmp_path / "pub.pem").read_text()
    assert public.startswith("-----BEGIN PUBLIC KEY-----") and public in made.stdout
    assert "PRIVATE" not in made.stdout + made.stderr

    vault = open_vault(path, PASSPHRASE)
    assert vault.names() == [] and [a.pending for a in vault.accounts(include_pending=True)] == [True]
    with pytest.raises(UnknownAccount, match="vault add laptop --api-key"):
        vault.credentials("laptop")
    assert "PRIVATE" not in run(env, "vault", "list", "--json").stdout

    issued = exchange_a.server.cli(
        "keys",
        "create",
        "--user",
        "alice",
        "--json",
        "--permissions",
        "read",
        "--public-key",
        str(tmp_path / "pub.pem"),
    )
    key_id = json.loads(issued.stdout)["key"]
    completed = run(env, "vault", "add", "laptop", "--api-key", key_id)
    assert completed.returncode == 0, completed.stderr

    creds = open_vault(path, PASSPHRASE).credentials("laptop")
    assert (creds.kind, creds.url, creds.api_key) == ("ed25519", exchange_a.url, key_id)
    with Keyplane.from_credentials(creds) as client:
        assert client.api_restrictions()["keyplane"]["kind"] == "ed25519"
    checked = run(env, "vault", "check", "laptop", "--json")
    assert checked.returncode == 0 and json.loads(checked.stdout)[0]["apps"]["portfolio"] == "ok"


def test_keygen_refuses_a_name_that_is_taken(tmp_path: Path) -> None:
    env = vault_env(tmp_path / "v.json")
    assert run(env, "keygen", "ed25519", "k", "--url", "http://127.0.0.1:9").returncode == 0
    again = run(env, "keygen", "ed25519", "k", "--url", "http://127.0.0.1:9")
    assert again.returncode == 2 and "exists" in again.stderr and "Traceback" not in again.stderr
