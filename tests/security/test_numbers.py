"""Issue #7 item 7: numbers are ASCII digits, on every route; a Unicode digit is never a 500.

``"²".isdigit()`` is true and ``int("²")`` fails; ``int("٣")`` is 3. ``limit=²`` on the public
``/api/v3/depth`` answered 500 with a traceback in the log. Every numeric parameter of every
route gets a Unicode digit here and must get a Binance-shaped 4xx.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyplane.http.app import all_routes
from tests.http.conftest import issue_key
from tests.support.databases import fresh_database
from tests.support.server import Instance, free_port, server_env
from tests.support.signing import hmac_hex

# Not ASCII digits, though str.isdigit() or int() (or both) take them; a trailing newline that `$` lets
# through; and a number int() refuses.
UNICODE_DIGITS = ["5\n", "²", "٣", "５", "𝟓", "1²", "¹⁰", "١٢٣٤٥٦٧٨٩٠١٢٣", "9" * 5000]
SIGNING = ["timestamp", "recvWindow"]
ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
ORDER_AMOUNTS = {"quantity": "0.001", "price": "10000"}

# Every route: the valid parameters it is called with, and its numeric parameters.
ROUTES: dict[tuple[str, str], tuple[dict[str, str], list[str]]] = {
    ("GET", "/api/v3/ping"): ({}, []),
    ("GET", "/api/v3/time"): ({}, []),
    ("GET", "/sapi/v1/system/status"): ({}, []),
    ("GET", "/fapi/v1/exchangeInfo"): ({}, []),
    ("GET", "/dapi/v1/exchangeInfo"): ({}, []),
    ("GET", "/api/v3/exchangeInfo"): ({}, []),
    ("GET", "/api/v3/depth"): ({"symbol": "BTCUSDT"}, ["limit"]),
    ("GET", "/api/v3/trades"): ({"symbol": "BTCUSDT"}, ["limit"]),
    ("GET", "/api/v3/historicalTrades"): ({"symbol": "BTCUSDT"}, ["limit", "fromId"]),
    ("GET", "/api/v3/aggTrades"): ({"symbol": "BTCUSDT"}, ["fromId", "startTime", "endTime", "limit"]),
    ("GET", "/api/v3/klines"): ({"symbol": "BTCUSDT", "interval": "1m"}, ["startTime", "endTime", "limit"]),
    ("GET", "/api/v3/ticker/24hr"): ({"symbol": "BTCUSDT"}, []),
    ("GET", "/api/v3/ticker/price"): ({"symbol": "BTCUSDT"}, []),
    ("GET", "/api/v3/ticker/bookTicker"): ({"symbol": "BTCUSDT"}, []),
    ("GET", "/api/v3/avgPrice"): ({"symbol": "BTCUSDT"}, []),
    ("GET", "/api/v3/uiKlines"): ({"symbol": "BTCUSDT", "interval": "1m"}, ["startTime", "endTime", "limit"]),
    ("GET", "/api/v3/ticker"): ({"symbol": "BTCUSDT"}, ["windowSize"]),
    ("GET", "/api/v3/ticker/tradingDay"): ({"symbol": "BTCUSDT"}, ["timeZone"]),
    ("GET", "/api/v3/account/commission"): ({"symbol": "BTCUSDT"}, SIGNING),
    ("GET", "/api/v3/rateLimit/order"): ({}, SIGNING),
    ("GET", "/api/v3/myPreventedMatches"): (
        {"symbol": "BTCUSDT", "orderId": "1"},
        [*SIGNING, "orderId", "preventedMatchId", "fromPreventedMatchId", "limit"],
    ),
    ("GET", "/api/v3/account"): ({}, SIGNING),
    ("POST", "/api/v3/order"): ({**ORDER, **ORDER_AMOUNTS}, [*SIGNING, "quantity", "price"]),
    ("POST", "/api/v3/order/test"): ({**ORDER, **ORDER_AMOUNTS}, [*SIGNING, "quantity", "price"]),
    ("GET", "/api/v3/order"): ({"symbol": "BTCUSDT", "orderId": "1"}, [*SIGNING, "orderId"]),
    ("DELETE", "/api/v3/order"): ({"symbol": "BTCUSDT", "orderId": "1"}, [*SIGNING, "orderId"]),
    ("GET", "/api/v3/openOrders"): ({}, SIGNING),
    ("DELETE", "/api/v3/openOrders"): ({"symbol": "BTCUSDT"}, SIGNING),
    ("GET", "/api/v3/allOrders"): (
        {"symbol": "BTCUSDT"},
        [*SIGNING, "orderId", "startTime", "endTime", "limit"],
    ),
    ("GET", "/api/v3/myTrades"): (
        {"symbol": "BTCUSDT"},
        [*SIGNING, "orderId", "startTime", "endTime", "fromId", "limit"],
    ),
    ("POST", "/api/v3/order/cancelReplace"): (
        {**ORDER, **ORDER_AMOUNTS, "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrderId": "1"},
        [*SIGNING, "quantity", "price", "cancelOrderId"],
    ),
    ("PUT", "/api/v3/order/amend/keepPriority"): (
        {"symbol": "BTCUSDT", "orderId": "1", "newQty": "0.0005"},
        [*SIGNING, "orderId", "newQty"],
    ),
    ("GET", "/api/v3/order/amendments"): (
        {"symbol": "BTCUSDT", "orderId": "1"},
        [*SIGNING, "orderId", "fromExecutionId", "limit"],
    ),
    ("POST", "/api/v3/orderList/oco"): (
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "quantity": "0.001",
            "aboveType": "LIMIT_MAKER",
            "abovePrice": "40000",
            "belowType": "STOP_LOSS_LIMIT",
            "belowStopPrice": "20000",
            "belowPrice": "19000",
            "belowTimeInForce": "GTC",
        },
        [*SIGNING, "quantity", "abovePrice", "belowStopPrice", "belowPrice", "belowTrailingDelta"],
    ),
    ("POST", "/api/v3/order/oco"): (
        {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "quantity": "0.001",
            "price": "40000",
            "stopPrice": "20000",
            "stopLimitPrice": "19000",
            "stopLimitTimeInForce": "GTC",
        },
        [*SIGNING, "quantity", "price", "stopPrice", "stopLimitPrice", "trailingDelta"],
    ),
    ("POST", "/api/v3/orderList/oto"): (
        {
            "symbol": "BTCUSDT",
            "workingType": "LIMIT",
            "workingSide": "BUY",
            "workingPrice": "10000",
            "workingQuantity": "0.001",
            "workingTimeInForce": "GTC",
            "pendingType": "LIMIT",
            "pendingSide": "SELL",
            "pendingPrice": "40000",
            "pendingQuantity": "0.001",
            "pendingTimeInForce": "GTC",
        },
        [
            *SIGNING,
            "workingPrice",
            "workingQuantity",
            "pendingPrice",
            "pendingQuantity",
            "pendingTrailingDelta",
        ],
    ),
    ("POST", "/api/v3/orderList/otoco"): (
        {
            "symbol": "BTCUSDT",
            "workingType": "LIMIT",
            "workingSide": "BUY",
            "workingPrice": "10000",
            "workingQuantity": "0.001",
            "workingTimeInForce": "GTC",
            "pendingSide": "SELL",
            "pendingQuantity": "0.001",
            "pendingAboveType": "LIMIT_MAKER",
            "pendingAbovePrice": "40000",
            "pendingBelowType": "STOP_LOSS_LIMIT",
            "pendingBelowStopPrice": "9000",
            "pendingBelowPrice": "8900",
            "pendingBelowTimeInForce": "GTC",
        },
        [
            *SIGNING,
            "workingPrice",
            "workingQuantity",
            "pendingQuantity",
            "pendingAbovePrice",
            "pendingAboveStopPrice",
            "pendingAboveTrailingDelta",
            "pendingBelowPrice",
            "pendingBelowStopPrice",
            "pendingBelowTrailingDelta",
        ],
    ),
    ("GET", "/api/v3/orderList"): ({"orderListId": "1"}, [*SIGNING, "orderListId"]),
    ("DELETE", "/api/v3/orderList"): ({"symbol": "BTCUSDT", "orderListId": "1"}, [*SIGNING, "orderListId"]),
    ("GET", "/api/v3/allOrderList"): ({}, [*SIGNING, "fromId", "startTime", "endTime", "limit"]),
    ("GET", "/api/v3/openOrderList"): ({}, SIGNING),
    ("GET", "/sapi/v1/asset/tradeFee"): ({}, SIGNING),
    ("GET", "/sapi/v1/capital/config/getall"): ({}, SIGNING),
    ("GET", "/sapi/v1/capital/deposit/address"): ({"coin": "BTC"}, SIGNING),
    ("POST", "/sapi/v1/capital/withdraw/apply"): (
        {
            "coin": "USDT",
            "network": "ETH",
            "address": "0x9858EfFD232B4033E47d90003D41EC34EcaEda94",
            "amount": "20",
        },
        [*SIGNING, "amount"],
    ),
    ("GET", "/sapi/v1/capital/withdraw/history"): (
        {},
        [*SIGNING, "status", "offset", "limit", "startTime", "endTime"],
    ),
    ("GET", "/sapi/v1/capital/deposit/hisrec"): (
        {},
        [*SIGNING, "status", "offset", "limit", "startTime", "endTime"],
    ),
    ("GET", "/sapi/v1/account/status"): ({}, SIGNING),
    ("GET", "/sapi/v1/account/apiTradingStatus"): ({}, SIGNING),
    ("GET", "/sapi/v1/account/apiRestrictions"): ({}, SIGNING),
    ("GET", "/sapi/v1/accountSnapshot"): ({"type": "SPOT"}, [*SIGNING, "startTime", "endTime", "limit"]),
    ("POST", "/sapi/v3/asset/getUserAsset"): ({}, SIGNING),
    ("GET", "/sapi/v1/margin/allPairs"): ({}, SIGNING),
    ("GET", "/sapi/v1/margin/isolated/allPairs"): ({}, SIGNING),
}
SIGNED = {(r.method, r.path) for r in all_routes() if r.security.value == "signed"}
MARKET_ORDER = ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET"}, ["quoteOrderQty", "quantity"])
STOP_ORDER = (
    {**ORDER, **ORDER_AMOUNTS, "type": "STOP_LOSS_LIMIT", "stopPrice": "20000"},
    ["stopPrice", "trailingDelta"],
)


@dataclass
class Venue:
    server: Instance
    key: dict[str, str]
    log: Path


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    """A server with weight limits out of the way: hundreds of refusals must each reach the parser."""
    tmp: Path = tmp_path_factory.mktemp("numbers")
    with fresh_database(tmp) as url:
        limits = {"KEYPLANE_WEIGHT_LIMIT_PER_IP": "100000000", "KEYPLANE_WEIGHT_LIMIT_PER_KEY": "100000000"}
        instance = Instance(server_env(tmp / "data", url, None, **limits), free_port())
        instance.cli("users", "create", "alice")
        instance.start(tmp / "server.log")
        try:
            yield Venue(instance, issue_key(instance, "--permissions", "read,trade"), tmp / "server.log")
        finally:
            instance.stop()


def call(venue: Venue, method: str, path: str, params: dict[str, str]) -> httpx.Response:
    server, key = venue.server, venue.key
    if (method, path) not in SIGNED:
        return httpx.request(method, f"{server.url}{path}", params=params, timeout=10)
    signing = {"timestamp": str(time.time_ns() // 1_000_000), "recvWindow": "5000"}
    query = urlencode({**signing, **params})
    query += "&signature=" + hmac_hex(key["secret"], query)
    return httpx.request(
        method, f"{server.url}{path}?{query}", headers={"X-MBX-APIKEY": key["key"]}, timeout=10
    )


def assert_refused_cleanly(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    body = response.json()
    assert isinstance(body["code"], int) and body["code"] != -1000, body


def test_the_table_names_every_route() -> None:
    assert set(ROUTES) == {(r.method, r.path) for r in all_routes()}


CASES = (
    [(method, path, base, name) for (method, path), (base, names) in ROUTES.items() for name in names]
    + [("POST", "/api/v3/order", MARKET_ORDER[0], name) for name in MARKET_ORDER[1]]
    + [("POST", "/api/v3/order", STOP_ORDER[0], name) for name in STOP_ORDER[1]]
)


@pytest.mark.parametrize(
    ("method", "path", "base", "name"), CASES, ids=[f"{c[0]} {c[1]} {c[3]}" for c in CASES]
)
def test_a_unicode_digit_in_a_numeric_parameter_is_a_clean_refusal(
    venue: Venue, method: str, path: str, base: dict[str, str], name: str
) -> None:
    for digits in UNICODE_DIGITS:
        assert_refused_cleanly(call(venue, method, path, {**base, name: digits}))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.text(
        st.characters(categories=["Nd", "No", "Nl"], exclude_characters="0123456789"), min_size=1, max_size=4
    ).map(lambda s: "1" + s)
)
def test_any_unicode_number_as_depth_limit_is_a_clean_refusal(venue: Venue, digits: str) -> None:
    assert_refused_cleanly(call(venue, "GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": digits}))


def test_the_server_logged_no_traceback(venue: Venue) -> None:
    assert_refused_cleanly(call(venue, "GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": "²"}))
    text = venue.log.read_text()
    assert "Traceback" not in text
    assert "internal error" not in text
