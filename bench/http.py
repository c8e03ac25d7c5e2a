"""Requests per second and p50/p99 latency of a real ``keyplane serve`` over loopback, against ping.

Run: ``.venv/bin/python bench/http.py`` (SQLite in a temporary data directory), or with
``--database-url postgresql://postgres@127.0.0.1:5432/kp_bench`` (the database is created for the
run and dropped after it). The bench starts the server as a subprocess, seeds a user, a read+trade
HMAC key and funds through the CLI, then runs each scenario with ``--clients`` concurrent async
httpx clients for ``--seconds`` (or ``--requests`` in all, whichever comes first) and stops by itself:

- ``ping``: unauthenticated ``GET /api/v3/ping``, the baseline measured in the same run, first and
  last (the ratio uses their mean, so a machine whose load drifts during the run shows it);
- ``apiRestrictions``: signed ``GET /sapi/v1/account/apiRestrictions`` (verification only);
- ``account``: signed ``GET /api/v3/account`` (verification + balances);
- ``order``: signed ``POST /api/v3/order``, LIMIT GTC buys far below any market so they rest, each
  followed by its signed ``DELETE /api/v3/order`` (``cancel``), so funds never run out.

A route that answers 404 is reported as unavailable. Rate limits are raised for the run's server.
Figures include the client's own cost (Python, one process): read them as ratios to ping.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's ``http`` package: keep its folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

KEYPLANE = [sys.executable, "-c", "from keyplane.cli import app; app()"]
USER = "bench"
SYMBOL = "BTCUSDT"
RESTING_PRICE = "10000.00"  # far below the default BTCUSDT start: a buy here rests
RESTING_QTY = "0.00100"  # 10 USDT, above the 5 USDT minimum notional


class Unavailable(Exception):
    """The server does not serve this route (404)."""


@dataclass
class Result:
    name: str
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    seconds: float = 0.0
    unavailable: str = ""
    first_error: str = ""


@dataclass(frozen=True)
class Key:
    key: str
    secret: str

    def sign(self, params: dict[str, str]) -> str:
        query = urlencode({**params, "timestamp": str(time.time_ns() // 1_000_000), "recvWindow": "10000"})
        return (
            query + "&signature=" + hmac.new(self.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        )


# -- the server --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def scratch_database(url: str | None) -> Iterator[str | None]:
    """None for SQLite; for PostgreSQL a database created now and dropped (forcefully) afterwards."""
    if not url:
        yield None
        return
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "kp_bench_" + uuid.uuid4().hex[:8]
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*KEYPLANE, *args], check=False, env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"keyplane {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


@contextlib.contextmanager
def server(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    url = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*KEYPLANE, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited: {log.read_text()}")
            try:
                if httpx.get(url + "/api/v3/ping", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start in 30 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


# -- the scenarios ----------------------------------------------------------------------------
Step = Callable[[httpx.AsyncClient, Result], Awaitable[None]]


async def timed(
    client: httpx.AsyncClient, result: Result, label: str, method: str, path: str, **kwargs: object
) -> httpx.Response:
    start = time.perf_counter()
    response = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    if response.status_code == 404:
        raise Unavailable(f"{method} {path}: 404 {response.text[:80]}")
    if response.status_code != 200:
        result.errors += 1
        result.first_error = (
            result.first_error or f"{method} {path}: {response.status_code} {response.text[:120]}"
        )
    else:
        result.latencies.setdefault(label, []).append(elapsed)
    return response


def ping(label: str = "ping") -> Step:
    async def step(client: httpx.AsyncClient, result: Result) -> None:
        await timed(client, result, label, "GET", "/api/v3/ping")

    return step


def signed_get(key: Key, path: str, label: str) -> Step:
    async def step(client: httpx.AsyncClient, result: Result) -> None:
        await timed(client, result, label, "GET", f"{path}?{key.sign({})}", headers={"X-MBX-APIKEY": key.key})

    return step


def order_then_cancel(key: Key) -> Step:
    headers = {"X-MBX-APIKEY": key.key}
    form = {**headers, "Content-Type": "application/x-www-form-urlencoded"}

    async def step(client: httpx.AsyncClient, result: Result) -> None:
        body = key.sign(
            {
                "symbol": SYMBOL,
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": RESTING_QTY,
                "price": RESTING_PRICE,
                "newClientOrderId": "b" + uuid.uuid4().hex[:30],
                "newOrderRespType": "ACK",
            }
        )
        placed = await timed(client, result, "order", "POST", "/api/v3/order", content=body, headers=form)
        if placed.status_code != 200:
            return
        query = key.sign({"symbol": SYMBOL, "orderId": str(placed.json()["orderId"])})
        await timed(client, result, "cancel", "DELETE", f"/api/v3/order?{query}", headers=headers)

    return step


async def measure(name: str, base: str, step: Step, clients: int, seconds: float, requests: int) -> Result:
    result = Result(name)
    budget = [requests]
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            while time.perf_counter() < deadline and budget[0] > 0:
                budget[0] -= 1
                await step(client, result)

    async with httpx.AsyncClient(base_url=base, timeout=10) as probe:  # warm up; find missing routes
        try:
            for _ in range(20):
                await step(probe, Result(name))
        except Unavailable as missing:
            result.unavailable = str(missing)
            return result
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    result.seconds = time.perf_counter() - start
    return result


# -- the report -------------------------------------------------------------------------------
def rate_of(result: Result, label: str) -> float:
    return len(result.latencies.get(label, [])) / result.seconds if result.seconds else 0.0


def rows(results: list[Result]) -> list[tuple[str, ...]]:
    """One row per measured label; the baseline is the mean ping rate of the first and last run."""
    pings = [rate_of(r, label) for r in results for label in r.latencies if label.startswith("ping")]
    ping_rate = statistics.mean(pings) if pings else 0.0
    out: list[tuple[str, ...]] = []
    for r in results:
        if r.unavailable:
            out.append((r.name, "-", "-", "unavailable", "-", "-", "-"))
            continue
        for label, samples in r.latencies.items():
            rate = rate_of(r, label)
            ordered = sorted(samples)
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            ratio = f"{rate / ping_rate:.2f}x" if ping_rate else "-"
            out.append(
                (
                    label,
                    str(len(samples)),
                    str(r.errors),
                    f"{rate:,.0f}",
                    f"{statistics.median(ordered) * 1000:.2f}",
                    f"{p99 * 1000:.2f}",
                    ratio,
                )
            )
    return out


def print_table(title: str, results: list[Result]) -> None:
    head = ("scenario", "ok", "errors", "req/s", "p50 ms", "p99 ms", "vs ping")
    body = rows(results)
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
    print(title)
    for row in (head, tuple("-" * w for w in widths), *body):
        print(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))
            )
        )
    for r in results:
        if r.unavailable:
            print(f"  {r.name}: unavailable ({r.unavailable})")
        elif r.first_error:
            print(f"  {r.name}: first error: {r.first_error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="postgresql://... (created and dropped); default SQLite")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--seconds", type=float, default=5.0, help="time per scenario (default 5)")
    parser.add_argument("--requests", type=int, default=50_000, help="cap on requests per scenario")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, scratch_database(args.database_url) as db_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEYPLANE_")}
        env.update(
            KEYPLANE_DATA_DIR=str(Path(tmp) / "data"),
            KEYPLANE_WEIGHT_LIMIT_PER_KEY="1000000000",
            KEYPLANE_WEIGHT_LIMIT_PER_IP="1000000000",
            KEYPLANE_TRADE_WITHOUT_IP_DAYS="3650",
        )
        if db_url:
            env["KEYPLANE_DATABASE_URL"] = db_url
        cli(env, "users", "create", USER)
        issued = json.loads(
            cli(
                env,
                "keys",
                "create",
                "--user",
                USER,
                "--permissions",
                "read,trade",
                "--label",
                "bench",
                "--json",
            )
        )
        key = Key(issued["key"], issued["secret"])
        with server(env, free_port(), Path(tmp) / "server.log") as base:
            cli(
                env,
                "funds",
                "credit",
                "--user",
                USER,
                "--asset",
                "USDT",
                "--amount",
                "10000000",
                "--server",
                base,
            )
            scenarios: list[tuple[str, Step]] = [
                ("ping", ping()),
                ("apiRestrictions", signed_get(key, "/sapi/v1/account/apiRestrictions", "apiRestrictions")),
                ("account", signed_get(key, "/api/v3/account", "account")),
                ("order", order_then_cancel(key)),
                ("ping (again)", ping("ping (again)")),
            ]
            results = [
                asyncio.run(measure(name, base, step, args.clients, args.seconds, args.requests))
                for name, step in scenarios
            ]
        backend = "PostgreSQL" if db_url else "SQLite"
        print_table(
            f"keyplane serve on {backend}, {args.clients} clients, {args.seconds:g} s per scenario "
            "(loopback, one uvicorn worker)",
            results,
        )


if __name__ == "__main__":
    main()
