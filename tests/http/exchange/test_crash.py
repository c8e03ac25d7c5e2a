"""SIGKILL the real server during a burst of ~1,000 concurrent signed orders, restart it, and find
every acknowledged order exactly once and nothing half-applied: group commits are all or nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import Engine, select

from keyplane.exchange.ledger import Bucket
from keyplane.store.engine import make_engine
from keyplane.store.exchange_tables import ex_accounts, ex_balances, ex_entries, ex_orders, ex_trades
from tests.conftest import REDIS_URL, redis_available
from tests.http.conftest import issue_key
from tests.http.exchange.funding import fund_before_start
from tests.support.databases import backend, fresh_database
from tests.support.server import Instance, free_port, server_env
from tests.support.signing import hmac_hex

ORDERS = 1000
KILL_AFTER = 300  # acknowledged orders before the kill
FUNDS = {"USDT": "1000000", "SOL": "2000"}


def order_query(key: dict[str, str], i: int) -> str:
    side = "SELL" if i % 2 else "BUY"
    price = D(100) + D(i % 5) - (2 if side == "BUY" else 0)
    params = {
        "symbol": "SOLUSDT",
        "side": side,
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "1",
        "price": str(price),
        "newClientOrderId": f"crash-{i}",
        "recvWindow": "60000",
        "timestamp": str(time.time_ns() // 1_000_000),
    }
    query = urlencode(params)
    return query + "&signature=" + hmac_hex(key["secret"], query)


async def burst(server: Instance, keys: list[dict[str, str]]) -> dict[tuple[str, str], int]:
    """Send the orders at once; SIGKILL the server once KILL_AFTER are acknowledged."""
    acked: dict[tuple[str, str], int] = {}
    assert server.process is not None
    pid = server.process.pid
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:

        async def one(i: int) -> None:
            key = keys[i % 2]
            try:
                response = await client.post(
                    "/api/v3/order?" + order_query(key, i), headers={"X-MBX-APIKEY": key["key"]}
                )
            except httpx.HTTPError:
                return  # the server died before answering: not acknowledged
            if response.status_code == 200:
                acked[(key["key"], f"crash-{i}")] = int(response.json()["orderId"])
                if len(acked) == KILL_AFTER:
                    os.kill(pid, signal.SIGKILL)

        await asyncio.gather(*(one(i) for i in range(ORDERS)))
    return acked


def check_ledger(engine: Engine) -> None:
    """Locked funds match the open orders, balances equal their entries, every asset sums to zero,
    each order's executed quantity equals its trades."""
    with engine.connect() as conn:
        accounts = {r.user_id: r.id for r in conn.execute(select(ex_accounts)) if r.user_id is not None}
        balances = {(r.account_id, r.asset): (r.free, r.locked) for r in conn.execute(select(ex_balances))}
        entries: dict[tuple[int, str], list[D]] = {}
        for e in conn.execute(select(ex_entries)):
            entries.setdefault((e.account_id, e.asset), [D(0), D(0)])[
                0 if e.bucket == Bucket.FREE else 1
            ] += e.amount
        orders = list(conn.execute(select(ex_orders)))
        trades = list(conn.execute(select(ex_trades)))
    assert {k: tuple(v) for k, v in entries.items()} == balances
    for asset in {a for _, a in balances}:
        assert sum(f + lk for (_, a), (f, lk) in balances.items() if a == asset) == 0, asset
    locked: dict[tuple[int, str], D] = {}
    for o in orders:
        if not o.is_open:
            assert o.locked_amount == 0, o
            continue
        key = (accounts[o.user_id], "USDT" if o.side == "BUY" else "SOL")
        locked[key] = locked.get(key, D(0)) + o.locked_amount
    for key, (_free, held) in balances.items():
        assert held == locked.get(key, D(0)), key
    executed: dict[int, D] = {}
    for t in trades:
        for oid in (t.buyer_order_id, t.seller_order_id):
            executed[oid] = executed.get(oid, D(0)) + t.qty
    assert {o.id: o.executed_qty for o in orders if o.executed_qty} == executed


def test_orders_acknowledged_before_a_sigkill_are_all_there_once_and_nothing_is_half_applied(
    tmp_path: Path,
) -> None:
    with fresh_database(tmp_path) as url:
        redis_url = REDIS_URL if backend() == "postgresql" and redis_available() else None
        env = server_env(tmp_path / "data", url, redis_url, KEYPLANE_WEIGHT_LIMIT_PER_KEY="1000000000")
        server = Instance(env, free_port())
        server.cli("users", "create", "alice")
        server.cli("users", "create", "bob")
        fund_before_start(url, {"alice": FUNDS, "bob": FUNDS})
        server.start(tmp_path / "server.log")
        try:
            keys = [
                issue_key(server, "--permissions", "read,trade"),
                issue_key(server, "--permissions", "read,trade", user="bob"),
            ]
            acked = asyncio.run(burst(server, keys))
            assert server.process is not None
            assert server.process.wait(timeout=30) == -signal.SIGKILL
            assert KILL_AFTER <= len(acked) < ORDERS

            again = Instance(env, free_port())
            again.start(tmp_path / "server-again.log")
            server = again
            engine = make_engine(url)
            try:
                with engine.connect() as conn:
                    rows = list(conn.execute(select(ex_orders.c.id, ex_orders.c.client_order_id)))
                check_ledger(engine)
            finally:
                engine.dispose()
            by_client: dict[str, list[int]] = {}
            for r in rows:
                by_client.setdefault(r.client_order_id, []).append(r.id)
            for (_key, client_id), order_id in acked.items():
                assert by_client.get(client_id) == [order_id], client_id
            assert len(rows) == len(by_client)  # no order twice
            # The restarted server trades on from the rebuilt state.
            key = keys[0]
            time.sleep(1.1)  # the replay guard refuses a state change signed before the restart
            response = httpx.post(
                f"{again.url}/api/v3/order?{order_query(key, ORDERS + 1)}",
                headers={"X-MBX-APIKEY": key["key"]},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            answer: Any = response.json()
            assert answer["clientOrderId"] == f"crash-{ORDERS + 1}"
        finally:
            server.stop()
