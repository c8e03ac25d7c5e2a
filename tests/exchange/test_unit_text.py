"""Ledger units printed without ``Decimal`` give exactly the text of the ``Decimal`` path."""

from __future__ import annotations

from decimal import Decimal as D
from decimal import InvalidOperation

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from keyplane.exchange.marketdata import fmt
from keyplane.exchange.unit_text import units_text
from keyplane.exchange.units import SCALE, from_units, to_units

# Whole part and fraction drawn apart, so that short fractions (the common case), long ones and
# values near the limits of fmt (28 significant digits, 10**20) are all drawn often.
WHOLES = st.one_of(st.integers(0, 10), st.integers(0, 10**12), st.integers(10**19 - 10, 10**20 + 10))
FRACTIONS = st.one_of(
    st.integers(0, 10**8).map(lambda f: f * 10 ** (SCALE - 8)),
    st.integers(0, 10**SCALE - 1),
    st.integers(0, 10**3),
    st.integers(0, 10**3).map(lambda f: f * 10**SCALE // 10**3),
)
UNITS = st.one_of(
    st.builds(lambda w, f, neg: (-1 if neg else 1) * (w * 10**SCALE + f), WHOLES, FRACTIONS, st.booleans()),
    st.integers(-(10**45), 10**45),
)


def _decimal_path(units: int) -> str | type[Exception]:
    try:
        return fmt(from_units(units))
    except InvalidOperation:
        return InvalidOperation


def _units_path(units: int) -> str | type[Exception]:
    try:
        return units_text(units)
    except InvalidOperation:
        return InvalidOperation


@given(UNITS)
@example(0)
@example(1)  # 10**-18: more than 8 decimals
@example(10**10)  # 10**-8: exactly 8
@example(10**9)  # 10**-9
@example(10**38 - 1)  # the largest value below 10**20, 38 significant digits: fmt rounds it
@example(10**38)  # 10**20: fmt refuses it
@example(123456789012345678901234567 * 10**9)  # 27 significant digits past the 8th decimal
@example(1234567890123456789012345678 * 10**8)  # 28
@example(12345678901234567890123456789 * 10**7)  # 29: rounded by fmt
def test_units_text_is_fmt_of_from_units_for_every_value(units: int) -> None:
    assert _units_path(units) == _decimal_path(units)


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("0", "0.00000000"),
        ("1.5", "1.50000000"),
        ("100000.123", "100000.12300000"),
        ("0.00000001", "0.00000001"),
        ("0.000000001", "0.000000001"),
        ("12.3456789012", "12.3456789012"),
        ("99999999999999999999.99999999", "99999999999999999999.99999999"),
        ("-2.5", "-2.50000000"),
    ],
)
def test_units_text_prints_at_least_eight_decimals_and_more_only_when_needed(amount: str, text: str) -> None:
    assert units_text(to_units(D(amount), SCALE)) == text
