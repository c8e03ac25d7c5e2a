"""Issue #7 items 4 and 7: one reading of the parameters, and numbers in ASCII digits only.

Item 4: the fast parameter parser read ``symbol=BTCUSDT=side&SELL&...`` as a SELL order, while
``urllib.parse.parse_qsl`` (what a proxy, a WAF or an audit tool uses) reads ``symbol`` as
``BTCUSDT=side``; the server switched to the standard reading when a ``%`` appeared. Now the server
reads exactly what ``parse_qsl(..., keep_blank_values=True)`` reads, or refuses: a part with no
``=`` (which ``parse_qsl`` reads as a blank value and no client sends) is refused with -1100.

Item 7: ``str.isdigit`` accepts ``²`` and ``٣``, ``int`` takes ``٣`` and fails on ``²`` (a 500).
``timestamp`` and ``recvWindow`` are ASCII digits only; anything else is a 4xx with a code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, quote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from keyplane.keys.errors import BadParameter
from keyplane.keys.payload import parse_request
from tests.support.server import Instance
from tests.support.signed_attacks import (
    Signer,
    all_orders,
    code_of,
    now_ms,
    running_funded,
    send,
    trade_signer,
)

# Separators, escapes and their look-alikes, letters, and characters outside ASCII.
ALPHABET = st.sampled_from(
    list("=&%+; ab1") + ["%3D", "%26", "%2B", "%25", "%C2%B2", "%FF", "%", "²", "é", "\u200b"]
)
TEXTS = st.lists(ALPHABET, max_size=24).map("".join)


def expected_reading(*texts: str) -> dict[str, str] | None:
    """What ``parse_qsl`` reads, or None where the server must refuse (see the module docstring)."""
    if not all(text.isascii() for text in texts):
        return None  # raw bytes outside ASCII: -1100
    pairs = [pair for text in texts for pair in parse_qsl(text, keep_blank_values=True)]
    parts = [part for text in texts for part in text.split("&") if part]
    if any("=" not in part for part in parts):
        return None  # a part with no "=": -1100
    if len({name for name, _ in pairs}) != len(pairs):
        return None  # a name twice: -1101
    return dict(pairs)


def reading(query: str, body: str) -> dict[str, str] | None:
    try:
        parsed = parse_request(query.encode("utf-8"), body.encode("utf-8"))
    except BadParameter as refused:
        assert refused.code in (-1100, -1101)
        return None
    return parsed.params


@given(TEXTS)
@example("symbol=BTCUSDT=side&SELL&type=LIMIT&price=90000=timestamp&1700000000000")
@example("a=1=b&c")
@example("a=1=b&c&d=%41")
@example("a=&&b=2&")
@example("=x")
def test_the_parser_reads_a_query_exactly_as_parse_qsl_or_refuses(text: str) -> None:
    assert reading(text, "") == expected_reading(text)
    assert reading("", text) == expected_reading(text)


@given(TEXTS, TEXTS)
def test_query_and_body_together_read_as_parse_qsl_reads_each(query: str, body: str) -> None:
    assert reading(query, body) == expected_reading(query, body)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    with running_funded(tmp_path_factory.mktemp("parsing")) as instance:
        yield instance


@pytest.fixture
def signer(server: Instance, tmp_path: Path) -> Signer:
    return trade_signer(server, "hmac", tmp_path)


def signed_raw(signer: Signer, payload: str) -> str:
    return f"{payload}&signature={signer.signature(payload)}"


@pytest.mark.parametrize("tail", ["", "&newClientOrderId=odd%2Did"], ids=["plain", "with-percent"])
def test_an_order_smuggled_past_the_standard_reading_places_no_sell_order(
    server: Instance, signer: Signer, tail: str
) -> None:
    payload = (
        f"symbol=SOLUSDT=side&SELL&type=LIMIT&timeInForce=GTC&quantity=1&price=500=timestamp&{now_ms()}{tail}"
    )
    response = send(server, signer.key_id, "POST", "/api/v3/order", body=signed_raw(signer, payload))

    assert code_of(response) == -1100
    assert [o for o in all_orders(server, signer) if o["side"] == "SELL"] == []


SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timestamp", lambda: str(now_ms()).translate(SUPERSCRIPTS)),
        ("timestamp", lambda: str(now_ms()).translate(ARABIC_INDIC)),
        ("recvWindow", lambda: "²"),
        ("recvWindow", lambda: "5000".translate(ARABIC_INDIC)),
        ("recvWindow", lambda: "5000.5".translate(ARABIC_INDIC)),
    ],
    ids=[
        "timestamp-superscript",
        "timestamp-arabic-indic",
        "recvWindow-superscript",
        "recvWindow-arabic",
        "recvWindow-arabic-decimal",
    ],
)
def test_unicode_digits_in_timestamp_or_recv_window_get_a_4xx_with_a_code(
    server: Instance, signer: Signer, name: str, value: object
) -> None:
    params = {"timestamp": str(now_ms()), name: value()}  # type: ignore[operator]
    payload = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    response = send(server, signer.key_id, "GET", "/api/v3/account", signed_raw(signer, payload))

    assert code_of(response) in (-1100, -1102)
    assert name in response.json()["msg"]
