"""Order lists: OCO (one-cancels-the-other), placed, cancelled and queried as Binance's.

An OCO is two orders of one side and quantity: the *above* and the *below* order. One is a
LIMIT_MAKER or TAKE_PROFIT(_LIMIT), the other a STOP_LOSS(_LIMIT); for a SELL the take-profit
side is above the last price and the stop below it, for a BUY the other way round. The legs are
linked (``LiveOrder.sibling``): when one executes or triggers the other expires
(:func:`~keyplane.exchange.matching.end_sibling`), when one is cancelled both are.

Funds: an OCO locks once, the larger of its legs' needs, held by the leg in the book (the
LIMIT_MAKER), else by the above order; the leg that executes or triggers takes it over from the
other. Both legs locking would lock the quantity twice, which Binance does not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from keyplane.exchange.book import LiveOrder
from keyplane.exchange.conditional import check_not_triggered, conditional_lock, stop_met, trigger
from keyplane.exchange.errors import (
    DuplicateOrder,
    InsufficientBalance,
    InvalidParameter,
    NoSuchOrder,
    OrderRejected,
    UnknownOrder,
    WouldTakeAsMaker,
)
from keyplane.exchange.matching import Command, execute, lock_asset, lock_needed
from keyplane.exchange.models import (
    BUY,
    EXPIRED,
    FILLED,
    LIMIT,
    LIMIT_MAKER,
    MARKET,
    NEW,
    OPEN,
    PENDING,
    PENDING_NEW,
    SELL,
    STOP_LOSS,
    STOP_LOSS_LIMIT,
    TAKE_PROFIT,
    Order,
    OrderList,
    OrderType,
    Side,
)
from keyplane.exchange.open_limits import OpenOrderLimits
from keyplane.exchange.order_rate import OrderCounter
from keyplane.exchange.orders import (
    CLIENT_ID_PATTERN,
    CLIENT_ID_RE,
    OrderRequest,
    ValidOrder,
    clamp_limit,
    new_client_order_id,
    validate,
)
from keyplane.store import exchange_repo as repo

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from keyplane.exchange.book import OrderBook
    from keyplane.exchange.ledger import Ledger
    from keyplane.exchange.markets import MarketSpec
    from keyplane.exchange.sequencer import Sequencer

OCO_TYPES = frozenset(
    (OrderType.STOP_LOSS_LIMIT, STOP_LOSS, LIMIT_MAKER, TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT)
)
LIST_NOT_FOUND = "Order list does not exist."


@dataclass(kw_only=True, frozen=True, slots=True)
class OcoRequest:
    """An OCO as sent: the two legs (same user, symbol, side and quantity) and the list's client id."""

    above: OrderRequest
    below: OrderRequest
    list_client_order_id: str | None = None


@dataclass(kw_only=True, frozen=True, slots=True)
class OtoRequest:
    """An OTO as sent: the working order (LIMIT or LIMIT_MAKER) and the pending order placed once
    the working one is fully filled."""

    working: OrderRequest
    pending: OrderRequest
    list_client_order_id: str | None = None


@dataclass(kw_only=True, frozen=True, slots=True)
class OtocoRequest:
    """An OTOCO as sent: the working order and the OCO pair (above and below, one side and
    quantity) placed once the working order is fully filled."""

    working: OrderRequest
    above: OrderRequest
    below: OrderRequest
    list_client_order_id: str | None = None


@dataclass(kw_only=True, frozen=True, slots=True)
class PlacedList:
    order_list: OrderList
    orders: list[Order]


def check_leg_places(side: Side, above: OrderType, below: OrderType) -> None:
    """Which type may be above and which below, with Binance's codes."""
    for otype, is_above in ((above, True), (below, False)):
        if otype not in OCO_TYPES:
            raise InvalidParameter("Order type not supported in OCO.", -1158)
        stop_loss = otype is STOP_LOSS or otype is STOP_LOSS_LIMIT
        if side is BUY:
            if stop_loss and not is_above:
                raise InvalidParameter("A stop loss order in a buy OCO must be above.", -1196)
            if not stop_loss and is_above:
                if otype is LIMIT_MAKER:
                    raise InvalidParameter("A limit order in a buy OCO must be below.", -1165)
                raise InvalidParameter("A take profit order in a buy OCO must be below.", -1198)
        else:
            if stop_loss and is_above:
                raise InvalidParameter("A stop loss order in a sell OCO must be below.", -1197)
            if not stop_loss and not is_above:
                if otype is LIMIT_MAKER:
                    raise InvalidParameter("A limit order in a sell OCO must be above.", -1166)
                raise InvalidParameter("A take profit order in a sell OCO must be above.", -1199)


def _reference(v: ValidOrder, ticks: Callable[[Any], int]) -> int:
    """The price a leg is compared at: the limit price of a LIMIT_MAKER or TAKE_PROFIT_LIMIT, else
    the stop price (0 for a trailing leg without one: not compared)."""
    if v.type is LIMIT_MAKER or v.type is OrderType.TAKE_PROFIT_LIMIT:
        return ticks(v.price)
    return ticks(v.stop_price)


def check_prices(above: int, below: int, last: int) -> None:
    """above > last > below (Binance's price restrictions, either side); -2010 otherwise."""
    if (above and below and above <= below) or (
        last and ((above and above <= last) or (below and below >= last))
    ):
        raise OrderRejected("The relationship of the prices for the orders is not correct.")


class OrderListCommands:
    """Mixed into :class:`~keyplane.exchange.service.Exchange`: OCO placement, cancel, queries."""

    if TYPE_CHECKING:
        engine: Engine
        ledger: Ledger
        markets: dict[str, MarketSpec]
        books: dict[str, OrderBook]
        lists: dict[int, OrderList]
        sequencer: Sequencer[Any, Any]
        _next_order_id: int
        _next_list_id: int
        _open_ids: dict[tuple[int, str], int]
        open_limits: OpenOrderLimits
        order_counter: OrderCounter
        now: Callable[[], int]

        def _market(self, symbol: str) -> MarketSpec: ...
        async def _known(self, user_id: int) -> None: ...
        def _begin(self) -> Command: ...
        def _failed(self, cx: Command, error: BaseException) -> None: ...
        def _finish(self, cx: Command) -> None: ...
        def _cancel(self, order: LiveOrder, cx: Command) -> None: ...
        def _current(self) -> None: ...

    async def place_oco(self, req: OcoRequest) -> PlacedList:
        """Validate both legs, lock once, put the LIMIT_MAKER leg in the book and the conditional
        legs with the pending stops; nothing trades at placement (Binance's price rules)."""
        above, below = req.above, req.below
        market = self._market(above.symbol)
        if above.user_id not in self.ledger.accounts:
            await self._known(above.user_id)
        if self.sequencer.stale:
            await self.sequencer.ready()
        check_leg_places(above.side, above.type, below.type)
        list_cid = req.list_client_order_id or new_client_order_id()
        if not CLIENT_ID_RE.match(list_cid):
            raise InvalidParameter.illegal_chars("listClientOrderId", CLIENT_ID_PATTERN)
        book = self.books[market.symbol]
        units = book.units
        legs = [validate(above, market, None), validate(below, market, None)]
        check_prices(_reference(legs[0], units.ticks), _reference(legs[1], units.ticks), book.last_price)
        user = above.user_id
        cids = {v.client_order_id for v in legs}
        if (
            len(cids) < 2
            or any((user, c) in self._open_ids for c in cids)
            or any(
                lst.user_id == user and lst.list_client_order_id == list_cid for lst in self.lists.values()
            )
        ):
            raise DuplicateOrder()
        self.open_limits.check_list(book.mine(user), [v.type for v in legs])
        self.order_counter.check(user, len(legs), self.now())
        needs = []
        for v in legs:
            price, lots = units.ticks(v.price), units.lots(v.quantity)
            stop = units.ticks(v.stop_price)
            if v.type is LIMIT_MAKER:
                best = book.opposite(v.side).best()
                if best is not None and (best.price <= price if v.side is BUY else best.price >= price):
                    raise WouldTakeAsMaker()
                needs.append(lots * price * units.lot_tick if v.side is BUY else lots * units.lot_base)
            else:
                check_not_triggered(v.type, v.side, stop, book)
                needs.append(conditional_lock(v.type, v.side, price, lots, stop, v.trailing_delta, book))
        acc = self.ledger.open_account(user)
        asset = lock_asset(units, above.side)
        lock = max(needs)
        if lock > self.ledger.free_units(acc, asset):
            raise InsufficientBalance()
        holder = 1 if legs[1].type is LIMIT_MAKER else 0
        cx = self._begin()
        try:
            list_id = self._next_list_id
            self._next_list_id += 1
            orders = [self._leg(v, user, list_id, cx, book) for v in legs]
            self.order_counter.add(user, len(orders), cx.now)
            orders[0].sibling, orders[1].sibling = orders[1], orders[0]
            self.ledger.lock_units(acc, asset, lock, orders[holder].order_id)
            orders[holder].locked = lock
            for o in orders:
                if o.type is LIMIT_MAKER:
                    book.enter(o)
                else:
                    book.stops[o.order_id] = o
            placed = self._start_list(list_id, "OCO", list_cid, orders, cx)
        except BaseException as error:
            self._failed(cx, error)
            raise
        self._finish(cx)
        answer = PlacedList(order_list=placed.snapshot(), orders=[o.record() for o in orders])
        await self.sequencer.applied()
        return answer

    def _start_list(
        self, list_id: int, contingency: str, list_cid: str, orders: list[LiveOrder], cx: Command
    ) -> OrderList:
        """A list just placed (EXEC_STARTED, EXECUTING), known to the exchange and to the batch."""
        first = orders[0]
        placed = OrderList(
            list_id=list_id,
            user_id=first.user_id,
            symbol=first.symbol,
            contingency_type=contingency,
            list_status_type="EXEC_STARTED",
            list_order_status="EXECUTING",
            list_client_order_id=list_cid,
            transaction_time=cx.now,
            orders=[(o.order_id, o.client_order_id) for o in orders],
        )
        self.lists[list_id] = placed
        cx.lists[list_id] = (placed, True)
        return placed

    async def place_oto(self, req: OtoRequest) -> PlacedList:
        """Place the working order (it may trade at once) and keep the pending one PENDING_NEW, off
        the book and locking nothing, until the working order fills (:func:`run_after`)."""
        if req.pending.type is MARKET and req.pending.quote_order_qty is not None:
            raise InvalidParameter.not_required("pendingQuoteOrderQty")
        return await self._place_working(req.working, [req.pending], req.list_client_order_id)

    async def place_otoco(self, req: OtocoRequest) -> PlacedList:
        """An OTO whose pending order is an OCO pair: the pair is checked as an OCO's legs are
        (types, places, the prices between them) and placed together once the working order fills;
        the last price is checked then (:func:`_activate_pair`)."""
        above, below = req.above, req.below
        market = self._market(above.symbol)
        check_leg_places(above.side, above.type, below.type)
        units = self.books[market.symbol].units
        pair = [validate(above, market, None), validate(below, market, None)]
        check_prices(_reference(pair[0], units.ticks), _reference(pair[1], units.ticks), 0)
        return await self._place_working(req.working, [above, below], req.list_client_order_id)

    async def _place_working(
        self, working: OrderRequest, pendings: list[OrderRequest], list_client_id: str | None
    ) -> PlacedList:
        """The OTO placement both OTO and OTOCO share: the working order may trade at once; the
        pending order(s) wait PENDING_NEW, locking nothing (two pending ones are an OCO pair)."""
        market = self._market(working.symbol)
        if working.user_id not in self.ledger.accounts:
            await self._known(working.user_id)
        if self.sequencer.stale:
            await self.sequencer.ready()
        if working.type is not LIMIT and working.type is not LIMIT_MAKER:
            raise InvalidParameter("Order type not supported in OTO.", -1158)
        list_cid = list_client_id or new_client_order_id()
        if not CLIENT_ID_RE.match(list_cid):
            raise InvalidParameter.illegal_chars("listClientOrderId", CLIENT_ID_PATTERN)
        book = self.books[market.symbol]
        units = book.units
        legs = [validate(o, market, None) for o in (working, *pendings)]
        user = working.user_id
        cids = {v.client_order_id for v in legs}
        if (
            len(cids) < len(legs)
            or any((user, c) in self._open_ids for c in cids)
            or any(
                lst.user_id == user and lst.list_client_order_id == list_cid for lst in self.lists.values()
            )
        ):
            raise DuplicateOrder()
        self.open_limits.check_list(book.mine(user), [v.type for v in legs])
        self.order_counter.check(user, len(legs), self.now())
        w = legs[0]
        price, lots = units.ticks(w.price), units.lots(w.quantity)
        best = book.opposite(w.side).best()
        if (
            w.type is LIMIT_MAKER
            and best is not None
            and (best.price <= price if w.side is BUY else best.price >= price)
        ):
            raise WouldTakeAsMaker()
        acc = self.ledger.open_account(user)
        asset = lock_asset(units, w.side)
        need = lots * price * units.lot_tick if w.side is BUY else lots * units.lot_base
        if need > self.ledger.free_units(acc, asset):
            raise InsufficientBalance()
        cx = self._begin()
        try:
            list_id = self._next_list_id
            self._next_list_id += 1
            orders = [self._leg(v, user, list_id, cx, book) for v in legs]
            self.order_counter.add(user, len(orders), cx.now)
            first, waiting = orders[0], orders[1:]
            for second in waiting:
                second.status, second.working_time = PENDING_NEW, PENDING
                second.trailing_time, second.trail_price = -1, 0  # a trailing order tracks once placed
                book.waiting[second.order_id] = second
            first.follower, waiting[0].leader = waiting[0], first
            if len(waiting) == 2:
                waiting[0].sibling, waiting[1].sibling = waiting[1], waiting[0]
            placed = self._start_list(list_id, "OTO", list_cid, orders, cx)  # an OTOCO's too (Binance)
            self.ledger.lock_units(acc, asset, need, first.order_id)
            first.locked = need
            execute(first, book, self.ledger, cx)
            run_after(book, self.ledger, cx)
        except BaseException as error:
            self._failed(cx, error)
            raise
        self._finish(cx)
        answer = PlacedList(order_list=placed.snapshot(), orders=[o.record() for o in orders])
        await self.sequencer.applied()
        return answer

    def _leg(self, v: ValidOrder, user: int, list_id: int, cx: Command, book: OrderBook) -> LiveOrder:
        order_id = self._next_order_id
        self._next_order_id += 1
        return new_leg(v, user, list_id, order_id, cx, book)

    async def cancel_order_list(
        self, user_id: int, symbol: str, list_id: int | None, list_client_id: str | None
    ) -> PlacedList:
        """Cancel both legs of an open order list; -2011 if it is not open (or not yours)."""
        if self.sequencer.stale:
            await self.sequencer.ready()
        self._market(symbol)
        if list_id is None and list_client_id is None:
            raise InvalidParameter.neither("orderListId", "listClientOrderId")
        found = self._open_list(user_id, symbol, list_id, list_client_id)
        if found is None:
            raise UnknownOrder("Unknown order list sent.")
        book = self.books[symbol]
        legs = [book.by_id.get(i) or book.stops.get(i) or book.waiting.get(i) for i, _ in found.orders]
        open_legs = [o for o in legs if o is not None]
        cx = self._begin()
        try:
            if open_legs:
                self._cancel(open_legs[0], cx)  # cancels the other leg and ends the list
            if found.list_id not in cx.ended_lists:
                cx.ended_lists.append(found.list_id)
        except BaseException as error:
            self._failed(cx, error)
            raise
        self._finish(cx)
        answer = PlacedList(order_list=found.snapshot(), orders=[o.record() for o in open_legs])
        await self.sequencer.applied()
        return answer

    def _open_list(
        self, user_id: int, symbol: str, list_id: int | None, client_id: str | None
    ) -> OrderList | None:
        for lst in self.lists.values():
            if (
                lst.user_id == user_id
                and lst.symbol == symbol
                and (list_id is None or lst.list_id == list_id)
                and (client_id is None or lst.list_client_order_id == client_id)
            ):
                return lst
        return None

    async def get_order_list(self, user_id: int, list_id: int | None, client_id: str | None) -> OrderList:
        """One order list of the user: open ones from memory, any other from committed rows."""
        self._current()
        if list_id is None and client_id is None:
            raise InvalidParameter.neither("orderListId", "origClientOrderId")
        for lst in self.lists.values():
            if (
                lst.user_id == user_id
                and (list_id is None or lst.list_id == list_id)
                and (client_id is None or lst.list_client_order_id == client_id)
            ):
                return lst.snapshot()

        def committed() -> OrderList | None:
            with self.engine.connect() as conn:
                return repo.find_order_list(conn, user_id, list_id, client_id)

        found = await asyncio.to_thread(committed)
        if found is None:
            raise NoSuchOrder(LIST_NOT_FOUND)
        return found

    def open_order_lists(self, user_id: int) -> list[OrderList]:
        """The user's open order lists, oldest first (from memory)."""
        self._current()
        return [
            lst.snapshot()
            for lst in sorted(self.lists.values(), key=lambda x: x.list_id)
            if lst.user_id == user_id
        ]

    def all_order_lists(
        self,
        user_id: int,
        from_id: int | None,
        start_time: int | None,
        end_time: int | None,
        limit: int | None,
    ) -> list[OrderList]:
        """``allOrderList`` from committed rows (call in a worker thread)."""
        n = clamp_limit(limit, 500, 1000)
        with self.engine.connect() as conn:
            return repo.order_lists_of(conn, user_id, from_id, start_time, end_time, n)


def new_leg(v: ValidOrder, user: int, list_id: int, order_id: int, cx: Command, book: OrderBook) -> LiveOrder:
    """The live form of one OCO leg (its lock is set by the caller)."""
    units = book.units
    conditional = v.type.is_conditional
    stop = units.ticks(v.stop_price)
    leg = LiveOrder(
        order_id=order_id,
        client_order_id=v.client_order_id,
        user_id=user,
        side=v.side,
        type=v.type,
        time_in_force=v.time_in_force,
        price=units.ticks(v.price),
        orig_qty=units.lots(v.quantity),
        orig_quote=0,
        stp=v.stp_mode,
        time=cx.now,
        working_time=PENDING if conditional else cx.now,
        units=units,
        stop_price=stop,
        trailing_delta=v.trailing_delta,
    )
    leg.order_list_id = list_id
    if v.trailing_delta and not stop:
        leg.trailing_time, leg.trail_price = cx.now, book.last_price
    cx.new_order_ids.add(order_id)
    cx.touch(leg)
    return leg


def run_after(book: OrderBook, ledger: Ledger, cx: Command) -> None:
    """After a command's own matching: trigger the stops its trades set off, place the OTO pending
    orders whose working order filled and expire those whose working order ended otherwise; again
    while that makes trades."""
    start = 0
    while True:
        if len(cx.trades) > start:
            trigger(book, ledger, cx, start)
        start = len(cx.trades)
        if not book.waiting or not _followers(book, ledger, cx) or len(cx.trades) == start:
            return


def _followers(book: OrderBook, ledger: Ledger, cx: Command) -> bool:
    """Place or expire the pending orders of working orders that this command ended."""
    ended = [o for o in list(cx.orders.values()) if o.follower is not None and o.status not in OPEN]
    for o in ended:
        f = o.follower
        assert f is not None
        o.follower = f.leader = None
        if book.waiting.pop(f.order_id, None) is None:
            continue
        other = f.sibling  # an OTOCO: the OCO pair waits together
        if other is not None:
            book.waiting.pop(other.order_id, None)
            if o.status is FILLED:
                _activate_pair(f, other, book, ledger, cx)  # the list goes on as an OCO
                continue
            f.sibling = other.sibling = None
            other.status = EXPIRED
            cx.touch(other)
        cx.ended_lists.append(o.order_list_id)
        if o.status is FILLED:
            _activate(f, book, ledger, cx)
        else:
            f.status = EXPIRED  # the working order was cancelled or expired: so is the pending one
            cx.touch(f)
    return bool(ended)


def _need(f: LiveOrder, book: OrderBook) -> int | None:
    """Units a pending order must lock to be placed now; None when it cannot be placed: its cost
    is unknown, a LIMIT_MAKER would take, or its stop price the last trade already meets."""
    best = book.opposite(f.side).best()
    conditional = f.type.is_conditional
    try:
        if conditional:
            need = conditional_lock(f.type, f.side, f.price, f.orig_qty, f.stop_price, f.trailing_delta, book)
        else:
            need = lock_needed(f.side, f.type, f.price, f.orig_qty, f.orig_quote, book)
    except OrderRejected:
        return None
    if (
        f.type is LIMIT_MAKER
        and best is not None
        and (best.price <= f.price if f.side is BUY else best.price >= f.price)
    ) or (
        conditional
        and bool(f.stop_price)
        and bool(book.last_price)
        and stop_met(f.type, f.side, f.stop_price, book.last_price)
    ):
        return None
    return need


def _placed_now(f: LiveOrder, book: OrderBook, cx: Command) -> None:
    """A pending order is placed: NEW again, and tracked from now if trailing."""
    f.status = NEW
    cx.triggered.append(f.order_id)  # reported NEW again, now placed
    cx.touch(f)
    if f.type.is_conditional and f.trailing_delta and not f.stop_price:
        f.trailing_time, f.trail_price = cx.now, book.last_price


def _activate(f: LiveOrder, book: OrderBook, ledger: Ledger, cx: Command) -> None:
    """Place an OTO's pending order now that its working order filled: lock its funds and put it
    in the book (running it first), or with the pending stops; expired when the account cannot pay
    for it or :func:`_need` refuses it."""
    units = book.units
    acc = ledger.open_account(f.user_id)
    asset = lock_asset(units, f.side)
    free = ledger.free_units(acc, asset)
    need = _need(f, book)
    if need is None or need > free:
        f.status = EXPIRED
        cx.touch(f)
        return
    lock = (
        free
        if f.type is MARKET
        and need
        and not (f.side is BUY and f.orig_quote)
        and not (f.side is SELL and f.orig_qty)
        else need
    )
    ledger.lock_units(acc, asset, lock, f.order_id)
    f.locked = lock
    _placed_now(f, book, cx)
    if f.type.is_conditional:
        book.stops[f.order_id] = f
        return
    f.working_time = cx.now
    execute(f, book, ledger, cx)


def _activate_pair(above: LiveOrder, below: LiveOrder, book: OrderBook, ledger: Ledger, cx: Command) -> None:
    """Place an OTOCO's OCO pair now that its working order filled, as :meth:`place_oco` places
    one: one lock (the larger need) held by the LIMIT_MAKER leg, else by the above leg; nothing
    trades. Both expire, ending the list, when either cannot be placed or the account cannot pay."""
    units = book.units
    acc = ledger.open_account(above.user_id)
    asset = lock_asset(units, above.side)
    needs = [_need(above, book), _need(below, book)]
    lock = max((n for n in needs if n is not None), default=0)
    if None in needs or lock > ledger.free_units(acc, asset):
        above.sibling = below.sibling = None
        for f in (above, below):
            f.status = EXPIRED
            cx.touch(f)
        cx.ended_lists.append(above.order_list_id)
        return
    holder = below if below.type is LIMIT_MAKER else above
    ledger.lock_units(acc, asset, lock, holder.order_id)
    holder.locked = lock
    for f in (above, below):
        _placed_now(f, book, cx)
        if f.type is LIMIT_MAKER:
            f.working_time = cx.now
            book.enter(f)
        else:
            book.stops[f.order_id] = f
