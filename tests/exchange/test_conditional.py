"""Stop-loss and take-profit orders: pending off the book, triggered by the last trade price."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import Engine

from keyplane.exchange.errors import ExchangeError
from keyplane.exchange.models import OrderStatus, OrderType
from keyplane.exchange.service import Exchange
from tests.exchange.conftest import Clock, make_users
from tests.exchange.orders import order
from tests.support.aio import run

SL, SLL = OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT
TP, TPL = OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT
NEW, FILLED, CANCELED = OrderStatus.NEW, OrderStatus.FILLED, OrderStatus.CANCELED


def trade_at(ex: Exchange, maker: int, taker: int, price: int | str, qty: str = "0.01") -> None:
    """One trade on BTCUSDT at ``price``: ``maker`` rests a sell, ``taker`` buys it."""
    run(ex.place_order(order(maker, "BTCUSDT", "SELL", qty, price)))
    run(ex.place_order(order(taker, "BTCUSDT", "BUY", qty, price)))


def balance(ex: Exchange, uid: int, asset: str) -> tuple[D, D]:
    b = next(b for b in ex.balances(uid) if b.asset == asset)
    return b.free, b.locked


def status(ex: Exchange, uid: int, order_id: int) -> OrderStatus:
    return run(ex.get_order(uid, "BTCUSDT", order_id)).status


def test_stop_loss_limit_sell_waits_off_the_book_then_triggers_when_the_price_falls_to_it(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    trade_at(ex, bob, carol, 30000)
    placed = run(ex.place_order(order(alice, "BTCUSDT", "SELL", "0.5", 29000, type=SLL, stop=29500)))
    o = placed.order
    assert (o.status, o.working_time, o.stop_price, o.is_working) == (NEW, -1, D(29500), False)
    assert balance(ex, alice, "BTC") == (D("9.5"), D("0.5"))  # locked at placement
    assert ex.books["BTCUSDT"].snapshot() == ([], [])  # not in the book
    assert [x.order_id for x in ex.open_orders(alice)] == [o.order_id]
    trade_at(ex, bob, carol, 29600)  # above the stop: still pending
    assert run(ex.get_order(alice, "BTCUSDT", o.order_id)).working_time == -1
    run(ex.place_order(order(carol, "BTCUSDT", "BUY", "0.2", 29000)))  # a bid for the stop to hit later
    trade_at(ex, bob, carol, 29500)  # last price reaches the stop: triggers, sells 0.2 at 29000
    now = run(ex.get_order(alice, "BTCUSDT", o.order_id))
    assert now.working_time > 0 and now.is_working
    assert (now.status, now.executed_qty, now.price) == (OrderStatus.PARTIALLY_FILLED, D("0.2"), D(29000))
    _, asks = ex.books["BTCUSDT"].snapshot()
    assert asks == [(o.order_id, D(29000), D("0.3"))]  # the rest works as a LIMIT GTC at its price


def test_take_profit_buy_triggers_on_a_fall_and_runs_as_a_market_order(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    trade_at(ex, bob, carol, 30000)
    o = run(ex.place_order(order(alice, "BTCUSDT", "BUY", "0.1", type=TP, stop=29000))).order
    assert balance(ex, alice, "USDT") == (D(100000) - D(2900), D(2900))  # quantity x stop price
    run(ex.place_order(order(bob, "BTCUSDT", "SELL", "1", 28950)))
    run(ex.place_order(order(carol, "BTCUSDT", "BUY", "0.01", 29000)))  # trades at 28950
    done = run(ex.get_order(alice, "BTCUSDT", o.order_id))
    assert (done.status, done.executed_qty) == (FILLED, D("0.1"))
    assert done.cummulative_quote_qty == D(2895)
    assert balance(ex, alice, "USDT") == (D(100000) - D(2895), D(0))  # the unspent lock comes back


def test_stop_loss_buy_triggers_on_a_rise(ex: Exchange, alice: int, bob: int, carol: int) -> None:
    trade_at(ex, bob, carol, 30000)
    o = run(ex.place_order(order(alice, "BTCUSDT", "BUY", "0.1", type=SL, stop=31000))).order
    run(ex.place_order(order(bob, "BTCUSDT", "SELL", "1", 31000)))
    run(ex.place_order(order(carol, "BTCUSDT", "BUY", "0.01", 31000)))
    done = run(ex.get_order(alice, "BTCUSDT", o.order_id))
    assert (done.status, done.executed_qty, done.cummulative_quote_qty) == (FILLED, D("0.1"), D(3100))


def test_a_stop_price_the_last_trade_already_meets_is_refused_and_changes_nothing(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    trade_at(ex, bob, carol, 30000)
    before = (ex.balances(alice), ex.open_orders(alice))
    for req in (
        order(alice, "BTCUSDT", "SELL", "0.1", 29000, type=SLL, stop=30000),
        order(alice, "BTCUSDT", "BUY", "0.1", type=SL, stop=29999),
        order(alice, "BTCUSDT", "SELL", "0.1", type=TP, stop=29000),
        order(alice, "BTCUSDT", "BUY", "0.1", 30000, type=TPL, stop=30001),
    ):
        with pytest.raises(ExchangeError) as e:
            run(ex.place_order(req))
        assert (e.value.code, e.value.msg) == (-2010, "Order would trigger immediately.")
    assert (ex.balances(alice), ex.open_orders(alice)) == before


@pytest.mark.parametrize(
    ("kwargs", "code", "msg"),
    [
        (
            {"type": SLL, "price": 29000},
            -1102,
            "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!",
        ),
        ({"type": SL, "price": 29000, "stop": 29000}, -1106, "Parameter 'price' sent when not required."),
        ({"type": SL, "stop": 29000, "tif": "GTC"}, -1106, "Parameter 'timeInForce' sent when not required."),
        (
            {"type": SLL, "stop": 29000},
            -1102,
            "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
        ),
        ({"type": SL, "stop": "29000.001"}, -1013, "Filter failure: PRICE_FILTER"),
        ({"type": SL, "trailing": 9}, -1013, "Filter failure: TRAILING_DELTA"),
        ({"type": SL, "trailing": 2001}, -1013, "Filter failure: TRAILING_DELTA"),
        (
            {"type": OrderType.LIMIT, "price": 29000, "stop": 29000},
            -1106,
            "Parameter 'stopPrice' sent when not required.",
        ),
        (
            {"type": OrderType.MARKET, "trailing": 100},
            -1106,
            "Parameter 'trailingDelta' sent when not required.",
        ),
    ],
)
def test_conditional_parameters_are_checked_as_binance_does(
    ex: Exchange, alice: int, kwargs: dict[str, object], code: int, msg: str
) -> None:
    price = kwargs.pop("price", None)
    with pytest.raises(ExchangeError) as e:
        run(ex.place_order(order(alice, "BTCUSDT", "SELL", "0.1", price, **kwargs)))  # type: ignore[arg-type]
    assert (e.value.code, e.value.msg) == (code, msg)
    assert ex.open_orders(alice) == []


def test_a_stop_buy_without_quote_at_its_stop_price_is_refused(ex: Exchange, engine: Engine) -> None:
    (poor,) = make_users(engine, "poor")
    run(ex.credit(poor, "USDT", D(2999), "test"))
    with pytest.raises(ExchangeError) as e:
        run(ex.place_order(order(poor, "BTCUSDT", "BUY", "0.1", type=SL, stop=30000)))
    assert e.value.code == -2010 and "insufficient balance" in e.value.msg


def test_triggered_fills_trigger_further_stops_in_the_same_command(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    trade_at(ex, bob, carol, 30000)
    for price in (29900, 29500, 29400):
        run(ex.place_order(order(carol, "BTCUSDT", "BUY", "0.1", price)))
    first = run(ex.place_order(order(alice, "BTCUSDT", "SELL", "0.2", type=SL, stop=29950))).order
    second = run(ex.place_order(order(bob, "BTCUSDT", "SELL", "0.1", type=SL, stop=29800))).order
    third = run(ex.place_order(order(bob, "BTCUSDT", "SELL", "0.1", type=SL, stop=29000))).order
    # A trade at 29950 triggers the first stop; it sells at 29900 and 29500, which triggers the
    # second; that one sells at 29400, above the third's stop.
    run(ex.place_order(order(carol, "BTCUSDT", "SELL", "0.01", 29950)))
    placed = run(ex.place_order(order(bob, "BTCUSDT", "BUY", "0.01", 29950)))
    assert [(f.price, f.qty) for f in placed.fills] == [(D(29950), D("0.01"))]
    assert status(ex, alice, first.order_id) is FILLED
    assert status(ex, bob, second.order_id) is FILLED
    assert status(ex, bob, third.order_id) is NEW
    assert ex.books["BTCUSDT"].last_price == ex.books["BTCUSDT"].units.ticks(D(29400))


def test_the_placing_orders_fills_are_its_own_when_it_triggers_a_stop(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    trade_at(ex, bob, carol, 30000)
    run(ex.place_order(order(carol, "BTCUSDT", "BUY", "0.5", 29900)))
    run(ex.place_order(order(alice, "BTCUSDT", "SELL", "0.1", type=SL, stop=29900)))
    placed = run(ex.place_order(order(bob, "BTCUSDT", "SELL", "0.2", 29900)))
    assert [(f.price, f.qty) for f in placed.fills] == [(D(29900), D("0.2"))]


def test_cancelling_a_pending_stop_releases_its_funds(ex: Exchange, alice: int, bob: int, carol: int) -> None:
    trade_at(ex, bob, carol, 30000)
    o = run(ex.place_order(order(alice, "BTCUSDT", "BUY", "0.1", 31500, type=SLL, stop=31000))).order
    assert balance(ex, alice, "USDT") == (D(100000) - D(3150), D(3150))
    cancelled = run(ex.cancel_order(alice, "BTCUSDT", o.order_id))
    assert cancelled.status is CANCELED
    assert balance(ex, alice, "USDT") == (D(100000), D(0))
    assert ex.open_orders(alice) == [] and not ex.books["BTCUSDT"].stops
    other = run(ex.place_order(order(alice, "BTCUSDT", "SELL", "0.1", type=TP, stop=31000))).order
    assert [o.order_id for o in run(ex.cancel_open_orders(alice, "BTCUSDT"))] == [other.order_id]
    assert balance(ex, alice, "BTC") == (D(10), D(0))


def test_a_trailing_sell_tracks_the_highest_price_and_triggers_on_the_drop(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    trade_at(ex, bob, carol, 30000)
    o = run(ex.place_order(order(alice, "BTCUSDT", "SELL", "0.1", type=SL, trailing=100))).order
    assert o.trailing_delta == 100 and o.trailing_time > 0  # no stop price: tracks from placement
    trade_at(ex, bob, carol, 31000)  # new high: triggers at 31000 x 0.99 = 30690
    trade_at(ex, bob, carol, 30700)
    assert status(ex, alice, o.order_id) is NEW
    run(ex.place_order(order(carol, "BTCUSDT", "BUY", "1", 30000)))
    trade_at(ex, bob, carol, 30690)
    done = run(ex.get_order(alice, "BTCUSDT", o.order_id))
    assert (done.status, done.cummulative_quote_qty) == (FILLED, D(3000))


def test_a_trailing_buy_with_a_stop_price_starts_tracking_once_the_price_reaches_it(
    ex: Exchange, alice: int, bob: int, carol: int
) -> None:
    trade_at(ex, bob, carol, 30000)
    o = run(ex.place_order(order(alice, "BTCUSDT", "BUY", "0.1", 33000, type=SLL, stop=31000, trailing=500)))
    oid = o.order.order_id
    trade_at(ex, bob, carol, 28000)  # down 6.7 %: ignored, not tracking yet
    assert run(ex.get_order(alice, "BTCUSDT", oid)).trailing_time == -1
    trade_at(ex, bob, carol, 31000)  # reaches the stop: tracks from 31000
    trade_at(ex, bob, carol, 30000)  # new low
    assert run(ex.get_order(alice, "BTCUSDT", oid)).trail_price == D(30000)
    trade_at(ex, bob, carol, 31499)  # +4.997 %: not yet
    assert status(ex, alice, oid) is NEW
    trade_at(ex, bob, carol, 31500)  # +5 %: triggers, works at 33000
    assert run(ex.get_order(alice, "BTCUSDT", oid)).is_working


def test_a_restart_keeps_pending_stops_and_their_tracked_peak(
    engine: Engine, ex: Exchange, clock: Clock, alice: int, bob: int, carol: int
) -> None:
    trade_at(ex, bob, carol, 30000)
    stop = run(ex.place_order(order(alice, "BTCUSDT", "SELL", "0.1", 29000, type=SLL, stop=29500))).order
    trail = run(ex.place_order(order(alice, "BTCUSDT", "SELL", "0.1", type=SL, trailing=100))).order
    trade_at(ex, bob, carol, 31000)
    again = Exchange(engine, now=clock)
    assert [o.order_id for o in again.open_orders(alice)] == [stop.order_id, trail.order_id]
    assert again.books["BTCUSDT"].snapshot() == ([], [])
    assert set(again.books["BTCUSDT"].stops) == {stop.order_id, trail.order_id}
    assert run(again.get_order(alice, "BTCUSDT", trail.order_id)).trail_price == D(31000)
    assert balance(again, alice, "BTC") == (D("9.8"), D("0.2"))
    with pytest.raises(ExchangeError):  # the last price survives too: 29500 is not above 31000
        run(again.place_order(order(alice, "BTCUSDT", "BUY", "0.1", type=SL, stop=30999)))
    run(again.place_order(order(carol, "BTCUSDT", "BUY", "1", 29600)))
    trade_at(again, bob, carol, 30690)  # 1 % under the 31000 peak: the trailing stop sells
    assert status(again, alice, trail.order_id) is FILLED
    assert status(again, alice, stop.order_id) is NEW


def test_a_triggered_stop_keeps_its_place_behind_older_orders_across_a_restart(
    engine: Engine, ex: Exchange, clock: Clock, alice: int, bob: int, carol: int
) -> None:
    trade_at(ex, bob, carol, 30000)
    stop = run(ex.place_order(order(alice, "BTCUSDT", "SELL", "0.1", 29600, type=SLL, stop=29500))).order
    older = run(ex.place_order(order(bob, "BTCUSDT", "SELL", "0.1", 29600))).order
    trade_at(ex, bob, carol, 29500)  # triggers the stop: it joins the level at 29600 behind bob's
    asks = [oid for oid, _, _ in ex.books["BTCUSDT"].snapshot()[1]]
    assert asks == [older.order_id, stop.order_id]
    again = Exchange(engine, now=clock)
    assert [oid for oid, _, _ in again.books["BTCUSDT"].snapshot()[1]] == asks
