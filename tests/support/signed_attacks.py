"""Hand-signed raw requests against a funded real server, for the attack tests in tests/security/.

Real clients would never send these bytes (re-encoded signatures, a GET's URL replayed as a
DELETE, parameters without ``=``), so the requests are built and signed here, by hand.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from tests.conftest import REDIS_URL, redis_available
from tests.http.conftest import issue_key
from tests.http.exchange.funding import fund_before_start
from tests.support.databases import backend, fresh_database
from tests.support.server import Instance, free_port, server_env
from tests.support.signing import ed25519_pair, hmac_hex, rsa_pair

FUNDS = {"USDT": "1000000", "SOL": "1000"}
ORDER = {
    "symbol": "SOLUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "1",
    "price": "10",
}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def uses_redis() -> bool:
    """The PostgreSQL run of the suite serves with Redis, as in production; SQLite runs in memory."""
    return backend() == "postgresql" and redis_available()


def start_funded(tmp: Path, database_url: str, redis_url: str | None = None, **env: str) -> Instance:
    """A running ``keyplane serve`` whose user alice holds USDT and SOL; ``env`` adds settings.

    With Redis it uses ``redis_url``, by default the one every test server shares.
    """
    redis = (redis_url or REDIS_URL) if uses_redis() else None
    instance = Instance(server_env(tmp / "data", database_url, redis, **env), free_port())
    instance.cli("users", "create", "alice")
    fund_before_start(database_url, {"alice": FUNDS})
    instance.start(tmp / "server.log")
    wait_out_start_tolerance()
    return instance


def wait_out_start_tolerance() -> None:
    """Without Redis, an order signed less than 1 s (future_tolerance_ms) after the server process
    started is refused (a clock running ahead could have signed it before a restart); the process
    started before it answered, so one second from now is past that."""
    if not uses_redis():
        ready = now_ms() + 1000
        while now_ms() <= ready:
            time.sleep(0.05)


@contextmanager
def running_funded(tmp: Path, redis_url: str | None = None, **env: str) -> Iterator[Instance]:
    """``start_funded`` on a fresh database of its own, for fixtures wider than one test."""
    with fresh_database(tmp) as url:
        instance = start_funded(tmp, url, redis_url, **env)
        try:
            yield instance
        finally:
            instance.stop()


@dataclass
class Signer:
    """One API key of alice's and how its holder signs a payload (signature as sent, URL-encoded)."""

    kind: str
    key_id: str
    secret: str | None = None
    private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | None = None

    def raw_signature(self, payload: str) -> bytes:
        if self.private is None:
            assert self.secret is not None
            return bytes.fromhex(hmac_hex(self.secret, payload))
        if isinstance(self.private, rsa.RSAPrivateKey):
            return self.private.sign(payload.encode(), padding.PKCS1v15(), hashes.SHA256())
        return self.private.sign(payload.encode())

    def signature(self, payload: str) -> str:
        raw = self.raw_signature(payload)
        if self.private is None:
            return raw.hex()
        return quote(base64.b64encode(raw).decode(), safe="")


def trade_signer(server: Instance, kind: str, tmp: Path, *permissions: str) -> Signer:
    """A new key of ``kind`` (hmac, ed25519, rsa) for alice, with read and trade permissions."""
    perms = ",".join(permissions or ("read", "trade"))
    if kind == "hmac":
        key = issue_key(server, "--permissions", perms)
        return Signer(kind, key["key"], secret=key["secret"])
    private, public = ed25519_pair() if kind == "ed25519" else rsa_pair()
    key = issue_key(server, "--permissions", perms, public_key=public, tmp=tmp)
    return Signer(kind, key["key"], private=private)


def signed_query(signer: Signer, params: dict[str, Any], timestamp: int | None = None) -> tuple[str, str]:
    """``(payload, signature)`` for ``params`` plus a timestamp, encoded as the clients do."""
    payload = urlencode({**{k: str(v) for k, v in params.items()}, "timestamp": timestamp or now_ms()})
    return payload, signer.signature(payload)


def send(
    server: Instance,
    key_id: str,
    method: str,
    path: str,
    query: str = "",
    body: str = "",
    ip: str | None = None,
    client: httpx.Client | None = None,
) -> httpx.Response:
    """Send exactly these bytes; ``ip`` sets X-Forwarded-For (for a server trusting 127.0.0.1)."""
    headers = {"X-MBX-APIKEY": key_id}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if ip is not None:
        headers["X-Forwarded-For"] = ip
    url = f"{server.url}{path}" + (f"?{query}" if query else "")
    if client is not None:
        return client.request(method, url, content=body.encode(), headers=headers)
    return httpx.request(method, url, content=body.encode(), headers=headers, timeout=30)


def signed_call(
    server: Instance, signer: Signer, method: str, path: str, params: dict[str, Any] | None = None
) -> httpx.Response:
    """A well-formed signed request with a fresh timestamp, parameters in the query."""
    payload, signature = signed_query(signer, params or {})
    return send(server, signer.key_id, method, path, f"{payload}&signature={signature}")


def open_orders(server: Instance, signer: Signer, symbol: str = "SOLUSDT") -> list[dict[str, Any]]:
    response = signed_call(server, signer, "GET", "/api/v3/openOrders", {"symbol": symbol})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def all_orders(server: Instance, signer: Signer, symbol: str = "SOLUSDT") -> list[dict[str, Any]]:
    response = signed_call(server, signer, "GET", "/api/v3/allOrders", {"symbol": symbol})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def code_of(response: httpx.Response) -> int:
    """The Binance error code of a refusal; a 500 or a success fails the test here."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    return int(response.json()["code"])
