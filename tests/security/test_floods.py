"""Issue #7 item 9: floods of bad signatures or unknown keys were each processed in full.

Refused requests now count against the IP's request weight (a refusal before the signature is
proven weighs more than the route), the IP's standing is checked before any expensive work, and
the answer escalates as Binance's does: HTTP 429 with Retry-After over the limit, then HTTP 418,
a temporary ban, for an IP that keeps going; while banned, even a good request from it is refused.

The server trusts X-Forwarded-For from 127.0.0.1, so each test floods from an address of its own.
On the PostgreSQL run the server uses a Redis database of its own: every other test server shares
database 0, where this server's small IP limit would soon refuse 127.0.0.1 and then ban it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from keyplane.keys.formats import new_key_id
from tests.conftest import REDIS_URL
from tests.support.server import Instance
from tests.support.signed_attacks import (
    Signer,
    now_ms,
    running_funded,
    send,
    signed_query,
    trade_signer,
    uses_redis,
)

IP_LIMIT = 100
SETTINGS = {
    "KEYPLANE_TRUSTED_PROXIES": "127.0.0.1/32",
    "KEYPLANE_WEIGHT_LIMIT_PER_IP": str(IP_LIMIT),
    "KEYPLANE_BAN_AFTER_LIMITED_REQUESTS": "5",
}


# A database no other test server uses, emptied before and after.
FLOOD_REDIS_URL = REDIS_URL.rsplit("/", 1)[0] + "/9"


def empty_flood_redis() -> None:
    if uses_redis():
        client = redis.Redis.from_url(FLOOD_REDIS_URL)
        client.flushdb()
        client.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    empty_flood_redis()
    try:
        with running_funded(tmp_path_factory.mktemp("floods"), FLOOD_REDIS_URL, **SETTINGS) as instance:
            yield instance
    finally:
        empty_flood_redis()


@pytest.fixture
def flooder() -> str:
    """An address of this test's own, so one test's ban does not leak into the next."""
    return f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture
def signer(server: Instance, tmp_path: Path) -> Signer:
    return trade_signer(server, "hmac", tmp_path)


def bad_signature(signer: Signer) -> tuple[str, str]:
    payload, _ = signed_query(signer, {"symbol": "SOLUSDT"})
    return signer.key_id, f"{payload}&signature={'0' * 64}"


def unknown_key(signer: Signer) -> tuple[str, str]:
    payload, signature = signed_query(signer, {"symbol": "SOLUSDT"})
    return new_key_id(), f"{payload}&signature={signature}"


def good(server: Instance, signer: Signer, ip: str) -> httpx.Response:
    payload, signature = signed_query(signer, {"symbol": "SOLUSDT"})
    return send(server, signer.key_id, "GET", "/api/v3/openOrders", f"{payload}&signature={signature}", ip=ip)


def unreadable(signer: Signer) -> tuple[str, str]:
    """Refused while the parameters are read, before verification starts (a duplicated name)."""
    payload, signature = signed_query(signer, {"symbol": "SOLUSDT"})
    return signer.key_id, f"symbol=SOLUSDT&{payload}&signature={signature}"


@pytest.mark.parametrize(
    "forge", [bad_signature, unknown_key, unreadable], ids=["bad-signature", "unknown-key", "unreadable"]
)
def test_a_flood_of_refused_requests_gets_429_then_an_ip_ban(
    server: Instance, signer: Signer, flooder: str, forge: object
) -> None:
    statuses: list[int] = []
    with httpx.Client(timeout=30) as client:
        for _ in range(IP_LIMIT * 2):
            key_id, query = forge(signer)  # type: ignore[operator]
            response = send(server, key_id, "GET", "/api/v3/openOrders", query, ip=flooder, client=client)
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert response.json()["code"] == -1003
                assert 1 <= int(response.headers["Retry-After"]) <= 60
            if response.status_code == 418:
                break

    assert 429 in statuses, statuses
    assert statuses[-1] == 418, statuses
    first_429 = statuses.index(429)
    assert set(statuses[:first_429]) == {401 if forge is unknown_key else 400}
    # Each refusal weighed more than the route's own weight (6 for openOrders with a symbol).
    assert first_429 < IP_LIMIT // 6
    banned = response.json()
    assert banned["code"] == -1003
    assert banned["msg"].startswith("Way too much request weight used; IP banned until ")
    until = int(banned["msg"].split("banned until ")[1].split(".")[0])
    assert until > now_ms()
    assert 60 < int(response.headers["Retry-After"]) <= 120

    # While banned, a correctly signed request from the same address is refused too.
    refused = good(server, signer, flooder)
    assert refused.status_code == 418 and refused.json()["code"] == -1003
    assert "Retry-After" in refused.headers
    # Other addresses are not affected.
    other = f"198.19.{random.randrange(256)}.{random.randrange(1, 255)}"
    assert good(server, signer, other).status_code == 200


def test_public_routes_are_refused_during_a_ban(server: Instance, signer: Signer, flooder: str) -> None:
    with httpx.Client(timeout=30) as client:
        for _ in range(IP_LIMIT * 2):
            key_id, query = bad_signature(signer)
            response = send(server, key_id, "GET", "/api/v3/openOrders", query, ip=flooder, client=client)
            if response.status_code == 418:
                break
    assert response.status_code == 418
    ping = httpx.get(server.url + "/api/v3/ping", headers={"X-Forwarded-For": flooder})
    assert ping.status_code == 418 and ping.json()["code"] == -1003


def test_exchange_info_states_the_ip_weight_limit_this_server_enforces(
    server: Instance, signer: Signer, flooder: str
) -> None:
    """A client pacing itself by exchangeInfo's REQUEST_WEIGHT (6,000 whatever the setting) ran into
    a ban on a server configured lower."""
    info = send(server, signer.key_id, "GET", "/api/v3/exchangeInfo", "symbol=SOLUSDT", ip=flooder)
    assert info.status_code == 200, info.text
    weight = [r for r in info.json()["rateLimits"] if r["rateLimitType"] == "REQUEST_WEIGHT"]
    assert weight == [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": IP_LIMIT}
    ]
    assert int(info.headers["X-MBX-USED-WEIGHT-1M"]) <= IP_LIMIT
