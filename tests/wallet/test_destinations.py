"""A withdrawal destination is decoded by its network's format, checksum included: typos are refused."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from bip_utils import Base58Encoder, EthAddrEncoder, P2TRAddrEncoder, P2WPKHAddrEncoder, Secp256k1PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from keyplane.exchange.wallet.destinations import (
    BASE58_ALPHABET,
    BECH32_CHARSET,
    Destination,
    DestinationKind,
    eip55,
    parse_destination,
)
from keyplane.exchange.wallet.errors import InvalidAddress, InvalidMemo
from keyplane.exchange.wallet.networks import BTC, ETH, SOL, AddressFamily, NetworkSpec

HEX = "0123456789abcdefABCDEF"

# Real addresses: spec vectors (BIP-84, BIP-173, BIP-350, BIP-86, EIP-55) and well-known mainnet ones.
GOOD = [
    (BTC, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", DestinationKind.P2WPKH),
    (BTC, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", DestinationKind.P2WPKH),
    (BTC, "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", DestinationKind.P2WSH),
    (BTC, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", DestinationKind.P2TR),
    (BTC, "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr", DestinationKind.P2TR),
    (BTC, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", DestinationKind.P2PKH),
    (BTC, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", DestinationKind.P2SH),
    (ETH, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", DestinationKind.ETHEREUM_ACCOUNT),
    (ETH, "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", DestinationKind.ETHEREUM_ACCOUNT),
    (ETH, "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", DestinationKind.ETHEREUM_ACCOUNT),
    (ETH, "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", DestinationKind.ETHEREUM_ACCOUNT),
    (ETH, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", DestinationKind.ETHEREUM_ACCOUNT),
    (SOL, "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", DestinationKind.SOLANA_ACCOUNT),
    (SOL, "CsvnRxP2MVpAAKL7YJc7iqWPUfmKZF7ZcyRB1jCzUbuz", DestinationKind.SOLANA_ACCOUNT),
]
CHECKSUMMED = [(n, a) for n, a, _ in GOOD if n is not SOL]


def refusal(network: NetworkSpec, address: str, memo: str = "") -> str:
    with pytest.raises(InvalidAddress) as refused:
        parse_destination(network, address, memo)
    assert refused.value.code == -4007
    assert f"network {network.code}" in refused.value.msg
    return str(refused.value.msg)


def _alphabet(network: NetworkSpec, address: str) -> tuple[str, int]:
    """The characters a typo could plausibly be made of, and where the typed part starts."""
    if network is ETH:
        return HEX, 2
    if address.startswith("bc1"):
        return BECH32_CHARSET, 3
    return BASE58_ALPHABET, 0


def typos(address: str, alphabet: str, start: int) -> Iterator[str]:
    """Every single substitution, deletion, insertion and adjacent swap after ``start``."""
    for i in range(start, len(address)):
        yield address[:i] + address[i + 1 :]
        for char in alphabet:
            if char != address[i]:
                yield address[:i] + char + address[i + 1 :]
        if i + 1 < len(address) and address[i] != address[i + 1]:
            yield address[:i] + address[i + 1] + address[i] + address[i + 2 :]
    for i in range(start, len(address) + 1):
        for char in alphabet:
            yield address[:i] + char + address[i:]


@pytest.mark.parametrize(("network", "address", "kind"), GOOD)
def test_known_good_addresses_are_accepted_as_they_are(
    network: NetworkSpec, address: str, kind: DestinationKind
) -> None:
    parsed = parse_destination(network, address)
    assert parsed == Destination(
        network=network.code, address=address, memo="", kind=kind, checksummed=network is not SOL
    )
    assert re.fullmatch(network.address_regex, parsed.address)


@pytest.mark.parametrize(("network", "address"), CHECKSUMMED)
def test_every_single_character_typo_of_a_checksummed_address_is_refused(
    network: NetworkSpec, address: str
) -> None:
    alphabet, start = _alphabet(network, address)
    accepted = []
    for typo in typos(address, alphabet, start):
        try:
            parse_destination(network, typo)
        except InvalidAddress:
            continue
        accepted.append(typo)
    assert accepted == []


def test_a_checksum_typo_says_what_is_wrong() -> None:
    assert "checksum does not match" in refusal(BTC, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyv")
    assert "base58check checksum" in refusal(BTC, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb")
    assert "EIP-55 checksum" in refusal(ETH, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")


def test_solana_typos_are_caught_when_they_leave_the_curve_and_never_silently_corrected() -> None:
    """Solana has no checksum: a typo that stays a valid key cannot be seen (documented), but one
    that is not a key is refused, and whatever is accepted is exactly what was typed."""
    address = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
    refused = accepted = 0
    for typo in typos(address, BASE58_ALPHABET, 0):
        try:
            parsed = parse_destination(SOL, typo)
        except InvalidAddress as error:
            assert "network SOL" in error.msg
            refused += 1
            continue
        assert parsed.address == typo and not parsed.checksummed
        accepted += 1
    assert refused > accepted > 0


@pytest.mark.parametrize(
    ("network", "address", "words"),
    [
        (BTC, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "version 0 address with a bech32m checksum"),
        (BTC, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "with a bech32 checksum"),
        (BTC, "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "segwit version 2 is not in use"),
        (BTC, "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "testnet"),
        (BTC, "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", "testnet"),
        (BTC, "bc1qcr8te4kr609gcaWutmrza0j4xv80jy8z306fyu", "mixes upper- and lower-case"),
        (BTC, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyb", "'b'"),
        (BTC, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "looks like an Ethereum address"),
        (BTC, "Lcr8te4kr609gcawutmrza0j4xv80jy8", "starts with bc1"),
        (ETH, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", "looks like a Bitcoin address"),
        (ETH, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", "39 hex digits"),
        (ETH, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", "'g'"),
        (ETH, "0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "starts with 0x"),
        (ETH, "0x" + "0" * 40, "zero address"),
        (SOL, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "looks like an Ethereum address"),
        (SOL, "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt10", "'0'"),
        (SOL, "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1vv", "45 characters"),
        (SOL, "Vote111111111111111111111111111111111111111", "program-derived"),
        (SOL, "1" * 32, "System Program"),
        (BTC, "", "empty"),
        (ETH, " 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "space"),
        (SOL, "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v\n", "space"),
        (ETH, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAéd", "character"),
        (BTC, "bc1q" + "q" * 200, "more than any address"),
    ],
)
def test_refusals_name_the_network_and_the_fault(network: NetworkSpec, address: str, words: str) -> None:
    assert words in refusal(network, address)


def test_all_capital_bech32_is_accepted_and_stored_lower_case() -> None:
    parsed = parse_destination(BTC, "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4")
    assert parsed.address == "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"


@pytest.mark.parametrize("spelling", [str.lower, str.upper])
def test_unchecksummed_ethereum_hex_is_accepted_and_stored_checksummed(spelling: object) -> None:
    body = "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    assert callable(spelling)
    parsed = parse_destination(ETH, "0x" + spelling(body))
    assert parsed.address == "0x" + body and parsed.checksummed is False


def test_a_memo_on_a_network_without_memos_is_refused_not_dropped() -> None:
    with pytest.raises(InvalidMemo) as refused:
        parse_destination(BTC, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", memo="12345")
    assert refused.value.code == -4008 and "network BTC" in refused.value.msg


def test_a_memo_network_checks_the_memo() -> None:
    memo_net = NetworkSpec(
        code="MEMO",
        name="A memo network",
        family=AddressFamily.SOLANA,
        native_asset="MEMO",
        address_regex="",
        block_time_ms=1000,
        address_url="",
        memo_regex="^[0-9]{1,10}$",
        memo_required=True,
    )
    address = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
    assert parse_destination(memo_net, address, "42").memo == "42"
    for memo, words in (("", "required"), ("4x2", "format")):
        with pytest.raises(InvalidMemo) as refused:
            parse_destination(memo_net, address, memo)
        assert words in refused.value.msg


SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
keys = st.integers(min_value=1, max_value=SECP256K1_ORDER - 1).map(
    lambda n: Secp256k1PrivateKey.FromBytes(n.to_bytes(32, "big")).PublicKey()
)


@settings(max_examples=60, deadline=None)
@given(key=keys, position=st.integers(min_value=0), char=st.integers(min_value=0))
def test_any_encoded_bitcoin_address_round_trips_and_any_substitution_fails(
    key: object, position: int, char: int
) -> None:
    for address in (P2WPKHAddrEncoder.EncodeKey(key, hrp="bc"), P2TRAddrEncoder.EncodeKey(key, hrp="bc")):
        assert parse_destination(BTC, address).address == address
        i = 3 + position % (len(address) - 3)
        replacement = [c for c in BECH32_CHARSET if c != address[i]][char % 31]
        refusal(BTC, address[:i] + replacement + address[i + 1 :])


@settings(max_examples=60, deadline=None)
@given(key=keys)
def test_any_ethereum_address_round_trips_in_every_spelling(key: object) -> None:
    address = EthAddrEncoder.EncodeKey(key)
    assert eip55(address[2:]) == address
    for spelling in (address, address.lower(), "0x" + address[2:].upper()):
        assert parse_destination(ETH, spelling).address == address


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(min_size=1, max_size=40).filter(lambda b: len(b) != 32))
def test_solana_addresses_that_are_not_32_bytes_are_refused(raw: bytes) -> None:
    refusal(SOL, Base58Encoder.Encode(raw))
