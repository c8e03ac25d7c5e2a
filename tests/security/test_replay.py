"""Issue #7 item 1: a captured signed order re-sent with its signature spelled differently.

Verification accepts several spellings of one signature (hex in any case; base64 with ``+`` sent as
``%2B``, ``+`` or ``%20``). The replay guard must remember what was proven, not how it was
spelled, so one captured order makes exactly one order however often, and however fast, it is
re-sent. The SQLite run uses the in-memory guard, the PostgreSQL run the Redis one.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.support.server import Instance
from tests.support.signed_attacks import (
    ORDER,
    Signer,
    all_orders,
    code_of,
    now_ms,
    running_funded,
    send,
    signed_call,
    signed_query,
    start_funded,
    trade_signer,
)

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    with running_funded(tmp_path_factory.mktemp("replay")) as instance:
        yield instance


def hex_spellings(signature: str) -> list[str]:
    """The same HMAC bytes in upper case, in mixed cases, and with a percent-encoded letter."""
    rng = random.Random(7)
    spellings = {signature.upper()}
    while len(spellings) < 30:
        spellings.add("".join(c.upper() if rng.random() < 0.5 else c for c in signature))
    letter = next(i for i, c in enumerate(signature) if c.isalpha())
    spellings.add(signature[:letter] + f"%{ord(signature[letter]):02X}" + signature[letter + 1 :])
    spellings.discard(signature)
    return sorted(spellings)


def base64_spellings(text: str) -> list[str]:
    """The same base64 signature with ``+`` spelt three ways, and with non-zero padding bits."""
    assert text.endswith("==") and "+" in text
    spellings = {text.replace("+", "%20"), text, text.replace("+", "%2b")}
    last = B64.index(text[-3])
    for bits in range(1, 16):  # one byte in the last group: 4 padding bits, all zero when canonical
        padded = text[:-3] + B64[last | bits] + "=="
        spellings.add(quote(padded, safe=""))
        spellings.add(quote(padded, safe="").replace("%2B", "%20"))
    return sorted(spellings)


def order_with_spellings(signer: Signer) -> tuple[str, list[str]]:
    """A signed order's payload and every spelling of its signature, the canonical one first.

    No ``newClientOrderId``: the exchange refuses a duplicate one, which would hide the replay.
    """
    timestamp = now_ms()
    while True:
        payload = "&".join(f"{k}={v}" for k, v in ORDER.items())
        payload += f"&recvWindow=60000&timestamp={timestamp}"
        raw = signer.raw_signature(payload)
        if signer.kind == "hmac":
            return payload, [raw.hex(), *hex_spellings(raw.hex())]
        text = base64.b64encode(raw).decode()
        if "+" in text:  # a signature with a "+" shows every spelling; try the next millisecond
            return payload, [quote(text, safe=""), *base64_spellings(text)]
        timestamp += 1


@pytest.mark.parametrize("kind", ["hmac", "ed25519", "rsa"])
def test_a_captured_order_resent_with_respelled_signatures_in_parallel_makes_one_order(
    server: Instance, kind: str, tmp_path: Path
) -> None:
    signer = trade_signer(server, kind, tmp_path)
    before = len(all_orders(server, signer))
    payload, spellings = order_with_spellings(signer)
    assert len(spellings) >= 20

    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(max_workers=16) as pool:

        def attempt(signature: str) -> httpx.Response:
            body = f"{payload}&signature={signature}"
            return send(server, signer.key_id, "POST", "/api/v3/order", body=body, client=client)

        responses = list(pool.map(attempt, spellings))

    accepted = [r for r in responses if r.status_code == 200]
    assert len(accepted) == 1, [r.text for r in responses]
    assert {code_of(r) for r in responses if r.status_code != 200} <= {-1021, -1022}
    assert len(all_orders(server, signer)) == before + 1


@pytest.mark.parametrize("kind", ["hmac", "ed25519", "rsa"])
def test_a_captured_order_resent_one_spelling_after_another_is_refused_as_a_replay(
    server: Instance, kind: str, tmp_path: Path
) -> None:
    signer = trade_signer(server, kind, tmp_path)
    before = len(all_orders(server, signer))
    payload, (canonical, *others) = order_with_spellings(signer)
    first = send(server, signer.key_id, "POST", "/api/v3/order", body=f"{payload}&signature={canonical}")
    assert first.status_code == 200, first.text
    for signature in others:
        again = send(server, signer.key_id, "POST", "/api/v3/order", body=f"{payload}&signature={signature}")
        assert code_of(again) in (-1021, -1022), signature
    assert len(all_orders(server, signer)) == before + 1


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
def test_non_canonical_base64_is_an_invalid_signature_even_on_first_use(
    server: Instance, kind: str, tmp_path: Path
) -> None:
    signer = trade_signer(server, kind, tmp_path)
    before = len(all_orders(server, signer))
    payload, _ = order_with_spellings(signer)
    text = base64.b64encode(signer.raw_signature(payload)).decode()
    last = B64.index(text[-3])
    for spelling in (text[:-3] + B64[last | 1] + "==", text[:-1], text[:-2], text + "="):
        response = send(
            server,
            signer.key_id,
            "POST",
            "/api/v3/order",
            body=f"{payload}&signature={quote(spelling, safe='')}",
        )
        assert code_of(response) == -1022, spelling
    assert len(all_orders(server, signer)) == before


def test_an_order_signed_before_a_restart_is_refused_after_it(tmp_path: Path, database_url: str) -> None:
    """Item 3: without Redis the guard is in memory, and a restart must not make it forget."""
    server = start_funded(tmp_path, database_url)
    try:
        signer = trade_signer(server, "hmac", tmp_path)
        payload, signature = signed_query(signer, {**ORDER, "recvWindow": 60000})
        body = f"{payload}&signature={signature}"
        assert send(server, signer.key_id, "POST", "/api/v3/order", body=body).status_code == 200

        server.stop()
        server.start(tmp_path / "server.log")

        again = send(server, signer.key_id, "POST", "/api/v3/order", body=body)
        assert code_of(again) == -1021
        assert len(all_orders(server, signer)) == 1
        # Orders signed after the start are accepted (within the first second, timestamps that a
        # client clock running ahead could have given before the restart are refused as well).
        deadline = time.monotonic() + 10
        while (fresh := signed_call(server, signer, "POST", "/api/v3/order", ORDER)).status_code != 200:
            assert "before the server started" in fresh.json()["msg"] and time.monotonic() < deadline
            time.sleep(0.2)
        assert len(all_orders(server, signer)) == 2
    finally:
        server.stop()


@pytest.mark.parametrize("kind", ["hmac", "ed25519"])
def test_a_signature_that_decodes_to_non_ascii_is_invalid_not_a_500(
    server: Instance, kind: str, tmp_path: Path
) -> None:
    signer = trade_signer(server, kind, tmp_path)
    payload, signature = signed_query(signer, ORDER)
    response = send(
        server, signer.key_id, "POST", "/api/v3/order", body=f"{payload}&signature=%C3%A9{signature[6:]}"
    )
    assert code_of(response) == -1022
