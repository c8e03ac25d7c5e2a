"""Answers are orjson's compact JSON, and what orjson refuses falls back to the standard library."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from keyplane import jsontext


def _stdlib(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "data",
    [
        {"symbol": "BTCUSDT", "price": "30000.00000000", "fills": [], "isWorking": True, "n": None},
        {"orderId": 2**63 - 1},
        {"id": 2**64 + 5},  # past 64 bits: orjson refuses it
        {1: "a", "b": [2, 3]},  # a key that is not a string: orjson refuses it
    ],
)
def test_the_same_json_as_the_standard_library(data: object) -> None:
    assert jsontext.dumps(data) == _stdlib(data)
    assert jsontext.dumps_text(data) == _stdlib(data).decode()


def test_a_value_neither_can_write_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        jsontext.dumps({"amount": Decimal("1.5")})
