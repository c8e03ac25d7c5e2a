"""The operator's CLI: clear messages and non-zero exits on bad input; master-key rotation."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.clients import python_binance
from tests.support.server import Instance, free_port, server_env


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Iterator[Instance]:
    instance = Instance(server_env(tmp_path / "data", database_url, None), free_port())
    instance.cli("users", "create", "alice")
    yield instance
    instance.stop()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "create", "alice"], "already exists"),
        (["keys", "create", "--user", "nobody"], "no user named 'nobody'"),
        (["keys", "create", "--user", "alice", "--permissions", "read,fly"], "unknown permission 'fly'"),
        (["keys", "create", "--user", "alice", "--permissions", "withdraw"], "needs an IP allowlist"),
        (["keys", "create", "--user", "alice", "--ip", "10.0.0.300"], "not an IP address"),
        (["keys", "create", "--user", "alice", "--expires", "yesterday"], "not a date"),
        (["keys", "create", "--user", "alice", "--expires", "2001-01-01"], "in the future"),
        (["keys", "create", "--user", "alice", "--public-key", "/nonexistent.pem"], "No such file"),
        (["keys", "show", "kpk_nothing"], "no API key"),
        (["keys", "rotate", "kpk_nothing"], "no API key"),
        (["funds", "credit", "--user", "alice", "--asset", "USDT", "--amount", "lots"], "not a decimal"),
    ],
)
def test_bad_input_gives_a_clear_message_and_a_nonzero_exit(
    cli: Instance, args: list[str], message: str
) -> None:
    result = cli.cli(*args, check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_key_life_cycle_from_the_cli(cli: Instance) -> None:
    created = json.loads(
        cli.cli(
            "keys",
            "create",
            "--user",
            "alice",
            "--label",
            "bot",
            "--ip",
            "10.0.0.0/8",
            "--symbols",
            "BTCUSDT,ethusdt",
            "--permissions",
            "read,trade",
            "--json",
        ).stdout
    )
    assert created["kind"] == "hmac" and created["secret"].startswith("kps_")
    assert created["permissions"] == ["read", "trade"] and created["symbols"] == ["BTCUSDT", "ETHUSDT"]
    key = created["key"]
    edited = json.loads(cli.cli("keys", "edit", key, "--clear-ips", "--permissions", "read", "--json").stdout)
    assert edited["ip_allowlist"] == [] and edited["permissions"] == ["read"]
    assert json.loads(cli.cli("keys", "disable", key, "--json").stdout)["status"] == "disabled"
    assert json.loads(cli.cli("keys", "enable", key, "--json").stdout)["status"] == "active"
    rotated = json.loads(cli.cli("keys", "rotate", key, "--json").stdout)
    assert rotated["secret"] != created["secret"]
    assert json.loads(cli.cli("keys", "revoke", key, "--json").stdout)["status"] == "revoked"
    listed = json.loads(cli.cli("keys", "list", "--user", "alice", "--json").stdout)
    assert [k["key"] for k in listed] == [key] and "secret" not in listed[0]


def test_review_json_lists_findings_and_apply_enforces(cli: Instance) -> None:
    key = json.loads(cli.cli("keys", "create", "--user", "alice", "--json").stdout)["key"]
    report = json.loads(cli.cli("review", "--json").stdout)
    assert {"key_id": key, "issue": "no_ip_allowlist"}.items() <= report["findings"][0].items()
    assert json.loads(cli.cli("review", "--apply", "--json").stdout)["applied"] == []


def test_master_key_rotation_reseals_every_secret_and_keys_still_verify(
    cli: Instance, tmp_path: Path
) -> None:
    created = json.loads(cli.cli("keys", "create", "--user", "alice", "--json").stdout)
    key_file = Path(cli.env["KEYPLANE_DATA_DIR"]) / "master.key"
    before = key_file.read_text()
    out = cli.cli("master-key", "rotate").stdout
    assert "1 secrets re-sealed" in out
    assert key_file.read_text() != before and (key_file.stat().st_mode & 0o777) == 0o600
    cli.start(tmp_path / "server.log")
    permissions = python_binance(cli.url, created["key"], created["secret"]).get_account_api_permissions()
    assert permissions["keyplane"]["keyId"] == created["key"]


def test_help_lists_every_command() -> None:
    result = subprocess.run([".venv/bin/keyplane", "--help"], capture_output=True, text=True, check=True)
    for command in ("serve", "users", "keys", "review", "master-key", "funds"):
        assert command in result.stdout
