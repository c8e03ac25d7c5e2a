"""Deposit addresses are issued once per (user, coin, network), recorded, and stable from then on."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy import Engine, func, select

from keyplane.exchange.wallet.addresses import AddressDeriver, generate_demo_xpubs
from keyplane.exchange.wallet.errors import NetworkClosed, UnknownAsset, UnknownNetwork
from keyplane.exchange.wallet.issuing import DepositAddresses
from keyplane.exchange.wallet.networks import DEFAULT_NETWORKS, NetworkTable
from keyplane.store.wallet_tables import wallet_deposit_addresses
from tests.wallet.conftest import T0, Clock


def test_an_address_is_derived_at_the_users_index_and_recorded(
    addresses: DepositAddresses, deriver: AddressDeriver, alice: int
) -> None:
    issued = addresses.get(alice, "BTC")
    assert issued.network == "BTC" and issued.memo == "" and issued.created_at == T0
    assert issued.derivation_path == f"m/84'/0'/0'/0/{alice}"
    assert issued.address == deriver.derive(DEFAULT_NETWORKS.network("BTC").family, alice).address
    assert addresses.of_user(alice) == [issued]


def test_the_same_request_returns_the_recorded_address(
    engine: Engine, addresses: DepositAddresses, deriver: AddressDeriver, clock: Clock, alice: int
) -> None:
    first = addresses.get(alice, "SOL", "SOL")
    clock.t += 60_000
    again = DepositAddresses(engine, deriver, now=clock)
    assert again.get(alice, "SOL") == first == addresses.get(alice, "SOL", None)


def test_users_get_different_addresses_and_usdt_shares_the_users_eth_address(
    addresses: DepositAddresses, alice: int, bob: int
) -> None:
    mine = {coin: addresses.get(alice, coin).address for coin in ("BTC", "ETH", "USDT", "SOL")}
    theirs = {coin: addresses.get(bob, coin).address for coin in ("BTC", "ETH", "USDT", "SOL")}
    assert mine["USDT"] == mine["ETH"] and theirs["USDT"] == theirs["ETH"]
    assert not set(mine.values()) & set(theirs.values())
    assert len(set(mine.values())) == 3
    owners = addresses.owners(mine["ETH"], "ETH")
    assert {(o.user_id, o.coin) for o in owners} == {(alice, "ETH"), (alice, "USDT")}
    assert addresses.owners(mine["ETH"], "SOL") == [] and addresses.owners("bc1qnotours") == []


def test_a_new_operator_key_leaves_issued_addresses_where_they_are(
    engine: Engine, addresses: DepositAddresses, deriver: AddressDeriver, clock: Clock, alice: int, bob: int
) -> None:
    before = addresses.get(alice, "ETH")
    rotated = DepositAddresses(engine, AddressDeriver(generate_demo_xpubs()), now=clock)
    assert rotated.get(alice, "ETH") == before
    fresh = rotated.get(bob, "ETH")
    assert fresh.key_fingerprint != before.key_fingerprint
    assert fresh.address != deriver.derive(DEFAULT_NETWORKS.network("ETH").family, bob).address


def test_unknown_coins_networks_and_closed_deposits_are_refused(
    engine: Engine, deriver: AddressDeriver, addresses: DepositAddresses, alice: int
) -> None:
    with pytest.raises(UnknownAsset):
        addresses.get(alice, "DOGE")
    with pytest.raises(UnknownNetwork):
        addresses.get(alice, "BTC", "ETH")
    closed = NetworkTable([replace(DEFAULT_NETWORKS.get("BTC"), deposit_enable=False)])
    with pytest.raises(NetworkClosed) as refused:
        DepositAddresses(engine, deriver, closed).get(alice, "BTC")
    assert "suspended" in refused.value.msg
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(wallet_deposit_addresses)).scalar_one() == 0


def test_racing_requests_issue_one_row(engine: Engine, addresses: DepositAddresses, alice: int) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: addresses.get(alice, "ETH"), range(16)))
    assert len({r.address for r in results}) == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(wallet_deposit_addresses)).scalar_one() == 1
