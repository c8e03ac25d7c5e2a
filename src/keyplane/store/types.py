"""Column types that keep money exact on every back end."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine

# NUMERIC(38, 18): 20 digits before the point, 18 after. PostgreSQL would round a 19th decimal away.
MONEY_PRECISION = 38
MONEY_SCALE = 18
MONEY_INTEGER_DIGITS = MONEY_PRECISION - MONEY_SCALE


def decimal_places(value: Decimal) -> int:
    """Digits after the point in the shortest exact spelling of a finite ``value``; no context, no rounding."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int), "finite values only"
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return 0 if trailing_zeros == len(digits) else max(0, -(exponent + trailing_zeros))


def fits_column(value: Decimal) -> bool:
    """Whether ``value`` is stored exactly: finite, at most 18 decimals, below 10**20 in magnitude."""
    if not value.is_finite():
        return False
    return not value or (decimal_places(value) <= MONEY_SCALE and value.adjusted() < MONEY_INTEGER_DIGITS)


def money(value: Decimal, dialect: Dialect) -> Any:
    """``value`` in a money column's storage form: the ``Decimal`` for PostgreSQL's NUMERIC, its
    plain spelling for SQLite. A value the columns would not hold exactly (:func:`fits_column`) is
    refused with ``ValueError``, never rounded.

    The check reads the plain spelling first (a fifth of :func:`fits_column`'s cost, which runs only
    for the rare spelling with more than 18 decimals, such as trailing zeros): the group commit
    converts every amount it writes here."""
    if not value.is_finite():
        raise ValueError(f"money column cannot hold {value} exactly")
    text = format(value, "f")
    point = text.find(".")
    if (point >= 0 and len(text) - point - 1 > MONEY_SCALE and not fits_column(value)) or (
        value and value.adjusted() >= MONEY_INTEGER_DIGITS
    ):
        raise ValueError(f"money column cannot hold {value} exactly")
    return value if dialect.name == "postgresql" else text


class ExactDecimal(TypeDecorator[Decimal]):
    """``NUMERIC(38, 18)`` on PostgreSQL; a canonical decimal string on SQLite, which has no exact type.

    A value either column would not hold exactly is refused, on both back ends alike, never rounded.
    """

    impl = String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True))
        return dialect.type_descriptor(String(64))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be Decimal, got {type(value).__name__}")
        return money(value, dialect)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value) if not isinstance(value, Decimal) else value
