"""ccxt pro, unmodified, reads Keyplane's market streams (every ws URL pointed at the server)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.http.exchange.conftest import Venue
from tests.streams.pro import pro, until_answered
from tests.support.aio import run


async def _cross(maker: Any, taker: Any, symbol: str, price: str, amount: str) -> None:
    """One trade at ``price``: ``maker`` rests a sell, ``taker`` buys it."""
    await maker.create_order(symbol, "limit", "sell", amount, price)
    await taker.create_order(symbol, "limit", "buy", amount, price)


def test_watch_trades_sees_each_trade_made_after_subscribing(venue: Venue) -> None:
    async def go() -> None:
        watcher, alice, bob = pro(venue.url), pro(venue.url, venue.alice), pro(venue.url, venue.bob)
        try:
            await watcher.load_markets()
            trades = await until_answered(
                watcher.watch_trades("SOL/USDT"), lambda: _cross(alice, bob, "SOL/USDT", "100", "0.1")
            )
            assert trades and trades[-1]["symbol"] == "SOL/USDT"
            assert Decimal(str(trades[-1]["price"])) == Decimal(100)
            assert Decimal(str(trades[-1]["amount"])) == Decimal("0.1")
        finally:
            for ex in (watcher, alice, bob):
                await ex.close()

    run(go())


def test_watch_ticker_and_tickers_follow_the_last_trade(venue: Venue) -> None:
    async def go() -> None:
        watcher, alice, bob = pro(venue.url), pro(venue.url, venue.alice), pro(venue.url, venue.bob)
        try:
            await watcher.load_markets()
            ticker = await until_answered(
                watcher.watch_ticker("SOL/USDT"), lambda: _cross(alice, bob, "SOL/USDT", "101", "0.1")
            )
            assert ticker["symbol"] == "SOL/USDT" and ticker["last"] is not None
            tickers = await until_answered(
                watcher.watch_tickers(["SOL/USDT", "ETH/USDT"]),
                lambda: _cross(alice, bob, "ETH/USDT", "2000", "0.01"),
            )
            assert set(tickers) <= {"SOL/USDT", "ETH/USDT"} and tickers
        finally:
            for ex in (watcher, alice, bob):
                await ex.close()

    run(go())


def test_watch_ohlcv_gives_the_current_candle(venue: Venue) -> None:
    async def go() -> None:
        watcher, alice, bob = pro(venue.url), pro(venue.url, venue.alice), pro(venue.url, venue.bob)
        try:
            await watcher.load_markets()
            candles = await until_answered(
                watcher.watch_ohlcv("SOL/USDT", "1m"), lambda: _cross(alice, bob, "SOL/USDT", "102", "0.1")
            )
            t, _o, h, low, c, v = candles[-1]
            assert low <= c <= h and v > 0 and t % 60_000 == 0
        finally:
            for ex in (watcher, alice, bob):
                await ex.close()

    run(go())
