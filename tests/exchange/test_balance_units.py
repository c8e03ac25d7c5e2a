"""An account's balances as units: the same memory, order and guard as ``Exchange.balances``."""

from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy import Engine

from keyplane.exchange.service import Exchange
from keyplane.exchange.units import SCALE, to_units
from tests.exchange.conftest import make_users
from tests.exchange.orders import order
from tests.support.aio import run


def test_balance_units_are_the_balances_in_units_every_asset_in_order(ex: Exchange, alice: int) -> None:
    run(ex.place_order(order(alice, "BTCUSDT", "BUY", "0.5", "20000.5")))  # locks 10000.25 USDT
    units = ex.balance_units(alice)
    expected = [(b.asset, to_units(b.free, SCALE), to_units(b.locked, SCALE)) for b in ex.balances(alice)]
    assert units == expected
    assert [a for a, _, _ in units] == list(ex.assets)
    assert {a: (f, lk) for a, f, lk in units}["USDT"] == (
        to_units(D("89999.75"), SCALE),
        to_units(D("10000.25"), SCALE),
    )


def test_a_user_without_an_account_holds_zero_of_every_asset(engine: Engine, ex: Exchange) -> None:
    (newcomer,) = make_users(engine, "newcomer")
    assert ex.balance_units(newcomer) == [(a, 0, 0) for a in ex.assets]
