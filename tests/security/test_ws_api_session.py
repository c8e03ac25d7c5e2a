"""WebSocket API sessions: ``session.logon`` with an Ed25519 key; what a session may then do."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

from tests.http.conftest import issue_key
from tests.security.test_ws_api import ORDER, server, signed  # noqa: F401 - the module's server fixture
from tests.support.aio import run
from tests.support.server import Instance
from tests.support.signing import ed25519_pair
from tests.support.wsclient import ask, connect


def ed_signed(private: Any, key_id: str, **params: Any) -> dict[str, Any]:
    params = {"apiKey": key_id, "timestamp": int(time.time() * 1000), **params}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "signature": base64.b64encode(private.sign(payload.encode())).decode()}


def test_an_ed25519_session_places_orders_without_signing_each(server: Instance, tmp_path: Path) -> None:  # noqa: F811
    private, public = ed25519_pair()
    key = issue_key(server, "--permissions", "read,trade", public_key=public, tmp=tmp_path)

    async def go() -> None:
        ws = await connect(server.url, "/ws-api/v3")
        try:
            logon = await ask(
                ws, {"id": 1, "method": "session.logon", "params": ed_signed(private, key["key"])}
            )
            assert logon["status"] == 200 and logon["result"]["apiKey"] == key["key"]
            now = int(time.time() * 1000)
            placed = await ask(ws, {"id": 2, "method": "order.place", "params": {**ORDER, "timestamp": now}})
            assert placed["status"] == 200 and placed["result"]["status"] == "NEW"
            sub = await ask(ws, {"id": 3, "method": "userDataStream.subscribe", "params": {}})
            assert sub["result"] == {"subscriptionId": 0}
            stale = await ask(
                ws, {"id": 4, "method": "order.place", "params": {**ORDER, "timestamp": now - 600_000}}
            )
            assert stale["error"]["code"] == -1021
            await ask(ws, {"id": 5, "method": "session.logout"})
            after = await ask(ws, {"id": 6, "method": "order.place", "params": {**ORDER, "timestamp": now}})
            assert after["status"] >= 400 and after["error"]["code"] == -2014
        finally:
            await ws.close()

    run(go())


def test_a_read_only_session_places_nothing_and_an_hmac_key_cannot_log_on(
    server: Instance,  # noqa: F811
    tmp_path: Path,
) -> None:
    private, public = ed25519_pair()
    reader = issue_key(server, "--permissions", "read", public_key=public, tmp=tmp_path)
    hmac_key = issue_key(server, "--permissions", "read,trade")

    async def go() -> None:
        ws = await connect(server.url, "/ws-api/v3")
        try:
            await ask(ws, {"id": 1, "method": "session.logon", "params": ed_signed(private, reader["key"])})
            now = int(time.time() * 1000)
            refused = await ask(ws, {"id": 2, "method": "order.place", "params": {**ORDER, "timestamp": now}})
            assert refused["status"] == 401 and refused["error"]["code"] == -2015
            status = await ask(ws, {"id": 3, "method": "account.status", "params": {"timestamp": now}})
            assert status["status"] == 200
            other = await connect(server.url, "/ws-api/v3")
            try:
                no = await ask(other, {"id": 4, "method": "session.logon", "params": signed(hmac_key)})
                assert no["error"]["code"] == -2015 and "Ed25519" in no["error"]["msg"]
                plain = await ask(other, {"id": 5, "method": "userDataStream.subscribe", "params": {}})
                assert plain["error"]["code"] == -2015
            finally:
                await other.close()
        finally:
            await ws.close()

    run(go())
