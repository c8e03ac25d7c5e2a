"""Accounts are read concurrently: each exchange's first request waits until the other's has arrived.

Two small forwarding proxies stand between the portfolio and the two servers. They hold each
``apiRestrictions`` request at a shared barrier of two, so a portfolio that read accounts one after
the other would leave the first request alone at the barrier (it gives up after a long safety
timeout and records that it did) and the test fails.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from keyplane.client.portfolio.fetch import read_portfolio
from keyplane.client.vault import Credentials
from tests.client.conftest import Exchange


@contextmanager
def barrier_proxy(upstream: str, barrier: threading.Barrier, met: list[bool]) -> Iterator[str]:
    class Forward(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/sapi/v1/account/apiRestrictions"):
                try:
                    barrier.wait()
                    met.append(True)
                except threading.BrokenBarrierError:
                    met.append(False)
            answer = httpx.get(
                upstream + self.path, headers={k: v for k, v in self.headers.items() if k.lower() != "host"}
            )
            self.send_response(answer.status_code)
            self.send_header("Content-Type", answer.headers.get("content-type", "application/json"))
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_both_accounts_are_in_flight_at_once(exchange_a: Exchange, exchange_b: Exchange) -> None:
    barrier = threading.Barrier(2, timeout=30)  # a safety net only: concurrent reads meet at once
    met: list[bool] = []
    with (
        barrier_proxy(exchange_a.url, barrier, met) as via_a,
        barrier_proxy(exchange_b.url, barrier, met) as via_b,
    ):
        accounts = []
        for exchange, url in ((exchange_a, via_a), (exchange_b, via_b)):
            key = exchange.key("read")
            accounts.append(
                Credentials(
                    name=exchange.name, exchange="keyplane", url=url, api_key=key["key"], secret=key["secret"]
                )
            )
        result = asyncio.run(read_portfolio(accounts, "USDT"))
    assert met == [True, True]
    assert [a.ok for a in result.accounts] == [True, True], [a.error for a in result.accounts]
