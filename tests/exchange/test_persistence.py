"""The database is the record: schema matches the tables, restarts lose nothing, threads are safe."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, Table, inspect

from keyplane.exchange.errors import ExchangeError
from keyplane.exchange.models import OrderStatus, OrderType, Side, TimeInForce
from keyplane.exchange.orders import OrderRequest
from keyplane.exchange.service import Exchange
from keyplane.store.exchange_tables import EXCHANGE_TABLES
from keyplane.store.tables import metadata
from tests.exchange.conftest import Clock, make_users
from tests.exchange.orders import order
from tests.support.aio import run


def _table_of(item: Any) -> str:
    """The table an Alembic autogenerate diff item is about."""
    if isinstance(item, list):  # modify_* ops: [(op, schema, table, column, ...)]
        return str(item[0][2])
    obj = item[1]
    if isinstance(obj, Table):
        return str(obj.name)
    table = getattr(obj, "table", None)
    return str(table.name) if table is not None else str(item[2])


def test_migration_creates_exactly_the_exchange_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    names = {t.name for t in EXCHANGE_TABLES}
    assert [d for d in diff if _table_of(d) in names] == []
    assert names <= set(inspect(engine).get_table_names())


def test_restart_rebuilds_books_balances_and_id_counters(
    engine: Engine, ex: Exchange, clock: Clock, alice: int, bob: int
) -> None:
    run(ex.place_order(order(alice, "BTCUSDT", "SELL", 1, 30000)))
    run(ex.place_order(order(bob, "BTCUSDT", "BUY", "0.3", 30000)))
    run(
        ex.place_order(
            OrderRequest(
                user_id=bob,
                symbol="BTCUSDT",
                side=Side.BUY,
                type=OrderType.LIMIT,
                quantity=D("0.2"),
                price=D(29000),
                time_in_force=TimeInForce.GTC,
                client_order_id="b",
            )
        )
    )
    again = Exchange(engine, now=clock)
    assert {s: b.snapshot() for s, b in again.books.items()} == {s: b.snapshot() for s, b in ex.books.items()}
    assert again.balances(alice) == ex.balances(alice) and again.balances(bob) == ex.balances(bob)
    nxt = run(again.place_order(order(bob, "BTCUSDT", "BUY", "0.1", 30000))).order
    assert nxt.order_id == 4 and nxt.status is OrderStatus.FILLED
    assert [t.id for t in again.recent_trades("BTCUSDT")] == [1, 2]
    assert run(again.cancel_order(bob, "BTCUSDT", orig_client_order_id="b")).status is OrderStatus.CANCELED


def test_concurrent_callers_are_serialised_without_losing_money(engine: Engine, ex: Exchange) -> None:
    uids = make_users(engine, "t0", "t1", "t2", "t3")
    for u in uids:
        run(ex.credit(u, "USDT", D(10000), "test"))
        run(ex.credit(u, "BTC", D(1), "test"))

    async def trader(i: int) -> None:
        for k in range(15):
            side = "BUY" if (i + k) % 2 else "SELL"
            price = D(30000) + D((k % 5) - 2)
            try:
                await ex.place_order(
                    OrderRequest(
                        user_id=uids[i],
                        symbol="BTCUSDT",
                        side=Side(side),
                        type=OrderType.LIMIT,
                        quantity=D("0.01"),
                        price=price,
                        time_in_force=TimeInForce.GTC,
                    )
                )
            except ExchangeError:
                pass

    async def traders() -> None:
        await asyncio.gather(*(trader(i) for i in range(4)))  # re-raises anything unexpected

    run(traders())
    fee = ex.ledger.free(2, "USDT") + ex.ledger.free(2, "BTC")
    usdt = sum((b.free + b.locked for u in uids for b in ex.balances(u) if b.asset == "USDT"), D(0))
    btc = sum((b.free + b.locked for u in uids for b in ex.balances(u) if b.asset == "BTC"), D(0))
    assert usdt + ex.ledger.free(2, "USDT") == D(40000) and btc + ex.ledger.free(2, "BTC") == D(4)
    assert fee >= 0
    assert Exchange(engine).balances(uids[0]) == ex.balances(uids[0])
