"""Amending orders in the engine: cancel-replace loses the queue place, amend keepPriority keeps it.

Which order a later taker fills first shows the queue; balances are read from the ledger after each
step; refusals are shown to change nothing; the amended order survives a rebuild from the database.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import Engine, select

from keyplane.exchange.amend import AmendRejected, CancelReplaceMode, CancelRestriction
from keyplane.exchange.errors import ExchangeError, FilterFailure, InvalidParameter
from keyplane.exchange.events import ExchangeEvents
from keyplane.exchange.models import Order, OrderStatus, OrderType, PlacedOrder
from keyplane.exchange.service import Exchange
from keyplane.store.exchange_tables import ex_orders
from keyplane.streams.names import user_topic
from keyplane.streams.user_streams import user_messages
from tests.exchange.conftest import Clock, make_users
from tests.exchange.orders import order
from tests.exchange.test_conditional import trade_at
from tests.exchange.test_matching import limit, market
from tests.exchange.test_order_lists import sell_oco
from tests.support.aio import run

STOP, ALLOW = CancelReplaceMode.STOP_ON_FAILURE, CancelReplaceMode.ALLOW_FAILURE


@pytest.fixture
def carol(engine: Engine, ex: Exchange) -> int:
    (uid,) = make_users(engine, "carol")
    run(ex.credit(uid, "USDT", D(100000), "test"))
    return uid


def held(ex: Exchange, user: int, asset: str) -> tuple[D, D]:
    """(free, locked) from the ledger."""
    (b,) = [b for b in ex.balances(user) if b.asset == asset]
    return b.free, b.locked


def snapshot(ex: Exchange, *users: int) -> Any:
    """Everything a refused command must leave as it was: books, open orders, balances."""
    return (
        ex.books["BTCUSDT"].snapshot(),
        [ex.open_orders(u, None) for u in users],
        [ex.balances(u) for u in users],
    )


def test_amend_keeps_the_order_first_in_its_level_and_unlocks_the_difference(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    first = run(ex.place_order(limit(alice, "SELL", "0.01", "30000"))).order
    second = run(ex.place_order(limit(bob, "SELL", "0.01", "30000"))).order
    assert held(ex, alice, "BTC") == (D("9.99"), D("0.01"))
    amended = run(ex.amend_keep_priority(alice, "BTCUSDT", first.order_id, None, D("0.006"), "smaller"))
    assert amended.order.order_id == first.order_id and amended.order.orig_qty == D("0.006")
    assert amended.order.client_order_id == "smaller" and amended.order.status is OrderStatus.NEW
    assert amended.amendment.orig_client_order_id == first.client_order_id
    assert held(ex, alice, "BTC") == (D("9.994"), D("0.006"))
    asks = [o[0] for o in ex.books["BTCUSDT"].snapshot()[1]]
    assert asks == [first.order_id, second.order_id]
    bought = run(ex.place_order(market(carol, "BUY", quantity=D("0.006"))))
    assert [f.qty for f in bought.fills] == [D("0.006")]
    after = run(ex.get_order(alice, "BTCUSDT", first.order_id))
    assert after.status is OrderStatus.FILLED and after.executed_qty == D("0.006")
    assert run(ex.get_order(bob, "BTCUSDT", second.order_id)).executed_qty == 0
    assert held(ex, alice, "BTC") == (D("9.994"), D(0))
    assert held(ex, alice, "USDT")[0] == D(100000) + D(180) * (1 - ex.markets["BTCUSDT"].maker_fee)


def test_cancel_replace_puts_the_new_order_behind_its_level_with_a_new_id(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    first = run(ex.place_order(limit(alice, "SELL", "0.01", "30000"))).order
    second = run(ex.place_order(limit(bob, "SELL", "0.01", "30000"))).order
    result = run(ex.cancel_replace(limit(alice, "SELL", "0.01", "30000"), first.order_id, None, STOP))
    assert isinstance(result.cancel, Order) and result.cancel.status is OrderStatus.CANCELED
    assert isinstance(result.new, PlacedOrder) and result.succeeded
    new_id = result.new.order.order_id
    assert new_id > second.order_id
    assert [o[0] for o in ex.books["BTCUSDT"].snapshot()[1]] == [second.order_id, new_id]
    assert held(ex, alice, "BTC") == (D("9.99"), D("0.01"))
    run(ex.place_order(market(carol, "BUY", quantity=D("0.01"))))
    assert run(ex.get_order(bob, "BTCUSDT", second.order_id)).status is OrderStatus.FILLED
    assert run(ex.get_order(alice, "BTCUSDT", new_id)).executed_qty == 0
    assert held(ex, alice, "BTC") == (D("9.99"), D("0.01"))
    assert held(ex, bob, "BTC") == (D("9.99"), D(0))


def test_cancel_and_new_order_are_one_command(ex: Exchange, engine: Engine, alice: int) -> None:
    first = run(ex.place_order(limit(alice, "BUY", "0.1", "20000"))).order
    result = run(ex.cancel_replace(limit(alice, "BUY", "0.2", "20000"), first.order_id, None, STOP))
    assert isinstance(result.new, PlacedOrder)
    with engine.connect() as conn:
        rows = dict(conn.execute(select(ex_orders.c.id, ex_orders.c.update_seq)).all())
    assert rows[first.order_id] == rows[result.new.order.order_id]


def test_the_new_order_may_use_the_funds_its_cancel_frees(ex: Exchange, alice: int) -> None:
    first = run(ex.place_order(limit(alice, "BUY", "3", "30000"))).order
    assert held(ex, alice, "USDT") == (D(10000), D(90000))
    result = run(ex.cancel_replace(limit(alice, "BUY", "3", "31000"), first.order_id, None, STOP))
    assert result.succeeded
    assert held(ex, alice, "USDT") == (D(7000), D(93000))


def test_a_failed_cancel_stops_the_new_order_and_changes_nothing(ex: Exchange, alice: int, bob: int) -> None:
    mine = run(ex.place_order(limit(alice, "BUY", "0.1", "20000"))).order
    before = snapshot(ex, alice, bob)
    result = run(ex.cancel_replace(limit(alice, "BUY", "0.2", "20000"), mine.order_id + 99, None, STOP))
    assert isinstance(result.cancel, ExchangeError) and result.cancel.code == -2011 and result.new is None
    restricted = run(
        ex.cancel_replace(
            limit(alice, "BUY", "0.2", "20000"),
            mine.order_id,
            None,
            STOP,
            CancelRestriction.ONLY_PARTIALLY_FILLED,
        )
    )
    assert isinstance(restricted.cancel, ExchangeError) and restricted.cancel.code == -2011
    assert restricted.cancel.msg == "Order was not canceled due to cancel restrictions."
    with pytest.raises(FilterFailure):  # filters come first: nothing is cancelled
        run(ex.cancel_replace(limit(alice, "BUY", "0.2", "20000.001"), mine.order_id, None, STOP))
    with pytest.raises(InvalidParameter) as missing:
        run(ex.cancel_replace(limit(alice, "BUY", "0.2", "20000"), None, None, STOP))
    assert missing.value.code == -1102
    assert snapshot(ex, alice, bob) == before


def test_allow_failure_places_the_new_order_when_the_cancel_fails(ex: Exchange, alice: int) -> None:
    result = run(ex.cancel_replace(limit(alice, "BUY", "0.2", "20000"), 12345, None, ALLOW))
    assert isinstance(result.cancel, ExchangeError) and isinstance(result.new, PlacedOrder)
    assert [o.order_id for o in ex.open_orders(alice, None)] == [result.new.order.order_id]


def test_a_refused_new_order_leaves_the_cancel_standing(ex: Exchange, alice: int, bob: int) -> None:
    run(ex.place_order(limit(bob, "SELL", "0.1", "30000")))
    mine = run(ex.place_order(limit(alice, "BUY", "0.1", "29000"))).order
    maker = limit(alice, "BUY", "0.1", "30000", type=OrderType.LIMIT_MAKER, time_in_force=None)
    result = run(ex.cancel_replace(maker, mine.order_id, None, STOP))
    assert isinstance(result.cancel, Order) and result.cancel.status is OrderStatus.CANCELED
    assert isinstance(result.new, ExchangeError) and result.new.code == -2010
    assert ex.open_orders(alice, None) == [] and held(ex, alice, "USDT") == (D(100000), D(0))


def test_the_replacing_order_may_take_the_cancelled_client_id(ex: Exchange, alice: int) -> None:
    run(ex.place_order(limit(alice, "BUY", "0.1", "20000", client_order_id="grid-1")))
    result = run(
        ex.cancel_replace(limit(alice, "BUY", "0.1", "20100", client_order_id="grid-1"), None, "grid-1", STOP)
    )
    assert isinstance(result.new, PlacedOrder)
    (open_,) = ex.open_orders(alice, None)
    assert open_.client_order_id == "grid-1" and open_.price == D(20100)


@pytest.mark.parametrize(
    ("qty", "msg"),
    [
        ("0.2", "Order amend (quantity increase) is not supported."),
        ("0.1", "The requested action would change no state; rejecting"),
        ("0.04", "Order amend (quantity at or below the executed quantity) is not supported."),
    ],
)
def test_amend_refusals_change_nothing(ex: Exchange, alice: int, bob: int, qty: str, msg: str) -> None:
    mine = run(ex.place_order(limit(alice, "SELL", "0.1", "30000"))).order
    run(ex.place_order(limit(bob, "BUY", "0.04", "30000")))
    before = snapshot(ex, alice, bob)
    with pytest.raises(AmendRejected) as refused:
        run(ex.amend_keep_priority(alice, "BTCUSDT", mine.order_id, None, D(qty), "x"))
    assert (refused.value.code, refused.value.msg) == (-2038, msg)
    assert snapshot(ex, alice, bob) == before


def test_amending_an_unknown_or_foreign_order_is_refused(ex: Exchange, alice: int, bob: int) -> None:
    theirs = run(ex.place_order(limit(bob, "SELL", "0.1", "30000"))).order
    run(ex.place_order(limit(alice, "SELL", "0.1", "30001", client_order_id="taken")))
    mine = run(ex.place_order(limit(alice, "SELL", "0.1", "30002"))).order
    before = snapshot(ex, alice, bob)
    for order_id, new_id in ((theirs.order_id, "a"), (999, "b"), (mine.order_id, "taken")):
        with pytest.raises(AmendRejected) as refused:
            run(ex.amend_keep_priority(alice, "BTCUSDT", order_id, None, D("0.05"), new_id))
        assert refused.value.code == -2038
    with pytest.raises(FilterFailure):
        run(ex.amend_keep_priority(alice, "BTCUSDT", mine.order_id, None, D("0.000001"), "c"))
    assert snapshot(ex, alice, bob) == before


def test_an_amended_order_is_rebuilt_from_the_database_as_amended(
    ex: Exchange, engine: Engine, clock: Clock, alice: int, bob: int
) -> None:
    first = run(ex.place_order(limit(alice, "BUY", "0.1", "30000"))).order
    second = run(ex.place_order(limit(bob, "BUY", "0.1", "30000"))).order
    run(ex.amend_keep_priority(alice, "BTCUSDT", first.order_id, None, D("0.04"), "after-1"))
    run(ex.amend_keep_priority(alice, "BTCUSDT", None, "after-1", D("0.03"), "after-2"))
    rebuilt = Exchange(engine, now=clock)
    order = run(rebuilt.get_order(alice, "BTCUSDT", None, "after-2"))
    assert order.order_id == first.order_id and order.orig_qty == D("0.03")
    assert [o[0] for o in rebuilt.books["BTCUSDT"].snapshot()[0]] == [first.order_id, second.order_id]
    assert held(rebuilt, alice, "USDT") == (D(99100), D(900))
    with pytest.raises(ExchangeError):
        run(rebuilt.get_order(alice, "BTCUSDT", None, "after-1"))


def test_amend_reports_replaced_on_the_user_stream(ex: Exchange, alice: int, bob: int) -> None:
    seen: list[ExchangeEvents] = []
    mine = run(ex.place_order(limit(alice, "SELL", "0.1", "30000", client_order_id="before"))).order
    run(ex.place_order(limit(bob, "BUY", "0.02", "30000")))
    ex.listeners.append(seen.append)
    run(ex.amend_keep_priority(alice, "BTCUSDT", mine.order_id, None, D("0.05"), "after"))
    reports = [
        p for e in seen for t, p in user_messages(e) if t == user_topic(alice) and p["e"] == "executionReport"
    ]
    (report,) = reports
    assert (report["x"], report["X"], report["i"]) == ("REPLACED", "PARTIALLY_FILLED", mine.order_id)
    assert (report["c"], report["C"], report["q"], report["z"]) == (
        "after",
        "before",
        "0.05000000",
        "0.02000000",
    )
    depth = [b for e in seen for b in e.books]
    assert depth and depth[-1].asks == [(D(30000), D("0.03"))]


def test_amendments_are_recorded_oldest_first_and_only_for_their_owner(
    ex: Exchange, alice: int, bob: int
) -> None:
    mine = run(ex.place_order(limit(alice, "SELL", "0.1", "30000", client_order_id="v1"))).order
    one = run(ex.amend_keep_priority(alice, "BTCUSDT", mine.order_id, None, D("0.08"), "v2")).amendment
    two = run(ex.amend_keep_priority(alice, "BTCUSDT", None, "v2", D("0.05"), "v3")).amendment
    found = run(ex.amendments(alice, "BTCUSDT", mine.order_id, None, None))
    assert [(a.execution_id, a.orig_client_order_id, a.new_client_order_id) for a in found] == [
        (one.execution_id, "v1", "v2"),
        (two.execution_id, "v2", "v3"),
    ]
    assert [(a.orig_qty, a.new_qty) for a in found] == [(D("0.1"), D("0.08")), (D("0.08"), D("0.05"))]
    assert run(ex.amendments(alice, "BTCUSDT", mine.order_id, two.execution_id, None)) == found[1:]
    assert run(ex.amendments(alice, "BTCUSDT", mine.order_id, None, 1)) == found[:1]
    assert run(ex.amendments(bob, "BTCUSDT", mine.order_id, None, None)) == []


def test_a_pending_stop_and_an_oco_leg_are_not_amended_and_nothing_changes(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    """Their locks are not their own quantity at their own price: a STOP_LOSS buy locks at its stop
    price, and an OCO locks once for both legs (one leg holds it); lowering one leg's quantity
    would unlock funds the other still needs."""
    trade_at(ex, bob, carol, 30000)
    stop = run(ex.place_order(order(alice, "BTCUSDT", "BUY", "0.1", type=OrderType.STOP_LOSS, stop=31000)))
    above, below = run(ex.place_oco(sell_oco(alice))).orders
    before = snapshot(ex, alice, bob, carol)
    for pending in (stop.order, above, below):
        with pytest.raises(AmendRejected) as refused:
            run(ex.amend_keep_priority(alice, "BTCUSDT", pending.order_id, None, D("0.05"), "smaller"))
        assert refused.value.code == -2038
    assert snapshot(ex, alice, bob, carol) == before
