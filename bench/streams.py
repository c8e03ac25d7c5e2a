"""Fan-out: 1,000 stream subscribers on one ``keyplane serve``, the delay from a trade to its
stream message (p50/p99), next to the REST order rate measured by wrk in the same run.

Why this shape: the subscribers run in their own process (``--subscribers`` mode of this file),
so their Python does not share the server's event loop; they use the ``websockets`` package and
read ``<symbol>@trade`` on the raw endpoint. The delay of one delivery is the subscriber's wall
clock when the message arrives minus the trade time ``T`` in the message (the instant the
exchange applied the trade; same machine, same clock): it includes the group commit, since a
trade is streamed only once durable. The trades are made by this process at a steady rate
(``--trades-per-second``), a resting sell then a buy that takes it, through signed REST.

Scenarios, in order, each printed with its figures:
1. ``ping`` and ``order`` with wrk and no subscriber (``bench/http.py``'s, the baseline);
2. 1,000 subscribers connected, trades for ``--seconds``: delay p50/p99 and deliveries;
3. ``order`` with wrk again, while the 1,000 subscribers are connected and trades go on.

Run: ``.venv/bin/python bench/streams.py`` (SQLite) or with ``--database-url`` as bench/http.py;
``--ws-compression false`` serves without permessage-deflate (the subscribers ask for it, and by
default the server grants it, compressing every message once per connection).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from typing import Any

import httpx

_spec = importlib.util.spec_from_file_location("bench_http", Path(__file__).resolve().parent / "http.py")
assert _spec is not None and _spec.loader is not None
bh = importlib.util.module_from_spec(_spec)
sys.modules["bench_http"] = bh
_spec.loader.exec_module(bh)

TRADE_SYMBOL = "ETHUSDT"  # the order scenario rests buys on BTCUSDT; trades happen here
TRADE_PRICE, TRADE_QTY = "2000.00", "0.0100"


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


# -- the subscribers' process ------------------------------------------------------------------
async def subscribe_all(url: str, count: int) -> None:
    import websockets

    stream = TRADE_SYMBOL.lower() + "@trade"
    delays: list[float] = []
    connections = []
    for i in range(count):
        ws = await websockets.connect(f"{url}/ws/{stream}", max_size=None, ping_interval=None)
        connections.append(ws)
        if i % 100 == 99:
            await asyncio.sleep(0)

    async def read(ws: Any) -> None:
        async for text in ws:
            now = time.time() * 1000
            delays.append(now - json.loads(text)["T"])

    readers = [asyncio.create_task(read(ws)) for ws in connections]
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "stop"
    await asyncio.sleep(1.0)
    for task in readers:
        task.cancel()
    delays.sort()
    result = {
        "subscribers": count,
        "deliveries": len(delays),
        "p50_ms": statistics.median(delays) if delays else None,
        "p99_ms": delays[int(len(delays) * 0.99) - 1] if delays else None,
        "max_ms": delays[-1] if delays else None,
    }
    print(json.dumps(result), flush=True)
    for ws in connections:
        await ws.close()


# -- the trades ------------------------------------------------------------------------------
class Trader:
    """A maker's resting sell, then a taker's buy of it: one trade, at a steady rate."""

    def __init__(self, base: str, maker: Any, taker: Any, per_second: float) -> None:
        self._client = httpx.Client(base_url=base, timeout=10)
        self._maker, self._taker, self._period = maker, taker, 1.0 / per_second
        self._stop = threading.Event()
        self.trades = 0
        self._n = 0

    def _order(self, key: Any, side: str) -> None:
        self._n += 1
        query = (
            f"symbol={TRADE_SYMBOL}&side={side}&type=LIMIT&timeInForce=GTC&quantity={TRADE_QTY}"
            f"&price={TRADE_PRICE}&newOrderRespType=ACK&timestamp={bh.timestamp_ms()}"
        )
        r = self._client.post("/api/v3/order", content=key.sign(query), headers=_form(key))
        if r.status_code != 200:
            raise RuntimeError(f"trade order refused: {r.text}")

    def run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            self._order(self._maker, "SELL")
            self._order(self._taker, "BUY")
            self.trades += 1
            next_at += self._period
            time.sleep(max(0.0, next_at - time.monotonic()))

    def _guarded(self) -> None:
        try:
            self.run()
        except Exception as error:  # noqa: BLE001 - reported with the figures
            self.failure = repr(error)

    failure = ""

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._guarded, daemon=True)
        thread.start()
        return thread

    def stop(self, thread: threading.Thread) -> None:
        self._stop.set()
        thread.join()


def _form(key: Any) -> dict[str, str]:
    return {"X-MBX-APIKEY": key.key, "Content-Type": "application/x-www-form-urlencoded"}


def make_trader_keys(env: dict[str, str], base: str) -> tuple[Any, Any]:
    keys = []
    for name in ("maker", "taker"):
        bh.cli(env, "users", "create", name)
        issued = json.loads(
            bh.cli(env, "keys", "create", "--user", name, "--permissions", "read,trade", "--json")
        )
        for asset, amount in (("ETH", "100000"), ("USDT", "100000000")):
            bh.cli(
                env, "funds", "credit", "--user", name, "--asset", asset, "--amount", amount, "--server", base
            )
        keys.append(bh.Key(issued["key"], issued["secret"]))
    return keys[0], keys[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", help="postgresql://... (created and dropped); default SQLite")
    parser.add_argument("--redis-url")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--trades-per-second", type=float, default=20.0)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    parser.add_argument("--ws-compression", choices=["true", "false"], default="true")
    parser.add_argument("--subscribe-to", help=argparse.SUPPRESS)  # the subscribers' process
    args = parser.parse_args()
    raise_fd_limit()
    if args.subscribe_to:
        asyncio.run(subscribe_all(args.subscribe_to, args.subscribers))
        return

    with tempfile.TemporaryDirectory() as tmp, bh.scratch_database(args.database_url) as db_url:
        work = Path(tmp)
        env = bh.server_env(work / "data", db_url, args.redis_url)
        env["KEYPLANE_WS_COMPRESSION"] = args.ws_compression
        key = bh.seed(env)
        with bh.server(env, bh.free_port(), work / "server.log") as (base, pid):
            funds = f"{bh.order_cost(2 * args.orders + bh.WARM_UP * 4):f}"
            bh.cli(
                env,
                "funds",
                "credit",
                "--user",
                bh.USER,
                "--asset",
                "USDT",
                "--amount",
                funds,
                "--server",
                base,
            )
            maker, taker = make_trader_keys(env, base)
            with httpx.Client(base_url=base, timeout=10) as client:
                load = bh.Load(args.wrk, 1, 32, args.seconds, pid)
                bench = bh.Bench(client, key, load, work)
                before = [bench.ping("ping"), bench.orders("order, no subscriber", args.orders)]
                subs = subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "--subscribe-to",
                        "ws://" + base.split("://", 1)[1],
                        "--subscribers",
                        str(args.subscribers),
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    env=os.environ.copy(),
                )
                assert subs.stdin is not None and subs.stdout is not None
                if subs.stdout.readline().strip() != "ready":
                    raise RuntimeError("the subscribers did not connect")
                trader = Trader(base, maker, taker, args.trades_per_second)
                thread = trader.start()
                time.sleep(args.seconds)
                during = bench.orders(f"order, {args.subscribers} subscribers + trades", args.orders)
                trader.stop(thread)
                subs.stdin.write("stop\n")
                subs.stdin.flush()
                fanout = json.loads(subs.stdout.readline())
                subs.wait(timeout=60)
    baseline = bh.ping_rate(before)
    print(
        f"keyplane serve on {'PostgreSQL' if db_url else 'SQLite'} (one process), wrk -t1 -c32 -d{args.seconds}s, "
        f"WebSocket compression {'on' if args.ws_compression == 'true' else 'off'}"
    )
    for figures in [*before, during]:
        ratio = figures.rate / baseline if baseline else 0.0
        print(
            f"  {figures.scenario:<40} {figures.rate:>9.0f} req/s  p50 {figures.p50_ms:6.1f} ms  "
            f"p99 {figures.p99_ms:6.1f} ms  x ping {ratio:.2f}  errors {figures.errors}"
        )
    if trader.failure:
        print("  the trader stopped:", trader.failure)
    expected = trader.trades * args.subscribers
    print(
        f"  fan-out: {fanout['subscribers']} subscribers, {trader.trades} trades, "
        f"{fanout['deliveries']} of {expected} deliveries; trade -> message delay "
        f"p50 {fanout['p50_ms']:.1f} ms, p99 {fanout['p99_ms']:.1f} ms, max {fanout['max_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main()
