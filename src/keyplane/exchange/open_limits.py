"""Binance's MAX_NUM_ORDERS and MAX_NUM_ALGO_ORDERS filters: how many open orders one account may
hold on one market, and how many of them stop-loss or take-profit orders.

Why: without a bound one key could rest orders until the exchange's memory (every book lives in
it) and each of its account's queries grow without end. Binance's defaults are 200 and 5; every
order of a list counts, its pending ones included, and a cancel-replace counts after its cancel.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from keyplane.exchange.book import LiveOrder
from keyplane.exchange.errors import FilterFailure
from keyplane.exchange.models import OrderType


@dataclass(frozen=True, slots=True)
class OpenOrderLimits:
    orders: int = 200
    algo_orders: int = 5

    def check_room(self, mine: Collection[LiveOrder], new: Iterable[OrderType]) -> None:
        """Raise the filter failure if the account's open ``mine`` plus ``new`` would pass a limit."""
        new = list(new)
        if len(mine) + len(new) > self.orders:
            raise FilterFailure("MAX_NUM_ORDERS")
        new_algo = sum(1 for t in new if t.is_conditional)
        if new_algo and sum(1 for o in mine if o.type.is_conditional) + new_algo > self.algo_orders:
            raise FilterFailure("MAX_NUM_ALGO_ORDERS")


BINANCE_DEFAULTS = OpenOrderLimits()
