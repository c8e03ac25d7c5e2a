"""What a signature covers: the raw bytes sent, and never two different parameter sets."""

from __future__ import annotations

import pytest

from keyplane.keys.errors import BadParameter
from keyplane.keys.payload import parse_request


def test_signature_pair_is_removed_from_the_body_and_the_rest_is_signed_verbatim() -> None:
    parsed = parse_request(b"", b"symbol=BTCUSDT&side=BUY&timestamp=1&signature=abc")
    assert parsed.signature == "abc"
    assert parsed.payloads[0] == b"symbol=BTCUSDT&side=BUY&timestamp=1"
    assert parsed.params == {"symbol": "BTCUSDT", "side": "BUY", "timestamp": "1"}


def test_signature_in_the_query_with_an_empty_body() -> None:
    parsed = parse_request(b"symbol=BTCUSDT&orderId=5&timestamp=1&signature=abc", b"")
    assert parsed.payloads == (b"symbol=BTCUSDT&orderId=5&timestamp=1",)


def test_python_binance_form_encoding_gets_a_decoded_candidate() -> None:
    # python-binance signs "name=my wallet" and then sends "name=my+wallet".
    parsed = parse_request(b"", b"name=my+wallet&timestamp=1&signature=abc")
    assert parsed.params["name"] == "my wallet"
    assert parsed.payloads == (b"name=my+wallet&timestamp=1", b"name=my wallet&timestamp=1")


def test_query_and_body_joined_at_a_parameter_boundary_are_accepted() -> None:
    parsed = parse_request(b"symbol=BTCUSDT&", b"side=BUY&timestamp=1&signature=abc")
    assert parsed.payloads[0] == b"symbol=BTCUSDT&side=BUY&timestamp=1"


def test_bytes_moved_across_the_query_body_boundary_get_no_signed_payload() -> None:
    # Same signed bytes as "note=a=b&timestamp=1": a different split must not verify.
    original = parse_request(b"note=a=b&", b"timestamp=1&signature=abc")
    moved = parse_request(b"note=a", b"=b&timestamp=1&signature=abc")
    assert original.payloads
    assert moved.params != original.params
    assert moved.payloads == ()


def test_a_split_that_leaves_a_part_without_equals_is_refused() -> None:
    # "timeInForce=GTC&quantity" + "=1&...": the parts "quantity" and "=1" are not parameters.
    with pytest.raises(BadParameter) as caught:
        parse_request(b"timeInForce=GTC&quantity", b"=1&timestamp=1&signature=abc")
    assert caught.value.code == -1100


@pytest.mark.parametrize(
    ("text", "params"),
    [
        ("a=1&b=2", {"a": "1", "b": "2"}),
        ("a=1=b&c=", {"a": "1=b", "c": ""}),
        ("a=1&&b=2&", {"a": "1", "b": "2"}),
        ("a=x+y&b=%41", {"a": "x y", "b": "A"}),
    ],
)
def test_parameters_are_read_as_parse_qsl_reads_them(text: str, params: dict[str, str]) -> None:
    assert parse_request(text.encode(), b"").params == params


def test_a_signature_name_spelt_with_an_escape_is_refused() -> None:
    with pytest.raises(BadParameter) as caught:
        parse_request(b"a=1&sig%6Eature=x&signature=abc", b"")
    assert caught.value.code == -1101


def test_decoded_candidate_is_dropped_when_decoding_would_change_the_parameters() -> None:
    # "a=x%26b%3Dy" decodes to "a=x&b=y": signing that string must not authorise a="x&b=y".
    parsed = parse_request(b"", b"a=x%26b%3Dy&timestamp=1&signature=abc")
    assert parsed.params == {"a": "x&b=y", "timestamp": "1"}
    assert parsed.payloads == (b"a=x%26b%3Dy&timestamp=1",)


@pytest.mark.parametrize(
    ("query", "body"),
    [
        (b"a=1&a=2", b""),
        (b"a=1", b"a=2"),
        (b"signature=x", b"signature=y"),
        (b"", b"signature=x&signature=y"),
    ],
)
def test_duplicate_parameters_are_refused_with_1101(query: bytes, body: bytes) -> None:
    with pytest.raises(BadParameter) as caught:
        parse_request(query, body)
    assert caught.value.code == -1101


def test_non_ascii_bytes_are_refused_with_1100() -> None:
    with pytest.raises(BadParameter) as caught:
        parse_request("symbol=ＢＴＣ".encode(), b"")
    assert caught.value.code == -1100
