"""Binance's stream protocol on a live connection: raw and combined payloads, SUBSCRIBE /
UNSUBSCRIBE / LIST_SUBSCRIPTIONS / properties with ids, and Binance's error replies."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed

from tests.http.exchange.conftest import Venue
from tests.streams.pro import pro
from tests.support.aio import run
from tests.support.databases import fresh_database
from tests.support.server import Instance, free_port, server_env
from tests.support.wsclient import ask, connect, next_json


def test_subscribe_list_and_unsubscribe_answer_with_the_request_id(venue: Venue) -> None:
    async def go() -> None:
        ws = await connect(venue.url, "/ws")
        try:
            ok = await ask(
                ws, {"method": "SUBSCRIBE", "params": ["solusdt@trade", "ethusdt@depth@100ms"], "id": 1}
            )
            assert ok == {"result": None, "id": 1}
            listed = await ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 2})
            assert sorted(listed["result"]) == ["ethusdt@depth@100ms", "solusdt@trade"]
            await ask(ws, {"method": "UNSUBSCRIBE", "params": ["solusdt@trade"], "id": 3})
            assert (await ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 4}))["result"] == [
                "ethusdt@depth@100ms"
            ]
            assert (await ask(ws, {"method": "GET_PROPERTY", "params": ["combined"], "id": 5}))[
                "result"
            ] is False
        finally:
            await ws.close()

    run(go())


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", 3),
        (json.dumps({"method": "SUBSCRIBE", "params": ["nosuch@trade"], "id": 1}), 2),
        (json.dumps({"method": "SUBSCRIBE", "params": ["solusdt@trade"], "id": -1}), 2),
        (json.dumps({"method": "SUBSCRIBE", "params": "solusdt@trade", "id": 1}), 2),
        (json.dumps({"method": "DANCE", "id": 1}), 2),
        (json.dumps({"method": "SET_PROPERTY", "params": ["colour", True], "id": 1}), 0),
        (json.dumps({"method": "SET_PROPERTY", "params": ["combined", "yes"], "id": 1}), 1),
        (json.dumps([1, 2, 3]), 2),
    ],
)
def test_bad_requests_get_binance_errors_and_change_nothing(venue: Venue, frame: str, code: int) -> None:
    async def go() -> None:
        ws = await connect(venue.url, "/ws/solusdt@aggTrade")
        try:
            await ws.send(frame)
            answer = await next_json(ws)
            assert answer["error"]["code"] == code and answer["error"]["msg"]
            assert "Traceback" not in answer["error"]["msg"]
            listed = await ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 9})
            assert listed["result"] == ["solusdt@aggTrade"]
        finally:
            await ws.close()

    run(go())


def test_combined_streams_wrap_each_payload_with_its_stream_name(venue: Venue) -> None:
    async def go() -> None:
        ws = await connect(venue.url, "/stream?streams=ethusdt@trade/ethusdt@bookTicker")
        alice, bob = pro(venue.url, venue.alice), pro(venue.url, venue.bob)
        try:
            await ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 1})  # the streams are live now
            await bob.create_order("ETH/USDT", "limit", "sell", "0.01", "2100")
            await alice.create_order("ETH/USDT", "limit", "buy", "0.01", "2100")
            seen: dict[str, dict[str, object]] = {}
            while "ethusdt@trade" not in seen:
                msg = await next_json(ws)
                assert set(msg) == {"stream", "data"}
                seen[msg["stream"]] = msg["data"]
            assert seen["ethusdt@trade"]["e"] == "trade" and seen["ethusdt@trade"]["p"] == "2100.00000000"
            assert "ethusdt@bookTicker" in seen
        finally:
            await ws.close()
            await alice.close()
            await bob.close()

    run(go())


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    """A server with 3 streams per connection and connections that live one second."""
    tmp = tmp_path_factory.mktemp("strict")
    with fresh_database(tmp) as url:
        env = server_env(
            tmp / "data", url, None, KEYPLANE_WS_MAX_STREAMS="3", KEYPLANE_WS_MAX_AGE_SECONDS="1"
        )
        instance = Instance(env, free_port())
        instance.start(tmp / "server.log")
        yield instance
        instance.stop()


def test_too_many_streams_on_one_connection_are_refused_and_nothing_changes(strict: Instance) -> None:
    async def go() -> None:
        ws = await connect(strict.url, "/ws/solusdt@trade")
        try:
            two = ["solusdt@aggTrade", "solusdt@bookTicker"]
            assert (await ask(ws, {"method": "SUBSCRIBE", "params": two, "id": 1}))["result"] is None
            refused = await ask(ws, {"method": "SUBSCRIBE", "params": ["solusdt@depth"], "id": 2})
            assert refused["error"]["code"] == 2 and "3" in refused["error"]["msg"]
            listed = await ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 3})
            assert sorted(listed["result"]) == ["solusdt@aggTrade", "solusdt@bookTicker", "solusdt@trade"]
        finally:
            await ws.close()

    run(go())


def test_a_connection_is_closed_at_its_age_limit(strict: Instance) -> None:
    async def go() -> None:
        ws = await connect(strict.url, "/ws/solusdt@trade")
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await next_json(ws, timeout=60)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000

    run(go())


def test_a_message_flood_closes_the_connection(venue: Venue) -> None:
    async def go() -> None:
        ws = await connect(venue.url, "/ws")
        with pytest.raises(ConnectionClosed) as closed:
            for i in range(50):
                await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
            while True:
                await next_json(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008

    run(go())


def test_an_oversized_frame_closes_the_connection_with_1009(venue: Venue) -> None:
    async def go() -> None:
        ws = await connect(venue.url, "/ws")
        with pytest.raises(ConnectionClosed) as closed:
            await ws.send("x" * (200 * 1024))
            await next_json(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009

    run(go())
