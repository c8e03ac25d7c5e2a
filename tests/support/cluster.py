"""Two ``keyplane serve`` processes on one database and one Redis: the first to start is the
exchange writer, the second a gateway that forwards exchange requests to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.http.exchange.funding import fund_before_start
from tests.support.databases import fresh_database
from tests.support.server import Instance, free_port, server_env


@contextmanager
def writer_and_gateway(
    tmp: Path, redis_url: str, funds: dict[str, str]
) -> Iterator[tuple[Instance, Instance]]:
    """Both running, with users alice and bob holding ``funds`` each (credited before either starts)."""
    with fresh_database(tmp) as url:
        env = server_env(tmp / "data", url, redis_url)
        writer, gateway = Instance(env, free_port()), Instance(dict(env), free_port())
        writer.cli("users", "create", "alice")
        writer.cli("users", "create", "bob")
        fund_before_start(url, {"alice": funds, "bob": funds})
        writer.start(tmp / "writer.log")
        try:
            gateway.start(tmp / "gateway.log")
            try:
                yield writer, gateway
            finally:
                gateway.stop()
        finally:
            writer.stop()
