"""Issue #7 items 15 and 16: what a newcomer and a client meet at the edges of the API.

A browser at the server's root saw a JSON error. A Binance path Keyplane does not serve answered
404 -1000, which ccxt takes for a passing failure (``OperationFailed``) and retries for ever;
Binance answers an operation it does not offer with 400 -1020, which ccxt does not retry.
``capital/config/getall`` claimed deposits and withdrawals that do not run, the 24 h ticker's
``prevClosePrice`` needs the last price before the window, and ``historicalTrades`` was missing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import httpx
import pytest
from sqlalchemy import select

from keyplane.exchange.models import OrderType, Side, TimeInForce
from keyplane.exchange.orders import OrderRequest
from keyplane.exchange.service import Exchange
from keyplane.exchange.wallet.networks import DEFAULT_NETWORKS
from keyplane.runtime import build_wallet
from keyplane.settings import Settings
from keyplane.store.engine import make_engine
from keyplane.store.tables import users
from tests.http.conftest import issue_key
from tests.support.aio import run
from tests.support.clients import ccxt_binance, python_binance
from tests.support.databases import fresh_database
from tests.support.server import Instance, free_port, server_env

DAY_MS = 86_400_000
OLD_PRICE, NEW_PRICE = Decimal(100), Decimal(110)
UNSERVED = [
    ("GET", "/api/v3/myAllocations"),
    ("GET", "/sapi/v1/asset/assetDetail"),
    ("POST", "/api/v3/sor/order"),
    ("GET", "/api/v1/ticker/24hr"),
    ("GET", "/sapi/v1/asset/assetDividend"),
    ("POST", "/sapi/v1/asset/dust"),
    ("GET", "/wapi/v3/accountStatus.html"),
    ("POST", "/fapi/v1/order"),
    ("GET", "/dapi/v1/premiumIndex"),
    ("GET", "/eapi/v1/mark"),
    ("GET", "/papi/v1/um/account"),
    ("PUT", "/api/v3/order"),  # a served path, a method it does not have
]


@dataclass
class Venue:
    server: Instance
    key: dict[str, str]
    trades: int  # how many SOLUSDT trades the venue starts with

    @property
    def url(self) -> str:
        return self.server.url


def trade(exchange: Exchange, ids: dict[str, int], price: Decimal, qty: str = "1") -> None:
    for user, side in (("bob", "SELL"), ("alice", "BUY")):
        run(
            exchange.place_order(
                OrderRequest(
                    user_id=ids[user],
                    symbol="SOLUSDT",
                    side=Side(side),
                    type=OrderType.LIMIT,
                    quantity=Decimal(qty),
                    price=price,
                    time_in_force=TimeInForce.GTC,
                )
            )
        )


def trade_before_start(database_url: str) -> int:
    """Two trades a day and a half ago at OLD_PRICE, then one now at NEW_PRICE; returns the count."""
    engine = make_engine(database_url)
    try:
        clock = {"now": time.time_ns() // 1_000_000 - DAY_MS - DAY_MS // 2}
        exchange = Exchange(engine, now=lambda: clock["now"])
        with engine.connect() as conn:
            ids = {r.name: r.id for r in conn.execute(select(users.c.id, users.c.name))}
        for user_id in ids.values():
            run(exchange.credit(user_id, "USDT", Decimal(10_000), "test funding"))
            run(exchange.credit(user_id, "SOL", Decimal(100), "test funding"))
        trade(exchange, ids, OLD_PRICE - 1)
        trade(exchange, ids, OLD_PRICE)
        clock["now"] = time.time_ns() // 1_000_000
        trade(exchange, ids, NEW_PRICE)
        return 3
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    tmp: Path = tmp_path_factory.mktemp("unsupported")
    with fresh_database(tmp) as url:
        instance = Instance(server_env(tmp / "data", url, None), free_port())
        instance.cli("users", "create", "alice")
        instance.cli("users", "create", "bob")
        count = trade_before_start(url)
        instance.start(tmp / "server.log")
        try:
            yield Venue(instance, issue_key(instance, "--permissions", "read,trade"), count)
        finally:
            instance.stop()


# -- item 15: the root --------------------------------------------------------------------------
def test_a_browser_at_the_root_is_sent_to_the_console(venue: Venue) -> None:
    root = httpx.get(venue.url + "/", follow_redirects=False)
    assert root.status_code == 302 and root.headers["location"] == "/console"
    landed = httpx.get(venue.url + "/", follow_redirects=True)
    assert landed.status_code == 200 and "text/html" in landed.headers["content-type"]


# -- item 16: unsupported operations --------------------------------------------------------------
@pytest.mark.parametrize(("method", "path"), UNSERVED)
def test_a_binance_operation_keyplane_does_not_serve_is_400_minus_1020(
    venue: Venue, method: str, path: str
) -> None:
    response = httpx.request(method, venue.url + path)
    assert response.status_code == 400
    assert response.json() == {"code": -1020, "msg": "This operation is not supported."}


@pytest.mark.parametrize("path", ["/nowhere", "/v1/nowhere", "/apix/v3/ping"])
def test_a_path_outside_binance_api_stays_an_unknown_path(venue: Venue, path: str) -> None:
    response = httpx.get(venue.url + path)
    assert response.status_code == 404
    assert response.json()["code"] == -1000


def test_ccxt_does_not_retry_an_unsupported_operation(venue: Venue) -> None:
    ex = ccxt_binance(venue.url, venue.key["key"], venue.key["secret"], fetchMarkets={"types": ["spot"]})
    calls: list[Any] = [
        lambda: ex.sapi_get_asset_assetdividend(),  # signed: sapi/v1/asset/assetDividend
        lambda: ex.public_get_referenceprice({"symbol": "SOLUSDT"}),  # public: api/v3/referencePrice
    ]
    for call in calls:
        with pytest.raises(ccxt.BaseError) as raised:
            call()
        assert isinstance(raised.value, (ccxt.BadRequest, ccxt.NotSupported)), repr(raised.value)
        assert not isinstance(raised.value, (ccxt.OperationFailed, ccxt.NetworkError)), repr(raised.value)


def test_getall_claims_only_the_deposits_and_withdrawals_the_server_runs(
    venue: Venue, tmp_path: Path
) -> None:
    """This server has no wallet keys, so no deposit address: every deposit flag is off; withdrawals
    are open where the network allows them, since the exchange writer runs the wallet (#9)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'unused.db'}")
    built = build_wallet(Settings(data_dir=tmp_path), engine)
    engine.dispose()
    truth = replace(built, credits_deposits=True, sends_withdrawals=True)
    client = python_binance(venue.url, venue.key["key"], venue.key["secret"])
    coins = client.get_all_coins_info()
    assert coins
    for coin in coins:
        assert coin["depositAllEnable"] is False
        for network in coin["networkList"]:
            entry = DEFAULT_NETWORKS.get(coin["coin"], network["network"])
            assert network["depositEnable"] is False
            assert network["withdrawEnable"] is truth.withdrawals_open(entry)
    assert client.get_account()["canDeposit"] is False
    ex = ccxt_binance(venue.url, venue.key["key"], venue.key["secret"], fetchMarkets={"types": ["spot"]})
    sol = ex.fetch_currencies()["SOL"]
    assert sol["deposit"] is False
    assert sol["withdraw"] is truth.withdrawals_open(DEFAULT_NETWORKS.get("SOL"))


def test_prev_close_price_is_the_last_price_before_the_24h_window(venue: Venue) -> None:
    ticker = httpx.get(venue.url + "/api/v3/ticker/24hr", params={"symbol": "SOLUSDT"}).json()
    assert ticker["prevClosePrice"] == "100.00000000"
    assert ticker["lastPrice"] == "110.00000000" and ticker["openPrice"] == "110.00000000"
    untraded = httpx.get(venue.url + "/api/v3/ticker/24hr", params={"symbol": "ETHUSDT"}).json()
    assert untraded["prevClosePrice"] == "0.00000000"


def test_python_binance_reads_historical_trades(venue: Venue) -> None:
    client = python_binance(venue.url, venue.key["key"], venue.key["secret"])
    recent = client.get_historical_trades(symbol="SOLUSDT")
    assert [Decimal(t["price"]) for t in recent] == [OLD_PRICE - 1, OLD_PRICE, NEW_PRICE]
    assert set(recent[0]) == {"id", "price", "qty", "quoteQty", "time", "isBuyerMaker", "isBestMatch"}
    first = recent[0]["id"]
    assert [t["id"] for t in client.get_historical_trades(symbol="SOLUSDT", fromId=first + 1)] == [
        first + 1,
        first + 2,
    ]
    assert [t["id"] for t in client.get_historical_trades(symbol="SOLUSDT", fromId=first, limit=1)] == [first]
    assert [t["id"] for t in client.get_historical_trades(symbol="SOLUSDT", limit=2)] == [
        first + 1,
        first + 2,
    ]
    assert len(recent) == venue.trades


def test_historical_trades_needs_no_key_and_weighs_25(venue: Venue) -> None:
    response = httpx.get(venue.url + "/api/v3/historicalTrades", params={"symbol": "SOLUSDT"})
    assert response.status_code == 200 and len(response.json()) == venue.trades
    again = httpx.get(venue.url + "/api/v3/historicalTrades", params={"symbol": "SOLUSDT"})
    used = int(again.headers["X-MBX-USED-WEIGHT-1M"]) - int(response.headers["X-MBX-USED-WEIGHT-1M"])
    assert used == 25
    bad = httpx.get(venue.url + "/api/v3/historicalTrades", params={"symbol": "SOLUSDT", "limit": "0"})
    assert bad.status_code == 400
