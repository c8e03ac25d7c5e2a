"""An in-memory limit order book for one market: price levels of FIFO queues, in integer units.

Bids and asks keep a sorted list of prices (ticks) and a dict of ticks -> deque of orders; the best
level is at the end (bids) or the start (asks) of the list. The orders are :class:`LiveOrder`, the
engine's mutable integer form of an :class:`~keyplane.exchange.models.Order`; what leaves the book
(depth, snapshots, answers) is converted back to ``Decimal`` by the market's
:class:`~keyplane.exchange.units.MarketUnits`. No persistence here: the engine rebuilds a book by
adding the open orders from the database in ``order_id`` order.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from keyplane.exchange.markets import StpMode
from keyplane.exchange.models import (
    BUY,
    NEW,
    ZERO,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    rises_to_stop,
)
from keyplane.exchange.units import MarketUnits


class LiveOrder:
    """An order as the engine mutates it: ``price`` in ticks (0 for MARKET), ``orig_qty`` and
    ``executed_qty`` in lots, ``orig_quote``, ``quote_done`` in quote units, ``locked`` in units of
    the asset it holds (quote for a buy, base for a sell). :meth:`record` is its ``Decimal`` form.

    ``price`` 0 means unpriced: a MARKET order, or a STOP_LOSS/TAKE_PROFIT working as one once
    triggered; the matching tells priced from unpriced orders by it. Conditional orders add
    ``stop_price`` and ``trail_price`` in ticks (0: none), ``trailing_delta`` in BIPS (0: none)
    and ``trailing_time`` (-1: not tracking prices).

    The defaults are a just-placed order's (nothing executed or locked, NEW, updated when placed),
    so that placing one passes at most 15 keywords: CPython 3.11 sends a call with more through a
    dict, about 1 µs more per call."""

    __slots__ = (
        "amends",
        "client_order_id",
        "executed_qty",
        "follower",
        "leader",
        "locked",
        "order_id",
        "order_list_id",
        "orig_qty",
        "orig_quote",
        "prevented_match_id",
        "prevented_qty",
        "price",
        "queue",
        "quote_done",
        "sibling",
        "side",
        "status",
        "stop_price",
        "stp",
        "symbol",
        "time",
        "time_in_force",
        "trail_price",
        "trailing_delta",
        "trailing_time",
        "type",
        "units",
        "update_time",
        "user_id",
        "working_time",
    )

    def __init__(
        self,
        *,
        order_id: int,
        client_order_id: str,
        user_id: int,
        side: Side,
        type: OrderType,
        time_in_force: TimeInForce,
        price: int,
        orig_qty: int,
        orig_quote: int,
        stp: StpMode,
        time: int,
        working_time: int,
        units: MarketUnits,
        executed_qty: int = 0,
        quote_done: int = 0,
        status: OrderStatus = NEW,
        update_time: int | None = None,
        locked: int = 0,
        stop_price: int = 0,
        trailing_delta: int = 0,
        trailing_time: int = -1,
        trail_price: int = 0,
        order_list_id: int = -1,
        queue: int = 0,
    ) -> None:
        self.order_id = order_id
        self.client_order_id = client_order_id
        self.user_id = user_id
        self.symbol = units.symbol
        self.side = side
        self.type = type
        self.time_in_force = time_in_force
        self.price = price
        self.orig_qty = orig_qty
        self.orig_quote = orig_quote
        self.executed_qty = executed_qty
        self.quote_done = quote_done
        self.status = status
        self.stp = stp
        self.time = time
        self.update_time = time if update_time is None else update_time
        self.working_time = working_time
        self.locked = locked
        self.units = units
        self.stop_price = stop_price
        self.trailing_delta = trailing_delta
        self.trailing_time = trailing_time
        self.trail_price = trail_price
        self.order_list_id = order_list_id
        self.queue = queue  # when it entered the book: its time priority, kept across restarts
        self.amends = 0  # amend keepPriority so far (set from the database on rebuild)
        # Expired by self-trade prevention: the prevented match and the quantity it expired (lots).
        self.prevented_match_id = 0
        self.prevented_qty = 0
        # The other leg of an open OCO (memory only, linked on placement and rebuild).
        self.sibling: LiveOrder | None = None
        # An OTO: the working order's pending order (follower), and the pending order's working one.
        self.follower: LiveOrder | None = None
        self.leader: LiveOrder | None = None

    @property
    def remaining_qty(self) -> int:
        return self.orig_qty - self.executed_qty

    @classmethod
    def of(cls, o: Order, units: MarketUnits) -> LiveOrder:
        """The integer form of a stored order (exact, or :class:`InexactAmount`)."""
        lock_units = units.quote_units if o.side is BUY else units.base_units
        live = cls(
            order_id=o.order_id,
            client_order_id=o.client_order_id,
            user_id=o.user_id,
            side=o.side,
            type=o.type,
            time_in_force=o.time_in_force,
            price=units.ticks(o.price),
            orig_qty=units.lots(o.orig_qty),
            orig_quote=units.quote_units(o.orig_quote_order_qty),
            executed_qty=units.lots(o.executed_qty),
            quote_done=units.quote_units(o.cummulative_quote_qty),
            status=o.status,
            stp=o.self_trade_prevention_mode,
            time=o.time,
            update_time=o.update_time,
            working_time=o.working_time,
            locked=lock_units(o.locked_amount),
            units=units,
            stop_price=units.ticks(o.stop_price),
            trailing_delta=o.trailing_delta,
            trailing_time=o.trailing_time,
            trail_price=units.ticks(o.trail_price),
            order_list_id=o.order_list_id,
            queue=o.queue,
        )
        live.prevented_match_id = o.prevented_match_id
        live.prevented_qty = units.lots(o.prevented_quantity)
        return live

    def fields(self) -> OrderFields:
        """Its current values, as an immutable tuple that :func:`order_record` reads."""
        return (
            self.order_id,
            self.client_order_id,
            self.user_id,
            self.side,
            self.type,
            self.time_in_force,
            self.price,
            self.orig_qty,
            self.orig_quote,
            self.executed_qty,
            self.quote_done,
            self.status,
            self.stp,
            self.time,
            self.update_time,
            self.working_time,
            self.locked,
            self.units,
            self.stop_price,
            self.trailing_delta,
            self.trailing_time,
            self.trail_price,
            self.order_list_id,
            self.queue,
            self.prevented_match_id,
            self.prevented_qty,
        )

    def record(self) -> Order:
        """The ``Decimal`` record of this order as it stands now (a copy later commands do not change)."""
        return order_record(self.fields())


# LiveOrder's fields in order, frozen: what a closed batch keeps of an order ([6] price, [15]
# working time, [17] units; then the conditional fields, list, queue and STP's prevented match).
OrderFields = tuple[
    int,
    str,
    int,
    Side,
    OrderType,
    TimeInForce,
    int,
    int,
    int,
    int,
    int,
    OrderStatus,
    StpMode,
    int,
    int,
    int,
    int,
    MarketUnits,
    int,
    int,
    int,
    int,
    int,
    int,
    int,
    int,
]


def order_record(f: OrderFields) -> Order:
    """The ``Decimal`` :class:`Order` of a :meth:`LiveOrder.fields` tuple (exact; any thread).

    Filled in by assignment, not ``Order(...)``: every answer builds one, and CPython 3.11 sends a
    call with more than 15 keywords through a dict (about 1 µs of the ~2.5 µs this takes). Every
    field is set (a test compares it with the keyword-built record)."""
    u, side = f[17], f[3]
    o = Order.__new__(Order)
    o.order_id = f[0]
    o.client_order_id = f[1]
    o.user_id = f[2]
    o.symbol = u.symbol
    o.side = side
    o.type = f[4]
    o.time_in_force = f[5]
    o.price = u.price(f[6])
    o.orig_qty = u.qty(f[7])
    o.orig_quote_order_qty = u.quote_amount(f[8]) if f[8] else ZERO  # zeros: what quote_amount gives
    o.executed_qty = u.qty(f[9])
    o.cummulative_quote_qty = u.quote_amount(f[10]) if f[10] else ZERO
    o.status = f[11]
    o.self_trade_prevention_mode = f[12]
    o.time = f[13]
    o.update_time = f[14]
    o.working_time = f[15]
    o.locked_amount = u.quote_amount(f[16]) if side is BUY else u.base_amount(f[16])
    o.stop_price = u.price(f[18]) if f[18] else u.zero_price  # most orders have neither
    o.trailing_delta = f[19]
    o.trailing_time = f[20]
    o.trail_price = u.price(f[21]) if f[21] else u.zero_price
    o.order_list_id = f[22]
    o.queue = f[23]
    o.prevented_match_id = f[24]
    o.prevented_quantity = u.qty(f[25]) if f[25] else ZERO  # rare: STP expired it
    return o


class _Side:
    """One side's price levels, best first by ``prices``. A round price can hold tens of thousands
    of orders, so nothing here walks a level: each is an ``OrderedDict`` by order id (time
    priority, and a cancel anywhere in it in O(1); a deque's ``remove`` scanned the level), and
    ``lots`` keeps each level's resting quantity (depth is one lookup per level). Whatever changes
    a resting order's quantity says so here: :meth:`filled` after a fill, :meth:`shrink` for an
    amendment."""

    __slots__ = ("descending", "levels", "lots", "prices")

    def __init__(self, descending: bool) -> None:
        self.descending = descending
        self.prices: list[int] = []
        self.levels: dict[int, OrderedDict[int, LiveOrder]] = {}
        self.lots: dict[int, int] = {}

    def add(self, order: LiveOrder) -> None:
        price, remaining = order.price, order.orig_qty - order.executed_qty
        level = self.levels.get(price)
        if level is None:
            level = self.levels[price] = OrderedDict()
            bisect.insort(self.prices, price)
            self.lots[price] = remaining
        else:
            self.lots[price] += remaining
        level[order.order_id] = order

    def remove(self, order: LiveOrder) -> None:
        price = order.price
        level = self.levels[price]
        del level[order.order_id]
        if not level:
            del self.levels[price], self.lots[price]
            self.prices.pop(bisect.bisect_left(self.prices, price))
        else:
            self.lots[price] -= order.orig_qty - order.executed_qty

    def filled(self, maker: LiveOrder, lots: int) -> None:
        """``maker``, resting here, has just executed ``lots``."""
        self.lots[maker.price] -= lots

    def shrink(self, order: LiveOrder, orig_qty: int) -> None:
        """``order``, resting here, keeps its place with a lower quantity (amend, keepPriority)."""
        self.lots[order.price] -= order.orig_qty - orig_qty
        order.orig_qty = orig_qty

    def best(self) -> LiveOrder | None:
        prices = self.prices
        if not prices:
            return None
        return next(iter(self.levels[prices[-1] if self.descending else prices[0]].values()))

    def iter_orders(self) -> Iterator[LiveOrder]:
        """Every order in priority order."""
        prices = reversed(self.prices) if self.descending else iter(self.prices)
        for p in prices:
            yield from self.levels[p].values()

    def level_lots(self, price: int) -> int:
        """The resting quantity at ``price`` (0 when no order rests there)."""
        return self.lots.get(price, 0)

    def depth(self, limit: int) -> list[tuple[int, int]]:
        """(ticks, lots) of the best ``limit`` levels (copying only those: a deep book has
        thousands of levels, and every batch someone listens to asks for its top 20)."""
        all_prices = self.prices
        if self.descending:
            prices = all_prices[max(len(all_prices) - limit, 0) :][::-1]
        else:
            prices = all_prices[:limit]
        lots = self.lots
        return [(p, lots[p]) for p in prices]


ByUser = dict[int, dict[int, LiveOrder]]  # user id -> order id -> open order


def _index(by_user: ByUser, order: LiveOrder) -> None:
    orders = by_user.get(order.user_id)
    if orders is None:
        by_user[order.user_id] = {order.order_id: order}
    else:
        orders[order.order_id] = order


def _unindex(by_user: ByUser, order: LiveOrder) -> None:
    orders = by_user[order.user_id]
    del orders[order.order_id]
    if not orders:
        del by_user[order.user_id]


class _Aside(dict[int, LiveOrder]):
    """Orders kept apart from the price levels (stops, OTO pending orders), indexed by user
    however the engine puts them in or takes them out."""

    __slots__ = ("_by_user",)

    def __init__(self, by_user: ByUser) -> None:
        super().__init__()
        self._by_user = by_user

    def __setitem__(self, order_id: int, order: LiveOrder) -> None:
        super().__setitem__(order_id, order)
        _index(self._by_user, order)

    def __delitem__(self, order_id: int) -> None:
        _unindex(self._by_user, self[order_id])
        super().__delitem__(order_id)

    def pop(self, order_id: int, default: Any = None) -> Any:
        order = super().pop(order_id, None)
        if order is None:
            return default
        _unindex(self._by_user, order)
        return order


class _Stops(_Aside):
    """The conditional orders waiting for their trigger, indexed by what sets them off, so that a
    trade looks only at the orders its price meets (a market can hold thousands of them, and the
    engine scanned them all on every trade): those with a fixed stop price in two lists sorted by
    it, ``rising`` (set off at or above it: STOP_LOSS buys, TAKE_PROFIT sells) and ``falling`` (at
    or below it); the trailing ones, whose trigger moves with the market, apart. ``placed`` gives
    the order in which they were set aside, the order they run in when one trade sets off several."""

    __slots__ = ("_next", "_order", "falling", "rising", "trailing")

    def __init__(self, by_user: ByUser) -> None:
        super().__init__(by_user)
        self._order: dict[int, int] = {}
        self._next = 0
        self.rising: list[tuple[int, int]] = []  # (stop ticks, order id), ascending
        self.falling: list[tuple[int, int]] = []
        self.trailing: dict[int, LiveOrder] = {}

    def __setitem__(self, order_id: int, order: LiveOrder) -> None:
        if order_id in self:
            self._forget(self[order_id])
        super().__setitem__(order_id, order)
        self._order[order_id] = self._next
        self._next += 1
        if order.trailing_delta:
            self.trailing[order_id] = order
        else:
            bisect.insort(self._fixed(order), (order.stop_price, order_id))

    def __delitem__(self, order_id: int) -> None:
        self._forget(self[order_id])
        super().__delitem__(order_id)

    def pop(self, order_id: int, default: Any = None) -> Any:
        order = super().pop(order_id, None)
        if order is None:
            return default
        self._forget(order)
        return order

    def _fixed(self, order: LiveOrder) -> list[tuple[int, int]]:
        return self.rising if rises_to_stop(order.type, order.side) else self.falling

    def _forget(self, order: LiveOrder) -> None:
        del self._order[order.order_id]
        if order.trailing_delta:
            del self.trailing[order.order_id]
        else:
            fixed = self._fixed(order)
            del fixed[bisect.bisect_left(fixed, (order.stop_price, order.order_id))]

    def met(self, low: int, high: int) -> list[LiveOrder]:
        """The orders with a fixed stop price that a trade between ``low`` and ``high`` ticks
        (inclusive) sets off: a rising stop at or below ``high``, a falling one at or above ``low``."""
        up = self.rising[: bisect.bisect_left(self.rising, (high + 1,))]
        down = self.falling[bisect.bisect_left(self.falling, (low,)) :]
        return [self[i] for _, i in up] + [self[i] for _, i in down]

    def placed(self, order: LiveOrder) -> int:
        return self._order[order.order_id]


class OrderBook:
    """Resting orders (``by_id``, in ``bids``/``asks``) and, apart from them, the conditional
    orders waiting for their trigger (``stops``) and OTO pending orders (``waiting``);
    ``last_price`` is the last trade's ticks (0: none yet), what triggers them. :meth:`mine`
    gives one user's open orders of all three."""

    def __init__(self, units: MarketUnits) -> None:
        self.symbol = units.symbol
        self.units = units
        self.bids = _Side(descending=True)
        self.asks = _Side(descending=False)
        self.by_id: dict[int, LiveOrder] = {}
        # Every open order of the market by user, so one account's orders (its queries, cancel-all,
        # the MAX_NUM_ORDERS filter) are found without a scan of the book.
        self._by_user: ByUser = {}
        self.stops = _Stops(self._by_user)
        self.waiting: dict[int, LiveOrder] = _Aside(self._by_user)  # OTO pending orders (PENDING_NEW)
        self.next_queue = 1
        self.last_price = 0
        self.next_prevented_id = 1  # the market's next prevented match (self-trade prevention)

    def mine(self, user_id: int) -> dict[int, LiveOrder]:
        """The user's open orders on this market (resting, stops, pending), by order id; read only."""
        return self._by_user.get(user_id, {})

    def side(self, side: Side) -> _Side:
        return self.bids if side is BUY else self.asks

    def opposite(self, side: Side) -> _Side:
        return self.asks if side is BUY else self.bids

    def enter(self, order: LiveOrder) -> None:
        """A new or just triggered order joins the book: behind every order there (``queue``, which
        a rebuild sorts by: a triggered stop is younger in the book than its order id says)."""
        order.queue = self.next_queue
        self.next_queue += 1
        self.add(order)

    def add(self, order: LiveOrder) -> None:
        (self.bids if order.side is BUY else self.asks).add(order)
        self.by_id[order.order_id] = order
        _index(self._by_user, order)

    def remove(self, order: LiveOrder) -> None:
        (self.bids if order.side is BUY else self.asks).remove(order)
        del self.by_id[order.order_id]
        _unindex(self._by_user, order)

    def depth(self, side: _Side, limit: int) -> list[tuple[Decimal, Decimal]]:
        """(price, qty) of the best ``limit`` levels of ``side``, as ``Decimal``."""
        u = self.units
        return [(u.price(p), u.qty(q)) for p, q in side.depth(limit)]

    def best_bid(self) -> tuple[Decimal, Decimal] | None:
        d = self.depth(self.bids, 1)
        return d[0] if d else None

    def best_ask(self) -> tuple[Decimal, Decimal] | None:
        d = self.depth(self.asks, 1)
        return d[0] if d else None

    def snapshot(self) -> tuple[list[tuple[int, Decimal, Decimal]], list[tuple[int, Decimal, Decimal]]]:
        """(order_id, price, remaining) per side in priority order; tests compare books with it."""
        u = self.units
        return (
            [(o.order_id, u.price(o.price), u.qty(o.remaining_qty)) for o in self.bids.iter_orders()],
            [(o.order_id, u.price(o.price), u.qty(o.remaining_qty)) for o in self.asks.iter_orders()],
        )
