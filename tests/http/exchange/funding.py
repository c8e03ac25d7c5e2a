"""Funding test accounts on the exchange, respecting its one-writer rule.

While a server runs it is the only writer, so funds are credited either *before* it starts
(in-process, on the same database; the server rebuilds balances from it on start) or through the
``keyplane funds credit`` command, which talks to the running server.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from keyplane.exchange.service import Exchange
from keyplane.store.engine import make_engine
from keyplane.store.tables import users
from tests.support.aio import run
from tests.support.server import Instance


def fund_before_start(database_url: str, funds: dict[str, dict[str, str]]) -> None:
    """Credit ``{user: {asset: amount}}`` while no server runs on ``database_url``."""
    engine = make_engine(database_url)
    try:
        exchange = Exchange(engine)
        with engine.connect() as conn:
            ids = {r.name: r.id for r in conn.execute(select(users.c.id, users.c.name))}
        for name, assets in funds.items():
            for asset, amount in assets.items():
                run(exchange.credit(ids[name], asset, Decimal(amount), "test funding"))
    finally:
        engine.dispose()


def credit(server: Instance, user: str, asset: str, amount: str) -> None:
    """Credit a running server's user through the CLI; fails clearly while the command is missing."""
    result = server.cli("funds", "credit", "--user", user, "--asset", asset, "--amount", amount, check=False)
    if result.returncode != 0:
        pytest.fail(f"`keyplane funds credit` is not available or failed: {result.stderr.strip()[:300]}")
