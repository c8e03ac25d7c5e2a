"""A real server with a wallet: the test mnemonic's extended public keys in its settings, and
withdrawal destinations booked before it starts (the server is then the database's only writer)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from keyplane.exchange.wallet.address_book import AddressBook
from keyplane.store.engine import make_engine
from keyplane.store.tables import users
from tests.http.exchange.clients_async import ccxt_binance_async
from tests.http.exchange.conftest import MINIMAL
from tests.http.exchange.funding import fund_before_start
from tests.support.server import Instance, free_port, server_env
from tests.wallet.server_keys import wallet_env

__all__ = [
    "DESTINATION",
    "WALLET_OPTIONS",
    "alice_and_bob_wallet_server",
    "book_before_start",
    "wallet_client_async",
    "wallet_env",
]

DESTINATION = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"  # a real EIP-55 address
# Wallet calls need ccxt's currencies (from capital/config/getall), so these clients load them.
WALLET_OPTIONS = {k: v for k, v in MINIMAL.items() if k != "fetchCurrencies"}


def book_before_start(database_url: str, user: str, coin: str, network: str, address: str) -> None:
    """Add ``address`` to ``user``'s withdrawal-address book while no server runs; it matures by the
    server's own cooling-off (tests that withdraw at once set it to 0)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            user_id = conn.execute(select(users.c.id).where(users.c.name == user)).scalar_one()
        AddressBook(engine).add(user_id, coin, network, address, actor="test")
    finally:
        engine.dispose()


def wallet_client_async(base: str, key: dict[str, str], **options: Any) -> Any:
    """Unmodified ccxt async for a burst: ccxt's own throttle off (the burst is the point)."""
    client = ccxt_binance_async(base, key["key"], key["secret"], **{**WALLET_OPTIONS, **options})
    client.enableRateLimit = False
    client.timeout = 30_000
    return client


@contextmanager
def alice_and_bob_wallet_server(
    tmp: Path,
    database_url: str,
    redis_url: str | None,
    *,
    cooling_off_seconds: str,
    send_delay_seconds: str,
    bob_funds: dict[str, str],
) -> Iterator[Instance]:
    """A running wallet server with fast chain settings and users alice and bob: bob holds
    ``bob_funds``; alice has :data:`DESTINATION` booked for USDT on ETH (mature after the cooling-off)."""
    env = server_env(
        tmp / "data",
        database_url,
        redis_url,
        KEYPLANE_WITHDRAW_ADDRESS_COOLING_OFF_SECONDS=cooling_off_seconds,
        KEYPLANE_WITHDRAW_SEND_DELAY_SECONDS=send_delay_seconds,
        KEYPLANE_CHAIN_BLOCK_MS="100",
        KEYPLANE_WALLET_POLL_SECONDS="0.2",
        KEYPLANE_WEIGHT_LIMIT_PER_KEY="1000000",
        **wallet_env(),
    )
    server = Instance(env, free_port())
    server.cli("users", "create", "alice")
    server.cli("users", "create", "bob")
    fund_before_start(database_url, {"bob": bob_funds})
    book_before_start(database_url, "alice", "USDT", "ETH", DESTINATION)
    server.start(tmp / "server.log")
    try:
        yield server
    finally:
        server.stop()
