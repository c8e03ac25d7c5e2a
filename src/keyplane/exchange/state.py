"""What the exchange holds in memory, and how it is read back from the database.

Read on start and after a failed batch (in a worker thread); the exchange then puts it in place
on the event loop in one step, so no command ever sees half of an old and half of a new state.
"""

from __future__ import annotations

import dataclasses
import logging

from sqlalchemy import Engine

from keyplane.exchange.book import LiveOrder, OrderBook
from keyplane.exchange.errors import InexactAmount
from keyplane.exchange.ledger import Ledger
from keyplane.exchange.markets import AssetSpec, MarketSpec, exact_lots
from keyplane.exchange.models import PENDING, OrderList, OrderStatus
from keyplane.exchange.units import MarketUnits
from keyplane.exchange.wallet.transfers import WalletMemory
from keyplane.store import amendment_repo, prevented_repo, wallet_transfer_repo
from keyplane.store import exchange_repo as repo

log = logging.getLogger(__name__)


@dataclasses.dataclass(kw_only=True, slots=True)
class State:
    """Everything the exchange holds in memory, as read from the database."""

    assets: dict[str, AssetSpec]
    markets: dict[str, MarketSpec]
    units: dict[str, MarketUnits]
    ledger: Ledger
    books: dict[str, OrderBook]
    open_ids: dict[tuple[int, str], int]
    next_order_id: int
    next_trade_id: int
    next_agg_id: int
    seq: int
    wallet: WalletMemory
    lists: dict[int, OrderList]  # the open order lists
    next_list_id: int


def read_state(engine: Engine, now: int) -> State:
    """Markets, balances, books, counters and open withdrawals from the database (any thread)."""
    with engine.connect() as conn:
        assets = repo.load_assets(conn)
        markets = {s: exact_lots(m, assets) for s, m in repo.load_markets(conn).items()}
        ledger = Ledger(
            {code: a.precision for code, a in assets.items()},
            accounts=repo.load_accounts(conn),
            balances=repo.load_balances(conn),
        )
        units = {s: MarketUnits(m, assets) for s, m in markets.items()}
        books = {s: OrderBook(u) for s, u in units.items()}
        open_ids: dict[tuple[int, str], int] = {}
        live_orders: dict[int, LiveOrder] = {}
        for o in sorted(repo.open_orders(conn), key=lambda o: (o.queue, o.order_id)):
            try:
                live = LiveOrder.of(o, units[o.symbol])
            except InexactAmount:
                # Stored before its market's lots were coarsened (exact_lots): it cannot be matched
                # exactly. Left out of the book, its funds stay locked until an operator acts.
                log.error(
                    "open order %s on %s is off its market's lot step; it is not in the book",
                    o.order_id,
                    o.symbol,
                )
                continue
            if o.status is OrderStatus.PENDING_NEW:
                books[o.symbol].waiting[o.order_id] = live  # an OTO's pending order
            elif o.working_time == PENDING and o.type.is_conditional:
                books[o.symbol].stops[o.order_id] = live  # waiting for its trigger, not in the book
            else:
                books[o.symbol].add(live)
            books[o.symbol].next_queue = max(books[o.symbol].next_queue, o.queue + 1)
            open_ids[(o.user_id, o.client_order_id)] = o.order_id
            live_orders[o.order_id] = live
        for order_id, amends in amendment_repo.counts_of_open_orders(conn).items():
            if order_id in live_orders:
                live_orders[order_id].amends = amends
        for symbol, last_id in prevented_repo.last_ids(conn).items():
            if symbol in books:
                books[symbol].next_prevented_id = last_id + 1
        for symbol, book in books.items():
            last_price = repo.last_price(conn, symbol)
            try:
                book.last_price = book.units.ticks(last_price) if last_price is not None else 0
            except InexactAmount:  # a trade from before the market's ticks were coarsened
                book.last_price = 0
        lists = {lst.list_id: lst for lst in repo.open_order_lists(conn)}
        for lst in lists.values():
            book = books[lst.symbol]
            legs = [book.by_id.get(i) or book.stops.get(i) or book.waiting.get(i) for i, _ in lst.orders]
            if len(legs) == 3:  # an OTOCO: the working order, then its OCO pair (above, below)
                working, above, below = legs
                if above is not None and below is not None:
                    above.sibling, below.sibling = below, above
                    if working is not None:
                        working.follower, above.leader = above, working
            elif len(legs) == 2 and legs[0] is not None and legs[1] is not None:
                if lst.contingency_type == "OTO":
                    legs[0].follower, legs[1].leader = legs[1], legs[0]
                else:
                    legs[0].sibling, legs[1].sibling = legs[1], legs[0]
        last = repo.last_ids(conn)
        wallet = wallet_transfer_repo.load_memory(conn, now)
    _, _, system_accounts = ledger.take()
    if system_accounts:
        with engine.begin() as conn:
            repo.insert_accounts(conn, system_accounts)
    return State(
        assets=assets,
        markets=markets,
        units=units,
        ledger=ledger,
        books=books,
        open_ids=open_ids,
        next_order_id=last.order_id + 1,
        next_trade_id=last.trade_id + 1,
        next_agg_id=last.agg_id + 1,
        seq=last.seq,
        wallet=wallet,
        lists=lists,
        next_list_id=last.list_id + 1,
    )
