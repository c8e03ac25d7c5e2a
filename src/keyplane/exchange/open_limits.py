"""Binance's MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS, MAX_NUM_ORDER_LISTS and MAX_NUM_ORDER_AMENDS
filters: how many open orders one account may hold on one market, how many of them stop-loss or
take-profit orders, how many open order lists, and how often one order may be amended.

Why: without a bound one key could rest orders until the exchange's memory (every book lives in
it) and each of its account's queries grow without end, or amend one order a lot at a time into
an unbounded history. Binance's defaults are 200, 5, 20 and 10; every order of a list counts, its
pending ones included, and a cancel-replace counts after its cancel.
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
    order_lists: int = 20
    amends_per_order: int = 10

    def check_room(self, mine: Mapping[int, LiveOrder], orders: int, algo: int) -> None:
        """Raise the filter failure if the account's open orders ``mine`` and ``orders`` more, ``algo``
        of them conditional, would pass a limit (on every order's path: counts, not lists)."""
        if len(mine) + orders > self.orders:
            raise FilterFailure("MAX_NUM_ORDERS")
        if algo and sum(1 for o in mine.values() if o.type in CONDITIONAL) + algo > self.algo_orders:
            raise FilterFailure("MAX_NUM_ALGO_ORDERS")

    def check_list(self, mine: Mapping[int, LiveOrder], types: Sequence[OrderType]) -> None:
        """:meth:`check_room` for the orders of a list, and room for one more open list."""
        self.check_room(mine, len(types), sum(1 for t in types if t in CONDITIONAL))
        if len({o.order_list_id for o in mine.values() if o.order_list_id != -1}) >= self.order_lists:
            raise FilterFailure("MAX_NUM_ORDER_LISTS")


BINANCE_DEFAULTS = OpenOrderLimits()
