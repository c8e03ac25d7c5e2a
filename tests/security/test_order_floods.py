"""One account placing order after order, as fast as it can.

1. Each resting order stayed in the exchange's memory for as long as it was open, and every
   open-orders query or cancel-all of that account scanned the whole book. Binance bounds the open
   orders of one account on one market (MAX_NUM_ORDERS, 200, and of them MAX_NUM_ALGO_ORDERS, 5,
   stop-loss or take-profit); so does Keyplane.
3. One order could be amended (keepPriority) a lot at a time, each amendment a row kept for
   ``GET /api/v3/order/amendments``: 0.1 BTC is 100,000 lots. Binance allows 10 (MAX_NUM_ORDER_AMENDS).
2. exchangeInfo promised Binance's ORDERS limits (100 new orders per 10 s, 200,000 a day) but
   nothing enforced them: only the request weight slowed a flood. The writer now counts them.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx

from tests.http.conftest import issue_key
from tests.http.exchange.raw import error, signed
from tests.support.funded import funded_server

FUNDS = {"alice": {"USDT": "100000"}}


def usdt(url: str, key: dict[str, str]) -> tuple[Decimal, Decimal]:
    balances = signed(url, key, "GET", "/api/v3/account").json()["balances"]
    found = next(b for b in balances if b["asset"] == "USDT")
    return Decimal(found["free"]), Decimal(found["locked"])


def bid(url: str, key: dict[str, str], price: int) -> httpx.Response:
    return signed(
        url, key, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
        timeInForce="GTC", quantity="0.001", price=str(price),
    )  # fmt: skip


def flood(url: str, key: dict[str, str], prices: range) -> list[httpx.Response]:
    with ThreadPoolExecutor(4) as pool:  # concurrent, as a flood is
        return list(pool.map(lambda price: bid(url, key, price), prices))


def exchange_info(url: str) -> dict[str, object]:
    answer = httpx.get(f"{url}/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_resting_orders_stop_at_max_num_orders_and_the_refusal_changes_nothing(
    tmp_path: Path, database_url: str
) -> None:
    with funded_server(tmp_path, database_url, FUNDS, KEYPLANE_ORDER_LIMIT_PER_10S="0") as server:
        key = issue_key(server, "--permissions", "read,trade")
        filters = {f["filterType"]: f for f in exchange_info(server.url)["symbols"][0]["filters"]}  # type: ignore[index]
        assert filters["MAX_NUM_ORDERS"]["maxNumOrders"] == 200
        assert filters["MAX_NUM_ALGO_ORDERS"]["maxNumAlgoOrders"] == 5
        assert filters["MAX_NUM_ORDER_LISTS"]["maxNumOrderLists"] == 20
        assert filters["MAX_NUM_ORDER_AMENDS"]["maxNumOrderAmends"] == 10

        assert {r.status_code for r in flood(server.url, key, range(20000, 20200))} == {200}
        before = usdt(server.url, key)
        assert error(bid(server.url, key, 20500)) == (-1013, "Filter failure: MAX_NUM_ORDERS")
        assert usdt(server.url, key) == before
        opened = signed(server.url, key, "GET", "/api/v3/openOrders", symbol="BTCUSDT").json()
        assert len(opened) == 200 and "20500" not in {o["price"].split(".")[0] for o in opened}


def test_a_burst_past_100_orders_in_ten_seconds_is_refused_with_429(
    tmp_path: Path, database_url: str
) -> None:
    with funded_server(tmp_path, database_url, FUNDS) as server:
        key = issue_key(server, "--permissions", "read,trade")
        assert {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100} in (
            exchange_info(server.url)["rateLimits"]  # type: ignore[operator]
        )
        if time.time() % 10 > 5:  # the burst (a second or two) stays in one ten-second window
            time.sleep(10 - time.time() % 10)
        answers = flood(server.url, key, range(20000, 20110))
        accepted = [r for r in answers if r.status_code == 200]
        assert len(accepted) == 100
        # Each answer says how many orders the account has placed in the windows (as Binance's).
        counted = [int(r.headers["X-MBX-ORDER-COUNT-10S"]) for r in accepted]
        assert max(counted) == 100 and min(counted) >= 1
        assert all(
            int(r.headers["X-MBX-ORDER-COUNT-1D"]) >= int(r.headers["X-MBX-ORDER-COUNT-10S"])
            for r in accepted
        )
        refused = [r for r in answers if r.status_code != 200]
        assert len(refused) == 10 and {r.status_code for r in refused} == {429}
        assert {error(r) for r in refused} == {
            (-1015, "Too many new orders; current limit is 100 orders per 10 SECOND.")
        }
        opened = signed(server.url, key, "GET", "/api/v3/openOrders", symbol="BTCUSDT").json()
        assert len(opened) == 100


def test_the_eleventh_amendment_of_one_order_is_refused_and_changes_nothing(
    tmp_path: Path, database_url: str
) -> None:
    with funded_server(tmp_path, database_url, FUNDS) as server:
        key = issue_key(server, "--permissions", "read,trade")
        order_id = bid(server.url, key, 20000).json()["orderId"]
        step = Decimal("0.00001")  # BTCUSDT's lot: each amendment lowers the order by one
        for i in range(1, 11):
            amended = signed(
                server.url, key, "PUT", "/api/v3/order/amend/keepPriority",
                symbol="BTCUSDT", orderId=str(order_id), newQty=str(Decimal("0.001") - i * step),
            )  # fmt: skip
            assert amended.status_code == 200, amended.text
        before = usdt(server.url, key)
        refused = signed(
            server.url, key, "PUT", "/api/v3/order/amend/keepPriority",
            symbol="BTCUSDT", orderId=str(order_id), newQty=str(Decimal("0.001") - 11 * step),
        )  # fmt: skip
        assert error(refused) == (-2038, "Filter failure: MAX_NUM_ORDER_AMENDS")
        assert usdt(server.url, key) == before
        history = signed(
            server.url, key, "GET", "/api/v3/order/amendments", symbol="BTCUSDT", orderId=str(order_id)
        )
        assert len(history.json()) == 10
