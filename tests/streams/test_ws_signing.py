"""The WebSocket API's signed payload is Binance's: checked against the documented vectors."""

from __future__ import annotations

import hashlib
import hmac
import random
from pathlib import Path

import pytest

from keyplane.http.ws_methods import signing_payloads

VECTORS = Path(__file__).with_name("binance_ws_vectors.txt")  # from Binance's WebSocket API docs
# The secret of Binance's WebSocket API documentation examples (public, for these vectors only).
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


def _vectors() -> list[tuple[str, str, str]]:
    if not VECTORS.exists():
        return []
    lines = [line.strip() for line in VECTORS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        (lines[i], lines[i + 1].removeprefix("payload: "), lines[i + 2].removeprefix("hmac_sha256_hex: "))
        for i in range(0, len(lines) - 2, 3)
    ]


@pytest.mark.parametrize(("method", "payload", "digest"), _vectors())
def test_the_signed_payload_of_each_documented_request_is_rebuilt_from_its_params(
    method: str, payload: str, digest: str
) -> None:
    params = dict(part.split("=", 1) for part in payload.split("&"))
    shuffled = list(params.items())
    random.Random(7).shuffle(shuffled)  # JSON object order must not matter
    rebuilt = signing_payloads(dict(shuffled))[0]
    assert rebuilt == payload.encode()
    assert hmac.new(DOC_SECRET.encode(), rebuilt, hashlib.sha256).hexdigest() == digest


def test_the_vectors_are_there() -> None:
    assert len(_vectors()) >= 10
