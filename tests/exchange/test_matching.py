"""Matching behaviours: fills, time in force, order types, self-trade prevention, cancels."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from typing import Any

import pytest

from keyplane.exchange.errors import DuplicateOrder, UnknownOrder, WouldTakeAsMaker
from keyplane.exchange.markets import StpMode
from keyplane.exchange.models import OrderStatus, OrderType, Side
from keyplane.exchange.orders import OrderRequest
from keyplane.exchange.service import Exchange
from tests.exchange.orders import order
from tests.support.aio import run


def limit(user: int, side: str, qty: str, price: str, tif: str = "GTC", **kw: Any) -> OrderRequest:
    return replace(order(user, "BTCUSDT", side, qty, price, tif), **kw)


def market(user: int, side: str, **kw: Any) -> OrderRequest:
    return replace(order(user, "BTCUSDT", side, None, type=OrderType.MARKET), **kw)


def free(ex: Exchange, user: int, asset: str) -> D:
    found: D = next(b.free for b in ex.balances(user) if b.asset == asset)
    return found


def locked(ex: Exchange, user: int, asset: str) -> D:
    found: D = next(b.locked for b in ex.balances(user) if b.asset == asset)
    return found


def test_resting_limit_order_locks_quote_at_its_price(ex: Exchange, alice: int) -> None:
    placed = run(ex.place_order(limit(alice, "BUY", "0.5", "20000")))
    assert placed.order.status is OrderStatus.NEW
    assert locked(ex, alice, "USDT") == D(10000)
    assert free(ex, alice, "USDT") == D(90000)
    assert ex.depth("BTCUSDT").bids == [(D(20000), D("0.5"))]


def test_crossing_order_partially_fills_the_maker_at_the_maker_price(
    ex: Exchange, alice: int, bob: int
) -> None:
    maker = run(ex.place_order(limit(alice, "SELL", "1", "30000"))).order
    taker = run(ex.place_order(limit(bob, "BUY", "0.4", "30100")))
    assert taker.order.status is OrderStatus.FILLED
    assert [(f.price, f.qty, f.commission, f.commission_asset) for f in taker.fills] == [
        (D(30000), D("0.4"), D("0.0004"), "BTC")
    ]
    assert run(ex.get_order(alice, "BTCUSDT", maker.order_id)).status is OrderStatus.PARTIALLY_FILLED
    # Buyer locked at 30100, paid 30000: the difference is back in free, nothing stays locked.
    assert locked(ex, bob, "USDT") == 0
    assert free(ex, bob, "USDT") == D(100000) - D(12000)
    assert free(ex, bob, "BTC") == D("10.3996")
    assert free(ex, alice, "USDT") == D(100000) + D(12000) - D(12)  # maker fee on quote received
    assert locked(ex, alice, "BTC") == D("0.6")


def test_price_time_priority_fills_best_price_then_oldest(ex: Exchange, alice: int, bob: int) -> None:
    a1 = run(ex.place_order(limit(alice, "SELL", "0.1", "30010"))).order
    a2 = run(ex.place_order(limit(alice, "SELL", "0.1", "30000"))).order
    a3 = run(ex.place_order(limit(alice, "SELL", "0.1", "30000"))).order
    placed = run(ex.place_order(limit(bob, "BUY", "0.25", "30010")))
    trades = ex.my_trades(alice, "BTCUSDT")
    assert [t.order_id for t in trades] == [a2.order_id, a3.order_id, a1.order_id]
    assert [t.qty for t in trades] == [D("0.1"), D("0.1"), D("0.05")]
    assert placed.order.cummulative_quote_qty == D(3000) + D(3000) + D("1500.5")


def test_fok_that_cannot_fill_entirely_expires_without_trading(ex: Exchange, alice: int, bob: int) -> None:
    run(ex.place_order(limit(alice, "SELL", "0.1", "30000")))
    placed = run(ex.place_order(limit(bob, "BUY", "0.2", "30000", "FOK")))
    assert placed.order.status is OrderStatus.EXPIRED and placed.fills == []
    assert ex.recent_trades("BTCUSDT") == []
    assert locked(ex, bob, "USDT") == 0 and free(ex, bob, "USDT") == D(100000)


def test_fok_that_can_fill_fills(ex: Exchange, alice: int, bob: int) -> None:
    run(ex.place_order(limit(alice, "SELL", "0.3", "30000")))
    assert run(ex.place_order(limit(bob, "BUY", "0.2", "30000", "FOK"))).order.status is OrderStatus.FILLED


def test_ioc_remainder_expires_and_is_unlocked(ex: Exchange, alice: int, bob: int) -> None:
    run(ex.place_order(limit(alice, "SELL", "0.1", "30000")))
    placed = run(ex.place_order(limit(bob, "BUY", "0.3", "30000", "IOC")))
    assert placed.order.status is OrderStatus.EXPIRED
    assert placed.order.executed_qty == D("0.1")
    assert locked(ex, bob, "USDT") == 0
    assert ex.depth("BTCUSDT").bids == []


def test_limit_maker_that_would_take_is_refused_and_changes_nothing(
    ex: Exchange, alice: int, bob: int
) -> None:
    run(ex.place_order(limit(alice, "SELL", "0.1", "30000")))
    before = ex.balances(bob)
    with pytest.raises(WouldTakeAsMaker) as err:
        run(
            ex.place_order(
                OrderRequest(
                    user_id=bob,
                    symbol="BTCUSDT",
                    side=Side.BUY,
                    type=OrderType.LIMIT_MAKER,
                    quantity=D("0.1"),
                    price=D(30000),
                )
            )
        )
    assert (err.value.code, err.value.msg) == (-2010, "Order would immediately match and take.")
    assert ex.balances(bob) == before
    assert ex.all_orders(bob, "BTCUSDT") == []


def test_limit_maker_that_does_not_cross_rests(ex: Exchange, alice: int, bob: int) -> None:
    run(ex.place_order(limit(alice, "SELL", "0.1", "30000")))
    placed = run(
        ex.place_order(
            OrderRequest(
                user_id=bob,
                symbol="BTCUSDT",
                side=Side.BUY,
                type=OrderType.LIMIT_MAKER,
                quantity=D("0.1"),
                price=D(29999),
            )
        )
    )
    assert placed.order.status is OrderStatus.NEW


def test_market_buy_by_quote_qty_spends_at_most_the_quote(ex: Exchange, alice: int, bob: int) -> None:
    run(ex.place_order(limit(alice, "SELL", "0.1", "30000")))
    run(ex.place_order(limit(alice, "SELL", "1", "31000")))
    placed = run(ex.place_order(market(bob, "BUY", quote_order_qty=D(6100))))
    o = placed.order
    assert o.status is OrderStatus.FILLED
    assert o.orig_quote_order_qty == D(6100)
    # 0.1 @ 30000 = 3000, then floor((3100 / 31000) to 0.00001) = 0.1 @ 31000 = 3100.
    assert o.executed_qty == D("0.2") and o.cummulative_quote_qty == D(6100)
    assert free(ex, bob, "USDT") == D(100000) - D(6100)
    assert locked(ex, bob, "USDT") == 0


def test_market_buy_by_quote_that_empties_the_book_exactly_is_filled(
    ex: Exchange, alice: int, bob: int
) -> None:
    run(ex.place_order(limit(alice, "SELL", "0.1", "30000")))
    placed = run(ex.place_order(market(bob, "BUY", quote_order_qty=D(3000))))
    assert placed.order.status is OrderStatus.FILLED
    assert placed.order.executed_qty == D("0.1") and ex.depth("BTCUSDT").asks == []


def test_market_buy_by_quote_with_quote_left_when_the_book_runs_out_expires(
    ex: Exchange, alice: int, bob: int
) -> None:
    run(ex.place_order(limit(alice, "SELL", "0.1", "30000")))
    placed = run(ex.place_order(market(bob, "BUY", quote_order_qty=D(5000))))
    assert placed.order.status is OrderStatus.EXPIRED
    assert placed.order.cummulative_quote_qty == D(3000)
    assert locked(ex, bob, "USDT") == 0


def test_market_sell_by_quantity_on_thin_book_expires_the_rest(ex: Exchange, alice: int, bob: int) -> None:
    run(ex.place_order(limit(alice, "BUY", "0.1", "30000")))
    placed = run(ex.place_order(market(bob, "SELL", quantity=D("0.5"))))
    assert placed.order.status is OrderStatus.EXPIRED
    assert placed.order.executed_qty == D("0.1")
    assert locked(ex, bob, "BTC") == 0 and free(ex, bob, "BTC") == D("9.9")


def test_market_buy_by_quantity_locks_against_available_and_fills(ex: Exchange, alice: int, bob: int) -> None:
    run(ex.place_order(limit(alice, "SELL", "0.1", "30000")))
    run(ex.place_order(limit(alice, "SELL", "0.1", "30500")))
    placed = run(ex.place_order(market(bob, "BUY", quantity=D("0.15"))))
    assert placed.order.status is OrderStatus.FILLED
    assert placed.order.cummulative_quote_qty == D(3000) + D(1525)
    assert free(ex, bob, "USDT") == D(100000) - D(4525) and locked(ex, bob, "USDT") == 0


@pytest.mark.parametrize(
    ("mode", "taker_status", "maker_status", "traded_with_other"),
    [
        (StpMode.EXPIRE_TAKER, OrderStatus.EXPIRED_IN_MATCH, OrderStatus.NEW, False),
        (StpMode.EXPIRE_MAKER, OrderStatus.FILLED, OrderStatus.EXPIRED_IN_MATCH, True),
        (StpMode.EXPIRE_BOTH, OrderStatus.EXPIRED_IN_MATCH, OrderStatus.EXPIRED_IN_MATCH, False),
    ],
)
def test_self_trade_prevention_follows_the_takers_mode(
    ex: Exchange,
    alice: int,
    bob: int,
    mode: StpMode,
    taker_status: OrderStatus,
    maker_status: OrderStatus,
    traded_with_other: bool,
) -> None:
    own = run(ex.place_order(limit(alice, "SELL", "0.1", "30000"))).order
    run(ex.place_order(limit(bob, "SELL", "0.1", "30000")))
    placed = run(ex.place_order(limit(alice, "BUY", "0.1", "30000", self_trade_prevention_mode=mode)))
    assert placed.order.status is taker_status
    assert run(ex.get_order(alice, "BTCUSDT", own.order_id)).status is maker_status
    assert (len(placed.fills) == 1) is traded_with_other
    assert locked(ex, alice, "USDT") == 0
    assert locked(ex, alice, "BTC") == (D("0.1") if maker_status is OrderStatus.NEW else 0)


def test_stp_none_lets_an_account_trade_with_itself(ex: Exchange, alice: int) -> None:
    run(ex.place_order(limit(alice, "SELL", "0.1", "30000")))
    placed = run(ex.place_order(limit(alice, "BUY", "0.1", "30000", self_trade_prevention_mode=StpMode.NONE)))
    assert placed.order.status is OrderStatus.FILLED
    trades = ex.my_trades(alice, "BTCUSDT")
    assert sorted(t.is_buyer for t in trades) == [False, True]
    assert free(ex, alice, "BTC") == D(10) - D("0.0001")  # lost only the fee


def test_cancel_releases_the_lock_and_a_second_cancel_is_unknown(ex: Exchange, alice: int) -> None:
    o = run(ex.place_order(limit(alice, "BUY", "0.1", "30000", client_order_id="mine-1"))).order
    canceled = run(ex.cancel_order(alice, "BTCUSDT", orig_client_order_id="mine-1"))
    assert canceled.status is OrderStatus.CANCELED and canceled.order_id == o.order_id
    assert locked(ex, alice, "USDT") == 0
    with pytest.raises(UnknownOrder) as err:
        run(ex.cancel_order(alice, "BTCUSDT", o.order_id))
    assert (err.value.code, err.value.msg) == (-2011, "Unknown order sent.")


def test_cancel_of_someone_elses_order_is_unknown(ex: Exchange, alice: int, bob: int) -> None:
    o = run(ex.place_order(limit(alice, "BUY", "0.1", "30000"))).order
    with pytest.raises(UnknownOrder):
        run(ex.cancel_order(bob, "BTCUSDT", o.order_id))


def test_cancel_open_orders_cancels_only_that_symbol(ex: Exchange, alice: int) -> None:
    run(ex.credit(alice, "ETH", D(5), "test"))
    run(ex.place_order(limit(alice, "BUY", "0.1", "30000")))
    run(ex.place_order(limit(alice, "BUY", "0.1", "29000")))
    run(ex.place_order(order(alice, "ETHUSDT", "SELL", 1, 2000)))
    canceled = run(ex.cancel_open_orders(alice, "BTCUSDT"))
    assert [o.status for o in canceled] == [OrderStatus.CANCELED] * 2
    assert [o.symbol for o in ex.open_orders(alice)] == ["ETHUSDT"]
    assert locked(ex, alice, "USDT") == 0


def test_duplicate_open_client_order_id_is_refused(ex: Exchange, alice: int) -> None:
    run(ex.place_order(limit(alice, "BUY", "0.1", "30000", client_order_id="dup")))
    with pytest.raises(DuplicateOrder) as err:
        run(ex.place_order(limit(alice, "BUY", "0.1", "29000", client_order_id="dup")))
    assert (err.value.code, err.value.msg) == (-2010, "Duplicate order sent.")
    run(ex.cancel_order(alice, "BTCUSDT", orig_client_order_id="dup"))
    assert (
        run(ex.place_order(limit(alice, "BUY", "0.1", "29000", client_order_id="dup"))).order.status
        is OrderStatus.NEW
    )


def test_order_ids_increase_and_client_ids_are_generated(ex: Exchange, alice: int) -> None:
    a = run(ex.place_order(limit(alice, "BUY", "0.1", "30000"))).order
    b = run(ex.place_order(limit(alice, "BUY", "0.1", "30000"))).order
    assert b.order_id > a.order_id
    assert a.client_order_id != b.client_order_id and len(a.client_order_id) <= 36
    assert run(ex.get_order(alice, "BTCUSDT", orig_client_order_id=b.client_order_id)).order_id == b.order_id
