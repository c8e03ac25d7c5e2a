"""Deposit, trade and withdraw end to end through the real server, with unmodified ccxt and
python-binance: a deposit to the user's own address is credited after its confirmations, the
funds trade, and a withdrawal to a matured address-book entry moves through Binance's states to
completed. Every refusal maps to the exception a user expects, never to a retryable one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any, TypeVar

import ccxt
import pytest
from binance.exceptions import BinanceAPIException

from tests.conftest import REDIS_URL
from tests.http.conftest import issue_key
from tests.http.exchange.conftest import MINIMAL
from tests.support.clients import ccxt_binance, python_binance
from tests.support.databases import fresh_database
from tests.support.server import Instance
from tests.support.wallet_server import DESTINATION, WALLET_OPTIONS, alice_and_bob_wallet_server

T = TypeVar("T")


@dataclass
class Venue:
    server: Instance
    url: str
    alice: dict[str, str]
    reader: dict[str, str]


def eventually(check: Callable[[], T | None], seconds: float = 30) -> T:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    tmp = tmp_path_factory.mktemp("wallet")
    with (
        fresh_database(tmp) as url,
        alice_and_bob_wallet_server(
            tmp, url, REDIS_URL, cooling_off_seconds="2", send_delay_seconds="0.5", bob_funds={"BTC": "1"}
        ) as server,
    ):
        bob = issue_key(server, "--permissions", "read,trade", user="bob")
        bob_client = ccxt_binance(server.url, bob["key"], bob["secret"], **MINIMAL)
        bob_client.create_order("BTC/USDT", "limit", "sell", 0.01, 30000)
        yield Venue(
            server,
            server.url,
            issue_key(server, "--permissions", "read,trade,withdraw", "--ip", "127.0.0.1"),
            issue_key(server, "--permissions", "read"),
        )


def client(venue: Venue, key: dict[str, str]) -> Any:
    return ccxt_binance(venue.url, key["key"], key["secret"], **WALLET_OPTIONS)


def test_ccxt_deposits_trades_and_withdraws_to_a_matured_address(venue: Venue) -> None:
    alice = client(venue, venue.alice)
    assert alice.fetch_currencies()["USDT"]["withdraw"] is True
    address = alice.fetch_deposit_address("USDT", {"network": "ETH"})["address"]
    venue.server.cli(
        "chain", "deposit", "--address", address, "--amount", "1000", "--coin", "USDT", "--network", "ETH"
    )
    deposit = eventually(lambda: [d for d in alice.fetch_deposits("USDT") if d["status"] == "ok"])[0]
    assert deposit["amount"] == 1000 and deposit["address"] == address and deposit["txid"]
    assert alice.fetch_balance()["USDT"]["free"] == 1000

    bought = alice.create_order("BTC/USDT", "market", "buy", 0.001)
    assert bought["status"] == "closed"
    free = D(str(alice.fetch_balance()["USDT"]["free"]))
    assert free == D(970)

    time.sleep(2)  # the address book entry matures
    answer = alice.withdraw("USDT", 40, DESTINATION, params={"network": "ETH"})
    assert answer["id"]
    done = eventually(lambda: [w for w in alice.fetch_withdrawals("USDT") if w["status"] == "ok"])[0]
    assert done["id"] == answer["id"] and done["amount"] == 40 and done["fee"]["cost"] == 1
    assert done["txid"].startswith("0x") and done["address"] == DESTINATION
    assert D(str(alice.fetch_balance()["USDT"]["total"])) == free - 41


def test_withdrawal_refusals_map_to_the_exceptions_a_user_expects(venue: Venue) -> None:
    alice = client(venue, venue.alice)
    eventually(lambda: alice.fetch_balance()["USDT"]["free"] >= 100)
    time.sleep(2)
    typo = DESTINATION[:-1] + ("5" if DESTINATION[-1] != "5" else "6")
    with pytest.raises(ccxt.BadRequest) as bad_address:
        alice.withdraw("USDT", 40, typo.replace("Ef", "eF"), params={"network": "ETH"})
    assert "checksum" in str(bad_address.value).lower() or "-4007" in str(bad_address.value)
    with pytest.raises(ccxt.BadRequest):  # a valid address that is not in the book
        alice.withdraw("USDT", 40, "0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0", params={"network": "ETH"})
    with pytest.raises(ccxt.BadRequest):
        alice.withdraw("USDT", 5, DESTINATION, params={"network": "ETH"})  # below the minimum of 10
    with pytest.raises(ccxt.InsufficientFunds):
        alice.withdraw("USDT", 5_000, DESTINATION, params={"network": "ETH"})
    with pytest.raises((ccxt.PermissionDenied, ccxt.AuthenticationError)):
        client(venue, venue.reader).withdraw("USDT", 40, DESTINATION, params={"network": "ETH"})
    for refused in (ccxt.NetworkError, ccxt.OperationFailed):
        assert not issubclass(ccxt.BadRequest, refused) and not issubclass(ccxt.InsufficientFunds, refused)


def test_python_binance_deposits_trades_and_withdraws_the_same_way(venue: Venue) -> None:
    client_ = python_binance(venue.url, venue.alice["key"], venue.alice["secret"])
    address = client_.get_deposit_address(coin="USDT", network="ETH")
    assert address["address"].startswith("0x") and address["coin"] == "USDT"
    before = {d["txId"] for d in client_.get_deposit_history(coin="USDT")}
    venue.server.cli(
        "chain",
        "deposit",
        "--address",
        address["address"],
        "--amount",
        "300",
        "--coin",
        "USDT",
        "--network",
        "ETH",
    )
    credited = eventually(
        lambda: [
            d
            for d in client_.get_deposit_history(coin="USDT")
            if d["txId"] not in before and d["status"] == 1
        ]
    )[0]
    assert D(credited["amount"]) == 300 and credited["network"] == "ETH"

    bought = client_.order_market_buy(symbol="BTCUSDT", quantity="0.001")
    assert bought["status"] == "FILLED"

    time.sleep(2)  # the address book entry matures
    made = client_.withdraw(
        coin="USDT", network="ETH", address=DESTINATION, amount="15", withdrawOrderId="pb-1"
    )
    again = client_.withdraw(
        coin="USDT", network="ETH", address=DESTINATION, amount="15", withdrawOrderId="pb-1"
    )
    assert made["id"] == again["id"]  # the same withdrawOrderId: the first result, one transfer
    done = eventually(
        lambda: [
            w for w in client_.get_withdraw_history(coin="USDT") if w["id"] == made["id"] and w["status"] == 6
        ]
    )[0]
    assert done["withdrawOrderId"] == "pb-1" and done["txId"].startswith("0x") and done["completeTime"]
    assert len([w for w in client_.get_withdraw_history(coin="USDT") if w["withdrawOrderId"] == "pb-1"]) == 1
    with pytest.raises(BinanceAPIException) as refused:
        client_.withdraw(coin="USDT", network="ETH", address=DESTINATION, amount="5")
    assert refused.value.code == -4022
