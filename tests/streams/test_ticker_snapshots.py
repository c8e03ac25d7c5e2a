"""A symbol's ticker streams send nothing for a market without a trade in the window, as Binance's.

A first message of zeros used to go out at subscription: ccxt pro reads zero prices as "no last
price", so ``watch_ticker`` could answer ``last=None`` on a market that traded a moment later.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine

from keyplane.exchange.service import Exchange
from keyplane.streams.derived import Derived
from keyplane.streams.hub import Hub
from tests.exchange.conftest import T0, make_users
from tests.exchange.orders import order
from tests.support.aio import run

TOPICS = ["btcusdt@miniTicker", "btcusdt@ticker"]


def test_a_symbols_tickers_wait_for_its_first_trade_then_carry_its_price(engine: Engine) -> None:
    ex = Exchange(engine, now=lambda: T0)
    derived = Derived(Hub(), engine, now=lambda: T0 + 1)
    alice, bob = make_users(engine, "alice", "bob")
    for user in (alice, bob):
        run(ex.credit(user, "USDT", Decimal(100000), "test"))
        run(ex.credit(user, "BTC", Decimal(1), "test"))
    run(ex.place_order(order(alice, "BTCUSDT", "SELL", "0.01", "30000")))  # a book, but no trade
    assert derived._compute(TOPICS, set()) == []

    run(ex.place_order(order(bob, "BTCUSDT", "BUY", "0.01", "30000")))
    messages = dict(derived._compute(TOPICS, {"BTCUSDT"}))
    assert set(messages) == set(TOPICS)
    assert [messages[t]["e"] for t in TOPICS] == ["24hrMiniTicker", "24hrTicker"]
    assert all(Decimal(str(messages[t]["c"])) == Decimal(30000) for t in TOPICS)
