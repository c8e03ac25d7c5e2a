"""Wallet fixtures: the BIP-39 test mnemonic's account keys, a settable clock, users, a simulated chain."""

from __future__ import annotations

import pytest
from bip_utils import Bip32KholawEd25519, Bip39SeedGenerator, Bip44, Bip44Coins, Bip84, Bip84Coins
from sqlalchemy import Engine

from keyplane.exchange.wallet.addresses import AddressDeriver, OperatorXpubs
from keyplane.exchange.wallet.chain import SimulatedChain
from keyplane.exchange.wallet.issuing import DepositAddresses
from keyplane.store.tables import users

# The mnemonic of the BIP-84 and many BIP-44 test vectors; its keys are public knowledge.
MNEMONIC = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
SEED = Bip39SeedGenerator(MNEMONIC).Generate()
T0 = 1_700_000_000_000  # a whole multiple of every block interval below
BLOCKS = {"BTC": 10_000, "ETH": 1_000, "SOL": 100}


def mnemonic_xpubs() -> OperatorXpubs:
    return OperatorXpubs(
        bitcoin=Bip84.FromSeed(SEED, Bip84Coins.BITCOIN).Purpose().Coin().Account(0).PublicKey().ToExtended(),
        ethereum=Bip44.FromSeed(SEED, Bip44Coins.ETHEREUM)
        .Purpose()
        .Coin()
        .Account(0)
        .PublicKey()
        .ToExtended(),
        solana=Bip32KholawEd25519.FromSeed(SEED).DerivePath("m/44'/501'/0'").PublicKey().ToExtended(),
    )


class Clock:
    """A millisecond clock that tests move by hand."""

    def __init__(self, t: int = T0) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


def make_users(engine: Engine, *names: str) -> list[int]:
    with engine.begin() as conn:
        keys = [
            conn.execute(users.insert().values(name=n, created_at=T0)).inserted_primary_key for n in names
        ]
    return [int(k[0]) for k in keys if k is not None]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def deriver() -> AddressDeriver:
    return AddressDeriver(mnemonic_xpubs())


@pytest.fixture
def addresses(engine: Engine, deriver: AddressDeriver, clock: Clock) -> DepositAddresses:
    return DepositAddresses(engine, deriver, now=clock)


@pytest.fixture
def chain(engine: Engine, clock: Clock) -> SimulatedChain:
    return SimulatedChain(engine, block_interval_ms=BLOCKS, now=clock)


@pytest.fixture
def alice(engine: Engine) -> int:
    return make_users(engine, "alice")[0]


@pytest.fixture
def bob(engine: Engine) -> int:
    return make_users(engine, "bob")[0]
