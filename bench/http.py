"""Requests per second and p50/p99 latency of a real ``keyplane serve`` under ``wrk``, against ping.

Why wrk: on this 2-core machine a Python load generator shares the cores with the server and
spends more per request than the server does, so it measured itself (ping at 789 req/s, where wrk
sees about 18k). ``wrk`` (Debian package ``wrk``) is a native event-loop client: with ``-t1`` it
needs about a tenth of a core at 13k requests/s here, and leaves the rest to the server, which is
one Python process.

Run: ``.venv/bin/python bench/http.py`` (SQLite in a temporary data directory), or with
``--database-url postgresql://postgres@127.0.0.1:5432/kp_bench`` (the database is created for the
run and dropped after it) and optionally ``--redis-url redis://127.0.0.1:6379/<db>``. The bench
starts the server as a subprocess, seeds a user, a read+trade HMAC key and funds for every order
through the CLI, raises the rate limits, then runs each scenario as
``wrk -t1 -c32 -d<seconds> --latency`` (``--threads``, ``--connections``, ``--seconds``):

- ``ping``: unauthenticated ``GET /api/v3/ping``, the baseline, measured first and last (the ratio
  uses their mean, so a machine whose load drifts during the run shows it);
- ``apiRestrictions``: signed ``GET /sapi/v1/account/apiRestrictions`` (verification only);
- ``account``: signed ``GET /api/v3/account`` (verification + balances);
- ``order``: signed ``POST /api/v3/order``, LIMIT GTC buys far below the market, so every one
  rests and is committed before its answer (``newOrderRespType=ACK``).

A repeat of the same signed GET is allowed within its recvWindow, so ``bench/wrk/cycle.lua``
cycles a few URLs signed just before each scenario. Every order needs its own signature, so
``--orders`` distinct bodies are signed just before the scenario (one timestamp, recvWindow
60000: the scenario must end within the minute) and ``bench/wrk/once.lua`` sends each once.

The table gives wrk's requests/s, p50 and p99 (``--latency``), the errors (non-2xx answers and
socket errors: a row where errors dominate is not a figure), the ratio to ping, and the CPU cores
busy during each run in the server, in wrk and in everything else (from /proc: other work on a
shared machine takes cores from the server, and the 1-minute load average says so too late);
``--json`` prints the same as JSON. A route that answers 404 is reported as unavailable.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's ``http`` package: keep its folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import contextlib
import hashlib
import hmac
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

KEYPLANE = [sys.executable, "-c", "from keyplane.cli import app; app()"]
SCRIPTS = Path(__file__).resolve().parent / "wrk"
USER = "bench"
SYMBOL = "BTCUSDT"
RESTING_PRICE = "10000.00"  # far below the default BTCUSDT start: a buy here rests
RESTING_QTY = "0.00100"  # 10 USDT, above the 5 USDT minimum notional
RECV_WINDOW_MS = 60_000  # the server's maximum: pre-signed requests stay valid this long
SIGNED_GET_URLS = 8
WARM_UP = 20
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}  # wrk's time units, in ms


@dataclass(frozen=True)
class Key:
    key: str
    secret: str

    def sign(self, query: str) -> str:
        """``query`` with Binance's HMAC-SHA256 ``signature`` appended."""
        digest = hmac.new(self.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        return f"{query}&signature={digest}"


@dataclass
class Figures:
    """One wrk run, read from its output."""

    scenario: str
    route: str
    requests: int = 0
    seconds: float = 0.0
    rate: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    non_2xx: int = 0
    socket_errors: int = 0
    exhausted: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    first_error: str = ""
    unavailable: str = ""
    cpu: Cpu | None = None

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors

    @property
    def is_figure(self) -> bool:
        """A run where errors are half the answers or more measured the errors, not the route; one
        that ran out of signed bodies ended on fast refusals."""
        return (
            not self.unavailable
            and self.requests > 0
            and self.errors * 2 < self.requests
            and not self.exhausted
        )


# -- the machine -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cpu:
    """Cores kept busy during a run: by the server, by wrk, and by everything else on the machine.

    The 1-minute load average lags and counts the bench itself; this says how much of the two cores
    other work took while the figure was measured. On PostgreSQL ``others`` includes the database.
    """

    server: float
    wrk: float
    others: float


@dataclass(frozen=True)
class CpuSample:
    at: float
    machine: float  # busy CPU seconds of the whole machine since boot
    server: float
    children: float  # CPU seconds of this process's finished children (wrk, once it has been waited)

    @classmethod
    def take(cls, server_pid: int) -> CpuSample | None:
        """Now, from Linux's /proc; None where there is none."""
        try:
            cpu = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
            stat = Path(f"/proc/{server_pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, ValueError, IndexError):
            return None
        tick = os.sysconf("SC_CLK_TCK")
        # user, nice, system and steal (another guest had the core); interrupts are left out, as the
        # loopback traffic of the bench itself is partly served there.
        busy = cpu[0] + cpu[1] + cpu[2] + cpu[7]
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(
            time.monotonic(),
            busy / tick,
            (int(stat[11]) + int(stat[12])) / tick,  # utime + stime
            children.ru_utime + children.ru_stime,
        )

    def until(self, end: CpuSample | None) -> Cpu | None:
        if end is None or end.at <= self.at:
            return None
        span = end.at - self.at
        server, wrk = end.server - self.server, end.children - self.children
        others = end.machine - self.machine - server - wrk
        return Cpu(server / span, wrk / span, max(others, 0.0) / span)


def python_speed() -> float:
    """Millions of ``sum(range(n))`` steps per second in one core, best of three.

    A virtual machine's host can slow every core down without any sign in /proc (no steal time):
    two runs' absolute figures compare only when this number does; their ratios to ping compare.
    """
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        sum(range(5_000_000))
        best = min(best, time.perf_counter() - start)
    return 5.0 / best


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
def server(env: dict[str, str], port: int, log: Path) -> Iterator[tuple[str, int]]:
    """A running ``keyplane serve``: its URL and process id."""
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
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def server_env(data_dir: Path, database_url: str | None, redis_url: str | None) -> dict[str, str]:
    """This environment without its KEYPLANE_* settings, plus the run's own; no rate limit binds,
    nor the bounds on one account's open orders and order rate (the order scenario rests every
    order it sends, thousands a second), nor those on one IP's WebSocket connections."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYPLANE_")}
    env.update(
        KEYPLANE_DATA_DIR=str(data_dir),
        KEYPLANE_WEIGHT_LIMIT_PER_KEY="1000000000",
        KEYPLANE_WEIGHT_LIMIT_PER_IP="1000000000",
        KEYPLANE_TRADE_WITHOUT_IP_DAYS="3650",
        KEYPLANE_MAX_OPEN_ORDERS_PER_SYMBOL="1000000000",
        KEYPLANE_ORDER_LIMIT_PER_10S="0",
        KEYPLANE_ORDER_LIMIT_PER_DAY="0",
        KEYPLANE_WS_CONNECTION_ATTEMPTS_PER_IP="1000000",  # bench/streams.py's 1,000 subscribers
        KEYPLANE_WS_OPEN_CONNECTIONS_PER_IP="1000000",
    )
    if database_url:
        env["KEYPLANE_DATABASE_URL"] = database_url
    if redis_url:
        env["KEYPLANE_REDIS_URL"] = redis_url
    return env


def seed(env: dict[str, str]) -> Key:
    cli(env, "users", "create", USER)
    issued = json.loads(
        cli(
            env, "keys", "create", "--user", USER, "--permissions", "read,trade", "--label", "bench", "--json"
        )
    )
    return Key(issued["key"], issued["secret"])


def order_cost(orders: int) -> Decimal:
    """USDT locked by ``orders`` resting buys: the funds that make every one of them affordable."""
    return Decimal(RESTING_PRICE) * Decimal(RESTING_QTY) * orders


# -- signing -----------------------------------------------------------------------------------
def timestamp_ms() -> int:
    return time.time_ns() // 1_000_000


def signed_get_urls(key: Key, path: str, count: int) -> list[str]:
    """``count`` distinct signed targets for one GET (timestamps 1 ms apart, all just signed)."""
    now = timestamp_ms()
    return [path + "?" + key.sign(f"timestamp={now - i}&recvWindow={RECV_WINDOW_MS}") for i in range(count)]


def order_bodies(key: Key, count: int, run: str, timestamp: int) -> Iterator[str]:
    """``count`` signed form bodies of resting buys, each with its own ``newClientOrderId``."""
    head = (
        f"symbol={SYMBOL}&side=BUY&type=LIMIT&timeInForce=GTC&quantity={RESTING_QTY}"
        f"&price={RESTING_PRICE}&newOrderRespType=ACK&recvWindow={RECV_WINDOW_MS}"
        f"&timestamp={timestamp}&newClientOrderId={run}-"
    )
    keyed = hmac.new(key.secret.encode(), digestmod=hashlib.sha256)
    for i in range(count):
        query = f"{head}{i}"
        mac = keyed.copy()
        mac.update(query.encode())
        yield f"{query}&signature={mac.hexdigest()}"


# -- wrk ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Load:
    wrk: str
    threads: int
    connections: int
    seconds: int
    server_pid: int

    def run(self, scenario: str, url: str, route: str, headers: dict[str, str], script: list[str]) -> Figures:
        command = [self.wrk, f"-t{self.threads}", f"-c{self.connections}", f"-d{self.seconds}s"]
        command += ["--latency", "--timeout", "10s"]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        if script:
            command += ["-s", script[0], url, "--", *script[1:]]
        else:
            command.append(url + route)
        before = CpuSample.take(self.server_pid)
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=self.seconds + 60)
        after = CpuSample.take(self.server_pid)
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
        figures = parse_wrk(scenario, route, done.stdout)
        figures.cpu = before.until(after) if before else None
        return figures


def _ms(number: str, unit: str) -> float:
    return float(number) * UNITS[unit]


def parse_wrk(scenario: str, route: str, output: str) -> Figures:
    """The figures of one ``wrk --latency`` run, from its text report and once.lua's own line."""
    figures = Figures(scenario, route)
    if found := re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output, re.MULTILINE):
        figures.requests = int(found[1])
        figures.seconds = _ms(found[2], found[3]) / 1000
    if found := re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE):
        figures.rate = float(found[1])
    for percent, attribute in (("50", "p50_ms"), ("99", "p99_ms")):
        if found := re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE):
            setattr(figures, attribute, _ms(found[1], found[2]))
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        figures.non_2xx = int(found[1])
    if found := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        figures.socket_errors = sum(int(n) for n in found.groups())
    if found := re.search(r"^keyplane-bench (.*)$", output, re.MULTILINE):
        extra = json.loads(found[1])
        figures.exhausted = int(extra["exhausted"])
        figures.statuses = {str(k): int(v) for k, v in sorted(extra["statuses"].items())}
        figures.first_error = str(extra["first_error"])
    if not figures.requests or not figures.rate:
        raise RuntimeError(f"could not read wrk's report:\n{output}")
    return figures


# -- the scenarios -----------------------------------------------------------------------------
class Bench:
    """The scenarios against one running server."""

    def __init__(self, client: httpx.Client, key: Key, load: Load, work: Path) -> None:
        self.client, self.key, self.load, self.work = client, key, load, work
        self.base = str(client.base_url).rstrip("/")

    def probe(self, method: str, target: str, **kwargs: Any) -> str:
        """Warm-up requests; the first refusal, or ``"404 ..."`` for a route this server lacks."""
        for _ in range(WARM_UP):
            response = self.client.request(method, target, **kwargs)
            if response.status_code != 200:
                return f"{response.status_code} {response.text[:200]}"
        return ""

    def ping(self, scenario: str) -> Figures:
        route = "/api/v3/ping"
        self.probe("GET", route)
        return self.load.run(scenario, self.base, route, {}, [])

    def signed_get(self, scenario: str, route: str) -> Figures:
        urls = signed_get_urls(self.key, route, SIGNED_GET_URLS)
        headers = {"X-MBX-APIKEY": self.key.key}
        refused = self.probe("GET", urls[0], headers=headers)
        if refused.startswith("404"):
            return Figures(scenario, route, unavailable=refused)
        targets = self.work / f"{scenario}.targets"
        targets.write_text("\n".join(urls) + "\n")
        figures = self.load.run(
            scenario, self.base, route, headers, [str(SCRIPTS / "cycle.lua"), str(targets)]
        )
        figures.first_error = refused
        return figures

    def orders(self, scenario: str, count: int) -> Figures:
        route = "/api/v3/order"
        headers = {"X-MBX-APIKEY": self.key.key, "Content-Type": "application/x-www-form-urlencoded"}
        run = uuid.uuid4().hex[:8]
        refused = ""
        for body in order_bodies(self.key, WARM_UP, run + "w", timestamp_ms()):
            response = self.client.post(route, content=body, headers=headers)
            if response.status_code != 200:
                refused = refused or f"{response.status_code} {response.text[:200]}"
        if refused.startswith("404"):
            return Figures(scenario, route, unavailable=refused)
        signed_at = timestamp_ms()
        prefix = self.work / "orders"  # once.lua reads orders.1 .. orders.<threads>
        with contextlib.ExitStack() as stack:
            files = [stack.enter_context(open(f"{prefix}.{t + 1}", "w")) for t in range(self.load.threads)]
            for i, body in enumerate(order_bodies(self.key, count, run, signed_at)):
                files[i % len(files)].write(body + "\n")
        # Every body must still be inside its recvWindow when wrk sends it, with a margin.
        spent = (timestamp_ms() - signed_at) / 1000
        if spent + self.load.seconds + 5 > RECV_WINDOW_MS / 1000:
            raise RuntimeError(
                f"signing {count} orders took {spent:.1f} s: with {self.load.seconds} s of load the "
                f"last ones would leave their {RECV_WINDOW_MS // 1000} s recvWindow; use fewer "
                "--orders or --seconds"
            )
        script = [str(SCRIPTS / "once.lua"), str(prefix), route]
        figures = self.load.run(scenario, self.base, route, headers, script)
        figures.first_error = figures.first_error or refused
        return figures


# -- the report --------------------------------------------------------------------------------
def ping_rate(results: list[Figures]) -> float:
    rates = [r.rate for r in results if r.route == "/api/v3/ping" and r.is_figure]
    return statistics.mean(rates) if rates else 0.0


def notes(results: list[Figures]) -> list[str]:
    out = []
    for r in results:
        if r.unavailable:
            out.append(f"{r.scenario}: unavailable ({r.unavailable})")
            continue
        if r.exhausted:
            out.append(
                f"{r.scenario}: ran out of signed bodies ({r.exhausted} replays sent), not a figure: "
                "raise --orders"
            )
        elif not r.is_figure:
            out.append(f"{r.scenario}: {r.errors} errors in {r.requests} requests: not a figure")
        if r.errors:
            statuses = ", ".join(f"{s}: {n}" for s, n in r.statuses.items() if not s.startswith("2"))
            detail = f" ({statuses})" if statuses else ""
            sockets = f", {r.socket_errors} socket errors" if r.socket_errors else ""
            out.append(f"{r.scenario}: {r.non_2xx} non-2xx{detail}{sockets}; first: {r.first_error or '?'}")
    return out


def print_table(title: str, results: list[Figures]) -> None:
    baseline = ping_rate(results)
    head = ("scenario", "route", "requests", "req/s", "p50 ms", "p99 ms", "errors", "x ping", "cores s/w/o")
    body = []
    for r in results:
        if r.unavailable:
            body.append((r.scenario, r.route, "-", "-", "-", "-", "-", "unavailable", "-"))
            continue
        cores = f"{r.cpu.server:.2f}/{r.cpu.wrk:.2f}/{r.cpu.others:.2f}" if r.cpu else "-"
        shown = r.is_figure
        body.append(
            (
                r.scenario,
                r.route,
                str(r.requests),
                f"{r.rate:,.0f}" if shown else "n/a",
                f"{r.p50_ms:.2f}" if shown else "n/a",
                f"{r.p99_ms:.2f}" if shown else "n/a",
                str(r.errors),
                f"{r.rate / baseline:.2f}" if shown and baseline else "-",
                cores,
            )
        )
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
    print(title)
    for row in (head, tuple("-" * w for w in widths), *body):
        print(
            "  ".join(
                cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))
            )
        )
    print("  cores s/w/o: CPU cores busy during the run in the server / wrk / everything else")
    for note in notes(results):
        print("  " + note)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", help="postgresql://... (created and dropped); default SQLite")
    parser.add_argument("--redis-url", help="redis://127.0.0.1:6379/<db> for the replay guard and limits")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--seconds", type=int, default=10, help="duration of each scenario (default 10)")
    parser.add_argument("--orders", type=int, default=200_000, help="signed order bodies (default 200,000)")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk", help="path of wrk")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args()
    if not Path(args.wrk).exists():
        parser.error(f"wrk not found at {args.wrk}: install the Debian package wrk")
    if args.seconds + 10 > RECV_WINDOW_MS / 1000:
        parser.error(f"--seconds must leave room in the {RECV_WINDOW_MS // 1000} s recvWindow (at most 50)")
    load_before, speed = os.getloadavg(), python_speed()

    with tempfile.TemporaryDirectory() as tmp, scratch_database(args.database_url) as db_url:
        work = Path(tmp)
        env = server_env(work / "data", db_url, args.redis_url)
        key = seed(env)
        with server(env, free_port(), work / "server.log") as (base, pid):
            funds = f"{order_cost(args.orders + WARM_UP * 2):f}"
            cli(
                env, "funds", "credit", "--user", USER, "--asset", "USDT", "--amount", funds, "--server", base
            )
            with httpx.Client(base_url=base, timeout=10) as client:
                load = Load(args.wrk, args.threads, args.connections, args.seconds, pid)
                bench = Bench(client, key, load, work)
                results = [
                    bench.ping("ping"),
                    bench.signed_get("apiRestrictions", "/sapi/v1/account/apiRestrictions"),
                    bench.signed_get("account", "/api/v3/account"),
                    bench.orders("order", args.orders),
                    bench.ping("ping (again)"),
                ]
    load_after = os.getloadavg()

    backend = "PostgreSQL" if db_url else "SQLite"
    backend += " + Redis" if args.redis_url else ""
    baseline = ping_rate(results)
    if args.json:
        report = {
            "backend": backend,
            "wrk": {"threads": args.threads, "connections": args.connections, "seconds": args.seconds},
            "load_average": {"before": load_before, "after": load_after},
            "python_speed": speed,
            "ping_rate": baseline,
            "scenarios": [
                {
                    **asdict(r),
                    "errors": r.errors,
                    "is_figure": r.is_figure,
                    "x_ping": r.rate / baseline if baseline and r.is_figure else None,
                }
                for r in results
            ],
        }
        print(json.dumps(report, indent=2))
        return
    print_table(
        f"keyplane serve on {backend} (one process, loopback), wrk -t{args.threads} -c{args.connections} "
        f"-d{args.seconds}s\nmachine: 1-minute load average {load_before[0]:.2f} before the run, "
        f"{load_after[0]:.2f} after it (its own load included); Python speed {speed:.0f}M sum(range) "
        "steps/s (absolute figures compare only at equal speed, ratios to ping always)",
        results,
    )


if __name__ == "__main__":
    main()
