"""SIGKILL the real server during a burst of 1,000 concurrent orders from unmodified ``ccxt`` async,
restart it, and find every acknowledged order exactly once and nothing half-applied: group commits
are all or nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import aiohttp
import ccxt
from sqlalchemy import Engine, select

from keyplane.exchange.ledger import Bucket
from keyplane.store.engine import make_engine
from keyplane.store.exchange_tables import ex_accounts, ex_balances, ex_entries, ex_orders, ex_trades
from tests.conftest import REDIS_URL, redis_available
from tests.http.conftest import issue_key
from tests.http.exchange.clients_async import ccxt_binance_async
from tests.http.exchange.conftest import MINIMAL
from tests.http.exchange.funding import fund_before_start
from tests.support.clients import ccxt_binance
from tests.support.databases import backend, fresh_database
from tests.support.server import BURST, Instance, free_port, server_env

ORDERS = 1000
KILL_AFTER = 300  # acknowledged orders before the kill
FUNDS = {"USDT": "1000000", "SOL": "2000"}
# Orders wait for one of aiohttp's connections after ccxt has signed them: a wide window keeps
# the last of the burst inside it.
OPTIONS = {**MINIMAL, "recvWindow": 60000}


def order_args(i: int) -> tuple[str, str, str, float, float, dict[str, str]]:
    """Half buys, half sells, at prices that cross, so the burst trades as well as rests."""
    side = "sell" if i % 2 else "buy"
    price = 100 + i % 5 - (2 if side == "buy" else 0)
    return "SOL/USDT", "limit", side, 1, price, {"newClientOrderId": f"crash-{i}", "timeInForce": "GTC"}


def unacknowledged(error: ccxt.BaseError) -> bool:
    """What ccxt raises for an order in flight when the server dies: a NetworkError (refused or
    reset connection, timeout), or an ExchangeError wrapping aiohttp's broken answer (a body cut off)."""
    return isinstance(error, ccxt.NetworkError) or isinstance(error.__cause__, aiohttp.ClientError)


async def burst(server: Instance, keys: list[dict[str, str]]) -> dict[tuple[str, str], int]:
    """Send the orders at once through ccxt; SIGKILL the server once KILL_AFTER are acknowledged."""
    acked: dict[tuple[str, str], int] = {}
    assert server.process is not None
    pid = server.process.pid
    clients = [ccxt_binance_async(server.url, k["key"], k["secret"], **OPTIONS) for k in keys]
    try:
        for client in clients:
            # ccxt's own throttle would space 1,000 orders 50 ms apart; the burst is the point.
            client.enableRateLimit = False
            client.timeout = 30_000
            await client.load_markets()

        async def one(i: int) -> None:
            client, key = clients[i % 2], keys[i % 2]
            try:
                order = await client.create_order(*order_args(i))
            except ccxt.BaseError as error:
                if unacknowledged(error):
                    return  # the server died before answering
                raise
            assert order["clientOrderId"] == f"crash-{i}"
            acked[(key["key"], f"crash-{i}")] = int(order["id"])
            if len(acked) == KILL_AFTER:
                os.kill(pid, signal.SIGKILL)

        await asyncio.gather(*(one(i) for i in range(ORDERS)))
    finally:
        for client in clients:
            await client.close()
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
        env = server_env(tmp_path / "data", url, redis_url, **BURST)
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
            time.sleep(1.1)  # the replay guard refuses a state change signed before the restart
            client = ccxt_binance(again.url, keys[0]["key"], keys[0]["secret"], **OPTIONS)
            answer: Any = client.create_order(*order_args(ORDERS + 1))
            assert answer["clientOrderId"] == f"crash-{ORDERS + 1}"
        finally:
            server.stop()
