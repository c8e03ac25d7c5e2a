"""ccxt pointed at a Keyplane URL from vault credentials, and the key-privilege check apps rely on."""

from __future__ import annotations

import asyncio

import pytest

from keyplane.client import ccxt_factory
from keyplane.client.errors import OverPrivilegedKey, PrivilegesUnknown
from keyplane.client.privileges import (
    BOT,
    EXPORTER,
    TRACKER,
    Right,
    check_account,
    check_account_async,
    parse_restrictions,
)
from keyplane.client.vault import Credentials
from tests.client.conftest import Exchange


def test_every_api_url_of_rest_and_pro_points_at_the_keyplane_server(exchange_a: Exchange) -> None:
    creds = exchange_a.credentials("read")
    for build in (ccxt_factory.rest, ccxt_factory.pro):
        exchange = build(creds)
        strings = _strings(exchange.urls["api"])
        assert strings and all(s.startswith(("http://127.0.0.1:", "ws://127.0.0.1:")) for s in strings)
        assert f":{exchange_a.server.port}/" in strings[0]
    pro = ccxt_factory.pro(creds)
    assert pro.urls["api"]["ws"]["spot"] == f"ws://127.0.0.1:{exchange_a.server.port}/ws"
    asyncio.run(pro.close())


def test_a_rest_instance_from_the_vault_reads_balances(exchange_a: Exchange) -> None:
    balance = ccxt_factory.rest(exchange_a.credentials("read")).fetch_balance()
    assert str(balance["total"]["BTC"]) == "1.5"


def test_an_async_instance_reads_the_same(exchange_a: Exchange) -> None:
    async def read() -> object:
        exchange = ccxt_factory.async_rest(exchange_a.credentials("read"))
        try:
            return (await exchange.fetch_balance())["total"]["USDT"]
        finally:
            await exchange.close()

    assert float(asyncio.run(read())) == 10000.0  # type: ignore[arg-type]


def test_a_read_key_passes_the_tracker_and_exporter(exchange_a: Exchange) -> None:
    exchange = ccxt_factory.rest(exchange_a.credentials("read"))
    rights = check_account(exchange, TRACKER, "kp-a")
    assert rights is not None and rights.rights == {Right.READ}
    assert check_account(exchange, EXPORTER, "kp-a") is not None


@pytest.mark.parametrize("permissions", ["read,trade", "read,withdraw", "read,trade,withdraw"])
def test_the_tracker_refuses_a_key_that_can_trade_or_withdraw(exchange_a: Exchange, permissions: str) -> None:
    exchange = ccxt_factory.rest(exchange_a.credentials(permissions))
    with pytest.raises(OverPrivilegedKey) as refused:
        check_account(exchange, TRACKER, "kp-a")
    message = refused.value.message
    assert "--permissions read" in message and "--allow-over-privileged" in message
    assert exchange_a.key(permissions)["secret"] not in message


def test_the_bot_takes_a_trade_key_and_refuses_a_withdraw_key(exchange_a: Exchange) -> None:
    assert check_account(ccxt_factory.rest(exchange_a.credentials("read,trade")), BOT, "kp-a") is not None
    with pytest.raises(OverPrivilegedKey, match="withdraw"):
        check_account(ccxt_factory.rest(exchange_a.credentials("read,trade,withdraw")), BOT, "kp-a")


def test_the_override_goes_on_but_warns_loudly(exchange_a: Exchange) -> None:
    warnings: list[str] = []
    exchange = ccxt_factory.rest(exchange_a.credentials("read,withdraw"))
    rights = check_account(exchange, TRACKER, "kp-a", allow_over_privileged=True, warn=warnings.append)
    assert rights is not None and Right.WITHDRAW in rights.rights
    assert len(warnings) == 1 and warnings[0].startswith("WARNING") and "withdraw" in warnings[0]


def test_the_async_check_refuses_the_same(exchange_a: Exchange) -> None:
    async def check() -> None:
        exchange = ccxt_factory.async_rest(exchange_a.credentials("read,trade"))
        try:
            await check_account_async(exchange, TRACKER, "kp-a")
        finally:
            await exchange.close()

    with pytest.raises(OverPrivilegedKey):
        asyncio.run(check())


def test_an_exchange_that_cannot_tell_is_refused_unless_overridden() -> None:
    creds = Credentials(name="k", exchange="kraken", api_key="k", secret="c2VjcmV0")
    exchange = ccxt_factory.rest(creds)
    with pytest.raises(PrivilegesUnknown, match="--allow-over-privileged"):
        check_account(exchange, TRACKER, "k")
    warnings: list[str] = []
    assert check_account(exchange, TRACKER, "k", allow_over_privileged=True, warn=warnings.append) is None
    assert warnings and "WARNING" in warnings[0]


def test_binance_flags_map_to_rights_without_keyplane_extras() -> None:
    rights = parse_restrictions(
        {"ipRestrict": True, "enableReading": True, "enableFutures": True, "permitsUniversalTransfer": True}
    )
    assert rights.rights == {Right.READ, Right.FUTURES, Right.TRANSFER} and rights.ip_restricted


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    return [value] if isinstance(value, str) else []
