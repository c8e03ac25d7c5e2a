"""``keyplane demo`` end to end: a real server process, its printed key, a live book over HTTP, and
a stop-loss-limit that the demo's market maker triggers, through unmodified ccxt."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt
import httpx
import pytest

from tests.http.exchange.conftest import MINIMAL
from tests.support.clients import ccxt_binance
from tests.support.databases import fresh_database
from tests.support.demo import RunningDemo, running_demo
from tests.support.signing import hmac_hex

SYMBOL, TICK = "BTC/USDT", Decimal("0.01")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    """The demo with a livelier market maker (a round every 0.2 s instead of every second)."""
    tmp = tmp_path_factory.mktemp("demo")
    with fresh_database(tmp) as url, running_demo(tmp / "data", url, "--maker-interval", "0.2") as running:
        yield running


def test_demo_serves_a_live_two_sided_book_and_a_working_key(demo: RunningDemo) -> None:
    query = f"timestamp={time.time_ns() // 1_000_000}&recvWindow=10000"
    signed = httpx.get(
        f"{demo.url}/sapi/v1/account/apiRestrictions?{query}&signature={hmac_hex(demo.secret, query)}",
        headers={"X-MBX-APIKEY": demo.key},
        timeout=5,
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["enableSpotAndMarginTrading"] is True

    deadline, book = time.monotonic() + 15, {}
    while time.monotonic() < deadline:
        response = httpx.get(f"{demo.url}/api/v3/depth", params={"symbol": "BTCUSDT"}, timeout=5)
        assert response.status_code == 200, response.text
        book = response.json()
        if book["bids"] and book["asks"]:
            break
        time.sleep(0.2)
    assert book["bids"] and book["asks"], book
    assert Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0])


def _last_price_of_a_buy(client: Any) -> Decimal:
    """The last trade's price, once it is a taker's buy: it traded at the maker's ask, so the maker's
    bids, where its taker sells, are a spread below it. A stop just under a sell's price (at the
    bid) would wait for the maker's price to fall, a random walk that may take long to come back."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        trades = client.fetch_trades(SYMBOL, limit=1)
        if trades and trades[-1]["side"] == "buy":
            return Decimal(str(trades[-1]["price"]))
        time.sleep(0.2)
    raise AssertionError("the market maker's taker bought nothing in 60 s")


def _place_stop_just_below_the_market(client: Any) -> tuple[dict[str, Any], Decimal]:
    """A sell STOP_LOSS_LIMIT one tick under the last trade (a buy at the ask), limit 1 % under the
    stop; if a trade lands under the stop first, Binance refuses it (-2010, it would trigger at
    once): try again."""
    for _ in range(20):
        stop = _last_price_of_a_buy(client) - TICK
        limit = (stop * Decimal("0.99")).quantize(TICK)
        try:
            order = client.create_order(SYMBOL, "limit", "sell", 0.001, limit, {"stopLossPrice": str(stop)})
            return order, stop
        except ccxt.InvalidOrder as refused:
            assert "immediately" in str(refused), refused
    raise AssertionError("every stop was refused as triggering at once")


def _wait_until_closed(client: Any, order: dict[str, Any], seconds: float) -> dict[str, Any]:
    deadline, done = time.monotonic() + seconds, order
    while time.monotonic() < deadline and done["status"] != "closed":
        time.sleep(0.3)
        done = client.fetch_order(order["id"], SYMBOL)
    return done


def _stop_triggered_by_the_market(client: Any) -> tuple[dict[str, Any], dict[str, Any], Decimal]:
    """Place a stop just under the market and wait for the maker's trades to fire it. The maker's
    price is a random walk: in one run in twenty it climbs away from a stop for a whole minute. So
    wait 30 s, then cancel and place the stop afresh under the new price (three tries: about one
    in ten thousand runs waits out all three)."""
    for _ in range(3):
        order, stop = _place_stop_just_below_the_market(client)
        assert order["info"]["type"] == "STOP_LOSS_LIMIT" and order["status"] == "open"
        assert client.fetch_order(order["id"], SYMBOL)["info"]["isWorking"] is False
        done = _wait_until_closed(client, order, 30)
        if done["status"] != "closed":
            try:
                client.cancel_order(order["id"], SYMBOL)
                continue
            except ccxt.OrderNotFound:  # it fired (and filled) between the last look and the cancel
                done = client.fetch_order(order["id"], SYMBOL)
        assert done["status"] == "closed", done["info"]
        return order, done, stop
    raise AssertionError("three stops just under the market were not triggered in 30 s each")


def test_a_stop_loss_limit_is_triggered_by_the_market_makers_trades(demo: RunningDemo) -> None:
    client = ccxt_binance(demo.url, demo.key, demo.secret, **MINIMAL)
    order, done, stop = _stop_triggered_by_the_market(client)
    assert done["filled"] == 0.001 and Decimal(done["info"]["stopPrice"]) == stop
    working_since = done["info"]["workingTime"]
    assert working_since > 0
    # The trigger: a market trade at or under the stop before it worked. The demo user's only
    # trades are this order's own fills, after it worked: the maker's and taker's trade fired it.
    assert {t["order"] for t in client.fetch_my_trades(SYMBOL)} == {order["id"]}
    market = client.fetch_trades(SYMBOL, limit=1000)
    assert any(Decimal(str(t["price"])) <= stop and t["timestamp"] <= working_since for t in market)
    # The triggered order sold into the maker's bids, at or above its limit.
    assert Decimal(str(done["average"])) >= Decimal(order["info"]["price"])
