"""Amending orders over HTTP: ccxt's ``edit_order`` (cancelReplace) loses the queue place, amend
keepPriority keeps it, as Binance documents; failures answer with Binance's codes and statuses.

A server of its own (alice, bob, carol) so that no other module's orders share its price levels.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any

import httpx
import pytest

from keyplane.exchange.markets import DEFAULT_FEE
from tests.conftest import REDIS_URL, redis_available
from tests.http.conftest import issue_key
from tests.http.exchange.conftest import MINIMAL
from tests.http.exchange.funding import fund_before_start
from tests.http.exchange.raw import signed
from tests.support.aio import run
from tests.support.clients import ccxt_binance
from tests.support.databases import backend, fresh_database
from tests.support.server import Instance, free_port, server_env
from tests.support.signing import hmac_hex
from tests.support.wsclient import ask, connect

FUNDS = {"USDT": "1000000", "BTC": "10", "ETH": "100", "SOL": "1000"}
NAMES = ("alice", "bob", "carol")
CANCEL_REPLACE, AMEND = "/api/v3/order/cancelReplace", "/api/v3/order/amend/keepPriority"


@dataclass
class Floor:
    server: Instance
    keys: dict[str, dict[str, str]]

    def ccxt(self, name: str) -> Any:
        key = self.keys[name]
        return ccxt_binance(self.server.url, key["key"], key["secret"], **MINIMAL)

    def call(self, name: str, method: str, path: str, **params: Any) -> httpx.Response:
        return signed(self.server.url, self.keys[name], method, path, **params)

    def balances(self, name: str) -> dict[str, tuple[D, D]]:
        account = self.call(name, "GET", "/api/v3/account").json()
        return {b["asset"]: (D(b["free"]), D(b["locked"])) for b in account["balances"]}

    def open_orders(self, name: str, symbol: str) -> list[dict[str, Any]]:
        return self.call(name, "GET", "/api/v3/openOrders", symbol=symbol).json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Floor]:
    tmp = tmp_path_factory.mktemp("amend")
    with fresh_database(tmp) as url:
        redis_url = REDIS_URL if backend() == "postgresql" and redis_available() else None
        server = Instance(server_env(tmp / "data", url, redis_url), free_port())
        for name in NAMES:
            server.cli("users", "create", name)
        fund_before_start(url, {name: FUNDS for name in NAMES})
        server.start(tmp / "server.log")
        try:
            keys = {n: issue_key(server, "--permissions", "read,trade", user=n) for n in NAMES}
            yield Floor(server, keys)
        finally:
            server.stop()


def test_ccxt_edit_order_replaces_a_resting_order_behind_its_level(floor: Floor) -> None:
    alice, bob, carol = (floor.ccxt(n) for n in NAMES)
    first = alice.create_order("BTC/USDT", "limit", "sell", 0.01, 30000)
    second = bob.create_order("BTC/USDT", "limit", "sell", 0.01, 30000)
    edited = alice.edit_order(first["id"], "BTC/USDT", "limit", "sell", 0.01, 30000)
    assert edited["id"] != first["id"] and int(edited["id"]) > int(second["id"])
    assert edited["status"] == "open" and edited["amount"] == 0.01 and edited["price"] == 30000
    assert alice.fetch_order(first["id"], "BTC/USDT")["status"] == "canceled"
    assert floor.balances("alice")["BTC"] == (D("9.99"), D("0.01"))
    carol.create_order("BTC/USDT", "market", "buy", 0.01)
    assert bob.fetch_order(second["id"], "BTC/USDT")["status"] == "closed"
    still = alice.fetch_order(edited["id"], "BTC/USDT")
    assert still["status"] == "open" and still["filled"] == 0
    assert floor.balances("alice")["BTC"] == (D("9.99"), D("0.01"))
    assert floor.balances("bob")["BTC"] == (D("9.99"), D(0))
    assert floor.balances("bob")["USDT"] == (D(1000000) + D(300) * (1 - DEFAULT_FEE), D(0))
    alice.cancel_order(edited["id"], "BTC/USDT")
    assert floor.balances("alice")["BTC"] == (D(10), D(0))


def test_amend_keep_priority_keeps_the_order_first_in_its_level(floor: Floor) -> None:
    alice, bob, carol = (floor.ccxt(n) for n in NAMES)
    first = alice.create_order("ETH/USDT", "limit", "sell", 1, 2000, {"clientOrderId": "eth-1"})
    second = bob.create_order("ETH/USDT", "limit", "sell", 1, 2000)
    response = floor.call(
        "alice", "PUT", AMEND, symbol="ETHUSDT", orderId=first["id"], newQty="0.6", newClientOrderId="eth-2"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"transactTime", "executionId", "amendedOrder"}
    amended = body["amendedOrder"]
    assert amended["orderId"] == int(first["id"]) and amended["qty"] == "0.60000000"
    assert (amended["origClientOrderId"], amended["clientOrderId"]) == ("eth-1", "eth-2")
    assert amended["status"] == "NEW" and amended["executedQty"] == "0.00000000"
    assert floor.balances("alice")["ETH"] == (D("99.4"), D("0.6"))
    history = floor.call("alice", "GET", "/api/v3/order/amendments", symbol="ETHUSDT", orderId=first["id"])
    assert history.json() == [
        {
            "symbol": "ETHUSDT",
            "orderId": int(first["id"]),
            "executionId": body["executionId"],
            "origClientOrderId": "eth-1",
            "newClientOrderId": "eth-2",
            "origQty": "1.00000000",
            "newQty": "0.60000000",
            "time": body["transactTime"],
        }
    ]
    theirs = floor.call("bob", "GET", "/api/v3/order/amendments", symbol="ETHUSDT", orderId=first["id"])
    assert theirs.json() == []
    fetched = alice.fetch_order(first["id"], "ETH/USDT")
    assert fetched["amount"] == 0.6 and fetched["clientOrderId"] == "eth-2"
    carol.create_order("ETH/USDT", "market", "buy", 0.6)
    assert alice.fetch_order(first["id"], "ETH/USDT")["status"] == "closed"
    assert bob.fetch_order(second["id"], "ETH/USDT")["filled"] == 0
    assert floor.balances("alice")["ETH"] == (D("99.4"), D(0))
    assert floor.balances("alice")["USDT"] == (D(1000000) + D(1200) * (1 - DEFAULT_FEE), D(0))
    bob.cancel_order(second["id"], "ETH/USDT")


def _sol_order(name: str, floor: Floor, price: str) -> dict[str, Any]:
    response = floor.call(
        name, "POST", "/api/v3/order", symbol="SOLUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
        quantity="1", price=price,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


NEW_SOL = {
    "symbol": "SOLUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "2",
    "price": "11",
}


def test_a_failed_cancel_answers_2022_and_changes_nothing(floor: Floor) -> None:
    mine = _sol_order("alice", floor, "10")
    before = floor.balances("alice"), floor.open_orders("alice", "SOLUSDT")
    response = floor.call(
        "alice", "POST", CANCEL_REPLACE, cancelReplaceMode="STOP_ON_FAILURE", cancelOrderId=999999, **NEW_SOL
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": -2022,
        "msg": "Order cancel-replace failed.",
        "data": {
            "cancelResult": "FAILURE",
            "newOrderResult": "NOT_ATTEMPTED",
            "cancelResponse": {"code": -2011, "msg": "Unknown order sent."},
            "newOrderResponse": None,
        },
    }
    restricted = floor.call(
        "alice", "POST", CANCEL_REPLACE, cancelReplaceMode="STOP_ON_FAILURE", cancelOrderId=mine["orderId"],
        cancelRestrictions="ONLY_PARTIALLY_FILLED", **NEW_SOL,
    )  # fmt: skip
    assert restricted.status_code == 400 and restricted.json()["code"] == -2022
    assert restricted.json()["data"]["cancelResponse"] == {
        "code": -2011,
        "msg": "Order was not canceled due to cancel restrictions.",
    }
    for params, code in (
        ({"cancelReplaceMode": "SOMETIMES"}, -1130),
        ({}, -1102),
        ({"cancelReplaceMode": "ALLOW_FAILURE", "cancelRestrictions": "ONLY_OLD"}, -1130),
        ({"cancelReplaceMode": "ALLOW_FAILURE", "orderRateLimitExceededMode": "PANIC"}, -1130),
        ({"cancelReplaceMode": "ALLOW_FAILURE", "price": "11.0001"}, -1013),
    ):
        bad = floor.call(
            "alice", "POST", CANCEL_REPLACE, cancelOrderId=mine["orderId"], **{**NEW_SOL, **params}
        )
        assert (bad.status_code, bad.json()["code"]) == (400, code), bad.text
    assert (floor.balances("alice"), floor.open_orders("alice", "SOLUSDT")) == before
    floor.call("alice", "DELETE", "/api/v3/openOrders", symbol="SOLUSDT")


def test_one_failed_half_answers_2021_with_409(floor: Floor) -> None:
    usdt = floor.balances("alice")["USDT"]
    allowed = floor.call(
        "alice", "POST", CANCEL_REPLACE, cancelReplaceMode="ALLOW_FAILURE", cancelOrderId=999999, **NEW_SOL
    )
    assert allowed.status_code == 409 and allowed.json()["code"] == -2021
    data = allowed.json()["data"]
    assert (data["cancelResult"], data["newOrderResult"]) == ("FAILURE", "SUCCESS")
    placed = data["newOrderResponse"]
    assert [o["orderId"] for o in floor.open_orders("alice", "SOLUSDT")] == [placed["orderId"]]
    floor.call("bob", "POST", "/api/v3/order", symbol="SOLUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
               quantity="1", price="12")  # fmt: skip
    maker = {**NEW_SOL, "type": "LIMIT_MAKER", "price": "12"}
    del maker["timeInForce"]
    taken = floor.call(
        "alice",
        "POST",
        CANCEL_REPLACE,
        cancelReplaceMode="STOP_ON_FAILURE",
        cancelOrderId=placed["orderId"],
        **maker,
    )
    assert taken.status_code == 409 and taken.json()["code"] == -2021
    data = taken.json()["data"]
    assert (data["cancelResult"], data["newOrderResult"]) == ("SUCCESS", "FAILURE")
    assert data["cancelResponse"]["status"] == "CANCELED"
    assert data["newOrderResponse"] == {"code": -2010, "msg": "Order would immediately match and take."}
    assert floor.open_orders("alice", "SOLUSDT") == []
    assert floor.balances("alice")["USDT"] == usdt
    floor.call("bob", "DELETE", "/api/v3/openOrders", symbol="SOLUSDT")


def test_amend_refusals_answer_2038_and_change_nothing(floor: Floor) -> None:
    mine = _sol_order("alice", floor, "9")
    before = floor.balances("alice"), floor.open_orders("alice", "SOLUSDT")
    for params, code, msg in (
        ({"orderId": 999999, "newQty": "0.5"}, -2038, "Unknown order sent."),
        (
            {"orderId": mine["orderId"], "newQty": "1"},
            -2038,
            "The requested action would change no state; rejecting",
        ),
        (
            {"orderId": mine["orderId"], "newQty": "2"},
            -2038,
            "Order amend (quantity increase) is not supported.",
        ),
        (
            {"orderId": mine["orderId"]},
            -1102,
            "Mandatory parameter 'newQty' was not sent, was empty/null, or malformed.",
        ),
        (
            {"newQty": "0.5"},
            -1102,
            "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!",
        ),
    ):
        response = floor.call("alice", "PUT", AMEND, symbol="SOLUSDT", **params)
        assert (response.status_code, response.json()) == (400, {"code": code, "msg": msg})
    assert (floor.balances("alice"), floor.open_orders("alice", "SOLUSDT")) == before
    floor.call("alice", "DELETE", "/api/v3/openOrders", symbol="SOLUSDT")


def test_exchange_info_says_both_are_allowed(floor: Floor) -> None:
    info = httpx.get(f"{floor.server.url}/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"}).json()
    (market,) = info["symbols"]
    assert market["cancelReplaceAllowed"] is True and market["amendAllowed"] is True


def _ws_signed(key: dict[str, str], **params: Any) -> dict[str, Any]:
    """Params as ccxt signs them for the WebSocket API: sorted, ``k=v`` joined, HMAC-SHA256 hex."""
    params = {"apiKey": key["key"], "timestamp": int(time.time() * 1000), **params}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "signature": hmac_hex(key["secret"], payload)}


def test_websocket_api_cancel_replace_and_amend(floor: Floor) -> None:
    key = floor.keys["carol"]
    first = floor.call(
        "carol", "POST", "/api/v3/order", symbol="ETHBTC", side="SELL", type="LIMIT", timeInForce="GTC",
        quantity="1", price="0.05",
    ).json()  # fmt: skip
    order = {"symbol": "ETHBTC", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "price": "0.05"}

    async def go() -> list[dict[str, Any]]:
        ws = await connect(floor.server.url, "/ws-api/v3")
        try:
            replace = _ws_signed(
                key,
                **order,
                quantity="1",
                cancelOrderId=first["orderId"],
                cancelReplaceMode="STOP_ON_FAILURE",
            )
            replaced = await ask(ws, {"id": 1, "method": "order.cancelReplace", "params": replace})
            new_id = replaced["result"]["newOrderResponse"]["orderId"]
            amend = _ws_signed(key, symbol="ETHBTC", orderId=new_id, newQty="0.4")
            amended = await ask(ws, {"id": 2, "method": "order.amend.keepPriority", "params": amend})
            again = _ws_signed(
                key,
                **order,
                quantity="1",
                cancelOrderId=first["orderId"],
                cancelReplaceMode="STOP_ON_FAILURE",
            )
            failed = await ask(ws, {"id": 3, "method": "order.cancelReplace", "params": again})
            return [replaced, amended, failed]
        finally:
            await ws.close()

    replaced, amended, failed = run(go())
    assert replaced["status"] == 200 and replaced["result"]["cancelResult"] == "SUCCESS", replaced
    assert amended["status"] == 200 and amended["result"]["amendedOrder"]["qty"] == "0.40000000", amended
    assert failed["status"] == 400 and failed["error"]["code"] == -2022
    assert failed["error"]["data"]["newOrderResult"] == "NOT_ATTEMPTED"
    (still,) = floor.open_orders("carol", "ETHBTC")
    assert (
        still["orderId"] == replaced["result"]["newOrderResponse"]["orderId"]
        and still["origQty"] == "0.40000000"
    )
    floor.call("carol", "DELETE", "/api/v3/openOrders", symbol="ETHBTC")
