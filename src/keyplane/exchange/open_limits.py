"""Binance's MAX_NUM_ORDERS and MAX_NUM_ALGO_ORDERS filters: how many open orders one account may
hold on one market, and how many of them stop-loss or take-profit orders.

Why: without a bound one key could rest orders until the exchange's memory (every book lives in
it) and each of its account's queries grow without end. Binance's defaults are 200 and 5; every
order of a list counts, its pending ones included, and a cancel-replace counts after its cancel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from keyplane.exchange.book import LiveOrder
from keyplane.exchange.errors import FilterFailure
from keyplane.exchange.models import CONDITIONAL, OrderType


@dataclass(frozen=True, slots=True)
class OpenOrderLimits:
    orders: int = 200
    algo_orders: int = 5

    def check_room(self, mine: Mapping[int, LiveOrder], orders: int, algo: int) -> None:
        """Raise the filter failure if the account's open orders ``mine`` and ``orders`` more, ``algo``
        of them conditional, would pass a limit (on every order's path: counts, not lists)."""
        if len(mine) + orders > self.orders:
            raise FilterFailure("MAX_NUM_ORDERS")
        if algo and sum(1 for o in mine.values() if o.type in CONDITIONAL) + algo > self.algo_orders:
            raise FilterFailure("MAX_NUM_ALGO_ORDERS")

    def check_list(self, mine: Mapping[int, LiveOrder], types: Sequence[OrderType]) -> None:
        """:meth:`check_room` for the orders of a list."""
        self.check_room(mine, len(types), sum(1 for t in types if t in CONDITIONAL))


BINANCE_DEFAULTS = OpenOrderLimits()
