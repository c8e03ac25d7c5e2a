"""MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS, MAX_NUM_ORDER_LISTS and MAX_NUM_ORDER_AMENDS: one account's
open orders and lists on one market, and one order's amendments, are bounded;
a refusal changes nothing, a cancel makes room, and the count survives a restart. And the ORDERS
rate limits: new orders per account in ten seconds and in a day."""

from __future__ import annotations

import dataclasses
from collections.abc import Coroutine
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import Engine

from keyplane.exchange.amend import AmendRejected, CancelReplaceMode
from keyplane.exchange.errors import FilterFailure
from keyplane.exchange.models import OrderType, PlacedOrder
from keyplane.exchange.open_limits import OpenOrderLimits
from keyplane.exchange.order_rate import OrderRateLimits, TooManyOrders
from keyplane.exchange.service import Exchange
from tests.exchange.conftest import Clock, make_users
from tests.exchange.orders import order
from tests.exchange.test_conditional import balance, trade_at
from tests.exchange.test_order_lists import oto, sell_oco
from tests.support.aio import run

LIMITS = OpenOrderLimits(orders=3, algo_orders=1)
SLL = OrderType.STOP_LOSS_LIMIT


@pytest.fixture
def ex(engine: Engine, clock: Clock) -> Exchange:
    return Exchange(engine, now=clock, open_limits=LIMITS)


def bid(ex: Exchange, user: int, price: int, symbol: str = "BTCUSDT") -> int:
    return run(ex.place_order(order(user, symbol, "BUY", "0.01", price))).order.order_id


def refused(call: Coroutine[Any, Any, Any]) -> str:
    with pytest.raises(FilterFailure) as error:
        run(call)
    assert error.value.code == -1013
    return error.value.filter_type


def test_the_order_past_the_limit_is_refused_and_changes_nothing(ex: Exchange, alice: int, bob: int) -> None:
    ids = [bid(ex, alice, 20000 + i) for i in range(3)]
    before = balance(ex, alice, "USDT")
    assert refused(ex.place_order(order(alice, "BTCUSDT", "BUY", "0.01", 20010))) == "MAX_NUM_ORDERS"
    assert balance(ex, alice, "USDT") == before
    assert [o.order_id for o in ex.open_orders(alice, "BTCUSDT")] == ids
    bid(ex, bob, 20000)  # another account, and another market, have their own room
    bid(ex, alice, 2000, "ETHUSDT")
    run(ex.cancel_order(alice, "BTCUSDT", ids[0], None))
    bid(ex, alice, 20010)  # a cancel made room


def test_every_order_of_a_list_counts_its_pending_ones_too(ex: Exchange, alice: int) -> None:
    bid(ex, alice, 20000)
    bid(ex, alice, 20001)
    assert refused(ex.place_oto(oto(alice))) == "MAX_NUM_ORDERS"  # working + pending = 2 more
    run(ex.cancel_open_orders(alice, "BTCUSDT"))
    placed = run(ex.place_oto(oto(alice)))
    assert len(ex.open_orders(alice, "BTCUSDT")) == 2  # the pending order is open too
    bid(ex, alice, 20000)
    assert refused(ex.place_order(order(alice, "BTCUSDT", "BUY", "0.01", 20001))) == "MAX_NUM_ORDERS"
    assert [o.order_id for o in placed.orders] == [o.order_id for o in ex.open_orders(alice, "BTCUSDT")][:2]


def test_stop_orders_have_their_own_smaller_limit(ex: Exchange, alice: int, bob: int, carol: int) -> None:
    trade_at(ex, bob, carol, 30000)
    run(ex.place_order(order(alice, "BTCUSDT", "SELL", "0.01", 28900, type=SLL, stop=29000)))
    second = order(alice, "BTCUSDT", "SELL", "0.01", 27900, type=SLL, stop=28000)
    assert refused(ex.place_order(second)) == "MAX_NUM_ALGO_ORDERS"
    assert refused(ex.place_oco(sell_oco(alice))) == "MAX_NUM_ALGO_ORDERS"  # its stop leg
    bid(ex, alice, 20000)  # plain orders still fit


def test_a_cancel_replace_at_the_limit_counts_after_its_cancel(ex: Exchange, alice: int) -> None:
    ids = [bid(ex, alice, 20000 + i) for i in range(3)]
    new = order(alice, "BTCUSDT", "BUY", "0.01", 20005)
    result = run(ex.cancel_replace(new, ids[0], None, CancelReplaceMode.STOP_ON_FAILURE))
    assert isinstance(result.new, PlacedOrder) and result.new.order.price == D(20005)


def test_the_count_is_rebuilt_on_restart(engine: Engine, clock: Clock, ex: Exchange, alice: int) -> None:
    for i in range(3):
        bid(ex, alice, 20000 + i)
    again = Exchange(engine, now=clock, open_limits=LIMITS)
    assert refused(again.place_order(order(alice, "BTCUSDT", "BUY", "0.01", 20010))) == "MAX_NUM_ORDERS"


def test_fills_free_room(ex: Exchange, engine: Engine, alice: int) -> None:
    (dave,) = make_users(engine, "dave")
    run(ex.credit(dave, "BTC", D(1), "test"))
    for i in range(3):
        bid(ex, alice, 20000 + i)
    run(ex.place_order(order(dave, "BTCUSDT", "SELL", "0.03", 20000)))  # takes all three
    assert ex.open_orders(alice, "BTCUSDT") == []
    bid(ex, alice, 20000)


def test_new_orders_per_ten_seconds_and_per_day_are_bounded_per_account(engine: Engine, clock: Clock) -> None:
    ex = Exchange(engine, now=clock, order_rate=OrderRateLimits(per_ten_seconds=3, per_day=5))
    alice, bob = make_users(engine, "alice", "bob")
    for uid in (alice, bob):
        run(ex.credit(uid, "USDT", D(100000), "test"))
    clock.t = 1_700_000_000_000  # the start of a ten-second window
    first = [bid(ex, alice, 20000 + i) for i in range(2)]
    with pytest.raises(TooManyOrders) as error:
        run(ex.place_oto(oto(alice)))  # two orders: one too many
    assert (error.value.code, error.value.status) == (-1015, 429)
    assert error.value.msg == "Too many new orders; current limit is 3 orders per 10 SECOND."
    bid(ex, alice, 20002)
    with pytest.raises(TooManyOrders):
        bid(ex, alice, 20003)
    bid(ex, bob, 20003)  # each account counts its own
    run(ex.cancel_order(alice, "BTCUSDT", first[0], None))  # a cancel is not a new order: no room
    with pytest.raises(TooManyOrders):
        bid(ex, alice, 20003)
    clock.advance(10_000)  # the next window
    bid(ex, alice, 20003)
    bid(ex, alice, 20004)
    with pytest.raises(TooManyOrders) as daily:
        bid(ex, alice, 20005)
    assert daily.value.msg == "Too many new orders; current limit is 5 orders per 1 DAY."
    clock.advance(86_400_000)
    bid(ex, alice, 20005)


def test_open_order_lists_are_bounded_per_account_and_market(
    engine: Engine, clock: Clock, alice: int
) -> None:
    """MAX_NUM_ORDER_LISTS: counted from the open orders, so an ended list frees its place."""
    limits = OpenOrderLimits(orders=20, algo_orders=5, order_lists=2)
    ex = Exchange(engine, now=clock, open_limits=limits)

    def place(i: int) -> Any:
        return ex.place_oto(dataclasses.replace(oto(alice, 29000 - i), list_client_order_id=f"oto-{i}"))

    first = run(place(0)).order_list.list_id
    run(place(1))
    before = (balance(ex, alice, "USDT"), len(ex.open_orders(alice, "BTCUSDT")))
    assert refused(place(2)) == "MAX_NUM_ORDER_LISTS"
    assert (balance(ex, alice, "USDT"), len(ex.open_orders(alice, "BTCUSDT"))) == before
    bid(ex, alice, 20000)  # a plain order is no list
    again = Exchange(engine, now=clock, open_limits=limits)  # the count is rebuilt on restart
    assert refused(again.place_oto(dataclasses.replace(oto(alice), list_client_order_id="x"))) == (
        "MAX_NUM_ORDER_LISTS"
    )
    run(again.cancel_order_list(alice, "BTCUSDT", first, None))
    run(again.place_oto(dataclasses.replace(oto(alice), list_client_order_id="after-cancel")))


def test_one_order_is_amended_at_most_amends_per_order_times(
    engine: Engine, clock: Clock, alice: int
) -> None:
    """MAX_NUM_ORDER_AMENDS: without it, one order lowered a lot at a time wrote an amendment each
    time, up to its quantity in lots (0.1 BTC is 100,000 of them)."""
    limits = OpenOrderLimits(amends_per_order=2)
    ex = Exchange(engine, now=clock, open_limits=limits)
    placed = run(ex.place_order(order(alice, "BTCUSDT", "BUY", "0.1", 20000))).order.order_id

    def amend(exchange: Exchange, order_id: int, qty: str) -> Any:
        return exchange.amend_keep_priority(alice, "BTCUSDT", order_id, None, D(qty), f"amend-{qty}")

    run(amend(ex, placed, "0.09"))
    run(amend(ex, placed, "0.08"))
    before = balance(ex, alice, "USDT")
    with pytest.raises(AmendRejected) as error:
        run(amend(ex, placed, "0.07"))
    assert (error.value.code, error.value.msg) == (-2038, "Filter failure: MAX_NUM_ORDER_AMENDS")
    assert balance(ex, alice, "USDT") == before
    assert run(ex.get_order(alice, "BTCUSDT", placed)).orig_qty == D("0.08")
    again = Exchange(engine, now=clock, open_limits=limits)  # the count is rebuilt on restart
    with pytest.raises(AmendRejected):
        run(amend(again, placed, "0.07"))
    other = run(again.place_order(order(alice, "BTCUSDT", "BUY", "0.1", 20001))).order.order_id
    run(amend(again, other, "0.09"))  # each order has its own count
