"""An in-memory limit order book for one market: price levels of FIFO queues.

Bids and asks keep a sorted list of prices and a dict of price -> deque of orders; the best
level is at the end (bids) or the start (asks) of the list. No persistence here: the engine
rebuilds a book by adding the open orders from the database in ``order_id`` order.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterator
from decimal import Decimal

from keyplane.exchange.models import Order, Side


class _Side:
    def __init__(self, descending: bool) -> None:
        self.descending = descending
        self.prices: list[Decimal] = []
        self.levels: dict[Decimal, deque[Order]] = {}

    def add(self, order: Order) -> None:
        level = self.levels.get(order.price)
        if level is None:
            level = self.levels[order.price] = deque()
            bisect.insort(self.prices, order.price)
        level.append(order)

    def remove(self, order: Order) -> None:
        level = self.levels[order.price]
        level.remove(order)
        if not level:
            del self.levels[order.price]
            self.prices.pop(bisect.bisect_left(self.prices, order.price))

    def best(self) -> Order | None:
        if not self.prices:
            return None
        price = self.prices[-1] if self.descending else self.prices[0]
        return self.levels[price][0]

    def iter_orders(self) -> Iterator[Order]:
        """Every order in priority order."""
        prices = reversed(self.prices) if self.descending else iter(self.prices)
        for p in prices:
            yield from self.levels[p]

    def depth(self, limit: int) -> list[tuple[Decimal, Decimal]]:
        prices = reversed(self.prices) if self.descending else iter(self.prices)
        out: list[tuple[Decimal, Decimal]] = []
        for p in prices:
            if len(out) >= limit:
                break
            out.append((p, sum((o.remaining_qty for o in self.levels[p]), Decimal(0))))
        return out


class OrderBook:
    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids = _Side(descending=True)
        self.asks = _Side(descending=False)
        self.by_id: dict[int, Order] = {}

    def side(self, side: Side) -> _Side:
        return self.bids if side is Side.BUY else self.asks

    def opposite(self, side: Side) -> _Side:
        return self.asks if side is Side.BUY else self.bids

    def add(self, order: Order) -> None:
        self.side(order.side).add(order)
        self.by_id[order.order_id] = order

    def remove(self, order: Order) -> None:
        self.side(order.side).remove(order)
        del self.by_id[order.order_id]

    def best_bid(self) -> tuple[Decimal, Decimal] | None:
        d = self.bids.depth(1)
        return d[0] if d else None

    def best_ask(self) -> tuple[Decimal, Decimal] | None:
        d = self.asks.depth(1)
        return d[0] if d else None

    def snapshot(self) -> tuple[list[tuple[int, Decimal, Decimal]], list[tuple[int, Decimal, Decimal]]]:
        """(order_id, price, remaining) per side in priority order; tests compare books with it."""
        return (
            [(o.order_id, o.price, o.remaining_qty) for o in self.bids.iter_orders()],
            [(o.order_id, o.price, o.remaining_qty) for o in self.asks.iter_orders()],
        )
