"""Unmodified python-binance ``Client`` trades SOL/USDT against the running exchange."""

from __future__ import annotations

from decimal import Decimal

import pytest
from binance import Client
from binance.exceptions import BinanceAPIException

from tests.http.conftest import issue_key
from tests.http.exchange.conftest import Venue
from tests.support.clients import ccxt_binance, python_binance


@pytest.fixture(scope="module")
def alice(venue: Venue) -> Client:
    return python_binance(venue.url, venue.alice["key"], venue.alice["secret"])


@pytest.fixture(scope="module")
def bob(venue: Venue) -> Client:
    return python_binance(venue.url, venue.bob["key"], venue.bob["secret"])


def test_symbol_info_and_balances(alice: Client) -> None:
    info = alice.get_symbol_info("SOLUSDT")
    assert info is not None and info["orderTypes"][:3] == ["LIMIT", "LIMIT_MAKER", "MARKET"]
    filters = {f["filterType"]: f for f in info["filters"]}
    assert (
        filters["LOT_SIZE"]["stepSize"] == "0.00100000" and filters["NOTIONAL"]["minNotional"] == "5.00000000"
    )
    assert alice.get_asset_balance("sol")["free"] == "1000.00000000"
    account = alice.get_account()
    assert account["canTrade"] is True and account["commissionRates"]["maker"] == "0.00100000"


def test_limit_and_market_orders_with_default_response_types(alice: Client, bob: Client) -> None:
    bob_orders = len(bob.get_all_orders(symbol="SOLUSDT"))
    sell = alice.order_limit_sell(symbol="SOLUSDT", quantity="2", price="100")
    assert sell["status"] == "NEW" and sell["fills"] == [] and sell["clientOrderId"].startswith("x-")
    buy = bob.order_market_buy(symbol="SOLUSDT", quantity="0.5")
    assert buy["status"] == "FILLED" and buy["cummulativeQuoteQty"] == "50.00000000"
    assert buy["fills"][0]["commissionAsset"] == "SOL" and buy["fills"][0]["commission"] == "0.00050000"
    order = alice.get_order(symbol="SOLUSDT", orderId=sell["orderId"])
    assert order["status"] == "PARTIALLY_FILLED" and order["executedQty"] == "0.50000000"
    assert [o["orderId"] for o in alice.get_open_orders(symbol="SOLUSDT")] == [sell["orderId"]]
    maker = bob.order_limit_buy(symbol="SOLUSDT", quantity="1", price="90", newOrderRespType="ACK")
    assert set(maker) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    post_only = bob.create_order(symbol="SOLUSDT", side="BUY", type="LIMIT_MAKER", quantity="1", price="91")
    assert "status" not in post_only  # LIMIT_MAKER defaults to ACK
    by_cost = bob.order_market_buy(symbol="SOLUSDT", quoteOrderQty="100")
    assert by_cost["status"] == "FILLED" and Decimal(by_cost["executedQty"]) == 1
    assert bob.order_market_buy(symbol="SOLUSDT", quantity="0.5")["status"] == "FILLED"
    assert alice.get_order(symbol="SOLUSDT", orderId=sell["orderId"])["status"] == "FILLED"
    mine = alice.get_my_trades(symbol="SOLUSDT")
    assert [t["isMaker"] for t in mine] == [True, True, True] and not mine[0]["isBuyer"]
    canceled = bob.cancel_order(symbol="SOLUSDT", orderId=maker["orderId"])
    assert canceled["status"] == "CANCELED" and canceled["origClientOrderId"] == maker["clientOrderId"]
    assert canceled["clientOrderId"] != maker["clientOrderId"]
    assert len(bob.get_all_orders(symbol="SOLUSDT")) == bob_orders + 5
    bob._delete("openOrders", True, data={"symbol": "SOLUSDT"})
    assert bob.get_open_orders(symbol="SOLUSDT") == []


def test_test_order_validates_and_places_nothing(alice: Client) -> None:
    before = alice.get_all_orders(symbol="SOLUSDT")
    assert (
        alice.create_test_order(
            symbol="SOLUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="1", price="50"
        )
        == {}
    )
    with pytest.raises(BinanceAPIException) as caught:
        alice.create_test_order(
            symbol="SOLUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.0001", price="50"
        )
    assert (caught.value.code, caught.value.message) == (-1013, "Filter failure: LOT_SIZE")
    assert alice.get_all_orders(symbol="SOLUSDT") == before


def test_small_float_quantities_in_scientific_notation_are_accepted(alice: Client) -> None:
    ok = alice.create_test_order(
        symbol="ETHBTC", side="SELL", type="LIMIT", timeInForce="GTC", quantity=3, price=0.00005
    )  # python-binance sends price=5e-05
    assert ok == {}


def test_market_data_through_python_binance(alice: Client) -> None:
    book = alice.get_order_book(symbol="SOLUSDT", limit=5)
    assert "lastUpdateId" in book and isinstance(book["bids"], list)
    assert alice.get_recent_trades(symbol="SOLUSDT")[-1]["price"] == "100.00000000"
    assert alice.get_aggregate_trades(symbol="SOLUSDT")
    klines = alice.get_klines(symbol="SOLUSDT", interval=Client.KLINE_INTERVAL_1MINUTE)
    assert klines and klines[-1][4] == "100.00000000"
    assert alice.get_historical_klines("SOLUSDT", Client.KLINE_INTERVAL_1HOUR, "1 day ago UTC")
    ticker = alice.get_ticker(symbol="SOLUSDT")
    assert ticker["lastPrice"] == "100.00000000" and "bidQty" in ticker and "time" not in ticker
    assert any(t["symbol"] == "SOLUSDT" for t in alice.get_all_tickers())
    assert alice.get_symbol_ticker(symbol="SOLUSDT")["price"] == "100.00000000"
    assert alice.get_orderbook_ticker(symbol="SOLUSDT")["symbol"] == "SOLUSDT"
    assert alice.get_avg_price(symbol="SOLUSDT")["mins"] == 5
    fee = alice.get_trade_fee(symbol="SOLUSDT")
    assert fee == [{"symbol": "SOLUSDT", "makerCommission": "0.00100000", "takerCommission": "0.00100000"}]
    assert alice.get_ui_klines(symbol="SOLUSDT", interval="1m") == alice.get_klines(
        symbol="SOLUSDT", interval="1m"
    )


def test_commission_rates_of_one_market(alice: Client) -> None:
    rates = alice.v3_get_account_commission(symbol="SOLUSDT")
    assert rates["symbol"] == "SOLUSDT"
    assert rates["standardCommission"] == {
        "maker": "0.00100000", "taker": "0.00100000", "buyer": "0.00000000", "seller": "0.00000000"
    }  # fmt: skip
    assert rates["discount"]["enabledForAccount"] is False
    with pytest.raises(BinanceAPIException) as unknown:
        alice.v3_get_account_commission(symbol="NOPEUSDT")
    assert unknown.value.code == -1121


def test_wallet_and_account_status(alice: Client) -> None:
    coins = {c["coin"]: c for c in alice.get_all_coins_info()}
    assert set(coins) == {"BTC", "ETH", "SOL", "USDT"} and coins["USDT"]["networkList"]
    assert alice.get_account_status() == {"data": "Normal"}
    assert alice.get_account_api_trading_status()["data"]["isLocked"] is False


def test_errors_reach_python_binance_as_binance_api_exceptions(alice: Client) -> None:
    def code_of(call, **kw) -> tuple[int, str]:  # type: ignore[no-untyped-def]
        with pytest.raises(BinanceAPIException) as caught:
            call(**kw)
        return caught.value.code, caught.value.message

    assert code_of(alice.order_limit_buy, symbol="SOLUSDT", quantity="50000", price="50") == (
        -2010,
        "Account has insufficient balance for requested action.",
    )
    assert code_of(alice.get_order, symbol="SOLUSDT", orderId=123456789) == (-2013, "Order does not exist.")
    assert code_of(alice.cancel_order, symbol="SOLUSDT", orderId=123456789) == (-2011, "Unknown order sent.")
    assert code_of(alice.get_klines, symbol="SOLUSDT", interval="7m") == (-1120, "Invalid interval.")
    assert code_of(alice.get_ticker, symbol="NOPE") == (-1121, "Invalid symbol.")


def test_rolling_window_and_trading_day_tickers(alice: Client) -> None:
    day = alice.get_ticker(symbol="SOLUSDT")
    hour = alice.get_symbol_ticker_window(symbol="SOLUSDT", windowSize="1h")
    assert hour["lastPrice"] == day["lastPrice"] and hour["count"] <= day["count"]
    assert 3_600_000 <= hour["closeTime"] - hour["openTime"] < 3_660_000 and hour["openTime"] % 60_000 == 0
    assert "bidPrice" not in hour and "prevClosePrice" not in hour and "weightedAvgPrice" in hour
    today = alice.v3_get_ticker_trading_day(symbol="SOLUSDT", timeZone="8", type="MINI")
    assert (today["openTime"] + 8 * 3_600_000) % 86_400_000 == 0 and "priceChange" not in today
    assert alice.get_symbol_ticker_window(symbols='["SOLUSDT","BTCUSDT"]')[1]["symbol"] == "BTCUSDT"
    with pytest.raises(BinanceAPIException) as bad:
        alice.get_symbol_ticker_window(symbol="SOLUSDT", windowSize="1d2h")
    assert bad.value.code == -1130


def test_account_snapshots_of_past_days(venue: Venue) -> None:
    """The venue was funded today, so every whole day before it closed empty (the values per day are
    shown in-process, tests/exchange/test_snapshots.py). A key of its own: each call weighs 2,400."""
    key = issue_key(venue.server, "--permissions", "read")
    client = python_binance(venue.url, key["key"], key["secret"])
    answer = client.get_account_snapshot(type="SPOT", limit=30)
    assert (answer["code"], answer["msg"]) == (200, "")
    days = answer["snapshotVos"]
    ends = [d["updateTime"] for d in days]
    assert len(days) == 30 and all((e + 1) % 86_400_000 == 0 for e in ends) and ends == sorted(ends)
    assert days[-1] == {
        "data": {"balances": [], "totalAssetOfBtc": "0.00000000"}, "type": "spot", "updateTime": ends[-1]
    }  # fmt: skip
    with pytest.raises(BinanceAPIException) as margin:
        client.get_account_snapshot(type="MARGIN")
    assert margin.value.code == -1020
    with pytest.raises(BinanceAPIException) as third:  # 3 x 2,400 > the key's 6,000 a minute
        client.get_account_snapshot(type="SPOT")
    assert (third.value.status_code, third.value.code) == (429, -1003)


def test_user_assets_list_what_is_held_and_value_it_in_btc_on_request(alice: Client, venue: Venue) -> None:
    plain = {a["asset"]: a for a in alice.get_user_asset()}
    balances = {b["asset"]: b for b in alice.get_account()["balances"]}
    assert set(plain) == {a for a, b in balances.items() if Decimal(b["free"]) or Decimal(b["locked"])}
    assert all(a["btcValuation"] == "0.00000000" for a in plain.values())  # not asked for
    valued = {a["asset"]: a for a in alice.get_user_asset(needBtcValuation="true")}
    btc = valued["BTC"]
    assert Decimal(btc["btcValuation"]) == Decimal(btc["free"]) + Decimal(btc["locked"])
    assert [a["asset"] for a in alice.get_user_asset(asset="SOL")] == ["SOL"]
    ccxt = ccxt_binance(venue.url, venue.alice["key"], venue.alice["secret"])
    assert {a["asset"] for a in ccxt.sapiv3_post_asset_getuserasset()} == set(plain)
