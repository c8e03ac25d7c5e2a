"""Binance's keepalive on every WebSocket: the server pings; a connection that does not answer a
ping within the timeout is closed, and pongs it was not asked for do not keep it open.

The server here pings every 0.3 s and waits 1.5 s for the answer (20 s and 60 s by default)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

from tests.support.aio import run
from tests.support.databases import fresh_database
from tests.support.server import Instance, free_port, server_env
from tests.support.wsclient import ask, connect, ws_url

INTERVAL_S, TIMEOUT_S = 0.3, 1.5


@pytest.fixture(scope="module")
def keepalive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    tmp = tmp_path_factory.mktemp("keepalive")
    with fresh_database(tmp) as url:
        env = server_env(
            tmp / "data",
            url,
            None,
            KEYPLANE_WS_PING_INTERVAL_SECONDS=str(INTERVAL_S),
            KEYPLANE_WS_PING_TIMEOUT_SECONDS=str(TIMEOUT_S),
        )
        instance = Instance(env, free_port())
        instance.start(tmp / "server.log")
        yield instance
        instance.stop()


def _silent_client(url: str) -> tuple[int, int | None, float]:
    """Connect, then never answer a ping, only send pongs of its own every 0.1 s. Returns the
    pings received, the close code the server sent, and how long the connection lived."""
    protocol = ClientProtocol(parse_uri(ws_url(url, "/ws/solusdt@trade")))
    address = urlsplit(url)
    unsolicited = Frame(Opcode.PONG, b"still here").serialize(mask=True, extensions=[])
    pings, opened = 0, time.monotonic()
    with socket.create_connection((address.hostname, address.port), timeout=0.1) as sock:
        protocol.send_request(protocol.connect())
        sock.sendall(b"".join(protocol.data_to_send()))  # the handshake, and nothing it queues later
        while time.monotonic() - opened < 30:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                sock.sendall(unsolicited)
                continue
            if not data:
                break
            protocol.receive_data(data)
            pings += sum(
                1 for e in protocol.events_received() if isinstance(e, Frame) and e.opcode is Opcode.PING
            )
    code = protocol.close_rcvd.code if protocol.close_rcvd is not None else None
    return pings, code, time.monotonic() - opened


def test_a_connection_that_answers_no_ping_is_closed_even_if_it_sends_pongs(keepalive: Instance) -> None:
    pings, code, lived = _silent_client(keepalive.url)
    assert pings >= 1
    assert code == 1011  # keepalive ping timeout
    assert lived < 10


def test_a_connection_that_answers_pings_stays_open(keepalive: Instance) -> None:
    async def go() -> None:
        ws = await connect(keepalive.url, "/ws/solusdt@trade")  # the client library answers pings
        try:
            await asyncio.sleep(3 * (INTERVAL_S + TIMEOUT_S))
            listed = await ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 1})
            assert listed["result"] == ["solusdt@trade"]
        finally:
            await ws.close()

    run(go())
