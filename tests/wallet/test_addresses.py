"""Deposit addresses come from public keys only: known answers, public = private derivation, refusals."""

from __future__ import annotations

import hashlib

import pytest
from bip_utils import (
    Base58Decoder,
    Base58Encoder,
    Bip32KholawEd25519,
    Bip44,
    Bip44Changes,
    Bip44Coins,
    Bip84,
    Bip84Coins,
)
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl import bindings

from keyplane.exchange.wallet.addresses import AddressDeriver, OperatorXpubs, generate_demo_xpubs
from keyplane.exchange.wallet.destinations import parse_destination
from keyplane.exchange.wallet.errors import ExtendedKeyRefused
from keyplane.exchange.wallet.networks import BTC, ETH, SOL, AddressFamily
from tests.wallet.conftest import SEED, mnemonic_xpubs

# BIP-84's own test vector: this zpub's first receive addresses (m/84'/0'/0'/0/0 and /1).
BIP84_ZPUB = (
    "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNf"
    "E3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs"
)
BIP84_FIRST = ("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g")
# m/44'/60'/0'/0/0 and /1 of the same mnemonic, as every BIP-44 Ethereum wallet derives them.
ETH_FIRST = ("0x9858EfFD232B4033E47d90003D41EC34EcaEda94", "0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0")
INDICES = (0, 1, 2, 19, 1000, 2**31 - 1)


def test_bip84_vector_zpub_gives_the_spec_addresses(deriver: AddressDeriver) -> None:
    assert mnemonic_xpubs().bitcoin == BIP84_ZPUB
    assert tuple(deriver.derive(AddressFamily.BITCOIN, i).address for i in (0, 1)) == BIP84_FIRST
    assert deriver.derive(AddressFamily.BITCOIN, 0).derivation_path == "m/84'/0'/0'/0/0"


def test_the_same_account_given_as_xpub_derives_the_same_addresses(deriver: AddressDeriver) -> None:
    as_xpub = Base58Encoder.CheckEncode(bytes.fromhex("0488b21e") + Base58Decoder.CheckDecode(BIP84_ZPUB)[4:])
    assert as_xpub.startswith("xpub")
    other = AddressDeriver(
        OperatorXpubs(bitcoin=as_xpub, ethereum=mnemonic_xpubs().ethereum, solana=mnemonic_xpubs().solana)
    )
    assert other.derive(AddressFamily.BITCOIN, 1).address == BIP84_FIRST[1]
    assert other.fingerprint(AddressFamily.BITCOIN) == deriver.fingerprint(AddressFamily.BITCOIN)


def test_bip44_ethereum_vector_gives_checksummed_addresses(deriver: AddressDeriver) -> None:
    assert tuple(deriver.derive(AddressFamily.ETHEREUM, i).address for i in (0, 1)) == ETH_FIRST
    assert deriver.derive(AddressFamily.ETHEREUM, 7).derivation_path == "m/44'/60'/0'/0/7"


@pytest.mark.parametrize("index", INDICES)
def test_public_derivation_equals_the_seed_holders_private_derivation(
    deriver: AddressDeriver, index: int
) -> None:
    btc = Bip84.FromSeed(SEED, Bip84Coins.BITCOIN).Purpose().Coin().Account(0).Change(Bip44Changes.CHAIN_EXT)
    eth = Bip44.FromSeed(SEED, Bip44Coins.ETHEREUM).Purpose().Coin().Account(0).Change(Bip44Changes.CHAIN_EXT)
    sol = Bip32KholawEd25519.FromSeed(SEED).DerivePath(f"m/44'/501'/0'/0/{index}")
    assert (
        deriver.derive(AddressFamily.BITCOIN, index).address
        == btc.AddressIndex(index).PublicKey().ToAddress()
    )
    assert (
        deriver.derive(AddressFamily.ETHEREUM, index).address
        == eth.AddressIndex(index).PublicKey().ToAddress()
    )
    sol_key = sol.PublicKey().RawCompressed().ToBytes()[1:]
    assert Base58Decoder.Decode(deriver.derive(AddressFamily.SOLANA, index).address) == sol_key


def _sign_with_extended_key(extended: bytes, message: bytes) -> bytes:
    """Ed25519 with a BIP32-Ed25519 extended private key (kL scalar, kR nonce key), as a signer would."""
    k_left, k_right = extended[:32], extended[32:]
    scalar = bindings.crypto_core_ed25519_scalar_reduce(k_left + bytes(32))
    public = bindings.crypto_scalarmult_ed25519_base_noclamp(scalar)
    r = bindings.crypto_core_ed25519_scalar_reduce(hashlib.sha512(k_right + message).digest())
    big_r = bindings.crypto_scalarmult_ed25519_base_noclamp(r)
    k = bindings.crypto_core_ed25519_scalar_reduce(hashlib.sha512(big_r + public + message).digest())
    s = bindings.crypto_core_ed25519_scalar_add(r, bindings.crypto_core_ed25519_scalar_mul(k, scalar))
    return big_r + s


@pytest.mark.parametrize("index", (0, 5, 2**31 - 1))
def test_the_seed_holder_can_sign_for_a_solana_deposit_address(deriver: AddressDeriver, index: int) -> None:
    """The SOL address is a real Ed25519 key whose private half the seed gives: deposits are spendable."""
    child = Bip32KholawEd25519.FromSeed(SEED).DerivePath(f"m/44'/501'/0'/0/{index}")
    message = b"a Solana transaction message"
    signature = _sign_with_extended_key(child.PrivateKey().Raw().ToBytes(), message)
    address = deriver.derive(AddressFamily.SOLANA, index).address
    Ed25519PublicKey.from_public_bytes(Base58Decoder.Decode(address)).verify(signature, message)
    with pytest.raises(InvalidSignature):
        Ed25519PublicKey.from_public_bytes(Base58Decoder.Decode(address)).verify(signature, message + b"!")


@pytest.mark.parametrize("index", INDICES)
def test_derived_addresses_pass_their_networks_destination_check(deriver: AddressDeriver, index: int) -> None:
    for network in (BTC, ETH, SOL):
        address = deriver.for_network(network, index).address
        assert parse_destination(network, address).address == address


@pytest.mark.parametrize("index", (-1, 2**31))
def test_index_outside_non_hardened_range_is_refused(deriver: AddressDeriver, index: int) -> None:
    with pytest.raises(ValueError):
        deriver.derive(AddressFamily.BITCOIN, index)


def _private_keys() -> dict[str, str]:
    return {
        "zprv": Bip84.FromSeed(SEED, Bip84Coins.BITCOIN)
        .Purpose()
        .Coin()
        .Account(0)
        .PrivateKey()
        .ToExtended(),
        "xprv": Bip44.FromSeed(SEED, Bip44Coins.ETHEREUM)
        .Purpose()
        .Coin()
        .Account(0)
        .PrivateKey()
        .ToExtended(),
        "kholaw": Bip32KholawEd25519.FromSeed(SEED).DerivePath("m/44'/501'/0'").PrivateKey().ToExtended(),
    }


@pytest.mark.parametrize(
    ("family", "kind"),
    [(AddressFamily.BITCOIN, "zprv"), (AddressFamily.ETHEREUM, "xprv"), (AddressFamily.SOLANA, "kholaw")],
)
def test_a_private_key_is_refused_without_being_echoed(family: AddressFamily, kind: str) -> None:
    secret = _private_keys()[kind]
    keys = {f.value.lower(): mnemonic_xpubs().of(f) for f in AddressFamily}
    keys[family.value.lower()] = secret
    with pytest.raises(ExtendedKeyRefused) as refused:
        AddressDeriver(OperatorXpubs(**keys))
    assert "private" in refused.value.msg
    assert secret not in refused.value.msg and secret[4:20] not in repr(refused.value)


def _with(family: AddressFamily, key: str) -> OperatorXpubs:
    keys = {f.value.lower(): mnemonic_xpubs().of(f) for f in AddressFamily}
    keys[family.value.lower()] = key
    return OperatorXpubs(**keys)


def test_keys_of_the_wrong_curve_depth_or_net_are_refused() -> None:
    xpubs = mnemonic_xpubs()
    master = Bip44.FromSeed(SEED, Bip44Coins.ETHEREUM).PublicKey().ToExtended()  # depth 0
    testnet = (
        Bip84.FromSeed(SEED, Bip84Coins.BITCOIN_TESTNET).Purpose().Coin().Account(0).PublicKey().ToExtended()
    )
    cases = [
        (AddressFamily.SOLANA, xpubs.ethereum, "cannot be read"),  # a secp256k1 key is no Ed25519 key
        (AddressFamily.ETHEREUM, xpubs.solana, "cannot be read"),
        (AddressFamily.ETHEREUM, master, "depth 0"),
        (AddressFamily.BITCOIN, testnet, "testnet"),
        (AddressFamily.BITCOIN, "zpub" + "1" * 107, "cannot be read"),
        (AddressFamily.BITCOIN, "", "cannot be read"),
    ]
    for family, key, words in cases:
        with pytest.raises(ExtendedKeyRefused) as refused:
            AddressDeriver(_with(family, key))
        assert words in refused.value.msg
        assert not key or key not in refused.value.msg


def test_reprs_show_fingerprints_not_keys(deriver: AddressDeriver) -> None:
    xpubs = mnemonic_xpubs()
    for text in (repr(xpubs), repr(deriver)):
        assert all(xpubs.of(f) not in text for f in AddressFamily)
    assert deriver.fingerprint(AddressFamily.ETHEREUM) in repr(deriver)


def test_demo_keys_are_public_fresh_and_usable() -> None:
    first, second = generate_demo_xpubs(), generate_demo_xpubs()
    assert first != second
    assert first.bitcoin.startswith("zpub") and first.ethereum.startswith("xpub")
    deriver = AddressDeriver(first)  # refuses anything private
    assert deriver.derive(AddressFamily.BITCOIN, 3).address.startswith("bc1q")
    assert deriver.derive(AddressFamily.ETHEREUM, 3).address.startswith("0x")
    assert parse_destination(SOL, deriver.derive(AddressFamily.SOLANA, 3).address)


def test_demo_keys_follow_the_injected_randomness() -> None:
    def fixed(n: int) -> bytes:
        return bytes(range(n))

    assert generate_demo_xpubs(fixed) == generate_demo_xpubs(fixed)
