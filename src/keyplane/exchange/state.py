"""What the exchange holds in memory, and how it is read back from the database.

Read on start and after a failed batch (in a worker thread); the exchange then puts it in place
on the event loop in one step, so no command ever sees half of an old and half of a new state.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, select

from keyplane.exchange.book import OrderBook
from keyplane.exchange.ledger import Ledger
from keyplane.exchange.markets import AssetSpec, MarketSpec, exact_lots, load_assets, load_markets
from keyplane.exchange.orders import row_order
from keyplane.store.exchange_tables import ex_accounts, ex_agg_trades, ex_entries, ex_orders, ex_trades


@dataclasses.dataclass(kw_only=True, slots=True)
class State:
    """Everything the exchange holds in memory, as read from the database."""

    assets: dict[str, AssetSpec]
    markets: dict[str, MarketSpec]
    ledger: Ledger
    books: dict[str, OrderBook]
    open_ids: dict[tuple[int, str], int]
    next_order_id: int
    next_trade_id: int
    next_agg_id: int
    seq: int


def read_state(engine: Engine) -> State:
    """Markets, balances, books and counters from the database (any thread)."""
    with engine.connect() as conn:
        assets = load_assets(conn)
        ledger = Ledger({code: a.precision for code, a in assets.items()})
        ledger.load(conn)
        state = State(
            assets=assets,
            markets={s: exact_lots(m, assets) for s, m in load_markets(conn).items()},
            ledger=ledger,
            books={},
            open_ids={},
            next_order_id=0,
            next_trade_id=0,
            next_agg_id=0,
            seq=0,
        )
        state.books = {s: OrderBook(s) for s in state.markets}
        rows = conn.execute(select(ex_orders).where(ex_orders.c.is_open.is_(True)).order_by(ex_orders.c.id))
        for r in rows.mappings():
            o = row_order(r)
            state.books[o.symbol].add(o)
            state.open_ids[(o.user_id, o.client_order_id)] = o.order_id

        def top(col: ColumnElement[Any]) -> int:
            return int(conn.execute(select(func.coalesce(func.max(col), 0))).scalar_one())

        state.next_order_id = top(ex_orders.c.id) + 1
        state.next_trade_id = top(ex_trades.c.id) + 1
        state.next_agg_id = top(ex_agg_trades.c.id) + 1
        state.seq = max(top(ex_orders.c.update_seq), top(ex_entries.c.txn))
    _, _, system_accounts = ledger.take()
    if system_accounts:
        with engine.begin() as conn:
            conn.execute(
                ex_accounts.insert(),
                [{"id": a.id, "kind": a.kind.value, "user_id": a.user_id} for a in system_accounts],
            )
    return state
