"""The network table: every field of ``capital/config/getall``'s networkList, exact, checked on entry."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from keyplane.exchange.markets import default_assets
from keyplane.exchange.wallet.errors import UnknownAsset, UnknownNetwork
from keyplane.exchange.wallet.networks import DEFAULT_NETWORKS, USDT_ERC20_CONTRACT, CoinNetwork, NetworkTable


def test_every_exchange_asset_has_one_default_network() -> None:
    assets = {a.code: a for a in default_assets()}
    assert set(DEFAULT_NETWORKS.coins()) == set(assets)
    defaults = {coin: DEFAULT_NETWORKS.get(coin) for coin in assets}
    assert {coin: entry.code for coin, entry in defaults.items()} == {
        "BTC": "BTC",
        "ETH": "ETH",
        "USDT": "ETH",
        "SOL": "SOL",
    }
    for coin, entry in defaults.items():
        assert entry.is_default and DEFAULT_NETWORKS.networks_of(coin)[0] is entry


def test_usdt_is_the_erc20_contract_with_six_decimals() -> None:
    usdt = DEFAULT_NETWORKS.get("USDT", "ETH")
    assert usdt.contract_address == USDT_ERC20_CONTRACT
    assert usdt.chain_decimals == 6 and usdt.withdraw_integer_multiple == Decimal("0.000001")


def test_no_default_network_uses_a_memo() -> None:
    for coin in DEFAULT_NETWORKS.coins():
        for entry in DEFAULT_NETWORKS.networks_of(coin):
            assert (
                not entry.network.uses_memo and entry.same_address is False and entry.network.memo_regex == ""
            )


def test_amounts_are_decimals_and_confirmations_ordered() -> None:
    for coin in DEFAULT_NETWORKS.coins():
        for entry in DEFAULT_NETWORKS.networks_of(coin):
            for amount in (entry.withdraw_fee, entry.withdraw_min, entry.withdraw_max, entry.deposit_dust):
                assert type(amount) is Decimal
            assert 1 <= entry.min_confirm <= entry.unlock_confirm


def test_lookups_raise_binance_coded_errors() -> None:
    assert DEFAULT_NETWORKS.get("BTC", "") is DEFAULT_NETWORKS.get("BTC", None)
    with pytest.raises(UnknownAsset) as unknown:
        DEFAULT_NETWORKS.get("DOGE")
    assert unknown.value.code == -4018
    with pytest.raises(UnknownNetwork) as wrong:
        DEFAULT_NETWORKS.get("USDT", "TRX")
    assert wrong.value.code == -1130 and "its networks: ETH" in wrong.value.msg
    with pytest.raises(UnknownNetwork):
        DEFAULT_NETWORKS.network("BSC")
    assert [e.coin for e in DEFAULT_NETWORKS.coins_on("ETH")] == ["ETH", "USDT"]


def test_rows_that_would_mislead_are_refused() -> None:
    btc = DEFAULT_NETWORKS.get("BTC")
    bad = [
        {"withdraw_min": Decimal("0.0001")},  # not above the fee
        {"withdraw_integer_multiple": Decimal("0.000000001")},  # finer than the chain's 8 decimals
        {"min_confirm": 0},
        {"min_confirm": 3, "unlock_confirm": 2},
        {"withdraw_fee": 0.0002},  # a float
        {"withdraw_max": Decimal("0.0001")},
    ]
    for change in bad:
        with pytest.raises(ValueError):
            replace(btc, **change)  # type: ignore[arg-type]


def test_the_table_refuses_two_defaults_or_a_duplicate() -> None:
    btc = DEFAULT_NETWORKS.get("BTC")
    with pytest.raises(ValueError):
        NetworkTable([btc, replace(btc, name="again")])
    with pytest.raises(ValueError):
        NetworkTable([replace(btc, is_default=False)])
    assert isinstance(NetworkTable([btc]).get("BTC"), CoinNetwork)
