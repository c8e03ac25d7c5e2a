"""How many orders an account has placed, as Binance tells it: ``GET /api/v3/rateLimit/order``
(python-binance's ``get_current_order_count``), the WebSocket API's ``account.rateLimits.orders``,
and the ``rateLimits`` every WebSocket API answer carries (the IP's weight; ORDERS counts when the
request placed an order), all from the writer's one count."""

from __future__ import annotations

from typing import Any

from tests.http.exchange.conftest import Venue
from tests.security.test_ws_api import signed
from tests.support.aio import run
from tests.support.clients import python_binance
from tests.support.wsclient import ask, connect

BID = {
    "symbol": "SOLUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "10",
    "price": "1.5",
}
WINDOWS = [("ORDERS", "SECOND", 10, 100), ("ORDERS", "DAY", 1, 200_000)]


def windows(limits: list[dict[str, Any]]) -> list[tuple[str, str, int, int]]:
    return [(x["rateLimitType"], x["interval"], x["intervalNum"], x["limit"]) for x in limits]


def test_every_way_of_reading_the_order_count_agrees_with_the_orders_placed(venue: Venue) -> None:
    rest = python_binance(venue.url, venue.alice["key"], venue.alice["secret"])

    async def go() -> None:
        ws = await connect(venue.url, "/ws-api/v3")
        try:
            placed = await ask(ws, {"id": 1, "method": "order.place", "params": signed(venue.alice, **BID)})
            assert placed["status"] == 200, placed
            limits = placed["rateLimits"]
            assert windows(limits) == [*WINDOWS, ("REQUEST_WEIGHT", "MINUTE", 1, 1_000_000_000)]
            ten_seconds, day, weight = (x["count"] for x in limits)
            assert 1 <= ten_seconds <= day and weight >= 1

            counted = await ask(
                ws, {"id": 2, "method": "account.rateLimits.orders", "params": signed(venue.alice)}
            )
            assert windows(counted["result"]) == WINDOWS
            assert counted["result"][1]["count"] == day  # nothing placed since (ten seconds may roll over)
            assert counted["result"][0]["count"] in (ten_seconds, 0)
            # A read carries the weight only, and it grew by this request's (account.rateLimits.orders: 40).
            assert windows(counted["rateLimits"]) == [("REQUEST_WEIGHT", "MINUTE", 1, 1_000_000_000)]
            assert counted["rateLimits"][0]["count"] >= weight + 40

            # REST: the answer's headers and GET /api/v3/rateLimit/order count the same orders.
            again = rest.create_order(**BID)
            assert rest.response.headers["X-MBX-ORDER-COUNT-1D"] == str(day + 1)
            assert [x["count"] for x in rest.get_current_order_count()][1] == day + 1

            # returnRateLimits=false, on one request or on the whole connection, leaves them out.
            quiet = await ask(ws, {"id": 3, "method": "ping", "params": {"returnRateLimits": False}})
            assert quiet == {"id": 3, "status": 200, "result": {}}
            cancel = signed(venue.alice, symbol="SOLUSDT", orderId=placed["result"]["orderId"])
            assert (await ask(ws, {"id": 4, "method": "order.cancel", "params": cancel}))["status"] == 200
            rest.cancel_order(symbol="SOLUSDT", orderId=again["orderId"])
        finally:
            await ws.close()
        silent = await connect(venue.url, "/ws-api/v3?returnRateLimits=false")
        try:
            status = await ask(silent, {"id": 5, "method": "account.status", "params": signed(venue.alice)})
            assert status["status"] == 200 and "rateLimits" not in status
            session = await ask(silent, {"id": 6, "method": "session.status"})
            assert session["result"]["returnRateLimits"] is False
        finally:
            await silent.close()

    run(go())


def test_a_refused_websocket_order_still_reports_the_weight_it_spent(venue: Venue) -> None:
    async def go() -> None:
        ws = await connect(venue.url, "/ws-api/v3")
        try:
            refused = await ask(
                ws,
                {
                    "id": 1,
                    "method": "order.place",
                    "params": signed(venue.alice, **{**BID, "quantity": "-1"}),
                },
            )
            assert refused["status"] == 400 and refused["error"]["code"] == -1100, refused
            assert windows(refused["rateLimits"]) == [("REQUEST_WEIGHT", "MINUTE", 1, 1_000_000_000)]
        finally:
            await ws.close()

    run(go())
