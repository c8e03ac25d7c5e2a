"""Cancels and depth at one crowded price, and depth of a deep book: their cost as either grows.

Why: a round price can hold tens of thousands of resting orders. A cancel there, a depth request
and each batch's depth events must not walk the level, or every command at that price slows down
with its size (a deque's ``remove`` did, and so did summing the level's orders for depth).

For each level size N (default 100, 10,000 and 100,000), the in-memory engine of
``bench/engine.py`` (nothing written) rests N buys at one price, then measures:
  cancel  a resting order picked at random in the level (each one replaced by a new order, so the
          level keeps its size; the figure is the cancel alone);
  depth   ``Exchange.depth(symbol, 100)``, REST depth's answer.
and, on a deep book (N buys each at its own price, one tick apart):
  deep depth  ``Exchange.depth(symbol, 100)`` again: the best 100 bids of N levels;
and, with S stop-loss sells waiting far below the market (S = 100, 1,000, 10,000):
  trade   a buy that takes a resting sell (one trade, which every waiting stop order must not
          miss; the resting sell is placed before the clock starts).
The ratio is to the smallest N (or S), measured in the same run: 1 means the cost does not grow.

Run: .venv/bin/python bench/book.py [N ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import asyncio
import gc
import importlib.util
import random
import tempfile
import time
from decimal import Decimal

from keyplane.exchange.models import OrderType, Side, TimeInForce
from keyplane.exchange.open_limits import OpenOrderLimits
from keyplane.exchange.orders import OrderRequest
from keyplane.exchange.service import Exchange

_spec = importlib.util.spec_from_file_location("bench_engine", Path(__file__).resolve().parent / "engine.py")
assert _spec is not None and _spec.loader is not None
engine_bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_engine"] = engine_bench
_spec.loader.exec_module(engine_bench)

PRICE, QTY, TICK = Decimal("29000.00"), Decimal("0.001"), Decimal("0.01")
CANCELS, DEPTHS, TRADES = 2000, 2000, 1000
STOP_SIZES = [100, 1_000, 10_000]


def order(
    user_id: int, side: Side = Side.BUY, price: Decimal = PRICE, tif: TimeInForce = TimeInForce.GTC
) -> OrderRequest:
    return OrderRequest(
        user_id=user_id,
        symbol="BTCUSDT",
        side=side,
        type=OrderType.LIMIT,
        quantity=QTY,
        price=price,
        time_in_force=tif,
    )


async def measure(url: str, size: int) -> tuple[float, float]:
    """µs per cancel and per depth request with ``size`` orders resting at one price."""
    ex: Exchange
    ex, uids = await engine_bench.setup(url, persist=False)
    rng = random.Random(size)
    resting: list[tuple[int, int]] = []
    for i in range(size):
        uid = uids[i % len(uids)]
        resting.append((uid, (await ex.place_order(order(uid))).order.order_id))
    gc.collect()
    cancel_s = 0.0
    for _ in range(CANCELS):
        i = rng.randrange(len(resting))
        uid, order_id = resting[i]
        t0 = time.perf_counter()
        await ex.cancel_order(uid, "BTCUSDT", order_id)
        cancel_s += time.perf_counter() - t0
        resting[i] = (uid, (await ex.place_order(order(uid))).order.order_id)
    t0 = time.perf_counter()
    for _ in range(DEPTHS):
        ex.depth("BTCUSDT", 100)
    depth_s = time.perf_counter() - t0
    assert len(ex.books["BTCUSDT"].by_id) == size
    ex.close()
    ex.engine.dispose()
    return cancel_s / CANCELS * 1e6, depth_s / DEPTHS * 1e6


async def measure_deep(url: str, size: int) -> float:
    """µs per depth request with ``size`` bids, each at its own price."""
    ex: Exchange
    ex, uids = await engine_bench.setup(url, persist=False)
    for i in range(size):
        await ex.place_order(order(uids[i % len(uids)], price=PRICE - i * TICK))
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(DEPTHS):
        ex.depth("BTCUSDT", 100)
    seconds = time.perf_counter() - t0
    assert len(ex.books["BTCUSDT"].bids.prices) == size
    ex.close()
    ex.engine.dispose()
    return seconds / DEPTHS * 1e6


async def measure_stops(url: str, size: int) -> float:
    """µs per trading command with ``size`` stop-loss sells waiting, none of them set off."""
    ex: Exchange
    ex, uids = await engine_bench.setup(url, persist=False)
    ex.open_limits = OpenOrderLimits(orders=10**9, algo_orders=10**9)
    for i in range(size):
        stop = OrderRequest(
            user_id=uids[i % len(uids)],
            symbol="BTCUSDT",
            side=Side.SELL,
            type=OrderType.STOP_LOSS,
            quantity=QTY,
            stop_price=Decimal(20000) + i * TICK,
        )
        await ex.place_order(stop)
    gc.collect()
    seconds = 0.0
    for _ in range(TRADES):
        await ex.place_order(order(uids[0], Side.SELL, PRICE))
        t0 = time.perf_counter()
        taken = await ex.place_order(order(uids[1], Side.BUY, PRICE, TimeInForce.IOC))
        seconds += time.perf_counter() - t0
        assert len(taken.fills) == 1
    assert len(ex.books["BTCUSDT"].stops) == size
    ex.close()
    ex.engine.dispose()
    return seconds / TRADES * 1e6


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [100, 10_000, 100_000]
    print(
        f"one price level of N resting buys ({CANCELS} cancels, {DEPTHS} depth(100) requests), "
        f"and a deep book of N buys one tick apart ({DEPTHS} depth(100) requests)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(measure(f"sqlite:///{tmp}/warmup.db", sizes[0]))
        figures = [asyncio.run(measure(f"sqlite:///{tmp}/level{n}.db", n)) for n in sizes]
        deep = [asyncio.run(measure_deep(f"sqlite:///{tmp}/deep{n}.db", n)) for n in sizes]
        trades = [asyncio.run(measure_stops(f"sqlite:///{tmp}/stops{n}.db", n)) for n in STOP_SIZES]
    base_cancel, base_depth = figures[0]
    for n, (cancel, depth), deep_depth in zip(sizes, figures, deep, strict=True):
        print(
            f"  N = {n:>7,}: cancel {cancel:7.1f} µs  x{cancel / base_cancel:5.2f}   "
            f"depth {depth:7.1f} µs  x{depth / base_depth:6.2f}   "
            f"deep depth {deep_depth:7.1f} µs  x{deep_depth / deep[0]:6.2f}"
        )
    for n, trade in zip(STOP_SIZES, trades, strict=True):
        print(f"  S = {n:>7,} stops waiting: trade {trade:7.1f} µs  x{trade / trades[0]:6.2f}")


if __name__ == "__main__":
    main()
