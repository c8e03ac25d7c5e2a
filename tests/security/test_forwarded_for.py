"""Issue #7 item 6: every ``X-Forwarded-For`` line counts, not only the first.

Behind a proxy that adds its own ``X-Forwarded-For`` line (instead of appending to the client's),
the request reaches Keyplane with two lines: the first written by the client, the second by the
proxy. Reading only the first let the client choose its IP and pass a key's IP allowlist.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.http.conftest import issue_key
from tests.support.databases import fresh_database
from tests.support.server import Instance, free_port, server_env
from tests.support.signing import hmac_hex

ALLOWED = "203.0.113.7"
OTHER = "198.51.100.9"


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[Instance]:
    """A server that believes ``X-Forwarded-For`` from 127.0.0.1, the proxy the test plays."""
    with fresh_database(tmp_path) as url:
        env = server_env(tmp_path / "data", url, None, KEYPLANE_TRUSTED_PROXIES="127.0.0.1/32")
        instance = Instance(env, free_port())
        instance.cli("users", "create", "alice")
        instance.start(tmp_path / "server.log")
        try:
            yield instance
        finally:
            instance.stop()


def account(server: Instance, key: dict[str, str], forwarded: list[str]) -> httpx.Response:
    query = urlencode({"timestamp": time.time_ns() // 1_000_000})
    query += "&signature=" + hmac_hex(key["secret"], query)
    headers = [("X-MBX-APIKEY", key["key"]), *(("X-Forwarded-For", line) for line in forwarded)]
    return httpx.get(f"{server.url}/api/v3/account?{query}", headers=headers, timeout=10)


def test_a_client_written_first_line_does_not_pass_the_ip_allowlist(proxied: Instance) -> None:
    key = issue_key(proxied, "--ip", ALLOWED)
    refused = account(proxied, key, [ALLOWED, OTHER])
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == -2015
    assert OTHER in refused.json()["msg"]


def test_the_lines_are_read_as_one_list_in_order(proxied: Instance) -> None:
    key = issue_key(proxied, "--ip", ALLOWED)
    assert account(proxied, key, [OTHER, ALLOWED]).status_code == 200
    assert account(proxied, key, [f"{OTHER}, {ALLOWED}"]).status_code == 200
    assert account(proxied, key, [ALLOWED]).status_code == 200


def test_a_trusted_proxy_line_is_skipped_to_the_client_before_it(proxied: Instance) -> None:
    key = issue_key(proxied, "--ip", ALLOWED)
    assert account(proxied, key, [ALLOWED, "127.0.0.1"]).status_code == 200
    assert account(proxied, key, [OTHER, "127.0.0.1"]).status_code == 401
