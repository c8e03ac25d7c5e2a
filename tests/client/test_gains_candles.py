"""Candle prices from a real exchange: the demo's market maker makes hourly candles on BTC/USDT."""

from __future__ import annotations

import time
from decimal import Decimal as D

from keyplane.client import ccxt_factory
from keyplane.client.gains.candles import CandlePrices
from keyplane.client.vault import Credentials
from tests.client.apps_fixtures import Demo, eventually


def test_candle_prices_value_an_asset_from_the_exchanges_own_hourly_candles(demo: Demo) -> None:
    credentials = Credentials(
        name="demo", exchange="keyplane", url=demo.url, api_key=demo.key["key"], secret=demo.key["secret"]
    )
    exchange = ccxt_factory.rest(credentials)
    exchange.load_markets()
    eventually(lambda: exchange.fetch_ohlcv("BTC/USDT", "1h", None, 1), 60)  # the maker's first trade
    prices = CandlePrices([exchange], "USDT")
    now = int(time.time() * 1000)
    btc = prices.price("BTC", now)
    assert btc is not None and D(40000) < btc < D(80000)  # the demo starts at 60,000 within a 20 % band
    assert prices.price("BTC", now) == btc  # cached per hour: asked once
    assert prices.price("NOPE", now) is None  # no such market: the caller reports the missing price
