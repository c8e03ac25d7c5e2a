"""Stop-loss and take-profit orders through unmodified ccxt: ``triggerPrice``, ``stopLossPrice``,
``takeProfitPrice`` and ``trailingDelta`` become Binance's conditional order types; OCO lists
through ccxt's raw ``orderList`` endpoints (ccxt has no unified call for them)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from tests.http.exchange.conftest import MINIMAL, Venue
from tests.support.clients import ccxt_binance

SYMBOL = "ETH/USDT"


@pytest.fixture(scope="module")
def alice(venue: Venue) -> Any:
    return ccxt_binance(venue.url, venue.alice["key"], venue.alice["secret"], **MINIMAL)


@pytest.fixture(scope="module")
def bob(venue: Venue) -> Any:
    return ccxt_binance(venue.url, venue.bob["key"], venue.bob["secret"], **MINIMAL)


@pytest.fixture
def last_at_2000(alice: Any, bob: Any) -> None:
    """No open order of either account on the market, and a last trade at 2000."""
    for client in (alice, bob):
        if client.fetch_open_orders(SYMBOL):
            client.cancel_all_orders(SYMBOL)
    bob.create_order(SYMBOL, "limit", "sell", 0.01, 2000)
    alice.create_order(SYMBOL, "limit", "buy", 0.01, 2000)


def test_a_stop_loss_limit_placed_with_trigger_price_triggers_when_another_accounts_trade_crosses_it(
    alice: Any, bob: Any, last_at_2000: None
) -> None:
    stop = alice.create_order(SYMBOL, "limit", "sell", 0.1, 1890, params={"triggerPrice": 1900})
    assert stop["info"]["type"] == "STOP_LOSS_LIMIT" and stop["status"] == "open"
    pending = alice.fetch_order(stop["id"], SYMBOL)
    assert pending["triggerPrice"] == 1900 and pending["status"] == "open"
    assert pending["info"]["workingTime"] == -1 and pending["info"]["isWorking"] is False
    assert stop["id"] in {o["id"] for o in alice.fetch_open_orders(SYMBOL)}
    assert alice.fetch_order_book(SYMBOL)["asks"] == []  # waits off the book
    bob.create_order(SYMBOL, "limit", "buy", 0.1, 1895)
    bob.create_order(SYMBOL, "limit", "sell", 0.01, 1900)
    assert alice.fetch_order(stop["id"], SYMBOL)["info"]["workingTime"] == -1  # no trade yet
    alice.create_order(SYMBOL, "limit", "buy", 0.01, 1900)  # trades at 1900: the stop triggers
    done = alice.fetch_order(stop["id"], SYMBOL)
    assert done["status"] == "closed" and done["filled"] == 0.1 and done["average"] == 1895
    assert done["info"]["workingTime"] > 0 and done["triggerPrice"] == 1900


def test_stop_loss_and_take_profit_prices_become_market_form_orders(
    alice: Any, bob: Any, last_at_2000: None
) -> None:
    sl = alice.create_order(SYMBOL, "market", "sell", 0.05, None, params={"stopLossPrice": 1800})
    tp = alice.create_order(SYMBOL, "market", "sell", 0.05, None, params={"takeProfitPrice": 2200})
    assert (sl["info"]["type"], tp["info"]["type"]) == ("STOP_LOSS", "TAKE_PROFIT")
    bob.create_order(SYMBOL, "limit", "buy", 0.05, 2150)
    bob.create_order(SYMBOL, "limit", "sell", 0.01, 2200)
    alice.create_order(SYMBOL, "limit", "buy", 0.01, 2200)  # trades at 2200: take profit sells
    assert alice.fetch_order(tp["id"], SYMBOL)["status"] == "closed"
    assert alice.fetch_order(tp["id"], SYMBOL)["average"] == 2150
    assert alice.fetch_order(sl["id"], SYMBOL)["status"] == "open"
    cancelled = alice.cancel_order(sl["id"], SYMBOL)
    assert cancelled["status"] == "canceled" and cancelled["info"]["stopPrice"].startswith("1800")


def test_a_trailing_stop_reports_its_delta(alice: Any, last_at_2000: None) -> None:
    params = {"trailingPercent": 2.5, "stopLossOrTakeProfit": "stopLoss"}  # ccxt sends trailingDelta=250
    order = alice.create_order(SYMBOL, "market", "sell", 0.05, None, params=params)
    info = alice.fetch_order(order["id"], SYMBOL)["info"]
    assert (info["type"], info["trailingDelta"], Decimal(info["stopPrice"])) == ("STOP_LOSS", 250, 0)
    assert info["trailingTime"] > 0  # no stop price: it tracks from the last price at once
    alice.cancel_order(order["id"], SYMBOL)


def test_a_stop_price_the_last_trade_already_met_is_refused(alice: Any, last_at_2000: None) -> None:
    with pytest.raises(ccxt.BaseError, match="Order would trigger immediately"):
        alice.create_order(SYMBOL, "limit", "sell", 0.1, 2000, params={"triggerPrice": 2100})
    assert alice.fetch_open_orders(SYMBOL) == []


def _sell_oco(client: Any, drop: tuple[str, ...] = (), **extra: str) -> dict[str, Any]:
    """A SELL OCO on ETH/USDT through ccxt's raw endpoint: LIMIT_MAKER at 2100 above, STOP_LOSS_LIMIT
    (stop 1900, limit 1890) below; ``extra`` changes parameters, ``drop`` leaves some out."""
    params = {
        "symbol": "ETHUSDT",
        "side": "SELL",
        "quantity": "0.1",
        "aboveType": "LIMIT_MAKER",
        "abovePrice": "2100",
        "belowType": "STOP_LOSS_LIMIT",
        "belowStopPrice": "1900",
        "belowPrice": "1890",
        "belowTimeInForce": "GTC",
        **extra,
    }
    placed: dict[str, Any] = client.private_post_orderlist_oco(
        {k: v for k, v in params.items() if k not in drop}
    )
    return placed


def test_an_oco_where_the_limit_leg_fills_expires_the_stop_leg_and_ends_the_list(
    alice: Any, bob: Any, last_at_2000: None
) -> None:
    placed = _sell_oco(alice, newOrderRespType="RESULT")
    list_id = placed["orderListId"]
    assert (placed["contingencyType"], placed["listStatusType"], placed["listOrderStatus"]) == (
        "OCO",
        "EXEC_STARTED",
        "EXECUTING",
    )
    above, below = (str(o["orderId"]) for o in placed["orders"])
    assert [r["type"] for r in placed["orderReports"]] == ["LIMIT_MAKER", "STOP_LOSS_LIMIT"]
    assert all(r["orderListId"] == list_id for r in placed["orderReports"])
    mine = {o["id"]: o for o in alice.fetch_open_orders(SYMBOL)}
    assert {above, below} <= set(mine) and mine[below]["info"]["orderListId"] == list_id
    assert [x["orderListId"] for x in alice.private_get_openorderlist()] == [list_id]
    bob.create_order(SYMBOL, "limit", "buy", 0.1, 2100)  # fills the limit leg
    assert alice.fetch_order(above, SYMBOL)["status"] == "closed"
    assert alice.fetch_order(below, SYMBOL)["status"] == "expired"
    done = alice.private_get_orderlist({"orderListId": list_id})
    assert (done["listStatusType"], done["listOrderStatus"]) == ("ALL_DONE", "ALL_DONE")
    assert [o["orderId"] for o in done["orders"]] == [int(above), int(below)]
    assert alice.private_get_openorderlist() == []
    assert list_id in [x["orderListId"] for x in alice.private_get_allorderlist()]


def test_cancelling_a_leg_or_the_list_cancels_both_legs(alice: Any, last_at_2000: None) -> None:
    first = _sell_oco(alice)
    above, below = (str(o["orderId"]) for o in first["orders"])
    alice.cancel_order(below, SYMBOL)
    assert alice.fetch_order(above, SYMBOL)["status"] == "canceled"
    second = _sell_oco(alice, listClientOrderId="my-list")
    cancelled = alice.private_delete_orderlist({"symbol": "ETHUSDT", "listClientOrderId": "my-list"})
    assert cancelled["orderListId"] == second["orderListId"] and cancelled["listStatusType"] == "ALL_DONE"
    assert [r["status"] for r in cancelled["orderReports"]] == ["CANCELED", "CANCELED"]
    assert alice.fetch_open_orders(SYMBOL) == [] and alice.private_get_openorderlist() == []
    with pytest.raises(ccxt.BaseError, match="Unknown order list sent"):
        alice.private_delete_orderlist({"symbol": "ETHUSDT", "orderListId": second["orderListId"]})


@pytest.mark.parametrize(
    ("extra", "msg"),
    [
        (
            {"aboveType": "STOP_LOSS", "aboveStopPrice": "2100"},
            "A stop loss order in a sell OCO must be below.",
        ),
        ({"belowType": "LIMIT_MAKER"}, "A limit order in a sell OCO must be above."),
        ({"abovePrice": "1950"}, "The relationship of the prices for the orders is not correct."),
        ({"aboveType": "LIMIT"}, "Order type not supported in OCO."),
    ],
)
def test_bad_oco_combinations_are_refused(
    alice: Any, last_at_2000: None, extra: dict[str, str], msg: str
) -> None:
    with pytest.raises(ccxt.BaseError, match=msg):
        _sell_oco(alice, **extra)
    assert alice.fetch_open_orders(SYMBOL) == [] and alice.private_get_openorderlist() == []


def test_the_deprecated_oco_endpoint_places_the_same_list(alice: Any, bob: Any, last_at_2000: None) -> None:
    placed = alice.private_post_order_oco(
        {
            "symbol": "ETHUSDT",
            "side": "BUY",
            "quantity": "0.1",
            "price": "1900",
            "stopPrice": "2100",
            "stopLimitPrice": "2110",
            "stopLimitTimeInForce": "GTC",
            "newOrderRespType": "RESULT",
        }
    )
    assert placed["contingencyType"] == "OCO"
    by_type = {r["type"]: r for r in placed["orderReports"]}
    assert set(by_type) == {"LIMIT_MAKER", "STOP_LOSS_LIMIT"}
    assert Decimal(by_type["STOP_LOSS_LIMIT"]["stopPrice"]) == 2100
    bob.create_order(SYMBOL, "limit", "sell", 0.1, 1900)  # fills the limit leg
    stop_id = str(by_type["STOP_LOSS_LIMIT"]["orderId"])
    assert alice.fetch_order(stop_id, SYMBOL)["status"] == "expired"


def test_an_oto_places_its_pending_take_profit_once_the_working_buy_fills(
    alice: Any, bob: Any, last_at_2000: None
) -> None:
    placed = alice.private_post_orderlist_oto(
        {
            "symbol": "ETHUSDT",
            "workingType": "LIMIT",
            "workingSide": "BUY",
            "workingPrice": "1950",
            "workingQuantity": "0.1",
            "workingTimeInForce": "GTC",
            "pendingType": "LIMIT_MAKER",
            "pendingSide": "SELL",
            "pendingPrice": "2100",
            "pendingQuantity": "0.1",
            "newOrderRespType": "RESULT",
        }
    )
    assert placed["contingencyType"] == "OTO"
    assert [r["status"] for r in placed["orderReports"]] == ["NEW", "PENDING_NEW"]
    working, pending = (str(o["orderId"]) for o in placed["orders"])
    assert alice.fetch_order(pending, SYMBOL)["info"]["status"] == "PENDING_NEW"
    bob.create_order(SYMBOL, "limit", "sell", 0.1, 1950)  # fills the working order
    assert alice.fetch_order(working, SYMBOL)["status"] == "closed"
    now = alice.fetch_order(pending, SYMBOL)
    assert now["status"] == "open" and now["info"]["status"] == "NEW" and now["info"]["isWorking"] is True
    assert alice.fetch_order_book(SYMBOL)["asks"][0][0] == 2100
    alice.cancel_order(pending, SYMBOL)


def test_an_otoco_places_its_take_profit_and_stop_loss_pair_once_the_working_buy_fills(
    alice: Any, bob: Any, last_at_2000: None
) -> None:
    placed = alice.private_post_orderlist_otoco(
        {
            "symbol": "ETHUSDT",
            "workingType": "LIMIT",
            "workingSide": "BUY",
            "workingPrice": "1950",
            "workingQuantity": "0.1",
            "workingTimeInForce": "GTC",
            "pendingSide": "SELL",
            "pendingQuantity": "0.1",
            "pendingAboveType": "LIMIT_MAKER",
            "pendingAbovePrice": "2100",
            "pendingBelowType": "STOP_LOSS_LIMIT",
            "pendingBelowStopPrice": "1800",
            "pendingBelowPrice": "1790",
            "pendingBelowTimeInForce": "GTC",
            "listClientOrderId": "http-otoco",
            "newOrderRespType": "RESULT",
        }
    )
    assert placed["contingencyType"] == "OTO" and placed["listClientOrderId"] == "http-otoco"
    assert [r["status"] for r in placed["orderReports"]] == ["NEW", "PENDING_NEW", "PENDING_NEW"]
    working, above, below = (str(o["orderId"]) for o in placed["orders"])
    bob.create_order(SYMBOL, "limit", "sell", 0.1, 1950)  # fills the working order
    assert alice.fetch_order(working, SYMBOL)["status"] == "closed"
    take_profit, stop_loss = alice.fetch_order(above, SYMBOL), alice.fetch_order(below, SYMBOL)
    assert take_profit["info"]["status"] == "NEW" and take_profit["info"]["isWorking"] is True
    assert stop_loss["info"]["status"] == "NEW" and Decimal(stop_loss["info"]["stopPrice"]) == 1800
    assert alice.fetch_order_book(SYMBOL)["asks"][0][0] == 2100
    listed = alice.private_get_orderlist({"orderListId": placed["orderListId"]})
    assert listed["listStatusType"] == "EXEC_STARTED" and len(listed["orders"]) == 3
    bob.create_order(SYMBOL, "limit", "buy", 0.1, 2100)  # fills the take profit
    assert alice.fetch_order(above, SYMBOL)["status"] == "closed"
    assert alice.fetch_order(below, SYMBOL)["info"]["status"] == "EXPIRED"
    done = alice.private_get_orderlist({"orderListId": placed["orderListId"]})
    assert done["listStatusType"] == "ALL_DONE" and alice.private_get_openorderlist() == []
