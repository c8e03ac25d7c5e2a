"""The exchange's events after each durable batch, as streams format them (no server needed)."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import Engine

from keyplane.exchange.events import ExchangeEvents
from keyplane.exchange.models import OrderType
from keyplane.exchange.order_lists import OcoRequest, OtoRequest
from keyplane.exchange.service import Exchange
from keyplane.streams.market_streams import market_messages
from keyplane.streams.names import user_topic
from keyplane.streams.user_streams import user_messages
from tests.exchange.conftest import Clock, make_users
from tests.exchange.orders import order
from tests.exchange.test_matching import limit
from tests.support.aio import run


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ex(engine: Engine, clock: Clock) -> Exchange:
    return Exchange(engine, now=clock)


def _funded(engine: Engine, ex: Exchange, name: str) -> int:
    (uid,) = make_users(engine, name)
    run(ex.credit(uid, "USDT", D(100000), "test"))
    run(ex.credit(uid, "BTC", D(10), "test"))
    return uid


@pytest.fixture
def alice(engine: Engine, ex: Exchange) -> int:
    return _funded(engine, ex, "alice")


@pytest.fixture
def bob(engine: Engine, ex: Exchange) -> int:
    return _funded(engine, ex, "bob")


@pytest.fixture
def seen(ex: Exchange) -> list[ExchangeEvents]:
    events: list[ExchangeEvents] = []
    ex.listeners.append(events.append)
    return events


def _reports(events: list[ExchangeEvents], user: int) -> list[dict[str, Any]]:
    return [
        p
        for e in events
        for t, p in user_messages(e)
        if t == user_topic(user) and p["e"] == "executionReport"
    ]


def test_an_ioc_order_that_fills_in_part_reports_new_trades_then_expired(
    ex: Exchange, seen: list[ExchangeEvents], alice: int, bob: int
) -> None:
    run(ex.place_order(limit(bob, "SELL", "0.5", "30000")))
    run(ex.place_order(limit(bob, "SELL", "0.3", "30001")))
    run(ex.place_order(limit(alice, "BUY", "1", "30001", "IOC")))
    mine = _reports(seen, alice)
    assert [(r["x"], r["X"], r["l"], r["z"]) for r in mine] == [
        ("NEW", "NEW", "0.00000000", "0.00000000"),
        ("TRADE", "PARTIALLY_FILLED", "0.50000000", "0.50000000"),
        ("TRADE", "PARTIALLY_FILLED", "0.30000000", "0.80000000"),
        ("EXPIRED", "EXPIRED", "0.00000000", "0.80000000"),
    ]
    assert mine[1]["L"] == "30000.00000000" and mine[1]["N"] == "BTC" and mine[1]["m"] is False
    makers = _reports(seen, bob)
    assert [(r["x"], r["X"]) for r in makers][-2:] == [("TRADE", "FILLED"), ("TRADE", "FILLED")]
    assert all(r["m"] is True and r["N"] == "USDT" for r in makers if r["x"] == "TRADE")


def test_balances_and_a_credit_reach_only_their_owner(
    engine: Engine, ex: Exchange, seen: list[ExchangeEvents], alice: int, bob: int
) -> None:
    seen.clear()
    run(ex.credit(alice, "ETH", D("2.5"), "test"))
    topics = [(t, p["e"]) for e in seen for t, p in user_messages(e)]
    assert (user_topic(alice), "balanceUpdate") in topics
    assert (user_topic(alice), "outboundAccountPosition") in topics
    assert all(t == user_topic(alice) for t, _ in topics)
    update = next(p for e in seen for t, p in user_messages(e) if p["e"] == "balanceUpdate")
    assert update["a"] == "ETH" and update["d"] == "2.50000000"


def test_depth_ids_follow_each_other_per_market_and_rest_depth_shows_the_latest(
    ex: Exchange, seen: list[ExchangeEvents], alice: int, bob: int, clock: Clock
) -> None:
    run(ex.place_order(limit(alice, "BUY", "0.1", "29000")))
    run(ex.place_order(limit(bob, "SELL", "0.1", "31000")))
    run(ex.place_order(limit(alice, "BUY", "0.2", "29000")))
    diffs = [p for e in seen for t, p in market_messages(e) if t == "btcusdt@depth"]
    assert [d["U"] for d in diffs][1:] == [d["u"] + 1 for d in diffs][:-1]
    assert diffs[-1]["b"] == [["29000.00000000", "0.30000000"]]
    assert ex.depth("BTCUSDT").last_update_id == diffs[-1]["u"]


def test_a_failed_commit_tells_no_listener(engine: Engine, clock: Clock) -> None:
    failing = Exchange(engine, now=clock)
    (uid,) = make_users(engine, "carol")
    told: list[ExchangeEvents] = []
    failing.listeners.append(told.append)

    def broken(batch: object) -> None:
        raise RuntimeError("the database is gone")

    failing._write = broken  # type: ignore[method-assign]
    with pytest.raises(Exception):  # noqa: B017 - NotDurable, whatever wraps it
        run(failing.credit(uid, "USDT", D(5), "test"))
    assert told == []


def test_a_stop_order_reports_new_off_the_book_then_new_working_when_it_triggers(
    ex: Exchange, seen: list[ExchangeEvents], alice: int, bob: int
) -> None:
    run(ex.place_order(limit(bob, "SELL", "0.01", "30000")))
    run(ex.place_order(limit(alice, "BUY", "0.01", "30000")))
    seen.clear()
    stop = order(alice, "BTCUSDT", "SELL", "0.1", "29000", type=OrderType.STOP_LOSS_LIMIT, stop="29500")
    run(ex.place_order(stop))
    assert not [p for e in seen for t, p in market_messages(e) if t == "btcusdt@depth"]  # off the book
    run(ex.place_order(limit(bob, "BUY", "0.1", "29400")))
    run(ex.place_order(limit(bob, "SELL", "0.01", "29500")))
    run(ex.place_order(limit(alice, "BUY", "0.01", "29500")))  # trades at 29500: the stop triggers
    mine = [r for r in _reports(seen, alice) if r["o"] == "STOP_LOSS_LIMIT"]
    assert [(r["x"], r["X"], r["w"], r["W"] == -1, r["P"]) for r in mine] == [
        ("NEW", "NEW", False, True, "29500.00000000"),
        ("NEW", "NEW", True, False, "29500.00000000"),
        ("TRADE", "FILLED", False, False, "29500.00000000"),
    ]
    assert mine[2]["L"] == "29400.00000000" and "d" not in mine[0]
    trailing = order(alice, "BTCUSDT", "SELL", "0.1", type=OrderType.STOP_LOSS, trailing=300)
    run(ex.place_order(trailing))
    report = _reports(seen, alice)[-1]
    assert (report["o"], report["d"], report["D"] > 0, report["w"]) == ("STOP_LOSS", 300, True, False)


def test_an_oco_reports_list_status_when_placed_and_when_one_leg_fills(
    ex: Exchange, seen: list[ExchangeEvents], alice: int, bob: int
) -> None:
    run(ex.place_order(limit(bob, "SELL", "0.01", "30000")))
    run(ex.place_order(limit(alice, "BUY", "0.01", "30000")))
    seen.clear()
    oco = OcoRequest(
        above=order(alice, "BTCUSDT", "SELL", "0.1", "31000", type=OrderType.LIMIT_MAKER),
        below=order(alice, "BTCUSDT", "SELL", "0.1", type=OrderType.STOP_LOSS, stop="29000"),
        list_client_order_id="list-1",
    )
    placed = run(ex.place_oco(oco))
    run(ex.place_order(limit(bob, "BUY", "0.1", "31000")))
    messages = [p for e in seen for t, p in user_messages(e) if t == user_topic(alice)]
    lists = [p for p in messages if p["e"] == "listStatus"]
    assert [(p["c"], p["l"], p["L"], p["C"]) for p in lists] == [
        ("OCO", "EXEC_STARTED", "EXECUTING", "list-1"),
        ("OCO", "ALL_DONE", "ALL_DONE", "list-1"),
    ]
    assert [o["i"] for o in lists[0]["O"]] == [o.order_id for o in placed.orders]
    reports = [(p["i"], p["x"], p["g"]) for p in messages if p["e"] == "executionReport"]
    above, below = (o.order_id for o in placed.orders)
    list_id = placed.order_list.list_id
    assert (below, "EXPIRED", list_id) in reports and (above, "TRADE", list_id) in reports


def test_an_oto_pending_order_reports_pending_new_then_new_when_placed(
    ex: Exchange, seen: list[ExchangeEvents], alice: int, bob: int
) -> None:
    oto = OtoRequest(
        working=order(alice, "BTCUSDT", "BUY", "0.1", "29000"),
        pending=order(alice, "BTCUSDT", "SELL", "0.1", "31000"),
    )
    pending = run(ex.place_oto(oto)).orders[1]
    run(ex.place_order(limit(bob, "SELL", "0.1", "29000")))
    mine = [r for r in _reports(seen, alice) if r["i"] == pending.order_id]
    assert [(r["x"], r["X"], r["w"]) for r in mine] == [("NEW", "PENDING_NEW", False), ("NEW", "NEW", True)]
    lists = [p for e in seen for t, p in user_messages(e) if p["e"] == "listStatus"]
    assert [(p["c"], p["l"]) for p in lists] == [("OTO", "EXEC_STARTED"), ("OTO", "ALL_DONE")]


def test_an_order_self_trade_prevention_expires_reports_trade_prevention_with_the_match(
    ex: Exchange, seen: list[ExchangeEvents], alice: int
) -> None:
    maker = run(ex.place_order(limit(alice, "SELL", "0.4", "30000"))).order
    seen.clear()
    run(ex.place_order(limit(alice, "BUY", "0.1", "30000")))  # STP EXPIRE_MAKER, the default
    by_order = {r["i"]: r for r in _reports(seen, alice)}
    expired = by_order[maker.order_id]
    assert (expired["x"], expired["X"], expired["v"], expired["A"], expired["B"]) == (
        "TRADE_PREVENTION", "EXPIRED_IN_MATCH", 1, "0.40000000", "0.40000000"
    )  # fmt: skip
    assert not {"v", "A", "B"} & {k for i, r in by_order.items() if i != maker.order_id for k in r}
