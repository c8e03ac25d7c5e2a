"""``Exchange``: the facade the HTTP layer awaits; the domain logic of every command.

Commands (place, cancel, cancel-all, credit) are coroutines run on the event loop: each awaits
what needs the database (is the user known, the 5-minute average), then validates and mutates the
in-memory books and ledger with no ``await`` in between, so commands apply strictly in order
without a lock. A plain refusal raises before the first mutation. The effects go to the open
batch of the :class:`~keyplane.exchange.sequencer.Sequencer`, and the caller is answered once the
batch is durable; a failure half-way through a mutation, or a failed commit, rebuilds memory from
the database. Current state (balances, open orders, books) is read from memory; history from
committed rows (:mod:`keyplane.exchange.queries`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import Connection, Engine

from keyplane.clock import now_ms
from keyplane.exchange.amend import AmendCommands
from keyplane.exchange.amounts import exact_command, ledger_amount
from keyplane.exchange.book import LiveOrder, OrderBook
from keyplane.exchange.conditional import check_not_triggered, conditional_lock
from keyplane.exchange.errors import (
    DuplicateOrder,
    ExchangeError,
    InsufficientBalance,
    InvalidParameter,
    NoSuchOrder,
    NotDurable,
    UnknownOrder,
    WouldTakeAsMaker,
)
from keyplane.exchange.events import EventBuilder, ExchangeEvents
from keyplane.exchange.journal import Closed, Journal
from keyplane.exchange.markets import (
    AssetSpec,
    MarketSpec,
    check_exact,
    default_assets,
    default_markets,
)
from keyplane.exchange.matching import Command, execute, lock_asset, lock_needed, release
from keyplane.exchange.models import (
    BUY,
    CANCELED,
    CONDITIONAL,
    LIMIT_MAKER,
    MARKET,
    OPEN,
    PENDING,
    SELL,
    STOP_LOSS,
    TAKE_PROFIT,
    Balance,
    Fill,
    Order,
    PlacedOrder,
)
from keyplane.exchange.open_limits import BINANCE_DEFAULTS, OpenOrderLimits
from keyplane.exchange.order_lists import OrderListCommands, run_after
from keyplane.exchange.order_rate import UNLIMITED, OrderCounter, OrderRateLimits
from keyplane.exchange.orders import OrderRequest, ValidOrder, validate
from keyplane.exchange.queries import ExchangeQueries
from keyplane.exchange.sequencer import Sequencer
from keyplane.exchange.state import State, read_state
from keyplane.exchange.units import from_units
from keyplane.exchange.wallet.commands import WalletCommands
from keyplane.store import exchange_repo as repo
from keyplane.store import key_repo
from keyplane.store.held_connection import HeldConnection

ZERO = Decimal(0)


class NewOrder(NamedTuple):
    """A new order that passed :meth:`Exchange._check_new`, in the market's integer units
    (``stop`` and ``delta`` are 0 unless it is a conditional order)."""

    req: OrderRequest
    v: ValidOrder
    book: OrderBook
    acc: int
    asset: str
    price: int
    lots: int
    quote: int
    need: int
    stop: int
    delta: int


class Exchange(ExchangeQueries, WalletCommands, AmendCommands, OrderListCommands):
    """Markets, balances, orders and market data over one database.

    ``now`` is the millisecond clock (injected for tests). On an empty database the default
    assets and markets are seeded when ``seed_defaults`` is true. Built outside any event loop;
    its commands run on whichever loop awaits them (one at a time). ``fence`` runs first in every
    batch's transaction and raises if this process may no longer write (another took over).
    """

    def __init__(
        self,
        engine: Engine,
        now: Callable[[], int] = now_ms,
        seed_defaults: bool = True,
        fence: Callable[[Connection], None] | None = None,
        open_limits: OpenOrderLimits = BINANCE_DEFAULTS,
        order_rate: OrderRateLimits = UNLIMITED,
    ) -> None:
        self.engine = engine
        self.now = now
        self._fence = fence
        self._writer = HeldConnection(engine)  # group commits follow one another on one connection
        self.open_limits = open_limits
        self.order_counter = OrderCounter(order_rate)
        if seed_defaults:
            with engine.begin() as conn:
                if not repo.load_markets(conn):
                    self._seed(conn, default_assets(), default_markets())
        # Told of each durable batch's events (streams); building them is skipped while empty.
        self.listeners: list[Callable[[ExchangeEvents], None]] = []
        # Whether anyone would read a batch's events now; while not, only the depth ids advance (the
        # full events cost a conversion of the batch on the loop).
        self.events_wanted: Callable[[], bool] = lambda: bool(self.listeners)
        self._events = EventBuilder(0)
        self.sequencer: Sequencer[tuple[Closed, ExchangeEvents | None], State] = Sequencer(
            close=self._close_batch,
            write=lambda closed: self._write(closed[0]),
            read=self._read,
            install=self._install,
            durable=self._durable,
        )
        self._install(self._read())

    # -- state -----------------------------------------------------------------------------
    @staticmethod
    def _seed(conn: Connection, assets: list[AssetSpec], markets: list[MarketSpec]) -> None:
        known = {**repo.load_assets(conn), **{a.code: a for a in assets}}
        for m in markets:
            check_exact(m, known)
        repo.save_assets(conn, assets)
        repo.save_markets(conn, markets)

    def _read(self) -> State:
        return read_state(self.engine, self.now())

    def _install(self, state: State) -> None:
        """Put a state read by :meth:`_read` in place (on the loop; forgets any unwritten effect)."""
        self.assets, self.markets, self.ledger, self.books = (
            state.assets,
            state.markets,
            state.ledger,
            state.books,
        )
        self.units = state.units
        self._open_ids = state.open_ids
        self._next_order_id, self._next_trade_id = state.next_order_id, state.next_trade_id
        self._next_agg_id, self._seq = state.next_agg_id, state.seq
        self.wallet = state.wallet
        self.lists, self._next_list_id = state.lists, state.next_list_id
        self._journal = Journal()
        self._events.reset(state.seq)

    def _close_batch(self) -> tuple[Closed, ExchangeEvents | None]:
        closed = self._journal.close(self.ledger)
        full = self.events_wanted()
        built = self._events.build(closed, self._seq, self.now(), self.books, self.markets, self.ledger, full)
        return closed, built

    def _durable(self, closed: tuple[Closed, ExchangeEvents | None]) -> None:
        if closed[1] is not None:  # built for every batch: the depth ids advance without listeners too
            for listener in self.listeners:
                listener(closed[1])

    def depth_update_id(self, symbol: str) -> int:
        """``lastUpdateId`` of a REST depth answer, consistent with the diff stream's ids."""
        return self._events.last_update_id(symbol)

    def _write(self, closed: Closed) -> None:
        """Convert a closed batch to records and write it in one transaction (in the writer's thread)."""
        batch = closed.batch()
        with self._writer.begin() as conn:
            if self._fence is not None:
                self._fence(conn)
            repo.write(conn, batch)

    def close(self) -> None:
        """Close the writer's connection (after a batch in flight); a later batch opens another."""
        self._writer.close()

    def add_markets(self, assets: list[AssetSpec], markets: list[MarketSpec]) -> None:
        """Add assets and markets (new codes and symbols only) and load them; only while idle."""
        if self.sequencer.busy:
            raise RuntimeError("markets are added while no command is being written")
        with self.engine.begin() as conn:
            self._seed(
                conn,
                [a for a in assets if a.code not in self.assets],
                [m for m in markets if m.symbol not in self.markets],
            )
        self._install(self._read())

    @contextmanager
    def _command(self) -> Iterator[Command]:
        """The mutation of one command: on success its effects join the open batch; on failure the
        open batch is abandoned and memory rebuilt (see :meth:`Sequencer.abort`)."""
        cx = self._begin()
        try:
            yield cx
        except BaseException as error:
            self._failed(cx, error)
            raise
        self._finish(cx)

    def _begin(self) -> Command:
        """:meth:`_command` spelled out, for the hot commands (a generator costs more than them):
        ``cx = _begin()``, mutate, ``_failed(cx, error)`` and re-raise on any error, ``_finish(cx)``."""
        self._seq += 1
        return Command(
            seq=self._seq, now=self.now(), next_trade_id=self._next_trade_id, next_agg_id=self._next_agg_id
        )

    def _failed(self, cx: Command, error: BaseException) -> None:
        if not isinstance(error, ExchangeError) or cx.orders or cx.withdrawals or self.ledger.pending:
            self.sequencer.abort(error)  # else a plain refusal: the ledger checks before it changes

    def _finish(self, cx: Command) -> None:
        self._next_trade_id, self._next_agg_id = cx.next_trade_id, cx.next_agg_id
        if cx.ended_lists:
            for list_id in cx.ended_lists:
                ended = self.lists.pop(list_id, None)
                if ended is not None:
                    ended.list_status_type = ended.list_order_status = "ALL_DONE"
                    ended.transaction_time = cx.now
                    cx.lists[list_id] = (ended, cx.lists.get(list_id, (ended, False))[1])
        self._journal.add(cx, self.ledger)
        open_ids = self._open_ids
        for o in cx.orders.values():
            key = (o.user_id, o.client_order_id)
            if o.status in OPEN:
                open_ids[key] = o.order_id
            elif open_ids.get(key) == o.order_id:
                del open_ids[key]

    async def _known(self, user_id: int) -> None:
        """Refuse a user id that has no account and is not in the database (callers skip the
        ``await`` when the ledger already has an account for it)."""

        def exists() -> bool:
            with self.engine.connect() as conn:
                return key_repo.user_by_id(conn, user_id) is not None

        if not await asyncio.to_thread(exists):
            raise InvalidParameter.invalid("user_id")

    def _current(self) -> None:
        """Memory reads refuse while memory may hold effects that will not be written."""
        if self.sequencer.stale:
            raise NotDurable()

    # -- wallet ----------------------------------------------------------------------------
    @exact_command
    async def credit(self, user_id: int, asset: str, amount: Decimal, actor: str) -> Balance:
        """Credit ``amount`` of ``asset`` to a user from the external account (deposit, faucet, seed).

        Refused unless the ledger holds it exactly: at most the asset's decimals, below 10**20,
        and the balances it grows stay below 10**20."""
        if user_id not in self.ledger.accounts:
            await self._known(user_id)
        await self.sequencer.ready()
        if asset not in self.assets:
            raise InvalidParameter.invalid("asset")
        amount = ledger_amount("amount", amount, self.assets[asset].precision)
        acc = self.ledger.open_account(user_id)
        with self._command():
            self.ledger.credit(acc, asset, amount, actor[:128])
        balance = Balance(
            asset=asset, free=self.ledger.free(acc, asset), locked=self.ledger.locked(acc, asset)
        )
        await self.sequencer.applied()
        return balance

    def balances(self, user_id: int) -> list[Balance]:
        """Every asset, zero balances included, sorted by code (from memory)."""
        return [
            Balance(asset=a, free=from_units(free), locked=from_units(locked))
            for a, free, locked in self.balance_units(user_id)
        ]

    def balance_units(self, user_id: int) -> list[tuple[str, int, int]]:
        """:meth:`balances` as (asset, free, locked) ledger units: what an answer that only prints
        them needs (``account``, through :func:`~keyplane.exchange.unit_text.units_text`)."""
        self._current()
        return self.ledger.units_of(self.ledger.account_of(user_id), self.assets)

    # -- orders ----------------------------------------------------------------------------
    async def place_order(self, req: OrderRequest) -> PlacedOrder:
        """Validate, lock funds, match and (for a GTC remainder) rest a new order.

        Not under :func:`exact_command`: its ``Decimal`` work is :func:`validate` (exact itself) and
        the conversions of :mod:`keyplane.exchange.units` (exact contexts of their own); the rest
        is integers. In three steps so that a command placing an order after another change (a
        cancel-replace) runs the same code: :meth:`_await_new` (what needs the database),
        :meth:`_check_new` (refusals, no change), :meth:`_place_new` (the mutation)."""
        avg = await self._await_new(req)
        new = self._check_new(req, avg)
        cx = self._begin()
        try:
            order, fills = self._place_new(new, cx)
        except BaseException as error:
            self._failed(cx, error)
            raise
        self._finish(cx)
        placed = PlacedOrder(order=order.record(), fills=fills)
        await self.sequencer.applied()
        return placed

    async def _await_new(self, req: OrderRequest) -> Decimal:
        """A new order's waits: the 5-minute average (MARKET by quantity), a user not yet in the
        ledger, memory being rebuilt. Returns the average (0 if not needed)."""
        market = self._market(req.symbol)
        avg = ZERO
        if (req.type is MARKET and req.quantity is not None) or (
            (req.type is STOP_LOSS or req.type is TAKE_PROFIT) and req.stop_price is None
        ):
            avg = await asyncio.to_thread(self._avg_price_locked, market.symbol)
        if req.user_id not in self.ledger.accounts:
            await self._known(req.user_id)
        if self.sequencer.stale:
            await self.sequencer.ready()
        return avg

    def _check_new(self, req: OrderRequest, avg: Decimal, freed: str = "") -> NewOrder:
        """Every refusal of a new order, against memory as it is now; changes nothing.
        ``freed``: a client order id that the same command has just released (cancel-replace)."""
        market = self._market(req.symbol)
        book = self.books[market.symbol]
        units = book.units
        v = validate(req, market, avg or None)
        # Into the market's integer units; a quoteOrderQty finer than the quote asset is refused here.
        price, lots = units.ticks(v.price), units.lots(v.quantity)
        quote = units.quote_units(v.quote_order_qty) if v.quote_order_qty else 0
        if (req.user_id, v.client_order_id) in self._open_ids and v.client_order_id != freed:
            raise DuplicateOrder()
        self.open_limits.check_room(book.mine(req.user_id), 1, 1 if v.type in CONDITIONAL else 0)
        if self.order_counter.counting:
            self.order_counter.check(req.user_id, 1, self.now())
        ledger = self.ledger
        acc = ledger.open_account(req.user_id)
        asset = lock_asset(units, v.side)
        free = ledger.free_units(acc, asset)
        conditional = v.type.is_conditional
        stop = delta = 0
        if conditional:
            stop, delta = units.ticks(v.stop_price), v.trailing_delta
            check_not_triggered(v.type, v.side, stop, book)
            need = conditional_lock(v.type, v.side, price, lots, stop, delta, book)
        else:
            need = lock_needed(v.side, v.type, price, lots, quote, book)
        if need > free:
            raise InsufficientBalance()
        if v.type is LIMIT_MAKER:
            best = book.opposite(v.side).best()
            if best is not None and (best.price <= price if v.side is BUY else best.price >= price):
                raise WouldTakeAsMaker()
        return NewOrder(req, v, book, acc, asset, price, lots, quote, need, stop, delta)

    def _place_new(self, new: NewOrder, cx: Command) -> tuple[LiveOrder, list[Fill]]:
        """Lock, then match and rest (or end) a checked order, or set a conditional one aside, as
        part of command ``cx``; then what its trades trigger. Returns the order and its own fills
        (those of the orders it triggered come after them in ``cx.fills``)."""
        v, book, ledger = new.v, new.book, self.ledger
        conditional = v.type.is_conditional
        order = LiveOrder(
            order_id=self._next_order_id,
            client_order_id=v.client_order_id,
            user_id=new.req.user_id,
            side=v.side,
            type=v.type,
            time_in_force=v.time_in_force,
            price=new.price,
            orig_qty=new.lots,
            orig_quote=new.quote,
            stp=v.stp_mode,
            time=cx.now,
            working_time=PENDING if conditional else cx.now,
            units=book.units,
            stop_price=new.stop,
            trailing_delta=new.delta,
        )
        if new.delta and not new.stop:  # a trailing order without a stop price tracks from now on
            order.trailing_time, order.trail_price = cx.now, book.last_price
        self._next_order_id += 1
        cx.new_order_ids.add(order.order_id)
        cx.touch(order)
        if self.order_counter.counting:
            self.order_counter.add(order.user_id, 1, cx.now)
        need = new.need
        # A MARKET order whose cost is unknown until it matches locks all it may spend.
        lock = (
            ledger.free_units(new.acc, new.asset)
            if v.type is MARKET
            and not conditional
            and need
            and not (v.side is BUY and v.quote_order_qty)
            and not (v.side is SELL and v.quantity)
            else need
        )
        ledger.lock_units(new.acc, new.asset, lock, order.order_id)
        order.locked = lock
        if conditional:
            book.stops[order.order_id] = order
        else:
            execute(order, book, ledger, cx)
        fills = cx.fills[:]
        if cx.trades or book.waiting:
            run_after(book, ledger, cx)
        return order, fills

    async def cancel_order(
        self, user_id: int, symbol: str, order_id: int | None = None, orig_client_order_id: str | None = None
    ) -> Order:
        """Cancel one open order by id or client id; -2011 if it is not open (or not yours).
        Integers only, converted exactly on the way out: no :func:`exact_command` needed."""
        if self.sequencer.stale:
            await self.sequencer.ready()
        self._market(symbol)
        if order_id is None and orig_client_order_id is None:
            raise InvalidParameter.neither("orderId", "origClientOrderId")
        order = self._open_order(user_id, symbol, order_id, orig_client_order_id)
        if order is None:
            raise UnknownOrder()
        cx = self._begin()
        try:
            self._cancel(order, cx)
        except BaseException as error:
            self._failed(cx, error)
            raise
        self._finish(cx)
        cancelled = order.record()
        await self.sequencer.applied()
        return cancelled

    def _open_order(
        self, user_id: int, symbol: str, order_id: int | None, orig_client_order_id: str | None
    ) -> LiveOrder | None:
        oid = order_id if order_id is not None else self._open_ids.get((user_id, orig_client_order_id or ""))
        book = self.books[symbol]
        order = None if oid is None else book.by_id.get(oid) or book.stops.get(oid) or book.waiting.get(oid)
        if (
            order is None
            or order.user_id != user_id
            or (orig_client_order_id is not None and order.client_order_id != orig_client_order_id)
        ):
            return None
        return order

    def _cancel(self, order: LiveOrder, cx: Command) -> None:
        book = self.books[order.symbol]
        if book.stops.pop(order.order_id, None) is None and book.waiting.pop(order.order_id, None) is None:
            book.remove(order)
        order.status = CANCELED
        release(order, self.ledger, cx)
        other = order.sibling
        if other is not None:  # cancelling one leg of an OCO cancels the list (Binance)
            order.sibling = other.sibling = None
            self._cancel(other, cx)
            cx.ended_lists.append(order.order_list_id)
        for linked in (order.follower, order.leader):  # an OTO: either order cancelled cancels both
            if linked is not None:
                order.follower = order.leader = linked.follower = linked.leader = None
                if linked.status in OPEN:
                    self._cancel(linked, cx)
                cx.ended_lists.append(order.order_list_id)

    @exact_command
    async def cancel_open_orders(self, user_id: int, symbol: str) -> list[Order]:
        """Cancel every open order of the user on ``symbol`` in one command; [] if none."""
        await self.sequencer.ready()
        self._market(symbol)
        book = self.books[symbol]
        mine = sorted(book.mine(user_id).values(), key=lambda o: o.order_id)
        if not mine:
            return []
        with self._command() as cx:
            for o in mine:
                if o.status in OPEN:  # not the other leg of an OCO cancelled just before
                    self._cancel(o, cx)
        cancelled = [o.record() for o in mine]
        await self.sequencer.applied()
        return cancelled

    async def get_order(
        self, user_id: int, symbol: str, order_id: int | None = None, orig_client_order_id: str | None = None
    ) -> Order:
        """An open order from memory; any other from committed rows."""
        self._market(symbol)
        self._current()
        if order_id is None and orig_client_order_id is None:
            raise InvalidParameter.neither("orderId", "origClientOrderId")
        order = self._open_order(user_id, symbol, order_id, orig_client_order_id)
        if order is not None:
            return order.record()

        def committed() -> Order | None:
            with self.engine.connect() as conn:
                return repo.find_order(conn, user_id, symbol, order_id, orig_client_order_id)

        found = await asyncio.to_thread(committed)
        if found is None:
            raise NoSuchOrder()
        return found
