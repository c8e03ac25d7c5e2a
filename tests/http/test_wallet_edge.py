"""The wallet at the API edge (#9): getall's networks and true flags, deposit addresses and the simulated
chain's CLI, through unmodified ccxt and python-binance against a real server."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import pytest
from binance.exceptions import BinanceAPIException
from sqlalchemy import select

from keyplane.demo.wallet import XPUBS_FILE
from keyplane.exchange.marketdata import fmt
from keyplane.exchange.wallet.addresses import AddressDeriver, OperatorXpubs
from keyplane.exchange.wallet.chain import SimulatedChain
from keyplane.exchange.wallet.networks import DEFAULT_NETWORKS, AddressFamily, CoinNetwork
from keyplane.exchange.wallet.parts import WalletParts
from keyplane.runtime import build_wallet
from keyplane.settings import Settings
from keyplane.store.engine import make_engine
from keyplane.store.tables import users
from tests.conftest import REDIS_URL, redis_available
from tests.http.conftest import issue_key
from tests.support.clients import ccxt_binance, python_binance
from tests.support.databases import backend, fresh_database
from tests.support.demo import running_demo
from tests.support.server import Instance, free_port, server_env
from tests.wallet.conftest import mnemonic_xpubs
from tests.wallet.server_keys import wallet_env

COINS = ("BTC", "ETH", "SOL", "USDT")


@dataclass
class Venue:
    server: Instance
    database_url: str
    ids: dict[str, int]
    alice: dict[str, str]
    bob: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url

    def truth(self) -> WalletParts:
        """What getall must claim: the wallet built from this server's settings, as run by the exchange
        writer, whose wallet worker credits deposits and sends withdrawals."""
        engine = make_engine(self.database_url)
        try:
            built = build_wallet(Settings(**{k[9:].lower(): v for k, v in wallet_env().items()}), engine)
        finally:
            engine.dispose()
        return replace(built, credits_deposits=True, sends_withdrawals=True)


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    tmp = tmp_path_factory.mktemp("wallet-edge")
    with fresh_database(tmp) as url:
        redis_url = REDIS_URL if backend() == "postgresql" and redis_available() else None
        server = Instance(server_env(tmp / "data", url, redis_url, **wallet_env()), free_port())
        server.cli("users", "create", "alice")
        server.cli("users", "create", "bob")
        engine = make_engine(url)
        with engine.connect() as conn:
            ids = {r.name: int(r.id) for r in conn.execute(select(users.c.id, users.c.name))}
        engine.dispose()
        server.start(tmp / "server.log")
        try:
            yield Venue(server, url, ids, issue_key(server), issue_key(server, user="bob"))
        finally:
            server.stop()


def expected_address(user_id: int, coin: str) -> str:
    entry = DEFAULT_NETWORKS.get(coin)
    return AddressDeriver(mnemonic_xpubs()).derive(entry.network.family, user_id).address


def network_json(entry: CoinNetwork, truth: WalletParts) -> dict[str, Any]:
    return {
        "network": entry.code,
        "coin": entry.coin,
        "isDefault": entry.is_default,
        "depositEnable": truth.deposits_open(entry),
        "withdrawEnable": truth.withdrawals_open(entry),
        "withdrawFee": fmt(entry.withdraw_fee),
        "withdrawMin": fmt(entry.withdraw_min),
        "withdrawMax": fmt(entry.withdraw_max),
        "withdrawIntegerMultiple": fmt(entry.withdraw_integer_multiple),
        "minConfirm": entry.min_confirm,
        "unLockConfirm": entry.unlock_confirm,
        "depositDust": fmt(entry.deposit_dust),
        "contractAddress": entry.contract_address,
        "addressRegex": entry.network.address_regex,
    }


# -- getall -------------------------------------------------------------------------------------


def test_getall_lists_every_asset_with_its_networks_and_the_flags_the_server_runs(venue: Venue) -> None:
    truth = venue.truth()
    client = python_binance(venue.url, venue.alice["key"], venue.alice["secret"])
    coins = {c["coin"]: c for c in client.get_all_coins_info()}
    assert set(coins) == set(COINS)
    for code, coin in coins.items():
        entries = DEFAULT_NETWORKS.networks_of(code)
        listed = [{k: n[k] for k in network_json(entries[0], truth)} for n in coin["networkList"]]
        assert listed == [network_json(e, truth) for e in entries]
        assert coin["depositAllEnable"] is any(truth.deposits_open(e) for e in entries)
        assert coin["withdrawAllEnable"] is any(truth.withdrawals_open(e) for e in entries)
        for network in coin["networkList"]:
            if not network["depositEnable"]:
                assert network["depositDesc"] == "Deposits are not available on this server."
    assert coins["USDT"]["networkList"][0]["contractAddress"] == "0xdAC17F958D2ee523a2206206994597C13D831ec7"
    deposits = any(truth.deposits_open(e) for c in COINS for e in DEFAULT_NETWORKS.networks_of(c))
    assert client.get_account()["canDeposit"] is deposits


def test_ccxt_fetch_currencies_reads_networks_fees_limits_and_flags_unmodified(venue: Venue) -> None:
    truth = venue.truth()
    ex = ccxt_binance(venue.url, venue.alice["key"], venue.alice["secret"], fetchMarkets={"types": ["spot"]})
    currencies = ex.fetch_currencies()
    assert set(currencies) == set(COINS)
    usdt = currencies["USDT"]["networks"]["ERC20"]
    entry = DEFAULT_NETWORKS.get("USDT", "ETH")
    assert usdt["id"] == "ETH" and usdt["fee"] == 1.0 and usdt["precision"] == 0.000001
    assert usdt["limits"]["withdraw"] == {"min": 10.0, "max": 10_000_000.0}
    assert (usdt["deposit"], usdt["withdraw"]) == (truth.deposits_open(entry), truth.withdrawals_open(entry))
    assert set(currencies["BTC"]["networks"]) == {"BTC"} and set(currencies["SOL"]["networks"]) == {"SOL"}
    ex.load_markets()  # with currencies from getall, every base and quote asset must be known
    assert {ex.markets[s]["base"] for s in ex.markets} | {ex.markets[s]["quote"] for s in ex.markets} <= set(
        currencies
    )


# -- deposit addresses --------------------------------------------------------------------------


def test_ccxt_fetch_deposit_address_gives_each_user_their_own_stable_address(venue: Venue) -> None:
    ex = ccxt_binance(venue.url, venue.alice["key"], venue.alice["secret"], fetchMarkets={"types": ["spot"]})
    other = ccxt_binance(venue.url, venue.bob["key"], venue.bob["secret"], fetchMarkets={"types": ["spot"]})
    alice, bob = venue.ids["alice"], venue.ids["bob"]
    for code in COINS:
        mine = ex.fetch_deposit_address(code)
        assert mine["address"] == expected_address(alice, code) and mine["tag"] is None
        assert mine["currency"] == code
        assert ex.fetch_deposit_address(code)["address"] == mine["address"]
        assert other.fetch_deposit_address(code)["address"] == expected_address(bob, code) != mine["address"]
    usdt = ex.fetch_deposit_address("USDT", {"network": "ERC20"})  # ccxt sends network=ETH
    assert usdt["network"] == "ERC20" and usdt["address"] == ex.fetch_deposit_address("ETH")["address"]
    assert usdt["info"]["url"] == "https://etherscan.io/address/" + usdt["address"]
    sol = ex.fetch_deposit_address("SOL", {"network": "SOL"})
    assert sol["info"] == {
        "address": sol["address"],
        "coin": "SOL",
        "tag": "",
        "url": "https://solscan.io/account/" + sol["address"],
    }


def test_python_binance_get_deposit_address_answers_as_binance(venue: Venue) -> None:
    client = python_binance(venue.url, venue.alice["key"], venue.alice["secret"])
    btc = client.get_deposit_address(coin="BTC")
    address = expected_address(venue.ids["alice"], "BTC")
    assert btc == {
        "address": address,
        "coin": "BTC",
        "tag": "",
        "url": "https://mempool.space/address/" + address,
    }
    assert list(btc) == ["address", "coin", "tag", "url"]
    assert client.get_deposit_address(coin="btc", network="BTC") == btc
    assert client.get_deposit_address(coin="USDT", network="ETH")["address"] == expected_address(
        venue.ids["alice"], "ETH"
    )


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"coin": "DOGE"}, -4018),
        ({"coin": "BTC", "network": "SOL"}, -1130),
        ({"coin": "BTC", "network": "BSC"}, -1130),
        ({"coin": "B$C"}, -1100),
        ({"coin": "USDT", "network": "ETH-2"}, -1100),
        ({"coin": ""}, -1102),
    ],
)
def test_a_bad_coin_or_network_is_refused_with_binances_code(
    venue: Venue, params: dict[str, str], code: int
) -> None:
    client = python_binance(venue.url, venue.alice["key"], venue.alice["secret"])
    with pytest.raises(BinanceAPIException) as refused:
        client.get_deposit_address(**params)
    assert refused.value.code == code and refused.value.status_code == 400


def test_ccxt_maps_every_deposit_address_refusal_to_a_bad_request_it_does_not_retry(venue: Venue) -> None:
    ex = ccxt_binance(venue.url, venue.alice["key"], venue.alice["secret"], fetchMarkets={"types": ["spot"]})
    calls = [
        lambda: ex.sapi_get_capital_deposit_address({"coin": "DOGE"}),
        lambda: ex.fetch_deposit_address("BTC", {"network": "ERC20"}),
        lambda: ex.fetch_deposit_address("SOL", {"network": "BTC"}),
    ]
    for call in calls:
        with pytest.raises(ccxt.BadRequest) as refused:
            call()
        assert not isinstance(refused.value, (ccxt.NetworkError, ccxt.OperationFailed)), repr(refused.value)
        assert "is not valid" in str(refused.value) or "don't have this asset" in str(refused.value)


def test_a_server_without_extended_keys_issues_no_address_and_says_so(server: Instance) -> None:
    key = issue_key(server)
    client = python_binance(server.url, key["key"], key["secret"])
    with pytest.raises(BinanceAPIException) as refused:
        client.get_deposit_address(coin="BTC")
    assert refused.value.code == -1020 and "extended public keys" in refused.value.message
    coins = client.get_all_coins_info()
    assert {c["coin"] for c in coins} == set(COINS)
    assert not any(n["depositEnable"] for c in coins for n in c["networkList"])
    assert client.get_account()["canDeposit"] is False
    ex = ccxt_binance(server.url, key["key"], key["secret"], fetchMarkets={"types": ["spot"]})
    with pytest.raises(ccxt.BadRequest):
        ex.fetch_deposit_address("BTC")
    assert ex.fetch_currencies()["BTC"]["deposit"] is False


# -- keyplane chain deposit ---------------------------------------------------------------------


def test_cli_deposit_pays_an_issued_address_and_nothing_else(venue: Venue) -> None:
    client = python_binance(venue.url, venue.alice["key"], venue.alice["secret"])
    btc = client.get_deposit_address(coin="BTC")["address"]
    made = venue.server.cli("chain", "deposit", "--address", btc, "--amount", "0.25", "--json")
    tx = json.loads(made.stdout)
    assert (tx["network"], tx["coin"], tx["address"], tx["amount"]) == ("BTC", "BTC", btc, "0.25")
    assert (tx["status"], tx["confirmations"], tx["required_confirmations"]) == ("PENDING", 0, 2)
    engine = make_engine(venue.database_url)
    try:
        found = SimulatedChain(engine).incoming(address=btc)
    finally:
        engine.dispose()
    assert [(t.txid, t.amount) for t in found] == [(tx["txid"], Decimal("0.25"))]

    client.get_deposit_address(coin="ETH")
    eth = client.get_deposit_address(coin="USDT")["address"]
    ambiguous = venue.server.cli("chain", "deposit", "--address", eth, "--amount", "5", check=False)
    assert ambiguous.returncode == 2 and "name the coin" in ambiguous.stderr
    usdt = venue.server.cli(
        "chain", "deposit", "--address", eth.lower(), "--amount", "5", "--coin", "usdt", "--json"
    )
    assert json.loads(usdt.stdout)["coin"] == "USDT" and json.loads(usdt.stdout)["address"] == eth

    refusals = [
        (
            ["--address", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "--amount", "1"],
            "not a deposit address",
        ),
        (["--address", btc, "--amount", "1e"], "not a decimal amount"),
        (["--address", btc, "--amount", "-1"], "positive"),
        (["--address", btc, "--amount", "0.000000001"], "8 decimals"),
        (["--address", btc, "--amount", "1", "--network", "SOL"], "not a deposit address"),
    ]
    for args, message in refusals:
        refused = venue.server.cli("chain", "deposit", *args, check=False)
        assert refused.returncode == 2 and message in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr


# -- the demo -----------------------------------------------------------------------------------


def demo_deposit_address(tmp_path: Path, database_url: str, run: int) -> str:
    """Run ``keyplane demo`` on the data directory, ask its printed key for a BTC address, stop it."""
    with running_demo(tmp_path / "data", database_url, log_name=f"demo{run}.log") as demo:
        assert "mature after 60 s" in demo.log.read_text()
        client = python_binance(demo.url, demo.key, demo.secret)
        return str(client.get_deposit_address(coin="BTC")["address"])


def test_the_demo_keeps_its_wallet_keys_so_addresses_survive_a_restart(
    tmp_path: Path, database_url: str
) -> None:
    first = demo_deposit_address(tmp_path, database_url, 1)
    keys = tmp_path / "data" / XPUBS_FILE
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    saved = keys.read_text()
    public = json.loads(saved)
    assert set(public) == {"btc", "eth", "sol"} and "prv" not in saved
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            demo = conn.execute(select(users.c.id).where(users.c.name == "demo")).scalar_one()
    finally:
        engine.dispose()
    xpubs = OperatorXpubs(bitcoin=public["btc"], ethereum=public["eth"], solana=public["sol"])
    assert first == AddressDeriver(xpubs).derive(AddressFamily.BITCOIN, demo).address  # the file's keys
    assert demo_deposit_address(tmp_path, database_url, 2) == first
    assert keys.read_text() == saved
