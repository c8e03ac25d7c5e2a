"""No secret in plaintext: not in the database file or dump, not in logs, errors or CLI output."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.http.conftest import issue_key
from tests.support.clients import ccxt_binance
from tests.support.databases import backend
from tests.support.server import Instance


def database_bytes(server: Instance, tmp_path: Path) -> bytes:
    url = server.env["KEYPLANE_DATABASE_URL"]
    if backend() == "postgresql":
        dump = tmp_path / "dump.sql"
        pg_dump = shutil.which("pg_dump") or "/usr/bin/pg_dump"
        subprocess.run([pg_dump, "--dbname", url, "--file", str(dump), "--no-owner"], check=True, timeout=60)
        return dump.read_bytes()
    path = Path(url.removeprefix("sqlite:///"))
    # The WAL may hold pages not yet checkpointed: read every file of the database.
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_no_secret_in_plaintext_in_the_database_logs_or_errors(server: Instance, tmp_path: Path) -> None:
    key = issue_key(server, "--permissions", "read,trade")
    rotated = json.loads(server.cli("keys", "rotate", key["key"], "--grace", "60", "--json").stdout)
    secrets = [key["secret"], rotated["secret"]]
    client = ccxt_binance(server.url, key["key"], rotated["secret"])
    client.sapi_get_account_apirestrictions()
    with pytest.raises(Exception):  # noqa: B017 - any refusal; we look at what it printed
        ccxt_binance(server.url, key["key"], "kps_" + "x" * 46).sapi_get_account_apirestrictions()
    # A pasted secret in the key header is refused without being echoed or logged.
    pasted = ccxt_binance(server.url, rotated["secret"], rotated["secret"])
    with pytest.raises(Exception) as refused:
        pasted.sapi_get_account_apirestrictions()
    assert rotated["secret"] not in str(refused.value)
    server.cli("review")
    listing = server.cli("keys", "list", "--json").stdout + server.cli("keys", "show", key["key"]).stdout
    server.stop()  # flush audit and last-used batches, close the log
    stored = database_bytes(server, tmp_path)
    logs = b"".join(p.read_bytes() for p in tmp_path.glob("*.log"))
    for secret in secrets:
        assert secret.encode() not in stored, "a secret is stored in plaintext"
        assert secret.encode() not in logs, "a secret reached the server log"
        assert secret not in listing, "a secret was shown again after creation"
    assert key["key"].encode() in stored  # the dump really holds the key table
