"""Order amendments (amend keepPriority) as rows: written with their batch, read by
``GET /api/v3/order/amendments``.

Why a table of their own: an amended order's row holds only its latest quantity and client id,
while Binance answers every amendment of an order (old and new quantity and client id, when).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, func, select, update

from keyplane.exchange.amendments import Amendment
from keyplane.store.exchange_tables import ex_order_amendments, ex_orders

COLUMNS = (
    "execution_id",
    "order_id",
    "user_id",
    "symbol",
    "orig_client_order_id",
    "new_client_order_id",
    "orig_qty",
    "new_qty",
    "time",
)


def write(conn: Connection, amends: Sequence[Amendment]) -> None:
    """Record the batch's amendments and put the orders' new quantity and client id in their rows
    (in order: an order amended twice in a batch ends with the second)."""
    if not amends:
        return
    conn.execute(ex_order_amendments.insert(), [{c: getattr(a, c) for c in COLUMNS} for a in amends])
    for a in amends:
        conn.execute(
            update(ex_orders)
            .where(ex_orders.c.id == a.order_id)
            .values(orig_qty=a.new_qty, client_order_id=a.new_client_order_id)
        )


def counts_of_open_orders(conn: Connection) -> dict[int, int]:
    """How often each open order was amended (read into memory on rebuild: MAX_NUM_ORDER_AMENDS)."""
    t, o = ex_order_amendments, ex_orders
    q = (
        select(t.c.order_id, func.count())
        .join(o, o.c.id == t.c.order_id)
        .where(o.c.is_open.is_(True))
        .group_by(t.c.order_id)
    )
    return {int(order_id): int(count) for order_id, count in conn.execute(q)}


def amendments(
    conn: Connection, user_id: int, symbol: str, order_id: int, from_execution_id: int | None, limit: int
) -> list[Amendment]:
    """The user's amendments of one order, oldest first, from ``from_execution_id`` on."""
    t = ex_order_amendments
    q = select(t).where(t.c.user_id == user_id, t.c.symbol == symbol, t.c.order_id == order_id)
    if from_execution_id is not None:
        q = q.where(t.c.execution_id >= from_execution_id)
    rows = conn.execute(q.order_by(t.c.execution_id).limit(limit)).mappings()
    return [Amendment(**{c: r[c] for c in COLUMNS}, next_trade_id=0) for r in rows]
