"""When Redis (the replay guard and rate limits every instance shares) does not answer, requests
are refused with 503 -1008 "busy, nothing was changed", never a 500 -1000 "unknown error", and
nothing is applied: a signed order is not placed without its replay check."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlalchemy import func, select

from keyplane.store.engine import make_engine
from keyplane.store.exchange_tables import ex_orders
from tests.http.conftest import issue_key
from tests.support import launch
from tests.support.databases import fresh_database
from tests.support.server import KEYPLANE, Instance, free_port, server_env
from tests.support.signing import hmac_hex


def test_with_redis_down_requests_are_refused_as_busy_and_nothing_is_applied(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        env = server_env(tmp_path / "data", url, "redis://127.0.0.1:1/0")  # nothing listens there
        server = Instance(env, free_port())
        server.cli("users", "create", "alice")
        key = issue_key(server, "--permissions", "read,trade")
        # Not Instance.start: it waits for a ping that answers 200, and none will.
        with (tmp_path / "server.log").open("ab") as log:
            server.process = launch.popen(
                [*KEYPLANE, "serve", "--port", str(server.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    answer = httpx.get(server.url + "/api/v3/ping", timeout=10)
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline
                    time.sleep(0.2)
            assert answer.status_code == 503 and answer.json()["code"] == -1008
            query = urlencode(
                {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": "0.001",
                    "price": "10000",
                    "timestamp": str(int(time.time() * 1000)),
                }
            )
            order = httpx.post(
                f"{server.url}/api/v3/order?{query}&signature={hmac_hex(key['secret'], query)}",
                headers={"X-MBX-APIKEY": key["key"]},
                timeout=10,
            )
            assert order.status_code == 503 and order.json()["code"] == -1008, order.text
            assert "Traceback" not in order.text
        finally:
            server.stop()
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(select(func.count()).select_from(ex_orders)).scalar_one() == 0
        finally:
            engine.dispose()
