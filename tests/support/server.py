"""Start the real ``keyplane`` server as a subprocess on a free local port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support import launch

KEYPLANE = [sys.executable, "-c", "from keyplane.cli import app; app()"]
SIGNING_GRACE_S = 1.0  # the server's default future_tolerance_ms
# Settings of servers whose tests send bursts of orders from one key: no weight or order-rate limit.
BURST = {"KEYPLANE_WEIGHT_LIMIT_PER_KEY": "1000000000", "KEYPLANE_ORDER_LIMIT_PER_10S": "0"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Instance:
    """One running server process, with the environment its CLI siblings must share."""

    env: dict[str, str]
    port: int
    process: launch.Process | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = launch.run([*KEYPLANE, *args], env=self.env)
        if check and result.returncode != 0:
            raise AssertionError(f"keyplane {' '.join(args)} failed: {result.stderr}")
        return result

    def start(self, log: Path) -> None:
        with log.open("ab") as handle:
            self.process = launch.popen(
                [*KEYPLANE, "serve", "--port", str(self.port)],
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early: {log.read_text()}")
            try:
                if httpx.get(self.url + "/api/v3/ping", timeout=1).status_code == 200:
                    # A server refuses state changes signed before it started, up to its future
                    # tolerance (1 s) after it: they might have reached a process before it (-1021).
                    # Tests sign as soon as they like once this returns.
                    time.sleep(SIGNING_GRACE_S)
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def server_env(data_dir: Path, database_url: str, redis_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYPLANE_")}
    # Every test server sends from 127.0.0.1 and, on the PostgreSQL run, counts IP weight in one shared
    # Redis: a whole suite's traffic would soon meet the IP limit (then a ban). Tests of IP limits set theirs.
    env.update(KEYPLANE_DATA_DIR=str(data_dir), KEYPLANE_DATABASE_URL=database_url)
    env["KEYPLANE_WEIGHT_LIMIT_PER_IP"] = "1000000000"
    # Likewise WebSocket connections per IP (Binance: 300 per 5 minutes); tests of the limit set theirs.
    env["KEYPLANE_WS_CONNECTION_ATTEMPTS_PER_IP"] = env["KEYPLANE_WS_OPEN_CONNECTIONS_PER_IP"] = "1000000"
    env.update(extra)
    if redis_url:
        env["KEYPLANE_REDIS_URL"] = redis_url
    return env
