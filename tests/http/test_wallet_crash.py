"""Withdrawals under concurrency and across a crash, through the real server with unmodified ccxt
async (#9 Shown by: Concurrency and Crash).

Withdrawals are sent with a send delay of 600 s, so every accepted one stays open (awaiting
approval, its amount and fee locked) for the whole test: what is locked is then exactly what was
accepted, and a retried ``withdrawOrderId`` meets a withdrawal that can still be transferred.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import aiohttp
import ccxt
import pytest
from sqlalchemy import Engine, select, text

from keyplane.exchange.wallet.states import WithdrawStatus
from keyplane.store.engine import make_engine
from keyplane.store.exchange_tables import ex_accounts, ex_balances, ex_orders
from keyplane.store.tables import users
from keyplane.store.wallet_transfer_tables import wallet_withdrawals
from tests.conftest import REDIS_URL, redis_available
from tests.http.conftest import issue_key
from tests.http.exchange.funding import fund_before_start
from tests.support.databases import backend, fresh_database
from tests.support.server import BURST, Instance, free_port, server_env
from tests.support.wallet_ledger import check_wallet_ledger, never_negative
from tests.support.wallet_server import DESTINATION, book_before_start, wallet_client_async, wallet_env

FEE = D(1)  # USDT on ETH (ERC20)
SETTINGS = {
    "KEYPLANE_WITHDRAW_ADDRESS_COOLING_OFF_SECONDS": "0",
    "KEYPLANE_WITHDRAW_SEND_DELAY_SECONDS": "600",
    **BURST,
}


@dataclass
class Venue:
    server: Instance
    database_url: str
    tmp: Path
    env: dict[str, str]
    users: dict[str, int] = field(default_factory=dict)

    def engine(self) -> Engine:
        return make_engine(self.database_url)

    def start(self, log: str) -> Instance:
        """Start the server, or a new one on the same database once it has run. Without Redis, wait
        out the memory replay guard: it refuses a state change signed less than the future
        tolerance (1 s) after the process took the exchange, at the first start as after a crash."""
        if self.server.process is not None:
            self.server = Instance(self.env, free_port())
        self.server.start(self.tmp / log)
        if "KEYPLANE_REDIS_URL" not in self.env:
            time.sleep(1.1)
        return self.server


@pytest.fixture
def venue(tmp_path: Path) -> Iterator[Venue]:
    """A fresh server with a wallet; alice and bob, funded and with DESTINATION booked, before it starts."""
    with fresh_database(tmp_path) as url:
        redis_url = REDIS_URL if backend() == "postgresql" and redis_available() else None
        env = server_env(tmp_path / "data", url, redis_url, **wallet_env(**SETTINGS))
        venue = Venue(Instance(env, free_port()), url, tmp_path, env)
        for name in ("alice", "bob"):
            venue.server.cli("users", "create", name)
        engine = venue.engine()
        try:
            with engine.connect() as conn:
                venue.users = {r.name: r.id for r in conn.execute(select(users.c.id, users.c.name))}
        finally:
            engine.dispose()
        try:
            yield venue
        finally:
            venue.server.stop()


def withdrawer(server: Instance, user: str = "alice") -> dict[str, str]:
    return issue_key(server, "--permissions", "read,trade,withdraw", "--ip", "127.0.0.1", user=user)


def stored_withdrawals(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(wallet_withdrawals).order_by(wallet_withdrawals.c.id)))


def balance(engine: Engine, user_id: int, asset: str) -> tuple[D, D]:
    with engine.connect() as conn:
        row = conn.execute(
            select(ex_balances.c.free, ex_balances.c.locked)
            .join(ex_accounts, ex_accounts.c.id == ex_balances.c.account_id)
            .where(ex_accounts.c.user_id == user_id, ex_balances.c.asset == asset)
        ).one()
    return row.free, row.locked


# -- concurrency --------------------------------------------------------------------------------

SIMULTANEOUS = 50
BALANCE = D(1000)


def concurrent_amount(i: int) -> D:
    """20 to 33.415 USDT, to the thousandth: with the fees 1,363.375 together, well past the balance."""
    return D(20 + i % 14) + D(i) / 100 + D("0.005") * (i % 2)


async def withdraw_all_at_once(base: str, key: dict[str, str]) -> tuple[dict[int, str], dict[int, str]]:
    """Fire every withdrawal at once; (accepted index -> id, refused index -> message)."""
    client = wallet_client_async(base, key)
    accepted: dict[int, str] = {}
    refused: dict[int, str] = {}
    try:
        await client.load_markets()
        start = asyncio.Event()

        async def one(i: int) -> None:
            await start.wait()
            try:
                answer = await client.withdraw(
                    "USDT",
                    float(concurrent_amount(i)),
                    DESTINATION,
                    params={"network": "ETH", "withdrawOrderId": f"many-{i}"},
                )
            except ccxt.InsufficientFunds as error:
                refused[i] = str(error)
                return
            accepted[i] = answer["id"]

        tasks = [asyncio.create_task(one(i)) for i in range(SIMULTANEOUS)]
        await asyncio.sleep(0)
        start.set()
        await asyncio.gather(*tasks)
    finally:
        await client.close()
    return accepted, refused


def test_simultaneous_withdrawals_past_the_balance_lock_exactly_the_accepted_ones(venue: Venue) -> None:
    fund_before_start(venue.database_url, {"alice": {"USDT": str(BALANCE)}})
    book_before_start(venue.database_url, "alice", "USDT", "ETH", DESTINATION)
    key = withdrawer(venue.start("server.log"))

    accepted, refused = asyncio.run(withdraw_all_at_once(venue.server.url, key))

    assert len(accepted) + len(refused) == SIMULTANEOUS
    assert accepted and refused, "the burst must exceed the balance and still fit some"
    assert len(set(accepted.values())) == len(accepted)
    held = {i: concurrent_amount(i) + FEE for i in range(SIMULTANEOUS)}
    engine = venue.engine()
    try:
        rows = stored_withdrawals(engine)
        free, locked = balance(engine, venue.users["alice"], "USDT")
        check_wallet_ledger(engine)
        never_negative(engine, venue.users["alice"], "USDT")
    finally:
        engine.dispose()
    assert {str(r.id): r.withdraw_order_id for r in rows} == {w: f"many-{i}" for i, w in accepted.items()}
    for r in rows:
        i = int(r.withdraw_order_id.removeprefix("many-"))
        assert (r.amount, r.fee) == (concurrent_amount(i), FEE)
        assert r.status == WithdrawStatus.AWAITING_APPROVAL
    taken = sum((held[i] for i in accepted), D(0))
    assert locked == taken
    assert free == BALANCE - taken >= 0
    # Free only fell while the burst ran, so each refused withdrawal needed more than is left.
    assert all(held[i] > free for i in refused), (free, sorted(held[i] for i in refused))
    assert all("insufficient balance" in message.lower() for message in refused.values())


# -- crash --------------------------------------------------------------------------------------

REQUESTS = 500  # every fifth a withdrawal, the rest orders
KILL_AFTER = 200  # acknowledged requests (orders and withdrawals) before the kill
FUNDS = {"USDT": "1000000", "SOL": "2000"}
# Requests wait for one of aiohttp's connections after ccxt has signed them: a wide window keeps
# the last of the burst inside it.
WINDOW = {"recvWindow": 60000}


def is_withdrawal(i: int) -> bool:
    return i % 5 == 0


def crash_amount(i: int) -> D:
    return D(10 + i % 7) + D(i % 100) / 100


def order_args(i: int) -> tuple[str, str, str, float, float, dict[str, str]]:
    """Half buys, half sells, at prices that cross, so the burst trades as well as rests."""
    side = "sell" if i % 2 else "buy"
    price = 100 + i % 5 - (2 if side == "buy" else 0)
    return "SOL/USDT", "limit", side, 1, price, {"newClientOrderId": f"crash-{i}", "timeInForce": "GTC"}


def unacknowledged(error: ccxt.BaseError) -> bool:
    """The server never answered: ccxt raised for aiohttp's broken connection or a timeout. A
    refusal the server sent (even one ccxt files under NetworkError, as -1021 InvalidNonce) is an
    answer, and fails the test."""
    return isinstance(error.__cause__, (aiohttp.ClientError, TimeoutError))


@dataclass
class Burst:
    orders: dict[str, int] = field(default_factory=dict)  # clientOrderId -> order id
    withdrawals: dict[str, str] = field(default_factory=dict)  # withdrawOrderId -> withdrawal id
    lost: list[str] = field(default_factory=list)  # withdrawOrderIds sent but not answered

    @property
    def acknowledged(self) -> int:
        return len(self.orders) + len(self.withdrawals)


async def burst(server: Instance, keys: list[dict[str, str]]) -> Burst:
    """Orders from alice and bob and withdrawals from alice, all at once; SIGKILL the server once
    KILL_AFTER of them are acknowledged."""
    done = Burst()
    assert server.process is not None
    pid = server.process.pid
    clients = [wallet_client_async(server.url, k, **WINDOW) for k in keys]
    try:
        for client in clients:
            await client.load_markets()

        def acknowledged() -> None:
            if done.acknowledged == KILL_AFTER:
                os.kill(pid, signal.SIGKILL)

        async def one(i: int) -> None:
            if is_withdrawal(i):
                order_id = f"wd-{i}"
                try:
                    answer = await clients[0].withdraw(
                        "USDT",
                        float(crash_amount(i)),
                        DESTINATION,
                        params={"network": "ETH", "withdrawOrderId": order_id},
                    )
                except ccxt.BaseError as error:
                    if unacknowledged(error):
                        done.lost.append(order_id)
                        return
                    raise
                done.withdrawals[order_id] = answer["id"]
            else:
                try:
                    order = await clients[i % 2].create_order(*order_args(i))
                except ccxt.BaseError as error:
                    if unacknowledged(error):
                        return
                    raise
                assert order["clientOrderId"] == f"crash-{i}"
                done.orders[f"crash-{i}"] = int(order["id"])
            acknowledged()

        await asyncio.gather(*(one(i) for i in range(REQUESTS)))
    finally:
        for client in clients:
            await client.close()
    return done


async def withdraw_each(base: str, key: dict[str, str], amounts: dict[str, D]) -> dict[str, str]:
    """Send each ``withdrawOrderId`` (again, after a lost answer, as a client does); the ids told."""
    client = wallet_client_async(base, key, **WINDOW)
    try:
        await client.load_markets()

        async def one(order_id: str) -> str:
            params = {"network": "ETH", "withdrawOrderId": order_id}
            answer = await client.withdraw("USDT", float(amounts[order_id]), DESTINATION, params=params)
            return str(answer["id"])

        ids = await asyncio.gather(*(one(x) for x in amounts))
    finally:
        await client.close()
    return dict(zip(amounts, ids, strict=True))


def test_withdrawals_and_orders_acknowledged_before_a_sigkill_are_there_once_and_retries_do_not_transfer_twice(
    venue: Venue,
) -> None:
    fund_before_start(venue.database_url, {"alice": FUNDS, "bob": FUNDS})
    book_before_start(venue.database_url, "alice", "USDT", "ETH", DESTINATION)
    server = venue.start("server.log")
    keys = [withdrawer(server), issue_key(server, "--permissions", "read,trade", user="bob")]

    done = asyncio.run(burst(server, keys))
    assert server.process is not None
    assert server.process.wait(timeout=30) == -signal.SIGKILL
    assert KILL_AFTER <= done.acknowledged < REQUESTS
    assert done.withdrawals and done.lost, "the kill must come while withdrawals are in flight"

    again = venue.start("server-again.log")
    alice = venue.users["alice"]
    engine = venue.engine()
    try:
        check_wallet_ledger(engine)
        rows = stored_withdrawals(engine)
        with engine.connect() as conn:
            orders = list(conn.execute(select(ex_orders.c.id, ex_orders.c.client_order_id)))
        by_client: dict[str, list[int]] = {}
        for o in orders:
            by_client.setdefault(o.client_order_id, []).append(o.id)
        for client_id, order_id in done.orders.items():
            assert by_client.get(client_id) == [order_id], client_id
        assert len(orders) == len(by_client)  # no order twice

        stored = {r.withdraw_order_id: str(r.id) for r in rows}
        assert len(stored) == len(rows)  # no withdrawOrderId twice
        assert {x: stored.get(x) for x in done.withdrawals} == done.withdrawals
        assert set(stored) <= set(done.withdrawals) | set(done.lost)
        for r in rows:
            assert (r.amount, r.status) == (
                crash_amount(int(r.withdraw_order_id[3:])),
                WithdrawStatus.AWAITING_APPROVAL,
            )
        _, locked_before = balance(engine, alice, "USDT")

        # The restarted server takes a retry of every withdrawal: the acknowledged and those whose
        # answer was lost (some were committed before the kill, some never reached the sequencer).
        again_sent = {x: crash_amount(int(x[3:])) for x in sorted(done.withdrawals) + sorted(done.lost)}
        retried = asyncio.run(withdraw_each(again.url, keys[0], again_sent))
        after = {r.withdraw_order_id: str(r.id) for r in stored_withdrawals(engine)}
        assert len(after) == len(stored_withdrawals(engine))
        assert {x: retried[x] for x in stored} == stored  # the first id, never a second withdrawal
        new = set(after) - set(stored)
        assert new == set(done.lost) - set(stored)  # the lost that never landed, once each now
        assert {x: after[x] for x in retried} == retried
        _, locked_after = balance(engine, alice, "USDT")
        added = sum((crash_amount(int(x[3:])) + FEE for x in new), D(0))
        assert locked_after - locked_before == added  # nothing locked twice
        check_wallet_ledger(engine)
    finally:
        engine.dispose()


# -- a duplicate answered before the first is durable -------------------------------------------


def wait_for_stalled_insert(engine: Engine) -> None:
    """Until the server's group commit waits on the lock of wallet_withdrawals: the first request
    is then applied in the exchange's memory, and not durable."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query ILIKE 'INSERT INTO wallet_withdrawals%'"
    )
    deadline = time.monotonic() + 20
    while True:
        with engine.connect() as conn:
            if conn.execute(query).scalar_one():
                return
        assert time.monotonic() < deadline, "the first withdrawal never reached its group commit"
        time.sleep(0.05)


async def same_order_id_twice(server: Instance, key: dict[str, str], engine: Engine) -> str | None:
    """Send withdrawOrderId ``same`` while its first request's commit is held, then again; SIGKILL
    the server; the id the second request was told, if it was answered."""
    assert server.process is not None
    client = wallet_client_async(server.url, key)
    params = {"network": "ETH", "withdrawOrderId": "same"}
    try:
        await client.load_markets()
        first = asyncio.create_task(client.withdraw("USDT", 10, DESTINATION, params=params))
        await asyncio.to_thread(wait_for_stalled_insert, engine)
        second = asyncio.create_task(client.withdraw("USDT", 10, DESTINATION, params=params))
        # A correct server holds the second answer until the first is durable, which is never here.
        await asyncio.wait([second], timeout=2)
        os.kill(server.process.pid, signal.SIGKILL)
        for request in (first, second):
            with contextlib.suppress(ccxt.NetworkError, ccxt.ExchangeError):
                await request
    finally:
        await client.close()
    return str(second.result()["id"]) if not second.exception() else None


@pytest.mark.skipif(
    backend() != "postgresql",
    reason="SQLite takes its one write lock for reads too, so the commit cannot be held from outside",
)
def test_a_repeated_withdraw_order_id_is_not_acknowledged_before_the_first_is_durable(venue: Venue) -> None:
    fund_before_start(venue.database_url, {"alice": {"USDT": str(BALANCE)}})
    book_before_start(venue.database_url, "alice", "USDT", "ETH", DESTINATION)
    key = withdrawer(venue.start("server.log"))
    engine = venue.engine()
    try:
        with engine.connect() as holder:  # a commit that stalls: the table's write lock is held
            holder.execute(text("LOCK TABLE wallet_withdrawals IN EXCLUSIVE MODE"))
            told = asyncio.run(same_order_id_twice(venue.server, key, engine))
            assert venue.server.process is not None
            assert venue.server.process.wait(timeout=30) == -signal.SIGKILL
            holder.rollback()
        again = venue.start("server-again.log")
        other = asyncio.run(withdraw_each(again.url, key, {"other": D(20)}))["other"]
        same = asyncio.run(withdraw_each(again.url, key, {"same": D(10)}))["same"]
        rows = {str(r.id): r.withdraw_order_id for r in stored_withdrawals(engine)}
        assert rows == {other: "other", same: "same"}
        if told is not None:
            assert told == same, f"told {told} for 'same', which is now {rows.get(told)!r}"
        check_wallet_ledger(engine)
    finally:
        engine.dispose()
