"""Signed order routes: new order, test order, query, cancel, open/all orders and my trades.

Parameters are parsed and checked here (a new order's in :mod:`keyplane.http.binance_new_order`)
with Binance's codes before the exchange is called; the exchange then applies the filters and
balance checks and raises its own Binance errors.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from keyplane.clock import now_ms
from keyplane.exchange.errors import InvalidParameter, InvalidSymbol, UnknownOrder
from keyplane.exchange.marketdata import fmt
from keyplane.exchange.models import OrderType
from keyplane.exchange.orders import (
    CLIENT_ID_PATTERN,
    CLIENT_ID_RE,
    OrderRequest,
    new_client_order_id,
    validate,
)
from keyplane.exchange.service import Exchange
from keyplane.http import binance_json as out
from keyplane.http import binance_params as p
from keyplane.http.binance_market import exchange
from keyplane.http.binance_new_order import order_request
from keyplane.http.routing import Call
from keyplane.keys.payload import Params

ZERO = Decimal(0)


def _check_order(ex: Exchange, req: OrderRequest) -> None:
    """What ``order/test`` does: every parameter and filter check, no balance check, no write."""
    market = ex.markets.get(req.symbol)
    if market is None:
        raise InvalidSymbol()
    priced_by_avg = req.type is OrderType.MARKET and req.quantity is not None
    avg = ex.avg_price(req.symbol).price if priced_by_avg else None
    validate(req, market, avg or None)


def count_orders(call: Call, ex: Exchange) -> None:
    """Binance's X-MBX-ORDER-COUNT-10S and -1D on an answer that placed orders: the account's new
    orders in the current windows of the ORDERS limits."""
    if not ex.order_counter.counting:
        return
    counts = ex.order_counter.counts(call.user_id, now_ms())
    if counts is not None:
        call.headers["X-MBX-ORDER-COUNT-10S"] = str(counts[0])
        call.headers["X-MBX-ORDER-COUNT-1D"] = str(counts[1])


async def prevented_matches(call: Call) -> list[dict[str, Any]]:
    q = call.params
    found = await asyncio.to_thread(
        exchange(call).prevented_matches,
        call.user_id,
        p.symbol(q),
        p.integer(q, "preventedMatchId"),
        p.integer(q, "orderId"),
        p.integer(q, "fromPreventedMatchId"),
        p.integer(q, "limit"),
    )
    return [out.prevented_match(m) for m in found]


async def order_count(call: Call) -> list[dict[str, Any]]:
    """Binance's "unfilled order count": the account's new orders in each ORDERS window."""
    ex = exchange(call)
    counts = ex.order_counter.counts(call.user_id, now_ms()) or (0, 0)
    return out.order_counts(ex.order_counter.limits, counts)


async def new_order(call: Call) -> dict[str, Any]:
    ex = exchange(call)
    req, resp_type = order_request(call.user_id, call.params, ex.markets)
    placed = await ex.place_order(req)
    count_orders(call, ex)
    return out.new_order(placed, resp_type)


async def test_order(call: Call) -> dict[str, Any]:
    ex = exchange(call)
    req, _ = order_request(call.user_id, call.params, ex.markets)
    rates = p.boolean(call.params, "computeCommissionRates")
    await asyncio.to_thread(_check_order, ex, req)
    if not rates:
        return {}
    m = ex.markets[req.symbol]
    zero = {"maker": fmt(ZERO), "taker": fmt(ZERO)}
    return {
        "standardCommissionForOrder": {"maker": fmt(m.maker_fee), "taker": fmt(m.taker_fee)},
        "specialCommissionForOrder": zero,
        "taxCommissionForOrder": zero,
        "discount": {
            "enabledForAccount": False,
            "enabledForSymbol": False,
            "discountAsset": None,
            "discount": fmt(ZERO),
        },
    }


def _order_ref(q: Params) -> tuple[str, int | None, str | None]:
    return p.symbol(q), p.integer(q, "orderId"), p.optional(q, "origClientOrderId")


def cancel_client_id(q: Params) -> str:
    given = p.optional(q, "newClientOrderId")
    if given is None:
        return new_client_order_id()
    if not CLIENT_ID_RE.match(given):
        raise InvalidParameter.illegal_chars("newClientOrderId", CLIENT_ID_PATTERN)
    return given


async def get_order(call: Call) -> dict[str, Any]:
    ref = _order_ref(call.params)
    return out.order(await exchange(call).get_order(call.user_id, *ref))


async def cancel_order(call: Call) -> dict[str, Any]:
    ref, cancel_id = _order_ref(call.params), cancel_client_id(call.params)
    order = await exchange(call).cancel_order(call.user_id, *ref)
    return out.canceled(order, cancel_id)


async def cancel_open_orders(call: Call) -> list[dict[str, Any]]:
    symbol = p.symbol(call.params)
    orders = await exchange(call).cancel_open_orders(call.user_id, symbol)
    if not orders:
        raise UnknownOrder()
    return [out.canceled(o, new_client_order_id()) for o in orders]


async def open_orders(call: Call) -> list[dict[str, Any]]:
    symbol = p.optional_symbol(call.params)
    allowed = call.key.symbols if call.key is not None else frozenset()
    found = exchange(call).open_orders(call.user_id, symbol, allowed)
    return [out.order(o) for o in found]


async def all_orders(call: Call) -> list[dict[str, Any]]:
    q = call.params
    args = (p.symbol(q), p.integer(q, "orderId"), p.integer(q, "startTime"), p.integer(q, "endTime"))
    found = await asyncio.to_thread(exchange(call).all_orders, call.user_id, *args, p.integer(q, "limit"))
    return [out.order(o) for o in found]


async def my_trades(call: Call) -> list[dict[str, Any]]:
    q = call.params
    args = (
        p.symbol(q),
        p.integer(q, "orderId"),
        p.integer(q, "startTime"),
        p.integer(q, "endTime"),
        p.integer(q, "fromId"),
        p.integer(q, "limit"),
    )
    found = await asyncio.to_thread(exchange(call).my_trades, call.user_id, *args)
    return [out.my_trade(t) for t in found]
