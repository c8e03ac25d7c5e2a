"""A flood of WebSocket connections from one IP: each one held open costs the server a queue, a
task and a write per message of every stream it reads. Binance allows 300 connection attempts per
5 minutes per IP; Keyplane also bounds the connections one IP holds open. The server here allows
5 attempts and 3 open connections; past either, the handshake is refused with HTTP 429 and a
Binance error body, and the connections already open go on working."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from websockets.exceptions import InvalidStatus

from tests.support.aio import run
from tests.support.databases import fresh_database
from tests.support.server import Instance, free_port, server_env
from tests.support.wsclient import ask, connect

ATTEMPTS, OPEN = 5, 3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    tmp = tmp_path_factory.mktemp("wsflood")
    with fresh_database(tmp) as url:
        env = server_env(
            tmp / "data",
            url,
            None,
            KEYPLANE_WS_CONNECTION_ATTEMPTS_PER_IP=str(ATTEMPTS),
            KEYPLANE_WS_OPEN_CONNECTIONS_PER_IP=str(OPEN),
        )
        instance = Instance(env, free_port())
        instance.start(tmp / "server.log")
        yield instance
        instance.stop()


def refusal(error: InvalidStatus) -> tuple[int, dict[str, object]]:
    return error.response.status_code, json.loads(error.response.body or b"{}")


def test_one_ip_cannot_pile_up_websocket_connections(server: Instance) -> None:
    async def scenario() -> None:
        held = [await connect(server.url, path) for path in ("/ws/btcusdt@trade", "/stream", "/ws-api/v3")]
        with pytest.raises(InvalidStatus) as too_many_open:  # the 4th attempt: 3 are open
            await connect(server.url, "/ws/ethusdt@trade")
        status, body = refusal(too_many_open.value)
        assert status == 429 and body["code"] == -1003 and "open WebSocket connections" in str(body["msg"])
        # The open ones are untouched.
        assert await ask(held[0], {"method": "LIST_SUBSCRIPTIONS", "id": 1}) == {
            "result": ["btcusdt@trade"],
            "id": 1,
        }
        assert (await ask(held[2], {"method": "ping", "id": 2}))["status"] == 200
        await held.pop().close()
        held.append(await connect(server.url, "/ws/ethusdt@trade"))  # the 5th attempt, one slot free
        for ws in held:
            await ws.close()
        with pytest.raises(InvalidStatus) as too_many_attempts:  # the 6th: none open, window spent
            await connect(server.url, "/ws/ethusdt@trade")
        status, body = refusal(too_many_attempts.value)
        assert status == 429 and body["code"] == -1003 and "connection attempts" in str(body["msg"])
        # REST is not a WebSocket connection: still served.
        assert (await ask_rest_ping(server.url)) == 200

    run(scenario())


async def ask_rest_ping(url: str) -> int:
    import httpx

    async with httpx.AsyncClient() as client:
        return (await client.get(url + "/api/v3/ping")).status_code
