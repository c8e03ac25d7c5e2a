"""Binance's parameter errors, checked before any domain call; a refused request changes nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.http.exchange.conftest import Venue
from tests.http.exchange.raw import error, signed

LIMIT = {
    "symbol": "SOLUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "1",
    "price": "10",
}


def without(params: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in params.items() if k != name}


@pytest.mark.parametrize(
    ("params", "code", "msg"),
    [
        (
            without(LIMIT, "symbol"),
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
        ),
        (
            without(LIMIT, "side"),
            -1102,
            "Mandatory parameter 'side' was not sent, was empty/null, or malformed.",
        ),
        (
            without(LIMIT, "type"),
            -1102,
            "Mandatory parameter 'type' was not sent, was empty/null, or malformed.",
        ),
        (
            without(LIMIT, "quantity"),
            -1102,
            "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.",
        ),
        (
            without(LIMIT, "price"),
            -1102,
            "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
        ),
        (
            without(LIMIT, "timeInForce"),
            -1102,
            "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
        ),
        (
            {**LIMIT, "quantity": "1,5"},
            -1100,
            "Illegal characters found in parameter 'quantity'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
        ),
        ({**LIMIT, "price": "-10"}, -1100, None),
        ({**LIMIT, "price": "NaN"}, -1100, None),
        ({**LIMIT, "symbol": "NOPEUSDT"}, -1121, "Invalid symbol."),
        ({**LIMIT, "type": "TRAILING_STOP_MARKET"}, -1116, "Invalid orderType."),
        (
            {**LIMIT, "type": "STOP_LOSS", "stopPrice": "9"},
            -1106,
            "Parameter 'price' sent when not required.",
        ),
        (
            {**LIMIT, "type": "STOP_LOSS_LIMIT"},
            -1102,
            "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!",
        ),
        ({**LIMIT, "type": "TAKE_PROFIT_LIMIT", "trailingDelta": "1.5"}, -1100, None),
        (
            {**LIMIT, "type": "TAKE_PROFIT_LIMIT", "trailingDelta": "5000"},
            -1013,
            "Filter failure: TRAILING_DELTA",
        ),
        ({**LIMIT, "side": "HOLD"}, -1117, "Invalid side."),
        ({**LIMIT, "timeInForce": "GTD"}, -1115, "Invalid timeInForce."),
        ({**LIMIT, "stopPrice": "9"}, -1106, "Parameter 'stopPrice' sent when not required."),
        (
            {"symbol": "SOLUSDT", "side": "BUY", "type": "MARKET", "quantity": "1", "timeInForce": "GTC"},
            -1106,
            "Parameter 'timeInForce' sent when not required.",
        ),
        ({"symbol": "SOLUSDT", "side": "BUY", "type": "MARKET"}, -1102, None),
        ({**LIMIT, "quantity": "0.0001"}, -1013, "Filter failure: LOT_SIZE"),
        ({**LIMIT, "price": "10.001"}, -1013, "Filter failure: PRICE_FILTER"),
        ({**LIMIT, "quantity": "0.1"}, -1013, "Filter failure: NOTIONAL"),
        (
            {**LIMIT, "quantity": "50000", "price": "50"},
            -2010,
            "Account has insufficient balance for requested action.",
        ),
        ({**LIMIT, "newOrderRespType": "ALL"}, -1130, None),
        ({**LIMIT, "newClientOrderId": "has space"}, -1100, None),
        (
            {**LIMIT, "selfTradePreventionMode": "EXPIRE_ALL"},
            -1130,
            "Data sent for parameter 'selfTradePreventionMode' is not valid.",
        ),
        # Where a request has more than one fault, the one reported is the one reported before the
        # enums were parsed at the edge rather than in the exchange.
        ({**LIMIT, "symbol": "NOPEUSDT", "selfTradePreventionMode": "EXPIRE_ALL"}, -1121, "Invalid symbol."),
        ({**LIMIT, "side": "HOLD", "type": "STOP_LOSS"}, -1117, "Invalid side."),
        (
            {"symbol": "SOLUSDT", "side": "BUY", "type": "MARKET", "quantity": "1", "timeInForce": "GTD"},
            -1106,
            "Parameter 'timeInForce' sent when not required.",
        ),
        (
            {
                "symbol": "SOLUSDT",
                "side": "BUY",
                "type": "MARKET",
                "quantity": "1",
                "price": "1",
                "timeInForce": "GTD",
            },
            -1106,
            "Parameter 'price' sent when not required.",
        ),
        (
            {**without(LIMIT, "timeInForce"), "type": "LIMIT_MAKER", "timeInForce": "GTD"},
            -1106,
            "Parameter 'timeInForce' sent when not required.",
        ),
        (
            {**LIMIT, "timeInForce": "GTD", "quoteOrderQty": "10"},
            -1106,
            "Parameter 'quoteOrderQty' sent when not required.",
        ),
        ({**LIMIT, "timeInForce": "GTD", "newClientOrderId": "has space"}, -1100, None),
        (
            {**LIMIT, "timeInForce": "GTD", "selfTradePreventionMode": "EXPIRE_ALL"},
            -1130,
            "Data sent for parameter 'selfTradePreventionMode' is not valid.",
        ),
    ],
)
def test_bad_new_orders_are_refused_with_binance_errors(
    venue: Venue, params: dict[str, str], code: int, msg: str | None
) -> None:
    before = signed(venue.url, venue.alice, "GET", "/api/v3/account").json()["balances"]
    for path in ("/api/v3/order/test", "/api/v3/order"):
        response = signed(venue.url, venue.alice, "POST", path, **params)
        if path.endswith("test") and code == -2010:
            assert response.json() == {}  # order/test checks no balance
            continue
        got = error(response)
        assert got[0] == code and (msg is None or got[1] == msg), got
    assert signed(venue.url, venue.alice, "GET", "/api/v3/account").json()["balances"] == before


def test_limit_maker_that_would_cross_is_refused(venue: Venue) -> None:
    resting = signed(
        venue.url, venue.bob, "POST", "/api/v3/order", **{**LIMIT, "side": "SELL", "price": "60"}
    ).json()
    got = signed(
        venue.url,
        venue.alice,
        "POST",
        "/api/v3/order",
        symbol="SOLUSDT",
        side="BUY",
        type="LIMIT_MAKER",
        quantity="1",
        price="60",
    )
    assert error(got) == (-2010, "Order would immediately match and take.")
    canceled = signed(
        venue.url,
        venue.bob,
        "DELETE",
        "/api/v3/order",
        symbol="SOLUSDT",
        origClientOrderId=resting["clientOrderId"],
        newClientOrderId="my-cancel",
    ).json()
    assert (
        canceled["clientOrderId"] == "my-cancel" and canceled["origClientOrderId"] == resting["clientOrderId"]
    )


def test_response_types_and_no_forbidden_keys(venue: Venue) -> None:
    bodies: list[dict[str, Any]] = []
    for resp_type, keys in (("ACK", 5), ("RESULT", 16), ("FULL", 17)):
        body = signed(
            venue.url,
            venue.alice,
            "POST",
            "/api/v3/order",
            **{**LIMIT, "price": "11", "newOrderRespType": resp_type},
        ).json()
        assert len(body) == keys, body
        bodies.append(body)
    assert bodies[2]["fills"] == [] and bodies[1]["cummulativeQuoteQty"] == "0.00000000"
    for body in bodies:
        assert not {"code", "positionSide", "cumQuote"} & set(body)
    cleared = signed(venue.url, venue.alice, "DELETE", "/api/v3/openOrders", symbol="SOLUSDT").json()
    assert len(cleared) == 3 and all(o["status"] == "CANCELED" for o in cleared)
    assert error(signed(venue.url, venue.alice, "DELETE", "/api/v3/openOrders", symbol="SOLUSDT")) == (
        -2011,
        "Unknown order sent.",
    )


def test_order_queries_need_an_id_and_say_which_error(venue: Venue) -> None:
    assert error(signed(venue.url, venue.alice, "GET", "/api/v3/order", symbol="SOLUSDT"))[0] == -1102
    assert (
        error(signed(venue.url, venue.alice, "GET", "/api/v3/order", symbol="SOLUSDT", orderId="x"))[0]
        == -1100
    )
    assert error(
        signed(venue.url, venue.alice, "GET", "/api/v3/order", symbol="SOLUSDT", orderId="777777")
    ) == (-2013, "Order does not exist.")
    assert error(
        signed(venue.url, venue.alice, "DELETE", "/api/v3/order", symbol="SOLUSDT", origClientOrderId="nope")
    ) == (-2011, "Unknown order sent.")
    assert error(signed(venue.url, venue.alice, "GET", "/api/v3/myTrades"))[0] == -1102
    assert error(signed(venue.url, venue.alice, "GET", "/api/v3/allOrders", symbol="NOPE"))[0] == -1121
    assert (
        error(signed(venue.url, venue.alice, "GET", "/api/v3/account", omitZeroBalances="maybe"))[0] == -1130
    )


def test_account_omits_zero_balances_and_shows_key_rights(venue: Venue) -> None:
    reader = signed(venue.url, venue.reader, "GET", "/api/v3/account", omitZeroBalances="true").json()
    assert reader["canTrade"] is False and reader["canWithdraw"] is False
    assert {b["asset"] for b in reader["balances"]} == {"BTC", "ETH", "SOL", "USDT"}
    assert signed(venue.url, venue.alice, "GET", "/api/v3/account").json()["canTrade"] is True


def get(venue: Venue, path: str, **params: str) -> httpx.Response:
    return httpx.get(venue.url + path, params=params, timeout=10)


def test_public_market_data_shapes_and_errors(venue: Venue) -> None:
    info = get(venue, "/api/v3/exchangeInfo", symbols=json.dumps(["BTCUSDT", "ETHBTC"])).json()
    assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT", "ETHBTC"]
    one = get(venue, "/api/v3/exchangeInfo", symbol="SOLUSDT").json()["symbols"][0]
    assert (
        one["orderTypes"]
        == [
            "LIMIT",
            "LIMIT_MAKER",
            "MARKET",
            "STOP_LOSS",
            "STOP_LOSS_LIMIT",
            "TAKE_PROFIT",
            "TAKE_PROFIT_LIMIT",
        ]
        and one["isMarginTradingAllowed"] is False
    )
    assert one["permissions"] == [] and one["permissionSets"] == [["SPOT"]]
    assert not {"contractType", "deliveryDate", "underlying"} & set(one)
    assert [f["filterType"] for f in one["filters"]] == [
        "PRICE_FILTER",
        "LOT_SIZE",
        "MARKET_LOT_SIZE",
        "NOTIONAL",
        "TRAILING_DELTA",
        "MAX_NUM_ORDERS",
        "MAX_NUM_ALGO_ORDERS",
        "MAX_NUM_ORDER_LISTS",
        "MAX_NUM_ORDER_AMENDS",
    ]
    assert error(get(venue, "/api/v3/exchangeInfo", symbol="NOPE")) == (-1121, "Invalid symbol.")
    assert error(get(venue, "/api/v3/exchangeInfo", symbols="BTCUSDT"))[0] == -1100
    ticker = get(venue, "/api/v3/ticker/24hr", symbol="BTCUSDT")
    assert isinstance(ticker.json(), dict) and "time" not in ticker.json() and "bidQty" in ticker.json()
    assert ticker.headers["X-MBX-USED-WEIGHT-1M"].isdigit()
    assert len(get(venue, "/api/v3/ticker/24hr").json()) == 4
    pair = get(venue, "/api/v3/ticker/24hr", symbols='["BTCUSDT","SOLUSDT"]').json()
    assert [t["symbol"] for t in pair] == ["BTCUSDT", "SOLUSDT"]
    assert set(get(venue, "/api/v3/ticker/24hr", symbol="BTCUSDT", type="MINI").json()) >= {
        "lastPrice",
        "count",
    }
    assert isinstance(get(venue, "/api/v3/ticker/price").json(), list)
    assert get(venue, "/api/v3/ticker/bookTicker", symbol="ETHBTC").json()["symbol"] == "ETHBTC"
    assert error(get(venue, "/api/v3/klines", symbol="BTCUSDT")) == (
        -1102,
        "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.",
    )
    assert error(get(venue, "/api/v3/klines", symbol="BTCUSDT", interval="2m")) == (
        -1120,
        "Invalid interval.",
    )
    assert error(get(venue, "/api/v3/depth", symbol="BTCUSDT", limit="many"))[0] == -1100
    assert error(get(venue, "/api/v3/depth"))[0] == -1102
    assert error(get(venue, "/api/v3/avgPrice", symbol="btcusdt"))[0] == -1100
    depth = get(venue, "/api/v3/depth", symbol="BTCUSDT", limit="5").json()
    assert set(depth) == {"lastUpdateId", "bids", "asks"}


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v3/aggTrades", {"symbol": "BTCUSDT", "fromId": "99999999999999999999"}),
        ("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1m", "startTime": "18446744073709551615"}),
        ("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1M", "limit": "0"}),
        ("/api/v3/trades", {"symbol": "BTCUSDT", "limit": "-1"}),
        ("/api/v3/depth", {"symbol": "BTCUSDT", "limit": "1e3"}),
        ("/api/v3/ticker/24hr", {"symbols": "[]"}),
        ("/api/v3/ticker/price", {"symbols": '["BTCUSDT",1]'}),
        ("/api/v3/ticker/bookTicker", {"symbol": "BTCUSDT", "symbols": '["BTCUSDT"]'}),
        ("/api/v3/ticker/24hr", {"symbol": "BTCUSDT", "type": "TINY"}),
    ],
)
def test_odd_public_parameters_get_a_binance_error_never_a_500(
    venue: Venue, path: str, params: dict[str, str]
) -> None:
    response = get(venue, path, **params)
    assert 400 <= response.status_code < 500 and set(response.json()) == {"code", "msg"}, response.text


def test_odd_signed_parameters_get_a_binance_error_never_a_500(venue: Venue) -> None:
    for method, path, params in (
        ("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "fromId": "99999999999999999999"}),
        ("GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": "18446744073709551615"}),
        ("POST", "/api/v3/order", {**LIMIT, "quantity": "1e-30"}),
        ("POST", "/api/v3/order", {**LIMIT, "quantity": "1e+400"}),
        ("POST", "/api/v3/order", {**LIMIT, "selfTradePreventionMode": "SOMETIMES"}),
        (
            "POST",
            "/api/v3/order",
            {"symbol": "SOLUSDT", "side": "BUY", "type": "MARKET", "quoteOrderQty": "0"},
        ),
        ("GET", "/sapi/v1/asset/tradeFee", {"symbol": "NOPE"}),
    ):
        response = signed(venue.url, venue.alice, method, path, **params)
        assert 400 <= response.status_code < 500 and set(response.json()) == {"code", "msg"}, response.text
