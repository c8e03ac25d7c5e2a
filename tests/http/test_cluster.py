"""Two ``keyplane serve`` processes on one database: the second forwards exchange requests to the first.

Each instance verifies keys itself; only the instance holding the writer lock runs the exchange.
A client must see the same behaviour whichever instance it reaches: ccxt trades through either,
errors map to the same exceptions, the console and the operator route work on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ccxt
import httpx
import pytest
from binance.exceptions import BinanceAPIException

from tests.conftest import REDIS_URL
from tests.http.conftest import issue_key
from tests.http.exchange.conftest import MINIMAL
from tests.support.clients import ccxt_binance, python_binance
from tests.support.cluster import writer_and_gateway
from tests.support.server import Instance, free_port

FUNDS = {"USDT": "100000", "BTC": "2"}


@dataclass
class Pair:
    writer: Instance
    gateway: Instance
    alice: dict[str, str]
    bob: dict[str, str]
    reader: dict[str, str]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    # Gateways forward signed requests only with a shared replay guard: Redis on both back ends.
    with writer_and_gateway(tmp_path_factory.mktemp("cluster"), REDIS_URL, FUNDS) as (writer, gateway):
        yield Pair(
            writer,
            gateway,
            issue_key(writer, "--permissions", "read,trade"),
            issue_key(writer, "--permissions", "read,trade", user="bob"),
            issue_key(writer, "--permissions", "read"),
        )


def client(instance: Instance, key: dict[str, str]) -> Any:
    return ccxt_binance(instance.url, key["key"], key["secret"], **MINIMAL)


def test_ccxt_trades_through_either_instance_and_both_see_one_book(pair: Pair) -> None:
    alice_via_gateway = client(pair.gateway, pair.alice)
    bob_via_writer = client(pair.writer, pair.bob)
    sell = alice_via_gateway.create_order("BTC/USDT", "limit", "sell", 0.01, 30000)
    assert sell["status"] == "open"
    book = client(pair.writer, pair.reader).fetch_order_book("BTC/USDT")
    assert book["asks"][0][:2] == [30000, 0.01]
    assert [o["id"] for o in client(pair.writer, pair.alice).fetch_open_orders("BTC/USDT")] == [sell["id"]]
    bought = bob_via_writer.create_order("BTC/USDT", "market", "buy", 0.004)
    assert bought["status"] == "closed" and bought["filled"] == 0.004
    partial = alice_via_gateway.fetch_order(sell["id"], "BTC/USDT")
    assert partial["filled"] == 0.004 and partial["status"] == "open"
    client(pair.gateway, pair.bob).create_order("BTC/USDT", "limit", "buy", 0.006, 30000)
    assert alice_via_gateway.fetch_order(sell["id"], "BTC/USDT")["status"] == "closed"
    trades = alice_via_gateway.fetch_my_trades("BTC/USDT")
    assert sum(t["amount"] for t in trades) == pytest.approx(0.01)
    seen = [client(i, pair.alice).fetch_balance()["USDT"]["free"] for i in (pair.writer, pair.gateway)]
    assert seen[0] == seen[1]


def test_refusals_are_the_same_through_the_gateway(pair: Pair) -> None:
    with pytest.raises(ccxt.InsufficientFunds):
        client(pair.gateway, pair.alice).create_order("BTC/USDT", "limit", "buy", 100, 30000)
    with pytest.raises(ccxt.PermissionDenied):  # read-only key: refused by the gateway's verification
        client(pair.gateway, pair.reader).create_order("BTC/USDT", "limit", "buy", 0.001, 20000)
    with pytest.raises(ccxt.OrderNotFound):
        client(pair.gateway, pair.alice).cancel_order("999999", "BTC/USDT")
    with pytest.raises(BinanceAPIException) as caught:
        python_binance(pair.gateway.url, pair.alice["key"], pair.alice["secret"]).get_order(
            symbol="NOPEUSDT", orderId=1
        )
    assert caught.value.code == -1121


def test_weight_and_public_routes_are_answered_through_the_gateway(pair: Pair) -> None:
    answer = httpx.get(pair.gateway.url + "/api/v3/exchangeInfo")
    assert answer.status_code == 200 and "BTCUSDT" in answer.text
    assert int(answer.headers["X-MBX-USED-WEIGHT-1M"]) >= 20
    assert answer.headers["content-type"].startswith("application/json")
    # Only one instance holds the writer lock; the other still answers its own routes.
    assert httpx.get(pair.gateway.url + "/api/v3/ping").json() == {}


def test_operator_credit_through_the_gateway_and_the_cli_never_writes_beside_the_writer(
    pair: Pair,
) -> None:
    before = client(pair.writer, pair.bob).fetch_balance()["USDT"]["free"]
    pair.gateway.cli(
        "funds", "credit", "--user", "bob", "--asset", "USDT", "--amount", "7.5", "--server", pair.gateway.url
    )
    assert client(pair.writer, pair.bob).fetch_balance()["USDT"]["free"] == pytest.approx(before + 7.5)
    # With no server answering, the CLI would write the database itself: the writer lock forbids it.
    beside = pair.gateway.cli(
        "funds",
        "credit",
        "--user",
        "bob",
        "--asset",
        "USDT",
        "--amount",
        "1",
        "--server",
        "http://127.0.0.1:9",
        check=False,
    )
    assert beside.returncode != 0 and "another Keyplane process" in beside.stderr


def test_the_writer_logs_which_instance_runs_the_exchange(pair: Pair, tmp_path: Path) -> None:
    # The gateway's own exchange routes answer even though its process never built an exchange:
    # a third instance started now also forwards (the lock is taken), and answers the same book.
    third = Instance(dict(pair.writer.env), free_port())
    third.start(tmp_path / "third.log")
    try:
        depth = httpx.get(third.url + "/api/v3/depth?symbol=BTCUSDT").json()
        assert depth == httpx.get(pair.writer.url + "/api/v3/depth?symbol=BTCUSDT").json()
    finally:
        third.stop()
