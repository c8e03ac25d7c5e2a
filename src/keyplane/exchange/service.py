"""``Exchange``: the facade the HTTP layer calls; one writer, every command committed before it returns.

Concurrency: one ``threading.RLock`` serialises every command across all markets (a fill moves
balances of two assets, so a global lock is the simplest correct choice; it also guards reads of
the in-memory books). Each command mutates the in-memory books and ledger, then writes all its
effects in one database transaction; if anything fails after the first mutation, the in-memory
state is rebuilt from the database, so a refused or failed command changes nothing. Queries that
only need committed rows read the database without the lock.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, bindparam, func, select, update

from keyplane.clock import now_ms
from keyplane.exchange.amounts import exact, ledger_amount
from keyplane.exchange.book import OrderBook
from keyplane.exchange.errors import (
    DuplicateOrder,
    InsufficientBalance,
    InvalidParameter,
    UnknownOrder,
    WouldTakeAsMaker,
)
from keyplane.exchange.ledger import Ledger
from keyplane.exchange.markets import (
    AssetSpec,
    MarketSpec,
    check_exact,
    default_assets,
    default_markets,
    exact_lots,
    load_assets,
    load_markets,
    save_assets,
    save_markets,
)
from keyplane.exchange.matching import (
    Command,
    crosses,
    fillable_qty,
    lock_asset,
    lock_needed,
    match,
    release,
)
from keyplane.exchange.models import (
    Balance,
    Order,
    OrderStatus,
    OrderType,
    PlacedOrder,
    Side,
    TimeInForce,
)
from keyplane.exchange.orders import (
    OrderRequest,
    order_row,
    row_order,
    validate,
)
from keyplane.exchange.queries import ExchangeQueries
from keyplane.store.exchange_tables import ex_agg_trades, ex_entries, ex_orders, ex_trades
from keyplane.store.tables import users

ZERO = Decimal(0)


class Exchange(ExchangeQueries):
    """Markets, balances, orders and market data over one database.

    ``now`` is the millisecond clock (injected for tests). On an empty database the default
    assets and markets are seeded when ``seed_defaults`` is true.
    """

    def __init__(self, engine: Engine, now: Callable[[], int] = now_ms, seed_defaults: bool = True) -> None:
        self.engine = engine
        self.now = now
        self._lock = threading.RLock()
        if seed_defaults:
            with engine.begin() as conn:
                if not load_markets(conn):
                    self._seed(conn, default_assets(), default_markets())
        self._load()

    # -- state -----------------------------------------------------------------------------
    @staticmethod
    def _seed(conn: Connection, assets: list[AssetSpec], markets: list[MarketSpec]) -> None:
        known = {**load_assets(conn), **{a.code: a for a in assets}}
        for m in markets:
            check_exact(m, known)
        save_assets(conn, assets)
        save_markets(conn, markets)

    def _load(self) -> None:
        """(Re)build markets, balances, books and counters from the database."""
        with self.engine.connect() as conn:
            self.assets = load_assets(conn)
            self.markets = {s: exact_lots(m, self.assets) for s, m in load_markets(conn).items()}
            self.ledger = Ledger({code: a.precision for code, a in self.assets.items()})
            self.ledger.load(conn)
            self.books = {s: OrderBook(s) for s in self.markets}
            self._open_ids: dict[tuple[int, str], int] = {}
            rows = conn.execute(
                select(ex_orders).where(ex_orders.c.is_open.is_(True)).order_by(ex_orders.c.id)
            )
            for r in rows.mappings():
                o = row_order(r)
                self.books[o.symbol].add(o)
                self._open_ids[(o.user_id, o.client_order_id)] = o.order_id

            def top(col: ColumnElement[Any]) -> int:
                return int(conn.execute(select(func.coalesce(func.max(col), 0))).scalar_one())

            self._next_order_id = top(ex_orders.c.id) + 1
            self._next_trade_id = top(ex_trades.c.id) + 1
            self._next_agg_id = top(ex_agg_trades.c.id) + 1
            self._seq = max(top(ex_orders.c.update_seq), top(ex_entries.c.txn))
        if self.ledger.has_unwritten_accounts:
            with self._command() as _cx:
                pass

    def add_markets(self, assets: list[AssetSpec], markets: list[MarketSpec]) -> None:
        """Add assets and markets (new codes and symbols only) and load them."""
        with self._lock, self.engine.begin() as conn:
            self._seed(
                conn,
                [a for a in assets if a.code not in self.assets],
                [m for m in markets if m.symbol not in self.markets],
            )
        with self._lock:
            self._load()

    @contextmanager
    def _command(self) -> Iterator[Command]:
        """Run a mutation: on success write everything in one transaction; on failure rebuild."""
        self._seq += 1
        cx = Command(self._seq, self.now(), self._next_trade_id, self._next_agg_id)
        try:
            yield cx
            with self.engine.begin() as conn:
                self.ledger.flush(conn, cx.seq, cx.now)
                self._write(conn, cx)
        except BaseException:
            self._load()
            raise
        self.ledger.committed()
        self._next_trade_id, self._next_agg_id = cx.next_trade_id, cx.next_agg_id
        for o in cx.orders.values():
            key = (o.user_id, o.client_order_id)
            if o.status.is_open:
                self._open_ids[key] = o.order_id
            elif self._open_ids.get(key) == o.order_id:
                del self._open_ids[key]

    def _write(self, conn: Connection, cx: Command) -> None:
        new = [order_row(o, cx.seq) for o in cx.orders.values() if o.order_id in cx.new_order_ids]
        old = [order_row(o, cx.seq) for o in cx.orders.values() if o.order_id not in cx.new_order_ids]
        if new:
            conn.execute(ex_orders.insert(), new)
        if old:
            cols = (
                "executed_qty",
                "cummulative_quote_qty",
                "locked_amount",
                "status",
                "is_open",
                "update_time",
                "update_seq",
            )
            conn.execute(
                update(ex_orders)
                .where(ex_orders.c.id == bindparam("o_id"))
                .values({c: bindparam("o_" + c) for c in cols}),
                [{"o_id": r["id"], **{"o_" + c: r[c] for c in cols}} for r in old],
            )
        if cx.trades:
            conn.execute(ex_trades.insert(), cx.trades)
        if cx.aggs:
            conn.execute(
                ex_agg_trades.insert(), [{k: v for k, v in a.items() if k != "_taker"} for a in cx.aggs]
            )

    def _account(self, user_id: int) -> int:
        acc = self.ledger.account_of(user_id)
        if acc is not None:
            return acc
        with self.engine.connect() as conn:
            if conn.execute(select(users.c.id).where(users.c.id == user_id)).first() is None:
                raise InvalidParameter.invalid("user_id")
        return self.ledger.open_account(user_id)

    # -- wallet ----------------------------------------------------------------------------
    @exact
    def credit(self, user_id: int, asset: str, amount: Decimal, actor: str) -> Balance:
        """Credit ``amount`` of ``asset`` to a user from the external account (deposit, faucet, seed).

        Refused unless the ledger holds it exactly: at most the asset's decimals, below 10**20,
        and the balances it grows stay below 10**20."""
        if asset not in self.assets:
            raise InvalidParameter.invalid("asset")
        amount = ledger_amount("amount", amount, self.assets[asset].precision)
        with self._lock:
            acc = self._account(user_id)
            with self._command():
                self.ledger.credit(acc, asset, amount, actor[:128])
            return Balance(asset, self.ledger.free(acc, asset), self.ledger.locked(acc, asset))

    def balances(self, user_id: int) -> list[Balance]:
        """Every asset, zero balances included, sorted by code."""
        with self._lock:
            acc = self.ledger.account_of(user_id)
            if acc is None:
                return [Balance(a, ZERO, ZERO) for a in self.assets]
            return [Balance(a, self.ledger.free(acc, a), self.ledger.locked(acc, a)) for a in self.assets]

    # -- orders ----------------------------------------------------------------------------
    @exact
    def place_order(self, req: OrderRequest) -> PlacedOrder:
        """Validate, lock funds, match and (for a GTC remainder) rest a new order."""
        with self._lock:
            market = self._market(req.symbol)
            is_market = getattr(req.type, "value", req.type) == OrderType.MARKET.value
            avg = self._avg_price_locked(market.symbol) if is_market and req.quantity is not None else ZERO
            v = validate(req, market, avg or None)
            if (req.user_id, v.client_order_id) in self._open_ids:
                raise DuplicateOrder()
            book = self.books[market.symbol]
            acc = self._account(req.user_id)
            asset = lock_asset(market, v.side)
            free = self.ledger.free(acc, asset)
            need = lock_needed(v.side, v.type, v.price, v.quantity, v.quote_order_qty, book, market)
            if need > free:
                raise InsufficientBalance()
            best = book.opposite(v.side).best()
            if (
                v.type is OrderType.LIMIT_MAKER
                and best is not None
                and (best.price <= v.price if v.side is Side.BUY else best.price >= v.price)
            ):
                raise WouldTakeAsMaker()
            with self._command() as cx:
                order = Order(
                    self._next_order_id,
                    v.client_order_id,
                    req.user_id,
                    market.symbol,
                    v.side,
                    v.type,
                    v.time_in_force,
                    v.price,
                    v.quantity,
                    v.quote_order_qty,
                    ZERO,
                    ZERO,
                    OrderStatus.NEW,
                    v.stp_mode,
                    cx.now,
                    cx.now,
                    cx.now,
                )
                self._next_order_id += 1
                cx.new_order_ids.add(order.order_id)
                cx.touch(order)
                # A MARKET order whose cost is unknown until it matches locks all it may spend.
                lock = (
                    free
                    if v.type is OrderType.MARKET
                    and need
                    and not (v.side is Side.BUY and v.quote_order_qty)
                    and not (v.side is Side.SELL and v.quantity)
                    else need
                )
                self.ledger.lock(acc, asset, lock, order.order_id)
                order.locked_amount = lock
                self._execute(order, book, market, cx)
            return PlacedOrder(dataclasses.replace(order), list(cx.fills))

    def _execute(self, order: Order, book: OrderBook, market: MarketSpec, cx: Command) -> None:
        if order.time_in_force is TimeInForce.FOK and fillable_qty(book, order) < order.orig_qty:
            order.status = OrderStatus.EXPIRED
            release(order, market, self.ledger, cx)
            return
        met_quote = False
        if order.type is not OrderType.LIMIT_MAKER:
            best = book.opposite(order.side).best()
            if best is not None and crosses(order, best.price):
                met_quote = match(order, book, market, self.ledger, cx)
        if order.orig_quote_order_qty:
            order.orig_qty = order.executed_qty
        if order.status is OrderStatus.EXPIRED_IN_MATCH:
            pass
        elif order.executed_qty > 0 and (
            order.remaining_qty == 0 and not order.orig_quote_order_qty or met_quote
        ):
            order.status = OrderStatus.FILLED
        elif order.type is not OrderType.MARKET and order.time_in_force is TimeInForce.GTC:
            order.status = OrderStatus.PARTIALLY_FILLED if order.executed_qty else OrderStatus.NEW
            book.add(order)
            cx.touch(order)
            return
        else:
            order.status = OrderStatus.EXPIRED
        release(order, market, self.ledger, cx)

    @exact
    def cancel_order(
        self, user_id: int, symbol: str, order_id: int | None = None, orig_client_order_id: str | None = None
    ) -> Order:
        """Cancel one open order by id or client id; -2011 if it is not open (or not yours)."""
        with self._lock:
            market = self._market(symbol)
            if order_id is None and orig_client_order_id is None:
                raise InvalidParameter(
                    "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!", -1102
                )
            oid = (
                order_id
                if order_id is not None
                else self._open_ids.get((user_id, orig_client_order_id or ""))
            )
            order = self.books[symbol].by_id.get(oid) if oid is not None else None
            if (
                order is None
                or order.user_id != user_id
                or (orig_client_order_id is not None and order.client_order_id != orig_client_order_id)
            ):
                raise UnknownOrder()
            with self._command() as cx:
                self._cancel(order, market, cx)
            return dataclasses.replace(order)

    def _cancel(self, order: Order, market: MarketSpec, cx: Command) -> None:
        self.books[market.symbol].remove(order)
        order.status = OrderStatus.CANCELED
        release(order, market, self.ledger, cx)

    @exact
    def cancel_open_orders(self, user_id: int, symbol: str) -> list[Order]:
        """Cancel every open order of the user on ``symbol`` in one transaction; [] if none."""
        with self._lock:
            market = self._market(symbol)
            mine = [o for o in self.books[symbol].by_id.values() if o.user_id == user_id]
            mine.sort(key=lambda o: o.order_id)
            if not mine:
                return []
            with self._command() as cx:
                for o in mine:
                    self._cancel(o, market, cx)
            return [dataclasses.replace(o) for o in mine]
