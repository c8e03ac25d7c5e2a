"""The WebSocket API's order-list methods: ``orderList.place.oco``, ``orderList.place.otoco``, ``orderList.status``,
``openOrderLists.status``, ``allOrderLists`` and ``orderList.cancel``, signed as ccxt signs them."""

from __future__ import annotations

import time
from typing import Any

from tests.http.exchange.conftest import Venue
from tests.support.aio import run
from tests.support.signing import hmac_hex
from tests.support.wsclient import ask, connect

OCO = {
    "symbol": "ETHUSDT",
    "side": "SELL",
    "quantity": "0.1",
    "aboveType": "LIMIT_MAKER",
    "abovePrice": "9000",
    "belowType": "STOP_LOSS",
    "belowStopPrice": "100",
    "listClientOrderId": "ws-oco",
}


def signed(key: dict[str, str], **params: Any) -> dict[str, Any]:
    """Sorted ``k=v`` joined by ``&``, HMAC-SHA256 hex: what ccxt signs for the WebSocket API."""
    params = {"apiKey": key["key"], "timestamp": int(time.time() * 1000), **params}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "signature": hmac_hex(key["secret"], payload)}


def test_an_oco_is_placed_queried_and_cancelled_over_the_websocket_api(venue: Venue) -> None:
    async def go() -> None:
        ws = await connect(venue.url, "/ws-api/v3")
        try:
            placed = await ask(
                ws, {"id": "1", "method": "orderList.place.oco", "params": signed(venue.alice, **OCO)}
            )
            assert placed["status"] == 200, placed
            result = placed["result"]
            list_id = result["orderListId"]
            assert (result["contingencyType"], result["listClientOrderId"]) == ("OCO", "ws-oco")
            status = await ask(
                ws,
                {"id": "2", "method": "orderList.status", "params": signed(venue.alice, orderListId=list_id)},
            )
            assert status["result"]["listStatusType"] == "EXEC_STARTED"
            opened = await ask(
                ws, {"id": "3", "method": "openOrderLists.status", "params": signed(venue.alice)}
            )
            assert list_id in [x["orderListId"] for x in opened["result"]]
            cancel = signed(venue.alice, symbol="ETHUSDT", orderListId=list_id)
            cancelled = await ask(ws, {"id": "4", "method": "orderList.cancel", "params": cancel})
            assert [r["status"] for r in cancelled["result"]["orderReports"]] == ["CANCELED", "CANCELED"]
            history = await ask(ws, {"id": "5", "method": "allOrderLists", "params": signed(venue.alice)})
            done = [x for x in history["result"] if x["orderListId"] == list_id]
            assert [x["listStatusType"] for x in done] == ["ALL_DONE"]
        finally:
            await ws.close()

    run(go())


OTOCO = {
    "symbol": "ETHUSDT",
    "workingType": "LIMIT",
    "workingSide": "BUY",
    "workingPrice": "100",
    "workingQuantity": "0.1",
    "workingTimeInForce": "GTC",
    "pendingSide": "SELL",
    "pendingQuantity": "0.1",
    "pendingAboveType": "LIMIT_MAKER",
    "pendingAbovePrice": "9000",
    "pendingBelowType": "STOP_LOSS",
    "pendingBelowStopPrice": "50",
    "listClientOrderId": "ws-otoco",
    "newOrderRespType": "RESULT",
}


def test_an_otoco_is_placed_and_cancelled_whole_over_the_websocket_api(venue: Venue) -> None:
    async def go() -> None:
        ws = await connect(venue.url, "/ws-api/v3")
        try:
            placed = await ask(
                ws, {"id": "1", "method": "orderList.place.otoco", "params": signed(venue.alice, **OTOCO)}
            )
            assert placed["status"] == 200, placed
            result = placed["result"]
            assert (result["contingencyType"], result["listClientOrderId"]) == ("OTO", "ws-otoco")
            assert [r["status"] for r in result["orderReports"]] == ["NEW", "PENDING_NEW", "PENDING_NEW"]
            cancel = signed(venue.alice, symbol="ETHUSDT", orderListId=result["orderListId"])
            cancelled = await ask(ws, {"id": "2", "method": "orderList.cancel", "params": cancel})
            assert cancelled["status"] == 200, cancelled
            assert [r["status"] for r in cancelled["result"]["orderReports"]] == ["CANCELED"] * 3
        finally:
            await ws.close()

    run(go())
