"""Holdings of one asset as lots, and which lots a disposal consumes.

FIFO takes the oldest lot first, LIFO the newest, HIFO the one with the highest unit cost; ACB
(average cost) keeps one pool whose unit cost is total cost over total quantity. A lot is split
exactly: the part taken carries ``cost * taken / quantity`` and the rest keeps the remainder, so
no cost is lost to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

ZERO = Decimal(0)


class Method(str, Enum):
    FIFO = "fifo"
    LIFO = "lifo"
    HIFO = "hifo"
    ACB = "acb"


@dataclass(slots=True)
class Lot:
    quantity: Decimal
    cost: Decimal
    acquired_ms: int
    seq: int

    @property
    def unit_cost(self) -> Decimal:
        return self.cost / self.quantity if self.quantity else ZERO


@dataclass(frozen=True, slots=True)
class Taken:
    """The result of one disposal: its basis, the units with no known basis, the acquisition span."""

    basis: Decimal
    unknown: Decimal
    first_acquired_ms: int | None
    last_acquired_ms: int | None


class Pool:
    """The lots of one asset under one method."""

    def __init__(self, method: Method) -> None:
        self.method = method
        self.lots: list[Lot] = []
        self._seq = 0

    @property
    def quantity(self) -> Decimal:
        return sum((lot.quantity for lot in self.lots), ZERO)

    def add(self, quantity: Decimal, cost: Decimal, at_ms: int) -> None:
        if quantity <= 0:
            return
        self._seq += 1
        if self.method is Method.ACB and self.lots:
            pooled = self.lots[0]
            pooled.quantity += quantity
            pooled.cost += cost
            return
        self.lots.append(Lot(quantity, cost, at_ms, self._seq))

    def _order(self) -> list[Lot]:
        if self.method is Method.LIFO:
            return sorted(self.lots, key=lambda lot: -lot.seq)
        if self.method is Method.HIFO:
            return sorted(self.lots, key=lambda lot: (-lot.unit_cost, lot.seq))
        return sorted(self.lots, key=lambda lot: lot.seq)

    def take(self, quantity: Decimal) -> Taken:
        """Remove ``quantity`` units; units beyond what is held have no known basis (``unknown``)."""
        remaining, basis = quantity, ZERO
        first: int | None = None
        last: int | None = None
        for lot in self._order():
            if remaining <= 0:
                break
            taken = min(remaining, lot.quantity)
            part = lot.cost if taken == lot.quantity else lot.cost * taken / lot.quantity
            basis += part
            lot.quantity -= taken
            lot.cost -= part
            remaining -= taken
            first = lot.acquired_ms if first is None else min(first, lot.acquired_ms)
            last = lot.acquired_ms if last is None else max(last, lot.acquired_ms)
        self.lots = [lot for lot in self.lots if lot.quantity > 0]
        return Taken(basis, max(remaining, ZERO), first, last)
