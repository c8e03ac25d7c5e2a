"""ccxt pro's ``watch_orders`` follows a stop-loss-limit from pending to triggered and filled."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from tests.http.exchange.conftest import Venue
from tests.streams.pro import pro, until_answered
from tests.support.aio import run

SYMBOL = "ETH/USDT"


async def cached(client: Any, order_id: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The order as ccxt's cache of ``watch_orders`` holds it once ``check`` holds for it."""
    for _ in range(300):  # between short watches: the cache is filled as messages arrive
        found = [o for o in client.orders if o["id"] == order_id] if client.orders else []
        if found and check(found[-1]):
            return found[-1]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(client.watch_orders(SYMBOL), 0.2)
    raise AssertionError(f"order {order_id} never reached the expected state")


def test_watch_orders_sees_a_stop_loss_limit_pending_then_filled_when_another_account_trades(
    venue: Venue,
) -> None:
    async def go() -> None:
        alice, bob = pro(venue.url, venue.alice), pro(venue.url, venue.bob)
        try:
            await alice.load_markets()
            for client in (alice, bob):
                if await client.fetch_open_orders(SYMBOL):
                    await client.cancel_all_orders(SYMBOL)
            await bob.create_order(SYMBOL, "limit", "sell", "0.01", "2000")
            await alice.create_order(SYMBOL, "limit", "buy", "0.01", "2000")  # last price 2000
            probes: list[Any] = []

            async def probe() -> None:
                probes.append(await alice.create_order(SYMBOL, "limit", "buy", "0.01", "1000"))

            await until_answered(alice.watch_orders(SYMBOL), probe)  # the subscription is live
            for o in probes:
                await alice.cancel_order(o["id"], SYMBOL)
            stop = await alice.create_order(SYMBOL, "limit", "sell", 0.1, 1890, params={"triggerPrice": 1900})
            pending = await cached(alice, stop["id"], lambda o: o["status"] == "open")
            assert pending["triggerPrice"] == 1900
            assert pending["info"]["w"] is False and pending["info"]["W"] == -1
            await bob.create_order(SYMBOL, "limit", "buy", "0.1", "1895")
            await bob.create_order(SYMBOL, "limit", "sell", "0.01", "1900")
            await alice.create_order(SYMBOL, "limit", "buy", "0.01", "1900")  # trades at 1900
            done = await cached(alice, stop["id"], lambda o: o["status"] == "closed")
            assert done["filled"] == 0.1 and done["info"]["L"].startswith("1895")
            assert done["info"]["W"] > 0 and done["info"]["o"] == "STOP_LOSS_LIMIT"
        finally:
            await alice.close()
            await bob.close()

    run(go())
