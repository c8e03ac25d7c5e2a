"""``ccxt.async_support.binance`` trades ETH/USDT and python-binance ``AsyncClient`` trades ETH/BTC."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from binance.exceptions import BinanceAPIException

from tests.http.exchange.clients_async import ccxt_binance_async, python_binance_async
from tests.http.exchange.conftest import MINIMAL, Venue


def test_zero_option_async_ccxt_loads_markets_and_trades(venue: Venue) -> None:
    async def run() -> None:
        alice = ccxt_binance_async(venue.url, venue.alice["key"], venue.alice["secret"])
        bob = ccxt_binance_async(venue.url, venue.bob["key"], venue.bob["secret"], **MINIMAL)
        try:
            await alice.load_markets()
            assert "ETH" in alice.currencies and alice.markets["ETH/USDT"]["spot"]
            sell = await alice.create_order("ETH/USDT", "limit", "sell", 0.5, 2000)
            filled = await bob.create_order("ETH/USDT", "market", "buy", 0.2)
            assert filled["status"] == "closed" and filled["cost"] == 400
            order = await alice.fetch_order(sell["id"], "ETH/USDT")
            assert order["status"] == "open" and order["filled"] == 0.2
            opened = await alice.fetch_open_orders("ETH/USDT")
            assert [o["id"] for o in opened] == [sell["id"]]
            canceled = await alice.cancel_order(sell["id"], "ETH/USDT")
            assert canceled["status"] == "canceled" and canceled["filled"] == 0.2
            assert [t["side"] for t in await bob.fetch_my_trades("ETH/USDT")] == ["buy"]
            balance = await bob.fetch_balance()
            assert balance["ETH"]["total"] == pytest.approx(100 + 0.2 * 0.999)
            assert (await alice.fetch_ticker("ETH/USDT"))["last"] == 2000
            assert (await alice.fetch_ohlcv("ETH/USDT", "1h"))[-1][5] == 0.2
            with pytest.raises(ccxt.InsufficientFunds):
                await bob.create_order("ETH/USDT", "limit", "buy", 1000, 2000)
            with pytest.raises(ccxt.OrderNotFound):
                await bob.cancel_order("424242", "ETH/USDT")
        finally:
            await alice.close()
            await bob.close()

    asyncio.run(run())


def test_python_binance_async_client_trades_eth_btc(venue: Venue) -> None:
    async def run() -> None:
        alice = await python_binance_async(venue.url, venue.alice["key"], venue.alice["secret"])
        bob = await python_binance_async(venue.url, venue.bob["key"], venue.bob["secret"])
        try:
            assert (await alice.get_symbol_info("ETHBTC"))["quoteAsset"] == "BTC"
            eth_before = Decimal((await alice.get_asset_balance("ETH"))["free"])
            sell = await alice.order_limit_sell(symbol="ETHBTC", quantity="1", price="0.05")
            assert sell["status"] == "NEW"
            buy = await bob.order_market_buy(symbol="ETHBTC", quantity="0.4")
            assert buy["status"] == "FILLED" and buy["fills"][0]["price"] == "0.05000000"
            assert (await alice.get_order(symbol="ETHBTC", orderId=sell["orderId"]))[
                "status"
            ] == "PARTIALLY_FILLED"
            rest = await bob.order_limit_buy(symbol="ETHBTC", quantity="0.6", price="0.05")
            assert rest["status"] == "FILLED"
            assert len(await alice.get_my_trades(symbol="ETHBTC")) == 2
            assert (await alice.get_open_orders(symbol="ETHBTC")) == []
            resting = await bob.order_limit_buy(symbol="ETHBTC", quantity="1", price="0.04")
            assert (await bob.cancel_order(symbol="ETHBTC", orderId=resting["orderId"]))[
                "status"
            ] == "CANCELED"
            assert len(await bob.get_all_orders(symbol="ETHBTC")) == 3
            assert Decimal((await alice.get_asset_balance("ETH"))["free"]) == eth_before - 1
            assert (await alice.get_order_book(symbol="ETHBTC"))["bids"] == []
            assert (await alice.get_klines(symbol="ETHBTC", interval="1d"))[-1][4] == "0.05000000"
            assert (await alice.get_ticker(symbol="ETHBTC"))["count"] == 2
            assert (await alice.get_trade_fee(symbol="ETHBTC"))[0]["symbol"] == "ETHBTC"
            with pytest.raises(BinanceAPIException) as caught:
                await bob.get_order(symbol="ETHBTC", orderId=987654)
            assert caught.value.code == -2013
        finally:
            await alice.close_connection()
            await bob.close_connection()

    asyncio.run(run())


def test_async_read_only_key_is_refused_with_permission_denied(venue: Venue) -> None:
    async def run() -> Any:
        reader = ccxt_binance_async(venue.url, venue.reader["key"], venue.reader["secret"], **MINIMAL)
        try:
            with pytest.raises(ccxt.PermissionDenied):
                await reader.create_order("ETH/USDT", "limit", "buy", 0.01, 1000)
        finally:
            await reader.close()

    asyncio.run(run())
