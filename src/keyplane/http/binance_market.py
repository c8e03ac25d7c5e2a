"""Public market-data routes: exchangeInfo, depth, trades, historicalTrades, aggTrades, klines,
tickers, avgPrice.

Each handler parses its parameters, makes one exchange call and serialises the result: current
state (exchange info, depth, best prices) is read from memory on the event loop, anything built
from committed trades in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

from keyplane.clock import now_ms
from keyplane.exchange.errors import InvalidParameter
from keyplane.exchange.service import Exchange
from keyplane.http import binance_json as out
from keyplane.http import binance_params as p
from keyplane.http import ticker_windows
from keyplane.http.routing import Call

MAX_WINDOW_SYMBOLS = 100


def exchange(call: Call) -> Exchange:
    return call.parts.platform.exchange


async def exchange_info(call: Call) -> dict[str, Any]:
    ex = exchange(call)
    wanted = p.symbols(call.params)
    markets = ex.markets
    chosen = [markets[s] for s in p.known(wanted, markets)] if wanted else list(markets.values())
    weight = call.parts.verifier.limits.weight_per_ip
    return out.exchange_info(chosen, ex.assets, ex.open_limits, weight, ex.order_counter.limits, now_ms())


async def depth(call: Call) -> dict[str, Any]:
    symbol, limit = p.symbol(call.params), p.integer(call.params, "limit")
    return out.depth(exchange(call).depth(symbol, limit))


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


def _names(call: Call, ex: Exchange) -> list[str]:
    wanted = p.symbols(call.params)
    return p.known(wanted, ex.markets) if wanted else list(ex.markets)


def _answer(call: Call, rows: list[Any]) -> Any:
    """``symbol=`` answers an object; ``symbols=[..]`` or nothing answers an array."""
    return rows[0] if p.optional(call.params, "symbol") else rows


async def ticker_24h(call: Call) -> Any:
    kind = p.one_of(call.params, "type", ("FULL", "MINI"), "Invalid ticker type.", -1139)
    mini = kind == "MINI"
    ex = exchange(call)
    best = {s: ex.best_prices(s) for s in _names(call, ex)}  # memory, on the loop
    rows = await asyncio.to_thread(
        lambda: [out.ticker_24h(ex.ticker_24h(s, b), mini) for s, b in best.items()]
    )
    return _answer(call, rows)


async def ticker_rolling(call: Call) -> Any:
    """``GET /api/v3/ticker``: the statistics of the last ``windowSize``."""
    return await _windowed(call, ticker_windows.rolling(p.optional(call.params, "windowSize"), now_ms()))


async def ticker_trading_day(call: Call) -> Any:
    """``GET /api/v3/ticker/tradingDay``: the statistics of the current day in ``timeZone``."""
    return await _windowed(call, ticker_windows.trading_day(p.optional(call.params, "timeZone"), now_ms()))


async def _windowed(call: Call, window: tuple[int, int]) -> Any:
    kind = p.one_of(call.params, "type", ("FULL", "MINI"), "Invalid ticker type.", -1139)
    ex = exchange(call)
    wanted = p.symbols(call.params)
    if wanted is None:
        raise InvalidParameter.neither("symbol", "symbols")
    if len(wanted) > MAX_WINDOW_SYMBOLS:
        raise InvalidParameter(
            f"Too many values sent for parameter 'symbols' (at most {MAX_WINDOW_SYMBOLS}).", -1101
        )
    names = p.known(wanted, ex.markets)
    rows = await asyncio.to_thread(lambda: [ex.ticker_between(s, *window) for s in names])
    return _answer(call, [out.ticker_window(t, kind == "MINI") for t in rows])


async def ticker_price(call: Call) -> Any:
    ex = exchange(call)
    names = _names(call, ex)
    return _answer(
        call, await asyncio.to_thread(lambda: [out.price_ticker(ex.price_ticker(s)) for s in names])
    )


async def book_ticker(call: Call) -> Any:
    ex = exchange(call)
    return _answer(call, [out.book_ticker(ex.book_ticker(s)) for s in _names(call, ex)])


async def avg_price(call: Call) -> dict[str, Any]:
    symbol = p.symbol(call.params)
    return out.avg_price(await asyncio.to_thread(exchange(call).avg_price, symbol))
