"""Orders per second through the exchange engine, persisted to a SQLite file.

Workload (fixed seed, BTCUSDT, 4 funded users), per command:
  55% resting LIMIT GTC 1-20 ticks away from the mid (no fill),
  25% crossing LIMIT (half GTC, half IOC) up to 5 ticks through the mid (fills 1+ makers),
  20% cancel of a random open order of the acting user.

Baseline, measured in the same run: the same command sequence through the same matching,
ledger and validation code with persistence switched off (no database transaction per command),
so the ratio is the cost of committing every command before acknowledging it.

Run: .venv/bin/python bench/engine.py [N]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from keyplane.exchange.errors import ExchangeError
from keyplane.exchange.matching import Command
from keyplane.exchange.orders import OrderRequest
from keyplane.exchange.service import Exchange
from keyplane.store.engine import make_engine, migrate
from keyplane.store.tables import users

MID = Decimal(30000)
TICK = Decimal("0.01")


class InMemoryExchange(Exchange):
    """The same engine with the database write of each command skipped (baseline only)."""

    @contextmanager
    def _command(self) -> Iterator[Command]:
        self._seq += 1
        cx = Command(self._seq, self.now(), self._next_trade_id, self._next_agg_id)
        yield cx
        self.ledger.committed()
        self._next_trade_id, self._next_agg_id = cx.next_trade_id, cx.next_agg_id
        for o in cx.orders.values():
            key = (o.user_id, o.client_order_id)
            if o.status.is_open:
                self._open_ids[key] = o.order_id
            elif self._open_ids.get(key) == o.order_id:
                del self._open_ids[key]


def workload(n: int, seed: int = 7) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    cmds: list[tuple[Any, ...]] = []
    for _ in range(n):
        r = rng.random()
        user = rng.randrange(4)
        side = rng.choice(["BUY", "SELL"])
        qty = Decimal(rng.randint(1, 50)) * Decimal("0.001")
        if r < 0.55:
            away = rng.randint(1, 20) * TICK
            cmds.append(("limit", user, side, qty, MID - away if side == "BUY" else MID + away, "GTC"))
        elif r < 0.80:
            through = rng.randint(0, 5) * TICK
            cmds.append(
                (
                    "limit",
                    user,
                    side,
                    qty,
                    MID + through if side == "BUY" else MID - through,
                    rng.choice(["GTC", "IOC"]),
                )
            )
        else:
            cmds.append(("cancel", user, rng.random()))
    return cmds


def setup(cls: type[Exchange], path: Path) -> tuple[Exchange, list[int]]:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    ex = cls(engine)
    with engine.begin() as conn:
        uids = [
            int(conn.execute(users.insert().values(name=f"bench{i}", created_at=0)).inserted_primary_key[0])
            for i in range(4)
        ]
    for u in uids:
        ex.credit(u, "USDT", Decimal(100000000), "bench")
        ex.credit(u, "BTC", Decimal(10000), "bench")
    return ex, uids


def run(ex: Exchange, uids: list[int], cmds: list[tuple[Any, ...]]) -> tuple[float, dict[str, int]]:
    counts = {"placed": 0, "canceled": 0, "fills": 0, "refused": 0}
    t0 = time.perf_counter()
    for cmd in cmds:
        uid = uids[cmd[1]]
        try:
            if cmd[0] == "limit":
                _, _, side, qty, price, tif = cmd
                placed = ex.place_order(OrderRequest(uid, "BTCUSDT", side, "LIMIT", qty, price, tif))
                counts["placed"] += 1
                counts["fills"] += len(placed.fills)
            else:
                mine = [o for o in ex.books["BTCUSDT"].by_id.values() if o.user_id == uid]
                if mine:
                    ex.cancel_order(uid, "BTCUSDT", mine[int(cmd[2] * len(mine))].order_id)
                    counts["canceled"] += 1
        except ExchangeError:
            counts["refused"] += 1
    return time.perf_counter() - t0, counts


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    cmds = workload(n)
    with tempfile.TemporaryDirectory() as tmp:
        base_ex, base_uids = setup(InMemoryExchange, Path(tmp) / "baseline.db")
        base_s, base_counts = run(base_ex, base_uids, cmds)
        ex, uids = setup(Exchange, Path(tmp) / "engine.db")
        s, counts = run(ex, uids, cmds)
        size = (Path(tmp) / "engine.db").stat().st_size + (Path(tmp) / "engine.db-wal").stat().st_size
    assert counts == base_counts, (counts, base_counts)
    print(f"workload: {n} commands (55% resting limit, 25% crossing limit GTC/IOC, 20% cancel), seed 7")
    print(f"outcome:  {counts}")
    print(f"baseline  in-memory engine, no persistence : {n / base_s:10.0f} commands/s  ({base_s:.2f} s)")
    print(f"engine    SQLite file (WAL), 1 txn/command : {n / s:10.0f} commands/s  ({s:.2f} s)")
    print(
        f"ratio     persisted / in-memory            : {base_s / s:10.3f}  (persistence costs {s / base_s:.1f}x)"
    )
    print(
        f"per command: {1e6 * s / n:.0f} us persisted vs {1e6 * base_s / n:.0f} us in memory; db {size / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
