"""python-binance, unmodified: AsyncClient + BinanceSocketManager (trade socket, depth cache and the
user socket, which subscribes through the WebSocket API) against Keyplane."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from binance import AsyncClient, BinanceSocketManager, DepthCacheManager

from tests.http.exchange.conftest import Venue
from tests.support.aio import run

SYMBOL = "BTCUSDT"  # only this module trades BTCUSDT


async def _client(venue: Venue, key: dict[str, str]) -> AsyncClient:
    ws = "ws://" + venue.url.split("://", 1)[1]

    class Local(AsyncClient):  # type: ignore[misc]
        API_URL = venue.url + "/api"
        MARGIN_API_URL = venue.url + "/sapi"
        WS_API_URL = ws + "/ws-api/v3"

    client = await Local.create(key["key"], key["secret"])
    # Its WebSocket API connection's read loop sees close_connection() only when a message comes or
    # its read times out (10 s, idle time in every test): a shorter read timeout, nothing else.
    client.ws_api.TIMEOUT = 1
    return client


def _limit(client: AsyncClient, side: str, quantity: str, price: str) -> Awaitable[Any]:
    """A GTC LIMIT order on the module's market, through python-binance's own call."""
    return client.create_order(  # type: ignore[no-any-return]
        symbol=SYMBOL, side=side, type="LIMIT", timeInForce="GTC", quantity=quantity, price=price
    )


def _manager(venue: Venue, client: AsyncClient) -> BinanceSocketManager:
    class Local(BinanceSocketManager):  # type: ignore[misc]
        STREAM_URL = "ws://" + venue.url.split("://", 1)[1] + "/"

    return Local(client)


@asynccontextmanager
async def _opened(socket: Any, poke: Callable[[], Awaitable[Any]]) -> AsyncIterator[Any]:
    """``async with socket``, but closed while ``poke`` makes the market move: python-binance ends
    a socket only once its read loop wakes (a message, or its 10 s read timeout)."""
    entered = await socket.__aenter__()
    try:
        yield entered
    finally:
        await asyncio.gather(socket.__aexit__(None, None, None), poke())


async def _until(socket: Any, poke: Any, wanted: Any, tries: int = 40) -> dict[str, Any]:
    """Read ``socket`` until a message satisfies ``wanted``, poking between short waits."""
    for _ in range(tries):
        await poke()
        try:
            while True:
                msg = await asyncio.wait_for(socket.recv(), 0.5)
                if wanted(msg):
                    return msg  # type: ignore[no-any-return]
        except TimeoutError:
            continue
    raise AssertionError("the socket never gave the message")


def test_trade_socket_and_user_socket_see_a_trade(venue: Venue) -> None:
    async def go() -> None:
        alice, bob = await _client(venue, venue.alice), await _client(venue, venue.bob)
        try:
            bm = _manager(venue, alice)

            async def cross() -> None:
                await _limit(bob, "SELL", "0.001", "30000")
                await _limit(alice, "BUY", "0.001", "30000")

            async with _opened(bm.trade_socket(SYMBOL), cross) as ts:
                msg = await _until(ts, cross, lambda m: m.get("e") == "trade")
                assert (
                    msg["s"] == SYMBOL
                    and Decimal(msg["p"]) == 30000
                    and Decimal(msg["q"]) == Decimal("0.001")
                )
            async with _opened(bm.user_socket(), cross) as us:
                report = await _until(
                    us, cross, lambda m: m.get("e") == "executionReport" and m.get("x") == "TRADE"
                )
                assert report["s"] == SYMBOL and report["S"] == "BUY" and Decimal(report["L"]) == 30000
                position = await _until(us, cross, lambda m: m.get("e") == "outboundAccountPosition")
                assert {b["a"] for b in position["B"]} >= {"BTC", "USDT"}
        finally:
            await alice.close_connection()
            await bob.close_connection()

    run(go())


def test_depth_cache_equals_rest_depth(venue: Venue) -> None:
    async def go() -> None:
        alice = await _client(venue, venue.alice)
        try:
            dcm = DepthCacheManager(alice, SYMBOL, conv_type=Decimal, bm=_manager(venue, alice))

            async with _opened(dcm, lambda: _limit(alice, "BUY", "0.001", "19000")) as cache_socket:
                for i in range(30):
                    await _limit(alice, "BUY", "0.001", str(20000 + i))
                marker = Decimal(20100)
                await _limit(alice, "BUY", "0.002", str(marker))
                for _ in range(500):
                    cache = await cache_socket.recv()
                    if any(p == marker for p, _ in cache.get_bids()):
                        break
                rest = await alice.get_order_book(symbol=SYMBOL, limit=1000)
                bids = [(Decimal(p), Decimal(q)) for p, q in rest["bids"]]
                assert [tuple(level) for level in cache.get_bids()] == bids
                assert [tuple(level) for level in cache.get_asks()] == [
                    (Decimal(p), Decimal(q)) for p, q in rest["asks"]
                ]
        finally:
            await alice.close_connection()

    run(go())
