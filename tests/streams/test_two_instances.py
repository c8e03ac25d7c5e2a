"""Two ``keyplane serve`` processes on one database and Redis: the one that does not run the
exchange serves streams too (the writer relays each durable batch's messages over Redis), takes
WebSocket orders (forwarded to the writer once verified) and closes a revoked key's sessions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import REDIS_URL
from tests.http.conftest import issue_key
from tests.security.test_ws_api import signed
from tests.streams.pro import pro, until_answered
from tests.support.aio import run
from tests.support.cluster import writer_and_gateway
from tests.support.server import Instance
from tests.support.wsclient import ask, connect, next_json

FUNDS = {"USDT": "100000", "SOL": "1000"}


@dataclass
class Pair:
    writer: Instance
    gateway: Instance
    alice: dict[str, str]
    bob: dict[str, str]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, redis_url_module: str) -> Iterator[Pair]:
    with writer_and_gateway(tmp_path_factory.mktemp("pair"), redis_url_module, FUNDS) as (writer, gateway):
        yield Pair(
            writer,
            gateway,
            issue_key(writer, "--permissions", "read,trade"),
            issue_key(writer, "--permissions", "read,trade", user="bob"),
        )


@pytest.fixture(scope="module")
def redis_url_module() -> str:
    from tests.conftest import redis_available

    if not redis_available():
        pytest.skip("Redis is not running")
    return REDIS_URL


def test_a_stream_on_the_other_instance_sees_trades_made_through_the_writer(pair: Pair) -> None:
    async def go() -> None:
        watcher = pro(pair.gateway.url)
        alice, bob = pro(pair.writer.url, pair.alice), pro(pair.writer.url, pair.bob)
        mine = pro(pair.gateway.url, pair.alice)
        try:
            await watcher.load_markets()
            await mine.load_markets()

            async def cross() -> None:
                await alice.create_order("SOL/USDT", "limit", "sell", "0.1", "100")
                await bob.create_order("SOL/USDT", "limit", "buy", "0.1", "100")

            trades = await until_answered(watcher.watch_trades("SOL/USDT"), cross)
            assert trades[-1]["price"] == 100
            my_trades = await until_answered(mine.watch_my_trades("SOL/USDT"), cross)
            assert my_trades[-1]["side"] == "sell"
            book = await until_answered(watcher.watch_order_book("SOL/USDT"), cross)
            assert book["nonce"] > 0
        finally:
            for ex in (watcher, alice, bob, mine):
                await ex.close()

    run(go())


def test_a_websocket_order_on_the_other_instance_is_made_by_the_writer(pair: Pair) -> None:
    async def go() -> None:
        gateway = pro(pair.gateway.url, pair.alice)
        on_writer = pro(pair.writer.url, pair.alice)
        try:
            await gateway.load_markets()
            order = await gateway.create_order_ws("SOL/USDT", "limit", "buy", 0.1, 50)
            assert order["id"] in {o["id"] for o in await on_writer.fetch_open_orders("SOL/USDT")}
            assert (await gateway.cancel_order_ws(order["id"], "SOL/USDT"))["status"] == "canceled"
        finally:
            await gateway.close()
            await on_writer.close()

    run(go())


def test_a_websocket_order_forwarded_by_the_gateway_reports_the_writers_order_counts(pair: Pair) -> None:
    """The counts live in the writer's memory; the gateway passes on what the writer answered."""
    bid = {"symbol": "SOLUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}

    async def go() -> None:
        ws = await connect(pair.gateway.url, "/ws-api/v3")
        try:
            params = signed(pair.bob, **bid, quantity="1", price="20")
            placed = await ask(ws, {"id": 1, "method": "order.place", "params": params})
            assert placed["status"] == 200, placed
            orders = {
                x["interval"]: x["count"] for x in placed["rateLimits"] if x["rateLimitType"] == "ORDERS"
            }
            counted = await ask(
                ws, {"id": 2, "method": "account.rateLimits.orders", "params": signed(pair.bob)}
            )
            assert orders["DAY"] >= 1 and counted["result"][1]["count"] == orders["DAY"]
            cancel = signed(pair.bob, symbol="SOLUSDT", orderId=placed["result"]["orderId"])
            assert (await ask(ws, {"id": 3, "method": "order.cancel", "params": cancel}))["status"] == 200
        finally:
            await ws.close()

    run(go())


def test_revoking_a_key_on_the_writer_closes_its_session_on_the_other_instance(pair: Pair) -> None:
    key = issue_key(pair.writer, "--permissions", "read")

    async def go() -> None:
        ws = await connect(pair.gateway.url, "/ws-api/v3")
        answer = await ask(
            ws, {"id": 1, "method": "userDataStream.subscribe.signature", "params": signed(key)}
        )
        assert answer["status"] == 200
        pair.writer.cli("keys", "revoke", key["key"])
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await next_json(ws, timeout=30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008

    run(go())
