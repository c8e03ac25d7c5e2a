"""Issue #7 item 10: a key restricted to some symbols sees and touches only those symbols.

Alice trades BTCUSDT and ETHUSDT with a full key; her second key is restricted to ETHUSDT. Every
route that can answer about several symbols must leave BTCUSDT out for that key, whether or not
the request names a symbol.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.http.conftest import issue_key
from tests.http.exchange.raw import error, signed
from tests.support.funded import funded_server
from tests.support.server import Instance


@dataclass
class Alice:
    server: Instance
    full: dict[str, str]
    eth_only: dict[str, str]
    order_ids: dict[str, int]


@pytest.fixture
def alice(tmp_path: Path, database_url: str) -> Iterator[Alice]:
    funds = {"alice": {"USDT": "100000", "BTC": "1", "ETH": "10"}}
    with funded_server(tmp_path, database_url, funds) as server:
        full = issue_key(server, "--permissions", "read,trade")
        eth_only = issue_key(server, "--permissions", "read,trade", "--symbols", "ETHUSDT")
        ids = {}
        for symbol, qty, price in (("BTCUSDT", "0.001", "30000"), ("ETHUSDT", "0.01", "1000")):
            placed = signed(
                server.url,
                full,
                "POST",
                "/api/v3/order",
                symbol=symbol,
                side="BUY",
                type="LIMIT",
                timeInForce="GTC",
                quantity=qty,
                price=price,
            )
            assert placed.status_code == 200, placed.text
            ids[symbol] = placed.json()["orderId"]
        yield Alice(server, full, eth_only, ids)


def test_open_orders_without_symbol_show_only_the_keys_symbols(alice: Alice) -> None:
    everything = signed(alice.server.url, alice.full, "GET", "/api/v3/openOrders")
    assert sorted(o["symbol"] for o in everything.json()) == ["BTCUSDT", "ETHUSDT"]

    seen = signed(alice.server.url, alice.eth_only, "GET", "/api/v3/openOrders")
    assert seen.status_code == 200, seen.text
    assert [(o["symbol"], o["orderId"]) for o in seen.json()] == [("ETHUSDT", alice.order_ids["ETHUSDT"])]


def test_restricted_key_cannot_name_another_symbol_on_any_order_route(alice: Alice) -> None:
    url, key, btc = alice.server.url, alice.eth_only, alice.order_ids["BTCUSDT"]
    for method, path, extra in (
        ("GET", "/api/v3/openOrders", {}),
        ("GET", "/api/v3/allOrders", {}),
        ("GET", "/api/v3/myTrades", {}),
        ("GET", "/api/v3/order", {"orderId": btc}),
        ("DELETE", "/api/v3/order", {"orderId": btc}),
        ("DELETE", "/api/v3/openOrders", {}),
    ):
        code, msg = error(signed(url, key, method, path, symbol="BTCUSDT", **extra))
        assert code == -2015 and "BTCUSDT" in msg, (method, path, code, msg)


def test_history_and_cancel_all_need_a_symbol_so_nothing_leaks_without_one(alice: Alice) -> None:
    url, key = alice.server.url, alice.eth_only
    for method, path in (
        ("GET", "/api/v3/allOrders"),
        ("GET", "/api/v3/myTrades"),
        ("DELETE", "/api/v3/openOrders"),
    ):
        code, _ = error(signed(url, key, method, path))
        assert code == -1102, (method, path)
    still_open = signed(url, alice.full, "GET", "/api/v3/openOrders", symbol="BTCUSDT").json()
    assert [o["orderId"] for o in still_open] == [alice.order_ids["BTCUSDT"]]
