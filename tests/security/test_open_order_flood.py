"""An account resting order after order: each one stayed in the exchange's memory for as long as
it was open, and every open-orders query or cancel-all of that account scanned the whole book.

Binance bounds the open orders of one account on one market (MAX_NUM_ORDERS, 200, and of them
MAX_NUM_ALGO_ORDERS, 5, stop-loss or take-profit) and says so in exchangeInfo; so does Keyplane.
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
from tests.support.signing import hmac_hex


def usdt(url: str, key: dict[str, str]) -> tuple[Decimal, Decimal]:
    balances = signed(url, key, "GET", "/api/v3/account").json()["balances"]
    found = next(b for b in balances if b["asset"] == "USDT")
    return Decimal(found["free"]), Decimal(found["locked"])


def bid(client: httpx.Client, key: dict[str, str], price: int) -> httpx.Response:
    query = (
        f"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price={price}"
        f"&timestamp={time.time_ns() // 1_000_000}"
    )
    query += "&signature=" + hmac_hex(key["secret"], query)
    return client.post(f"/api/v3/order?{query}", headers={"X-MBX-APIKEY": key["key"]})


def test_resting_orders_stop_at_max_num_orders_and_the_refusal_changes_nothing(
    tmp_path: Path, database_url: str
) -> None:
    with funded_server(tmp_path, database_url, {"alice": {"USDT": "100000"}}) as server:
        key = issue_key(server, "--permissions", "read,trade")
        info = httpx.get(f"{server.url}/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"}, timeout=10)
        filters = {f["filterType"]: f for f in info.json()["symbols"][0]["filters"]}
        assert filters["MAX_NUM_ORDERS"]["maxNumOrders"] == 200
        assert filters["MAX_NUM_ALGO_ORDERS"]["maxNumAlgoOrders"] == 5

        with httpx.Client(base_url=server.url, timeout=10) as client:
            with ThreadPoolExecutor(4) as pool:  # concurrent, as a flood is
                placed = list(pool.map(lambda i: bid(client, key, 20000 + i), range(200)))
            assert {p.status_code for p in placed} == {200}
            before = usdt(server.url, key)
            assert error(bid(client, key, 20500)) == (-1013, "Filter failure: MAX_NUM_ORDERS")
        assert usdt(server.url, key) == before
        opened = signed(server.url, key, "GET", "/api/v3/openOrders", symbol="BTCUSDT").json()
        assert len(opened) == 200 and "20500" not in {o["price"].split(".")[0] for o in opened}
