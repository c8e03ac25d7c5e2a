"""Signature schemes, starting from Binance's published HMAC test vector."""

from __future__ import annotations

import base64
import hmac

import pytest

from keyplane.keys.errors import InvalidSignature, KeyManagementError
from keyplane.keys.model import KeyKind
from keyplane.keys.schemes import HmacVerifier, load_public_key
from tests.support.signing import ed25519_pair, private_pem, rsa_pair

BINANCE_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
BINANCE_PAYLOAD = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
BINANCE_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_binance_published_hmac_vector_verifies() -> None:
    HmacVerifier(BINANCE_SECRET.encode()).verify(BINANCE_PAYLOAD.encode(), BINANCE_SIGNATURE)


def test_one_hmac_verifier_checks_request_after_request_each_on_its_own() -> None:
    """The verifier keys its HMAC once and copies it per request: no request's bytes may stay in
    the keyed state for the next one (nor a refused request's)."""
    secret = BINANCE_SECRET.encode()
    verifier = HmacVerifier(secret)
    payloads = [BINANCE_PAYLOAD.encode(), b"symbol=BTCUSDT&timestamp=1", b"", BINANCE_PAYLOAD.encode()]
    for payload in payloads:
        with pytest.raises(InvalidSignature):
            verifier.verify(payload, "0" * 64)
        verifier.verify(payload, hmac.digest(secret, payload, "sha256").hex())
    assert "***" in repr(verifier) and BINANCE_SECRET not in repr(verifier)


def test_hmac_signature_is_case_insensitive_hex() -> None:
    HmacVerifier(BINANCE_SECRET.encode()).verify(BINANCE_PAYLOAD.encode(), BINANCE_SIGNATURE.upper())


def test_every_tampered_payload_byte_is_refused() -> None:
    verifier = HmacVerifier(BINANCE_SECRET.encode())
    payload = BINANCE_PAYLOAD.encode()
    for index in range(len(payload)):
        tampered = payload[:index] + bytes([payload[index] ^ 1]) + payload[index + 1 :]
        with pytest.raises(InvalidSignature):
            verifier.verify(tampered, BINANCE_SIGNATURE)


def test_every_tampered_signature_character_is_refused() -> None:
    verifier = HmacVerifier(BINANCE_SECRET.encode())
    for index in range(len(BINANCE_SIGNATURE)):
        swapped = "0" if BINANCE_SIGNATURE[index] != "0" else "1"
        with pytest.raises(InvalidSignature):
            verifier.verify(
                BINANCE_PAYLOAD.encode(), BINANCE_SIGNATURE[:index] + swapped + BINANCE_SIGNATURE[index + 1 :]
            )


@pytest.mark.parametrize("make_pair", [ed25519_pair, rsa_pair], ids=["ed25519", "rsa"])
def test_asymmetric_signature_verifies_and_any_tampering_is_refused(make_pair) -> None:  # type: ignore[no-untyped-def]
    private, pem = make_pair()
    kind, verifier = load_public_key(pem)
    assert kind in (KeyKind.ED25519, KeyKind.RSA)
    payload = BINANCE_PAYLOAD.encode()
    if kind is KeyKind.RSA:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        raw = private.sign(payload, padding.PKCS1v15(), hashes.SHA256())
    else:
        raw = private.sign(payload)
    signature = base64.b64encode(raw).decode()
    verifier.verify(payload, signature)
    for index in range(0, len(payload), 7):
        tampered = payload[:index] + bytes([payload[index] ^ 1]) + payload[index + 1 :]
        with pytest.raises(InvalidSignature):
            verifier.verify(tampered, signature)
    flipped = bytearray(raw)
    flipped[len(flipped) // 2] ^= 1
    with pytest.raises(InvalidSignature):
        verifier.verify(payload, base64.b64encode(bytes(flipped)).decode())
    with pytest.raises(InvalidSignature):
        verifier.verify(payload, "not base64 !!")


def test_a_non_ascii_hmac_signature_is_invalid_not_an_error() -> None:
    with pytest.raises(InvalidSignature):
        HmacVerifier(BINANCE_SECRET.encode()).verify(BINANCE_PAYLOAD.encode(), "é" + BINANCE_SIGNATURE[1:])


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@pytest.mark.parametrize("make_pair", [ed25519_pair, rsa_pair], ids=["ed25519", "rsa"])
def test_only_the_canonical_base64_spelling_of_a_signature_verifies(make_pair) -> None:  # type: ignore[no-untyped-def]
    private, pem = make_pair()
    kind, verifier = load_public_key(pem)
    payload = BINANCE_PAYLOAD.encode()
    if kind is KeyKind.RSA:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        raw = private.sign(payload, padding.PKCS1v15(), hashes.SHA256())
    else:
        raw = private.sign(payload)
    text = base64.b64encode(raw).decode()
    verifier.verify(payload, text)
    verifier.verify(payload, text.replace("+", " "))  # a "+" read from a form as a space
    last = B64.index(text[-3])  # one byte in the last group: four padding bits
    spellings = [text[:-3] + B64[last | bits] + "==" for bits in range(1, 16)]
    spellings += [text[:-1], text[:-2], text + "=", text.replace("+", "-").replace("/", "_"), text + "\n"]
    for spelling in spellings:
        if spelling == text:
            continue
        with pytest.raises(InvalidSignature):
            verifier.verify(payload, spelling)


def test_private_keys_weak_rsa_and_garbage_are_refused_at_registration() -> None:
    private, _ = ed25519_pair()
    with pytest.raises(KeyManagementError, match="private key"):
        load_public_key(private_pem(private))
    _, weak = rsa_pair(1024)
    with pytest.raises(KeyManagementError, match="2048"):
        load_public_key(weak)
    with pytest.raises(KeyManagementError):
        load_public_key("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
