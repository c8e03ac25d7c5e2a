"""Market data computed from the engine's own trades."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from keyplane.exchange.errors import InvalidInterval
from keyplane.exchange.marketdata import fmt
from keyplane.exchange.service import Exchange
from tests.exchange.conftest import T0, Clock
from tests.exchange.orders import order
from tests.support.aio import run


def trade(ex: Exchange, maker: int, taker: int, qty: str, price: str) -> None:
    run(ex.place_order(order(maker, "BTCUSDT", "SELL", qty, price)))
    run(ex.place_order(order(taker, "BTCUSDT", "BUY", qty, price)))


def test_klines_bucket_trades_by_minute_and_carry_close_over_gaps(
    ex: Exchange, clock: Clock, alice: int, bob: int
) -> None:
    start = T0 - T0 % 60_000
    clock.t = start + 1_000
    trade(ex, alice, bob, "0.1", "30000")
    trade(ex, alice, bob, "0.2", "30500")
    clock.t = start + 120_000 + 5
    trade(ex, alice, bob, "0.1", "29900")
    candles = ex.klines("BTCUSDT", "1m")
    # The kline stream's f and L: the candle's first and last trade, -1 for a candle without trades.
    assert [(k.first_trade_id, k.last_trade_id) for k in candles] == [(1, 2), (-1, -1), (3, 3)]
    rows = [k.to_row() for k in candles]
    assert rows == [
        [
            start,
            "30000.00000000",
            "30500.00000000",
            "30000.00000000",
            "30500.00000000",
            "0.30000000",
            start + 59_999,
            "9100.00000000",
            2,
            "0.30000000",
            "9100.00000000",
            "0",
        ],
        [
            start + 60_000,
            "30500.00000000",
            "30500.00000000",
            "30500.00000000",
            "30500.00000000",
            "0.00000000",
            start + 119_999,
            "0.00000000",
            0,
            "0.00000000",
            "0.00000000",
            "0",
        ],
        [
            start + 120_000,
            "29900.00000000",
            "29900.00000000",
            "29900.00000000",
            "29900.00000000",
            "0.10000000",
            start + 179_999,
            "2990.00000000",
            1,
            "0.10000000",
            "2990.00000000",
            "0",
        ],
    ]
    assert [k.open_time for k in ex.klines("BTCUSDT", "1m", start_time=start + 60_000, limit=1)] == [
        start + 60_000
    ]
    assert len(ex.klines("BTCUSDT", "1h")) == 1
    with pytest.raises(InvalidInterval):
        ex.klines("BTCUSDT", "7m")


def test_ticker_24h_and_avg_price(ex: Exchange, clock: Clock, alice: int, bob: int) -> None:
    trade(ex, alice, bob, "0.1", "30000")
    clock.advance(60_000)
    trade(ex, alice, bob, "0.3", "31000")
    run(ex.place_order(order(alice, "BTCUSDT", "BUY", "0.5", 29000)))
    run(ex.place_order(order(bob, "BTCUSDT", "SELL", "0.2", 32000)))
    t = ex.ticker_24h("BTCUSDT")
    assert (t.open_price, t.high_price, t.low_price, t.last_price) == (D(30000), D(31000), D(30000), D(31000))
    assert (t.price_change, t.price_change_percent) == (D(1000), D("3.333"))
    assert (t.volume, t.quote_volume, t.count) == (D("0.4"), D(12300), 2)
    assert t.weighted_avg_price == D(30750)
    assert (t.bid_price, t.bid_qty, t.ask_price, t.ask_qty) == (D(29000), D("0.5"), D(32000), D("0.2"))
    assert ex.avg_price("BTCUSDT").price == D(30750)
    assert ex.price_ticker("BTCUSDT").price == D(31000)
    bt = ex.book_ticker("BTCUSDT")
    assert (bt.bid_price, bt.ask_price) == (D(29000), D(32000))


def test_depth_aggregates_levels_best_first(ex: Exchange, alice: int) -> None:
    for price, qty in (("29000", "0.1"), ("29500", "0.2"), ("29500", "0.3"), ("28000", "1")):
        run(ex.place_order(order(alice, "BTCUSDT", "BUY", qty, price)))
    d = ex.depth("BTCUSDT", limit=2)
    assert d.bids == [(D(29500), D("0.5")), (D(29000), D("0.1"))] and d.asks == []
    assert d.last_update_id > 0


def test_agg_trades_merge_fills_of_one_taker_at_one_price(ex: Exchange, alice: int, bob: int) -> None:
    for price in ("30000", "30000", "30100"):
        run(ex.place_order(order(alice, "BTCUSDT", "SELL", "0.1", price)))
    run(ex.place_order(order(bob, "BTCUSDT", "BUY", "0.3", 30100)))
    aggs = ex.agg_trades("BTCUSDT")
    assert [(a.price, a.qty, a.first_trade_id, a.last_trade_id) for a in aggs] == [
        (D(30000), D("0.2"), 1, 2),
        (D(30100), D("0.1"), 3, 3),
    ]
    assert all(not a.is_buyer_maker for a in aggs)
    assert [a.id for a in ex.agg_trades("BTCUSDT", from_id=aggs[1].id)] == [aggs[1].id]
    assert [t.id for t in ex.recent_trades("BTCUSDT", limit=2)] == [2, 3]


def test_binance_number_format() -> None:
    assert fmt(D(1)) == "1.00000000" and fmt(D("0.123456789")) == "0.123456789"
