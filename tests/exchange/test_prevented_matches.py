"""Prevented matches: each time self-trade prevention keeps an account's taker from trading with
its own maker, the match is recorded (as Binance's ``myPreventedMatches`` answers it), by market,
with ids that survive a restart; STP NONE trades and records nothing."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import Engine

from keyplane.exchange.errors import InvalidParameter
from keyplane.exchange.markets import StpMode
from keyplane.exchange.models import OrderStatus
from keyplane.exchange.service import Exchange
from tests.exchange.conftest import Clock
from tests.exchange.test_matching import limit
from tests.support.aio import run


@pytest.mark.parametrize("mode", [StpMode.EXPIRE_TAKER, StpMode.EXPIRE_MAKER, StpMode.EXPIRE_BOTH])
def test_each_mode_records_the_match_it_prevented(
    ex: Exchange, clock: Clock, alice: int, mode: StpMode
) -> None:
    maker = run(ex.place_order(limit(alice, "SELL", "0.3", "30000"))).order
    run(ex.place_order(limit(alice, "BUY", "0.1", "29000")))  # the buyer's own bid is not met
    taker = run(ex.place_order(limit(alice, "BUY", "0.1", "30000", self_trade_prevention_mode=mode))).order
    assert OrderStatus.EXPIRED_IN_MATCH in (
        taker.status,
        run(ex.get_order(alice, "BTCUSDT", maker.order_id)).status,
    )
    (match,) = ex.prevented_matches(alice, "BTCUSDT", order_id=taker.order_id)
    assert (match.prevented_match_id, match.symbol, match.taker_order_id, match.maker_order_id) == (
        1, "BTCUSDT", taker.order_id, maker.order_id
    )  # fmt: skip
    assert (match.mode, match.price, match.maker_prevented_qty, match.user_id) == (
        mode,
        D(30000),
        D("0.3"),
        alice,
    )
    assert match.time == clock.t
    assert ex.prevented_matches(alice, "BTCUSDT", order_id=maker.order_id) == [match]  # the maker's too
    assert ex.prevented_matches(alice, "BTCUSDT", prevented_match_id=1) == [match]
    # The orders it expired carry the match and what expired; the others do not.
    expired = {"maker": D("0.3"), "taker": D("0.1")}
    for side, order_id in (("maker", maker.order_id), ("taker", taker.order_id)):
        record = run(ex.get_order(alice, "BTCUSDT", order_id))
        if record.status is OrderStatus.EXPIRED_IN_MATCH:
            assert (record.prevented_match_id, record.prevented_quantity) == (1, expired[side])
        else:
            assert (record.prevented_match_id, record.prevented_quantity) == (0, D(0))


def test_a_taker_meeting_two_own_makers_records_both_and_ids_go_on_after_a_restart(
    engine: Engine, clock: Clock, ex: Exchange, alice: int, bob: int
) -> None:
    first = run(ex.place_order(limit(alice, "SELL", "0.1", "30000"))).order
    second = run(ex.place_order(limit(alice, "SELL", "0.1", "30001"))).order
    run(ex.place_order(limit(bob, "SELL", "0.1", "30002")))
    taker = run(
        ex.place_order(limit(alice, "BUY", "0.1", "30002", self_trade_prevention_mode=StpMode.EXPIRE_MAKER))
    )
    assert taker.order.status is OrderStatus.FILLED and len(taker.fills) == 1  # with bob, past its own two
    found = ex.prevented_matches(alice, "BTCUSDT", order_id=taker.order.order_id)
    assert [(m.prevented_match_id, m.maker_order_id) for m in found] == [
        (1, first.order_id),
        (2, second.order_id),
    ]
    assert [
        m.prevented_match_id
        for m in ex.prevented_matches(alice, "BTCUSDT", order_id=taker.order.order_id, from_id=2)
    ] == [2]
    assert ex.prevented_matches(bob, "BTCUSDT", prevented_match_id=1) == []  # not bob's

    again = Exchange(engine, now=clock)
    own = run(again.place_order(limit(alice, "SELL", "0.1", "31000"))).order
    run(
        again.place_order(
            limit(alice, "BUY", "0.1", "31000", self_trade_prevention_mode=StpMode.EXPIRE_TAKER)
        )
    )
    assert [
        m.prevented_match_id for m in again.prevented_matches(alice, "BTCUSDT", order_id=own.order_id)
    ] == [3]
    run(again.credit(alice, "ETH", D(10), "test"))
    eth = run(again.place_order(limit(alice, "SELL", "1", "2000", symbol="ETHUSDT"))).order
    run(
        again.place_order(
            limit(
                alice, "BUY", "1", "2000", symbol="ETHUSDT", self_trade_prevention_mode=StpMode.EXPIRE_TAKER
            )
        )
    )
    assert [
        m.prevented_match_id for m in again.prevented_matches(alice, "ETHUSDT", order_id=eth.order_id)
    ] == [1]


def test_stp_none_trades_and_records_nothing(ex: Exchange, alice: int) -> None:
    maker = run(ex.place_order(limit(alice, "SELL", "0.1", "30000"))).order
    run(ex.place_order(limit(alice, "BUY", "0.1", "30000", self_trade_prevention_mode=StpMode.NONE)))
    assert ex.prevented_matches(alice, "BTCUSDT", order_id=maker.order_id) == []


def test_the_query_takes_binances_combinations_only(ex: Exchange, alice: int) -> None:
    with pytest.raises(InvalidParameter) as neither:
        ex.prevented_matches(alice, "BTCUSDT")
    assert neither.value.code == -1102
    with pytest.raises(InvalidParameter) as both:
        ex.prevented_matches(alice, "BTCUSDT", prevented_match_id=1, order_id=1)
    assert both.value.code == -1128
    with pytest.raises(InvalidParameter) as unknown:
        ex.prevented_matches(alice, "NOPEUSDT", prevented_match_id=1)
    assert unknown.value.code == -1121
