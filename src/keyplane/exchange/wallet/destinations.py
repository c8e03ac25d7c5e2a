"""Withdrawal destinations, decoded by the network's own address format before any other rule runs.

A typo must be a clear refusal (:class:`InvalidAddress`, Binance ``-4007``, saying which network
and what is wrong), never a transfer to nobody. Per family:

- **Bitcoin (mainnet).** Segwit ``bc1...``: bech32 for version 0 (P2WPKH, P2WSH), bech32m for
  version 1 (P2TR), per BIP-173/350; the BCH checksum catches every single-character typo. Later
  witness versions are refused (not yet in use: coins sent there could be taken by anyone).
  Legacy base58check ``1...`` (P2PKH) and ``3...`` (P2SH) are accepted after their 4-byte
  checksum, as Binance accepts them. Testnet addresses are refused by name. An all-capital bech32
  address (as in QR codes) is accepted and stored in lower case; mixed case is refused.
- **Ethereum.** ``0x`` and 40 hex digits. Mixed case must carry a correct EIP-55 checksum. All
  lower- or all-upper-case hex has no checksum (EIP-55 says so) and is accepted, as Binance and
  wallets accept it, then stored checksummed; the address book's TOTP confirmation and
  cooling-off are what protect such an address. The zero address (burns funds) is refused.
- **Solana.** Base58 of a 32-byte key, which must be a point on Ed25519 (a wallet's public key),
  as bip-utils' Solana decoder requires. Solana addresses have **no checksum**: characters base58
  never uses and wrong lengths are caught, and a mistyped character that keeps 32 bytes is caught
  only when the result is off the curve (about half the time); the other half decodes to another
  valid key, which only the address book's confirmation and cooling-off can stop. The curve rule
  also refuses program and program-derived addresses (PDAs, e.g. some multisig vaults), which
  an exchange should not send SOL to blindly. The all-zero key (the System Program) is refused.

Memos: a memo on a network that takes none is refused (``-4008``) rather than dropped, since the
sender evidently expects one (an exchange deposit that needs a memo, sent on the wrong network).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from bip_utils import (
    Base58ChecksumError,
    Base58Decoder,
    Bech32ChecksumError,
    EthAddrDecoder,
    Kekkak256,
    SegwitBech32Decoder,
    SolAddrDecoder,
)
from bip_utils.bech32.bech32 import Bech32Encodings, Bech32Utils

from keyplane.exchange.wallet.errors import InvalidAddress, InvalidMemo
from keyplane.exchange.wallet.networks import AddressFamily, NetworkSpec

MAX_ADDRESS_LENGTH = 128
BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
HEX_DIGITS = "0123456789abcdefABCDEF"
ETH_ZERO = "0x" + "0" * 40
SOL_SYSTEM_PROGRAM = "1" * 32  # the all-zero key: on the curve, but the System Program's id


class DestinationKind(str, Enum):
    P2WPKH = "P2WPKH"
    P2WSH = "P2WSH"
    P2TR = "P2TR"
    P2PKH = "P2PKH"
    P2SH = "P2SH"
    ETHEREUM_ACCOUNT = "ETHEREUM_ACCOUNT"
    SOLANA_ACCOUNT = "SOLANA_ACCOUNT"


@dataclass(frozen=True, kw_only=True, slots=True)
class Destination:
    """A decoded destination. ``address`` is canonical (bech32 lower case, EIP-55 checksummed), so
    two spellings of one address compare equal; ``checksummed`` is false where a typo could pass."""

    network: str
    address: str
    memo: str
    kind: DestinationKind
    checksummed: bool


class _Refused(Exception):
    """What is wrong with an address, in words; becomes :class:`InvalidAddress` naming the network."""


def parse_destination(network: NetworkSpec, address: str, memo: str = "") -> Destination:
    """Decode ``address`` and ``memo`` for ``network``, or raise InvalidAddress or InvalidMemo."""
    try:
        _check_characters(address)
        if network.family is AddressFamily.BITCOIN:
            canonical, kind, checksummed = _bitcoin(address)
        elif network.family is AddressFamily.ETHEREUM:
            canonical, kind, checksummed = _ethereum(address)
        else:
            canonical, kind, checksummed = _solana(address)
    except _Refused as refused:
        raise InvalidAddress.because(network.code, str(refused)) from None
    _check_memo(network, memo)
    return Destination(network=network.code, address=canonical, memo=memo, kind=kind, checksummed=checksummed)


def _check_characters(address: str) -> None:
    if not address:
        raise _Refused("the address is empty")
    if len(address) > MAX_ADDRESS_LENGTH:
        raise _Refused(f"it has {len(address)} characters, more than any address")
    if not all(33 <= ord(c) <= 126 for c in address):
        raise _Refused("it contains a space or a character that no address uses")


def _check_memo(network: NetworkSpec, memo: str) -> None:
    if not network.uses_memo:
        if memo:
            raise InvalidMemo.because(network.code, "this network takes no memo (addressTag); send none")
        return
    if not memo:
        if network.memo_required:
            raise InvalidMemo.because(network.code, "a memo (addressTag) is required")
        return
    if not re.fullmatch(network.memo_regex, memo):
        raise InvalidMemo.because(network.code, "the memo (addressTag) does not have this network's format")


# --- Bitcoin --------------------------------------------------------------------------------


def _bitcoin(address: str) -> tuple[str, DestinationKind, bool]:
    lowered = address.lower()
    if lowered.startswith("bc1"):
        return _segwit(address)
    if lowered.startswith(("tb1", "bcrt1")):
        raise _Refused("it is a Bitcoin testnet address; this network is Bitcoin mainnet")
    if address[0] in "13mn2":
        return _legacy(address)
    if lowered.startswith("0x"):
        raise _Refused("it looks like an Ethereum address; a Bitcoin address starts with bc1, 1 or 3")
    raise _Refused("a Bitcoin address starts with bc1 (segwit), 1 or 3 (legacy)")


def _segwit(address: str) -> tuple[str, DestinationKind, bool]:
    if address not in (address.lower(), address.upper()):
        raise _Refused("it mixes upper- and lower-case letters; a bech32 address is all one case")
    lowered = address.lower()
    data = lowered[3:]
    for char in data:
        if char not in BECH32_CHARSET:
            raise _Refused(f"it contains {char!r} after bc1, which bech32 never uses (no 1, b, i or o)")
    if len(lowered) > 90:
        raise _Refused(f"it has {len(lowered)} characters; a bech32 address has at most 90")
    if len(data) < 7:
        raise _Refused("it is too short to be a segwit address")
    try:
        version, program = SegwitBech32Decoder.Decode("bc", lowered)
    except Bech32ChecksumError:
        raise _Refused(_checksum_diagnosis(data)) from None
    except ValueError:
        raise _Refused(
            "its witness program has a length no segwit address has; a character is missing or extra"
        ) from None
    if version == 0:
        return lowered, DestinationKind.P2WPKH if len(program) == 20 else DestinationKind.P2WSH, True
    if version == 1 and len(program) == 32:
        return lowered, DestinationKind.P2TR, True
    if version == 1:
        raise _Refused(f"a version 1 (taproot) address holds 32 bytes, this one {len(program)}")
    raise _Refused(f"segwit version {version} is not in use yet; coins sent there could be lost")


def _checksum_diagnosis(data: str) -> str:
    values = [BECH32_CHARSET.index(c) for c in data]
    if values[0] == 0 and Bech32Utils.VerifyChecksum("bc", values, Bech32Encodings.BECH32M):
        return "it is a version 0 address with a bech32m checksum; version 0 uses bech32 (BIP-350)"
    if values[0] != 0 and Bech32Utils.VerifyChecksum("bc", values, Bech32Encodings.BECH32):
        return "it is a version 1+ address with a bech32 checksum; these use bech32m (BIP-350)"
    return "its checksum does not match: a character is mistyped, missing, extra or swapped"


def _legacy(address: str) -> tuple[str, DestinationKind, bool]:
    _base58_characters(address)
    if not 26 <= len(address) <= 35:
        raise _Refused(f"it has {len(address)} characters; a legacy Bitcoin address has 26 to 35")
    try:
        raw = Base58Decoder.CheckDecode(address)
    except Base58ChecksumError:
        raise _Refused(
            "its base58check checksum does not match: a character is mistyped or swapped"
        ) from None
    except ValueError:
        raise _Refused("it is not valid base58check") from None
    if len(raw) != 21:
        raise _Refused(f"it decodes to {len(raw)} bytes; a legacy Bitcoin address holds 21")
    version = raw[0]
    if version == 0x00:
        return address, DestinationKind.P2PKH, True
    if version == 0x05:
        return address, DestinationKind.P2SH, True
    if version in (0x6F, 0xC4):
        raise _Refused("it is a Bitcoin testnet address; this network is Bitcoin mainnet")
    raise _Refused(f"its version byte {version:#04x} is not a Bitcoin mainnet address type")


# --- Ethereum -------------------------------------------------------------------------------


def eip55(hex40: str) -> str:
    """The EIP-55 spelling of 40 hex digits: a letter is upper case where the hash nibble is >= 8."""
    lowered = hex40.lower()
    digest = Kekkak256.QuickDigest(lowered.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(lowered, digest, strict=False))


def _ethereum(address: str) -> tuple[str, DestinationKind, bool]:
    if not address.startswith("0x"):
        hint = " (it looks like a Bitcoin address)" if address.lower().startswith("bc1") else ""
        raise _Refused(f"an Ethereum address starts with 0x{hint}")
    body = address[2:]
    for char in body:
        if char not in HEX_DIGITS:
            raise _Refused(f"it contains {char!r}, which is not a hex digit")
    if len(body) != 40:
        raise _Refused(f"it has {len(body)} hex digits after 0x; an Ethereum address has 40")
    canonical = eip55(body)
    checksummed = body not in (body.lower(), body.upper())
    if checksummed:
        try:
            EthAddrDecoder.DecodeAddr(address)
        except ValueError:
            raise _Refused(
                "its EIP-55 checksum (the pattern of capital letters) does not match: a character is mistyped"
            ) from None
    if canonical.lower() == ETH_ZERO:
        raise _Refused("it is the zero address, which burns whatever is sent to it")
    return canonical, DestinationKind.ETHEREUM_ACCOUNT, checksummed


# --- Solana ---------------------------------------------------------------------------------


def _solana(address: str) -> tuple[str, DestinationKind, bool]:
    if address.startswith("0x"):
        raise _Refused("it looks like an Ethereum address; a Solana address is base58")
    _base58_characters(address)
    if not 32 <= len(address) <= 44:
        raise _Refused(f"it has {len(address)} characters; a Solana address has 32 to 44")
    size = len(Base58Decoder.Decode(address))
    if size != 32:
        raise _Refused(f"it decodes to {size} bytes; a Solana address is a 32-byte key")
    try:
        SolAddrDecoder.DecodeAddr(address)
    except ValueError:
        raise _Refused(
            "it is not a wallet's Ed25519 key: a character is mistyped, or it is a program "
            "or program-derived address"
        ) from None
    if address == SOL_SYSTEM_PROGRAM:
        raise _Refused("it is the System Program's address, not an account")
    return address, DestinationKind.SOLANA_ACCOUNT, False


def _base58_characters(address: str) -> None:
    for char in address:
        if char not in BASE58_ALPHABET:
            raise _Refused(f"it contains {char!r}, which base58 never uses (no 0, O, I or l)")
