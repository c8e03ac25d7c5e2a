"""Group commits: commands submitted together share one transaction, and a batch that cannot be
written acknowledges none of its commands (nor those applied on top of it) and leaves memory
rebuilt equal to the database. The failures are real: a row planted through a real primary key,
a balance the real columns cannot hold."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from keyplane.exchange.errors import InexactAmount, InsufficientBalance, NotDurable
from keyplane.exchange.ledger import EntryKind, Row
from keyplane.exchange.models import OrderStatus
from keyplane.exchange.orders import OrderRequest
from keyplane.exchange.service import Exchange
from keyplane.store.exchange_tables import ex_entries, ex_orders
from tests.exchange.orders import order
from tests.support.aio import run


def state(ex: Exchange, uids: list[int]) -> Any:
    return (
        {s: b.snapshot() for s, b in ex.books.items()},
        [ex.balances(u) for u in uids],
        [ex.open_orders(u) for u in uids],
        {k: (v.free, v.locked) for k, v in ex.ledger.balances.items()},
    )


def entry_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ex_entries)).scalar_one())


def sell(user: int, qty: str, price: int) -> OrderRequest:
    return order(user, "BTCUSDT", "SELL", qty, price)


def buy(user: int, qty: str, price: int) -> OrderRequest:
    return order(user, "BTCUSDT", "BUY", qty, price)


def test_commands_submitted_together_are_written_in_one_group_commit(
    ex: Exchange, engine: Engine, alice: int, bob: int
) -> None:
    batches = ex.sequencer.batches

    async def together() -> list[Any]:
        credits = [ex.credit(alice, "ETH", D(1), "test") for _ in range(10)]
        orders = [ex.place_order(sell(alice, "0.01", 30000 + i)) for i in range(10)]
        return await asyncio.gather(*credits, *orders)

    outcomes = run(together())
    assert ex.sequencer.batches == batches + 1
    assert [b.free for b in outcomes[:10]] == [D(i) for i in range(1, 11)]
    assert [p.order.order_id for p in outcomes[10:]] == list(range(1, 11))
    assert state(Exchange(engine), [alice, bob]) == state(ex, [alice, bob])


def test_a_failed_group_commit_acknowledges_none_of_its_commands_nor_those_applied_on_top(
    ex: Exchange, engine: Engine, alice: int, bob: int
) -> None:
    run(ex.place_order(sell(alice, "0.5", 31000)))
    with engine.begin() as conn:  # a stranger's row takes the id the second order below will get
        row = dict(conn.execute(select(ex_orders)).mappings().one())
        taken = row["id"] + 2
        row.update(id=taken, client_order_id="planted", is_open=False, status="CANCELED", locked_amount=D(0))
        conn.execute(ex_orders.insert(), [row])
    before, entries = state(ex, [alice, bob]), entry_count(engine)

    async def scenario() -> tuple[list[Any], list[Any]]:
        first = [
            asyncio.ensure_future(c)
            for c in (
                ex.place_order(buy(bob, "0.1", 31000)),  # fills against alice's order
                ex.place_order(buy(bob, "0.1", 29000)),  # gets the planted id: the batch fails
                ex.credit(alice, "ETH", D(2), "test"),
                ex.cancel_open_orders(alice, "BTCUSDT"),
            )
        ]
        await asyncio.sleep(0)  # the four are applied; the committer is scheduled
        await asyncio.sleep(0)  # it closed their batch and writes it in a thread
        assert ex.sequencer.busy
        second = [
            asyncio.ensure_future(c)
            for c in (ex.credit(bob, "BTC", D(1), "test"), ex.place_order(sell(bob, "0.1", 40000)))
        ]
        return (
            await asyncio.gather(*first, return_exceptions=True),
            await asyncio.gather(*second, return_exceptions=True),
        )

    first, second = run(scenario())
    assert all(isinstance(o, NotDurable) for o in first + second), first + second
    assert all(o.code == -1008 for o in first + second)
    run(ex.sequencer.ready())
    assert not ex.sequencer.stale
    assert entry_count(engine) == entries
    assert state(ex, [alice, bob]) == before == state(Exchange(engine), [alice, bob])
    # The exchange goes on: the next order skips the planted id.
    placed = run(ex.place_order(buy(bob, "0.1", 29000)))
    assert placed.order.order_id == taken + 1
    assert state(Exchange(engine), [alice, bob]) == state(ex, [alice, bob])


def test_a_command_failing_half_way_abandons_the_open_batch_and_rebuilds_memory(
    ex: Exchange, engine: Engine, alice: int, bob: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No real input fails after a first mutation (the ledger checks before it changes), so a bug
    is planted: settling a fill blows up after alice's BTC was locked."""
    run(ex.place_order(buy(bob, "0.1", 30000)))
    before = state(ex, [alice, bob])
    post = ex.ledger.post_fill

    def post_but_not_trades(rows: list[Row], buyer: int, seller: int) -> None:
        if any(kind is EntryKind.TRADE for _, _, _, _, kind, _, _ in rows):
            raise RuntimeError("a bug in settlement")
        post(rows, buyer, seller)

    monkeypatch.setattr(ex.ledger, "post_fill", post_but_not_trades)

    async def together() -> list[Any]:
        return await asyncio.gather(
            ex.credit(bob, "BTC", D(1), "test"),
            ex.place_order(sell(alice, "0.1", 30000)),
            return_exceptions=True,
        )

    credit, sale = run(together())
    assert isinstance(credit, NotDurable)
    assert isinstance(sale, RuntimeError)
    run(ex.sequencer.ready())
    assert state(ex, [alice, bob]) == before == state(Exchange(engine), [alice, bob])
    assert run(ex.place_order(sell(alice, "0.1", 30000))).order.status is OrderStatus.FILLED


def test_a_plain_refusal_leaves_the_rest_of_its_batch_alone(ex: Exchange, engine: Engine, alice: int) -> None:
    async def together() -> list[Any]:
        return await asyncio.gather(
            ex.credit(alice, "ETH", D(1), "test"),
            ex.credit(alice, "USDT", D(99999999999999999999), "test"),  # the ledger cannot hold it
            ex.place_order(sell(alice, "20", 30000)),  # more BTC than alice has
            ex.credit(alice, "ETH", D(1), "test"),
            return_exceptions=True,
        )

    first, huge, order, second = run(together())
    assert isinstance(huge, InexactAmount) and isinstance(order, InsufficientBalance)
    assert (first.free, second.free) == (D(1), D(2))
    assert state(Exchange(engine), [alice]) == state(ex, [alice])


def test_memory_reads_say_try_again_while_memory_is_being_rebuilt(ex: Exchange, alice: int) -> None:
    async def scenario() -> None:
        ex.sequencer.stale = True  # as after a failed commit, before the rebuild ran
        for read in (ex.balances, ex.balance_units):
            with pytest.raises(NotDurable):
                read(alice)
        await ex.sequencer.ready()
        assert ex.balances(alice)
        assert ex.balance_units(alice)

    run(scenario())
