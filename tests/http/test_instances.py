"""Several server processes on one database; client IP behind trusted proxies."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import ccxt
import httpx
import pytest
from binance.exceptions import BinanceAPIException

from tests.conftest import redis_available
from tests.http.conftest import issue_key
from tests.support.clients import ccxt_binance, python_binance
from tests.support.databases import backend
from tests.support.server import Instance, free_port
from tests.support.signing import hmac_hex


@pytest.fixture
def second(server: Instance, tmp_path: Path) -> Iterator[Instance]:
    """Another process on the same database, data directory (master key) and Redis."""
    other = Instance(dict(server.env), free_port())
    other.start(tmp_path / "second.log")
    yield other
    other.stop()


def test_revoke_is_seen_by_a_second_server_process_within_one_second(
    server: Instance, second: Instance
) -> None:
    if backend() == "postgresql":
        assert "KEYPLANE_REDIS_URL" in server.env or not redis_available()
    key = issue_key(server)
    clients = [python_binance(s.url, key["key"], key["secret"]) for s in (server, second)]
    for client in clients:
        client.get_account_api_permissions()  # both instances have the key cached now
    server.cli("keys", "revoke", key["key"])
    revoked_at = time.monotonic()
    pending = set(range(len(clients)))
    while pending:
        for index in list(pending):
            try:
                clients[index].get_account_api_permissions()
            except BinanceAPIException as refused:
                assert refused.code == -2015
                pending.discard(index)
        assert time.monotonic() - revoked_at < 1.0, f"instances {pending} still accept a revoked key"
        time.sleep(0.02)


def test_permission_change_is_seen_by_every_instance(server: Instance, second: Instance) -> None:
    key = issue_key(server, "--permissions", "read,trade")
    for s in (server, second):
        assert python_binance(s.url, key["key"], key["secret"]).get_account_api_permissions()[
            "enableSpotAndMarginTrading"
        ]
    server.cli("keys", "edit", key["key"], "--permissions", "read")
    deadline = time.monotonic() + 1.0
    for s in (server, second):
        while python_binance(s.url, key["key"], key["secret"]).get_account_api_permissions()[
            "enableSpotAndMarginTrading"
        ]:
            assert time.monotonic() < deadline
            time.sleep(0.02)


def signed_get(url: str, key: dict[str, str], headers: dict[str, str] | None = None) -> httpx.Response:
    query = f"timestamp={int(time.time() * 1000)}"
    query += "&signature=" + hmac_hex(key["secret"], query)
    return httpx.get(
        f"{url}/sapi/v1/account/apiRestrictions?{query}",
        headers={"X-MBX-APIKEY": key["key"], **(headers or {})},
    )


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    server: Instance, tmp_path: Path
) -> None:
    key = issue_key(server, "--ip", "198.51.100.7")
    spoofed = signed_get(server.url, key, {"X-Forwarded-For": "198.51.100.7"})
    assert spoofed.status_code == 401 and "127.0.0.1" in spoofed.json()["msg"]

    proxied = Instance(dict(server.env, KEYPLANE_TRUSTED_PROXIES="127.0.0.1/32,::1/128"), free_port())
    proxied.start(tmp_path / "proxied.log")
    try:
        assert signed_get(proxied.url, key, {"X-Forwarded-For": "198.51.100.7"}).status_code == 200
        # A client-written hop left of the real one proves nothing.
        chain = signed_get(proxied.url, key, {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"})
        assert chain.status_code == 401 and "203.0.113.9" in chain.json()["msg"]
    finally:
        proxied.stop()


def test_request_weight_over_the_limit_is_429_with_retry_after_in_both_clients(
    server: Instance, tmp_path: Path
) -> None:
    limited = Instance(dict(server.env, KEYPLANE_WEIGHT_LIMIT_PER_KEY="3"), free_port())
    limited.start(tmp_path / "limited.log")
    try:
        key = issue_key(server)
        answers = [signed_get(limited.url, key) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[-1].json()["code"] == -1003
        assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
        used = [int(a.headers["X-MBX-USED-WEIGHT-1M"]) for a in answers[:3]]
        assert used[1] == used[0] + 1 and used[2] == used[0] + 2  # per IP, as Binance counts
        with pytest.raises(ccxt.DDoSProtection):
            ccxt_binance(limited.url, key["key"], key["secret"]).sapi_get_account_apirestrictions()
        with pytest.raises(BinanceAPIException) as caught:
            python_binance(limited.url, key["key"], key["secret"]).get_account_api_permissions()
        assert (caught.value.code, caught.value.status_code) == (-1003, 429)
    finally:
        limited.stop()
