"""Integer units for the hot path: prices in ticks, quantities in lots, amounts in ledger units.

Why: ``Decimal`` arithmetic, quantize and exactness checks cost more than the matching itself.
Inside the book, the matching loop and the ledger every number is a Python ``int``: a price is
``price / tickSize`` ticks, a quantity ``qty / stepSize`` lots, an amount ``amount * 10**18``
ledger units (:data:`SCALE`, the money columns' scale, whatever the asset: so every amount the
columns can hold is whole, even one stored by an earlier version beyond its asset's precision).
:func:`keyplane.exchange.markets.check_exact` guarantees that a lot and a lot at one tick are whole
numbers of units at their asset's precision, so every product stays an integer at that precision
and nothing is rounded unless the code says so (fees: :func:`fee`, the same result as ``Decimal``
``ROUND_FLOOR`` to the asset's precision). ``Decimal`` remains the currency at the edges:
:class:`MarketUnits` converts requests in and records out, exactly.
"""

from __future__ import annotations

from decimal import Decimal, DecimalException
from typing import TypeVar

from keyplane.exchange.amounts import EXACT
from keyplane.exchange.errors import InexactAmount
from keyplane.exchange.markets import AssetSpec, MarketSpec
from keyplane.store.types import MONEY_SCALE

_ZERO = Decimal(0)
SCALE = MONEY_SCALE  # decimals of one ledger unit
_CACHE = 4096
K = TypeVar("K")
V = TypeVar("V")


def to_units(value: Decimal, precision: int) -> int:
    """``value * 10**precision`` as an int; :class:`InexactAmount` if it is not whole."""
    try:
        scaled = value.scaleb(precision, EXACT) if value else _ZERO
        whole = int(scaled)
    except DecimalException as error:
        raise InexactAmount(f"The amount {value} is beyond what the ledger holds exactly.") from error
    if whole != scaled:
        raise InexactAmount(f"The amount {value} is beyond the asset's precision of {precision} decimals.")
    return whole


def from_units(units: int, precision: int = SCALE) -> Decimal:
    """``units / 10**precision`` as a ``Decimal`` in its shortest plain spelling (``5``, ``0.25``),
    as :func:`keyplane.exchange.amounts.ledger_amount` spells what it accepts."""
    whole, fraction = divmod(units, 10**precision)
    if not fraction:
        return Decimal(whole)
    return Decimal(units).scaleb(-precision, EXACT).normalize(EXACT)


def count(value: Decimal, quantum: Decimal) -> int:
    """How many ``quantum`` make ``value``; :class:`InexactAmount` if not a whole number."""
    try:
        whole, rest = EXACT.divmod(value, quantum)
    except DecimalException as error:
        raise InexactAmount(f"{value} is beyond what the ledger holds exactly.") from error
    if rest:
        raise InexactAmount(f"{value} is not a multiple of {quantum}.")
    return int(whole)


class MarketUnits:
    """One market's conversions between ``Decimal`` and its integer units, and its fee fractions.

    ``lot_base``: ledger units of base in one lot; ``lot_tick``: ledger units of quote in one lot
    at one tick (so the cost of ``lots`` at ``ticks`` is ``lots * ticks * lot_tick``);
    ``base_unit``, ``quote_unit``: ledger units in the smallest amount of each asset."""

    __slots__ = (
        "_lots",
        "_prices",
        "_qtys",
        "_ticks",
        "base",
        "base_precision",
        "base_unit",
        "lot_base",
        "lot_tick",
        "maker_fee",
        "quote",
        "quote_precision",
        "quote_unit",
        "step",
        "symbol",
        "taker_fee",
        "tick",
        "zero_price",
    )

    def __init__(self, market: MarketSpec, assets: dict[str, AssetSpec]) -> None:
        self.symbol, self.base, self.quote = market.symbol, market.base, market.quote
        self.base_precision = assets[market.base].precision
        self.quote_precision = assets[market.quote].precision
        self.tick, self.step = market.tick_size, market.step_size
        self.base_unit: int = 10 ** (SCALE - self.base_precision)
        self.quote_unit: int = 10 ** (SCALE - self.quote_precision)
        self.lot_base: int = to_units(self.step, self.base_precision) * self.base_unit
        self.lot_tick: int = (
            to_units(EXACT.multiply(self.step, self.tick), self.quote_precision) * self.quote_unit
        )
        self.maker_fee = market.maker_fee.as_integer_ratio()
        self.taker_fee = market.taker_fee.as_integer_ratio()
        self._prices: dict[int, Decimal] = {}
        self.zero_price = EXACT.multiply(_ZERO, self.tick)  # price(0), spelled with the tick's decimals
        self._qtys: dict[int, Decimal] = {}
        self._ticks: dict[Decimal, int] = {}
        self._lots: dict[Decimal, int] = {}

    # -- into units ------------------------------------------------------------------------
    def ticks(self, price: Decimal) -> int:
        n = self._ticks.get(price)
        if n is None:
            n = count(price, self.tick) if price else 0
            self._ticks = _bounded(self._ticks)
            self._ticks[price] = n
        return n

    def lots(self, qty: Decimal) -> int:
        n = self._lots.get(qty)
        if n is None:
            n = count(qty, self.step) if qty else 0
            self._lots = _bounded(self._lots)
            self._lots[qty] = n
        return n

    def base_units(self, amount: Decimal) -> int:
        """Ledger units of a base amount; :class:`InexactAmount` beyond the asset's precision."""
        return to_units(amount, self.base_precision) * self.base_unit

    def quote_units(self, amount: Decimal) -> int:
        """Ledger units of a quote amount; :class:`InexactAmount` beyond the asset's precision."""
        return to_units(amount, self.quote_precision) * self.quote_unit

    # -- out of units ----------------------------------------------------------------------
    # Prices and lot counts repeat (a book has few levels): conversions are cached, bounded.
    def price(self, ticks: int) -> Decimal:
        d = self._prices.get(ticks)
        if d is None:
            d = EXACT.multiply(Decimal(ticks), self.tick)
            self._prices = _bounded(self._prices)
            self._prices[ticks] = d
        return d

    def qty(self, lots: int) -> Decimal:
        d = self._qtys.get(lots)
        if d is None:
            d = EXACT.multiply(Decimal(lots), self.step)
            self._qtys = _bounded(self._qtys)
            self._qtys[lots] = d
        return d

    def base_amount(self, units: int) -> Decimal:
        return _amount(units, self.base_unit, self.base_precision)

    def quote_amount(self, units: int) -> Decimal:
        return _amount(units, self.quote_unit, self.quote_precision)


def _amount(units: int, unit: int, precision: int) -> Decimal:
    """Ledger units as a ``Decimal`` with the asset's decimals (more only if a legacy amount has them)."""
    if not units:
        return _ZERO
    whole, rest = divmod(units, unit)
    if rest:
        return from_units(units)
    return Decimal(whole).scaleb(-precision, EXACT)


def _bounded(cache: dict[K, V]) -> dict[K, V]:
    """``cache``, or a fresh one once it holds :data:`_CACHE` entries (memory stays bounded)."""
    return cache if len(cache) < _CACHE else {}


def fee(units: int, rate: tuple[int, int], unit: int) -> int:
    """``units x rate`` rounded down (toward -inf, as ``ROUND_FLOOR``) to a multiple of ``unit``, the
    ledger units of the asset's smallest amount: a fee never exceeds its rate and fits its asset."""
    exact = units * rate[0] // rate[1]
    return exact - exact % unit
