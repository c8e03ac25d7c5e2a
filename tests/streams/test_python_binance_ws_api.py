"""python-binance, unmodified, trading over the WebSocket API (``AsyncClient.ws_*``): every call is
one signed request on the client's one connection, verified by the same pipeline as REST."""

from __future__ import annotations

from decimal import Decimal

import pytest
from binance import AsyncClient
from binance.exceptions import BinanceAPIException

from tests.http.exchange.conftest import Venue
from tests.streams.test_python_binance_sockets import _client
from tests.support.aio import run

SYMBOL, PRICE = "SOLUSDT", "1.11"  # far under the market: it rests, and nothing else trades there


async def _rest_and_cancel(alice: AsyncClient) -> None:
    placed = await alice.ws_create_order(
        symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity="5", price=PRICE
    )
    order_id = placed["orderId"]
    assert placed["status"] == "NEW" and Decimal(placed["price"]) == Decimal(PRICE)
    status = await alice.ws_get_order(symbol=SYMBOL, orderId=order_id)
    assert status["clientOrderId"] == placed["clientOrderId"] and status["status"] == "NEW"
    assert order_id in [o["orderId"] for o in await alice.ws_get_open_orders(symbol=SYMBOL)]
    counts = await alice.ws_get_account_rate_limits_orders()
    assert [c["interval"] for c in counts] == ["DAY"] and counts[0]["count"] >= 1  # 10 s: off here
    cancelled = await alice.ws_cancel_order(symbol=SYMBOL, orderId=order_id)
    assert cancelled["status"] == "CANCELED"
    assert order_id not in [o["orderId"] for o in await alice.ws_get_open_orders(symbol=SYMBOL)]
    history = await alice.ws_get_all_orders(symbol=SYMBOL)
    assert [o["status"] for o in history if o["orderId"] == order_id] == ["CANCELED"]


def test_python_binance_places_queries_and_cancels_orders_over_the_websocket_api(venue: Venue) -> None:
    async def go() -> None:
        alice = await _client(venue, venue.alice)
        try:
            await alice.ws_ping()
            assert (
                abs((await alice.ws_get_time())["serverTime"] - (await alice.get_server_time())["serverTime"])
                < 5000
            )
            usdt_before = _free(await alice.ws_get_account(), "USDT")
            await _rest_and_cancel(alice)
            assert _free(await alice.ws_get_account(), "USDT") == usdt_before  # the lock came back
            book = await alice.ws_get_order_book(symbol=SYMBOL, limit=5)
            assert set(book) >= {"lastUpdateId", "bids", "asks"}
            info = await alice.ws_get_exchange_info(symbol=SYMBOL)
            assert [s["symbol"] for s in info["symbols"]] == [SYMBOL]
            candles = await alice.ws_get_klines(symbol=SYMBOL, interval="1m")
            assert await alice.ws_get_uiKlines(symbol=SYMBOL, interval="1m") == candles
        finally:
            await alice.close_connection()

    run(go())


def test_a_read_key_is_refused_an_order_over_the_websocket_api(venue: Venue) -> None:
    async def go() -> None:
        reader = await _client(venue, venue.reader)
        try:
            with pytest.raises(BinanceAPIException) as refused:
                await reader.ws_create_order(
                    symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity="5", price=PRICE
                )
            assert refused.value.code == -2015
            assert (await reader.ws_get_account())["canTrade"] is False  # reading is what it may do
        finally:
            await reader.close_connection()

    run(go())


def _free(account: dict[str, object], asset: str) -> Decimal:
    balances = account["balances"]
    assert isinstance(balances, list)
    return next(Decimal(b["free"]) for b in balances if b["asset"] == asset)
