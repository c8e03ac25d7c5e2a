"""The group commit hands its rows to the driver as tuples (``keyplane.store.bulk``): every column
must land where the records say, and a money value must be checked as the column type checks it.

Read back through SQLAlchemy's own mapping (the path every query takes), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from keyplane.exchange.book import order_record
from keyplane.exchange.markets import StpMode
from keyplane.exchange.models import Order, OrderType
from keyplane.exchange.service import Exchange
from keyplane.store import exchange_repo as repo
from keyplane.store.exchange_tables import ex_entries, ex_orders, ex_trades
from keyplane.store.types import fits_column, money
from tests.exchange.conftest import Clock
from tests.exchange.orders import order
from tests.support.aio import run


def _stored_orders(engine: Engine) -> dict[int, Order]:
    with engine.connect() as conn:
        return {o.order_id: o for o in map(repo._order, conn.execute(select(ex_orders)).mappings())}


def test_every_order_column_is_written_where_the_record_says(
    engine: Engine, ex: Exchange, clock: Clock, alice: int, bob: int
) -> None:
    asks = []
    for i, (qty, price) in enumerate((("0.5", "30000.01"), ("0.25", "30000.5"), ("0.125", "29999"))):
        clock.advance(7 + i)
        asks.append(
            run(ex.place_order(order(alice, "BTCUSDT", "SELL", qty, price, client_id=f"ask-{i}"))).order
        )
    clock.advance(13)
    taker = run(ex.place_order(order(bob, "BTCUSDT", "BUY", "0.3", "30000.01", "IOC", client_id="taker")))
    answered = {taker.order.order_id: taker.order}  # final states: answers of orders no longer open
    stop = run(
        ex.place_order(
            order(bob, "BTCUSDT", "BUY", "0.01", "31000", type=OrderType.STOP_LOSS_LIMIT, stop="30999.99")
        )
    )
    clock.advance(5)
    canceled = run(ex.cancel_order(bob, "BTCUSDT", stop.order.order_id))
    answered[canceled.order_id] = canceled
    stp = run(ex.place_order(order(alice, "BTCUSDT", "BUY", "0.2", "30001", stp=StpMode.EXPIRE_TAKER)))
    answered[stp.order.order_id] = stp.order

    stored = _stored_orders(engine)
    open_now = {o.order_id: order_record(o.fields()) for o in ex.books["BTCUSDT"].by_id.values()}
    assert open_now, "the workload leaves an order resting"
    for order_id, expected in {**answered, **open_now}.items():
        assert stored[order_id] == expected
    assert stored[stp.order.order_id].prevented_match_id > 0  # the STP fields travel too
    assert stored[stp.order.order_id].prevented_quantity > 0
    filled_maker = stored[asks[2].order_id]  # filled by the taker: its last state is only stored
    assert (filled_maker.executed_qty, filled_maker.cummulative_quote_qty) == (D("0.125"), D("3749.875"))
    assert filled_maker.status.value == "FILLED"
    with engine.connect() as conn:  # is_open is a column of its own, which the open-order scan reads
        flags = dict(conn.execute(select(ex_orders.c.id, ex_orders.c.is_open)).all())
    assert {i for i, is_open in flags.items() if is_open} == set(open_now)
    assert stored[stp.order.order_id].prevented_quantity > 0


def test_trades_entries_and_balances_are_written_where_the_records_say(
    engine: Engine, ex: Exchange, alice: int, bob: int
) -> None:
    run(ex.place_order(order(alice, "BTCUSDT", "SELL", "0.5", "30000.01")))
    taker = run(ex.place_order(order(bob, "BTCUSDT", "BUY", "0.2", "30000.01")))
    (fill,) = taker.fills
    with engine.connect() as conn:
        (trade,) = [repo._trade(r) for r in conn.execute(select(ex_trades)).mappings()]
        entries = conn.execute(select(ex_entries.c.txn, ex_entries.c.asset, ex_entries.c.amount)).all()
        stored_balances = repo.load_balances(conn)
    assert (trade.id, trade.price, trade.qty, trade.quote_qty) == (
        fill.trade_id,
        D("30000.01"),
        D("0.2"),
        D("6000.002"),
    )
    assert (trade.buyer_fee, trade.is_buyer_maker) == (fill.commission, False)
    assert trade.seller_fee > 0
    sums: dict[tuple[int, str], D] = {}
    for txn, asset, amount in entries:
        sums[(txn, asset)] = sums.get((txn, asset), D(0)) + amount
    assert all(total == 0 for total in sums.values())  # every posting balances
    for user in (alice, bob):
        account = ex.ledger.account_of(user)
        assert account is not None
        for b in ex.balances(user):
            assert stored_balances.get((account, b.asset), (D(0), D(0))) == (b.free, b.locked)


money_values = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=20),
    st.builds(lambda n, e: D(n).scaleb(e), st.integers(-(10**40), 10**40), st.integers(-40, 30)),
)


@given(money_values)
def test_money_refuses_exactly_what_the_column_type_refuses(value: D) -> None:
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        if fits_column(value):
            stored = money(value, dialect)
            assert stored == (value if dialect.name == "postgresql" else format(value, "f"))
        else:
            with pytest.raises(ValueError):
                money(value, dialect)
