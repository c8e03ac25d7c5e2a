"""Commands per second through the exchange: the sequencer with group commits against the same
engine with nothing written, in the same run.

Workload (fixed seed, BTCUSDT, 4 funded users), per command:
  55% resting LIMIT GTC 1-20 ticks away from the mid (no fill),
  25% crossing LIMIT (half GTC, half IOC) up to 5 ticks through the mid (fills 1+ makers),
  20% cancel of a random open order of the acting user.

Figures:
  baseline    the in-memory engine: each command applied and acknowledged at once, nothing written;
  1 client    through the sequencer, one command at a time (each waits for its own commit);
  C clients   through the sequencer, C concurrent submitters sharing the work: commands applied
              while a commit runs are written together in the next one (mean batch size shown).
Every figure is commands acknowledged per second on one event loop (wall clock), and the same
per CPU-second of this process (its threads included), which says more on a shared machine; the
database is a SQLite file (WAL), and also PostgreSQL when KEYPLANE_BENCH_PG names a server
(e.g. postgresql://postgres@127.0.0.1:5432; a scratch database is created and dropped). One
unmeasured in-memory run of the same workload comes first, so that no figure pays for warming up
the interpreter and the allocator (the first run in a process is about a third slower). The
garbage collector is then set as the server sets it while serving (``tune_collector``: what start-up
built frozen, collections rare): with Python's defaults a full collection lands in one run in a few
and halves it. Each run's set-up (a fresh database, migrated) leaves about 40,000 objects of cyclic
garbage; it is collected before the clock starts, as the server collects after its start-up (left
in, its collection, 20-30 ms, landed inside one measured run in three). The baseline takes a tenth
of a second, so it runs R times (default 5) and its median is the figure (every run is printed);
the ratios are to that median.

Run: .venv/bin/python bench/engine.py [N] [C] [R]
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py is named like the standard library's ``http`` package: keep this folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import asyncio
import gc
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import psycopg

from keyplane.exchange.errors import ExchangeError
from keyplane.exchange.models import OrderType, Side, TimeInForce
from keyplane.exchange.open_limits import OpenOrderLimits
from keyplane.exchange.orders import OrderRequest
from keyplane.exchange.service import Exchange
from keyplane.http.serving import tune_collector
from keyplane.store.engine import make_engine, migrate
from keyplane.store.tables import users

MID = Decimal(30000)
TICK = Decimal("0.01")


def workload(n: int, seed: int = 7) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    cmds: list[tuple[Any, ...]] = []
    for _ in range(n):
        r = rng.random()
        user = rng.randrange(4)
        side = rng.choice([Side.BUY, Side.SELL])
        qty = Decimal(rng.randint(1, 50)) * Decimal("0.001")
        if r < 0.55:
            away = rng.randint(1, 20) * TICK
            cmds.append(
                ("limit", user, side, qty, MID - away if side is Side.BUY else MID + away, TimeInForce.GTC)
            )
        elif r < 0.80:
            through = rng.randint(0, 5) * TICK
            cmds.append(
                (
                    "limit",
                    user,
                    side,
                    qty,
                    MID + through if side is Side.BUY else MID - through,
                    rng.choice([TimeInForce.GTC, TimeInForce.IOC]),
                )
            )
        else:
            cmds.append(("cancel", user, rng.random()))
    return cmds


def write_nothing(ex: Exchange) -> None:
    """Baseline: a command is acknowledged as soon as it is applied; its effects are dropped."""

    def applied() -> asyncio.Future[None]:
        ex._journal.close(ex.ledger)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    ex.sequencer.applied = applied  # type: ignore[method-assign]


async def setup(url: str, persist: bool) -> tuple[Exchange, list[int]]:
    engine = make_engine(url)
    migrate(engine)
    ex = Exchange(engine, open_limits=OpenOrderLimits(orders=10**9))  # the workload rests thousands
    if not persist:
        write_nothing(ex)
    with engine.begin() as conn:
        uids = [
            int(conn.execute(users.insert().values(name=f"bench{i}", created_at=0)).inserted_primary_key[0])
            for i in range(4)
        ]
    for u in uids:
        await ex.credit(u, "USDT", Decimal(100000000), "bench")
        await ex.credit(u, "BTC", Decimal(10000), "bench")
    return ex, uids


class Resting:
    """Each user's resting order ids, kept by the bench's own clients so that picking one to cancel
    costs O(1) (walking the whole book per cancel made the client the bottleneck); an id found
    filled or gone when picked is dropped and another drawn."""

    def __init__(self, uids: list[int]) -> None:
        self.ids: dict[int, list[int]] = {u: [] for u in uids}

    def add(self, uid: int, order_id: int) -> None:
        self.ids[uid].append(order_id)

    def pick(self, ex: Exchange, uid: int, r: float) -> int | None:
        ids, live = self.ids[uid], ex.books["BTCUSDT"].by_id
        while ids:
            i = int(r * len(ids))
            ids[i], ids[-1] = ids[-1], ids[i]
            oid = ids.pop()
            if oid in live:
                return oid
        return None


def requests_of(uids: list[int], cmds: list[tuple[Any, ...]]) -> dict[int, OrderRequest]:
    """The orders of ``cmds``, built before the clock starts (the client's work is not measured)."""
    return {
        id(cmd): OrderRequest(
            user_id=uids[cmd[1]],
            symbol="BTCUSDT",
            side=cmd[2],
            type=OrderType.LIMIT,
            quantity=cmd[3],
            price=cmd[4],
            time_in_force=cmd[5],
        )
        for cmd in cmds
        if cmd[0] == "limit"
    }


async def client(
    ex: Exchange,
    uids: list[int],
    cmds: list[tuple[Any, ...]],
    counts: dict[str, int],
    resting: Resting,
    requests: dict[int, OrderRequest],
) -> None:
    for cmd in cmds:
        uid = uids[cmd[1]]
        try:
            if cmd[0] == "limit":
                placed = await ex.place_order(requests[id(cmd)])
                counts["placed"] += 1
                counts["fills"] += len(placed.fills)
                if placed.order.status.is_open:
                    resting.add(uid, placed.order.order_id)
            else:
                oid = resting.pick(ex, uid, cmd[2])
                if oid is not None:
                    await ex.cancel_order(uid, "BTCUSDT", oid)
                    counts["canceled"] += 1
        except ExchangeError:
            counts["refused"] += 1


async def measure(
    url: str, cmds: list[tuple[Any, ...]], clients: int, persist: bool
) -> tuple[tuple[float, float], dict[str, int], int]:
    ex, uids = await setup(url, persist)
    counts = {"placed": 0, "canceled": 0, "fills": 0, "refused": 0}
    batches = ex.sequencer.batches
    resting, requests = Resting(uids), requests_of(uids, cmds)
    gc.collect()  # the set-up's garbage (the migration's SQLAlchemy objects), not the run's
    t0, c0 = time.perf_counter(), time.process_time()
    await asyncio.gather(
        *(client(ex, uids, cmds[i::clients], counts, resting, requests) for i in range(clients))
    )
    seconds = (time.perf_counter() - t0, time.process_time() - c0)
    ex.close()
    ex.engine.dispose()
    return seconds, counts, ex.sequencer.batches - batches


@contextmanager
def postgres(server: str) -> Iterator[str]:
    name = "kp_bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(server + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(
    label: str, n: int, seconds: tuple[float, float], base: tuple[float, float], batches: int | None = None
) -> None:
    extra = f"  {n / batches:6.1f} commands/commit" if batches else ""
    wall, cpu = seconds
    print(
        f"  {label:<38}: {n / wall:9.0f} commands/s  x{base[0] / wall:5.3f} of baseline"
        f"  ({n / cpu:6.0f} per CPU-second){extra}"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    cmds = workload(n)
    print(f"workload: {n} commands (55% resting limit, 25% crossing limit GTC/IOC, 20% cancel), seed 7")
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(measure(f"sqlite:///{tmp}/warmup.db", cmds, 1, False))
        tune_collector()
        baselines = [
            asyncio.run(measure(f"sqlite:///{tmp}/baseline{i}.db", cmds, 1, False)) for i in range(runs)
        ]
        base_counts = baselines[0][1]
        assert all(counts == base_counts for _, counts, _ in baselines)
        base_s = sorted((s for s, _, _ in baselines), key=lambda s: s[0])[runs // 2]
        print(f"outcome:  {base_counts}")
        print(f"baseline runs (commands/s): {', '.join(f'{n / s[0]:.0f}' for s, _, _ in baselines)}")
        print("SQLite file (WAL)")
        report(f"baseline in-memory (median of {runs})", n, base_s, base_s)
        s, counts, batches = asyncio.run(measure(f"sqlite:///{tmp}/one.db", cmds, 1, True))
        assert counts == base_counts, (counts, base_counts)
        report("sequencer, 1 client", n, s, base_s, batches)
        s, _, batches = asyncio.run(measure(f"sqlite:///{tmp}/many.db", cmds, clients, True))
        report(f"sequencer, {clients} concurrent clients", n, s, base_s, batches)
    server = os.environ.get("KEYPLANE_BENCH_PG")
    if server:
        print("PostgreSQL")
        for label, c in (("sequencer, 1 client", 1), (f"sequencer, {clients} concurrent clients", clients)):
            with postgres(server) as url:
                s, _, batches = asyncio.run(measure(url, cmds, c, True))
            report(label, n, s, base_s, batches)


if __name__ == "__main__":
    main()
