"""Kill the instance that runs the exchange while orders stream in through another one.

Two ``keyplane serve`` processes share one database (and Redis on the PostgreSQL run). Orders go to
the gateway, which forwards them to the writer. The writer is SIGKILLed mid-stream; the gateway
takes the writer lock, rebuilds the exchange from the database and carries on. Every order that was
acknowledged is there exactly once; orders in flight at the kill were answered with an error
(never a false acknowledgement); the ledger balances; the killed instance, restarted, forwards.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import ccxt
from sqlalchemy import select

from keyplane.store.engine import make_engine
from keyplane.store.exchange_tables import ex_orders
from tests.conftest import REDIS_URL
from tests.http.conftest import issue_key
from tests.http.exchange.clients_async import ccxt_binance_async
from tests.http.exchange.conftest import MINIMAL
from tests.http.exchange.funding import fund_before_start
from tests.http.exchange.test_crash import check_ledger
from tests.support.clients import ccxt_binance
from tests.support.databases import fresh_database
from tests.support.server import BURST, Instance, free_port, server_env

ORDERS = 400
KILL_AFTER = 100
CONCURRENCY = 16
FUNDS = {"USDT": "1000000", "SOL": "2000"}
OPTIONS = {**MINIMAL, "recvWindow": 60000}


def order_args(i: int) -> tuple[str, str, str, float, float, dict[str, str]]:
    side = "sell" if i % 2 else "buy"
    price = 100 + i % 5 - (2 if side == "buy" else 0)
    return "SOL/USDT", "limit", side, 1, price, {"newClientOrderId": f"fo-{i}", "timeInForce": "GTC"}


def not_applied_or_unknown(error: ccxt.BaseError) -> bool:
    """What a client may get while the exchange changes hands: -1008 (nothing was applied, try
    again; ccxt: ExchangeNotAvailable or ExchangeError) or -1007 (outcome unknown; RequestTimeout)."""
    text = str(error)
    return isinstance(error, ccxt.NetworkError) or '"code": -1008' in text or '"code": -1007' in text


async def stream(
    gateway: Instance, writer: Instance, key: dict[str, str], logs_dir: Path
) -> tuple[dict[str, int], int]:
    """Send ORDERS orders through the gateway; SIGKILL the writer after KILL_AFTER acknowledgements.
    Returns the acknowledged orders and how many of them were acknowledged after the kill."""
    acked: dict[str, int] = {}
    unexpected: list[str] = []
    after_kill = 0
    killed = False
    assert writer.process is not None
    client = ccxt_binance_async(gateway.url, key["key"], key["secret"], **OPTIONS)
    client.enableRateLimit = False
    client.timeout = 30_000
    gate = asyncio.Semaphore(CONCURRENCY)
    try:
        await client.load_markets()

        async def one(i: int) -> None:
            nonlocal after_kill, killed
            async with gate:
                try:
                    order = await client.create_order(*order_args(i))
                except ccxt.BaseError as error:
                    if not not_applied_or_unknown(error):
                        unexpected.append(repr(error))
                    await asyncio.sleep(0.05)
                    return
            acked[f"fo-{i}"] = int(order["id"])
            after_kill += killed
            if len(acked) == KILL_AFTER and not killed:
                os.kill(writer.process.pid, signal.SIGKILL)  # type: ignore[union-attr]
                killed = True

        await asyncio.gather(*(one(i) for i in range(ORDERS)))
    finally:
        await client.close()
    if unexpected:  # say what the servers logged, so a failure in CI can be read afterwards
        logs = {p.name: p.read_text()[-4000:] for p in logs_dir.glob("*.log")}
        raise AssertionError(f"unexpected answers {unexpected[:5]}; server logs: {logs}")
    return acked, after_kill


def test_the_gateway_takes_over_when_the_writer_is_killed_and_no_acknowledged_order_is_lost(
    tmp_path: Path,
) -> None:
    with fresh_database(tmp_path) as url:
        redis_url = REDIS_URL  # gateways forward signed requests only with a shared replay guard
        env = server_env(tmp_path / "data", url, redis_url, **BURST)
        writer, gateway = Instance(env, free_port()), Instance(dict(env), free_port())
        writer.cli("users", "create", "alice")
        fund_before_start(url, {"alice": FUNDS})
        writer.start(tmp_path / "writer.log")
        gateway.start(tmp_path / "gateway.log")
        restarted: Instance | None = None
        try:
            key = issue_key(writer, "--permissions", "read,trade")
            acked, after_kill = asyncio.run(stream(gateway, writer, key, tmp_path))
            assert writer.process is not None and writer.process.wait(timeout=30) == -signal.SIGKILL
            assert len(acked) >= KILL_AFTER
            assert after_kill > 0, "the gateway never took over the exchange"

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
            for client_id, order_id in acked.items():
                assert by_client.get(client_id) == [order_id], client_id
            assert len(rows) == len(by_client)

            # The killed instance comes back as a gateway: the exchange stays where it went.
            restarted = Instance(dict(env), free_port())
            restarted.start(tmp_path / "writer-again.log")
            via_restarted: Any = ccxt_binance(restarted.url, key["key"], key["secret"], **OPTIONS)
            answer = via_restarted.create_order(*order_args(ORDERS + 1))
            assert answer["clientOrderId"] == f"fo-{ORDERS + 1}"
            opened = {
                o["id"]
                for o in ccxt_binance(gateway.url, key["key"], key["secret"], **OPTIONS).fetch_open_orders(
                    "SOL/USDT"
                )
            }
            assert answer["id"] in opened or answer["status"] == "closed"
        finally:
            for instance in (restarted, gateway, writer):
                if instance is not None:
                    instance.stop()
