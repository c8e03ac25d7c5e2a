"""permessage-deflate (RFC 7692): granted to a client that asks for it, as Binance does, unless the
operator turns it off (``KEYPLANE_WS_COMPRESSION=false``: with many readers, compressing every
message once per connection costs most of the server's CPU). Streams work either way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.aio import run
from tests.support.databases import fresh_database
from tests.support.server import Instance, free_port, server_env
from tests.support.wsclient import ask, connect


@pytest.fixture(scope="module", params=["default", "false"])
def venue(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    tmp = tmp_path_factory.mktemp("compression")
    extra = {} if request.param == "default" else {"KEYPLANE_WS_COMPRESSION": request.param}
    with fresh_database(tmp) as url:
        instance = Instance(server_env(tmp / "data", url, None, **extra), free_port())
        instance.start(tmp / "server.log")
        yield instance
        instance.stop()


def test_compression_is_granted_when_asked_unless_turned_off(venue: Instance) -> None:
    async def scenario() -> tuple[str | None, dict[str, object]]:
        ws = await connect(venue.url, "/ws/btcusdt@trade")  # the client offers permessage-deflate
        try:
            answer = await ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 1})
            assert ws.response is not None
            return ws.response.headers.get("Sec-WebSocket-Extensions"), answer
        finally:
            await ws.close()

    extensions, answer = run(scenario())
    assert answer == {"result": ["btcusdt@trade"], "id": 1}
    if venue.env.get("KEYPLANE_WS_COMPRESSION") == "false":
        assert extensions is None
    else:
        assert extensions is not None and extensions.startswith("permessage-deflate")
