"""Exact amounts: what the ledger can hold, and arithmetic that raises instead of rounding.

Two things round money silently unless told not to. Python's default ``Decimal`` context keeps 28
significant digits, so ``Decimal("1e30") + 100 == Decimal("1e30")``; and a ``NUMERIC(38, 18)``
column rounds past 18 decimals. So an amount enters the ledger only if it has no more decimals
than its asset's precision and stays below 10**20 (:func:`ledger_amount`, :func:`check_entry`),
and the engine computes under :data:`EXACT` (the :func:`exact` decorator): its precision holds any
product of two such amounts, and any result that is still inexact raises :class:`InexactAmount`.
Rounding the engine means to do is spelled out: :func:`floor_to` (fees), :func:`ceil_to`
(top-ups), :func:`floor_div` (how many lots an amount buys). Matching and the ledger themselves
compute in integers (:mod:`keyplane.exchange.units`), where the same rules hold by construction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    getcontext,
    setcontext,
)
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from keyplane.exchange.errors import InexactAmount, InvalidParameter
from keyplane.store.types import MONEY_INTEGER_DIGITS, MONEY_PRECISION, MONEY_SCALE, decimal_places

LIMIT = Decimal(10) ** MONEY_INTEGER_DIGITS
# Enough digits for the exact product of two amounts the columns hold; anything beyond raises.
EXACT = Context(prec=2 * MONEY_PRECISION + 2, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])
# For rounding that is meant: the result is re-checked against the ledger's rules by the caller.
_ROUNDING = Context(prec=2 * MONEY_PRECISION + 2, traps=[InvalidOperation, DivisionByZero, Overflow])

P = ParamSpec("P")
R = TypeVar("R")


_INEXACT = "An amount was beyond what the ledger holds exactly; nothing was changed."


class _Exactly:
    """Compute under :data:`EXACT`; an inexact or impossible result becomes :class:`InexactAmount`.

    A class rather than a ``@contextmanager`` generator: every command enters it, and a generator
    costs several times more to enter and leave."""

    __slots__ = ("_saved",)

    def __enter__(self) -> None:
        self._saved = getcontext()
        setcontext(EXACT)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> None:
        setcontext(self._saved)
        if isinstance(error, DecimalException):
            raise InexactAmount(_INEXACT) from error


def exactly() -> _Exactly:
    """Compute under :data:`EXACT`; an inexact or impossible result becomes :class:`InexactAmount`."""
    return _Exactly()


def exact(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` :func:`exactly` (spelled out: every order's validation runs it, and the ``with``
    statement's two calls cost as much again, about 0.3 µs)."""

    @wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        saved = getcontext()
        setcontext(EXACT)
        try:
            return func(*args, **kwargs)
        except DecimalException as error:
            raise InexactAmount(_INEXACT) from error
        finally:
            setcontext(saved)

    return run


def exact_command(func: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run the coroutine ``func`` :func:`exactly` (the decimal context is per task, so the
    ``await`` points inside are safe)."""

    @wraps(func)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with exactly():
            return await func(*args, **kwargs)

    return run


def fits(value: Decimal, precision: int) -> bool:
    """Finite, at most ``precision`` decimals, and below 10**20 in magnitude (no context involved)."""
    if not value.is_finite():
        return False
    return not value or (decimal_places(value) <= precision and value.adjusted() < MONEY_INTEGER_DIGITS)


def read_amount(text: str) -> Decimal:
    """An operator's amount as ASCII text, one spelling per number: ``Decimal()`` alone would also
    read ``５`` (full-width), ``5_000`` and `` 5 `` as numbers."""
    if not text.isascii() or "_" in text or text != text.strip():
        raise InvalidParameter.invalid("amount")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise InvalidParameter.invalid("amount") from None


def ledger_amount(name: str, value: object, precision: int) -> Decimal:
    """A positive amount of an asset with ``precision`` decimals, exactly as given, or a Binance error.

    Exponent spellings are accepted when exact (``1E+3`` is 1000); the value comes back in its
    shortest plain spelling (``1000``, ``5`` for ``5.000``), so no spelling reaches the columns.
    """
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise InvalidParameter.invalid(name)
    if decimal_places(value) > precision:
        raise InvalidParameter.too_precise(name)
    if value.adjusted() >= MONEY_INTEGER_DIGITS:
        raise InvalidParameter(
            f"Parameter '{name}' overflowed: the ledger holds amounts below 10^{MONEY_INTEGER_DIGITS}.", -1108
        )
    return value.quantize(Decimal(1).scaleb(-decimal_places(value)), context=EXACT)


def check_entry(asset: str, amount: Decimal, precision: int) -> None:
    """Refuse an entry amount the ledger cannot hold exactly (the engine's own results included)."""
    if not fits(amount, min(precision, MONEY_SCALE)):
        raise InexactAmount(
            f"{asset} amount {amount} is beyond the asset's precision of {precision} decimals."
        )


def check_balance(asset: str, balance: Decimal) -> None:
    """Refuse a balance the ledger's columns cannot hold (a sum grown past 10**20)."""
    if abs(balance) >= LIMIT:
        raise InexactAmount(
            f"This amount would take a {asset} balance to 10^{MONEY_INTEGER_DIGITS} or beyond; "
            f"the ledger holds balances below 10^{MONEY_INTEGER_DIGITS} exactly."
        )


def floor_to(value: Decimal, precision: int) -> Decimal:
    """``value`` rounded down to ``precision`` decimals: fees are never more than their rate says."""
    return value.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_FLOOR, context=_ROUNDING)


def ceil_to(value: Decimal, precision: int) -> Decimal:
    """``value`` rounded up to ``precision`` decimals: a top-up reaches its target."""
    return value.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_CEILING, context=_ROUNDING)


def floor_div(amount: Decimal, price: Decimal, quantum: Decimal) -> Decimal:
    """The largest multiple of ``quantum`` whose cost at ``price`` is at most ``amount`` (all positive).

    Integer division is exact, so no quotient is ever rounded up past what ``amount`` pays for.
    """
    if amount <= 0:
        return Decimal(0)
    return (amount // (price * quantum)) * quantum
