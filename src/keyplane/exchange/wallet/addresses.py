"""Deposit addresses derived from the operator's extended public keys: the server can receive, never spend.

The operator keeps the seed offline and gives Keyplane one account-level extended public key per
address family (:class:`OperatorXpubs`); every deposit address is a non-hardened child of it:

============  ==========================  ===========================================================
family        account key (exported)      deposit address of index ``i``
============  ==========================  ===========================================================
BITCOIN       m/84'/0'/0'  zpub or xpub   m/84'/0'/0'/0/i, P2WPKH, bech32 ``bc1q...`` (BIP-84)
ETHEREUM      m/44'/60'/0' xpub           m/44'/60'/0'/0/i, EIP-55 ``0x...`` (BIP-44)
SOLANA        m/44'/501'/0' BIP32-Ed25519 m/44'/501'/0'/0/i, base58 of the 32-byte Ed25519 key
============  ==========================  ===========================================================

Choices:

- **Index = user id.** Stable (nothing to allocate, no race between two instances), unique, and
  any address can be recomputed offline from the key and the user id. A watch-only wallet that
  scans with a gap limit must be given a limit above the longest run of user ids without a
  deposit; a node adapter watches the issued addresses from the table instead.
- **USDT on ETH shares the user's ETH address** (same index), as Binance does: an ERC-20 token is
  sent to an account address, so anything the user sends there arrives at their address whatever
  the token; the contract, not the address, tells the assets apart.
- **Solana uses BIP32-Ed25519 (Khovratovich-Law),** because SLIP-10 Ed25519 (what Phantom or
  Solflare derive) has hardened derivation only: no public key alone can derive children. The
  addresses are valid Ed25519 keys, so the funds are the seed holder's, but only a signer that
  derives the same way (e.g. bip-utils' ``Bip32KholawEd25519`` offline) can spend them: the seed
  typed into an ordinary Solana wallet shows other addresses. Its extended keys are serialized
  like an ``xpub``; a secp256k1 ``xpub`` given here is refused (its key bytes are not Ed25519).
- With any non-hardened scheme, one leaked child private key and the account key together give
  the account's private key: the signer must never reveal a child key.

Public keys are not secret but reveal every deposit address; errors and ``repr`` show fingerprints only.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bip_utils import (
    Base58ChecksumError,
    Bip32KeyError,
    Bip32KholawEd25519,
    Bip32Secp256k1,
    Bip44,
    Bip44Coins,
    Bip84,
    Bip84Coins,
    EthAddrEncoder,
    P2WPKHAddrEncoder,
    SolAddrEncoder,
)
from bip_utils.bip.conf.bip84 import Bip84Conf

from keyplane.exchange.wallet.errors import ExtendedKeyRefused
from keyplane.exchange.wallet.networks import AddressFamily, NetworkSpec

MAX_INDEX = 2**31 - 1  # non-hardened child numbers
ACCOUNT_DEPTH = 3
SEED_BYTES = 64

ACCOUNT_PATHS: dict[AddressFamily, str] = {
    AddressFamily.BITCOIN: "m/84'/0'/0'",
    AddressFamily.ETHEREUM: "m/44'/60'/0'",
    AddressFamily.SOLANA: "m/44'/501'/0'",
}
_PRIVATE_PREFIXES = ("xprv", "yprv", "zprv", "tprv", "uprv", "vprv")
_TESTNET_PREFIXES = ("tpub", "upub", "vpub")


@dataclass(frozen=True, kw_only=True, slots=True)
class OperatorXpubs:
    """The operator's account-level extended public keys (settings in production, a demo set otherwise)."""

    bitcoin: str = field(repr=False)
    ethereum: str = field(repr=False)
    solana: str = field(repr=False)

    def of(self, family: AddressFamily) -> str:
        return {
            AddressFamily.BITCOIN: self.bitcoin,
            AddressFamily.ETHEREUM: self.ethereum,
            AddressFamily.SOLANA: self.solana,
        }[family]


@dataclass(frozen=True, kw_only=True, slots=True)
class DerivedAddress:
    address: str
    derivation_path: str
    key_fingerprint: str


class AddressDeriver:
    """Derives deposit addresses from public keys only; refuses any key that could spend."""

    def __init__(self, xpubs: OperatorXpubs) -> None:
        self._receive: dict[AddressFamily, Any] = {}
        self._fingerprints: dict[AddressFamily, str] = {}
        for family in AddressFamily:
            account = _account_key(family, xpubs.of(family))
            self._fingerprints[family] = _fingerprint(account)
            self._receive[family] = account.ChildKey(0)  # the external (receive) chain

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.value}={fp}" for f, fp in self._fingerprints.items())
        return f"AddressDeriver({shown})"

    def fingerprint(self, family: AddressFamily) -> str:
        """A short hash of the account key (public key and chain code), to tell keys apart."""
        return self._fingerprints[family]

    def derive(self, family: AddressFamily, index: int) -> DerivedAddress:
        if not 0 <= index <= MAX_INDEX:
            raise ValueError(f"address index {index} is outside 0..{MAX_INDEX}")
        public_key = self._receive[family].ChildKey(index).PublicKey()
        if family is AddressFamily.BITCOIN:
            address = P2WPKHAddrEncoder.EncodeKey(public_key.KeyObject(), hrp="bc")
        elif family is AddressFamily.ETHEREUM:
            address = EthAddrEncoder.EncodeKey(public_key.KeyObject())
        else:
            address = SolAddrEncoder.EncodeKey(public_key.RawCompressed().ToBytes()[1:])
        return DerivedAddress(
            address=str(address),
            derivation_path=f"{ACCOUNT_PATHS[family]}/0/{index}",
            key_fingerprint=self._fingerprints[family],
        )

    def for_network(self, network: NetworkSpec, index: int) -> DerivedAddress:
        return self.derive(network.family, index)


def generate_demo_xpubs(rng: Callable[[int], bytes] = secrets.token_bytes) -> OperatorXpubs:
    """A fresh set of account keys for the demo: a random seed lives only inside this call.

    Nobody can spend what is sent to these addresses once the call returns (the seed is dropped;
    Python cannot wipe the memory it used, so this is for the demo and tests, not for real funds).
    """
    seed = rng(SEED_BYTES)
    bitcoin = Bip84.FromSeed(seed, Bip84Coins.BITCOIN).Purpose().Coin().Account(0)
    ethereum = Bip44.FromSeed(seed, Bip44Coins.ETHEREUM).Purpose().Coin().Account(0)
    solana = Bip32KholawEd25519.FromSeed(seed).DerivePath(ACCOUNT_PATHS[AddressFamily.SOLANA])
    return OperatorXpubs(
        bitcoin=str(bitcoin.PublicKey().ToExtended()),
        ethereum=str(ethereum.PublicKey().ToExtended()),
        solana=str(solana.PublicKey().ToExtended()),
    )


def _account_key(family: AddressFamily, text: str) -> Any:
    """Parse an account-level extended public key of ``family``; never echo it in an error."""
    what = f"the {family.value.lower()} extended key"
    text = text.strip()
    if text.startswith(_PRIVATE_PREFIXES):
        raise ExtendedKeyRefused(
            f"{what} is a private key; give its public form (xpub/zpub): "
            "the server never holds a key that can spend."
        )
    if text.startswith(_TESTNET_PREFIXES):
        raise ExtendedKeyRefused(f"{what} is a testnet key; deposit addresses are for mainnet.")
    try:
        if family is AddressFamily.SOLANA:
            key = Bip32KholawEd25519.FromExtendedKey(text)
        elif family is AddressFamily.BITCOIN and text.startswith("zpub"):
            key = Bip32Secp256k1.FromExtendedKey(text, Bip84Conf.BitcoinMainNet.KeyNetVersions())
        else:
            key = Bip32Secp256k1.FromExtendedKey(text)
    except (Bip32KeyError, Base58ChecksumError, ValueError, TypeError):  # their texts may quote the key
        raise ExtendedKeyRefused(
            f"{what} cannot be read as a mainnet extended public key"
            + (" (BIP32-Ed25519)." if family is AddressFamily.SOLANA else " (secp256k1 xpub or zpub).")
        ) from None
    if not key.IsPublicOnly():
        raise ExtendedKeyRefused(f"{what} is a private key; give its public form.")
    if key.Depth().ToInt() != ACCOUNT_DEPTH or not key.Index().IsHardened():
        raise ExtendedKeyRefused(
            f"{what} must be an account key ({ACCOUNT_PATHS[family]}, depth 3, hardened); "
            f"this one has depth {key.Depth().ToInt()}."
        )
    return key


def _fingerprint(key: Any) -> str:
    material = bytes(key.ChainCode().ToBytes()) + bytes(key.PublicKey().RawCompressed().ToBytes())
    return hashlib.sha256(material).hexdigest()[:16]
