"""Order lists. OCO: two linked legs, one lock; one leg executing, triggering or being cancelled
ends both. OTO: the pending order is placed once the working order fills; OTOCO: the pending OCO pair is."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest
from sqlalchemy import Engine

from keyplane.exchange.errors import ExchangeError
from keyplane.exchange.models import OrderStatus, OrderType
from keyplane.exchange.order_lists import OcoRequest, OtocoRequest, OtoRequest
from keyplane.exchange.service import Exchange
from tests.exchange.conftest import Clock
from tests.exchange.orders import order
from tests.exchange.test_conditional import balance, trade_at
from tests.support.aio import run

LM, SL, SLL = OrderType.LIMIT_MAKER, OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT
TP, TPL = OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT


def sell_oco(
    user: int, qty: str = "0.1", above: int = 31000, stop: int = 29000, limit: int = 28900
) -> OcoRequest:
    """A SELL OCO on BTCUSDT: LIMIT_MAKER above at ``above``, STOP_LOSS_LIMIT below."""
    return OcoRequest(
        above=order(user, "BTCUSDT", "SELL", qty, above, type=LM),
        below=order(user, "BTCUSDT", "SELL", qty, limit, type=SLL, stop=stop),
        list_client_order_id="my-oco",
    )


def leg_status(ex: Exchange, uid: int, order_id: int) -> OrderStatus:
    return run(ex.get_order(uid, "BTCUSDT", order_id)).status


def test_an_oco_locks_once_and_the_limit_leg_filling_expires_the_stop(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    trade_at(ex, bob, carol, 30000)
    placed = run(ex.place_oco(sell_oco(alice)))
    lst = placed.order_list
    assert (lst.contingency_type, lst.list_status_type, lst.list_order_status) == (
        "OCO",
        "EXEC_STARTED",
        "EXECUTING",
    )
    above, below = placed.orders
    assert (above.type, below.type, above.order_list_id, below.order_list_id) == (
        LM,
        SLL,
        lst.list_id,
        lst.list_id,
    )
    assert below.working_time == -1 and above.working_time > 0
    assert balance(ex, alice, "BTC") == (D("9.9"), D("0.1"))  # the quantity, once
    assert [x.list_id for x in ex.open_order_lists(alice)] == [lst.list_id]
    run(ex.place_order(order(bob, "BTCUSDT", "BUY", "0.04", 31000)))  # fills the limit leg in part
    assert leg_status(ex, alice, above.order_id) is OrderStatus.PARTIALLY_FILLED
    assert leg_status(ex, alice, below.order_id) is OrderStatus.EXPIRED
    assert balance(ex, alice, "BTC") == (D("9.9"), D("0.06"))
    done = run(ex.get_order_list(alice, lst.list_id, None))
    assert (done.list_status_type, done.list_order_status) == ("ALL_DONE", "ALL_DONE")
    assert ex.open_order_lists(alice) == []
    trade_at(ex, bob, carol, 28000)  # the expired stop does not come back
    assert leg_status(ex, alice, below.order_id) is OrderStatus.EXPIRED


def test_the_stop_leg_triggering_expires_the_limit_leg_and_takes_the_lock(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    trade_at(ex, bob, carol, 30000)
    above, below = run(ex.place_oco(sell_oco(alice))).orders
    run(ex.place_order(order(carol, "BTCUSDT", "BUY", "1", 28950)))
    trade_at(ex, bob, carol, 29000)  # reaches the stop
    assert leg_status(ex, alice, above.order_id) is OrderStatus.EXPIRED
    done = run(ex.get_order(alice, "BTCUSDT", below.order_id))
    assert (done.status, done.executed_qty, done.cummulative_quote_qty) == (
        OrderStatus.FILLED,
        D("0.1"),
        D(2895),
    )
    assert balance(ex, alice, "BTC") == (D("9.9"), D(0))
    assert above.order_id not in ex.books["BTCUSDT"].by_id


def test_cancelling_one_leg_cancels_the_list_and_the_list_can_be_cancelled_whole(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    trade_at(ex, bob, carol, 30000)
    above, below = run(ex.place_oco(sell_oco(alice))).orders
    run(ex.cancel_order(alice, "BTCUSDT", below.order_id))
    assert leg_status(ex, alice, above.order_id) is OrderStatus.CANCELED
    assert balance(ex, alice, "BTC") == (D(10), D(0)) and ex.open_order_lists(alice) == []
    again = run(ex.place_oco(sell_oco(alice)))
    cancelled = run(ex.cancel_order_list(alice, "BTCUSDT", None, "my-oco"))
    assert [o.status for o in cancelled.orders] == [OrderStatus.CANCELED, OrderStatus.CANCELED]
    assert balance(ex, alice, "BTC") == (D(10), D(0))
    with pytest.raises(ExchangeError) as e:
        run(ex.cancel_order_list(alice, "BTCUSDT", again.order_list.list_id, None))
    assert e.value.code == -2011
    assert [x.list_id for x in ex.all_order_lists(alice, None, None, None, None)] == [
        again.order_list.list_id - 1,
        again.order_list.list_id,
    ]


@pytest.mark.parametrize(
    ("above", "below", "code"),
    [
        ({"type": SLL, "stop": 31000, "price": 31000}, {"type": LM, "price": 29000}, -1197),
        ({"type": LM, "price": 31000}, {"type": TP, "stop": 29000}, -1199),
        ({"type": LM, "price": 31000}, {"type": LM, "price": 29000}, -1166),
        ({"type": OrderType.LIMIT, "price": 31000}, {"type": SL, "stop": 29000}, -1158),
        ({"type": LM, "price": 29500}, {"type": SL, "stop": 30500}, -2010),  # above < last < below
    ],
)
def test_bad_oco_combinations_are_refused_and_change_nothing(
    ex: Exchange,
    alice: int,
    bob: int,
    carol: int,
    above: dict[str, object],
    below: dict[str, object],
    code: int,
) -> None:
    trade_at(ex, bob, carol, 30000)
    before = ex.balances(alice)

    def leg(kw: dict[str, object]) -> object:
        kw = dict(kw)
        price = kw.pop("price", None)
        return order(alice, "BTCUSDT", "SELL", "0.1", price, **kw)  # type: ignore[arg-type]

    with pytest.raises(ExchangeError) as e:
        run(ex.place_oco(OcoRequest(above=leg(above), below=leg(below))))  # type: ignore[arg-type]
    assert e.value.code == code
    assert ex.balances(alice) == before and ex.open_orders(alice) == [] and ex.open_order_lists(alice) == []


def test_a_buy_oco_locks_the_larger_leg_and_a_restart_keeps_the_link(
    engine: Engine, ex: Exchange, clock: Clock, alice: int, bob: int, carol: int
) -> None:
    trade_at(ex, bob, carol, 30000)
    req = OcoRequest(
        above=order(alice, "BTCUSDT", "BUY", "0.1", type=SL, stop=31000),
        below=order(alice, "BTCUSDT", "BUY", "0.1", 29000, type=LM),
    )
    above, below = run(ex.place_oco(req)).orders
    assert balance(ex, alice, "USDT") == (D(100000) - D(3100), D(3100))
    again = Exchange(engine, now=clock)
    assert [x.list_id for x in again.open_order_lists(alice)] == [above.order_list_id]
    run(again.place_order(order(bob, "BTCUSDT", "SELL", "1", 31000)))
    run(again.place_order(order(carol, "BTCUSDT", "BUY", "0.01", 31000)))  # the stop triggers
    assert run(again.get_order(alice, "BTCUSDT", below.order_id)).status is OrderStatus.EXPIRED
    done = run(again.get_order(alice, "BTCUSDT", above.order_id))
    assert (done.status, done.cummulative_quote_qty) == (OrderStatus.FILLED, D(3100))
    assert balance(again, alice, "USDT") == (D(100000) - D(3100), D(0))


def oto(user: int, working_price: int = 29000, pending_price: int = 31000, tif: str = "GTC") -> OtoRequest:
    """Buy 0.1 BTC at ``working_price``; once bought, sell it at ``pending_price``."""
    return OtoRequest(
        working=order(user, "BTCUSDT", "BUY", "0.1", working_price, tif),
        pending=order(user, "BTCUSDT", "SELL", "0.1", pending_price),
        list_client_order_id="my-oto",
    )


def test_an_oto_places_its_pending_order_once_the_working_order_fills(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    placed = run(ex.place_oto(oto(alice)))
    working, pending = placed.orders
    assert (working.status, pending.status, pending.working_time) == (
        OrderStatus.NEW,
        OrderStatus.PENDING_NEW,
        -1,
    )
    assert balance(ex, alice, "BTC") == (D(10), D(0))  # the pending sell locks nothing yet
    assert {o.order_id for o in ex.open_orders(alice)} == {working.order_id, pending.order_id}
    run(ex.place_order(order(bob, "BTCUSDT", "SELL", "0.05", 29000)))
    assert leg_status(ex, alice, pending.order_id) is OrderStatus.PENDING_NEW  # half filled: still waits
    run(ex.place_order(order(bob, "BTCUSDT", "SELL", "0.05", 29000)))
    now = run(ex.get_order(alice, "BTCUSDT", pending.order_id))
    assert (now.status, now.is_working) == (OrderStatus.NEW, True)
    assert ex.books["BTCUSDT"].snapshot()[1] == [(pending.order_id, D(31000), D("0.1"))]
    assert balance(ex, alice, "BTC")[1] == D("0.1")
    done = run(ex.get_order_list(alice, placed.order_list.list_id, None))
    assert done.contingency_type == "OTO" and done.list_status_type == "ALL_DONE"


def test_an_oto_filled_at_once_places_its_pending_order_in_the_same_command(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    run(ex.place_order(order(bob, "BTCUSDT", "SELL", "0.1", 29000)))
    run(ex.place_order(order(carol, "BTCUSDT", "BUY", "1", 28500)))  # the pending sell will hit this
    working, pending = run(ex.place_oto(oto(alice, pending_price=28000))).orders
    assert working.status is OrderStatus.FILLED
    assert leg_status(ex, alice, pending.order_id) is OrderStatus.FILLED
    assert balance(ex, alice, "BTC")[1] == 0 and balance(ex, alice, "USDT")[1] == 0


def test_cancelling_either_order_of_an_oto_cancels_both_and_an_expired_working_order_expires_the_other(
    ex: Exchange, alice: int, bob: int
) -> None:
    working, pending = run(ex.place_oto(oto(alice))).orders
    run(ex.cancel_order(alice, "BTCUSDT", pending.order_id))
    assert leg_status(ex, alice, working.order_id) is OrderStatus.CANCELED
    assert balance(ex, alice, "USDT") == (D(100000), D(0)) and ex.open_order_lists(alice) == []
    run(ex.place_order(order(bob, "BTCUSDT", "SELL", "0.05", 29000)))
    working, pending = run(ex.place_oto(oto(alice, tif="IOC"))).orders
    assert working.status is OrderStatus.EXPIRED
    assert leg_status(ex, alice, pending.order_id) is OrderStatus.EXPIRED  # partly filled is not filled
    assert ex.open_orders(alice) == []


def test_a_restart_keeps_an_oto_waiting(
    engine: Engine, ex: Exchange, clock: Clock, alice: int, bob: int
) -> None:
    pending = run(ex.place_oto(oto(alice))).orders[1]
    again = Exchange(engine, now=clock)
    assert set(again.books["BTCUSDT"].waiting) == {pending.order_id}
    run(again.place_order(order(bob, "BTCUSDT", "SELL", "0.1", 29000)))
    assert run(again.get_order(alice, "BTCUSDT", pending.order_id)).status is OrderStatus.NEW


def otoco(user: int, working_price: int = 29000, list_cid: str = "my-otoco") -> OtocoRequest:
    """Buy 0.1 BTC at ``working_price``; once bought, sell it at 31000 (LIMIT_MAKER above) or
    stop out at 28000 (STOP_LOSS_LIMIT at 27900 below)."""
    return OtocoRequest(
        working=order(user, "BTCUSDT", "BUY", "0.1", working_price),
        above=order(user, "BTCUSDT", "SELL", "0.1", 31000, type=LM),
        below=order(user, "BTCUSDT", "SELL", "0.1", 27900, type=SLL, stop=28000),
        list_client_order_id=list_cid,
    )


def test_an_otoco_places_its_oco_pair_once_the_working_order_fills_and_a_leg_filling_ends_it(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    placed = run(ex.place_otoco(otoco(alice)))
    working, above, below = placed.orders
    assert placed.order_list.contingency_type == "OTO" and len(placed.order_list.orders) == 3
    assert [o.status for o in placed.orders] == [
        OrderStatus.NEW,
        OrderStatus.PENDING_NEW,
        OrderStatus.PENDING_NEW,
    ]
    assert balance(ex, alice, "BTC") == (D(10), D(0)) and balance(ex, alice, "USDT")[1] == D(2900)
    run(ex.place_order(order(bob, "BTCUSDT", "SELL", "0.05", 29000)))
    assert leg_status(ex, alice, above.order_id) is OrderStatus.PENDING_NEW  # half filled: still waits
    run(ex.place_order(order(bob, "BTCUSDT", "SELL", "0.05", 29000)))
    assert leg_status(ex, alice, working.order_id) is OrderStatus.FILLED
    assert leg_status(ex, alice, above.order_id) is OrderStatus.NEW
    assert leg_status(ex, alice, below.order_id) is OrderStatus.NEW
    assert ex.books["BTCUSDT"].snapshot()[1] == [(above.order_id, D(31000), D("0.1"))]
    assert set(ex.books["BTCUSDT"].stops) == {below.order_id}
    assert balance(ex, alice, "BTC") == (D("9.9999"), D("0.1"))  # the pair locks the quantity once
    assert balance(ex, alice, "USDT") == (D(100000) - D(2900), D(0))
    lst = run(ex.get_order_list(alice, placed.order_list.list_id, None))
    assert (lst.list_status_type, lst.list_order_status) == ("EXEC_STARTED", "EXECUTING")
    assert [x.list_id for x in ex.open_order_lists(alice)] == [lst.list_id]
    run(ex.place_order(order(carol, "BTCUSDT", "BUY", "0.1", 31000)))  # the above leg fills
    assert leg_status(ex, alice, above.order_id) is OrderStatus.FILLED
    assert leg_status(ex, alice, below.order_id) is OrderStatus.EXPIRED
    assert balance(ex, alice, "BTC") == (D("9.9999"), D(0))  # less the 0.1% fee on the buy
    assert balance(ex, alice, "USDT") == (D(100000) - D(2900) + D(3100) - D("3.1"), D(0))
    done = run(ex.get_order_list(alice, lst.list_id, None))
    assert (done.list_status_type, done.list_order_status) == ("ALL_DONE", "ALL_DONE")
    assert ex.open_order_lists(alice) == [] and ex.open_orders(alice) == []


def test_an_otoco_filled_at_once_places_its_pair_in_the_same_command_and_the_stop_ends_it(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    run(ex.place_order(order(bob, "BTCUSDT", "SELL", "0.1", 29000)))
    run(ex.place_order(order(carol, "BTCUSDT", "BUY", "1", 27950)))  # the stop leg will sell here
    working, above, below = run(ex.place_otoco(otoco(alice))).orders
    assert working.status is OrderStatus.FILLED
    assert (leg_status(ex, alice, above.order_id), leg_status(ex, alice, below.order_id)) == (
        OrderStatus.NEW,
        OrderStatus.NEW,
    )
    assert balance(ex, alice, "BTC") == (D("9.9999"), D("0.1"))
    trade_at(ex, bob, carol, 28000)  # reaches the stop: it sells to carol at 27950
    assert leg_status(ex, alice, above.order_id) is OrderStatus.EXPIRED
    done = run(ex.get_order(alice, "BTCUSDT", below.order_id))
    assert (done.status, done.cummulative_quote_qty) == (OrderStatus.FILLED, D(2795))
    assert balance(ex, alice, "BTC") == (D("9.9999"), D(0))
    assert balance(ex, alice, "USDT") == (D(100000) - D(2900) + D(2795) - D("2.795"), D(0))
    assert ex.open_order_lists(alice) == [] and ex.books["BTCUSDT"].snapshot()[1] == []


def test_cancelling_any_order_of_an_otoco_cancels_all_and_an_expired_working_order_expires_the_pair(
    ex: Exchange, alice: int, bob: int
) -> None:
    working, above, below = run(ex.place_otoco(otoco(alice))).orders
    run(ex.cancel_order(alice, "BTCUSDT", working.order_id))
    assert [leg_status(ex, alice, o.order_id) for o in (working, above, below)] == [OrderStatus.CANCELED] * 3
    assert balance(ex, alice, "USDT") == (D(100000), D(0)) and ex.open_order_lists(alice) == []
    working, above, below = run(ex.place_otoco(otoco(alice, list_cid="second"))).orders
    run(ex.cancel_order(alice, "BTCUSDT", below.order_id))
    assert [leg_status(ex, alice, o.order_id) for o in (working, above, below)] == [OrderStatus.CANCELED] * 3
    assert balance(ex, alice, "USDT") == (D(100000), D(0)) and ex.open_orders(alice) == []
    placed = run(ex.place_otoco(otoco(alice, list_cid="third")))
    cancelled = run(ex.cancel_order_list(alice, "BTCUSDT", placed.order_list.list_id, None))
    assert [o.status for o in cancelled.orders] == [OrderStatus.CANCELED] * 3
    assert balance(ex, alice, "USDT") == (D(100000), D(0)) and ex.open_order_lists(alice) == []
    run(ex.place_order(order(bob, "BTCUSDT", "SELL", "0.05", 29000)))
    req = otoco(alice, list_cid="fourth")
    ioc = OtocoRequest(
        working=order(alice, "BTCUSDT", "BUY", "0.1", 29000, "IOC"),
        above=req.above,
        below=req.below,
        list_client_order_id="fourth",
    )
    working, above, below = run(ex.place_otoco(ioc)).orders
    assert working.status is OrderStatus.EXPIRED  # partly filled is not filled
    assert [leg_status(ex, alice, o.order_id) for o in (above, below)] == [OrderStatus.EXPIRED] * 2
    assert balance(ex, alice, "BTC") == (D("10.04995"), D(0)) and balance(ex, alice, "USDT")[1] == 0
    assert ex.open_orders(alice) == [] and ex.open_order_lists(alice) == []


def test_a_restart_keeps_an_otoco_waiting_and_then_its_oco_pair_linked(
    engine: Engine, ex: Exchange, clock: Clock, alice: int, bob: int, carol: int
) -> None:
    working, above, below = run(ex.place_otoco(otoco(alice))).orders
    again = Exchange(engine, now=clock)
    assert set(again.books["BTCUSDT"].waiting) == {above.order_id, below.order_id}
    run(again.place_order(order(bob, "BTCUSDT", "SELL", "0.1", 29000)))
    assert run(again.get_order(alice, "BTCUSDT", above.order_id)).status is OrderStatus.NEW
    assert balance(again, alice, "BTC") == (D("9.9999"), D("0.1"))
    third = Exchange(engine, now=clock)
    assert [x.list_id for x in third.open_order_lists(alice)] == [working.order_list_id]
    run(third.cancel_order(alice, "BTCUSDT", above.order_id))  # the link survived: both go
    assert run(third.get_order(alice, "BTCUSDT", below.order_id)).status is OrderStatus.CANCELED
    assert balance(third, alice, "BTC") == (D("10.0999"), D(0)) and third.open_order_lists(alice) == []


@pytest.mark.parametrize(
    ("above", "below", "code"),
    [
        (order(1, "BTCUSDT", "SELL", "0.1", 29000, type=SLL, stop=29000), None, -1197),
        (None, order(1, "BTCUSDT", "SELL", "0.1", 32000, type=LM), -1166),
        (order(1, "BTCUSDT", "SELL", "0.1", 27000, type=LM), None, -2010),  # above under below
    ],
)
def test_a_bad_otoco_pair_is_refused_and_changes_nothing(
    ex: Exchange, alice: int, above: object, below: object, code: int
) -> None:
    req = otoco(alice)
    bad = OtocoRequest(
        working=req.working,
        above=req.above if above is None else replace(above, user_id=alice),  # type: ignore[type-var]
        below=req.below if below is None else replace(below, user_id=alice),  # type: ignore[type-var]
    )
    before = ex.balances(alice)
    with pytest.raises(ExchangeError) as e:
        run(ex.place_otoco(bad))
    assert e.value.code == code
    assert ex.balances(alice) == before and ex.open_orders(alice) == [] and ex.open_order_lists(alice) == []


def test_an_otoco_pair_the_fill_already_stops_out_expires_and_ends_the_list(
    ex: Exchange, alice: int, bob: int
) -> None:
    run(ex.place_order(order(bob, "BTCUSDT", "SELL", "0.1", 27500)))  # the buy fills under the stop
    placed = run(ex.place_otoco(otoco(alice)))
    working, above, below = placed.orders
    assert working.status is OrderStatus.FILLED
    assert [leg_status(ex, alice, o.order_id) for o in (above, below)] == [OrderStatus.EXPIRED] * 2
    assert balance(ex, alice, "BTC") == (D("10.0999"), D(0))
    assert balance(ex, alice, "USDT") == (D(100000) - D(2750), D(0))
    done = run(ex.get_order_list(alice, placed.order_list.list_id, None))
    assert done.list_status_type == "ALL_DONE" and ex.open_orders(alice) == []
    assert ex.books["BTCUSDT"].stops == {} and ex.books["BTCUSDT"].snapshot()[1] == []
