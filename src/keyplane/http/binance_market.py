"""Public market-data routes: exchangeInfo, depth, trades, historicalTrades, aggTrades, klines,
tickers, avgPrice.

Each handler parses its parameters, makes one exchange call in a worker thread (the exchange
reads the database) and serialises the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from keyplane.clock import now_ms
from keyplane.exchange.service import Exchange
from keyplane.http import binance_json as out
from keyplane.http import binance_params as p
from keyplane.http.routing import Call


def exchange(call: Call) -> Exchange:
    return call.parts.platform.exchange


async def exchange_info(call: Call) -> dict[str, Any]:
    ex = exchange(call)
    wanted = p.symbols(call.params)
    markets = ex.markets
    chosen = [markets[s] for s in p.known(wanted, markets)] if wanted else list(markets.values())
    return out.exchange_info(chosen, ex.assets, now_ms())


async def depth(call: Call) -> dict[str, Any]:
    symbol, limit = p.symbol(call.params), p.integer(call.params, "limit")
    return out.depth(await asyncio.to_thread(exchange(call).depth, symbol, limit))


async def trades(call: Call) -> list[dict[str, Any]]:
    symbol, limit = p.symbol(call.params), p.integer(call.params, "limit")
    found = await asyncio.to_thread(exchange(call).recent_trades, symbol, limit)
    return [out.public_trade(t) for t in found]


async def historical_trades(call: Call) -> list[dict[str, Any]]:
    q = call.params
    symbol, from_id, limit = p.symbol(q), p.integer(q, "fromId"), p.integer(q, "limit")
    found = await asyncio.to_thread(exchange(call).historical_trades, symbol, from_id, limit)
    return [out.public_trade(t) for t in found]


async def agg_trades(call: Call) -> list[dict[str, Any]]:
    q = call.params
    args = (p.symbol(q), p.integer(q, "fromId"), p.integer(q, "startTime"), p.integer(q, "endTime"))
    found = await asyncio.to_thread(exchange(call).agg_trades, *args, p.integer(q, "limit"))
    return [out.agg_trade(t) for t in found]


async def klines(call: Call) -> list[list[Any]]:
    q = call.params
    symbol, interval = p.symbol(q), p.required(q, "interval")
    args = (p.integer(q, "startTime"), p.integer(q, "endTime"), p.integer(q, "limit"))
    found = await asyncio.to_thread(exchange(call).klines, symbol, interval, *args)
    return [k.to_row() for k in found]


async def _each(call: Call, fetch: Callable[[Exchange, str], Any], serialise: Callable[[Any], Any]) -> Any:
    """``symbol=`` answers an object; ``symbols=[..]`` or nothing answers an array."""
    ex = exchange(call)
    wanted = p.symbols(call.params)
    names = p.known(wanted, ex.markets) if wanted else list(ex.markets)
    rows = await asyncio.to_thread(lambda: [serialise(fetch(ex, s)) for s in names])
    return rows[0] if p.optional(call.params, "symbol") else rows


async def ticker_24h(call: Call) -> Any:
    kind = p.one_of(call.params, "type", ("FULL", "MINI"), "Invalid ticker type.", -1139)
    mini = kind == "MINI"
    return await _each(call, Exchange.ticker_24h, lambda t: out.ticker_24h(t, mini))


async def ticker_price(call: Call) -> Any:
    return await _each(call, Exchange.price_ticker, out.price_ticker)


async def book_ticker(call: Call) -> Any:
    return await _each(call, Exchange.book_ticker, out.book_ticker)


async def avg_price(call: Call) -> dict[str, Any]:
    symbol = p.symbol(call.params)
    return out.avg_price(await asyncio.to_thread(exchange(call).avg_price, symbol))
