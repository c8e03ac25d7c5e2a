"""ccxt pro pointed at a test server, and a helper that makes trades until a watch answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import ccxt.pro as ccxtpro

from tests.http.exchange.conftest import MINIMAL
from tests.support.clients import point_pro

T = TypeVar("T")


def pro(base: str, key: dict[str, str] | None = None) -> Any:
    config: dict[str, Any] = {"options": {**MINIMAL}}
    if key is not None:
        config.update(apiKey=key["key"], secret=key.get("secret") or key.get("private_key"))
    return point_pro(ccxtpro.binance(config), base)


async def until_answered(watch: Awaitable[T], poke: Callable[[], Awaitable[Any]], tries: int = 40) -> T:
    """Await ``watch`` while calling ``poke`` (which makes the event it waits for) between short
    waits: a subscription is live only once the server has read it, which no client reports."""
    task = asyncio.ensure_future(watch)
    for _ in range(tries):
        await poke()
        done, _ = await asyncio.wait({task}, timeout=0.25)
        if done:
            return task.result()
    task.cancel()
    raise AssertionError("the stream never answered")
