"""Prevented matches (self-trade prevention) as rows: written with their batch, read by
``GET /api/v3/myPreventedMatches`` and, for each market's next id, on rebuild."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, func, or_, select

from keyplane.exchange.markets import StpMode
from keyplane.exchange.prevented import PreventedMatch
from keyplane.store.bulk import Bulk
from keyplane.store.exchange_tables import ex_prevented_matches
from keyplane.store.types import money

COLUMNS = (
    "symbol",
    "prevented_match_id",
    "taker_order_id",
    "maker_order_id",
    "user_id",
    "price",
    "maker_prevented_qty",
    "time",
)
INSERT = Bulk(ex_prevented_matches, (*COLUMNS, "mode"))


def write(conn: Connection, prevented: Sequence[PreventedMatch]) -> None:
    d = conn.dialect
    INSERT.run(
        conn,
        [
            (
                m.symbol,
                m.prevented_match_id,
                m.taker_order_id,
                m.maker_order_id,
                m.user_id,
                money(m.price, d),
                money(m.maker_prevented_qty, d),
                m.time,
                m.mode.value,
            )
            for m in prevented
        ],
    )


def last_ids(conn: Connection) -> dict[str, int]:
    """Each market's highest prevented-match id (markets without one are absent)."""
    t = ex_prevented_matches
    rows = conn.execute(select(t.c.symbol, func.max(t.c.prevented_match_id)).group_by(t.c.symbol))
    return {str(symbol): int(last) for symbol, last in rows}


def find(
    conn: Connection,
    user_id: int,
    symbol: str,
    *,
    prevented_match_id: int | None = None,
    order_id: int | None = None,
    from_id: int | None = None,
    limit: int = 500,
) -> list[PreventedMatch]:
    """The user's prevented matches on ``symbol``: one by id, or those of one order (as taker or
    maker) from ``from_id`` on, oldest first."""
    t = ex_prevented_matches
    q = select(t).where(t.c.user_id == user_id, t.c.symbol == symbol)
    if prevented_match_id is not None:
        q = q.where(t.c.prevented_match_id == prevented_match_id)
    if order_id is not None:
        q = q.where(or_(t.c.taker_order_id == order_id, t.c.maker_order_id == order_id))
    if from_id is not None:
        q = q.where(t.c.prevented_match_id >= from_id)
    rows = conn.execute(q.order_by(t.c.prevented_match_id).limit(limit)).mappings()
    return [PreventedMatch(**{c: r[c] for c in COLUMNS}, mode=StpMode(r["mode"])) for r in rows]
