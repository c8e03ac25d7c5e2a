"""Exchange fixtures: a real migrated database, a settable clock, funded users."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine

from keyplane.exchange.service import Exchange
from keyplane.store.tables import users
from tests.support.aio import run

T0 = 1_700_000_000_000


class Clock:
    """A millisecond clock that tests move by hand."""

    def __init__(self, t: int = T0) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t

    def advance(self, ms: int) -> None:
        self.t += ms


def make_users(engine: Engine, *names: str) -> list[int]:
    with engine.begin() as conn:
        ids = [conn.execute(users.insert().values(name=n, created_at=T0)).inserted_primary_key for n in names]
    return [int(i[0]) for i in ids if i is not None]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ex(engine: Engine, clock: Clock) -> Exchange:
    return Exchange(engine, now=clock)


@pytest.fixture
def alice(engine: Engine, ex: Exchange) -> int:
    (uid,) = make_users(engine, "alice")
    run(ex.credit(uid, "USDT", Decimal(100000), "test"))
    run(ex.credit(uid, "BTC", Decimal(10), "test"))
    return uid


@pytest.fixture
def bob(engine: Engine, ex: Exchange) -> int:
    (uid,) = make_users(engine, "bob")
    run(ex.credit(uid, "USDT", Decimal(100000), "test"))
    run(ex.credit(uid, "BTC", Decimal(10), "test"))
    return uid


@pytest.fixture
def carol(engine: Engine, ex: Exchange) -> int:
    """A third funded user: the other side of the trades that move a price in the stop tests."""
    (uid,) = make_users(engine, "carol")
    run(ex.credit(uid, "USDT", Decimal(100000), "test"))
    run(ex.credit(uid, "BTC", Decimal(10), "test"))
    return uid
