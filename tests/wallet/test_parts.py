"""The wallet's parts from settings, and the flags getall shows: never more than the server does."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from keyplane.demo.wallet import (
    DEMO_BLOCK_MS,
    DEMO_COOLING_OFF_SECONDS,
    DEMO_SEND_DELAY_SECONDS,
    XPUBS_FILE,
    demo_wallet_settings,
    demo_xpubs,
)
from keyplane.exchange.wallet.errors import DepositsUnavailable, UnknownAsset, UnknownNetwork
from keyplane.exchange.wallet.networks import DEFAULT_NETWORKS
from keyplane.runtime import build_wallet
from keyplane.settings import Settings
from tests.wallet.conftest import mnemonic_xpubs


def configured(tmp_path: Path, **extra: object) -> Settings:
    xpubs = mnemonic_xpubs()
    return Settings(
        data_dir=tmp_path,
        wallet_xpub_btc=xpubs.bitcoin,
        wallet_xpub_eth=xpubs.ethereum,
        wallet_xpub_sol=xpubs.solana,
        **extra,
    )


def test_without_extended_keys_there_are_no_deposit_addresses_and_getall_shows_none(
    engine: Engine, tmp_path: Path, alice: int
) -> None:
    parts = build_wallet(Settings(data_dir=tmp_path), engine)
    assert parts.addresses is None
    everything = replace(parts, credits_deposits=True, sends_withdrawals=True)
    assert not any(
        everything.deposits_open(e) for c in DEFAULT_NETWORKS.coins() for e in DEFAULT_NETWORKS.networks_of(c)
    )
    with pytest.raises(DepositsUnavailable) as refused:
        parts.deposit_address(alice, "BTC")
    assert refused.value.code == -1020 and "extended public keys" in refused.value.msg
    with pytest.raises(UnknownAsset):  # an unknown coin or network is still named as such
        parts.deposit_address(alice, "DOGE")
    with pytest.raises(UnknownNetwork):
        parts.deposit_address(alice, "BTC", "SOL")


def test_the_flags_follow_what_the_server_runs(engine: Engine, tmp_path: Path, alice: int) -> None:
    parts = build_wallet(configured(tmp_path), engine)
    assert parts.addresses is not None and parts.book.cooling_off_ms == 86_400_000
    btc = DEFAULT_NETWORKS.get("BTC")
    assert parts.deposit_address(alice, "BTC").address.startswith("bc1q")
    for credits in (False, True):
        for sends in (False, True):
            flags = replace(parts, credits_deposits=credits, sends_withdrawals=sends)
            assert (flags.deposits_open(btc), flags.withdrawals_open(btc)) == (credits, sends)
    closed = replace(btc, deposit_enable=False, withdraw_enable=False)
    everything = replace(parts, credits_deposits=True, sends_withdrawals=True)
    assert not everything.deposits_open(closed) and not everything.withdrawals_open(closed)


def test_the_cooling_off_comes_from_settings(engine: Engine, tmp_path: Path) -> None:
    parts = build_wallet(configured(tmp_path, withdraw_address_cooling_off_seconds=90), engine)
    assert parts.book.cooling_off_ms == 90_000
    with pytest.raises(ValueError):
        Settings(data_dir=tmp_path, withdraw_address_cooling_off_seconds=-1)


def test_some_keys_but_not_all_is_a_start_up_error(engine: Engine, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, wallet_xpub_btc=mnemonic_xpubs().bitcoin)
    with pytest.raises(ValueError, match="all three"):
        build_wallet(settings, engine)


def test_a_private_extended_key_is_refused_at_start_up_without_echoing_it(
    engine: Engine, tmp_path: Path
) -> None:
    private = "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi"
    settings = Settings(
        data_dir=tmp_path,
        wallet_xpub_btc=private,
        wallet_xpub_eth=mnemonic_xpubs().ethereum,
        wallet_xpub_sol=mnemonic_xpubs().solana,
    )
    with pytest.raises(ValueError) as refused:
        build_wallet(settings, engine)
    assert "private key" in str(refused.value) and private not in str(refused.value)
    assert private not in repr(settings) and isinstance(settings.wallet_xpub_btc, SecretStr)


def test_the_demo_makes_its_keys_once_keeps_only_public_keys_and_reuses_them(tmp_path: Path) -> None:
    first = demo_xpubs(tmp_path)
    path = tmp_path / XPUBS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert demo_xpubs(tmp_path) == first
    saved = json.loads(path.read_text())
    assert set(saved) == {"btc", "eth", "sol"} and "prv" not in path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == [XPUBS_FILE]
    extra = demo_wallet_settings(Settings(data_dir=tmp_path, demo_mode=True))
    assert extra == {
        "wallet_xpub_btc": first.bitcoin,
        "wallet_xpub_eth": first.ethereum,
        "wallet_xpub_sol": first.solana,
        "withdraw_address_cooling_off_seconds": DEMO_COOLING_OFF_SECONDS,
        "chain_block_ms": DEMO_BLOCK_MS,
        "withdraw_send_delay_seconds": DEMO_SEND_DELAY_SECONDS,
    }


def test_the_demo_leaves_keys_and_cooling_off_the_operator_set(tmp_path: Path) -> None:
    settings = configured(
        tmp_path / "data",
        withdraw_address_cooling_off_seconds=5,
        chain_block_ms=50,
        withdraw_send_delay_seconds=1,
    )
    assert demo_wallet_settings(settings) == {}
    assert not (tmp_path / "data" / XPUBS_FILE).exists()


def test_an_unreadable_keys_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / XPUBS_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="delete it"):
        demo_xpubs(tmp_path)
