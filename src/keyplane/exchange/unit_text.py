"""Ledger units printed as Binance prints amounts, without going through ``Decimal``.

Why: ``account`` prints every balance of every asset on each request, and the way there through
``Decimal`` (:func:`~keyplane.exchange.units.from_units`, then
:func:`~keyplane.exchange.marketdata.fmt`'s quantize and normalize) cost about ten times the
string slicing that gives the same text. :func:`units_text` is exactly
``fmt(from_units(units))``: at least 8 decimals, more only if the value needs them. Where
``fmt`` would round (more than 28 significant digits, its context's precision) or refuse (10**20
and beyond), it is left to ``fmt`` itself, so the two can never disagree.
"""

from __future__ import annotations

from keyplane.exchange.marketdata import fmt
from keyplane.exchange.units import SCALE, from_units

SHOWN = 8  # decimals always printed
DIGITS = 28  # fmt's context precision: beyond it, fmt rounds
ZERO_TEXT = "0." + "0" * SHOWN
_HIDDEN = "0" * (SCALE - SHOWN)  # a fraction ending so has nothing past the 8th decimal
_MAX_LENGTH = 20 + SCALE  # digits of a value below 10**20, the most fmt prints unrounded


def units_text(units: int) -> str:
    """``fmt(from_units(units))``, from the digits of ``units`` (ledger units of 10**-18)."""
    if not units:
        return ZERO_TEXT
    if units < 0:
        return "-" + units_text(-units)
    digits = str(units)
    if len(digits) > _MAX_LENGTH:
        return fmt(from_units(units))
    if len(digits) <= SCALE:
        digits = digits.zfill(SCALE + 1)
    whole, fraction = digits[:-SCALE], digits[-SCALE:]
    if fraction.endswith(_HIDDEN):
        return whole + "." + fraction[:SHOWN]
    fraction = fraction.rstrip("0")
    significant = len(fraction.lstrip("0")) if whole == "0" else len(whole) + len(fraction)
    if significant > DIGITS:
        return fmt(from_units(units))
    return whole + "." + fraction
