"""ccxt pro's local order book, kept from the diff stream, equals REST depth through 1,000 updates."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from typing import Any

from tests.http.exchange.conftest import Venue
from tests.streams.pro import pro, until_answered
from tests.support.aio import run

SYMBOL = "ETH/BTC"  # only this module touches ETH/BTC: the book is this test's alone


def _levels(side: list[list[Any]]) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(str(p)), Decimal(str(a))) for p, a, *_ in side]


async def _marked(watcher: Any, price: str) -> Any:
    """The local book once it shows the marker bid at ``price`` (placed last). An update may land
    between a look and the next watch (ccxt then resolves no one), so the watch is short and the
    book is looked at again after it."""
    for _ in range(600):
        book = watcher.orderbooks.get(SYMBOL)
        if book is not None and any(Decimal(str(p)) == Decimal(price) for p, *_ in book["bids"]):
            return book
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watcher.watch_order_book(SYMBOL), 0.2)
    raise AssertionError("the marker never reached the local book")


def test_local_book_equals_rest_depth_through_a_thousand_updates(venue: Venue) -> None:
    async def go() -> None:
        watcher, alice, bob = pro(venue.url), pro(venue.url, venue.alice), pro(venue.url, venue.bob)
        try:
            await watcher.load_markets()
            seed = await alice.create_order(SYMBOL, "limit", "buy", "0.1", "0.01000")
            await until_answered(
                watcher.watch_order_book(SYMBOL),
                lambda: alice.create_order(SYMBOL, "limit", "buy", "0.1", "0.01001"),
            )
            updates, placed, round_no = 0, [seed], 0
            while updates < 1000:
                round_no += 1
                bids = [
                    alice.create_order(SYMBOL, "limit", "buy", "0.1", f"0.0{1100 + round_no * 7 + i}")
                    for i in range(5)
                ]
                asks = [
                    bob.create_order(SYMBOL, "limit", "sell", "0.1", f"0.0{5000 + round_no * 7 + i}")
                    for i in range(5)
                ]
                placed += await asyncio.gather(*bids, *asks)
                old, placed = placed[:-10], placed[-10:]
                await asyncio.gather(
                    *((alice if o["side"] == "buy" else bob).cancel_order(o["id"], SYMBOL) for o in old)
                )
                updates += 10 + len(old)
                if round_no % 25 == 0 or updates >= 1000:
                    marker = f"0.00{500 + round_no}"
                    placed.append(await alice.create_order(SYMBOL, "limit", "buy", "0.1", marker))
                    local = await _marked(watcher, marker)
                    rest = await alice.fetch_order_book(SYMBOL, 1000)
                    assert _levels(local["bids"]) == _levels(rest["bids"])
                    assert _levels(local["asks"]) == _levels(rest["asks"])
                    assert local["nonce"] <= rest["nonce"]
            assert updates >= 1000
        finally:
            for ex in (watcher, alice, bob):
                await ex.close()

    run(go())
