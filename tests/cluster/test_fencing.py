"""A writer that lost its lock without noticing cannot write beside the instance that took over.

Two platforms (as two processes would have) on one real database. The first runs the exchange;
its lock is then lost behind its back (as when its database session drops), the second takes it
and claims a new epoch. The first still believes it is the writer, but its next group commit is
refused by the fence: the command is not acknowledged, nothing of it is written, and the first
platform steps down so its requests are forwarded from then on.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from keyplane.exchange.errors import ExchangeUnavailable, NotDurable
from keyplane.exchange.models import OrderType, Side, TimeInForce
from keyplane.exchange.orders import OrderRequest
from keyplane.runtime import Platform, open_platform
from keyplane.settings import Settings
from keyplane.store.exchange_tables import ex_orders
from keyplane.store.writer_lock import current_writer
from tests.exchange.conftest import make_users
from tests.support.aio import run
from tests.support.databases import fresh_database


@pytest.fixture
def platforms(tmp_path: Path) -> Iterator[tuple[Platform, Platform]]:
    with fresh_database(tmp_path) as url:
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        first, second = open_platform(settings), open_platform(settings, run_migrations=False)
        try:
            yield first, second
        finally:
            first.close()
            second.close()


def orders(platform: Platform) -> int:
    with platform.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ex_orders)).scalar_one())


def test_a_deposed_writer_writes_nothing_and_steps_down(platforms: tuple[Platform, Platform]) -> None:
    first, second = platforms
    first.elect_on_demand = second.elect_on_demand = False
    (alice,) = make_users(first.engine, "alice")
    assert first.lead("http://first") and not second.lead("http://second")
    run(first.exchange.credit(alice, "USDT", Decimal(1000), "test"))
    order = OrderRequest(
        user_id=alice,
        symbol="BTCUSDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        quantity=Decimal("0.001"),
        price=Decimal(20000),
        time_in_force=TimeInForce.GTC,
    )
    run(first.exchange.place_order(order))

    assert first._writer is not None
    first._writer.release()  # the lock is gone; the first platform has not noticed
    assert second.lead("http://second")
    record = current_writer(second.engine)
    assert record is not None and record.url == "http://second" and record.epoch == 2

    with pytest.raises(NotDurable):
        run(first.exchange.place_order(order))
    assert orders(first) == 1
    assert not first.runs_exchange
    with pytest.raises(ExchangeUnavailable):
        first.exchange  # noqa: B018 - the property refuses once the platform stepped down
    # The successor has the first platform's acknowledged order and trades on.
    assert len(second.exchange.open_orders(alice)) == 1
    run(second.exchange.place_order(order))
    assert orders(second) == 2
