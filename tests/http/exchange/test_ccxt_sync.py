"""Unmodified ``ccxt.binance`` (sync) trades BTC/USDT against the running exchange."""

from __future__ import annotations

from typing import Any

import ccxt
import pytest

from tests.http.exchange.conftest import MINIMAL, Venue
from tests.support.clients import ccxt_binance


@pytest.fixture(scope="module")
def alice(venue: Venue) -> Any:
    return ccxt_binance(venue.url, venue.alice["key"], venue.alice["secret"], **MINIMAL)


@pytest.fixture(scope="module")
def bob(venue: Venue) -> Any:
    return ccxt_binance(venue.url, venue.bob["key"], venue.bob["secret"], **MINIMAL)


def test_zero_option_ccxt_loads_markets_and_currencies_from_the_server(venue: Venue) -> None:
    ex = ccxt_binance(venue.url, venue.alice["key"], venue.alice["secret"])
    markets = ex.load_markets()
    assert {"BTC/USDT", "ETH/USDT", "ETH/BTC", "SOL/USDT"} <= set(markets)
    assert all(m["spot"] and not m["contract"] for m in markets.values())
    assert {"BTC", "ETH", "SOL", "USDT"} <= set(ex.currencies)
    assert ex.currencies["USDT"]["networks"]
    btc = markets["BTC/USDT"]
    assert btc["precision"]["amount"] == 0.00001 and btc["precision"]["price"] == 0.01
    assert btc["limits"]["cost"]["min"] == 5
    assert ex.fetch_balance()["USDT"]["total"] > 0


def test_limit_order_fills_partly_then_fully_and_both_sides_see_it(alice: Any, bob: Any) -> None:
    sell = alice.create_order("BTC/USDT", "limit", "sell", 0.01, 30000)
    assert sell["status"] == "open" and sell["filled"] == 0 and sell["clientOrderId"].startswith("x-")
    bought = bob.create_order("BTC/USDT", "market", "buy", 0.004)
    assert bought["status"] == "closed" and bought["filled"] == 0.004 and bought["average"] == 30000
    assert bought["fee"]["currency"] == "BTC" and bought["trades"]
    partial = alice.fetch_order(sell["id"], "BTC/USDT")
    assert partial["status"] == "open" and partial["filled"] == 0.004 and partial["remaining"] == 0.006
    assert [o["id"] for o in alice.fetch_open_orders("BTC/USDT")] == [sell["id"]]
    rest = bob.create_order("BTC/USDT", "limit", "buy", 0.006, 30000)
    assert rest["status"] == "closed"
    assert alice.fetch_order(sell["id"], "BTC/USDT")["status"] == "closed"
    trades = alice.fetch_my_trades("BTC/USDT")
    assert [t["side"] for t in trades] == ["sell", "sell"] and all(
        t["takerOrMaker"] == "maker" for t in trades
    )
    assert sum(t["amount"] for t in trades) == pytest.approx(0.01)
    assert bob.fetch_my_trades("BTC/USDT")[-1]["takerOrMaker"] == "taker"


def test_market_buy_by_cost_uses_quote_order_qty(alice: Any, bob: Any) -> None:
    alice.create_order("BTC/USDT", "limit", "sell", 0.01, 31000)
    order = bob.create_market_buy_order_with_cost("BTC/USDT", 62)
    assert order["status"] == "closed" and order["cost"] == pytest.approx(62) and order["filled"] == 0.002
    alice.cancel_all_orders("BTC/USDT")


def test_cancel_fetch_orders_and_cancel_all(alice: Any) -> None:
    first = alice.create_order("BTC/USDT", "limit", "buy", 0.001, 20000, {"clientOrderId": "mine-1"})
    second = alice.create_order("BTC/USDT", "limit", "buy", 0.001, 20001, {"postOnly": True})
    assert second["postOnly"] is True
    canceled = alice.cancel_order(first["id"], "BTC/USDT")
    assert canceled["status"] == "canceled"
    assert alice.fetch_order(None, "BTC/USDT", {"origClientOrderId": "mine-1"})["status"] == "canceled"
    ids = {o["id"] for o in alice.fetch_orders("BTC/USDT")}
    assert {first["id"], second["id"]} <= ids
    assert [o["id"] for o in alice.fetch_open_orders()] == [second["id"]]
    assert [o["status"] for o in alice.cancel_all_orders("BTC/USDT")] == ["canceled"]
    with pytest.raises(ccxt.OrderNotFound):
        alice.cancel_all_orders("BTC/USDT")


def test_market_data_through_ccxt(alice: Any) -> None:
    alice.create_order("BTC/USDT", "limit", "buy", 0.002, 29000)
    book = alice.fetch_order_book("BTC/USDT", 5)
    assert book["bids"][0] == [29000, 0.002] and book["nonce"]
    ticker = alice.fetch_ticker("BTC/USDT")
    assert ticker["last"] == 31000 and ticker["bid"] == 29000 and ticker["baseVolume"] > 0
    tickers = alice.fetch_tickers(["BTC/USDT", "ETH/USDT"])
    assert set(tickers) == {"BTC/USDT", "ETH/USDT"}
    assert "BTC/USDT" in alice.fetch_tickers()
    candles = alice.fetch_ohlcv("BTC/USDT", "1m")
    assert candles and candles[-1][4] == 31000
    assert alice.fetch_trades("BTC/USDT")[-1]["price"] == 31000
    fees = alice.fetch_trading_fees()
    assert fees["BTC/USDT"]["maker"] == 0.001
    assert alice.fetch_last_prices()["BTC/USDT"]["price"] == 31000
    assert alice.fetch_bids_asks(["BTC/USDT"])["BTC/USDT"]["bid"] == 29000
    alice.cancel_all_orders("BTC/USDT")


def test_errors_map_to_ccxt_exceptions(alice: Any) -> None:
    with pytest.raises(ccxt.InsufficientFunds):
        alice.create_order("BTC/USDT", "limit", "buy", 200, 30000)
    with pytest.raises(ccxt.InvalidOrder, match="LOT_SIZE"):
        alice.private_post_order(
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.000015",
                "price": "30000",
            }
        )
    with pytest.raises(ccxt.InvalidOrder, match="PRICE_FILTER"):
        alice.private_post_order(
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.001",
                "price": "30000.005",
            }
        )
    with pytest.raises(ccxt.OrderNotFound):
        alice.fetch_order("99999999", "BTC/USDT")
    with pytest.raises(ccxt.OrderNotFound):
        alice.cancel_order("99999999", "BTC/USDT")
    with pytest.raises(ccxt.BadSymbol):
        alice.public_get_depth({"symbol": "NOPEUSDT"})
    alice.create_order("BTC/USDT", "limit", "buy", 0.001, 30000)
    with pytest.raises(ccxt.OrderImmediatelyFillable):
        alice.create_order("BTC/USDT", "limit", "sell", 0.001, 30000, {"postOnly": True})
    alice.cancel_all_orders("BTC/USDT")
    assert alice.fetch_open_orders("BTC/USDT") == []


def test_read_only_key_cannot_place_orders(venue: Venue) -> None:
    reader = ccxt_binance(venue.url, venue.reader["key"], venue.reader["secret"], **MINIMAL)
    assert reader.fetch_balance()["USDT"]["total"] > 0
    with pytest.raises(ccxt.PermissionDenied, match="no operation privilege"):
        reader.create_order("BTC/USDT", "limit", "buy", 0.001, 20000)


def test_wrong_secret_and_clock_skew_on_trading_routes(venue: Venue) -> None:
    wrong = ccxt_binance(venue.url, venue.alice["key"], "kps_wrong", **MINIMAL)
    with pytest.raises(ccxt.AuthenticationError):
        wrong.fetch_balance()
    skewed = ccxt_binance(
        venue.url,
        venue.alice["key"],
        venue.alice["secret"],
        recvWindow=5000,
        fetchMarkets={"types": ["spot"]},
        fetchMargins=False,
        fetchCurrencies=False,
    )
    skewed.load_markets()
    skewed.options["timeDifference"] = 20000
    with pytest.raises(ccxt.InvalidNonce):
        skewed.create_order("BTC/USDT", "limit", "buy", 0.001, 20000)


def test_a_rolling_window_ticker_through_ccxts_rolling_option(alice: Any) -> None:
    rolling = alice.fetch_ticker("BTC/USDT", {"rolling": True, "windowSize": "15m"})
    assert rolling["info"]["closeTime"] - rolling["info"]["openTime"] < 16 * 60_000
    assert "bidPrice" not in rolling["info"]  # /api/v3/ticker's shape, not /ticker/24hr's
    assert rolling["last"] == alice.fetch_ticker("BTC/USDT")["last"]
