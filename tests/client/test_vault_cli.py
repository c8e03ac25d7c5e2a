"""``keyplane vault add|list|remove|check`` as a user runs it: secrets never reach the output."""

from __future__ import annotations

import json
from pathlib import Path

from tests.client.cli import run, vault_env
from tests.client.conftest import Exchange


def add(env: dict[str, str], name: str, exchange: Exchange, permissions: str) -> None:
    key = exchange.key(permissions)
    added = run(
        env,
        "vault",
        "add",
        name,
        "--url",
        exchange.url,
        "--api-key",
        key["key"],
        "--secret-stdin",
        stdin=key["secret"] + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert key["secret"] not in added.stdout + added.stderr


def test_add_list_check_remove_without_printing_a_secret(
    exchange_a: Exchange, exchange_b: Exchange, tmp_path: Path
) -> None:
    env = vault_env(tmp_path / "v.json")
    add(env, "a-reader", exchange_a, "read")
    add(env, "b-trader", exchange_b, "read,trade")
    secrets = [exchange_a.key("read")["secret"], exchange_b.key("read,trade")["secret"]]

    listed = run(env, "vault", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)["accounts"]
    assert [(r["name"], r["exchange"], r["kind"]) for r in rows] == [
        ("a-reader", "keyplane", "hmac"),
        ("b-trader", "keyplane", "hmac"),
    ]
    table = run(env, "vault", "list")
    checked = run(env, "vault", "check", "--json")
    assert checked.returncode == 0, checked.stderr
    report = {r["account"]: r for r in json.loads(checked.stdout)}
    assert report["a-reader"]["rights"] == ["read"] and report["a-reader"]["apps"]["portfolio"] == "ok"
    assert report["b-trader"]["apps"] == {
        "portfolio": "refused: can trade",
        "history export": "refused: can trade",
        "bot": "ok",
    }
    human = run(env, "vault", "check")
    assert "refused: can trade" in human.stdout
    for output in (listed, table, checked, human):
        for secret in secrets:
            assert secret not in output.stdout + output.stderr
    for key in (exchange_a.key("read")["key"], exchange_b.key("read,trade")["key"]):
        assert key not in listed.stdout + table.stdout

    assert run(env, "vault", "remove", "a-reader").returncode == 0
    assert [r["name"] for r in json.loads(run(env, "vault", "list", "--json").stdout)["accounts"]] == [
        "b-trader"
    ]


def test_a_wrong_passphrase_is_one_clear_line_and_changes_nothing(
    exchange_a: Exchange, tmp_path: Path
) -> None:
    path = tmp_path / "v.json"
    add(vault_env(path), "a", exchange_a, "read")
    before = path.read_bytes()
    wrong = vault_env(path, passphrase="wrong passphrase")
    for args in (
        ("vault", "list"),
        ("vault", "remove", "a"),
        ("vault", "add", "b", "--url", exchange_a.url, "--api-key", "x", "--secret-stdin"),
    ):
        result = run(wrong, *args, stdin="kps_whatever\n")
        assert result.returncode == 2
        assert "wrong passphrase" in result.stderr and "Traceback" not in result.stderr
        assert "[vault.passphrase]" in result.stderr  # the error code is printed, not eaten as markup
    assert path.read_bytes() == before


def test_check_shows_a_failing_account_as_failed(exchange_a: Exchange, tmp_path: Path) -> None:
    env = vault_env(tmp_path / "v.json")
    add(env, "good", exchange_a, "read")
    bad = run(
        env,
        "vault",
        "add",
        "bad",
        "--url",
        exchange_a.url,
        "--api-key",
        exchange_a.key("read")["key"],
        "--secret-stdin",
        stdin="kps_" + "x" * 40 + "\n",
    )
    assert bad.returncode == 0
    checked = run(env, "vault", "check", "--json")
    assert checked.returncode == 1
    report = {r["account"]: r for r in json.loads(checked.stdout)}
    assert report["good"]["ok"] and not report["bad"]["ok"] and "-1022" in report["bad"]["error"]
    assert "kps_" + "x" * 40 not in checked.stdout + checked.stderr


def test_an_rsa_private_key_file_is_added_and_signs(exchange_a: Exchange, tmp_path: Path) -> None:
    from tests.http.conftest import issue_key
    from tests.support.signing import private_pem, rsa_pair

    private, public = rsa_pair()
    key = issue_key(exchange_a.server, "--permissions", "read", public_key=public, tmp=tmp_path)
    pem_file = tmp_path / "rsa.pem"
    pem_file.write_text(private_pem(private))
    env = vault_env(tmp_path / "v.json")
    added = run(
        env,
        "vault",
        "add",
        "rsa",
        "--url",
        exchange_a.url,
        "--api-key",
        key["key"],
        "--private-key",
        str(pem_file),
    )
    assert added.returncode == 0, added.stderr
    checked = run(env, "vault", "check", "rsa", "--json")
    assert checked.returncode == 0 and json.loads(checked.stdout)[0]["rights"] == ["read"]
    listed = run(env, "vault", "list", "--json")
    assert json.loads(listed.stdout)["accounts"][0]["kind"] == "rsa" and "PRIVATE" not in listed.stdout


def test_an_empty_secret_and_a_missing_passphrase_are_clear_errors(tmp_path: Path) -> None:
    env = vault_env(tmp_path / "v.json")
    empty = run(
        env,
        "vault",
        "add",
        "x",
        "--url",
        "http://127.0.0.1:9",
        "--api-key",
        "k",
        "--secret-stdin",
        stdin="\n",
    )
    assert empty.returncode == 2 and "secret is empty" in empty.stderr
    no_pass = run(vault_env(tmp_path / "v.json", passphrase=None), "vault", "list")
    assert no_pass.returncode == 2 and "KEYPLANE_VAULT_PASSPHRASE" in no_pass.stderr
    assert "Traceback" not in empty.stderr + no_pass.stderr
