"""``account``'s ``canDeposit`` follows the wallet as it opens and closes deposits at run time."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import Engine

from keyplane.exchange.wallet.networks import DEFAULT_NETWORKS, NetworkTable
from keyplane.http.binance_wallet import _any_deposits
from keyplane.runtime import build_wallet
from keyplane.settings import Settings
from tests.wallet.server_keys import wallet_env


def _settings(tmp_path: Path, **env: str) -> Settings:
    return Settings(data_dir=tmp_path, **{k[9:].lower(): v for k, v in env.items()})


def test_can_deposit_follows_the_wallet_worker_starting_and_stopping(engine: Engine, tmp_path: Path) -> None:
    wallet = build_wallet(_settings(tmp_path, **wallet_env()), engine)
    assert not _any_deposits(wallet)  # no worker credits deposits yet
    wallet.credits_deposits = True  # as ServerParts._start_wallet does
    assert _any_deposits(wallet)
    wallet.credits_deposits = False  # deposed: the successor runs the wallet
    assert not _any_deposits(wallet)


def test_can_deposit_is_false_without_extended_keys_or_with_every_network_closed(
    engine: Engine, tmp_path: Path
) -> None:
    no_keys = replace(build_wallet(_settings(tmp_path), engine), credits_deposits=True)
    assert not _any_deposits(no_keys)
    open_wallet = replace(build_wallet(_settings(tmp_path, **wallet_env()), engine), credits_deposits=True)
    entries = [e for c in DEFAULT_NETWORKS.coins() for e in DEFAULT_NETWORKS.networks_of(c)]
    closed = NetworkTable(replace(e, deposit_enable=False) for e in entries)
    assert not _any_deposits(replace(open_wallet, networks=closed))
    one_open = NetworkTable(replace(e, deposit_enable=e is entries[-1]) for e in entries)
    assert _any_deposits(replace(open_wallet, networks=one_open))
    assert _any_deposits(open_wallet)
