"""Hand-built signed requests, for checks that the real clients would refuse to send."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.support.signing import hmac_hex

_last_timestamp = 0


def fresh_timestamp() -> int:
    """The clock in ms, but never the same twice: two requests with the same parameters signed in
    one millisecond are one signature, and the server refuses the second as a replay."""
    global _last_timestamp
    _last_timestamp = max(time.time_ns() // 1_000_000, _last_timestamp + 1)
    return _last_timestamp


def signed(base: str, key: dict[str, str], method: str, path: str, **params: Any) -> httpx.Response:
    """Sign ``params`` plus a fresh timestamp with the key's HMAC secret and send them in the query."""
    query = urlencode({**{k: str(v) for k, v in params.items()}, "timestamp": fresh_timestamp()})
    query += "&signature=" + hmac_hex(key["secret"], query)
    return httpx.request(method, f"{base}{path}?{query}", headers={"X-MBX-APIKEY": key["key"]}, timeout=10)


def error(response: httpx.Response) -> tuple[int, str]:
    assert response.status_code >= 400, response.text
    body = response.json()
    return body["code"], body["msg"]
