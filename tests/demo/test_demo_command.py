"""``keyplane demo`` end to end: a real server process, its printed key, a live book over HTTP."""

from __future__ import annotations

import re
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import httpx

from tests.support import launch
from tests.support.server import KEYPLANE, free_port, server_env
from tests.support.signing import hmac_hex


def wait_for(log: Path, pattern: str, process: launch.Process, seconds: float = 60) -> re.Match[str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text())
        if found:
            return found
        if process.poll() is not None:
            raise AssertionError(f"keyplane demo exited: {log.read_text()}")
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} never appeared: {log.read_text()}")


def test_demo_serves_a_live_two_sided_book_and_a_working_key(tmp_path: Path, database_url: str) -> None:
    port, log = free_port(), tmp_path / "demo.log"
    env = server_env(tmp_path / "data", database_url, None, COLUMNS="200")
    with log.open("wb") as out:
        process = launch.popen(
            [*KEYPLANE, "demo", "--port", str(port), "--data-dir", str(tmp_path / "data")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        key = wait_for(log, r"API key:\s+(\S+)", process).group(1)
        secret = wait_for(log, r"API secret:\s+(\S+)", process).group(1)
        wait_for(log, r"Keyplane serving on", process)
        base = f"http://127.0.0.1:{port}"

        query = f"timestamp={time.time_ns() // 1_000_000}&recvWindow=10000"
        signed = httpx.get(
            f"{base}/sapi/v1/account/apiRestrictions?{query}&signature={hmac_hex(secret, query)}",
            headers={"X-MBX-APIKEY": key},
            timeout=5,
        )
        assert signed.status_code == 200, signed.text
        assert signed.json()["enableSpotAndMarginTrading"] is True

        deadline, book = time.monotonic() + 15, {}
        while time.monotonic() < deadline:
            response = httpx.get(f"{base}/api/v3/depth", params={"symbol": "BTCUSDT"}, timeout=5)
            assert response.status_code == 200, response.text
            book = response.json()
            if book["bids"] and book["asks"]:
                break
            time.sleep(0.2)
        assert book["bids"] and book["asks"], book
        assert Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
