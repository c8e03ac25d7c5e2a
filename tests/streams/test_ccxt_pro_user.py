"""ccxt pro's private watches and WebSocket orders: the user data stream through the WebSocket API
(``userDataStream.subscribe.signature``, as current ccxt does for spot) and ``order.place``/``cancel``."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from typing import Any

from tests.http.exchange.conftest import Venue
from tests.streams.pro import pro, until_answered
from tests.support.aio import run

SYMBOL = "ETH/USDT"


def test_watch_orders_sees_an_order_placed_and_cancelled_over_rest(venue: Venue) -> None:
    async def go() -> None:
        alice = pro(venue.url, venue.alice)
        try:
            await alice.load_markets()
            placed: list[Any] = []

            async def place() -> None:
                placed.append(await alice.create_order(SYMBOL, "limit", "buy", "0.01", "1000"))

            orders = await until_answered(alice.watch_orders(SYMBOL), place)
            assert orders[-1]["id"] in {o["id"] for o in placed}
            assert orders[-1]["status"] == "open"
            for o in placed:
                await alice.cancel_order(o["id"], SYMBOL)
            ids = {o["id"] for o in placed}
            for _ in range(300):  # ccxt's cache of orders, looked at between short watches
                if all(o["status"] == "canceled" for o in alice.orders if o["id"] in ids):
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(alice.watch_orders(SYMBOL), 0.2)
            assert {o["id"] for o in alice.orders if o["status"] == "canceled"} >= ids
        finally:
            await alice.close()

    run(go())


def test_watch_my_trades_and_watch_balance_follow_a_fill(venue: Venue) -> None:
    async def go() -> None:
        alice, bob = pro(venue.url, venue.alice), pro(venue.url, venue.bob)
        try:
            await alice.load_markets()

            async def cross() -> None:
                await bob.create_order(SYMBOL, "limit", "sell", "0.01", "2000")
                await alice.create_order(SYMBOL, "limit", "buy", "0.01", "2000")

            trades = await until_answered(alice.watch_my_trades(SYMBOL), cross)
            assert trades[-1]["symbol"] == SYMBOL and trades[-1]["side"] == "buy"
            assert Decimal(str(trades[-1]["price"])) == 2000
            assert trades[-1]["fee"] is not None

            balance = await until_answered(alice.watch_balance(), cross)
            rest = await alice.fetch_balance()
            for _ in range(300):  # later positions may still be on their way: ccxt's cache, between watches
                balance = alice.balance.get("spot", {})
                if balance.get("ETH", {}).get("free") == rest["ETH"]["free"]:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(alice.watch_balance(), 0.2)
            assert balance["ETH"]["free"] == rest["ETH"]["free"]
            assert balance["USDT"]["used"] == rest["USDT"]["used"]
        finally:
            await alice.close()
            await bob.close()

    run(go())


def test_create_and_cancel_an_order_over_the_websocket_api(venue: Venue) -> None:
    async def go() -> None:
        alice = pro(venue.url, venue.alice)
        try:
            await alice.load_markets()
            order = await alice.create_order_ws(SYMBOL, "limit", "buy", 0.01, 1001)
            assert order["status"] == "open" and order["symbol"] == SYMBOL
            open_ids = {o["id"] for o in await alice.fetch_open_orders(SYMBOL)}
            assert order["id"] in open_ids
            cancelled = await alice.cancel_order_ws(order["id"], SYMBOL)
            assert cancelled["status"] == "canceled"
            assert order["id"] not in {o["id"] for o in await alice.fetch_open_orders(SYMBOL)}
        finally:
            await alice.close()

    run(go())
