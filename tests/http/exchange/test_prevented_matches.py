"""``GET /api/v3/myPreventedMatches`` through unmodified clients: an account's buy meets its own
resting sell, STP expires the maker, and python-binance and ccxt read the prevented match."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from binance.exceptions import BinanceAPIException

from tests.http.conftest import issue_key
from tests.http.exchange.conftest import MINIMAL
from tests.support.clients import ccxt_binance, python_binance
from tests.support.funded import funded_server

FUNDS = {"alice": {"USDT": "100000", "SOL": "100"}}


def test_a_self_trade_expires_the_maker_and_both_clients_read_the_prevented_match(
    tmp_path: Path, database_url: str
) -> None:
    with funded_server(tmp_path, database_url, FUNDS) as server:
        key = issue_key(server, "--permissions", "read,trade")
        alice = python_binance(server.url, key["key"], key["secret"])
        maker = alice.order_limit_sell(symbol="SOLUSDT", quantity="2", price="150")
        taker = alice.order_limit_buy(
            symbol="SOLUSDT", quantity="1", price="150", selfTradePreventionMode="EXPIRE_MAKER"
        )
        assert taker["status"] == "NEW"  # nothing else to buy: it rests
        expired = alice.get_order(symbol="SOLUSDT", orderId=maker["orderId"])
        assert expired["status"] == "EXPIRED_IN_MATCH"
        assert (expired["preventedMatchId"], expired["preventedQuantity"]) == (1, "2.00000000")
        assert "preventedMatchId" not in taker  # only an order STP expired carries them

        (match,) = alice.get_prevented_matches(symbol="SOLUSDT", orderId=taker["orderId"])
        assert isinstance(match["tradeGroupId"], int) and match["tradeGroupId"] > 0  # the account
        assert taker["transactTime"] <= match["transactTime"] <= int(time.time() * 1000)
        assert match == {
            "symbol": "SOLUSDT",
            "preventedMatchId": 1,
            "takerOrderId": taker["orderId"],
            "makerSymbol": "SOLUSDT",
            "makerOrderId": maker["orderId"],
            "tradeGroupId": match["tradeGroupId"],
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "price": "150.00000000",
            "makerPreventedQuantity": "2.00000000",
            "transactTime": match["transactTime"],
        }
        assert alice.get_prevented_matches(symbol="SOLUSDT", preventedMatchId=1) == [match]

        ccxt = ccxt_binance(server.url, key["key"], key["secret"], **MINIMAL)
        by_maker = ccxt.private_get_mypreventedmatches({"symbol": "SOLUSDT", "orderId": maker["orderId"]})
        assert by_maker == [match]

        with pytest.raises(BinanceAPIException) as neither:
            alice.get_prevented_matches(symbol="SOLUSDT")
        assert neither.value.code == -1102

        sell = alice.order_limit_sell(
            symbol="SOLUSDT", quantity="1", price="150", selfTradePreventionMode="EXPIRE_TAKER"
        )  # meets the resting buy: the new sell expires, and its answer says why
        assert sell["status"] == "EXPIRED_IN_MATCH"
        assert (sell["preventedMatchId"], sell["preventedQuantity"]) == (2, "1.00000000")
