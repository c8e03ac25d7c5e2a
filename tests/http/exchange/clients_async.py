"""Async variants of the real clients, pointed at a local server the documented way."""

from __future__ import annotations

from typing import Any

import ccxt.async_support as ccxt_async
from binance import AsyncClient

from tests.support.clients import point_at


def ccxt_binance_async(base: str, key: str, secret: str, **options: Any) -> Any:
    return point_at(ccxt_async.binance({"apiKey": key, "secret": secret, "options": options}), base)


async def python_binance_async(base: str, key: str, secret: str) -> AsyncClient:
    class LocalAsyncClient(AsyncClient):  # type: ignore[misc]
        API_URL = base + "/api"
        MARGIN_API_URL = base + "/sapi"

    return await LocalAsyncClient.create(key, secret)
